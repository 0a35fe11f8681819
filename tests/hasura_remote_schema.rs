//! `hasura_remote_schema` and `hasura_remote_schema_permission` on every core against the
//! Hasura emulator and a tiny GraphQL server on 127.0.0.1: create (URL template and
//! `url_from_env` set by `hasura_env_var` in the same apply, a namespaced customization,
//! role permissions), the export's exact shape, an empty re-plan, queries through the
//! engine reaching the server and limited by the role's permission, updates in place
//! (never a remove), out-of-band change and delete shown in plan, import, secrets kept
//! out of plans, an unreachable server refused at apply, bad input refused at validate,
//! destroy.
mod support;

use hasura_emulator::TinyRemote;
use serde_json::{json, Value};
use support::hasura::Env;
use support::refusals::{assert_refused_at_validate, hasura_refusals, resource_tf};
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

const CANARY: &str = "canary-remote-header-9c1e";

fn config(base: &str, timeout: u32, user_schema: &str) -> String {
    format!(
        r#"{req}
provider "hasura" {{}}

resource "hasura_env_var" "base" {{
  key   = "PAY_BASE_URL"
  value = "{base}"
}}

resource "hasura_env_var" "direct" {{
  key   = "DIRECT_URL"
  value = "{base}/graphql"
}}

resource "hasura_env_var" "key" {{
  key   = "PAY_KEY"
  value = "k-1"
}}

resource "hasura_env_var" "perms" {{
  key   = "HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS"
  value = "true"
}}

resource "hasura_remote_schema" "pay" {{
  name             = "pay"
  url              = "{{{{PAY_BASE_URL}}}}/graphql"
  headers          = {{ "X-Canary" = "{CANARY}" }}
  headers_from_env = {{ "X-Api-Key" = "PAY_KEY" }}
  timeout_seconds  = {timeout}
  comment          = "payments"
  depends_on       = [hasura_env_var.base, hasura_env_var.key]
}}

resource "hasura_remote_schema" "direct" {{
  name                   = "direct"
  url_from_env           = "DIRECT_URL"
  forward_client_headers = true
  customization = {{
    root_fields_namespace = "direct"
    type_names_prefix     = "Direct_"
  }}
  depends_on = [hasura_env_var.direct]
}}

resource "hasura_remote_schema_permission" "user" {{
  remote_schema = hasura_remote_schema.pay.name
  role          = "user"
  schema        = <<-EOT
{user_schema}
  EOT
  depends_on    = [hasura_env_var.perms]
}}
"#,
        req = required_providers()
    )
}

const USER_SCHEMA: &str = "    type Query {\n      invoices: [Invoice!]!\n    }\n    type Invoice {\n      id: ID!\n      amount: Int\n    }";
const USER_SCHEMA_2: &str = "    type Invoice { id: ID!  amount: Int  note: String }\n    type Query { invoices: [Invoice!]! hello: String }";

