# posts.author_id references users.id (a foreign key created by your migrations).

# A post's author: an object relationship on the post's own foreign-key column.
resource "hasura_relationship" "post_author" {
  table                     = "posts"
  name                      = "author"
  type                      = "object"
  foreign_key_constraint_on = ["author_id"]
}

# A user's posts: an array relationship on the foreign key of posts that references users.
resource "hasura_relationship" "user_posts" {
  table                     = "users"
  name                      = "posts"
  type                      = "array"
  remote_table              = "posts"
  foreign_key_constraint_on = ["author_id"]
  comment                   = "Posts written by the user"
}

# Without a foreign key (e.g. to a view): a manual column mapping.
resource "hasura_relationship" "post_profile" {
  table                = "posts"
  name                 = "profile"
  type                 = "object"
  remote_table         = "user_profiles"
  manual_configuration = { author_id = "user_id" }
}

# A permission that follows the relationship: users read only their own posts.
resource "hasura_permission" "posts_select" {
  table   = "posts"
  role    = "user"
  action  = "select"
  columns = ["id", "title", "author_id"]
  filter = jsonencode({
    (hasura_relationship.post_author.name) = { id = { _eq = "X-Hasura-User-Id" } }
  })
}
