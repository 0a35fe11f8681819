# Policy tests: do the access rules of the applied configuration do what main.tf promises?
# They query the deployed project as the `user` and `anonymous` roles (data source
# hasura_graphql_query, Hasura's admin-secret impersonation) and create nothing but two
# test users' own rows. Run them after `terraform apply`, next to the drift check
# (Terraform >= 1.6; see examples/ci/README.md):
#
#   terraform init    # or `terraform get` when the providers come from dev_overrides
#   HASURA_GRAPHQL_ADMIN_SECRET=... terraform test -var hasura_endpoint=https://my-project.hasura.app
#
# The runs below use the helper module in ./policy only; the root module is not applied.

variables {
  user_id       = "policy-test-alice"
  other_user_id = "policy-test-bob"
  stranger_id   = "policy-test-mallory"
}

run "seed_test_users" {
  command = plan

  module {
    source = "./tests/policy"
  }

  variables {
    step = "seed"
  }

  assert {
    condition     = alltrue(output.seeded)
    error_message = "A test user could not insert their own row: the user insert permission refuses what main.tf allows."
  }
}

run "user_sees_exactly_their_own_row" {
  command = plan

  module {
    source = "./tests/policy"
  }

  variables {
    step = "user_rows"
  }

  assert {
    condition     = output.user_ids == [var.user_id]
    error_message = "The user role must see exactly its own row of `users`; it sees ${jsonencode(output.user_ids)}."
  }
}

run "anonymous_sees_nothing" {
  command = plan

  module {
    source = "./tests/policy"
  }

  variables {
    step = "anonymous_rows"
  }

  assert {
    condition     = length(output.anonymous_ids) == 0
    error_message = "The anonymous role must see no rows of `users`; it sees ${jsonencode(output.anonymous_ids)}."
  }
}

run "insert_for_another_user_is_refused" {
  command = plan

  module {
    source = "./tests/policy"
  }

  variables {
    step = "insert_for_stranger"
  }

  assert {
    condition     = output.insert_for_stranger.data == null && contains(output.insert_for_stranger.codes, "permission-error")
    error_message = "Inserting a row for another user must be refused by the insert check (permission-error); Hasura answered ${jsonencode(output.insert_for_stranger)}."
  }
}
