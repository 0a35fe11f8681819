# By id
terraform import clerk_organization_permission.posts_edit perm_2abc123
# Or by key
terraform import clerk_organization_permission.posts_edit org:posts:edit
