# Every organization role of the instance, e.g. one Hasura role per
# organization role a session token can carry.
data "clerk_organization_roles" "all" {}

output "role_keys" {
  value = data.clerk_organization_roles.all.keys
}

output "editor_permissions" {
  value = one([for r in data.clerk_organization_roles.all.roles : r.permissions if r.key == "org:editor"])
}
