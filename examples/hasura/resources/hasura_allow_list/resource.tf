# With HASURA_GRAPHQL_ENABLE_ALLOWLIST=true on the engine, non-admin requests may
# only run the operations of the collections allowed for their role.
resource "hasura_env_var" "allowlist" {
  key   = "HASURA_GRAPHQL_ENABLE_ALLOWLIST"
  value = "true"
}

# Allowed for the roles `user` and `editor` only.
resource "hasura_allow_list" "app" {
  collection = hasura_query_collection.app.name
  roles      = ["user", "editor"]
}

# Allowed for every role (global scope).
resource "hasura_allow_list" "public" {
  collection = hasura_query_collection.public.name
}

resource "hasura_query_collection" "app" {
  name    = "app"
  queries = { my_posts = "query my_posts { posts { id title } }" }
}

resource "hasura_query_collection" "public" {
  name    = "public"
  queries = { published = "query published { posts(where: { published: { _eq: true } }) { id title } }" }
}
