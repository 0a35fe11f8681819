data "clerk_jwks" "this" {}

# All of the project's settings in one resource: one update (and one restart)
# per apply, however many variables change.
resource "hasura_env_vars" "project" {
  vars = {
    HASURA_GRAPHQL_JWT_SECRET = jsonencode({
      jwk_url = data.clerk_jwks.this.jwks_url
      issuer  = data.clerk_jwks.this.issuer
    })
    HASURA_GRAPHQL_UNAUTHORIZED_ROLE = "anonymous"
    HASURA_GRAPHQL_ENABLE_CONSOLE    = "false"
    ACTIONS_BASE_URL                 = "https://actions.example.com"
  }

  # Set to true to also delete every variable of the project not listed above.
  exclusive = false
}
