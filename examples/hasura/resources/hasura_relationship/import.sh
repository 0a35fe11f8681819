# <source>.<schema>.<table>.<name>
terraform import hasura_relationship.post_author default.public.posts.author
