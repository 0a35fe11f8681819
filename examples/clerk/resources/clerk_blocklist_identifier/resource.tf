# With `clerk_instance_restrictions.blocklist = true`, these may neither sign
# up nor sign in.
resource "clerk_blocklist_identifier" "spam_domain" {
  identifier = "*@spam.example"
}

resource "clerk_blocklist_identifier" "phone" {
  identifier = "+15555550100"
}
