# By id
terraform import clerk_organization.acme org_2abc123
# Or by slug
terraform import clerk_organization.acme acme
