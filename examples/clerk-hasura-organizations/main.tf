# A multi-tenant Clerk + Hasura setup: the session token carries the active
# organization and the member's role, and Hasura's permissions filter on them.
#  - Clerk: organizations on, an `org:projects:edit` permission, an `org:editor` role,
#    and a JWT template mapping org_id to x-hasura-org-id and the organization role
#    to x-hasura-default-role / x-hasura-allowed-roles;
#  - Hasura: a `projects` table with an `org_id` column, and one Hasura role per
#    organization role, each keyed on X-Hasura-Org-Id.
# checks.tf (Terraform >= 1.5) warns when the two sides disagree.

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

resource "clerk_organization_settings" "this" {
  enabled = true
}

resource "clerk_organization_permission" "projects_edit" {
  key         = "org:projects:edit"
  name        = "Edit projects"
  description = "Create and rename the organization's projects"
}

resource "clerk_organization_role" "editor" {
  key         = "org:editor"
  name        = "Editor"
  description = "Edits projects, cannot manage members"
  permissions = [clerk_organization_permission.projects_edit.key]
}

locals {
  # The organization roles a token can carry: Clerk's two defaults and ours.
  org_roles = toset(["org:admin", "org:member", clerk_organization_role.editor.key])
  # Which of them may write projects.
  writers = toset(["org:admin", clerk_organization_role.editor.key])
}

resource "clerk_jwt_template" "hasura" {
  name = "hasura"
  claims = jsonencode({
    "https://hasura.io/jwt/claims" = {
      "x-hasura-user-id"       = "{{user.id}}"
      "x-hasura-org-id"        = "{{org.id}}"
      "x-hasura-default-role"  = "{{org.role}}"
      "x-hasura-allowed-roles" = ["{{org.role}}"]
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

resource "hasura_table" "projects" {
  name = "projects"
  columns = [
    { name = "id", type = "uuid", nullable = false, default = "gen_random_uuid()" },
    { name = "org_id", type = "text", nullable = false },
    { name = "name", type = "text", nullable = false },
  ]
  primary_key         = ["id"]
  deletion_protection = var.protect_tables
}

locals {
  own_org = jsonencode({ org_id = { _eq = "X-Hasura-Org-Id" } })
}

# Every organization role reads its organization's projects...
resource "hasura_permission" "projects_select" {
  for_each = local.org_roles
  table    = hasura_table.projects.name
  role     = each.key
  action   = "select"
  columns  = ["id", "org_id", "name"]
  filter   = local.own_org
}

# ...and the writers create projects in their organization only.
resource "hasura_permission" "projects_insert" {
  for_each = local.writers
  table    = hasura_table.projects.name
  role     = each.key
  action   = "insert"
  columns  = ["org_id", "name"]
  check    = local.own_org
}
