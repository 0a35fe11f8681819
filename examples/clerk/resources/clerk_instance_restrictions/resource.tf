# Only people on the allow-list may sign up, and disposable addresses are
# refused. The API has no read of these: a dashboard change is not detected.
resource "clerk_instance_restrictions" "this" {
  allowlist                      = true
  block_disposable_email_domains = true
}
