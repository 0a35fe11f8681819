# <name>
terraform import hasura_source.analytics analytics
