# <source>.<schema>.<table>.<role>.<action>
terraform import hasura_permission.user_select default.public.users.user.select
