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

# Reshape the call for a service with its own API: PUT /posts/<id> with a
# smaller body, and delete delivered events older than a week every night.
resource "hasura_event_trigger" "post_sync" {
  table   = "posts"
  name    = "post_sync"
  insert  = true
  webhook = "https://search.example.com/index"

  request_transform = {
    method        = "PUT"
    url           = "{{$base_url}}/posts/{{$body.event.data.new.id}}"
    add_headers   = { "X-Op" = "{{$body.event.op}}" }
    body_action   = "transform"
    body_template = "{\"id\": {{$body.event.data.new.id}}, \"title\": \"{{$body.event.data.new.title}}\"}"
  }

  cleanup_config = {
    schedule         = "0 3 * * *"
    clear_older_than = 168
  }
}

variable "notify_url" {
  type = string
}

variable "notify_key" {
  type      = string
  sensitive = true
}
