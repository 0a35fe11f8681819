# <name>:<Type>,<Type>...: a label for the group and the custom types it owns
terraform import hasura_custom_types.auth auth:LoginResponse,Credentials,Plan,Email
