//! Hasura API emulator: the v2 metadata API, `run_sql` on a real PostgreSQL, and the
//! Hasura Cloud env-var API, for tests and demos of the `hasura` Terraform provider.

mod actions;
mod cloud;
mod column_types;
pub mod computed_fields;
mod cron;
mod cron_triggers;
mod custom_types;
mod dependents;
mod errors;
mod event_transform;
mod event_triggers;
mod graphql;
mod graphql_parse;
mod inherited_roles;
pub mod metadata;
mod metadata_api;
pub mod permissions;
mod pg_functions;
mod pg_temp;
mod query_collections;
mod relationships;
mod remote_schemas;
mod rest_endpoints;
mod rollout;
mod run_sql;
mod server;
mod sources;
mod state;
mod table_config;
pub mod tiny_remote;
mod validate_input;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use emulator_common::{Control, Served};

pub use pg_temp::TempPostgres;
pub use rollout::EnvWriteFault;
pub use tiny_remote::TinyRemote;

#[derive(Clone, Debug)]
pub struct HasuraConfig {
    pub database_url: String,
    pub admin_secret: String,
    pub cloud_token: String,
    /// UUID of the Cloud project; `projects_by_pk` maps it to `tenant_id`.
    pub project_id: String,
    pub tenant_id: String,
    /// How long an env change takes to roll out: the engine keeps the old env
    /// and `/healthz` is not OK meanwhile (`rollout.rs`).
    pub restart_window: Duration,
    /// 0 picks a free port.
    pub port: u16,
    /// `HASURA_GRAPHQL_READ_ONLY_MODE=true`: metadata writes and `run_sql`
    /// that is not `read_only` are refused with Hasura's errors.
    pub read_only: bool,
    /// `HASURA_GRAPHQL_ENABLE_ALLOWLIST=true`: `/v1/graphql` runs for a
    /// non-admin role only the queries of its allowed collections. The engine
    /// env var of that name turns it on too.
    pub enable_allowlist: bool,
}

impl HasuraConfig {
    /// Random secrets and ids, a free port and a 300 ms restart window.
    pub fn new(database_url: impl Into<String>) -> HasuraConfig {
        HasuraConfig {
            database_url: database_url.into(),
            admin_secret: format!("admin-{}", random_hex(16)),
            cloud_token: format!("pat-{}", random_hex(20)),
            project_id: random_uuid(),
            tenant_id: random_uuid(),
            restart_window: Duration::from_millis(300),
            port: 0,
            read_only: false,
            enable_allowlist: false,
        }
    }
}

impl Default for HasuraConfig {
    /// Everything but `database_url`, which must be set.
    fn default() -> Self {
        HasuraConfig::new("")
    }
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

pub(crate) fn random_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub struct HasuraEmulator {
    pub control: Control,
    pub config: HasuraConfig,
    state: state::Shared,
    served: Served,
}

impl HasuraEmulator {
    pub async fn start(cfg: HasuraConfig) -> anyhow::Result<HasuraEmulator> {
        let (db, conn_task) = state::connect(&cfg.database_url).await?;
        state::init_catalog(&db)
            .await
            .context("initialising hdb_catalog")?;
        let control = Control::new(server::rate_limited_body, server::server_error_body);
        control.exempt_from_rate_limit("/healthz");
        let st = Arc::new(state::AppState {
            settings: state::Settings {
                database_url: cfg.database_url.clone(),
                admin_secret: cfg.admin_secret.clone(),
                cloud_token: cfg.cloud_token.clone(),
                project_id: cfg.project_id.clone(),
                tenant_id: cfg.tenant_id.clone(),
                restart_window: cfg.restart_window,
                read_only: cfg.read_only,
                enable_allowlist: cfg.enable_allowlist,
            },
            control: control.clone(),
            db,
            metadata_lock: Default::default(),
            rollout: Default::default(),
            cloud_lock: Default::default(),
            conn_task,
            endpoint: Default::default(),
            jwks: Default::default(),
            stale_writes: Default::default(),
            pools: Default::default(),
        });
        // The engine boots with the env the store holds (`rollout.rs`).
        let (_, booted) = state::load_env(&st.db, &cfg.tenant_id)
            .await
            .map_err(|e| anyhow::anyhow!("reading the env vars: {}", e.error))?;
        st.rollout.boot(booted);
        event_triggers::spawn_delivery(st.clone());
        let router = emulator_common::layer(server::router(st.clone()), control.clone());
        let served = emulator_common::serve(router, cfg.port).await?;
        let _ = st.endpoint.set(served.url());
        Ok(HasuraEmulator {
            control,
            config: cfg,
            state: st,
            served,
        })
    }

    /// The provider's `endpoint`.
    pub fn endpoint(&self) -> String {
        self.served.url()
    }

    pub fn cloud_api_url(&self) -> String {
        format!("{}/cloud/v1/graphql", self.served.url())
    }

    /// `export_metadata` (v1 shape) as stored.
    pub async fn metadata(&self) -> serde_json::Value {
        match state::load_metadata(&self.state.db).await {
            Ok((md, _)) => md.to_export(),
            Err(e) => panic!("reading metadata: {}", e.error),
        }
    }

    pub async fn resource_version(&self) -> i64 {
        match state::load_metadata(&self.state.db).await {
            Ok((_, rv)) => rv,
            Err(e) => panic!("reading metadata: {}", e.error),
        }
    }

    pub async fn env_vars(&self) -> BTreeMap<String, String> {
        match state::load_env(&self.state.db, &self.config.tenant_id).await {
            Ok((_, env)) => env,
            Err(e) => panic!("reading env vars: {}", e.error),
        }
    }

    /// Makes the next env write (`updateTenantEnv`/`deleteTenantEnv`) meet a
    /// concurrent change: `pairs` are set first, as from the Cloud dashboard,
    /// so the write's `currentHash` is stale.
    pub fn race_next_env_write(&self, pairs: &[(&str, &str)]) {
        self.state.rollout.queue_race(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
    }

    /// Makes the next env write fail: applied with its answer lost, or reset
    /// before it is applied.
    pub fn fail_next_env_write(&self, fault: EnvWriteFault) {
        self.state.rollout.queue_fault(fault);
    }

    /// The next `n` metadata writes (commands that modify metadata, in a
    /// `bulk` or not) lose a `resource_version` race: answered 409
    /// `conflict`, nothing stored, as with several replicas
    /// (`setMetadataInCatalog`, `Hasura/RQL/DDL/Schema/Catalog.hs`).
    pub fn conflict_next(&self, n: u32) {
        self.state
            .stale_writes
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    pub async fn stop(self) {
        self.served.stop().await;
        self.state.conn_task.abort();
    }
}
