# The classic mistake of a multi-tenant setup, caught at plan time (Terraform >= 1.5):
# a role the JWT template can put in a token that no Hasura permission knows (every
# request with it fails), or a Hasura role no token can carry (dead rules). A `check`
# block reports it as a warning on every plan and apply, without blocking either, and
# sees both providers' values in one place: no cross-provider plumbing is needed.
check "token_roles_match_hasura_roles" {
  assert {
    condition     = length(setsubtract(local.org_roles, keys(hasura_permission.projects_select))) == 0
    error_message = "The JWT template can issue organization roles that no Hasura select permission knows: ${join(", ", setsubtract(local.org_roles, keys(hasura_permission.projects_select)))}."
  }

  assert {
    condition     = length(setsubtract(concat(keys(hasura_permission.projects_select), keys(hasura_permission.projects_insert)), local.org_roles)) == 0
    error_message = "Hasura permissions name roles no Clerk organization role can carry in a token: ${join(", ", setsubtract(concat(keys(hasura_permission.projects_select), keys(hasura_permission.projects_insert)), local.org_roles))}."
  }
}
