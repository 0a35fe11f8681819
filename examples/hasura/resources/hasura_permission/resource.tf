# A `user` may read only its own row.
resource "hasura_permission" "user_select" {
  table   = "users"
  role    = "user"
  action  = "select"
  columns = ["id", "name", "last_seen"]
  filter  = jsonencode({ id = { _eq = "X-Hasura-User-Id" } })
}
