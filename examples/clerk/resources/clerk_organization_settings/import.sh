# A singleton: the import id is always `instance`
terraform import clerk_organization_settings.this instance
