# One configuration, two environments: what differs between staging and production
# (the jobs service's URL and its key) lives in the engine's env vars, set here from
# a per-environment var file; every trigger names the variables, never the values.
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

variable "cleanup_schedule" {
  type    = string
  default = "0 3 * * *"
}

resource "hasura_env_vars" "jobs" {
  vars = {
    JOBS_BASE_URL = var.jobs_base_url
    JOBS_KEY      = var.jobs_key
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
