//! `hasura_graphql_query` on every core: what a role sees and is refused comes back as
//! data (`data_json`, `errors_json`, `error_codes`, `error_messages`), a refused admin
//! secret is an error that never echoes the secret, and a bad session variable is refused
//! at validate with nothing sent.
mod support;

use serde_json::{json, Value};
use support::hasura::Env;
use support::{for_each_terraform, required_providers};

const SECRET_CANARY: &str = "not-the-secret-4d1f9";

/// A `users` table with alice and bob, readable and insertable by the `user` role for its
/// own row only, set up behind Terraform's back.
fn project() -> Env {
    let env = Env::start();
    env.sql("CREATE TABLE public.users (id text PRIMARY KEY, name text); INSERT INTO public.users VALUES ('alice', 'A'), ('bob', 'B');");
    let own_row = json!({"id": {"_eq": "X-Hasura-User-Id"}});
    env.meta(json!({"type": "bulk", "args": [
        {"type": "pg_track_table", "args": {"source": "default", "table": {"schema": "public", "name": "users"}}},
        {"type": "pg_create_select_permission", "args": {"table": "users", "role": "user",
            "permission": {"columns": ["id", "name"], "filter": own_row}}},
        {"type": "pg_create_insert_permission", "args": {"table": "users", "role": "user",
            "permission": {"columns": ["id", "name"], "check": own_row}}},
    ]}));
    env
}

const QUERIES: &str = r#"
data "hasura_graphql_query" "alice" {
  role              = "user"
  session_variables = { "X-Hasura-User-Id" = "alice" }
  query             = "query { users { id name } }"
}

data "hasura_graphql_query" "anonymous" {
  role  = "anonymous"
  query = "query { users { id } }"
}

data "hasura_graphql_query" "admin_with_variables" {
  role           = "admin"
  query          = "query Other { users { id } } query One($id: String!) { users(where: { id: { _eq: $id } }) { id } }"
  operation_name = "One"
  variables      = jsonencode({ id = "bob" })
}

data "hasura_graphql_query" "insert_for_bob" {
  role              = "user"
  session_variables = { "x-hasura-user-id" = "alice" }
  query             = "mutation ($id: String!) { insert_users_one(object: { id: $id }) { id } }"
  variables         = jsonencode({ id = "carol" })
}

output "alice" {
  value = data.hasura_graphql_query.alice
}
output "anonymous" {
  value = data.hasura_graphql_query.anonymous
}
output "admin_with_variables" {
  value = data.hasura_graphql_query.admin_with_variables
}
output "insert_for_bob" {
  value = data.hasura_graphql_query.insert_for_bob
}
"#;

fn json_attr(out: &Value, attr: &str) -> Value {
    match out[attr].as_str() {
        Some(s) => {
            serde_json::from_str(s).unwrap_or_else(|e| panic!("{attr} is not JSON: {e}: {s}"))
        }
        None => Value::Null,
    }
}

#[test]
fn answers_and_refusals_are_data() {
    for_each_terraform(|tf| {
        let env = project();
        let wd = env.workdir(tf);
        wd.write("main.tf", &format!("{}{QUERIES}", required_providers()));
        wd.apply();

        let alice = wd.output("alice");
        assert_eq!(
            json_attr(&alice, "data_json"),
            json!({"users": [{"id": "alice", "name": "A"}]}),
            "{alice}"
        );
        assert_eq!(alice["errors_json"], Value::Null, "{alice}");
        assert_eq!(alice["error_codes"], json!([]), "{alice}");

        // A role without permissions has no `users` field (graphql-engine's schema per role).
        let anon = wd.output("anonymous");
        assert_eq!(anon["data_json"], Value::Null, "{anon}");
        assert_eq!(anon["error_codes"], json!(["validation-failed"]), "{anon}");
        assert_eq!(
            anon["error_messages"],
            json!(["field 'users' not found in type: 'query_root'"]),
            "{anon}"
        );
        assert_eq!(
            json_attr(&anon, "errors_json")[0]["extensions"]["code"],
            "validation-failed"
        );

        let admin = wd.output("admin_with_variables");
        assert_eq!(
            json_attr(&admin, "data_json"),
            json!({"users": [{"id": "bob"}]}),
            "{admin}"
        );

        let insert = wd.output("insert_for_bob");
        assert_eq!(insert["data_json"], Value::Null, "{insert}");
        assert_eq!(
            insert["error_codes"],
            json!(["permission-error"]),
            "{insert}"
        );
        assert_eq!(env.count_rows("users"), 2, "the refused insert landed");

        // The admin secret is provider configuration: never in the state.
        let state = std::fs::read_to_string(wd.path().join("terraform.tfstate")).unwrap();
        let secret = &env.emu().config.admin_secret;
        assert!(
            !state.contains(secret.as_str()),
            "admin secret in the state"
        );
    });
}

#[test]
fn a_refused_admin_secret_is_an_error_without_the_secret() {
    for_each_terraform(|tf| {
        let env = project();
        let mut wd = env.workdir(tf);
        wd.env("HASURA_GRAPHQL_ADMIN_SECRET", SECRET_CANARY);
        wd.write(
            "main.tf",
            &format!(
                "{}{}",
                required_providers(),
                r#"
data "hasura_graphql_query" "q" {
  role  = "user"
  query = "query { users { id } }"
}
"#
            ),
        );
        let out = wd.tf(&["plan", "-input=false"]);
        out.assert_failure_contains("Hasura refused the admin secret");
        // Terraform wraps diagnostics: compare with whitespace collapsed.
        let text = out
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains("invalid x-hasura-admin-secret/x-hasura-access-key"),
            "{text}"
        );
        assert!(
            !out.combined().contains(SECRET_CANARY),
            "the secret was echoed"
        );
    });
}

#[test]
fn a_bad_session_variable_is_refused_at_validate() {
    for_each_terraform(|tf| {
        let env = project();
        let wd = env.workdir(tf);
        for (vars, needle) in [
            (
                r#"{ "user-id" = "alice" }"#,
                "session variable names start with `x-hasura-`",
            ),
            (
                r#"{ "x-hasura-role" = "admin" }"#,
                "is not a session variable",
            ),
            (
                r#"{ "x-hasura-admin-secret" = "s" }"#,
                "is not a session variable",
            ),
            (r#"{ "x-hasura-user id" = "a" }"#, "letters, digits"),
        ] {
            wd.write(
                "main.tf",
                &format!(
                    "{}data \"hasura_graphql_query\" \"q\" {{\n  role = \"user\"\n  session_variables = {vars}\n  query = \"query {{ users {{ id }} }}\"\n}}\n",
                    required_providers()
                ),
            );
            let before = env.ops("graphql:query");
            let out = wd.tf(&["plan", "-input=false"]);
            out.assert_failure_contains(needle);
            assert!(
                out.combined().contains("Invalid session variable"),
                "{}",
                out.combined()
            );
            assert_eq!(
                env.ops("graphql:query"),
                before,
                "a query was sent for {vars}"
            );
        }
        wd.write(
            "main.tf",
            &format!(
                "{}data \"hasura_graphql_query\" \"q\" {{\n  role = \"user\"\n  query = \"query {{ users {{ id }} }}\"\n  variables = jsonencode([1])\n}}\n",
                required_providers()
            ),
        );
        wd.tf(&["plan", "-input=false"])
            .assert_failure_contains("must be a JSON object");
    });
}
