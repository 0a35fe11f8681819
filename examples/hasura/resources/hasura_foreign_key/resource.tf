resource "hasura_table" "authors" {
  name = "authors"
  columns = [
    { name = "id", type = "uuid", default = "gen_random_uuid()", nullable = false },
    { name = "name", type = "text" },
    { name = "featured_book_id", type = "uuid" },
  ]
  primary_key = ["id"]
}

resource "hasura_table" "books" {
  name = "books"
  columns = [
    { name = "id", type = "uuid", default = "gen_random_uuid()", nullable = false },
    { name = "author_id", type = "uuid", nullable = false },
    { name = "title", type = "text" },
  ]
  primary_key = ["id"]
}

# books.author_id -> authors.id, named books_author_id_fkey by default.
resource "hasura_foreign_key" "book_author" {
  table              = hasura_table.books.name
  columns            = ["author_id"]
  references_table   = hasura_table.authors.name
  references_columns = ["id"]
  on_delete          = "cascade"
}

# The other direction: a separate resource, so there is no dependency cycle.
resource "hasura_foreign_key" "featured_book" {
  table              = hasura_table.authors.name
  name               = "authors_featured_book_fk"
  columns            = ["featured_book_id"]
  references_table   = hasura_table.books.name
  references_columns = ["id"]
  on_delete          = "set null"
}
