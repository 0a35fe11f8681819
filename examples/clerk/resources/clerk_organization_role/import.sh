# By id
terraform import clerk_organization_role.editor role_2abc123
# Or by key (the default roles too: org:admin, org:member)
terraform import clerk_organization_role.editor org:editor
