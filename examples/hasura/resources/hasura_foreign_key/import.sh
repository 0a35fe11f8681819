# <source>.<schema>.<table>.<constraint>
terraform import hasura_foreign_key.book_author default.public.books.books_author_id_fkey

# <schema>.<table>.<constraint> (source `default`)
terraform import hasura_foreign_key.featured_book public.authors.authors_featured_book_fk
