# Clerk tokens signed with your own key, verified by Hasura.
#
# A `clerk_jwt_template` with `custom_signing_key = true` signs with `signing_key`, not the
# instance key Clerk publishes in its JWKS, so Hasura cannot use `jwk_url` for these tokens:
# it needs HASURA_GRAPHQL_JWT_SECRET = {"type": "<alg>", "key": "<public key or secret>"}.
# `clerk_hasura_jwt_secret` derives that from the key (for EC/RSA/Ed25519 keys only the
# public half goes to Hasura) and checks at plan that Hasura can verify the algorithm.
#
# Secrets come from the environment, never from HCL:
#   CLERK_SECRET_KEY, HASURA_GRAPHQL_ADMIN_SECRET, HASURA_CLOUD_ACCESS_TOKEN,
#   TF_VAR_signing_key (e.g. `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`).
# The endpoint variables default to the local emulators (scripts/demo.sh).

terraform {
  required_providers {
    clerk = {
      source = "clerk-hasura/clerk"
    }
    hasura = {
      source = "clerk-hasura/hasura"
    }
  }
}

variable "clerk_api_url" {
  description = "Clerk Backend API base URL. Default: the local Clerk emulator."
  type        = string
  default     = "http://127.0.0.1:4100/v1"
}

variable "hasura_endpoint" {
  description = "Hasura project base URL. Default: the local Hasura emulator."
  type        = string
  default     = "http://127.0.0.1:4200"
}

variable "hasura_cloud_api_url" {
  description = "Hasura Cloud control-plane GraphQL URL. Default: the local emulator's."
  type        = string
  default     = "http://127.0.0.1:4200/cloud/v1/graphql"
}

variable "hasura_cloud_project_id" {
  description = "Hasura Cloud project id."
  type        = string
}

variable "signing_algorithm" {
  description = "ES256/384/512, RS256/384/512, EdDSA or HS256/384/512 (Hasura has no PS*)."
  type        = string
  default     = "ES256"
}

variable "signing_key" {
  description = "PEM private key for the algorithm (or an HMAC secret for HS*)."
  type        = string
  sensitive   = true
}

variable "signing_key_version" {
  description = "Bump it whenever signing_key changes: on Terraform >= 1.11 the key is write-only, so a new key alone plans no change."
  type        = number
  default     = 1
}

provider "clerk" {
  api_url = var.clerk_api_url
}

provider "hasura" {
  endpoint         = var.hasura_endpoint
  cloud_api_url    = var.hasura_cloud_api_url
  cloud_project_id = var.hasura_cloud_project_id
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
  # The variable, not the template's attribute, feeds the data source below: the
  # attribute is only known after apply, and the pairing is checked at plan.
  signing_algorithm   = var.signing_algorithm
  signing_key         = var.signing_key
  signing_key_version = var.signing_key_version
}

data "clerk_jwks" "this" {}

data "clerk_hasura_jwt_secret" "hasura" {
  signing_algorithm = var.signing_algorithm
  signing_key       = var.signing_key
  issuer            = data.clerk_jwks.this.issuer
}

resource "hasura_env_var" "jwt_secret" {
  key   = "HASURA_GRAPHQL_JWT_SECRET"
  value = data.clerk_hasura_jwt_secret.hasura.jwt_secret
}

output "jwt_template_id" {
  value = clerk_jwt_template.hasura.id
}

output "public_key_pem" {
  value = data.clerk_hasura_jwt_secret.hasura.public_key_pem
}
