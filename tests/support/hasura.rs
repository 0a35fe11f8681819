//! A Hasura emulator on a throwaway PostgreSQL for one scenario, with the out-of-band
//! calls tests make behind Terraform's back (SQL, metadata, the Cloud env API).

use std::collections::BTreeMap;
use std::path::Path;

use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
use serde_json::{json, Value};

use super::{runtime, Workdir};

/// One PostgreSQL and one emulator per scenario, on their own runtime.
pub struct Env {
    pub rt: tokio::runtime::Runtime,
    emu: Option<HasuraEmulator>,
    _pg: TempPostgres,
}

impl Env {
    pub fn start() -> Env {
        Env::start_with(|_| {})
    }

    /// Starts with the configuration `configure` adjusts (e.g. a longer restart window).
    pub fn start_with(configure: impl FnOnce(&mut HasuraConfig)) -> Env {
        let pg = TempPostgres::start().expect("start temporary PostgreSQL");
        let rt = runtime();
        let mut cfg = HasuraConfig::new(pg.url());
        configure(&mut cfg);
        let emu = rt
            .block_on(HasuraEmulator::start(cfg))
            .expect("start hasura emulator");
        Env {
            rt,
            emu: Some(emu),
            _pg: pg,
        }
    }

    pub fn emu(&self) -> &HasuraEmulator {
        self.emu.as_ref().unwrap()
    }

    /// A workdir whose provider settings point at this emulator (GraphQL endpoint and
    /// admin secret, Cloud API, token and project).
    pub fn workdir(&self, tf: &Path) -> Workdir {
        let mut wd = Workdir::new(tf);
        let c = &self.emu().config;
        wd.env("HASURA_GRAPHQL_ENDPOINT", &self.emu().endpoint())
            .env("HASURA_GRAPHQL_ADMIN_SECRET", &c.admin_secret)
            .env("HASURA_CLOUD_API_URL", &self.emu().cloud_api_url())
            .env("HASURA_CLOUD_ACCESS_TOKEN", &c.cloud_token)
            .env("HASURA_CLOUD_PROJECT_ID", &c.project_id);
        wd
    }

