# The base URL and the webhook's credentials differ per environment: keep them in
# the engine's env vars and name them here, so one configuration serves staging
# and production (see examples/clerk-hasura for a per-workspace value).
resource "hasura_env_var" "jobs_base_url" {
  key   = "JOBS_BASE_URL"
  value = var.jobs_base_url
}

resource "hasura_env_var" "jobs_token" {
  key   = "JOBS_TOKEN"
  value = var.jobs_token
}

resource "hasura_cron_trigger" "purge_sessions" {
  name     = "purge-sessions"
  webhook  = "{{JOBS_BASE_URL}}/purge-sessions"
  schedule = "*/30 * * * *"
  payload  = jsonencode({ older_than_days = 30 })

  headers_from_env = {
    Authorization = "JOBS_TOKEN"
  }

  retry_conf = {
    num_retries            = 3
    retry_interval_seconds = 60
  }

  comment = "Deletes expired sessions every half hour"

  # The engine must have the variables before Hasura accepts the trigger.
  depends_on = [hasura_env_var.jobs_base_url, hasura_env_var.jobs_token]
}

variable "jobs_base_url" {
  type = string
}

variable "jobs_token" {
  type      = string
  sensitive = true
}
