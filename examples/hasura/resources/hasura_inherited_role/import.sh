# <role_name>
terraform import hasura_inherited_role.editor editor