    /// POSTs `body` to the engine with the admin secret: (status, JSON body or null).
    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_with(path, body, &[])
    }

    /// `post` with extra headers (e.g. `x-hasura-role` to act as a role).
    pub fn post_with(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> (u16, Value) {
        let url = format!("{}{path}", self.emu().endpoint());
        let secret = self.emu().config.admin_secret.clone();
        let mut req = reqwest::Client::new()
            .post(url)
            .header("x-hasura-admin-secret", secret);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.rt.block_on(async move {
            let resp = req.json(&body).send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json().await.unwrap_or(Value::Null))
        })
    }

    /// POST /v1/graphql with `headers` (and the admin secret when `admin`, e.g. with
    /// `x-hasura-role` to run as a role, as a backend impersonating a user does; without
    /// it, e.g. with a user's `authorization: Bearer <jwt>`): the answer's body.
    pub fn graphql(&self, headers: &[(&str, &str)], query: &str, admin: bool) -> Value {
        self.graphql_vars(headers, query, Value::Null, admin)
    }

    /// [`Env::graphql`] with `variables` (left out of the request when null).
    pub fn graphql_vars(
        &self,
        headers: &[(&str, &str)],
        query: &str,
        variables: Value,
        admin: bool,
    ) -> Value {
        let mut body = json!({ "query": query });
        if !variables.is_null() {
            body["variables"] = variables;
        }
        let mut req = reqwest::Client::new()
            .post(format!("{}/v1/graphql", self.emu().endpoint()))
            .json(&body);
        if admin {
            req = req.header("x-hasura-admin-secret", &self.emu().config.admin_secret);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.rt
            .block_on(async move { req.send().await.unwrap().json().await.unwrap() })
    }

    /// Metadata calls fail on a third of the requests: answers lost after the write
    /// landed, 503s and connection resets (`seed` makes the run repeatable).
    pub fn metadata_faults(seed: u64) -> emulator_common::FaultConfig {
        use emulator_common::{FaultConfig, FaultKind};
        FaultConfig {
            error_rate: 0.35,
            kinds: vec![
                FaultKind::LostResponse,
                FaultKind::Status503,
                FaultKind::ConnectionReset,
            ],
            seed: Some(seed),
            paths: Some(vec!["/v1/metadata".into()]),
            ..FaultConfig::default()
        }
    }

    /// Runs `step` (an apply or a destroy) with [`Env::metadata_faults`]`(seed)` on,
    /// then turns the faults off again.
    pub fn under_faults<T>(&self, seed: u64, step: impl FnOnce() -> T) -> T {
        let control = &self.emu().control;
        control.set_faults(Env::metadata_faults(seed));
        let out = step();
        control.set_faults(emulator_common::FaultConfig::default());
        out
    }

    /// Some answer was lost after its write landed: a fault scenario that tested
    /// the read-back, not only retries.
    pub fn assert_lost_answers_fired(&self) {
        let fired = self.emu().control.counters()["faults"].clone();
        assert!(
            fired
                .as_object()
                .is_some_and(|f| f.contains_key("lost_response")),
            "faults fired: {fired}"
        );
    }

    /// Out-of-band SQL, as a migration or a DBA would run it.
    pub fn sql(&self, sql: &str) -> Value {
        let (s, v) = self.post(
            "/v2/query",
            json!({"type": "run_sql", "args": {"source": "default", "sql": sql, "cascade": true}}),
        );
        assert_eq!(s, 200, "run_sql {sql}: {v}");
        v
    }

    /// Out-of-band SQL on another source's database.
    pub fn sql_on(&self, source: &str, sql: &str) -> Value {
        let (s, v) = self.post(
            "/v2/query",
            json!({"type": "run_sql", "args": {"source": source, "sql": sql}}),
        );
        assert_eq!(s, 200, "run_sql on {source} {sql}: {v}");
        v
    }

    /// A new, empty database in this scenario's PostgreSQL cluster, for a
    /// second source; its URL carries `password`, which the cluster's trust
    /// authentication ignores (so tests can look for it in outputs).
    pub fn create_database(&self, name: &str, password: &str) -> String {
        let (s, v) = self.post(
            "/v2/query",
            json!({"type": "run_sql", "args": {"sql": format!("CREATE DATABASE {name}"), "no_transaction": true}}),
        );
        assert_eq!(s, 200, "CREATE DATABASE {name}: {v}");
        format!(
            "postgres://postgres:{password}@127.0.0.1:{}/{name}",
            self._pg.port()
        )
    }

    pub fn count_rows(&self, table: &str) -> i64 {
        let v = self.sql(&format!("SELECT count(*) FROM {table}"));
        v["result"][1][0].as_str().unwrap().parse().unwrap()
    }

    /// An out-of-band metadata API call, which must succeed.
    pub fn meta(&self, body: Value) -> Value {
        let (s, v) = self.post("/v1/metadata", body.clone());
        assert_eq!(s, 200, "metadata {body}: {v}");
        v
    }

    pub fn metadata(&self) -> Value {
        self.rt.block_on(self.emu().metadata())
    }

    /// A Cloud API GraphQL call with the access token, which must succeed.
    pub fn cloud(&self, query: &str, variables: Value) -> Value {
        let url = self.emu().cloud_api_url();
        let token = format!("pat {}", self.emu().config.cloud_token);
        let v: Value = self.rt.block_on(async move {
            reqwest::Client::new()
                .post(url)
                .header("authorization", token)
                .json(&json!({"query": query, "variables": variables}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        assert!(v.get("errors").is_none(), "cloud call failed: {v}");
        v
    }

    /// The current hash of the project's env vars (Cloud's optimistic lock).
    pub fn env_hash(&self) -> String {
        let env = self.cloud(
            "query($t: uuid!) { getTenantEnv(tenantId: $t) { hash envVars } }",
            json!({"t": self.emu().config.tenant_id}),
        );
        env["data"]["getTenantEnv"]["hash"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Env vars set in the Cloud dashboard, outside Terraform.
    pub fn set_env_out_of_band(&self, pairs: &[(&str, &str)]) {
        let envs: Vec<Value> = pairs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        self.cloud(
            "mutation($t: uuid!, $h: String!, $e: [UpdateEnvObject!]!) { updateTenantEnv(tenantId: $t, currentHash: $h, envs: $e) { hash } }",
            json!({"t": self.emu().config.tenant_id, "h": self.env_hash(), "e": envs}),
        );
    }

    /// Env vars deleted in the Cloud dashboard, outside Terraform.
    pub fn delete_env_out_of_band(&self, keys: &[&str]) {
        self.cloud(
            "mutation($t: uuid!, $h: String!, $d: [String!]!) { deleteTenantEnv(tenantId: $t, currentHash: $h, deleteEnvs: $d) { hash } }",
            json!({"t": self.emu().config.tenant_id, "h": self.env_hash(), "d": keys}),
        );
    }

    pub fn env_vars(&self) -> BTreeMap<String, String> {
        self.rt.block_on(self.emu().env_vars())
    }

    /// How many times the emulator served operation `name` since the last reset.
    pub fn ops(&self, name: &str) -> u64 {
        self.emu().control.counters()["ops"][name]
            .as_u64()
            .unwrap_or(0)
    }

    /// Cloud env writes since the last reset: (restarts, updateTenantEnv, deleteTenantEnv).
    pub fn writes(&self) -> (u64, u64, u64) {
        (
            self.ops("cloud:restart"),
            self.ops("cloud:updateTenantEnv"),
            self.ops("cloud:deleteTenantEnv"),
        )
    }

    /// Since the last [`Env::reset_counters`], nothing was written: no
    /// metadata command but exports, no env var write or restart.
    pub fn assert_nothing_written(&self, when: &str) {
        let counters = self.emu().control.counters();
        let writes: Vec<&String> = counters["ops"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|op| op.starts_with("metadata:") && *op != "metadata:export_metadata")
            .collect();
        assert!(writes.is_empty(), "metadata written {when}: {counters}");
        assert_eq!(self.writes(), (0, 0, 0), "env written {when}: {counters}");
    }

    pub fn reset_counters(&self) {
        self.emu().control.reset_counters();
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(e) = self.emu.take() {
            self.rt.block_on(e.stop());
        }
    }
}
