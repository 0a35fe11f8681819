resource "hasura_query_collection" "api" {
  name = "api"
  queries = {
    user_by_id = "query user_by_id($id: Int!) { users(where: { id: { _eq: $id } }) { id name } }"
    add_user   = "mutation add_user($name: String!) { insert_users_one(object: { name: $name }) { id } }"
  }
}

# GET /api/rest/users/42 runs `user_by_id` with $id = 42 (typed by the variable).
resource "hasura_rest_endpoint" "user_by_id" {
  name       = "user_by_id"
  url        = "users/:id"
  methods    = ["GET"]
  collection = hasura_query_collection.api.name
  query      = "user_by_id"
}

# POST /api/rest/users with the JSON body {"name": "Ada"} binds $name.
resource "hasura_rest_endpoint" "add_user" {
  name       = "add_user"
  url        = "users"
  methods    = ["POST"]
  collection = hasura_query_collection.api.name
  query      = "add_user"
  comment    = "Sign-up form"
}
