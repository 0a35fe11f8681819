resource "clerk_organization_permission" "posts_edit" {
  key  = "org:posts:edit"
  name = "Edit posts"
}

# An editor role: reference the permissions' keys so Terraform creates them
# first (and the plan checks them). Clerk's system permissions (`org:sys_*`)
# are named directly.
resource "clerk_organization_role" "editor" {
  key         = "org:editor"
  name        = "Editor"
  description = "Edits the organization's posts"
  permissions = [
    clerk_organization_permission.posts_edit.key,
    "org:sys_memberships:read",
  ]
}
