//! `hasura_event_trigger` on every core against the Hasura emulator, end to end: a trigger
//! declared in HCL (webhook from an env var set by `hasura_env_var` in the same apply)
//! fires on an insert made through GraphQL, and the local webhook receives Hasura's event
//! payload with the mutation's session; then an empty re-plan, an update in place (only the
//! listed columns fire), out-of-band change and delete shown in plan, import, bad input
//! refused at validate with nothing written, destroy (the SQL trigger is gone too).
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::{extract::State, routing::post, Json, Router};
use serde_json::{json, Value};
use support::hasura::Env;
use support::refusals::{hasura_refusals, resource_tf};
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

/// Every event body received, with its `X-Hook-Key` header.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A local webhook recording what it receives.
struct Hook {
    url: String,
    seen: Seen,
}

impl Hook {
    fn start(env: &Env) -> Hook {
        let seen: Seen = Arc::default();
        let app = Router::new()
            .route(
                "/events",
                post(
                    |State(seen): State<Seen>,
                     headers: axum::http::HeaderMap,
                     Json(body): Json<Value>| async move {
                        let key = headers
                            .get("x-hook-key")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        seen.lock().unwrap().push((key, body));
                        "ok"
                    },
                ),
            )
            .with_state(seen.clone());
        let listener = env
            .rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        env.rt
            .spawn(async move { axum::serve(listener, app).await });
        Hook { url, seen }
    }

