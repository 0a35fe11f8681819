# Clerk refuses organizations until the instance has them enabled.
resource "clerk_organization_settings" "this" {
  enabled = true
}

# A tenant created ahead of its members, with its first admin.
resource "clerk_organization" "acme" {
  name                    = "Acme Inc"
  slug                    = "acme"
  created_by              = "user_2abc123"
  max_allowed_memberships = 50

  public_metadata = jsonencode({
    plan = "enterprise"
  })
  private_metadata = jsonencode({
    crm_id = "c-42"
  })

  depends_on = [clerk_organization_settings.this]
}
