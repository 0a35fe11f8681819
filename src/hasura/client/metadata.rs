//! `/v1/metadata`: one `export_metadata` v2 per provider process (single
//! flight, dropped after any write of ours), and commands with the
//! `resource_version` compare-and-swap.
use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;
use crate::settle::{settle_when, ReadBack, Settle, Unsettled};

use super::lenient::Lenient;
use super::{Engine, HasuraError};

const PATH: &str = "/v1/metadata";

/// A consistent snapshot of the metadata and the version it had, indexed by
/// table. Entries stay JSON: they hold the user's own (filters, checks,
/// custom names).
pub struct Export {
    pub resource_version: i64,
    sources: Vec<Source>,
    /// The other top-level keys (`cron_triggers`, `actions`, ...), as exported.
    rest: serde_json::Map<String, Value>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Metadata {
    sources: Lenient<Vec<Source>>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(default)]
    name: Lenient<String>,
    #[serde(default)]
    tables: Lenient<Vec<TableEntry>>,
    /// `{connection_info, read_replicas?, ...}` (`sources.rs`).
    #[serde(default)]
    configuration: Lenient<Value>,
    #[serde(default)]
    customization: Lenient<Value>,
}

/// A tracked table's exported entry, with its name and its permissions by
/// action and role read out.
struct TableEntry {
    schema: String,
    name: String,
    entry: Value,
    permissions: HashMap<(String, String), Value>,
}

impl<'de> Deserialize<'de> for TableEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Default, Deserialize)]
        #[serde(default)]
        struct Shape {
            table: Lenient<TableName>,
            select_permissions: Lenient<Vec<Value>>,
            insert_permissions: Lenient<Vec<Value>>,
            update_permissions: Lenient<Vec<Value>>,
            delete_permissions: Lenient<Vec<Value>>,
        }
        #[derive(Deserialize)]
        struct Role {
            role: String,
        }
        let entry = Value::deserialize(d)?;
        let shape = Shape::deserialize(&entry).unwrap_or_default();
        let (schema, name) = shape.table.0.unwrap_or_default().parts();
        let mut permissions = HashMap::new();
        for (action, list) in [
            ("select", shape.select_permissions),
            ("insert", shape.insert_permissions),
            ("update", shape.update_permissions),
            ("delete", shape.delete_permissions),
        ] {
            for p in list.0.unwrap_or_default() {
                if let Ok(Role { role }) = Role::deserialize(&p) {
                    // The first entry for a role is the one Hasura uses.
                    permissions.entry((action.to_string(), role)).or_insert(p);
                }
            }
        }
        Ok(TableEntry {
            schema,
            name,
            entry,
            permissions,
        })
    }
}

impl Export {
    pub fn new(resource_version: i64, metadata: Value) -> Export {
        let m: Metadata = Metadata::deserialize(&metadata).unwrap_or_default();
        let mut rest = match metadata {
            Value::Object(o) => o,
            _ => serde_json::Map::new(),
        };
        rest.remove("sources");
        Export {
            resource_version,
            sources: m.sources.0.unwrap_or_default(),
            rest,
        }
    }

    /// Every tracked table of `source`: (schema, name, exported entry).
    pub fn tables<'a>(
        &'a self,
        source: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str, &'a Value)> {
        self.sources
            .iter()
            .filter(move |s| s.name.0.as_deref() == Some(source))
            .flat_map(|s| s.tables.0.iter().flatten())
            .map(|t| (t.schema.as_str(), t.name.as_str(), &t.entry))
    }

    /// A source's `(configuration, customization)` (`Null` where absent), if
    /// the source exists.
    pub fn source(&self, name: &str) -> Option<(&Value, &Value)> {
        static NULL: Value = Value::Null;
        let s = self
            .sources
            .iter()
            .find(|s| s.name.0.as_deref() == Some(name))?;
        Some((
            s.configuration.0.as_ref().unwrap_or(&NULL),
            s.customization.0.as_ref().unwrap_or(&NULL),
        ))
    }

    /// A top-level entry other than `sources`, e.g. `cron_triggers`.
    pub fn top_level(&self, key: &str) -> Option<&Value> {
        self.rest.get(key)
    }

    /// Every exported inherited role entry (`{role_name, role_set}`).
    pub fn inherited_roles(&self) -> &[Value] {
        self.top_level("inherited_roles")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    fn entry(&self, source: &str, schema: &str, name: &str) -> Option<&TableEntry> {
        self.sources
            .iter()
            .find(|s| s.name.0.as_deref() == Some(source))?
            .tables
            .0
            .as_ref()?
            .iter()
            .find(|t| t.schema == schema && t.name == name)
    }

    /// The exported entry of a tracked table (`sources[].tables[]`), if tracked.
    pub fn table(&self, source: &str, schema: &str, name: &str) -> Option<&Value> {
        self.entry(source, schema, name).map(|t| &t.entry)
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
        self.entry(source, schema, table)?
            .permissions
            .get(&(action.to_string(), role.to_string()))
    }
}

/// `TableName` is a bare string (schema `public`) or `{schema, name}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum TableName {
    Bare(String),
    Qualified {
        #[serde(default)]
        schema: Lenient<String>,
        #[serde(default)]
        name: Lenient<String>,
    },
}

impl Default for TableName {
    fn default() -> Self {
        TableName::Qualified {
            schema: Lenient(None),
            name: Lenient(None),
        }
    }
}

