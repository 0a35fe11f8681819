resource "clerk_jwt_template" "hasura" {
  name = "hasura"
  claims = jsonencode({
    "https://hasura.io/jwt/claims" = {
      "x-hasura-allowed-roles" = ["user"]
      "x-hasura-default-role"  = "user"
      "x-hasura-user-id"       = "{{user.id}}"
    }
  })
  lifetime           = 60
  allowed_clock_skew = 5
}
