//! `/v1/metadata`: one `export_metadata` v2 per provider process (single
//! flight, dropped after any write of ours), and commands with the
//! `resource_version` compare-and-swap.
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::error::Lenient;
use super::{Engine, HasuraError};

const PATH: &str = "/v1/metadata";

/// A consistent snapshot of the metadata and the version it had.
pub struct Export {
    pub resource_version: i64,
    pub metadata: Value,
}

impl Export {
    /// The exported entry of a tracked table (`sources[].tables[]`), if tracked.
    pub fn table(&self, source: &str, schema: &str, name: &str) -> Option<&Value> {
        self.metadata
            .get("sources")?
            .as_array()?
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(source))?
            .get("tables")?
            .as_array()?
            .iter()
            .find(|t| {
                let (s, n) = table_name(t.get("table").unwrap_or(&Value::Null));
                s == schema && n == name
            })
    }

    /// A permission entry `{role, permission, comment?}` of a tracked table.
    pub fn permission(
        &self,
        source: &str,
        schema: &str,
        table: &str,
        role: &str,
        action: &str,
    ) -> Option<&Value> {
        self.table(source, schema, table)?
            .get(format!("{action}_permissions"))?
            .as_array()?
            .iter()
            .find(|p| p.get("role").and_then(Value::as_str) == Some(role))
    }
}

/// `TableName` is a bare string (schema `public`) or `{schema, name}`.
pub fn table_name(v: &Value) -> (String, String) {
    match v {
        Value::String(n) => ("public".into(), n.clone()),
        o => (
            o.get("schema")
                .and_then(Value::as_str)
                .unwrap_or("public")
                .to_string(),
            o.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
    }
}

/// How many times a write that lost a `resource_version` race is re-read and retried.
pub const CONFLICT_RETRIES: usize = 8;

impl Engine {
    /// The current metadata, from this process's cache when it has one.
    pub async fn export(&self, cancel: &CancellationToken) -> Result<Arc<Export>, HasuraError> {
        // Held across the fetch: concurrent refreshes share one export.
        let mut slot = self.export.lock().await;
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        /// Version 1 answers with the bare metadata: no `resource_version`.
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            resource_version: Lenient<i64>,
            #[serde(default)]
            metadata: Value,
        }
        let v: Answer = self
            .post(
                cancel,
                PATH,
                "export_metadata",
                &json!({"type": "export_metadata", "version": 2, "args": {}}),
                Idempotency::Idempotent,
            )
            .await?;
        let e = Arc::new(Export {
            resource_version: v.resource_version.0.ok_or_else(|| {
                HasuraError::other("Hasura's export_metadata (version 2) answer has no `resource_version`; this provider needs Hasura v2.0 or later")
            })?,
            metadata: v.metadata,
        });
        tracing::debug!(resource_version = e.resource_version, "exported metadata");
        *slot = Some(e.clone());
        Ok(e)
    }

    /// Forgets the cached export; the next read sees the server's state.
    pub async fn invalidate(&self) {
        *self.export.lock().await = None;
    }

    /// One metadata command. `resource_version` makes it a compare-and-swap.
    pub async fn command(
        &self,
        cancel: &CancellationToken,
        typ: &str,
        args: Value,
        resource_version: Option<i64>,
    ) -> Result<Value, HasuraError> {
        let mut body = json!({"type": typ, "args": args});
        if let Some(rv) = resource_version {
            body["resource_version"] = json!(rv);
        }
        let idem = if resource_version.is_some() {
            Idempotency::Idempotent
        } else {
            Idempotency::Unsafe
        };
        let r = self.post(cancel, PATH, typ, &body, idem).await;
        if r.as_ref()
            .map_or_else(|e| e.status().is_none() || e.is_conflict(), |_| true)
        {
            self.invalidate().await;
        }
        r
    }

    /// `bulk`: applied in memory one by one and stored once, so either every
    /// command lands or none does.
    pub async fn bulk(
        &self,
        cancel: &CancellationToken,
        commands: Vec<Value>,
        resource_version: Option<i64>,
    ) -> Result<Value, HasuraError> {
        self.command(cancel, "bulk", Value::Array(commands), resource_version)
            .await
    }
}

pub fn qualified_table(schema: &str, name: &str) -> Value {
    json!({"schema": schema, "name": name})
}

/// Drop/untrack of something already gone counts as done.
pub fn is_already_gone(e: &HasuraError) -> bool {
    e.code_is("already-untracked")
        || e.code_is("not-exists")
        || (e.status_is(400) && e.message().contains("does not exist"))
}
