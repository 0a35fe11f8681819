data "clerk_jwks" "this" {}

# Point Hasura's JWT mode at Clerk's JWKS. The value is validated at plan time by
# Hasura's rules, since a bad JWT secret keeps the project from starting.
resource "hasura_env_var" "jwt_secret" {
  key = "HASURA_GRAPHQL_JWT_SECRET"
  value = jsonencode({
    jwk_url = data.clerk_jwks.this.jwks_url
    issuer  = data.clerk_jwks.this.issuer
  })
}
