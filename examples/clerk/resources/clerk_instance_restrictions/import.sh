# A singleton: the import id is always `instance`
terraform import clerk_instance_restrictions.this instance
