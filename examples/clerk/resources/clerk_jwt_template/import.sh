# By template id
terraform import clerk_jwt_template.hasura jtmp_2abcDEF
# By template name (adopts a template created in the Clerk dashboard)
terraform import clerk_jwt_template.hasura hasura
