# <KEY> (project from the provider's cloud_project_id)
terraform import hasura_env_var.jwt_secret HASURA_GRAPHQL_JWT_SECRET
