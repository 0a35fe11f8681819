//! A second source is a second real database: `pg_add_source` connects to it,
//! `run_sql` with `source` runs there, and tracking, permissions and GraphQL
//! read it. Refusals as graphql-engine's `Hasura/RQL/DDL/Schema/Source.hs`
//! answers them.

mod support;

use serde_json::{json, Value};

use support::Emu;

type Harness = Emu;

impl Emu {
    /// A new database in the test's cluster (CREATE DATABASE cannot run in a
    /// transaction: `no_transaction`), and its URL.
    async fn create_database(&self, name: &str) -> String {
        let (s, v) = self
            .post(
                "/v2/query",
                json!({"type": "run_sql", "args": {"sql": format!("CREATE DATABASE {name}"), "no_transaction": true}}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.pg.port())
    }

    /// A new database `db` added as the source `second`; its URL.
    async fn add_second_source(&self, db: &str) -> String {
        let url = self.create_database(db).await;
        let (s, v) = self
            .meta(
                "pg_add_source",
                json!({"name": "second", "configuration": {"connection_info": {"database_url": url}}}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        url
    }

    async fn source(&self, name: &str) -> Value {
        let export = self.emu.metadata().await;
        export["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

#[tokio::test]
async fn a_second_source_is_a_second_database() {
    let h = Harness::start().await;
    let url = h.add_second_source("second").await;
    // Hasura's export: defaults written out, no pool settings unless given.
    assert_eq!(
        h.source("second").await,
        json!({"name": "second", "kind": "postgres", "tables": [], "configuration": {"connection_info": {
            "database_url": url, "isolation_level": "read-committed", "use_prepared_statements": false}}})
    );

    let (s, v) = h
        .meta(
            "pg_add_source",
            json!({"name": "second", "configuration": {"connection_info": {"database_url": url}}}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("already-exists")),
        "{v}"
    );
    assert_eq!(v["error"], "source with name \"second\" already exists");

    // replace_configuration updates in place; connection_lifetime absent means 600.
    let (s, v) = h
        .meta(
            "pg_add_source",
            json!({"name": "second", "replace_configuration": true, "configuration": {"connection_info": {
                "database_url": url, "isolation_level": "serializable",
                "pool_settings": {"max_connections": 7}}}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        h.source("second").await["configuration"]["connection_info"]["pool_settings"],
        json!({"connection_lifetime": 600, "max_connections": 7})
    );

    // The table lives in the second database only.
    let (s, v) = h
        .sql_on(
            "second",
            "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL); INSERT INTO notes (body) VALUES ('in second')",
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = h
        .sql_on("default", "SELECT to_regclass('public.notes') IS NULL")
        .await;
    assert_eq!(v["result"][1][0], "t", "{v}");

    let (s, v) = h
        .meta(
            "pg_track_table",
            json!({"source": "second", "table": "notes"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // Tracking the same name in the default source fails: no such table there.
    let (s, v) = h.meta("pg_track_table", json!({"table": "notes"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("invalid-configuration")),
        "{v}"
    );
    let (s, v) = h
        .meta(
            "pg_create_select_permission",
            json!({"source": "second", "table": "notes", "role": "user", "permission": {"columns": ["body"], "filter": {}}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    let (_, v) = h
        .post("/v1/graphql", json!({"query": "{ notes { body } }"}))
        .await;
    assert_eq!(v, json!({"data": {"notes": [{"body": "in second"}]}}));

    // Root field customization: a prefix, then a namespace.
    for (customization, query, want) in [
        (
            json!({"root_fields": {"prefix": "s2_"}}),
            "{ s2_notes { body } }",
            json!({"data": {"s2_notes": [{"body": "in second"}]}}),
        ),
        (
            json!({"root_fields": {"namespace": "second_db"}}),
            "{ second_db { notes { body } } }",
            json!({"data": {"second_db": {"notes": [{"body": "in second"}]}}}),
        ),
    ] {
        let (s, v) = h
            .meta(
                "pg_add_source",
                json!({"name": "second", "replace_configuration": true, "customization": customization,
                       "configuration": {"connection_info": {"database_url": url}}}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(h.source("second").await["customization"], customization);
        let (_, v) = h.post("/v1/graphql", json!({"query": query})).await;
        assert_eq!(v, want);
    }

    // DDL on the second source reconciles its tables, not the default's.
    let (s, v) = h.sql_on("second", "DROP TABLE notes").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(h.source("second").await["tables"], json!([]));

    let (s, v) = h.meta("pg_drop_source", json!({"name": "second"})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.meta("pg_drop_source", json!({"name": "second"})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");
    assert_eq!(v["error"], "source with name \"second\" does not exist");
    let (s, v) = h.sql_on("second", "SELECT 1").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");
}

#[tokio::test]
async fn unresolvable_or_unreachable_sources_are_refused_and_not_stored() {
    let h = Harness::start().await;
    let (s, v) = h
        .meta(
            "pg_add_source",
            json!({"name": "envy", "configuration": {"connection_info": {"database_url": {"from_env": "NOT_SET"}}}}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str(), v["error"].as_str()),
        (
            400,
            Some("invalid-configuration"),
            Some("Inconsistent object: environment variable 'NOT_SET' not set")
        ),
        "{v}"
    );
    assert_eq!(v["internal"][0]["type"], "source", "{v}");
    assert_eq!(h.source("envy").await, Value::Null);

    // Nothing listens on port 1; the password never appears in the answer.
    let (s, v) = h
        .meta(
            "pg_add_source",
            json!({"name": "gone", "configuration": {"connection_info": {"database_url": "postgres://u:hunter2-secret@127.0.0.1:1/x"}}}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str(), v["error"].as_str()),
        (
            400,
            Some("invalid-configuration"),
            Some("Inconsistent object: database query error")
        ),
        "{v}"
    );
    assert!(!v.to_string().contains("hunter2"), "{v}");
    assert_eq!(h.source("gone").await, Value::Null);

    // A read replica's env var is resolved with the rest of the configuration.
    let (s, v) = h
        .meta(
            "pg_add_source",
            json!({"name": "replicated", "configuration": {
                "connection_info": {"database_url": {"from_env": "HASURA_GRAPHQL_DATABASE_URL"}},
                "read_replicas": [{"database_url": {"from_env": "REPLICA_NOT_SET"}}]}}),
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (
            400,
            Some("Inconsistent object: environment variable 'REPLICA_NOT_SET' not set")
        ),
        "{v}"
    );
    assert_eq!(h.source("replicated").await, Value::Null);

    for (args, path) in [
        (
            json!({"name": "", "configuration": {"connection_info": {"database_url": "x"}}}),
            "$.args.name",
        ),
        (
            json!({"name": "a", "configuration": {"connection_info": {"database_url": 5}}}),
            "$.args.configuration.connection_info.database_url",
        ),
        (
            json!({"name": "a", "configuration": {"connection_info": {"database_url": "x", "isolation_level": "dirty"}}}),
            "$.args.configuration.connection_info.isolation_level",
        ),
        (
            json!({"name": "a", "configuration": {}}),
            "$.args.configuration",
        ),
        (
            json!({"name": "a", "configuration": {"connection_info": {"database_url": "x"}, "read_replicas": []}}),
            "$.args.configuration.read_replicas",
        ),
    ] {
        let (s, v) = h.meta("pg_add_source", args.clone()).await;
        assert_eq!(
            (s, v["code"].as_str(), v["path"].as_str()),
            (400, Some("parse-failed"), Some(path)),
            "{args} -> {v}"
        );
    }
    let (s, v) = h.sql_on("nowhere", "SELECT 1").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");
}

/// Hasura keeps a source's event log and triggers in that source's database:
/// an insert there is delivered, with the source's table in the payload.
#[tokio::test]
async fn event_triggers_fire_on_a_second_source() {
    use std::sync::{Arc, Mutex};
    let h = Harness::start().await;
    h.add_second_source("events_db").await;
    let calls: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(c): axum::extract::State<Arc<Mutex<Vec<Value>>>>,
                 axum::Json(body): axum::Json<Value>| async move {
                    c.lock().unwrap().push(body);
                },
            ),
        )
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (s, v) = h
        .sql_on("second", "CREATE TABLE jobs (id int PRIMARY KEY)")
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h
        .meta(
            "pg_track_table",
            json!({"source": "second", "table": "jobs"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h
        .meta(
            "pg_create_event_trigger",
            json!({"source": "second", "table": "jobs", "name": "job_added",
                   "insert": {"columns": "*"}, "webhook": hook}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.sql_on("second", "INSERT INTO jobs VALUES (7)").await;
    assert_eq!(s, 200, "{v}");
    let start = std::time::Instant::now();
    while calls.lock().unwrap().is_empty() && start.elapsed().as_secs() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["event"]["data"]["new"], json!({"id": 7}));
    assert_eq!(calls[0]["trigger"]["name"], "job_added");
    // The engine's own database has no trigger on a table of its own name.
    let (_, v) = h
        .sql_on(
            "default",
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'notify_hasura_%'",
        )
        .await;
    assert_eq!(v["result"][1][0], "0", "{v}");
}
