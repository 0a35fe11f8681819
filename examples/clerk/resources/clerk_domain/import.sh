# By id
terraform import clerk_domain.docs dmn_2abc123
# Or by domain name
terraform import clerk_domain.docs docs.example.com
