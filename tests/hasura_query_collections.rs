//! `hasura_query_collection` and `hasura_allow_list` on every core against the Hasura
//! emulator: create (the export's exact shape), an empty re-plan, a query changed in place
//! with the allow-list entry kept, a layout-only change that plans nothing, the scope
//! changed in place, out-of-band changes and deletes shown in plan, import, destroy; and
//! end to end with `HASURA_GRAPHQL_ENABLE_ALLOWLIST=true` (set by `hasura_env_var`): the
//! allowed query runs for role `user`, anything else is refused as Hasura refuses it.
mod support;

use serde_json::{json, Value};
use support::hasura::Env;
use support::refusals::{assert_refused_at_validate, hasura_refusals, resource_tf};
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

const BY_ID: &str = "query user_by_id($id: Int!) { users(where: {id: {_eq: $id}}) { id name } }";
const BY_ID_V2: &str =
    "query user_by_id($id: Int!) { users(where: {id: {_eq: $id}}) { id name email } }";
const LIST: &str = "query list { users(order_by: {id: asc}, limit: 10) { id } }";
/// `LIST` laid out differently, arguments swapped: the same document.
const LIST_RELAID: &str =
    "query list {\\n  users(limit: 10, order_by: {id: asc}) {\\n    id\\n  }\\n}\\n";

fn config(by_id: &str, list: &str, roles: &str, comment: &str) -> String {
    format!(
        r#"{req}
provider "hasura" {{}}

resource "hasura_env_var" "allowlist" {{
  key   = "HASURA_GRAPHQL_ENABLE_ALLOWLIST"
  value = "true"
}}

resource "hasura_query_collection" "app" {{
  name = "app"
  queries = {{
    user_by_id = "{by_id}"
    list       = "{list}"
  }}
  comment = "{comment}"
}}

resource "hasura_allow_list" "app" {{
  collection = hasura_query_collection.app.name
  roles      = {roles}
}}

resource "hasura_query_collection" "public" {{
  name = "public"
  queries = {{
    ping = "query ping {{ users_aggregate {{ aggregate {{ count }} }} }}"
  }}
}}

resource "hasura_allow_list" "public" {{
  collection = hasura_query_collection.public.name
}}
"#,
        req = required_providers()
    )
}

fn top(env: &Env, key: &str) -> Vec<Value> {
    env.metadata()[key].as_array().cloned().unwrap_or_default()
}

fn collection(env: &Env, name: &str) -> Option<Value> {
    top(env, "query_collections")
        .into_iter()
        .find(|c| c["name"] == name)
}

fn entry(env: &Env, name: &str) -> Option<Value> {
    top(env, "allowlist")
        .into_iter()
        .find(|c| c["collection"] == name)
}

