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
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

/// A local webhook recording every event body and its `X-Hook-Key` header.
struct Hook {
    url: String,
    seen: Arc<Mutex<Vec<(Option<String>, Value)>>>,
}

impl Hook {
    fn start(env: &Env) -> Hook {
        let seen: Arc<Mutex<Vec<(Option<String>, Value)>>> = Arc::default();
        let app = Router::new()
            .route(
                "/events",
                post(
                    |State(seen): State<Arc<Mutex<Vec<(Option<String>, Value)>>>>,
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
            "retry_conf": {"num_retries": 5}
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
        ("name = \"has space\"", "name"),
        (
            "name = \"a_name_that_is_far_too_long_for_hasura_triggers\"",
            "42",
        ),
        ("webhook = \"https://x.example.com\"", "exactly one"),
        ("update = []", "update"),
        ("update = [\"*\", \"status\"]", "alone"),
        ("insert = false", "never fires"),
        ("webhook_from_env = \"not a name\"", "webhook_from_env"),
    ];
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        for (line, needle) in cases {
            let key = line.split_whitespace().next().unwrap();
            let mut attrs: Vec<String> = [
                "table = \"posts\"",
                "name = \"t\"",
                "insert = true",
                "webhook_from_env = \"HOOK\"",
            ]
            .iter()
            .filter(|l| !l.starts_with(&format!("{key} ")))
            .map(|l| l.to_string())
            .collect();
            attrs.push(line.to_string());
            wd.write(
                "main.tf",
                &format!(
                    "{}\nprovider \"hasura\" {{}}\nresource \"hasura_event_trigger\" \"t\" {{\n  {}\n}}\n",
                    required_providers(),
                    attrs.join("\n  ")
                ),
            );
            wd.validate().assert_failure_contains(needle);
        }
        env.assert_nothing_written("after validate-only runs");
    });
}
