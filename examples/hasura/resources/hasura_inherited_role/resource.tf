# An `editor` reads what a `user` and a `reviewer` may read: their row filters
# OR-ed, their columns unioned. Referring to the parents' permissions orders
# the apply: they exist before the role, and outlive it on destroy.
resource "hasura_inherited_role" "editor" {
  role_name = "editor"
  role_set  = [hasura_permission.user_select.role, hasura_permission.reviewer_select.role]
}

resource "hasura_permission" "user_select" {
  table   = "posts"
  role    = "user"
  action  = "select"
  columns = ["id", "title", "author_id"]
  filter  = jsonencode({ author_id = { _eq = "X-Hasura-User-Id" } })
}

resource "hasura_permission" "reviewer_select" {
  table   = "posts"
  role    = "reviewer"
  action  = "select"
  columns = ["id", "title"]
  filter  = jsonencode({ in_review = { _eq = true } })
}