/// `/v1/graphql` as `role` (admin secret plus `x-hasura-role`): the first error's
/// (code, message), or `None` when the request ran.
fn as_role(env: &Env, role: &str, query: &str, variables: Value) -> Option<(String, String)> {
    let v = env.graphql_vars(&[("x-hasura-role", role)], query, variables, true);
    let e = v.get("errors")?;
    Some((
        e[0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .into(),
        e[0]["message"].as_str().unwrap_or_default().into(),
    ))
}

fn refused(env: &Env, role: &str, query: &str) -> bool {
    as_role(env, role, query, json!({"id": 1}))
        == Some(("validation-failed".into(), "query is not allowed".into()))
}

#[test]
fn lifecycle_drift_import_and_enforcement() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.users (id int PRIMARY KEY, name text, email text); INSERT INTO public.users VALUES (1, 'ann', 'ann@example.com')");
        env.meta(json!({"type": "bulk", "args": [
            {"type": "pg_track_table", "args": {"table": {"schema": "public", "name": "users"}}},
            {"type": "pg_create_select_permission", "args": {"table": "users", "role": "user", "permission": {"columns": ["id", "name", "email"], "filter": {}, "allow_aggregations": true}}},
            {"type": "pg_create_select_permission", "args": {"table": "users", "role": "editor", "permission": {"columns": ["id", "name", "email"], "filter": {}}}}
        ]}));
        let wd = env.workdir(tf);
        wd.write(
            "main.tf",
            &config(BY_ID, LIST, r#"["user"]"#, "app queries"),
        );
        wd.apply();

        // The export holds exactly what Hasura stores: the text as given, the scope spelled out.
        assert_eq!(
            collection(&env, "app").unwrap(),
            json!({"name": "app", "definition": {"queries": [
                {"name": "list", "query": LIST},
                {"name": "user_by_id", "query": BY_ID}
            ]}, "comment": "app queries"})
        );
        assert_eq!(
            top(&env, "allowlist"),
            vec![
                json!({"collection": "app", "scope": {"global": false, "roles": ["user"]}}),
                json!({"collection": "public", "scope": {"global": true}}),
            ]
        );
        assert_no_changes(&wd, "right after create");

        // End to end: the allowed document runs for `user`, whatever its layout and
        // __typename fields; anything else is refused; admin is never restricted.
        assert_eq!(
            as_role(
                &env,
                "user",
                "query user_by_id($id: Int!) {\n users(where: {id: {_eq: $id}}) { __typename id, name }\n}",
                json!({"id": 1})
            ),
            None
        );
        assert!(refused(
            &env,
            "user",
            "query user_by_id($id: Int!) { users(where: {id: {_eq: $id}}) { id name email } }"
        ));
        assert!(refused(&env, "editor", BY_ID), "`app` is for `user` only");
        assert_eq!(
            as_role(
                &env,
                "editor",
                "query ping { users_aggregate { aggregate { count } } }",
                json!({})
            )
            .map(|e| e.1)
            .filter(|m| m == "query is not allowed"),
            None,
            "`public` is global"
        );
        assert_eq!(
            as_role(&env, "admin", BY_ID_V2, json!({"id": 1})),
            None,
            "admin is never restricted"
        );

        // A layout-only change plans nothing; a real one is made in place, query by query,
        // and the collection stays in the allow list.
        wd.write(
            "main.tf",
            &config(BY_ID, LIST_RELAID, r#"["user"]"#, "app queries"),
        );
        assert_no_changes(&wd, "after re-laying out a query");
        env.reset_counters();
        wd.write(
            "main.tf",
            &config(BY_ID_V2, LIST, r#"["user"]"#, "app queries"),
        );
        assert_changes(
            &wd,
            "after changing a query",
            &["hasura_query_collection.app", "updated in-place", "email"],
        );
        wd.apply();
        assert_eq!(env.ops("metadata:drop_query_collection"), 0);
        assert!(
            entry(&env, "app").is_some(),
            "the allow-list entry survives"
        );
        assert!(refused(&env, "user", BY_ID));
        assert!(!refused(&env, "user", BY_ID_V2));
        assert_no_changes(&wd, "after the query update");

        // A comment change recreates the collection in one bulk, keeping its entry and scope.
        wd.write("main.tf", &config(BY_ID_V2, LIST, r#"["user"]"#, "v2"));
        wd.apply();
        assert_eq!(collection(&env, "app").unwrap()["comment"], "v2");
        assert_eq!(
            entry(&env, "app").unwrap()["scope"],
            json!({"global": false, "roles": ["user"]})
        );

        // The scope changes in place.
        env.reset_counters();
        wd.write(
            "main.tf",
            &config(BY_ID_V2, LIST, r#"["user", "editor"]"#, "v2"),
        );
        assert_changes(
            &wd,
            "after adding a role",
            &["hasura_allow_list.app", "updated in-place", "editor"],
        );
        wd.apply();
        assert_eq!(env.ops("metadata:drop_collection_from_allowlist"), 0);
        assert!(!refused(&env, "editor", BY_ID_V2));
        assert_no_changes(&wd, "after the scope update");

        // Out of band: a query dropped, the scope widened, the entry removed.
        env.meta(json!({"type": "drop_query_from_collection", "args": {"collection_name": "app", "query_name": "list"}}));
        assert_changes(
            &wd,
            "after an out-of-band query drop",
            &["hasura_query_collection.app", "list"],
        );
        env.meta(json!({"type": "update_scope_of_collection_in_allowlist", "args": {"collection": "app", "scope": {"global": true}}}));
        assert_changes(
            &wd,
            "after an out-of-band scope change",
            &["hasura_allow_list.app", "editor"],
        );
        wd.apply();
        assert_eq!(
            entry(&env, "app").unwrap()["scope"]["roles"],
            json!(["editor", "user"])
        );
        assert!(collection(&env, "app").unwrap()["definition"]["queries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["name"] == "list"));
        env.meta(
            json!({"type": "drop_collection_from_allowlist", "args": {"collection": "public"}}),
        );
        assert_changes(
            &wd,
            "after an out-of-band removal from the allow list",
            &["hasura_allow_list.public", "will be created"],
        );
        wd.apply();
        assert_no_changes(&wd, "after re-adding");

        // Import by name into fresh state entries: an empty plan.
        wd.tf(&[
            "state",
            "rm",
            "hasura_query_collection.app",
            "hasura_allow_list.app",
        ])
        .assert_success("state rm");
        wd.import("hasura_query_collection.app", "app")
            .assert_success("import collection");
        wd.import("hasura_allow_list.app", "app")
            .assert_success("import allow list");
        assert_no_changes(&wd, "after import");

        wd.destroy();
        assert!(top(&env, "query_collections").is_empty());
        assert!(top(&env, "allowlist").is_empty());
    });
}

#[test]
fn bad_input_is_refused_at_validate() {
    let cases = [
        (
            r#"queries = { q = "query { users { id }" }"#,
            "Invalid GraphQL query",
            "queries",
        ),
        (
            r#"queries = { q = "type T { a: Int }" }"#,
            "Invalid GraphQL query",
            "queries",
        ),
        (
            r#"queries = { "" = "query { users { id } }" }"#,
            "Invalid query name",
            "queries",
        ),
        (r#"name = """#, "Invalid collection name", "name"),
    ];
    let defaults = [
        r#"name = "c""#,
        r#"queries = { q = "query { users { id } }" }"#,
    ];
    hasura_refusals(
        &cases,
        |lines| resource_tf("hasura_query_collection", "c", &defaults, lines),
        |_, wd| {
            assert_refused_at_validate(
                wd,
                &[("roles = []", "at least one role", "roles")],
                |lines| resource_tf("hasura_allow_list", "a", &[r#"collection = "c""#], lines),
            );
        },
    );
}
