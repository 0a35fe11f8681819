//! Integration tests against a real throwaway PostgreSQL.

use std::time::Duration;

mod support;

use hasura_emulator::{HasuraEmulator, TempPostgres};
use serde_json::{json, Value};

use support::Emu;

type Harness = Emu;

async fn setup() -> Harness {
    Emu::start().await
}

impl Emu {
    async fn rv(&self) -> i64 {
        let (s, v) = self
            .meta_raw(json!({"type": "export_metadata", "version": 2, "args": {}}))
            .await;
        assert_eq!(s, 200, "{v}");
        v["resource_version"].as_i64().expect("resource_version")
    }

    async fn author_table(&self) {
        let (s, v) = self
            .sql_on("default", "CREATE TABLE public.author (id serial PRIMARY KEY, name text NOT NULL, active boolean, bio text);")
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, v) = self
            .meta_raw(
                json!({"type": "pg_track_table", "args": {"source": "default", "table": "author"}}),
            )
            .await;
        assert_eq!((s, v), (200, json!({"message": "success"})));
    }
}

#[tokio::test]
async fn run_sql_result_encoding_and_errors() {
    let h = setup().await;
    let (s, v) = h
        .sql_on(
            "default",
            "CREATE TABLE t (id int, flag boolean, note text, doc jsonb)",
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v, json!({"result_type": "CommandOk", "result": null}));

    let (s, v) = h
        .sql_on("default", "INSERT INTO t VALUES (1, true, NULL, '{\"a\": 1}'), (2, false, 'x', NULL); SELECT id, flag, note, doc FROM t ORDER BY id")
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"result_type": "TuplesOk", "result": [
            ["id", "flag", "note", "doc"],
            ["1", "t", "NULL", "{\"a\": 1}"],
            ["2", "f", "x", "NULL"],
        ]})
    );

    // Zero rows still carry the header.
    let (_, v) = h
        .sql_on("default", "SELECT id AS only_id FROM t WHERE false")
        .await;
    assert_eq!(
        v,
        json!({"result_type": "TuplesOk", "result": [["only_id"]]})
    );

    // A failing statement rolls back the whole request.
    let (s, v) = h
        .sql_on(
            "default",
            "CREATE TABLE rolled_back (id int); SELECT * FROM missing_table",
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["code"], "postgres-error");
    assert_eq!(v["error"], "query execution failed");
    assert_eq!(v["path"], "$");
    assert_eq!(v["internal"]["error"]["status_code"], "42P01");
    assert_eq!(v["internal"]["error"]["exec_status"], "FatalError");
    assert_eq!(
        v["internal"]["error"]["message"],
        "relation \"missing_table\" does not exist"
    );
    assert_eq!(v["internal"]["prepared"], false);
    let (_, v) = h
        .sql_on(
            "default",
            "SELECT count(*) FROM pg_tables WHERE tablename = 'rolled_back'",
        )
        .await;
    assert_eq!(v["result"][1][0], "0");

    // read_only transactions refuse writes.
    let (s, v) = h
        .query(json!({"type": "run_sql", "args": {"sql": "INSERT INTO t VALUES (3)", "read_only": true}}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["internal"]["error"]["status_code"], "25006");

    // bulk on /v2/query returns one result per item.
    let (s, v) = h
        .query(json!({"type": "bulk", "args": [
            {"type": "run_sql", "args": {"sql": "SELECT 1 AS one"}},
            {"type": "run_sql", "args": {"sql": "SELECT 'a' AS letter"}},
        ]}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v[1]["result"], json!([["letter"], ["a"]]));
    assert!(h.emu.control.counters()["ops"]["run_sql"].as_u64().unwrap() >= 6);
}

#[tokio::test]
async fn tracking_and_permissions_follow_hasura() {
    let h = setup().await;
    h.author_table().await;

    let (s, v) = h
        .meta_raw(json!({"type": "pg_track_table", "args": {"table": {"schema": "public", "name": "author"}}}))
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"path": "$.args", "error": "view/table already tracked: \"author\"", "code": "already-tracked"})
        )
    );

    let (s, v) = h
        .meta_raw(json!({"type": "pg_track_table", "args": {"table": "nope"}}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["code"], "invalid-configuration");
    assert_eq!(
        v["error"],
        "Inconsistent object: no such table/view exists in source: \"nope\""
    );
    assert_eq!(v["internal"][0]["type"], "table");

    let select = json!({"type": "pg_create_select_permission", "args": {
        "source": "default", "table": "author", "role": "user",
        "permission": {"columns": ["id", "name"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}},
                       "allow_aggregations": false, "computed_fields": [], "limit": 10}
    }});
    let (s, v) = h.meta_raw(select.clone()).await;
    assert_eq!((s, v), (200, json!({"message": "success"})));

    let (s, v) = h.meta_raw(select).await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"path": "$.args", "error": "select permission already defined on table \"author\" with role \"user\"", "code": "already-exists"})
        )
    );

    let (s, v) = h
        .meta_raw(json!({"type": "pg_create_update_permission", "args": {
            "table": "author", "role": "user",
            "permission": {"columns": ["name", "ghost"], "filter": {}}
        }}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["code"], "invalid-configuration");
    assert_eq!(
        v["error"],
        "Inconsistent object: in table \"author\": in permission for role \"user\": column \"ghost\" does not exist"
    );
    assert_eq!(v["internal"][0]["type"], "update_permission");

    let (s, v) = h
        .meta_raw(json!({"type": "pg_create_delete_permission", "args": {
            "table": "author", "role": "user", "permission": {"filter": {"owner_id": {"_eq": "X-Hasura-User-Id"}}}
        }}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"],
        "Inconsistent object: in table \"author\": in permission for role \"user\": \"owner_id\" does not exist"
    );

    let (s, v) = h
        .meta_raw(json!({"type": "pg_create_select_permission", "args": {
            "table": "ghost_table", "role": "user", "permission": {"columns": "*", "filter": {}}
        }}))
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"path": "$.args", "error": "table \"ghost_table\" does not exist in source: default", "code": "not-exists"})
        )
    );

    let (s, v) = h
        .meta_raw(json!({"type": "pg_create_select_permission", "args": {
            "table": "author", "role": "user2", "permission": {"columns": "*"}
        }}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["code"], "parse-failed");
    assert_eq!(v["path"], "$.args.permission");

    let (s, v) = h
        .meta_raw(json!({"type": "pg_drop_update_permission", "args": {"table": {"name": "author", "schema": "public"}, "role": "user"}}))
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"path": "$.args", "error": "update permission on \"author\" for role \"user\" does not exist", "code": "bad-request"})
        )
    );

    for body in [
        json!({"type": "pg_create_insert_permission", "args": {"table": "author", "role": "user",
            "permission": {"check": {"name": {"_ne": ""}}, "set": {}, "columns": ["name"], "backend_only": false}}}),
        json!({"type": "pg_create_update_permission", "args": {"table": "author", "role": "user",
            "permission": {"columns": ["name", "bio"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}}, "comment": "own rows"}}),
        json!({"type": "pg_create_select_permission", "args": {"table": "author", "role": "anonymous",
            "permission": {"columns": "*", "filter": {}, "query_root_fields": ["select_by_pk", "select"]}}}),
        json!({"type": "pg_set_table_customization", "args": {"table": "author",
            "configuration": {"custom_name": "writers", "column_config": {"bio": {"custom_name": "biography"}}}}}),
    ] {
        let (s, v) = h.meta_raw(body.clone()).await;
        assert_eq!(s, 200, "{body} -> {v}");
    }

    let (s, exported) = h
        .meta_raw(json!({"type": "export_metadata", "args": {}}))
        .await;
    assert_eq!(s, 200);
    let expected_table = json!({
        "table": {"name": "author", "schema": "public"},
        "configuration": {
            "column_config": {"bio": {"custom_name": "biography"}},
            "custom_column_names": {"bio": "biography"},
            "custom_name": "writers",
            "custom_root_fields": {}
        },
        "insert_permissions": [
            {"role": "user", "permission": {"check": {"name": {"_ne": ""}}, "columns": ["name"]}}
        ],
        "select_permissions": [
            {"role": "anonymous", "permission": {"columns": "*", "filter": {}, "query_root_fields": ["select", "select_by_pk"]}},
            {"role": "user", "permission": {"columns": ["id", "name"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}, "limit": 10}}
        ],
        "update_permissions": [
            {"role": "user", "permission": {"columns": ["name", "bio"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}, "check": null}, "comment": "own rows"}
        ]
    });
    assert_eq!(exported["version"], 3);
    assert_eq!(exported["sources"][0]["name"], "default");
    assert_eq!(exported["sources"][0]["kind"], "postgres");
    assert_eq!(exported["sources"][0]["tables"], json!([expected_table]));
    // Key order matters to anyone diffing the text.
    assert_eq!(
        serde_json::to_string(&exported["sources"][0]["tables"][0]).unwrap(),
        serde_json::to_string(&expected_table).unwrap()
    );
    assert_eq!(h.emu.metadata().await, exported);

    let (s, v) = h
        .meta_raw(json!({"type": "pg_set_permission_comment", "args": {"table": "author", "role": "user", "type": "update", "comment": null}}))
        .await;
    assert_eq!(s, 200, "{v}");
    let md = h.emu.metadata().await;
    assert!(md["sources"][0]["tables"][0]["update_permissions"][0]
        .get("comment")
        .is_none());

    let (s, v) = h
        .meta_raw(json!({"type": "pg_untrack_table", "args": {"table": "author", "cascade": true}}))
        .await;
    assert_eq!((s, v), (200, json!({"message": "success"})));
    let (s, v) = h
        .meta_raw(json!({"type": "pg_untrack_table", "args": {"table": "author"}}))
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"path": "$.args", "error": "view/table already untracked: \"author\"", "code": "already-untracked"})
        )
    );
    assert_eq!(h.emu.metadata().await["sources"][0]["tables"], json!([]));
}

