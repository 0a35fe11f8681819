//! Hasura Cloud's rolling restart and an engine that cannot boot
//! (`src/rollout.rs`), and the answer to a stale `currentHash`.

use std::time::Duration;

mod support;

use serde_json::{json, Value};

use support::Emu;

const WINDOW: Duration = Duration::from_millis(500);
const UPDATE: &str = "mutation($t: uuid!, $h: String!, $e: [UpdateEnvObject!]!) { updateTenantEnv(tenantId: $t, currentHash: $h, envs: $e) { hash envVars } }";
const DELETE: &str = "mutation($t: uuid!, $h: String!, $d: [String!]!) { deleteTenantEnv(tenantId: $t, currentHash: $h, deleteEnvs: $d) { hash envVars } }";
const GOOD_SECRET: &str = r#"{"type":"HS256","key":"0123456789abcdef0123456789abcdef"}"#;
const BAD_SECRET: &str = r#"{"type":"HS256","key":"short"}"#;

async fn start() -> Emu {
    Emu::start_with(|cfg| cfg.restart_window = WINDOW).await
}

impl Emu {
    async fn healthz(&self) -> u16 {
        let url = format!("{}/healthz", self.emu.endpoint());
        self.http.get(url).send().await.unwrap().status().as_u16()
    }

    /// A GraphQL request without credentials: what the engine's env says about it.
    async fn anonymous(&self) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/v1/graphql", self.emu.endpoint()))
            .json(&json!({"query": "query { __typename }"}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn export_metadata(&self) -> u16 {
        self.http
            .post(format!("{}/v1/metadata", self.emu.endpoint()))
            .header("x-hasura-admin-secret", &self.emu.config.admin_secret)
            .json(&json!({"type": "export_metadata", "args": {}}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn env_change_rolls_out_old_env_served_until_done() {
    let h = start().await;
    assert_eq!(h.healthz().await, 200);
    // No JWT secret: the engine wants the admin secret.
    let (_, v) = h.anonymous().await;
    assert_eq!(code(&v), "access-denied", "{v}");

    let v = h.update_env("HASURA_GRAPHQL_JWT_SECRET", GOOD_SECRET).await;
    let new_hash = v["data"]["updateTenantEnv"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    // The control plane has the new env at once: its hash is the next write's token.
    let (hash, env) = h.env().await;
    assert_eq!(hash, new_hash);
    assert_eq!(env["HASURA_GRAPHQL_JWT_SECRET"], GOOD_SECRET);
    // The engine still runs the old env, and /healthz says the project restarts.
    assert_eq!(h.healthz().await, 503);
    let (s, v) = h.anonymous().await;
    assert_eq!((s, code(&v)), (200, "access-denied"), "{v}");
    assert_eq!(h.export_metadata().await, 200, "old workers still serve");

    h.after_rollout().await;
    assert_eq!(h.healthz().await, 200);
    let (_, v) = h.anonymous().await;
    assert_eq!(code(&v), "invalid-headers", "{v}");
    assert_eq!(
        v["errors"][0]["message"],
        "Missing Authorization header in JWT authentication mode"
    );

    // A change during a rollout restarts the wait and rolls out the latest env.
    h.update_env("A", "1").await;
    tokio::time::sleep(WINDOW / 2).await;
    let (hash, _) = h.env().await;
    h.cloud(
        DELETE,
        json!({"t": h.emu.config.tenant_id, "h": hash, "d": ["HASURA_GRAPHQL_JWT_SECRET"]}),
    )
    .await;
    tokio::time::sleep(WINDOW * 3 / 4).await;
    assert_eq!(
        h.healthz().await,
        503,
        "the second change is still rolling out"
    );
    h.after_rollout().await;
    assert_eq!(h.healthz().await, 200);
    let (_, v) = h.anonymous().await;
    assert_eq!(code(&v), "access-denied", "{v}");
    assert_eq!(h.emu.control.counters()["ops"]["cloud:restart"], 3);
}

#[tokio::test]
async fn an_invalid_jwt_secret_keeps_the_engine_down_until_fixed() {
    let h = start().await;
    let v = h.update_env("HASURA_GRAPHQL_JWT_SECRET", BAD_SECRET).await;
    assert!(
        v["data"]["updateTenantEnv"]["hash"].is_string(),
        "the control plane accepts it: {v}"
    );
    h.after_rollout().await;
    // graphql-engine exits at boot on "Fatal Error:- Environment variable
    // HASURA_GRAPHQL_JWT_SECRET: ...": /healthz and every engine API are gone.
    assert_eq!(h.healthz().await, 503);
    let (s, _) = h.anonymous().await;
    assert_eq!(s, 503);
    assert_eq!(h.export_metadata().await, 503);
    tokio::time::sleep(WINDOW).await;
    assert_eq!(h.healthz().await, 503, "it does not come back by itself");
    // The control plane still answers; fixing the env brings the engine back.
    let (_, env) = h.env().await;
    assert_eq!(env["HASURA_GRAPHQL_JWT_SECRET"], BAD_SECRET);
    h.update_env("HASURA_GRAPHQL_JWT_SECRET", GOOD_SECRET).await;
    h.after_rollout().await;
    assert_eq!(h.healthz().await, 200);
    assert_eq!(h.export_metadata().await, 200);
}

#[tokio::test]
async fn a_stale_hash_is_refused_with_the_control_planes_generic_error() {
    let h = start().await;
    let (hash, _) = h.env().await;
    h.emu.race_next_env_write(&[("OTHER", "dashboard")]);
    let (s, v) = h
        .cloud(
            UPDATE,
            json!({"t": h.emu.config.tenant_id, "h": hash, "e": [{"key": "MINE", "value": "1"}]}),
        )
        .await;
    // HTTP 200 with errors[] and no data, as Hasura's GraphQL answers failures.
    assert_eq!(s, 200, "{v}");
    assert!(v.get("data").is_none(), "{v}");
    assert_eq!(code(&v), "GenericServerError", "{v}");
    assert_eq!(
        v["errors"][0]["message"],
        "there was an internal error while serving your request"
    );
    assert_eq!(
        v["errors"][0]["extensions"]["id"].as_str().map(str::len),
        Some(36),
        "a request id, as on hasura/graphql-engine#9731: {v}"
    );
    // The concurrent change landed, the stale write did not.
    let (now, env) = h.env().await;
    assert_ne!(now, hash);
    assert_eq!(env, json!({"OTHER": "dashboard"}));
}
