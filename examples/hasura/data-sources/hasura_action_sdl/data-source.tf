# The SDL the Hasura CLI keeps in actions.graphql, next to the handler's code.
locals {
  actions_graphql = <<-EOT
    type Mutation {
      """Logs a user in"""
      login(username: String!, password: String!): LoginResponse
    }

    type LoginResponse {
      accessToken: String!
    }
  EOT
}

data "hasura_action_sdl" "login" {
  sdl  = local.actions_graphql
  name = "login"
}

resource "hasura_custom_types" "auth" {
  name = "auth"
  sdl  = "type LoginResponse { accessToken: String! }"
}

resource "hasura_action" "login" {
  name        = data.hasura_action_sdl.login.name
  type        = data.hasura_action_sdl.login.type
  arguments   = data.hasura_action_sdl.login.arguments
  output_type = data.hasura_action_sdl.login.output_type
  comment     = data.hasura_action_sdl.login.comment
  handler     = "https://auth.example.com/login"
  depends_on  = [hasura_custom_types.auth]
}
