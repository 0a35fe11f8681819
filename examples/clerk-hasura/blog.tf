# The second table, where a real app starts: posts written by users.
#  - a foreign key posts.author_id -> users.id and an index on it,
#  - `author` (post -> user) and `posts` (user -> posts) relationships,
#  - a `user` role that reads and writes only its own posts, through the relationship,
#  - a `reviewer` role that reads published posts, and an `editor` role inheriting both.

resource "hasura_table" "posts" {
  name = "posts"
  columns = [
    { name = "id", type = "uuid", nullable = false, default = "gen_random_uuid()" },
    { name = "author_id", type = "text", nullable = false },
    { name = "title", type = "text", nullable = false },
    { name = "published", type = "boolean", nullable = false, default = "false" },
  ]
  primary_key         = ["id"]
  deletion_protection = var.protect_tables
}

resource "hasura_foreign_key" "posts_author" {
  table              = hasura_table.posts.name
  columns            = ["author_id"]
  references_table   = hasura_table.users.name
  references_columns = ["id"]
  on_delete          = "cascade"
}

resource "hasura_index" "posts_author_idx" {
  table   = hasura_table.posts.name
  name    = "posts_author_idx"
  columns = ["author_id"]
}

resource "hasura_relationship" "post_author" {
  table                     = hasura_table.posts.name
  name                      = "author"
  type                      = "object"
  foreign_key_constraint_on = hasura_foreign_key.posts_author.columns
}

resource "hasura_relationship" "user_posts" {
  table                     = hasura_table.users.name
  name                      = "posts"
  type                      = "array"
  remote_table              = hasura_table.posts.name
  foreign_key_constraint_on = hasura_foreign_key.posts_author.columns
}

locals {
  # A post is the user's own when its author (through the relationship) is the user.
  own_post = jsonencode({
    (hasura_relationship.post_author.name) = { id = { _eq = "X-Hasura-User-Id" } }
  })
}

resource "hasura_permission" "post_select" {
  table   = hasura_table.posts.name
  role    = "user"
  action  = "select"
  columns = ["id", "author_id", "title", "published"]
  filter  = local.own_post
}

resource "hasura_permission" "post_insert" {
  table   = hasura_table.posts.name
  role    = "user"
  action  = "insert"
  columns = ["author_id", "title", "published"]
  check   = local.own_post
}

resource "hasura_permission" "post_review" {
  table   = hasura_table.posts.name
  role    = "reviewer"
  action  = "select"
  columns = ["id", "title", "published"]
  filter  = jsonencode({ published = { _eq = true } })
}

# Sees the union of what `user` and `reviewer` see.
resource "hasura_inherited_role" "editor" {
  role_name = "editor"
  role_set  = [hasura_permission.post_select.role, hasura_permission.post_review.role]
}
