# Custom permissions that organization roles can grant; tokens carry them in
# `org_permissions` and `has({ permission: "org:posts:edit" })` checks them.
resource "clerk_organization_permission" "posts_edit" {
  key         = "org:posts:edit"
  name        = "Edit posts"
  description = "Create and change the organization's posts"
}

resource "clerk_organization_permission" "posts_read" {
  key  = "org:posts:read"
  name = "Read posts"
}
