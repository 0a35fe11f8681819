# <name>
terraform import hasura_action.login login
