# What does user alice see? Run as the `user` role with her session variables.
data "hasura_graphql_query" "alice_users" {
  role              = "user"
  session_variables = { "x-hasura-user-id" = "alice" }
  query             = "query { users { id } }"
}

# A mutation Hasura should refuse: alice inserting a row for someone else. Use an id with
# no row yet: for an existing one the primary key refuses first (constraint-violation).
data "hasura_graphql_query" "alice_inserts_for_bob" {
  role              = "user"
  session_variables = { "x-hasura-user-id" = "alice" }
  query             = "mutation ($id: String!) { insert_users_one(object: { id: $id }) { id } }"
  variables         = jsonencode({ id = "bob-test" })
}

# `check` blocks need Terraform >= 1.5; `terraform test` assertions work the same way.
check "alice_sees_only_herself" {
  assert {
    condition     = try(jsondecode(data.hasura_graphql_query.alice_users.data_json).users, null) == [{ id = "alice" }]
    error_message = "The user role sees rows other than its own: ${coalesce(data.hasura_graphql_query.alice_users.data_json, "(no data)")}"
  }
}

check "insert_for_someone_else_is_refused" {
  assert {
    condition     = contains(data.hasura_graphql_query.alice_inserts_for_bob.error_codes, "permission-error")
    error_message = "Hasura accepted an insert for another user."
  }
}
