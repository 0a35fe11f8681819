# The payments service's URL and API key differ per environment: keep them in the
# engine's env vars and name them here, so one configuration serves staging and
# production. Hasura introspects the service when the remote schema is added, so
# it must be reachable from the engine at apply.
resource "hasura_env_var" "payments_url" {
  key   = "PAYMENTS_URL"
  value = var.payments_url
}

resource "hasura_env_var" "payments_key" {
  key   = "PAYMENTS_API_KEY"
  value = var.payments_api_key
}

resource "hasura_remote_schema" "payments" {
  name            = "payments"
  url             = "{{PAYMENTS_URL}}/graphql"
  timeout_seconds = 30

  headers_from_env = {
    "X-Api-Key" = "PAYMENTS_API_KEY"
  }

  # Pass the caller's Authorization header on to the service.
  forward_client_headers = true

  # Query it as `{ payments { invoices { id } } }`, its types prefixed.
  customization = {
    root_fields_namespace = "payments"
    type_names_prefix     = "Payments_"
  }

  comment = "Invoices and payment methods"

  depends_on = [hasura_env_var.payments_url, hasura_env_var.payments_key]
}

variable "payments_url" {
  type = string
}

variable "payments_api_key" {
  type      = string
  sensitive = true
}
