# By id
terraform import clerk_blocklist_identifier.phone blid_2abc123
# Or by the identifier itself
terraform import clerk_blocklist_identifier.phone +15555550100
