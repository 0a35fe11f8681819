resource "hasura_table" "users" {
  name = "users"
  columns = [
    { name = "id", type = "uuid", default = "gen_random_uuid()", nullable = false },
    { name = "email", type = "text" },
    { name = "org_id", type = "uuid" },
    { name = "deleted_at", type = "timestamptz" },
  ]
  primary_key = ["id"]
}

# A plain index on columns, built with CREATE INDEX CONCURRENTLY.
resource "hasura_index" "users_org" {
  table   = hasura_table.users.name
  name    = "users_org_id_idx"
  columns = ["org_id"]
}

# A unique, partial expression index: one live account per e-mail address.
resource "hasura_index" "users_email" {
  table       = hasura_table.users.name
  name        = "users_email_lower_key"
  expressions = ["lower(email)"]
  unique      = true
  where       = "deleted_at IS NULL"
}
