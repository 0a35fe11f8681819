# Call the notifications service whenever a post is created or its status changes.
# The URL and the service's key live in the engine's env vars, so the same
# configuration serves staging and production.
resource "hasura_env_var" "notify_url" {
  key   = "NOTIFY_URL"
  value = var.notify_url
}

resource "hasura_env_var" "notify_key" {
  key   = "NOTIFY_KEY"
  value = var.notify_key
}

resource "hasura_event_trigger" "post_changed" {
  table            = "posts"
  name             = "post_changed"
  insert           = true
  update           = ["status"]
  webhook_from_env = "NOTIFY_URL"

  headers_from_env = {
    "X-Notify-Key" = "NOTIFY_KEY"
  }

  retry_conf = {
    num_retries  = 5
    interval_sec = 30
  }

  depends_on = [hasura_env_var.notify_url, hasura_env_var.notify_key]
}

variable "notify_url" {
  type = string
}

variable "notify_key" {
  type      = string
  sensitive = true
}
