# The instance the secret key belongs to.
data "clerk_instance" "this" {}

output "clerk_environment" {
  value = data.clerk_instance.this.environment_type
}
