# <remote_schema>/<role>
terraform import hasura_remote_schema_permission.payments_user payments/user
