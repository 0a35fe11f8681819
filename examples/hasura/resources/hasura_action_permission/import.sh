# <action>/<role>
terraform import hasura_action_permission.login_anonymous login/anonymous
