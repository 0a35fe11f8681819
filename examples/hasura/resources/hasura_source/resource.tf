# The URL stays in the engine's env, so one configuration serves every
# environment (a different ANALYTICS_DATABASE_URL per workspace).
resource "hasura_env_var" "analytics_db" {
  key   = "ANALYTICS_DATABASE_URL"
  value = var.analytics_database_url
}

variable "analytics_database_url" {
  type      = string
  sensitive = true
}

resource "hasura_source" "analytics" {
  name                  = "analytics"
  database_url_from_env = hasura_env_var.analytics_db.key
  max_connections       = 20
  idle_timeout          = 300
  isolation_level       = "repeatable-read"
}

# Tables and permissions name the source they live in.
resource "hasura_table" "events" {
  source = hasura_source.analytics.name
  name   = "events"
  columns = [
    { name = "id", type = "bigserial" },
    { name = "kind", type = "text" },
    { name = "at", type = "timestamptz", default = "now()" },
  ]
  primary_key = ["id"]
}

resource "hasura_permission" "events_analyst" {
  source  = hasura_source.analytics.name
  table   = hasura_table.events.name
  role    = "analyst"
  action  = "select"
  columns = ["id", "kind", "at"]
  filter  = jsonencode({})
}