impl TableName {
    /// Schema and name.
    pub fn parts(self) -> (String, String) {
        match self {
            TableName::Bare(n) => ("public".into(), n),
            TableName::Qualified { schema, name } => (
                schema.0.unwrap_or_else(|| "public".into()),
                name.0.unwrap_or_default(),
            ),
        }
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
        let resource_version = v.resource_version.0.ok_or_else(|| {
            HasuraError::other("Hasura's export_metadata (version 2) answer has no `resource_version`; this provider needs Hasura v2.0 or later")
        })?;
        let e = Arc::new(Export::new(resource_version, v.metadata));
        tracing::debug!(resource_version = e.resource_version, "exported metadata");
        *slot = Some(e.clone());
        Ok(e)
    }

    /// Forgets the cached export; the next read sees the server's state.
    pub async fn invalidate(&self) {
        *self.export.lock().await = None;
    }

    /// One metadata command. `resource_version` makes it a compare-and-swap,
    /// whose conflict is the caller's to settle (it must re-read what it
    /// writes). Without one, Hasura still compares against the version it
    /// read when the request started, and answers 409 `conflict` ("metadata
    /// resource version referenced (N) did not match current version") when
    /// another writer, e.g. another replica, stored first
    /// (`setMetadataInCatalog`, graphql-engine
    /// `server/src-lib/Hasura/RQL/DDL/Schema/Catalog.hs`; the envelope's
    /// `resource_version` defaults to the fetched one in `runMetadataQuery`,
    /// `Hasura/Server/API/Metadata.hs`). Nothing was stored then, so the
    /// command is re-read and sent again, like a `bulk` (see `batch.rs`).
    pub async fn command(
        &self,
        cancel: &CancellationToken,
        typ: &str,
        args: Value,
        resource_version: Option<i64>,
    ) -> Result<Value, HasuraError> {
        let mut body = json!({"type": typ, "args": args});
        let Some(rv) = resource_version else {
            let how = Settle {
                resending: "metadata changed concurrently (resource_version conflict); re-reading and sending the command again",
                landed: None,
                table: None,
                resends: CONFLICT_RETRIES as u32,
                backoff: false,
            };
            return settle_when(
                cancel,
                &how,
                HasuraError::is_conflict,
                || self.send(cancel, typ, &body, Idempotency::Unsafe),
                // `send` dropped the cached export: the next read is fresh.
                |_| async { Ok(ReadBack::Absent) },
            )
            .await
            .map_err(Unsettled::into_last_error);
        };
        body["resource_version"] = json!(rv);
        self.send(cancel, typ, &body, Idempotency::Idempotent).await
    }

    /// Sends a command; the cached export is dropped after anything that may
    /// have changed the metadata (success, lost answer, conflict).
    async fn send(
        &self,
        cancel: &CancellationToken,
        typ: &str,
        body: &Value,
        idem: Idempotency,
    ) -> Result<Value, HasuraError> {
        let r = self.post(cancel, PATH, typ, body, idem).await;
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

/// A table as Hasura names it: source, schema and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableRef<'a> {
    pub source: &'a str,
    pub schema: &'a str,
    pub name: &'a str,
}

impl<'a> TableRef<'a> {
    pub fn new(source: &'a str, schema: &'a str, name: &'a str) -> Self {
        TableRef {
            source,
            schema,
            name,
        }
    }

    /// `<source>.<schema>.<table>`: the resources' id and import id.
    pub fn id(&self) -> String {
        crate::hasura::ident::format_id(&[self.source, self.schema, self.name])
    }

    /// The arguments naming the table in a `pg_*` metadata command.
    pub fn args(&self) -> Value {
        json!({"source": self.source, "table": qualified_table(self.schema, self.name)})
    }
}

/// Drop/untrack of something already gone counts as done.
pub fn is_already_gone(e: &HasuraError) -> bool {
    e.code_is("already-untracked")
        || e.code_is("not-exists")
        || (e.status_is(400) && e.message().contains("does not exist"))
}

/// A command outside `bulk` that loses `resource_version` races, against
/// the Hasura emulator answering as a replica that lost one would.
#[cfg(test)]
mod tests {
    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use super::super::catalog::emulated::Emulated;
    use super::CONFLICT_RETRIES;

    #[tokio::test]
    async fn a_command_that_lost_a_race_is_sent_again() {
        let env = Emulated::start().await;
        env.out_of_band("CREATE TABLE public.t (id int PRIMARY KEY)")
            .await;
        let engine = env.engine();
        let cancel = CancellationToken::new();
        let conflicts = || env.emu.control.counters()["ops"]["metadata:conflict"].as_u64();
        let args = json!({"source": "default", "table": {"schema": "public", "name": "t"}});

        env.emu.conflict_next(3);
        engine
            .command(&cancel, "pg_track_table", args.clone(), None)
            .await
            .expect("tracked after three conflicts");
        assert_eq!(conflicts(), Some(3));
        let export = engine.export(&cancel).await.unwrap();
        assert!(export.table("default", "public", "t").is_some());

        // Bounded: a conflict that never ends is reported as itself.
        env.emu.control.reset_counters();
        env.emu.conflict_next(1000);
        let e = engine
            .command(&cancel, "pg_untrack_table", args, None)
            .await
            .unwrap_err();
        assert!(e.is_conflict(), "{e}");
        assert_eq!(conflicts(), Some(CONFLICT_RETRIES as u64 + 1));
        env.emu.conflict_next(0);
        env.stop().await;
    }
}
