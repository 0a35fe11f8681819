# Role permissions on remote schemas need the engine started with this setting.
resource "hasura_env_var" "remote_schema_permissions" {
  key   = "HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS"
  value = "true"
}

# Users may list invoices, with only these fields; everything else of the
# payments schema is refused for them.
resource "hasura_remote_schema_permission" "payments_user" {
  remote_schema = hasura_remote_schema.payments.name
  role          = "user"
  schema        = <<-EOT
    type Query {
      invoices: [Invoice!]!
    }

    type Invoice {
      id: ID!
      amount: Int
    }
  EOT

  depends_on = [hasura_env_var.remote_schema_permissions]
}

resource "hasura_remote_schema" "payments" {
  name = "payments"
  url  = "https://payments.example.com/graphql"
}
