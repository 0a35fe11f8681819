data "clerk_jwt_template" "hasura" {
  name = "hasura"
}
