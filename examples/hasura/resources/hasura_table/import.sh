# <source>.<schema>.<table>
terraform import hasura_table.users default.public.users
