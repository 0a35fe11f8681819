# <source>.<schema>.<table>.<name>
terraform import hasura_computed_field.full_name default.public.users.full_name
