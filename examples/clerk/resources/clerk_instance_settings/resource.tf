# The instance's settings. Only the attributes set here are managed; the
# rest keep their remote values. Destroying this leaves the instance as it is.
resource "clerk_instance_settings" "this" {
  # Read back: a change made in the dashboard shows in the plan.
  allowed_origins = ["capacitor://localhost", "http://localhost:3000"]

  # Not read back by the API: the provider keeps what it last applied.
  hibp          = true
  support_email = "support@example.com"
}
