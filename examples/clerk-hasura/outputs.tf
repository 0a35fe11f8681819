output "jwt_template_id" {
  value = clerk_jwt_template.hasura.id
}

output "jwk_url" {
  value = data.clerk_jwks.this.jwks_url
}
