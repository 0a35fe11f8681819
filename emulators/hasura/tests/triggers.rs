//! Cron and event triggers answer as graphql-engine does: the codes and messages of
//! `Hasura/RQL/DDL/ScheduledTrigger.hs` and `Hasura/RQL/DDL/EventTrigger.hs`, the export
//! shape of `Metadata/Serialization.hs`, and env vars the engine lacks refused as the new
//! object's inconsistency (`invalid-configuration`), with nothing stored.

mod support;

use serde_json::{json, Value};

use support::Emu as Harness;

fn cron(name: &str) -> Value {
    json!({"name": name, "webhook": "https://jobs.example.com/run", "schedule": "*/5 * * * *", "include_in_metadata": true})
}

#[tokio::test]
async fn cron_triggers_are_refused_and_stored_as_hasura_does() {
    let h = Harness::start().await;
    assert_eq!(h.meta("create_cron_trigger", cron("a")).await.0, 200);
    let (s, v) = h.meta("create_cron_trigger", cron("a")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("already-exists")),
        "{v}"
    );
    assert_eq!(v["error"], "cron trigger with name: a already exists");

    let mut missing = cron("b");
    missing["replace"] = json!(true);
    let (s, v) = h.meta("create_cron_trigger", missing).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");

    // `parseCronSchedule`'s refusals, in attoparsec's words: a list cannot
    // hold a step, a step lies in the field's range, one space between fields.
    for (schedule, error) in [
        ("*/5,30 * * * *", "' ': Failed reading: satisfy"),
        ("*/60 * * * *", "Failed reading: minutes out of range"),
        ("0  9 * * *", "Failed reading: takeWhile1"),
    ] {
        let mut bad = cron("c");
        bad["schedule"] = json!(schedule);
        let (s, v) = h.meta("create_cron_trigger", bad).await;
        assert_eq!(
            (s, v["code"].as_str(), v["path"].as_str()),
            (400, Some("parse-failed"), Some("$.args.schedule")),
            "{v}"
        );
        let message = v["error"].as_str().unwrap();
        assert!(
            message.ends_with(&format!("Internal error message: {error}")),
            "{schedule}: {v}"
        );
    }
    // Stored as `serializeCronSchedule` writes it.
    for (name, given, stored) in [
        ("f", "@daily", "0 0 * * *"),
        ("g", "00 9 * * MON-FRI", "0 9 * * 1-5"),
        ("h", "5/15 * * * 7", "5/15 * * * 7"),
    ] {
        let mut t = cron(name);
        t["schedule"] = json!(given);
        let (s, v) = h.meta("create_cron_trigger", t).await;
        assert_eq!(s, 200, "{given}: {v}");
        let (_, got) = h.meta("get_cron_triggers", json!({})).await;
        let list = got["cron_triggers"].as_array().unwrap();
        let t = list.iter().find(|t| t["name"] == name).unwrap();
        assert_eq!(t["schedule"], stored, "{given}");
        assert_eq!(
            h.meta("delete_cron_trigger", json!({"name": name})).await.0,
            200
        );
    }

    let mut env = cron("d");
    env["webhook"] = json!("{{NOT_SET}}/x");
    env["headers"] = json!([{"name": "A", "value_from_env": "ALSO_NOT_SET"}]);
    let (s, v) = h.meta("create_cron_trigger", env).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("invalid-configuration")),
        "{v}"
    );
    assert_eq!(
        v["error"],
        "Inconsistent object: Value for environment variables not found: NOT_SET"
    );

    // Defaults are left out of the export; a changed retry_conf is shown whole.
    let mut retried = cron("e");
    retried["retry_conf"] = json!({"num_retries": 2});
    assert_eq!(h.meta("create_cron_trigger", retried).await.0, 200);
    let md = h.export().await;
    let list = md["cron_triggers"].as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "e"], "sorted, nothing of the refused ones");
    assert!(list[0].get("retry_conf").is_none() && list[0].get("headers").is_none());
    assert_eq!(
        list[1]["retry_conf"],
        json!({"num_retries": 2, "retry_interval_seconds": 10, "timeout_seconds": 60, "tolerance_seconds": 21600})
    );

    let (s, v) = h.meta("delete_cron_trigger", json!({"name": "zzz"})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");
    assert_eq!(
        h.meta("delete_cron_trigger", json!({"name": "a"})).await.0,
        200
    );
    let (_, got) = h.meta("get_cron_triggers", json!({})).await;
    assert_eq!(got["cron_triggers"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn event_triggers_are_refused_and_stored_as_hasura_does() {
    let h = Harness::start().await;
    let (s, v) = h
        .post("/v2/query", json!({"type": "run_sql", "args": {"sql": "CREATE TABLE posts (id int PRIMARY KEY, title text)"}}))
        .await;
    assert_eq!(s, 200, "{v}");
    let et = |name: &str| json!({"table": "posts", "name": name, "insert": {"columns": "*"}, "webhook": "https://hooks.example.com/e"});

    // Untracked table.
    let (s, v) = h.meta("pg_create_event_trigger", et("t1")).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");
    assert_eq!(
        h.meta("pg_track_table", json!({"table": "posts"})).await.0,
        200
    );

    for (args, code, msg) in [
        (
            json!({"table": "posts", "name": "bad name", "insert": {"columns": "*"}, "webhook": "https://x"}),
            "parse-failed",
            "only alphanumeric and underscore and hyphens allowed for name",
        ),
        // `^[A-Za-z]+[A-Za-z0-9_\-]*$`: a letter first, ASCII only.
        (
            json!({"table": "posts", "name": "_audit", "insert": {"columns": "*"}, "webhook": "https://x"}),
            "parse-failed",
            "only alphanumeric and underscore and hyphens allowed for name",
        ),
        (
            json!({"table": "posts", "name": "1st", "insert": {"columns": "*"}, "webhook": "https://x"}),
            "parse-failed",
            "only alphanumeric and underscore and hyphens allowed for name",
        ),
        (
            json!({"table": "posts", "name": "été", "insert": {"columns": "*"}, "webhook": "https://x"}),
            "parse-failed",
            "only alphanumeric and underscore and hyphens allowed for name",
        ),
        // `RetryConf`: `num_retries` and `interval_sec` are required.
        (
            json!({"table": "posts", "name": "n", "insert": {"columns": "*"}, "webhook": "https://x", "retry_conf": {}}),
            "parse-failed",
            "key \"num_retries\" not found",
        ),
        (
            json!({"table": "posts", "name": "n", "insert": {"columns": "*"}, "webhook": "https://x", "retry_conf": {"num_retries": 1}}),
            "parse-failed",
            "key \"interval_sec\" not found",
        ),
        (
            json!({"table": "posts", "name": "x".repeat(43), "insert": {"columns": "*"}, "webhook": "https://x"}),
            "parse-failed",
            "event trigger name can be at most 42 characters",
        ),
        (
            json!({"table": "posts", "name": "n", "webhook": "https://x"}),
            "parse-failed",
            "atleast one amongst insert/update/delete/enable_manual spec must be provided",
        ),
        (
            json!({"table": "posts", "name": "n", "insert": {"columns": "*"}}),
            "parse-failed",
            "must provide webhook or webhook_from_env",
        ),
        (
            json!({"table": "posts", "name": "n", "update": {"columns": []}, "webhook": "https://x"}),
            "parse-failed",
            "found empty column specification",
        ),
        (
            json!({"table": "posts", "name": "n", "update": {"columns": ["nope"]}, "webhook": "https://x"}),
            "not-exists",
            "column \"nope\" does not exist",
        ),
        (
            json!({"table": "posts", "name": "n", "insert": {"columns": "*"}, "webhook_from_env": "NOT_SET"}),
            "invalid-configuration",
            "Inconsistent object: environment variable 'NOT_SET' not set",
        ),
    ] {
        let (s, v) = h.meta("pg_create_event_trigger", args).await;
        assert_eq!((s, v["code"].as_str()), (400, Some(code)), "{v}");
        assert!(v["error"].as_str().unwrap().contains(msg), "{msg} in {v}");
    }

    assert_eq!(h.meta("pg_create_event_trigger", et("t1")).await.0, 200);
    let (s, v) = h.meta("pg_create_event_trigger", et("t1")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("already-exists")),
        "{v}"
    );
    assert_eq!(v["error"], "Event trigger with name \"t1\" already exists");
    let md = h.export().await;
    assert_eq!(
        md["sources"][0]["tables"][0]["event_triggers"],
        json!([{"name": "t1", "definition": {"enable_manual": false, "insert": {"columns": "*"}},
                "retry_conf": {"num_retries": 0, "interval_sec": 10, "timeout_sec": 60},
                "webhook": "https://hooks.example.com/e"}])
    );
    // The SQL trigger exists; untracking the table removes both.
    let (_, v) = h
        .post("/v2/query", json!({"type": "run_sql", "args": {"sql": "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'notify_hasura_%'"}}))
        .await;
    assert_eq!(
        v["result"],
        json!([["tgname"], ["notify_hasura_t1_INSERT"]])
    );
    let (s, v) = h
        .meta("pg_delete_event_trigger", json!({"name": "nope"}))
        .await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");
    assert_eq!(
        h.meta(
            "pg_untrack_table",
            json!({"table": "posts", "cascade": true})
        )
        .await
        .0,
        200
    );
    let (_, v) = h
        .post("/v2/query", json!({"type": "run_sql", "args": {"sql": "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'notify_hasura_%'"}}))
        .await;
    assert_eq!(v["result"], json!([["tgname"]]));
}

/// A webhook that fails is called again after `interval_sec`, with `current_retry`
/// counting up, until it answers 2xx or `num_retries` is spent.
#[tokio::test]
async fn failed_deliveries_are_retried_until_the_budget_is_spent() {
    use std::sync::{Arc, Mutex};
    let h = Harness::start().await;
    let calls: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = axum::Router::new()
        .route(
            "/fail-twice",
            axum::routing::post(
                |axum::extract::State(calls): axum::extract::State<Arc<Mutex<Vec<Value>>>>,
                 axum::Json(body): axum::Json<Value>| async move {
                    let mut c = calls.lock().unwrap();
                    c.push(body);
                    if c.len() <= 2 {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::OK
                    }
                },
            ),
        )
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fail-twice", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    h.post(
        "/v2/query",
        json!({"type": "run_sql", "args": {"sql": "CREATE TABLE jobs (id int PRIMARY KEY)"}}),
    )
    .await;
    assert_eq!(
        h.meta("pg_track_table", json!({"table": "jobs"})).await.0,
        200
    );
    let (s, v) = h
        .meta(
            "pg_create_event_trigger",
            json!({"table": "jobs", "name": "job_added",
            "insert": {"columns": "*"}, "webhook": url,
            "retry_conf": {"num_retries": 3, "interval_sec": 0}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    h.post(
        "/v2/query",
        json!({"type": "run_sql", "args": {"sql": "INSERT INTO jobs VALUES (1)"}}),
    )
    .await;
    let start = std::time::Instant::now();
    while calls.lock().unwrap().len() < 3 && start.elapsed().as_secs() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let calls = calls.lock().unwrap().clone();
    let retries: Vec<i64> = calls
        .iter()
        .map(|c| c["delivery_info"]["current_retry"].as_i64().unwrap())
        .collect();
    assert_eq!(
        retries,
        [0, 1, 2],
        "delivered on the third attempt, then no more"
    );
    assert!(
        calls.iter().all(|c| c["id"] == calls[0]["id"]),
        "one event, retried"
    );
    assert_eq!(calls[0]["delivery_info"]["max_retries"], 3);
}

#[tokio::test]
async fn request_transform_and_cleanup_config_are_parsed_and_stored_as_hasura_does() {
    let h = Harness::start().await;
    let (s, v) = h
        .post("/v2/query", json!({"type": "run_sql", "args": {"sql": "CREATE TABLE posts (id int PRIMARY KEY, title text)"}}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        h.meta("pg_track_table", json!({"table": "posts"})).await.0,
        200
    );
    let et = |extra: Value| {
        let mut a = json!({"table": "posts", "name": "t", "insert": {"columns": "*"}, "webhook": "https://hooks.example.com/e"});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    for (extra, message) in [
        (
            json!({"request_transform": {"version": 2, "body": {"action": "rewrite"}}}),
            "invalid transform action",
        ),
        (
            json!({"request_transform": {"version": 2, "body": {"action": "transform"}}}),
            "key \"template\" not found",
        ),
        (
            json!({"request_transform": {"query_params": 1}}),
            "Invalid query parameter",
        ),
        (
            json!({"cleanup_config": {"schedule": "0 3 * * *"}}),
            "key \"clear_older_than\" not found",
        ),
        (
            json!({"cleanup_config": {"clear_older_than": 1}}),
            "key \"schedule\" not found",
        ),
        (
            json!({"cleanup_config": {"schedule": "*/5,30 * * * *", "clear_older_than": 1}}),
            "' ': Failed reading: satisfy",
        ),
        (
            json!({"cleanup_config": {"schedule": "* * * * 8", "clear_older_than": 1}}),
            "Failed reading: day of week out of range",
        ),
    ] {
        let (s, v) = h.meta("pg_create_event_trigger", et(extra.clone())).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("parse-failed")),
            "{extra}: {v}"
        );
        assert!(
            v["error"].as_str().unwrap().contains(message),
            "{extra}: {v}"
        );
    }

    // Version 1 (the default) keeps its bare body template; both are stored
    // with every field spelled out, after `headers`.
    let (s, v) = h
        .meta(
            "pg_create_event_trigger",
            et(json!({
                "request_transform": {"url": "{{$base_url}}/x", "body": "{{$body.event.data.new}}",
                                      "request_headers": {"remove_headers": ["X-A"]}},
                "cleanup_config": {"schedule": "00 3 * * *", "clear_older_than": 24, "paused": true}
            })),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let x = h.export().await;
    let t = &x["sources"][0]["tables"][0]["event_triggers"][0];
    assert_eq!(
        t["request_transform"],
        json!({"version": 1, "template_engine": "Kriti", "url": "{{$base_url}}/x",
               "request_headers": {"add_headers": {}, "remove_headers": ["X-A"]},
               "body": "{{$body.event.data.new}}"})
    );
    assert_eq!(
        t["cleanup_config"],
        json!({"schedule": "0 3 * * *", "batch_size": 10000, "clear_older_than": 24,
               "timeout": 60, "clean_invocation_logs": false, "paused": true})
    );
    let keys: Vec<&String> = t.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "definition",
            "retry_conf",
            "webhook",
            "request_transform",
            "cleanup_config"
        ]
    );
}