fn schemas(env: &Env) -> Vec<Value> {
    env.metadata()["remote_schemas"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn schema(env: &Env, name: &str) -> Option<Value> {
    schemas(env).into_iter().find(|s| s["name"] == name)
}

/// POST /v1/graphql as `role` (admin secret plus `x-hasura-role`).
fn gql(env: &Env, role: &str, query: &str) -> Value {
    env.graphql(&[("x-hasura-role", role)], query, true)
}

#[test]
fn lifecycle_queries_drift_import_and_refusals() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let remote = env.rt.block_on(TinyRemote::start()).expect("remote server");
        let base = remote.url().trim_end_matches("/graphql").to_string();
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(&base, 20, USER_SCHEMA));
        let out = wd.apply();
        assert!(
            !out.combined().contains(CANARY),
            "a header value leaked into the apply output"
        );

        // The export holds exactly what Hasura would store.
        assert_eq!(
            schema(&env, "pay").unwrap(),
            json!({
                "name": "pay",
                "definition": {
                    "url": "{{PAY_BASE_URL}}/graphql",
                    "timeout_seconds": 20,
                    "headers": [
                        {"name": "X-Canary", "value": CANARY},
                        {"name": "X-Api-Key", "value_from_env": "PAY_KEY"}
                    ]
                },
                "comment": "payments",
                "permissions": [{"role": "user", "definition": {"schema": "type Query {\n  invoices: [Invoice!]!\n}\n\ntype Invoice {\n  id: ID!\n  amount: Int\n}\n"}}]
            })
        );
        assert_eq!(
            schema(&env, "direct").unwrap()["definition"],
            json!({"url_from_env": "DIRECT_URL", "timeout_seconds": 60, "customization": {"root_fields_namespace": "direct", "type_names": {"prefix": "Direct_", "mapping": {}}}, "forward_client_headers": true})
        );
        assert_no_changes(&wd, "right after create");

        // End to end: the engine forwards to the server, with the configured headers.
        assert_eq!(
            gql(&env, "admin", "{ hello }"),
            json!({"data": {"hello": "world"}})
        );
        let (headers, _) = remote.queries().pop().unwrap();
        assert_eq!(headers["x-api-key"], "k-1");
        assert_eq!(headers["x-canary"], CANARY);
        assert_eq!(
            gql(&env, "admin", "{ direct { secret } }"),
            json!({"data": {"direct": {"secret": "s3cret"}}})
        );
        // The role sees what its permission allows, and nothing else.
        let v = gql(&env, "user", "{ invoices { id amount } }");
        assert_eq!(
            v["data"]["invoices"][0],
            json!({"id": "1", "amount": 10}),
            "{v}"
        );
        let v = gql(&env, "user", "{ invoices { note } }");
        assert_eq!(
            v["errors"][0]["message"], "field 'note' not found in type: 'Invoice'",
            "{v}"
        );
        let v = gql(&env, "user", "{ hello }");
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "validation-failed",
            "{v}"
        );

        // Updates are made in place: update_remote_schema, and the permission's drop + add
        // in one bulk; never a remove.
        env.reset_counters();
        wd.write("main.tf", &config(&base, 30, USER_SCHEMA_2));
        assert_changes(
            &wd,
            "after changing timeout and the role's schema",
            &["updated in-place", "30"],
        );
        wd.apply();
        assert_eq!(env.ops("metadata:remove_remote_schema"), 0);
        assert_eq!(
            schema(&env, "pay").unwrap()["definition"]["timeout_seconds"],
            30
        );
        let v = gql(&env, "user", "{ hello invoices { note } }");
        assert_eq!(v["data"]["hello"], "world", "{v}");
        assert_no_changes(&wd, "after the update");

        // Changed out of band: the plan shows it and puts it back.
        env.meta(json!({"type": "update_remote_schema", "args": {
            "name": "direct", "definition": {"url_from_env": "DIRECT_URL", "timeout_seconds": 5}
        }}));
        assert_changes(
            &wd,
            "after an out-of-band change",
            &["hasura_remote_schema.direct", "timeout_seconds"],
        );
        env.meta(json!({"type": "bulk", "args": [
            {"type": "drop_remote_schema_permissions", "args": {"remote_schema": "pay", "role": "user"}},
            {"type": "add_remote_schema_permissions", "args": {"remote_schema": "pay", "role": "user", "definition": {"schema": "type Query { hello: String }"}}}
        ]}));
        assert_changes(
            &wd,
            "after an out-of-band permission change",
            &["hasura_remote_schema_permission.user"],
        );
        wd.apply();
        assert_eq!(
            schema(&env, "direct").unwrap()["definition"]["timeout_seconds"],
            60
        );
        assert_no_changes(&wd, "after restoring");

        // Deleted out of band: the plan creates them again.
        env.meta(json!({"type": "remove_remote_schema", "args": {"name": "pay"}}));
        assert_changes(
            &wd,
            "after an out-of-band delete",
            &[
                "hasura_remote_schema.pay will be created",
                "hasura_remote_schema_permission.user will be created",
            ],
        );
        wd.apply();
        assert_no_changes(&wd, "after re-creating");

        // Import by id into fresh state entries: an empty plan.
        for addr in [
            "hasura_remote_schema.pay",
            "hasura_remote_schema.direct",
            "hasura_remote_schema_permission.user",
        ] {
            wd.tf(&["state", "rm", addr]).assert_success("state rm");
        }
        wd.import("hasura_remote_schema.pay", "pay")
            .assert_success("import");
        wd.import("hasura_remote_schema.direct", "direct")
            .assert_success("import");
        wd.import("hasura_remote_schema_permission.user", "pay/user")
            .assert_success("import");
        // The header value is sensitive and not importable from a plan's point of view:
        // it is read back from the export, so the plan is empty.
        assert_no_changes(&wd, "after import");
        assert!(
            !wd.tf(&["plan", "-no-color"]).combined().contains(CANARY),
            "a header value leaked into a plan"
        );

        // An unreachable server is refused at apply with the attribute, nothing stored.
        let mut bad = config(&base, 30, USER_SCHEMA_2);
        bad.push_str("\nresource \"hasura_remote_schema\" \"dead\" {\n  name = \"dead\"\n  url  = \"http://127.0.0.1:1/graphql\"\n}\n");
        wd.write("main.tf", &bad);
        wd.try_apply()
            .assert_failure_contains("exception occurred")
            .assert_failure_contains("url");
        assert!(schema(&env, "dead").is_none());

        wd.write("main.tf", &config(&base, 30, USER_SCHEMA_2));
        wd.destroy();
        assert!(schemas(&env).is_empty(), "{:?}", schemas(&env));
        env.rt.block_on(remote.stop());
    });
}

