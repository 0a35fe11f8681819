resource "hasura_table" "users" {
  name = "users"
  columns = [
    { name = "id", type = "text", nullable = false },
    { name = "name", type = "text" },
    { name = "last_seen", type = "timestamp", default = "now()" },
  ]
  primary_key = ["id"]
  comment     = "Application users, keyed by Clerk user id"
}
