# One configuration, two environments: what differs between staging and production
# (the jobs and actions services' URLs and key, the payments service, the analytics
# database) lives in the engine's env vars, set here from a per-environment var file;
# triggers, actions, remote schemas and sources name the variables, never the values.
#
#   terraform workspace new staging    && terraform apply -var-file=staging.tfvars
#   terraform workspace new production && terraform apply -var-file=production.tfvars
#
# Each workspace has its own state; the provider settings (endpoint, admin secret,
# Cloud project) come from the environment, e.g. HASURA_GRAPHQL_ENDPOINT.
terraform {
  required_providers {
    hasura = {
      source = "clerk-hasura/hasura"
    }
  }
}

provider "hasura" {}

variable "jobs_base_url" {
  type        = string
  description = "Base URL of the jobs service of this environment."
}

variable "jobs_key" {
  type        = string
  sensitive   = true
  description = "The key the jobs service expects in X-Jobs-Key."
}

variable "actions_base_url" {
  type        = string
  description = "Base URL of the actions service of this environment."
}

variable "payments_url" {
  type        = string
  description = "GraphQL endpoint of the payments service of this environment."
}

variable "analytics_database_url" {
  type        = string
  sensitive   = true
  description = "PostgreSQL URL of this environment's analytics database."
}

variable "cleanup_schedule" {
  type    = string
  default = "0 3 * * *"
}

resource "hasura_env_vars" "jobs" {
  vars = {
    JOBS_BASE_URL          = var.jobs_base_url
    JOBS_KEY               = var.jobs_key
    ACTIONS_BASE_URL       = var.actions_base_url
    PAYMENTS_URL           = var.payments_url
    ANALYTICS_DATABASE_URL = var.analytics_database_url
  }
}

resource "hasura_cron_trigger" "cleanup" {
  name             = "cleanup"
  webhook          = "{{JOBS_BASE_URL}}/cleanup"
  schedule         = var.cleanup_schedule
  headers_from_env = { "X-Jobs-Key" = "JOBS_KEY" }
  depends_on       = [hasura_env_vars.jobs]
}

resource "hasura_event_trigger" "post_published" {
  table            = "posts"
  name             = "post_published"
  update           = ["published"]
  webhook          = "{{JOBS_BASE_URL}}/post-published"
  headers_from_env = { "X-Jobs-Key" = "JOBS_KEY" }
  depends_on       = [hasura_env_vars.jobs]
}

resource "hasura_custom_types" "auth" {
  name = "auth"
  sdl  = "type LoginResponse { accessToken: String! }"
}

# The handler is a template: `{{ACTIONS_BASE_URL}}` resolves per environment.
resource "hasura_action" "login" {
  name             = "login"
  handler          = "{{ACTIONS_BASE_URL}}/login"
  arguments        = { username = "String!", password = "String!" }
  output_type      = "LoginResponse"
  headers_from_env = { "X-Jobs-Key" = "JOBS_KEY" }
  depends_on       = [hasura_env_vars.jobs, hasura_custom_types.auth]
}

resource "hasura_remote_schema" "payments" {
  name         = "payments"
  url_from_env = "PAYMENTS_URL"
  depends_on   = [hasura_env_vars.jobs]
}

# A second database: its URL (with credentials) never enters the metadata.
resource "hasura_source" "analytics" {
  name                  = "analytics"
  database_url_from_env = "ANALYTICS_DATABASE_URL"
  depends_on            = [hasura_env_vars.jobs]
}
