# <collection name>
terraform import hasura_query_collection.app app
