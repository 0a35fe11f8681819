# Where Clerk may send users back after sign-in: a web callback and a native
# app's custom scheme.
resource "clerk_redirect_url" "web" {
  url = "https://app.example.com/sso-callback"
}

resource "clerk_redirect_url" "mobile" {
  url = "myapp://oauth-callback"
}
