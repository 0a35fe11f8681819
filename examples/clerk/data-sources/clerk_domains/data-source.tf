data "clerk_domains" "all" {}

# The issuer of the instance's session tokens.
output "issuer" {
  value = data.clerk_domains.all.primary_frontend_api_url
}

output "satellites" {
  value = [for d in data.clerk_domains.all.domains : d.name if d.is_satellite]
}