    /// The events received so far once `n` have arrived (waits up to 10 s).
    fn wait_for(&self, n: usize) -> Vec<(Option<String>, Value)> {
        let start = Instant::now();
        loop {
            let seen = self.seen.lock().unwrap().clone();
            if seen.len() >= n || start.elapsed() > Duration::from_secs(10) {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn config(hook: &str, update: &str, retries: u32) -> String {
    format!(
        r#"{req}
provider "hasura" {{}}

resource "hasura_env_var" "hook" {{
  key   = "POSTS_HOOK"
  value = "{hook}"
}}

resource "hasura_env_var" "key" {{
  key   = "HOOK_KEY"
  value = "k-123"
}}

resource "hasura_event_trigger" "post_changed" {{
  table            = "posts"
  name             = "post_changed"
  insert           = true
  update           = {update}
  webhook_from_env = "POSTS_HOOK"
  headers_from_env = {{ "X-Hook-Key" = "HOOK_KEY" }}
  retry_conf = {{
    num_retries = {retries}
  }}
  depends_on = [hasura_env_var.hook, hasura_env_var.key]
}}
"#,
        req = required_providers()
    )
}

fn entry(env: &Env) -> Option<Value> {
    let md = env.metadata();
    md["sources"][0]["tables"]
        .as_array()?
        .iter()
        .find(|t| t["table"]["name"] == "posts")?
        .get("event_triggers")?
        .as_array()?
        .first()
        .cloned()
}

/// Names of the SQL triggers Hasura made for event triggers.
fn sql_triggers(env: &Env) -> Vec<Value> {
    let rows =
        env.sql("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'notify_hasura_%' ORDER BY 1");
    rows["result"].as_array().unwrap()[1..].to_vec()
}

#[test]
fn fires_on_graphql_inserts_and_manages_the_trigger() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.posts (id serial PRIMARY KEY, title text, status text, author_id text)");
        env.meta(json!({"type": "bulk", "args": [
            {"type": "pg_track_table", "args": {"table": "posts"}},
            {"type": "pg_create_insert_permission", "args": {"table": "posts", "role": "user",
                "permission": {"columns": ["title", "author_id"], "check": {"author_id": {"_eq": "X-Hasura-User-Id"}}}}}
        ]}));
        let hook = Hook::start(&env);
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(&hook.url, r#"["status"]"#, 2));
        wd.apply();
        assert_eq!(
            entry(&env).unwrap(),
            json!({
                "name": "post_changed",
                "definition": {"enable_manual": false, "insert": {"columns": "*"}, "update": {"columns": ["status"]}},
                "retry_conf": {"num_retries": 2, "interval_sec": 10, "timeout_sec": 60},
                "webhook_from_env": "POSTS_HOOK",
                "headers": [{"name": "X-Hook-Key", "value_from_env": "HOOK_KEY"}]
            })
        );
        assert_no_changes(&wd, "right after create");
        assert_eq!(
            sql_triggers(&env),
            vec![
                json!(["notify_hasura_post_changed_INSERT"]),
                json!(["notify_hasura_post_changed_UPDATE"])
            ]
        );

        // An insert through GraphQL as alice reaches the webhook with the session.
        let (status, body) = env.post(
            "/v1/graphql",
            json!({"query": "mutation { insert_posts_one(object: {title: \"hi\", author_id: \"alice\"}) { title } }"}),
        );
        assert_eq!(status, 200, "{body}");
        let _ = body;
        let events = hook.wait_for(1);
        assert_eq!(events.len(), 1, "{events:?}");
        let (key, ev) = &events[0];
        assert_eq!(key.as_deref(), Some("k-123"));
        assert_eq!(ev["trigger"], json!({"name": "post_changed"}));
        assert_eq!(ev["table"], json!({"schema": "public", "name": "posts"}));
        assert_eq!(ev["event"]["op"], "INSERT");
        assert_eq!(ev["event"]["data"]["old"], Value::Null);
        assert_eq!(ev["event"]["data"]["new"]["title"], "hi");
        assert_eq!(ev["event"]["session_variables"]["x-hasura-role"], "admin");
        assert_eq!(
            ev["delivery_info"],
            json!({"max_retries": 2, "current_retry": 0})
        );

        // Only a change of a listed column fires an update event.
        env.sql("UPDATE public.posts SET title = 'renamed'");
        env.sql("UPDATE public.posts SET status = 'published'");
        let events = hook.wait_for(2);
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[1].1["event"]["op"], "UPDATE");
        assert_eq!(events[1].1["event"]["data"]["new"]["status"], "published");

        // In place: every update now fires; no delete of the trigger.
        env.reset_counters();
        wd.write("main.tf", &config(&hook.url, r#"["*"]"#, 2));
        assert_changes(&wd, "after widening update", &["updated in-place"]);
        wd.apply();
        assert_eq!(env.ops("metadata:pg_delete_event_trigger"), 0);
        assert_eq!(
            entry(&env).unwrap()["definition"]["update"],
            json!({"columns": "*"})
        );
        assert_no_changes(&wd, "after the update");

        // Changed out of band: shown precisely, then put back.
        env.meta(json!({"type": "pg_create_event_trigger", "args": {
            "table": "posts", "name": "post_changed", "insert": {"columns": "*"},
            "webhook_from_env": "POSTS_HOOK", "replace": true,
            "headers": [{"name": "X-Hook-Key", "value_from_env": "HOOK_KEY"}],
            "retry_conf": {"num_retries": 5, "interval_sec": 10, "timeout_sec": 60}
        }}));
        assert_changes(
            &wd,
            "after an out-of-band change",
            &["num_retries", "update"],
        );
        wd.apply();
        assert_no_changes(&wd, "after putting it back");

        // Deleted out of band: created again.
        env.meta(json!({"type": "pg_delete_event_trigger", "args": {"name": "post_changed"}}));
        assert_changes(&wd, "after an out-of-band delete", &["will be created"]);
        wd.apply();

        // Import by <source>.<name> and by <name>.
        for id in ["default.post_changed", "post_changed"] {
            wd.tf(&["state", "rm", "hasura_event_trigger.post_changed"])
                .assert_success("state rm");
            wd.import("hasura_event_trigger.post_changed", id)
                .assert_success("import");
            assert_no_changes(&wd, &format!("after import by {id}"));
        }

        wd.destroy();
        assert!(entry(&env).is_none());
        assert_eq!(
            sql_triggers(&env),
            Vec::<Value>::new(),
            "the SQL triggers are dropped with it"
        );
    });
}

#[test]
fn bad_input_is_refused_at_validate() {
    let cases = [
        ("name = \"has space\"", "name", "name"),
        (
            "name = \"a_name_that_is_far_too_long_for_hasura_triggers\"",
            "42",
            "name",
        ),
        (
            "webhook = \"https://x.example.com\"",
            "exactly one",
            "webhook",
        ),
        ("update = []", "update", "update"),
        ("update = [\"*\", \"status\"]", "alone", "update"),
        ("insert = false", "never fires", "insert"),
        (
            "webhook_from_env = \"not a name\"",
            "webhook_from_env",
            "webhook_from_env",
        ),
    ];
    let defaults = [
        "table = \"posts\"",
        "name = \"t\"",
        "insert = true",
        "webhook_from_env = \"HOOK\"",
    ];
    hasura_refusals(
        &cases,
        |lines| resource_tf("hasura_event_trigger", "t", &defaults, lines),
        |_, _| {},
    );
}

/// Every call received, whatever its method and path: (method, path and query, headers, body).
type Calls = Arc<Mutex<Vec<(String, String, axum::http::HeaderMap, Vec<u8>)>>>;

fn raw_hook(env: &Env) -> (String, Calls) {
    let calls: Calls = Arc::default();
    let app = Router::new()
        .fallback(
            |State(calls): State<Calls>, req: axum::extract::Request| async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                calls.lock().unwrap().push((
                    parts.method.to_string(),
                    parts.uri.to_string(),
                    parts.headers,
                    bytes.to_vec(),
                ));
                "ok"
            },
        )
        .with_state(calls.clone());
    let listener = env
        .rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    env.rt
        .spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

/// A trigger with `transform` and `cleanup` blocks (HCL, may be empty).
fn transformed(hook: &str, transform: &str, cleanup: &str) -> String {
    format!(
        r#"{req}
provider "hasura" {{}}

resource "hasura_event_trigger" "t" {{
  table   = "posts"
  name    = "post_sync"
  insert  = true
  webhook = "{hook}"
  headers = {{ "X-Drop" = "secret-1" }}
  {transform}
  {cleanup}
}}
"#,
        req = required_providers()
    )
}

const TRANSFORM_JSON: &str = r#"request_transform = {
    method         = "PUT"
    url            = "{{$base_url}}/posts/{{$body.event.data.new.id}}"
    query_params   = { title = "{{$body.event.data.new.title}}" }
    add_headers    = { "X-Op" = "{{$body.event.op}}" }
    remove_headers = ["x-drop"]
    body_action    = "transform"
    body_template  = "{\"id\": {{$body.event.data.new.id}}, \"title\": \"{{$body.event.data.new.title}}\"}"
  }"#;

const TRANSFORM_FORM: &str = r#"request_transform = {
    method             = "PUT"
    url                = "{{$base_url}}/posts/{{$body.event.data.new.id}}"
    add_headers        = { "X-Op" = "{{$body.event.op}}" }
    remove_headers     = ["x-drop"]
    body_action        = "x_www_form_urlencoded"
    body_form_template = { title = "{{$body.event.data.new.title}}" }
  }"#;

const CLEANUP: &str = r#"cleanup_config = {
    schedule         = "0 3 * * *"
    clear_older_than = 168
  }"#;

