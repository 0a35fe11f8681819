//! Permission boolean expressions written the ways graphql-engine accepts them
//! (`$`-spelt connectives and operators, `_ne`, `_cne`, ...) apply, re-read and
//! import without a diff, though Hasura stores them re-serialised (`$or` as
//! `_or`, `_table: "t"` as `{schema, name}`); a real change is still a diff.
mod support;

use serde_json::{json, Value};
use support::hasura::Env;
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

/// (resource name, role, action, attribute lines)
const PERMISSIONS: &[(&str, &str, &str, &str)] = &[
    (
        "connectives",
        "conn",
        "select",
        r#"columns = ["id", "name"]
  filter = jsonencode({
    "$or"     = [{ id = { _eq = "X-Hasura-User-Id" } }, { "$not" = { name = { _is_null = true } } }]
    "$and"    = [{ owner = { _ne = "nobody" } }]
    "$exists" = { _table = "users", _where = { id = { _eq = "X-Hasura-User-Id" } } }
  })"#,
    ),
    (
        "operators",
        "ops",
        "select",
        r#"columns = ["id"]
  filter = jsonencode({
    id    = { _ne = "a", _neq = "b", _cne = "name" }
    name  = { _is_null = false }
    owner = { "$cneq" = "id", "$in" = ["x", "y"] }
  })"#,
    ),
    (
        "seed",
        "user",
        "select",
        r#"columns = ["id", "name"]
  filter = jsonencode({ id = { "$eq" = "X-Hasura-User-Id" } })"#,
    ),
    (
        "insert",
        "writer",
        "insert",
        r#"columns = ["id", "name"]
  check = jsonencode({ "$or" = [{ owner = { "$eq" = "X-Hasura-User-Id" } }, { "$and" = [] }] })"#,
    ),
    (
        "update",
        "writer",
        "update",
        r#"columns = ["name"]
  filter = jsonencode({ "$not" = { owner = { _is_null = true } } })
  check  = jsonencode({ "$exists" = { _table = { schema = "public", name = "users" }, _where = {} } })"#,
    ),
];

fn config() -> String {
    let mut tf = format!("{}\nprovider \"hasura\" {{}}\n", required_providers());
    for (name, role, action, attrs) in PERMISSIONS {
        tf += &format!(
            "\nresource \"hasura_permission\" \"{name}\" {{\n  table  = \"users\"\n  role   = \"{role}\"\n  action = \"{action}\"\n  {attrs}\n}}\n"
        );
    }
    tf
}

fn exported(md: &Value, list: &str, role: &str) -> Value {
    let tables = md["sources"][0]["tables"].as_array().unwrap();
    let users = tables
        .iter()
        .find(|t| t["table"]["name"] == "users")
        .unwrap();
    users[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == role)
        .unwrap()["permission"]
        .clone()
}

#[test]
fn hasura_forms_of_a_filter_plan_empty_after_apply_and_import() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.users (id text PRIMARY KEY, name text, owner text)");
        env.meta(json!({"type": "pg_track_table", "args": {"table": "users"}}));
        let wd = env.workdir(tf);
        wd.write("main.tf", &config());
        wd.apply();
        // What Hasura stores is not what was written...
        let md = env.metadata();
        let conn = exported(&md, "select_permissions", "conn")["filter"].clone();
        assert!(
            conn.get("_or").is_some() && conn.get("$or").is_none(),
            "{conn}"
        );
        assert_eq!(
            conn["_exists"]["_table"],
            json!({"schema": "public", "name": "users"})
        );
        // ... but the plan is empty.
        assert_no_changes(&wd, "after applying $-spelt filters");

        // Imported, each reads back in Hasura's form, equal to the config's.
        for (name, role, action, _) in PERMISSIONS {
            let addr = format!("hasura_permission.{name}");
            wd.tf(&["state", "rm", &addr])
                .assert_success(&format!("state rm {addr}"));
            let id = format!("default.public.users.{role}.{action}");
            wd.import(&addr, &id)
                .assert_success(&format!("import {addr} {id}"));
        }
        assert_no_changes(&wd, "after importing every permission");

        // A filter changed out of band is a diff of `filter`, and apply restores it.
        env.meta(json!({"type": "pg_drop_select_permission", "args": {"table": "users", "role": "user"}}));
        env.meta(json!({"type": "pg_create_select_permission", "args": {"table": "users", "role": "user",
            "permission": {"columns": ["id", "name"], "filter": {"id": {"_eq": "X-Hasura-Role"}}}}}));
        assert_changes(
            &wd,
            "after the seed filter changed out of band",
            &["filter", "X-Hasura-User-Id"],
        );
        wd.apply();
        assert_eq!(
            exported(&env.metadata(), "select_permissions", "user")["filter"],
            json!({"id": {"$eq": "X-Hasura-User-Id"}})
        );
        assert_no_changes(&wd, "after the filter was restored");
    });
}

#[test]
fn a_misspelt_operator_is_refused_at_validate_naming_the_valid_ones() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"hasura\" {{}}\nresource \"hasura_permission\" \"p\" {{\n  table = \"users\"\n  role = \"user\"\n  action = \"select\"\n  columns = [\"id\"]\n  filter = jsonencode({{ id = {{ \"$nee\" = 1 }} }})\n}}\n",
                required_providers()
            ),
        );
        wd.validate()
            .assert_failure_contains("Unknown boolean-expression operator")
            .assert_failure_contains("$nee")
            .assert_failure_contains("_cneq");
    });
}
