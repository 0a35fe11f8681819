# Organizations on, at most 50 members each, and members joining through a
# verified domain get `org:member`.
resource "clerk_organization_settings" "this" {
  enabled                  = true
  max_allowed_memberships  = 50
  domains_enabled          = true
  domains_enrollment_modes = ["automatic_invitation"]
  creator_role             = "org:admin"
  domains_default_role     = "org:member"
}
