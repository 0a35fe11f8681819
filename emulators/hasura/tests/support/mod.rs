//! What every emulator test file starts with: a throwaway PostgreSQL, the
//! emulator on it, and admin calls to its APIs. Each test file uses part of it
//! and adds its own helpers in an `impl Emu` block of its own.
#![allow(dead_code)]

use std::time::Duration;

use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
use serde_json::{json, Value};

pub struct Emu {
    pub emu: HasuraEmulator,
    pub http: reqwest::Client,
    // Declared last: the database must outlive the emulator.
    pub pg: TempPostgres,
}

/// An [`Emu`] with what a test file runs beside it (a remote GraphQL server, a
/// Clerk emulator); it derefs to the `Emu`, so the shared calls stay `h.meta(..)`.
pub struct With<T> {
    pub base: Emu,
    pub extra: T,
}

impl<T> std::ops::Deref for With<T> {
    type Target = Emu;
    fn deref(&self) -> &Emu {
        &self.base
    }
}

impl Emu {
    pub async fn start() -> Emu {
        Emu::start_with(|_| {}).await
    }

    /// Starts with the configuration `configure` adjusts (read-only mode, restart window).
    pub async fn start_with(configure: impl FnOnce(&mut HasuraConfig)) -> Emu {
        let pg = TempPostgres::start().expect("temp postgres");
        let mut cfg = HasuraConfig::new(pg.url());
        configure(&mut cfg);
        let emu = HasuraEmulator::start(cfg).await.expect("emulator");
        Emu {
            emu,
            http: reqwest::Client::new(),
            pg,
        }
    }

    /// POSTs `body` to `path` with the admin secret: status and JSON answer.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let secret = self.emu.config.admin_secret.clone();
        self.post_with(path, body, &[("x-hasura-admin-secret", &secret)])
            .await
    }

    /// POSTs `body` to `path` with exactly `headers` (no admin secret unless among them).
    pub async fn post_with(
        &self,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.emu.endpoint()))
            .json(&body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        (resp.status().as_u16(), resp.json().await.expect("json"))
    }

    pub async fn meta(&self, typ: &str, args: Value) -> (u16, Value) {
        self.meta_raw(json!({"type": typ, "args": args})).await
    }

    /// A whole metadata command (`{"type": .., "args": ..}`, a bulk, a `version`).
    pub async fn meta_raw(&self, body: Value) -> (u16, Value) {
        self.post("/v1/metadata", body).await
    }

    /// A metadata command that must succeed: its answer.
    pub async fn ok(&self, typ: &str, args: Value) -> Value {
        self.ok_raw(json!({"type": typ, "args": args})).await
    }

    pub async fn ok_raw(&self, body: Value) -> Value {
        let (s, v) = self.meta_raw(body.clone()).await;
        assert_eq!(s, 200, "{body}: {v}");
        v
    }

    /// A metadata command graphql-engine refuses with 400, `code` and an error
    /// containing `needle`: the whole answer, for further checks.
    pub async fn refused_raw(&self, body: Value, code: &str, needle: &str) -> Value {
        let (s, v) = self.meta_raw(body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert_eq!(v["code"], code, "{body}: {v}");
        let e = v["error"].as_str().unwrap_or_default();
        assert!(e.contains(needle), "{body}: {e:?} lacks {needle:?}");
        v
    }

    pub async fn export(&self) -> Value {
        self.ok("export_metadata", json!({})).await
    }

    /// A `/v2/query` command.
    pub async fn query(&self, body: Value) -> (u16, Value) {
        self.post("/v2/query", body).await
    }

    /// `run_sql` on the default source (no `source` key).
    pub async fn sql(&self, sql: &str) -> (u16, Value) {
        self.query(json!({"type": "run_sql", "args": {"sql": sql}}))
            .await
    }

    /// `run_sql` on the default source that must succeed: its result.
    pub async fn sql_ok(&self, sql: &str) -> Value {
        let (s, v) = self.sql(sql).await;
        assert_eq!(s, 200, "{sql}: {v}");
        v
    }

    /// `run_sql` naming its source.
    pub async fn sql_on(&self, source: &str, sql: &str) -> (u16, Value) {
        self.query(json!({"type": "run_sql", "args": {"source": source, "sql": sql}}))
            .await
    }

    /// POST /v1/graphql with exactly `headers`; asserts Hasura's always-200 status.
    /// `variables` is left out of the request when null.
    pub async fn gql(&self, headers: &[(&str, &str)], query: &str, variables: Value) -> Value {
        let mut body = json!({ "query": query });
        if !variables.is_null() {
            body["variables"] = variables;
        }
        let (s, v) = self.post_with("/v1/graphql", body, headers).await;
        assert_eq!(s, 200, "{v}");
        v
    }

    /// [`Emu::gql`] with the admin secret beside `headers` (which may pick a role).
    pub async fn gql_admin(
        &self,
        headers: &[(&str, &str)],
        query: &str,
        variables: Value,
    ) -> Value {
        let secret = self.emu.config.admin_secret.clone();
        let mut all = vec![("x-hasura-admin-secret", secret.as_str())];
        all.extend_from_slice(headers);
        self.gql(&all, query, variables).await
    }

    /// A Cloud API GraphQL call with the project's PAT: status and answer.
    pub async fn cloud(&self, query: &str, variables: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.emu.cloud_api_url())
            .header(
                "Authorization",
                format!("pat {}", self.emu.config.cloud_token),
            )
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .expect("request");
        (resp.status().as_u16(), resp.json().await.expect("json"))
    }

    /// The tenant's env: its hash (the next write's token) and variables.
    pub async fn env(&self) -> (String, Value) {
        let (_, v) = self
            .cloud(
                "query($t: uuid!) { getTenantEnv(tenantId: $t) { hash envVars } }",
                json!({"t": self.emu.config.tenant_id}),
            )
            .await;
        let env = &v["data"]["getTenantEnv"];
        (
            env["hash"].as_str().expect("hash").to_string(),
            env["envVars"]["environment"].clone(),
        )
    }

    /// What the Terraform provider does: read the hash, then update with it. The
    /// answer, without waiting for the rolling restart.
    pub async fn update_env(&self, key: &str, value: &str) -> Value {
        let (hash, _) = self.env().await;
        self.cloud(
            "mutation($t: uuid!, $h: String!, $e: [UpdateEnvObject!]!) { updateTenantEnv(tenantId: $t, currentHash: $h, envs: $e) { hash envVars } }",
            json!({"t": self.emu.config.tenant_id, "h": hash, "e": [{"key": key, "value": value}]}),
        )
        .await
        .1
    }

    /// Sets an engine env var through the Cloud API and waits out the rolling restart.
    pub async fn set_env(&self, key: &str, value: &str) {
        let v = self.update_env(key, value).await;
        assert!(v["data"]["updateTenantEnv"]["hash"].is_string(), "{v}");
        // The engine keeps the old env until the rolling restart is done.
        self.after_rollout().await;
    }

    /// Waits until a rolling restart begun now is over.
    pub async fn after_rollout(&self) {
        tokio::time::sleep(self.emu.config.restart_window + Duration::from_millis(150)).await;
    }
}
