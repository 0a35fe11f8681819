# The types of the auth actions, as kept in the Hasura CLI's actions.graphql.
# Several hasura_custom_types resources (and types declared outside Terraform)
# share Hasura's one custom types document: each owns only what it declares.
resource "hasura_custom_types" "auth" {
  name = "auth"
  sdl  = <<-EOT
    """What login answers"""
    type LoginResponse {
      accessToken: String!
      userId: String!
    }

    input Credentials {
      username: String!
      password: String!
    }

    enum Plan {
      FREE
      PRO
    }

    scalar Email
  EOT
}
