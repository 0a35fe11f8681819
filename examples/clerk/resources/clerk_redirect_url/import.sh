# By id
terraform import clerk_redirect_url.web ru_2abc123
# Or by the exact URL
terraform import clerk_redirect_url.web https://app.example.com/sso-callback
