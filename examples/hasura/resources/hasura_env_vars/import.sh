# <KEY1>,<KEY2>,... : the existing keys to manage (project from the provider's cloud_project_id)
terraform import hasura_env_vars.project HASURA_GRAPHQL_JWT_SECRET,HASURA_GRAPHQL_UNAUTHORIZED_ROLE

# <project_id>/<KEY1>,<KEY2>,... : another project (set project_id in the config too)
terraform import hasura_env_vars.project 3f2a9c4e-1b7d-4e8a-9c3f-2d5e6f7a8b9c/HASURA_GRAPHQL_JWT_SECRET