const CLEANUP_PAUSED: &str = r#"cleanup_config = {
    schedule         = "30  02 * * *"
    clear_older_than = 24
    batch_size       = 500
    paused           = true
  }"#;

#[test]
fn request_transform_and_cleanup_config() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.posts (id serial PRIMARY KEY, title text)");
        env.meta(json!({"type": "pg_track_table", "args": {"table": "posts"}}));
        let (hook, calls) = raw_hook(&env);
        let wd = env.workdir(tf);
        // State written before these attributes existed plans nothing.
        wd.write("main.tf", &transformed(&hook, "", ""));
        wd.apply();
        let path = wd.path().join("terraform.tfstate");
        let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let attrs = state["resources"][0]["instances"][0]["attributes"]
            .as_object_mut()
            .unwrap();
        assert!(attrs.remove("request_transform").is_some());
        assert!(attrs.remove("cleanup_config").is_some());
        std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
        assert_no_changes(&wd, "with state from before request_transform");

        wd.write("main.tf", &transformed(&hook, TRANSFORM_JSON, CLEANUP));
        wd.apply();
        let e = entry(&env).unwrap();
        assert_eq!(
            e["request_transform"],
            json!({
                "version": 2, "template_engine": "Kriti", "method": "PUT",
                "url": "{{$base_url}}/posts/{{$body.event.data.new.id}}",
                "query_params": {"title": "{{$body.event.data.new.title}}"},
                "request_headers": {"add_headers": {"X-Op": "{{$body.event.op}}"}, "remove_headers": ["x-drop"]},
                "body": {"action": "transform", "template": "{\"id\": {{$body.event.data.new.id}}, \"title\": \"{{$body.event.data.new.title}}\"}"}
            })
        );
        assert_eq!(
            e["cleanup_config"],
            json!({"schedule": "0 3 * * *", "batch_size": 10000, "clear_older_than": 168,
                   "timeout": 60, "clean_invocation_logs": false, "paused": false})
        );
        assert_no_changes(&wd, "right after create");

        // The delivery is transformed: method, url, query, headers and body.
        env.sql("INSERT INTO public.posts (title) VALUES ('hi there')");
        let start = Instant::now();
        while calls.lock().unwrap().is_empty() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(100));
        }
        {
            let seen = calls.lock().unwrap();
            assert_eq!(seen.len(), 1, "one delivery");
            let (method, uri, headers, body) = &seen[0];
            assert_eq!(method, "PUT");
            assert_eq!(uri, "/posts/1?title=hi+there");
            assert_eq!(headers["x-op"], "INSERT");
            assert!(headers.get("x-drop").is_none(), "{headers:?}");
            let body: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(body, json!({"id": 1, "title": "hi there"}));
        }

        // In place: a form body, a paused cleanup (schedule spelled with two spaces and a
        // leading zero, which Hasura's parser refuses and rewrites: the provider sends
        // the rewritten form).
        env.reset_counters();
        wd.write(
            "main.tf",
            &transformed(&hook, TRANSFORM_FORM, CLEANUP_PAUSED),
        );
        assert_changes(
            &wd,
            "after changing the transform and cleanup",
            &["updated in-place", "x_www_form_urlencoded", "paused"],
        );
        wd.apply();
        assert_eq!(env.ops("metadata:pg_delete_event_trigger"), 0);
        let e = entry(&env).unwrap();
        assert_eq!(
            e["request_transform"]["body"],
            json!({"action": "x_www_form_urlencoded", "form_template": {"title": "{{$body.event.data.new.title}}"}})
        );
        assert_eq!(e["cleanup_config"]["schedule"], "30 2 * * *");
        assert_eq!(e["cleanup_config"]["paused"], true);
        assert_no_changes(&wd, "after the update");
        env.sql("INSERT INTO public.posts (title) VALUES ('form')");
        let start = Instant::now();
        while calls.lock().unwrap().len() < 2 && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(100));
        }
        {
            let seen = calls.lock().unwrap();
            let (_, uri, headers, body) = &seen[1];
            assert_eq!(uri, "/posts/2");
            assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
            assert_eq!(String::from_utf8_lossy(body), "title=form");
        }

        // Changed out of band (transform gone, cleanup resumed): shown, then put back.
        let mut e = entry(&env).unwrap();
        e.as_object_mut().unwrap().remove("request_transform");
        e["cleanup_config"]["paused"] = json!(false);
        let mut args = json!({"table": "posts", "name": "post_sync", "replace": true,
            "insert": {"columns": "*"}, "webhook": hook,
            "headers": e["headers"], "cleanup_config": e["cleanup_config"]});
        args["retry_conf"] = e["retry_conf"].clone();
        env.meta(json!({"type": "pg_create_event_trigger", "args": args}));
        assert_changes(
            &wd,
            "after an out-of-band change",
            &["request_transform", "paused"],
        );
        wd.apply();
        assert!(entry(&env).unwrap().get("request_transform").is_some());
        assert_no_changes(&wd, "after putting it back");

        // Import: both come back as written.
        wd.tf(&["state", "rm", "hasura_event_trigger.t"])
            .assert_success("state rm");
        wd.import("hasura_event_trigger.t", "post_sync")
            .assert_success("import");
        assert_no_changes(&wd, "after import");

        // Removed from the configuration: removed from Hasura, in place.
        wd.write("main.tf", &transformed(&hook, "", ""));
        assert_changes(&wd, "after removing both", &["updated in-place"]);
        wd.apply();
        let e = entry(&env).unwrap();
        assert!(e.get("request_transform").is_none(), "{e}");
        assert!(e.get("cleanup_config").is_none(), "{e}");
        assert_no_changes(&wd, "after removing both");

        wd.destroy();
        assert!(entry(&env).is_none());
    });
}

