# <endpoint name>
terraform import hasura_rest_endpoint.user_by_id user_by_id
