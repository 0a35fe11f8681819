data "clerk_jwks" "this" {}

output "jwk_url" {
  value = data.clerk_jwks.this.jwks_url
}
