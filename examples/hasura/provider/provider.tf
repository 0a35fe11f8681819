terraform {
  required_providers {
    hasura = {
      source = "clerk-hasura/hasura"
    }
  }
}

# Reads HASURA_GRAPHQL_ENDPOINT, HASURA_GRAPHQL_ADMIN_SECRET and, for hasura_env_var,
# HASURA_CLOUD_ACCESS_TOKEN and HASURA_CLOUD_PROJECT_ID from the environment.
provider "hasura" {}
