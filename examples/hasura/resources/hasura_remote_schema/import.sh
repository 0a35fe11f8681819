# <name>
terraform import hasura_remote_schema.payments payments