#[test]
fn bad_input_is_refused_at_validate() {
    let cases = [
        (r#"url = "ftp://files.example.com/x""#, "url", "url"),
        (r#"url = "{{UNCLOSED/graphql""#, "url", "url"),
        (
            r#"url_from_env = "not an env name""#,
            "url_from_env",
            "url_from_env",
        ),
        (
            r#"timeout_seconds = 0"#,
            "timeout_seconds",
            "timeout_seconds",
        ),
        (
            r#"customization = { root_fields_namespace = "bad-name" }"#,
            "root_fields_namespace",
            "customization",
        ),
        (
            r#"customization = { field_names = { Query = { mapping = { __typename = "t" } } } }"#,
            "Reserved field name",
            "customization",
        ),
        (
            r#"headers = { "bad header" = "x" }"#,
            "Invalid header name",
            "headers",
        ),
        (r#"name = """#, "name", "name"),
        // Exactly one of url and url_from_env.
        (r#"url_from_env = "A""#, "URL missing or set twice", "url"),
    ];
    let schema = |lines: &str| {
        let defaults = [r#"name = "t""#, r#"url = "https://x.example.com/graphql""#];
        resource_tf("hasura_remote_schema", "t", &defaults, lines)
    };
    let perm_cases = [
        (
            "schema = \"type Query { hello: String\"",
            "schema",
            "schema",
        ),
        ("schema = \"query { hello }\"", "schema", "schema"),
        ("role = \"admin\"", "role", "role"),
    ];
    let permission = |lines: &str| {
        let defaults = [
            r#"remote_schema = "pay""#,
            r#"role = "user""#,
            r#"schema = "type Query { hello: String }""#,
        ];
        resource_tf("hasura_remote_schema_permission", "t", &defaults, lines)
    };
    hasura_refusals(&cases, schema, |_, wd| {
        wd.write(
            "main.tf",
            &resource_tf(
                "hasura_remote_schema",
                "t",
                &[r#"name = "t""#],
                r#"url_from_env = "A""#,
            ),
        );
        wd.validate().assert_success("url_from_env alone");
        assert_refused_at_validate(wd, &perm_cases, permission);
    });
}

/// Metadata answers lost after the write landed, 5xx and resets on a third of the calls:
/// remote schemas and their permissions (a permission change is a drop and an add in one
/// bulk) converge to exactly the configuration, because every ambiguous write is settled
/// by reading the export back, and a removal that already happened counts as done.
#[test]
fn writes_converge_under_lost_answers_and_server_errors() {
    let many = |url: &str, timeout: u32, field: &str| {
        let mut s = format!(
            "{}\nprovider \"hasura\" {{}}\nresource \"hasura_env_var\" \"perms\" {{\n  key   = \"HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS\"\n  value = \"true\"\n}}\n",
            required_providers()
        );
        for i in 0..4 {
            s.push_str(&format!(
                "resource \"hasura_remote_schema\" \"r{i}\" {{\n  name = \"remote-{i}\"\n  url = \"{url}\"\n  timeout_seconds = {timeout}\n  customization = {{ root_fields_namespace = \"ns{i}\" }}\n}}\nresource \"hasura_remote_schema_permission\" \"p{i}\" {{\n  remote_schema = hasura_remote_schema.r{i}.name\n  role = \"user\"\n  schema = \"type Query {{ {field}: String }}\"\n  depends_on = [hasura_env_var.perms]\n}}\n"
            ));
        }
        s
    };
    for_each_terraform(|tf| {
        let env = Env::start();
        let remote = env.rt.block_on(TinyRemote::start()).expect("remote server");
        let wd = env.workdir(tf);
        wd.write("main.tf", &many(&remote.url(), 20, "hello"));
        env.under_faults(7, || wd.apply());
        let names: Vec<Value> = schemas(&env).iter().map(|s| s["name"].clone()).collect();
        assert_eq!(
            names,
            (0..4)
                .map(|i| json!(format!("remote-{i}")))
                .collect::<Vec<_>>()
        );
        assert!(schemas(&env)
            .iter()
            .all(|s| s["permissions"].as_array().is_some_and(|p| p.len() == 1)));
        assert_no_changes(&wd, "after creating under faults");

        wd.write("main.tf", &many(&remote.url(), 30, "secret"));
        env.under_faults(11, || wd.apply());
        for s in schemas(&env) {
            assert_eq!(s["definition"]["timeout_seconds"], 30, "{s}");
            assert_eq!(s["permissions"].as_array().unwrap().len(), 1, "{s}");
            let sdl = s["permissions"][0]["definition"]["schema"]
                .as_str()
                .unwrap();
            assert!(sdl.contains("secret"), "{s}");
        }
        assert_no_changes(&wd, "after updating under faults");

        env.under_faults(13, || wd.destroy());
        assert!(schemas(&env).is_empty(), "{:?}", schemas(&env));
        env.assert_lost_answers_fired();
        env.rt.block_on(remote.stop());
    });
}
