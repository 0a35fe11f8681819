# By id
terraform import clerk_allowlist_identifier.contractor alid_2abc123
# Or by the identifier itself
terraform import clerk_allowlist_identifier.contractor contractor@partner.example
