terraform {
  required_providers {
    clerk = {
      source = "clerk-hasura/clerk"
    }
  }
}

# Reads CLERK_SECRET_KEY (and optionally CLERK_API_URL, CLERK_PUBLISHABLE_KEY).
provider "clerk" {}
