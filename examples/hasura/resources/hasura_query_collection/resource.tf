# The operations the app may run in production. Queries are compared by meaning:
# re-indenting one, or reordering a field's arguments, plans nothing.
resource "hasura_query_collection" "app" {
  name = "app"

  queries = {
    user_by_id = <<-GRAPHQL
      query user_by_id($id: Int!) {
        users(where: { id: { _eq: $id } }) {
          id
          name
        }
      }
    GRAPHQL

    recent_posts = "query recent_posts { posts(order_by: { created_at: desc }, limit: 20) { id title } }"
  }

  comment = "Operations of the web app"
}
