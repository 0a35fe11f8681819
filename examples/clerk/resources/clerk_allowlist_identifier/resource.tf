# With `clerk_instance_restrictions.allowlist = true`, only these may sign up.
resource "clerk_allowlist_identifier" "team" {
  identifier = "*@example.com"
}

resource "clerk_allowlist_identifier" "contractor" {
  identifier = "contractor@partner.example"
  notify     = true # invite them when the entry is added
}