#[test]
fn bad_transform_and_cleanup_are_refused_at_validate() {
    // Terraform points a diagnostic inside a nested attribute at the attribute.
    let cases = [
        (
            r#"request_transform = { body_template = "{}" }"#,
            "body_template",
            "request_transform",
        ),
        (
            r#"request_transform = { body_action = "x_www_form_urlencoded" }"#,
            "body_form_template",
            "request_transform",
        ),
        (
            r#"request_transform = { method = "TRACE" }"#,
            "method",
            "request_transform",
        ),
        (
            r#"request_transform = { url = "{{$base_url/x" }"#,
            "Invalid template",
            "request_transform",
        ),
        (
            r#"request_transform = { query_params = { a = "1" }, query_params_template = "a=1" }"#,
            "query_params_template",
            "request_transform",
        ),
        (
            r#"cleanup_config = { schedule = "0 3 * * *" }"#,
            "clear_older_than",
            "cleanup_config",
        ),
        (
            r#"cleanup_config = { schedule = "*/5,30 * * * *", clear_older_than = 1 }"#,
            "Invalid cron schedule",
            "cleanup_config",
        ),
        (
            r#"cleanup_config = { schedule = "0 3 * * *", clear_older_than = 1, batch_size = 0 }"#,
            "batch_size",
            "cleanup_config",
        ),
    ];
    hasura_refusals(
        &cases,
        |line| transformed("https://hooks.example.com/e", line, ""),
        |_, _| {},
    );
}
