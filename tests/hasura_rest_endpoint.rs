//! `hasura_rest_endpoint` on every core against the Hasura emulator: create (the export's
//! exact shape) and an end-to-end call of `/api/rest/...` returning rows, an empty re-plan,
//! an update made as one drop-and-create bulk, refusals at apply (a url parameter the query
//! does not declare, an ambiguous url), out-of-band changes and deletes shown in plan,
//! import, destroy; bad input refused at validate.
mod support;

use serde_json::{json, Value};
use support::hasura::Env;
use support::refusals::{hasura_refusals, resource_tf};
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

const BY_ID: &str = "query user_by_id($id: Int!) { users(where: {id: {_eq: $id}}) { id name } }";
/// `BY_ID` returning fewer fields: a changed query an endpoint runs.
const BY_ID_NAME: &str = "query user_by_id($id: Int!) { users(where: {id: {_eq: $id}}) { name } }";
const LIST: &str = "query list($limit: Int) { users(order_by: {id: asc}, limit: $limit) { id } }";
const ADD: &str =
    "mutation add($id: Int!, $name: String!) { insert_users(objects: [{id: $id, name: $name}]) { affected_rows } }";

/// Three endpoints; `user_url`/`user_methods` vary, `extra` adds resources.
fn config(user_url: &str, user_methods: &str, extra: &str) -> String {
    format!(
        r#"{req}
provider "hasura" {{}}

resource "hasura_query_collection" "app" {{
  name = "app"
  queries = {{
    user_by_id = "{BY_ID}"
    list       = "{LIST}"
    add        = "{ADD}"
  }}
}}

resource "hasura_rest_endpoint" "user" {{
  name       = "user"
  url        = "{user_url}"
  methods    = {user_methods}
  collection = hasura_query_collection.app.name
  query      = "user_by_id"
}}

resource "hasura_rest_endpoint" "list" {{
  name       = "list"
  url        = "users"
  methods    = ["GET"]
  collection = hasura_query_collection.app.name
  query      = "list"
  comment    = "first users"
}}

resource "hasura_rest_endpoint" "add" {{
  name       = "add"
  url        = "users/add/:id"
  methods    = ["POST"]
  collection = hasura_query_collection.app.name
  query      = "add"
}}
{extra}"#,
        req = required_providers()
    )
}

