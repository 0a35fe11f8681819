# A table whose DDL is owned by migrations: only track it in Hasura.
resource "hasura_tracked_table" "orders" {
  schema      = "public"
  name        = "orders"
  custom_name = "order"
}
