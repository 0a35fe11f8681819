# A satellite domain sharing the primary domain's sessions, served through
# DNS (create the `cname_targets` records).
resource "clerk_domain" "docs" {
  name = "docs.example.com"
}

# Production instances can serve a satellite through a proxy instead.
resource "clerk_domain" "shop" {
  name      = "shop.example.com"
  proxy_url = "https://shop.example.com/__clerk"
}

output "docs_dns" {
  value = clerk_domain.docs.cname_targets
}
