resource "hasura_action_permission" "login_anonymous" {
  action = hasura_action.login.name
  role   = "anonymous"
}

resource "hasura_action" "login" {
  name        = "login"
  handler     = "https://auth.example.com/login"
  arguments   = { username = "String!", password = "String!" }
  output_type = "LoginResponse"
}
