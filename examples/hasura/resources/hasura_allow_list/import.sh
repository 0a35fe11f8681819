# <collection name>
terraform import hasura_allow_list.app app
