# A template signing with your own key, and the Hasura JWT secret that verifies
# its tokens. The private key stays with Clerk and this provider; Hasura gets
# only the public key.
variable "signing_key" {
  type        = string
  sensitive   = true
  description = "PEM private key, e.g. from `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`."
}

locals {
  # Shared by both: the template's own attribute is known only after apply,
  # and the data source checks the pairing at plan.
  signing_algorithm = "ES256"
}

resource "clerk_jwt_template" "hasura" {
  name = "hasura"
  claims = jsonencode({
    "https://hasura.io/jwt/claims" = {
      "x-hasura-allowed-roles" = ["user"]
      "x-hasura-default-role"  = "user"
      "x-hasura-user-id"       = "{{user.id}}"
    }
  })
  custom_signing_key = true
  signing_algorithm  = local.signing_algorithm
  signing_key        = var.signing_key
}

data "clerk_jwks" "this" {}

data "clerk_hasura_jwt_secret" "hasura" {
  signing_algorithm = local.signing_algorithm
  signing_key       = var.signing_key
  issuer            = data.clerk_jwks.this.issuer
}

resource "hasura_env_var" "jwt_secret" {
  key   = "HASURA_GRAPHQL_JWT_SECRET"
  value = data.clerk_hasura_jwt_secret.hasura.jwt_secret
}
