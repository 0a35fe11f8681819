# An `editor` reads what a `user` and a `reviewer` may read: their row filters
# OR-ed, their columns unioned.
resource "hasura_inherited_role" "editor" {
  role_name = "editor"
  role_set  = ["user", "reviewer"]
}
