//! What every emulator test file starts with: a throwaway PostgreSQL, the
//! emulator on it, and admin calls to its APIs. Each test file uses part of it.
#![allow(dead_code)]

use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
use serde_json::{json, Value};

pub struct Emu {
    pub emu: HasuraEmulator,
    pub http: reqwest::Client,
    // Declared last: the database must outlive the emulator.
    pub pg: TempPostgres,
}

impl Emu {
    pub async fn start() -> Emu {
        let pg = TempPostgres::start().expect("temp postgres");
        let emu = HasuraEmulator::start(HasuraConfig::new(pg.url()))
            .await
            .expect("emulator");
        Emu {
            emu,
            http: reqwest::Client::new(),
            pg,
        }
    }

    /// POSTs `body` to `path` with the admin secret: status and JSON answer.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.emu.endpoint()))
            .header("x-hasura-admin-secret", &self.emu.config.admin_secret)
            .json(&body)
            .send()
            .await
            .expect("request");
        (resp.status().as_u16(), resp.json().await.expect("json"))
    }

    pub async fn meta(&self, typ: &str, args: Value) -> (u16, Value) {
        self.post("/v1/metadata", json!({"type": typ, "args": args}))
            .await
    }

    pub async fn export(&self) -> Value {
        self.meta("export_metadata", json!({})).await.1
    }

    /// Sets an engine env var through the Cloud API and waits out the rolling restart.
    pub async fn set_env(&self, key: &str, value: &str) {
        let tenant = self.emu.config.tenant_id.clone();
        let cloud = |query: &'static str, variables: Value| {
            self.http
                .post(self.emu.cloud_api_url())
                .header(
                    "Authorization",
                    format!("pat {}", self.emu.config.cloud_token),
                )
                .json(&json!({"query": query, "variables": variables}))
                .send()
        };
        let v: Value = cloud(
            "query($t: uuid!) { getTenantEnv(tenantId: $t) { hash } }",
            json!({"t": tenant}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let hash = v["data"]["getTenantEnv"]["hash"]
            .as_str()
            .unwrap()
            .to_string();
        let v: Value = cloud(
            "mutation($t: uuid!, $h: String!, $e: [UpdateEnvObject!]!) { updateTenantEnv(tenantId: $t, currentHash: $h, envs: $e) { hash } }",
            json!({"t": tenant, "h": hash, "e": [{"key": key, "value": value}]}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert!(v["data"]["updateTenantEnv"]["hash"].is_string(), "{v}");
        tokio::time::sleep(self.emu.config.restart_window + std::time::Duration::from_millis(150))
            .await;
    }
}