#[tokio::test]
async fn resource_version_compare_and_swap() {
    let h = setup().await;
    h.author_table().await;
    let rv = h.rv().await;

    let create = |rv: i64| {
        json!({"type": "pg_create_select_permission", "resource_version": rv, "args": {
            "table": "author", "role": "user", "permission": {"columns": "*", "filter": {}}}})
    };
    let (s, v) = h.meta_raw(create(rv - 1)).await;
    assert_eq!(s, 409);
    assert_eq!(
        v,
        json!({"path": "$", "error": format!("metadata resource version referenced ({}) did not match current version", rv - 1), "code": "conflict"})
    );
    assert_eq!(h.rv().await, rv);
    assert!(h.emu.metadata().await["sources"][0]["tables"][0]
        .get("select_permissions")
        .is_none());

    let (s, _) = h.meta_raw(create(rv)).await;
    assert_eq!(s, 200);
    assert_eq!(h.rv().await, rv + 1);

    // Read-only commands don't bump; reload does.
    h.meta_raw(json!({"type": "get_inconsistent_metadata", "args": {}}))
        .await;
    assert_eq!(h.rv().await, rv + 1);
    let (s, v) = h
        .meta_raw(json!({"type": "reload_metadata", "args": {}}))
        .await;
    assert_eq!(
        (s, v),
        (200, json!({"is_consistent": true, "message": "success"}))
    );
    assert_eq!(h.rv().await, rv + 2);

    // export -> replace(v2) -> export is a fixed point and bumps by one.
    let (_, export) = h
        .meta_raw(json!({"type": "export_metadata", "version": 2, "args": {}}))
        .await;
    let (s, v) = h
        .meta_raw(json!({"type": "replace_metadata", "version": 2, "resource_version": export["resource_version"],
                     "args": {"metadata": export["metadata"]}}))
        .await;
    assert_eq!(
        (s, v),
        (
            200,
            json!({"is_consistent": true, "inconsistent_objects": []})
        )
    );
    let (_, export2) = h
        .meta_raw(json!({"type": "export_metadata", "version": 2, "args": {}}))
        .await;
    assert_eq!(export2["metadata"], export["metadata"]);
    assert_eq!(
        export2["resource_version"].as_i64(),
        export["resource_version"].as_i64().map(|r| r + 1)
    );
    let (s, v) = h
        .meta_raw(json!({"type": "replace_metadata", "version": 2, "resource_version": export["resource_version"],
                     "args": {"metadata": export["metadata"]}}))
        .await;
    assert_eq!((s, v["code"].clone()), (409, json!("conflict")));

    // Inconsistent replace is refused unless allowed.
    let mut bad = export2["metadata"].clone();
    bad["sources"][0]["tables"]
        .as_array_mut()
        .unwrap()
        .push(json!({"table": {"schema": "public", "name": "foobar"}}));
    let (s, v) = h
        .meta_raw(json!({"type": "replace_metadata", "version": 2, "args": {"metadata": bad}}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"], "cannot continue due to inconsistent metadata");
    assert_eq!(v["code"], "unexpected");
    let (s, v) = h
        .meta_raw(json!({"type": "replace_metadata", "version": 2, "args": {"metadata": bad, "allow_inconsistent_metadata": true}}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["is_consistent"], false);
    assert_eq!(
        v["inconsistent_objects"][0],
        json!({"definition": {"name": "foobar", "schema": "public"}, "name": "table foobar in source default",
               "reason": "Inconsistent object: no such table/view exists in source: \"foobar\"", "type": "table"})
    );
}

#[tokio::test]
async fn bulk_is_all_or_nothing_with_one_version_bump() {
    let h = setup().await;
    h.author_table().await;
    let rv = h.rv().await;
    let ok = json!({"type": "pg_create_select_permission", "args": {"table": "author", "role": "user",
        "permission": {"columns": "*", "filter": {}}}});
    let bad = json!({"type": "pg_create_insert_permission", "args": {"table": "author", "role": "user",
        "permission": {"check": {}, "columns": ["nope"]}}});

    let (s, v) = h
        .meta_raw(json!({"type": "bulk", "args": [ok.clone(), bad]}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["path"], "$.args[1].args");
    assert_eq!(v["code"], "invalid-configuration");
    assert_eq!(h.rv().await, rv);
    assert!(h.emu.metadata().await["sources"][0]["tables"][0]
        .get("select_permissions")
        .is_none());

    let good_insert = json!({"type": "pg_create_insert_permission", "args": {"table": "author", "role": "user",
        "permission": {"check": {}, "columns": ["name"]}}});
    let (s, v) = h
        .meta_raw(json!({"type": "bulk", "resource_version": rv, "args": [ok, good_insert]}))
        .await;
    assert_eq!(
        (s, v),
        (200, json!([{"message": "success"}, {"message": "success"}]))
    );
    assert_eq!(h.rv().await, rv + 1);

    // drop + create in one bulk is how a permission is updated.
    let (s, _) = h
        .meta_raw(json!({"type": "bulk", "args": [
            {"type": "pg_drop_select_permission", "args": {"table": "author", "role": "user"}},
            {"type": "pg_create_select_permission", "args": {"table": "author", "role": "user",
                "permission": {"columns": ["id"], "filter": {}}}}
        ]}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(h.rv().await, rv + 2);
    let counters = h.emu.control.counters();
    assert_eq!(counters["ops"]["metadata:bulk"], 3);
}

#[tokio::test]
async fn run_sql_ddl_keeps_metadata_consistent() {
    let h = setup().await;
    h.author_table().await;
    let (s, _) = h
        .meta_raw(json!({"type": "pg_create_select_permission", "args": {"table": "author", "role": "user",
            "permission": {"columns": ["id", "bio"], "filter": {}}}}))
        .await;
    assert_eq!(s, 200);
    let rv = h.rv().await;

    let (s, v) = h
        .sql_on("default", "ALTER TABLE author DROP COLUMN bio")
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"path": "$.args", "error": "cannot drop due to the following dependent objects : permission author.user.select in source \"default\"", "code": "dependency-error"})
        )
    );
    // Rolled back: the column is still there.
    let (_, v) = h
        .sql_on("default", "SELECT count(*) FROM information_schema.columns WHERE table_name = 'author' AND column_name = 'bio'")
        .await;
    assert_eq!(v["result"][1][0], "1");

    let (s, _) = h
        .query(json!({"type": "run_sql", "args": {"sql": "ALTER TABLE author DROP COLUMN bio", "cascade": true}}))
        .await;
    assert_eq!(s, 200);
    assert!(h.emu.metadata().await["sources"][0]["tables"][0]
        .get("select_permissions")
        .is_none());
    assert_eq!(h.rv().await, rv + 1);

    // Dropping a tracked table untracks it.
    let (s, _) = h.sql_on("default", "DROP TABLE author").await;
    assert_eq!(s, 200);
    assert_eq!(h.emu.metadata().await["sources"][0]["tables"], json!([]));
}

#[tokio::test]
async fn metadata_survives_emulator_restart() {
    let h = setup().await;
    h.author_table().await;
    let (s, _) = h
        .meta_raw(json!({"type": "pg_create_select_permission", "args": {"table": "author", "role": "user",
            "permission": {"columns": "*", "filter": {}}}}))
        .await;
    assert_eq!(s, 200);
    let before = h.emu.metadata().await;
    let rv = h.rv().await;
    let Harness { emu, http, pg } = h;
    let cfg = emu.config.clone();
    emu.stop().await;
    let emu = HasuraEmulator::start(cfg).await.expect("restart");
    let h = Harness { emu, http, pg };
    assert_eq!(h.emu.metadata().await, before);
    assert_eq!(h.rv().await, rv);
}

#[tokio::test]
async fn admin_secret_is_enforced() {
    let h = setup().await;
    let body = json!({"type": "export_metadata", "args": {}});
    let (s, v) = h.post_with("/v1/metadata", body.clone(), &[]).await;
    assert_eq!(
        (s, v),
        (
            401,
            json!({"path": "$", "error": "x-hasura-admin-secret/x-hasura-access-key required, but not found", "code": "access-denied"})
        )
    );
    let (s, v) = h
        .post_with("/v1/metadata", body, &[("x-hasura-admin-secret", "wrong")])
        .await;
    assert_eq!(
        (s, v),
        (
            401,
            json!({"path": "$", "error": "invalid x-hasura-admin-secret/x-hasura-access-key", "code": "access-denied"})
        )
    );
    let (s, v) = h
        .post_with(
            "/v2/query",
            json!({"type": "run_sql", "args": {"sql": "select 1"}}),
            &[("x-hasura-admin-secret", "wrong")],
        )
        .await;
    assert_eq!((s, v["code"].clone()), (401, json!("access-denied")));
    let (s, v) = h
        .meta_raw(json!({"type": "no_such_command", "args": {}}))
        .await;
    assert_eq!((s, v["code"].clone()), (400, json!("parse-failed")));
}

#[tokio::test]
async fn cloud_env_vars_with_hash_chain_and_restart() {
    let mut cfg_window = Duration::from_millis(400);
    let h = Emu::start_with(|cfg| cfg.restart_window = cfg_window).await;
    let project = h.emu.config.project_id.clone();
    let tenant = h.emu.config.tenant_id.clone();

    let (s, v) = h
        .cloud(
            "query P($id: uuid!) { projects_by_pk(id: $id) { id tenant { id } } }",
            json!({"id": project}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!({"data": {"projects_by_pk": {"id": project, "tenant": {"id": tenant}}}})
    );

    let get =
        "query MyQuery($tenantId: uuid!) { getTenantEnv(tenantId: $tenantId) { hash envVars } }";
    let (_, v) = h.cloud(get, json!({"tenantId": tenant})).await;
    let hash0 = v["data"]["getTenantEnv"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(hash0.len(), 40);
    assert_eq!(
        v["data"]["getTenantEnv"]["envVars"],
        json!({"environment": {}})
    );

    let update = "mutation U($currentHash: String!, $envs: [UpdateEnvObject!]!, $tenantId: uuid!) { updateTenantEnv(currentHash: $currentHash, envs: $envs, tenantId: $tenantId) { hash envVars } }";
    let (s, v) = h
        .cloud(
            update,
            json!({"tenantId": tenant, "currentHash": hash0, "envs": [{"key": "A", "value": "1"}, {"key": "B", "value": "2"}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let hash1 = v["data"]["updateTenantEnv"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(hash1, hash0);
    assert_eq!(
        v["data"]["updateTenantEnv"]["envVars"]["environment"],
        json!({"A": "1", "B": "2"})
    );

    // Redeploy in progress: not healthy for the restart window, then healthy again.
    let health = format!("{}/healthz", h.emu.endpoint());
    assert_eq!(h.http.get(&health).send().await.unwrap().status(), 503);

    // The stale hash is refused and changes nothing.
    let (s, v) = h
        .cloud(
            update,
            json!({"tenantId": tenant, "currentHash": hash0, "envs": [{"key": "A", "value": "stale"}]}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(v.get("data").is_none());
    // Cloud's real answer is not public; the emulator answers with the one
    // control-plane failure on record (hasura/graphql-engine#9731).
    assert_eq!(v["errors"][0]["extensions"]["code"], "GenericServerError");
    assert_eq!(
        v["errors"][0]["message"],
        "there was an internal error while serving your request"
    );

    // Inline arguments and aliases work too; the delete chains on the update's hash.
    let (s, v) = h
        .cloud(
            &format!("mutation {{ d: deleteTenantEnv(tenantId: \"{tenant}\", currentHash: \"{hash1}\", deleteEnvs: [\"A\"]) {{ hash envVars }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["d"]["envVars"]["environment"], json!({"B": "2"}));
    let env = h.emu.env_vars().await;
    assert_eq!(
        env.into_iter().collect::<Vec<_>>(),
        vec![("B".to_string(), "2".to_string())]
    );

    cfg_window += Duration::from_millis(200);
    tokio::time::sleep(cfg_window).await;
    let r = h.http.get(&health).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "OK");

    let counters = h.emu.control.counters();
    assert_eq!(counters["ops"]["cloud:updateTenantEnv"], 2);
    assert_eq!(counters["ops"]["cloud:restart"], 2);

    // Wrong PAT.
    let r = h
        .http
        .post(h.emu.cloud_api_url())
        .header("Authorization", "pat nope")
        .json(&json!({"query": get, "variables": {"tenantId": tenant}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "access-denied");
}

#[test]
fn temp_postgres_starts_and_cleans_up() {
    let pg = TempPostgres::start().expect("start");
    let port = pg.port();
    assert!(pg.url().ends_with(&format!("127.0.0.1:{port}/postgres")));
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(pg);
    std::thread::sleep(Duration::from_millis(200));
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
