//! Shared server state and the metadata catalog table in PostgreSQL.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio_postgres::{Client, GenericClient, NoTls};

use crate::errors::QErr;
use crate::metadata::{Catalog, Metadata, QualifiedTable};
use emulator_common::Control;

pub struct Settings {
    pub database_url: String,
    pub admin_secret: String,
    pub cloud_token: String,
    pub project_id: String,
    pub tenant_id: String,
    pub restart_window: Duration,
    /// Hasura's read-only mode (`HASURA_GRAPHQL_READ_ONLY_MODE`).
    pub read_only: bool,
    /// `HASURA_GRAPHQL_ENABLE_ALLOWLIST`.
    pub enable_allowlist: bool,
}

pub struct AppState {
    pub settings: Settings,
    pub control: Control,
    /// Catalog reads and metadata writes; requests are short, so one connection is enough.
    pub db: Client,
    /// Serialises metadata read-modify-write cycles (Hasura does the same with its
    /// metadata lock); the stored resource_version CAS still guards other writers.
    pub metadata_lock: Mutex<()>,
    /// Cloud's rolling restart: the env the engine runs with (`rollout.rs`).
    pub rollout: crate::rollout::Rollout,
    /// Also serialises env changes so the hash chain has one order.
    pub cloud_lock: Mutex<()>,
    pub conn_task: tokio::task::JoinHandle<()>,
    /// Our own base URL, known only once bound; the Cloud API reports it as the project endpoint.
    pub endpoint: std::sync::OnceLock<String>,
    /// JWKS fetched for `/v1/graphql` JWT verification, per `jwk_url`.
    pub jwks: crate::graphql::JwksCache,
    /// How many metadata writes still to answer with a `resource_version`
    /// conflict, as a replica whose write raced another replica's does.
    pub stale_writes: std::sync::atomic::AtomicU32,
    /// One connection per other source database, for catalog reads (`sources.rs`).
    pub pools: crate::sources::Pools,
}

pub type Shared = Arc<AppState>;

pub async fn connect(url: &str) -> anyhow::Result<(Client, tokio::task::JoinHandle<()>)> {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let task = tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("postgres connection ended: {e}");
        }
    });
    Ok((client, task))
}

/// Same table shape Hasura uses, plus a table for the emulated Cloud env vars.
pub async fn init_catalog(db: &Client) -> anyhow::Result<()> {
    let initial = Metadata::default().to_export();
    db.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS hdb_catalog;
         CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_metadata (
             id integer PRIMARY KEY,
             metadata json NOT NULL,
             resource_version integer NOT NULL DEFAULT 1 UNIQUE
         );
         CREATE TABLE IF NOT EXISTS hdb_catalog.emulator_tenant_env (
             tenant_id text PRIMARY KEY,
             hash text NOT NULL,
             env json NOT NULL
         );",
    )
    .await
    .context("creating hdb_catalog")?;
    db.execute(
        "INSERT INTO hdb_catalog.hdb_metadata (id, metadata) VALUES (1, $1::json)
         ON CONFLICT (id) DO NOTHING",
        &[&initial],
    )
    .await
    .context("seeding metadata")?;
    Ok(())
}

pub async fn load_metadata(db: &impl GenericClient) -> Result<(Metadata, i64), QErr> {
    let row = db
        .query_one(
            "SELECT metadata, resource_version FROM hdb_catalog.hdb_metadata WHERE id = 1",
            &[],
        )
        .await?;
    let v: Value = row.get(0);
    let rv: i32 = row.get(1);
    let md = Metadata::parse(&v)
        .map_err(|e| QErr::unexpected(format!("stored metadata unreadable: {}", e.msg)))?;
    Ok((md, rv as i64))
}

/// Hasura's `setMetadataInCatalog`: compare-and-swap on resource_version, bump by one.
pub async fn store_metadata(
    db: &impl GenericClient,
    expected_rv: i64,
    md: &Metadata,
) -> Result<i64, QErr> {
    let rows = db
        .query(
            "UPDATE hdb_catalog.hdb_metadata
                SET metadata = $1::json, resource_version = resource_version + 1
              WHERE id = 1 AND resource_version = $2
             RETURNING resource_version",
            &[&md.to_export(), &(expected_rv as i32)],
        )
        .await?;
    match rows.first() {
        Some(r) => Ok(r.get::<_, i32>(0) as i64),
        None => Err(QErr::conflict(expected_rv)),
    }
}

pub async fn load_catalog(db: &impl GenericClient) -> Result<Catalog, QErr> {
    let rows = db
        .query(
            "SELECT n.nspname::text, c.relname::text, a.attname::text,
                    format_type(a.atttypid, NULL)::text
               FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_catalog.pg_attribute a
                      ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
                AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                AND n.nspname NOT LIKE 'pg\\_toast%'
              ORDER BY n.nspname, c.relname, a.attnum",
            &[],
        )
        .await?;
    let mut cat = Catalog::default();
    for r in rows {
        let t = QualifiedTable {
            schema: r.get(0),
            name: r.get(1),
        };
        if let (Some(c), Some(ty)) = (r.get::<_, Option<String>>(2), r.get(3)) {
            cat.types.insert((t.clone(), c.clone()), ty);
            cat.entry(t).or_default().push(c);
        } else {
            cat.entry(t).or_default();
        }
    }
    cat.foreign_keys = crate::relationships::load_foreign_keys(db).await?;
    cat.functions = crate::computed_fields::load_functions(db).await?;
    Ok(cat)
}

pub async fn load_env(
    db: &Client,
    tenant: &str,
) -> Result<(String, BTreeMap<String, String>), QErr> {
    let row = db
        .query_opt(
            "SELECT hash, env FROM hdb_catalog.emulator_tenant_env WHERE tenant_id = $1",
            &[&tenant],
        )
        .await?;
    match row {
        Some(r) => {
            let env: Value = r.get(1);
            let map = serde_json::from_value(env).unwrap_or_default();
            Ok((r.get(0), map))
        }
        None => Ok((crate::cloud::initial_hash(tenant), BTreeMap::new())),
    }
}

pub async fn store_env(
    db: &Client,
    tenant: &str,
    hash: &str,
    env: &BTreeMap<String, String>,
) -> Result<(), QErr> {
    let env = serde_json::to_value(env).map_err(QErr::unexpected)?;
    db.execute(
        "INSERT INTO hdb_catalog.emulator_tenant_env (tenant_id, hash, env) VALUES ($1, $2, $3::json)
         ON CONFLICT (tenant_id) DO UPDATE SET hash = EXCLUDED.hash, env = EXCLUDED.env",
        &[&tenant, &hash, &env],
    )
    .await?;
    Ok(())
}
