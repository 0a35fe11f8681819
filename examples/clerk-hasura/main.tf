# The whole Clerk + Hasura auth setup as code:
#  - a Clerk JWT template `hasura` carrying Hasura's claims,
#  - HASURA_GRAPHQL_JWT_SECRET pointing Hasura at Clerk's JWKS,
#  - a `users` table, and a `user` role that may read, insert and update only its own row.
#
# Secrets come from the environment, never from HCL:
#   CLERK_SECRET_KEY, HASURA_GRAPHQL_ADMIN_SECRET, HASURA_CLOUD_ACCESS_TOKEN.
# The variables default to the local emulators (scripts/demo.sh); pass real endpoints
# (e.g. -var clerk_api_url=https://api.clerk.com/v1) to apply the same setup for real.

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
  lifetime = 60
}

data "clerk_jwks" "this" {}

resource "hasura_env_var" "jwt_secret" {
  key = "HASURA_GRAPHQL_JWT_SECRET"
  value = jsonencode({
    jwk_url = data.clerk_jwks.this.jwks_url
    issuer  = data.clerk_jwks.this.issuer
  })
}

resource "hasura_table" "users" {
  name = "users"
  columns = [
    { name = "id", type = "text", nullable = false },
    { name = "name", type = "text" },
    { name = "last_seen", type = "timestamp", default = "now()" },
  ]
  primary_key         = ["id"]
  deletion_protection = var.protect_tables
}

locals {
  own_row = jsonencode({ id = { _eq = "X-Hasura-User-Id" } })
}

resource "hasura_permission" "user_select" {
  table   = hasura_table.users.name
  role    = "user"
  action  = "select"
  columns = ["id", "name", "last_seen"]
  filter  = local.own_row
}

resource "hasura_permission" "user_insert" {
  table   = hasura_table.users.name
  role    = "user"
  action  = "insert"
  columns = ["id", "name"]
  check   = local.own_row
}

resource "hasura_permission" "user_update" {
  table   = hasura_table.users.name
  role    = "user"
  action  = "update"
  columns = ["name", "last_seen"]
  filter  = local.own_row
  check   = local.own_row
}
