# The queries the policy tests (../policy.tftest.hcl) assert on: what each role sees and
# may do in the deployed project, asked through Hasura's impersonation (admin secret plus
# x-hasura-role / x-hasura-user-id). Only the Hasura provider is needed.

terraform {
  required_providers {
    hasura = {
      source = "clerk-hasura/hasura"
    }
  }
}

provider "hasura" {
  endpoint = var.hasura_endpoint
}

variable "hasura_endpoint" {
  description = "Hasura project base URL (the same variable as the root module's)."
  type        = string
  default     = "http://127.0.0.1:4200"
}

variable "step" {
  description = "Which operations to run: `seed` (each test user inserts their own row), `user_rows`, `anonymous_rows` or `insert_for_stranger`. One step per run, so a run sends only the operations it asserts on."
  type        = string
}

variable "user_id" {
  description = "The test user the assertions are about."
  type        = string
}

variable "other_user_id" {
  description = "Another test user, whose row must stay invisible to `user_id`."
  type        = string
}

variable "stranger_id" {
  description = "An id with no row: `user_id` must not be able to insert it."
  type        = string
}

locals {
  users    = "query { users(order_by: { id: asc }) { id } }"
  insert   = "mutation ($id: String!) { insert_users_one(object: { id: $id }) { id } }"
  as_user  = { "x-hasura-user-id" = var.user_id }
  as_other = { "x-hasura-user-id" = var.other_user_id }
  seeding  = var.step == "seed" ? 1 : 0
}

# Seeding: each test user inserts their own row (allowed by the `user` insert permission).
# On a second run the row exists already and Hasura answers a uniqueness violation.
data "hasura_graphql_query" "seed_user" {
  count             = local.seeding
  role              = "user"
  session_variables = local.as_user
  query             = local.insert
  variables         = jsonencode({ id = var.user_id })
}

data "hasura_graphql_query" "seed_other" {
  count             = local.seeding
  role              = "user"
  session_variables = local.as_other
  query             = local.insert
  variables         = jsonencode({ id = var.other_user_id })
}

data "hasura_graphql_query" "user_rows" {
  count             = var.step == "user_rows" ? 1 : 0
  role              = "user"
  session_variables = local.as_user
  query             = local.users
}

data "hasura_graphql_query" "anonymous_rows" {
  count = var.step == "anonymous_rows" ? 1 : 0
  role  = "anonymous"
  query = local.users
}

data "hasura_graphql_query" "insert_for_stranger" {
  count             = var.step == "insert_for_stranger" ? 1 : 0
  role              = "user"
  session_variables = local.as_user
  query             = local.insert
  variables         = jsonencode({ id = var.stranger_id })
}

output "seeded" {
  description = "Per seeded user: inserted now, or there already (uniqueness violation)."
  value = [
    for q in concat(data.hasura_graphql_query.seed_user, data.hasura_graphql_query.seed_other) :
    q.data_json != null || contains(q.error_codes, "constraint-violation")
  ]
}

output "user_ids" {
  description = "The ids `user_id` can read."
  value       = [for r in try(jsondecode(one(data.hasura_graphql_query.user_rows[*].data_json)).users, []) : r.id]
}

output "anonymous_ids" {
  description = "The ids the anonymous role can read: none (its schema has no `users`)."
  value       = [for r in try(jsondecode(one(data.hasura_graphql_query.anonymous_rows[*].data_json)).users, []) : r.id]
}

output "anonymous_error_codes" {
  value = try(one(data.hasura_graphql_query.anonymous_rows[*].error_codes), [])
}

output "insert_for_stranger" {
  description = "The answer to `user_id` inserting a row for `stranger_id`."
  value = {
    data   = try(one(data.hasura_graphql_query.insert_for_stranger[*].data_json), null)
    codes  = try(one(data.hasura_graphql_query.insert_for_stranger[*].error_codes), [])
    errors = try(one(data.hasura_graphql_query.insert_for_stranger[*].error_messages), [])
  }
}