fn endpoints(env: &Env) -> Vec<Value> {
    env.metadata()["rest_endpoints"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn endpoint(env: &Env, name: &str) -> Option<Value> {
    endpoints(env).into_iter().find(|e| e["name"] == name)
}

/// `/api/rest/<path>` with the admin secret: status and body.
fn call(env: &Env, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/api/rest/{path}", env.emu().endpoint());
    let secret = env.emu().config.admin_secret.clone();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    env.rt.block_on(async move {
        let mut req = reqwest::Client::new()
            .request(method, url)
            .header("x-hasura-admin-secret", secret);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    })
}

#[test]
fn lifecycle_calls_drift_and_import() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.users (id int PRIMARY KEY, name text); INSERT INTO public.users VALUES (1, 'ann'), (2, 'bob')");
        env.meta(json!({"type": "pg_track_table", "args": {"table": {"schema": "public", "name": "users"}}}));
        let wd = env.workdir(tf);
        wd.write("main.tf", &config("users/:id", r#"["GET"]"#, ""));
        wd.apply();

        assert_eq!(
            endpoint(&env, "list").unwrap(),
            json!({"name": "list", "url": "users", "methods": ["GET"],
                   "definition": {"query": {"collection_name": "app", "query_name": "list"}},
                   "comment": "first users"})
        );
        assert_eq!(endpoints(&env).len(), 3);
        assert_no_changes(&wd, "right after create");

        // End to end: the endpoints run their queries with url, query-string and body values.
        assert_eq!(
            call(&env, "GET", "users/2", None),
            (200, json!({"data": {"users": [{"id": 2, "name": "bob"}]}}))
        );
        assert_eq!(
            call(&env, "GET", "users?limit=1", None),
            (200, json!({"data": {"users": [{"id": 1}]}}))
        );
        assert_eq!(
            call(&env, "POST", "users/add/3", Some(json!({"name": "cy"}))),
            (200, json!({"data": {"insert_users": {"affected_rows": 1}}}))
        );
        assert_eq!(call(&env, "PUT", "users/2", None).0, 405);

        // An update is one drop-and-create bulk: no standalone drop is ever sent.
        env.reset_counters();
        wd.write("main.tf", &config("people/:id", r#"["GET", "POST"]"#, ""));
        assert_changes(
            &wd,
            "after changing url and methods",
            &[
                "hasura_rest_endpoint.user",
                "updated in-place",
                "people/:id",
            ],
        );
        wd.apply();
        assert_eq!(env.ops("metadata:drop_rest_endpoint"), 0);
        assert_eq!(
            endpoint(&env, "user").unwrap()["methods"],
            json!(["GET", "POST"])
        );
        assert_eq!(call(&env, "POST", "people/1", None).0, 200);
        assert_eq!(call(&env, "GET", "users/1", None).0, 404);
        assert_no_changes(&wd, "after the update");

        // The query an endpoint runs changes in place: the collection update drops and
        // re-creates the endpoint around it in one bulk (Hasura refuses to leave it
        // pointing at nothing, even for a moment).
        wd.write(
            "main.tf",
            &config("people/:id", r#"["GET", "POST"]"#, "").replace(BY_ID, BY_ID_NAME),
        );
        assert_changes(
            &wd,
            "after changing the query",
            &["hasura_query_collection.app", "updated in-place"],
        );
        wd.apply();
        assert_eq!(
            call(&env, "GET", "people/1", None),
            (200, json!({"data": {"users": [{"name": "ann"}]}}))
        );
        assert!(endpoint(&env, "user").is_some());
        wd.write("main.tf", &config("people/:id", r#"["GET", "POST"]"#, ""));
        wd.apply();
        assert_no_changes(&wd, "after changing the query back");

        // Refused at apply: a url parameter the query does not declare (Hasura would
        // accept it and then refuse every call), and a url overlapping another's.
        let bad = r#"
resource "hasura_rest_endpoint" "bad" {
  name       = "bad"
  url        = "people/:id/:nope"
  methods    = ["GET"]
  collection = hasura_query_collection.app.name
  query      = "user_by_id"
}
"#;
        wd.write("main.tf", &config("people/:id", r#"["GET", "POST"]"#, bad));
        wd.try_apply().assert_failure_contains("binds `:nope`");
        let ambiguous = r#"
resource "hasura_rest_endpoint" "me" {
  name       = "me"
  url        = "people/me"
  methods    = ["GET"]
  collection = hasura_query_collection.app.name
  query      = "list"
}
"#;
        wd.write(
            "main.tf",
            &config("people/:id", r#"["GET", "POST"]"#, ambiguous),
        );
        wd.try_apply()
            .assert_failure_contains("Ambiguous URL paths");
        assert!(endpoint(&env, "me").is_none());
        wd.write("main.tf", &config("people/:id", r#"["GET", "POST"]"#, ""));
        assert_no_changes(&wd, "after the refused applies");

        // Out of band: methods changed, an endpoint dropped.
        env.meta(json!({"type": "bulk", "args": [
            {"type": "drop_rest_endpoint", "args": {"name": "list"}},
            {"type": "create_rest_endpoint", "args": {"name": "list", "url": "users", "methods": ["GET", "PATCH"],
              "definition": {"query": {"collection_name": "app", "query_name": "list"}}, "comment": "first users"}}
        ]}));
        assert_changes(
            &wd,
            "after an out-of-band method change",
            &["hasura_rest_endpoint.list", "PATCH"],
        );
        env.meta(json!({"type": "drop_rest_endpoint", "args": {"name": "add"}}));
        assert_changes(
            &wd,
            "after an out-of-band drop",
            &["hasura_rest_endpoint.add", "will be created"],
        );
        wd.apply();
        assert_eq!(endpoint(&env, "list").unwrap()["methods"], json!(["GET"]));
        assert!(endpoint(&env, "add").is_some());
        assert_no_changes(&wd, "after restoring");

        // Import by name into a fresh state entry: an empty plan.
        wd.tf(&["state", "rm", "hasura_rest_endpoint.list"])
            .assert_success("state rm");
        wd.import("hasura_rest_endpoint.list", "list")
            .assert_success("import");
        assert_no_changes(&wd, "after import");

        wd.destroy();
        assert!(endpoints(&env).is_empty());
    });
}

#[test]
fn bad_input_is_refused_at_validate() {
    let cases = [
        (r#"url = "/users""#, "Invalid endpoint url", "url"),
        (r#"url = "a//b""#, "empty segment", "url"),
        (r#"url = "a/:x/:x""#, "twice", "url"),
        (r#"url = "a/:""#, "without a name", "url"),
        (r#"methods = ["GET", "FETCH"]"#, "Invalid method", "methods"),
        (r#"methods = []"#, "at least one", "methods"),
        (r#"name = """#, "Invalid endpoint name", "name"),
        (r#"query = """#, "Invalid query name", "query"),
    ];
    let defaults = [
        r#"name = "e""#,
        r#"url = "users/:id""#,
        r#"methods = ["GET"]"#,
        r#"collection = "app""#,
        r#"query = "q""#,
    ];
    hasura_refusals(
        &cases,
        |lines| resource_tf("hasura_rest_endpoint", "e", &defaults, lines),
        |_, _| {},
    );
}
