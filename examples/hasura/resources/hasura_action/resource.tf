# The handler's base URL differs per environment: keep it in the engine's env
# vars and name it in a template, so one configuration serves staging and
# production (e.g. `terraform workspace select staging` with a per-workspace
# `actions_base_url` in staging.tfvars / production.tfvars).
resource "hasura_env_var" "actions_base_url" {
  key   = "ACTIONS_BASE_URL"
  value = var.actions_base_url
}

resource "hasura_env_var" "actions_secret" {
  key   = "ACTIONS_SECRET"
  value = var.actions_secret
}

resource "hasura_custom_types" "auth" {
  name = "auth"
  sdl  = <<-EOT
    type LoginResponse {
      accessToken: String!
      userId: String!
    }
  EOT
}

resource "hasura_action" "login" {
  name        = "login"
  handler     = "{{ACTIONS_BASE_URL}}/login"
  arguments   = { username = "String!", password = "String!" }
  output_type = "LoginResponse"
  timeout     = 10

  headers_from_env = {
    "X-Actions-Secret" = "ACTIONS_SECRET"
  }

  comment = "Logs a user in and returns a session token"

  # The env vars and types must exist before Hasura accepts the action.
  depends_on = [
    hasura_env_var.actions_base_url,
    hasura_env_var.actions_secret,
    hasura_custom_types.auth,
  ]
}

variable "actions_base_url" {
  type = string
}

variable "actions_secret" {
  type      = string
  sensitive = true
}
