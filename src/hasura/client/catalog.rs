//! The PostgreSQL catalog of a source's tables, read through `run_sql`.
//!
//! Refreshing N tables and planning N permissions would otherwise cost one
//! `run_sql` each, so lookups are served from one snapshot of every user
//! table per source and provider process. Each Terraform command starts new
//! provider processes, so changes made between commands are always seen; no
//! TTL, which could only hide drift. Within a process, every `run_sql` that
//! may write (see [`Engine::run_sql`]) moves the cache to a new generation,
//! and a snapshot is only served to callers of the generation its fetch
//! started in: a fetch that overlapped a write is handed to its own caller
//! (whose call overlapped the write too) and to nobody after the write.
//!
//! Apply paths that need the table as it is right now (the basis of an
//! ALTER, or whether an ambiguous CREATE/DROP landed) use
//! [`Engine::table_catalog_fresh`], which bypasses the snapshot.
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::hasura::ident::quote_literal;

use super::{Engine, HasuraError, TableRef};

/// A table's column names once this process's plan is applied.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnsAfterPlan {
    /// As a `hasura_table` planned in this process makes them.
    Planned(Vec<String>),
    /// As the catalog has them: no plan of this process concerns the table.
    Existing(Vec<String>),
    /// Destroyed by this plan, or replaced under another name.
    Dropped,
    /// Neither planned nor in the database.
    Absent,
    /// Cannot tell: a planned column name not known yet, or no catalog.
    Unknown,
}

fn planned_key(t: TableRef<'_>) -> (String, String, String) {
    (t.source.into(), t.schema.into(), t.name.into())
}

/// What the PostgreSQL catalog says about a table.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CatalogTable {
    pub comment: Option<String>,
    pub columns: Vec<CatalogColumn>,
    pub primary_key: Option<CatalogPk>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CatalogColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// Name of the single-column UNIQUE constraint, if any.
    pub unique: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CatalogPk {
    pub name: String,
    pub columns: Vec<String>,
}

/// One table as JSON, over `c` (its `pg_class` row). Shared by the
/// single-table and the snapshot query so the two cannot disagree.
const TABLE_JSON: &str = "json_build_object(
 'comment', obj_description(c.oid, 'pg_class'),
 'columns', COALESCE((SELECT json_agg(json_build_object(
 'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
 'default', pg_get_expr(d.adbin, d.adrelid),
 'unique', (SELECT u.conname FROM pg_constraint u WHERE u.conrelid = c.oid AND u.contype = 'u' AND u.conkey = ARRAY[a.attnum] LIMIT 1)
 ) ORDER BY a.attnum) FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::json),
 'primary_key', (SELECT json_build_object('name', p.conname, 'columns', (SELECT json_agg(a.attname ORDER BY k.ord)
 FROM unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum))
 FROM pg_constraint p WHERE p.conrelid = c.oid AND p.contype = 'p')
 )";

/// Schemas the snapshot leaves out: PostgreSQL's own, and other sessions'
/// temporary tables. Must match [`is_left_out`]; `left()` rather than LIKE
/// so `_` needs no escaping.
const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema')
 AND left(n.nspname, 8) <> 'pg_toast' AND left(n.nspname, 7) <> 'pg_temp'";

/// A table in one of these is looked up with its own query: the snapshot
/// does not hold it, and "absent from the snapshot" must mean "no such table".
fn is_left_out(schema: &str) -> bool {
    matches!(schema, "pg_catalog" | "information_schema")
        || schema.starts_with("pg_toast")
        || schema.starts_with("pg_temp")
}

/// Every user table of a source, as one query saw them.
#[derive(Debug, Default)]
pub struct Snapshot {
    tables: HashMap<(String, String), CatalogTable>,
}

impl Snapshot {
    pub fn table(&self, schema: &str, name: &str) -> Option<&CatalogTable> {
        self.tables.get(&(schema.to_string(), name.to_string()))
    }

    fn from_json(v: serde_json::Value) -> Result<Snapshot, HasuraError> {
        #[derive(Deserialize)]
        struct Entry {
            schema: String,
            name: String,
            table: CatalogTable,
        }
        let entries: Vec<Entry> = serde_json::from_value(v)
            .map_err(|e| HasuraError::other(format!("unexpected catalog snapshot: {e}")))?;
        Ok(Snapshot {
            tables: entries
                .into_iter()
                .map(|e| ((e.schema, e.name), e.table))
                .collect(),
        })
    }
}

/// Per-process snapshots, one per source, and the write generation.
#[derive(Default)]
pub(crate) struct Cache {
    /// Bumped by every write that may change a catalog. One counter for all
    /// sources: two sources may be the same database.
    generation: AtomicU64,
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Stored>>>>>,
}

struct Stored {
    generation: u64,
    snapshot: Arc<Snapshot>,
}

/// Moves the cache to a new generation when dropped: after the write it
/// guards has its answer, and also when the write's future is dropped
/// mid-flight, since the server may have applied it anyway.
pub(crate) struct WriteGuard<'a>(&'a Cache);

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.0.generation.fetch_add(1, Ordering::SeqCst);
    }
}

impl Cache {
    /// Held for the duration of any `run_sql` that may change a catalog.
    pub(crate) fn write(&self) -> WriteGuard<'_> {
        WriteGuard(self)
    }

    /// The snapshot of `source`, fetched with `fetch` unless one of the
    /// current generation is stored.
    async fn get<F, Fut>(&self, source: &str, fetch: F) -> Result<Arc<Snapshot>, HasuraError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Snapshot, HasuraError>>,
    {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(source.to_string())
            .or_default()
            .clone();
        // Held across the fetch: concurrent callers wait for it and then
        // share what it stored (single flight).
        let mut slot = slot.lock().await;
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(s) = slot.as_ref().filter(|s| s.generation == generation) {
            return Ok(s.snapshot.clone());
        }
        let snapshot = Arc::new(fetch().await?);
        // Tagged with the generation read before the query was sent: a write
        // answered during the fetch leaves it behind for every later caller.
        *slot = Some(Stored {
            generation,
            snapshot: snapshot.clone(),
        });
        Ok(snapshot)
    }
}

/// What a `hasura_table` planned in this process says its table will look
/// like once applied, for the permissions planned after it: in one apply
/// that adds a column and grants it, the catalog cannot know the column yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlannedColumns {
    /// Exactly these columns: the apply adds what is missing and drops the rest.
    Known(BTreeSet<String>),
    /// Not known before apply (a name computed from another resource, the
    /// table possibly replaced under a name not known yet, or two resources
    /// planning the same table differently).
    Unknown,
    /// The table is dropped: destroyed, or replaced under another name.
    Dropped,
}

/// The tables planned by this process, keyed by source, schema and name.
/// Terraform plans a table before the permissions whose `table` refers to
/// it, in the same provider process; the plan and apply walks are separate
/// processes, so an entry only ever describes the walk it was made in.
#[derive(Default)]
pub(crate) struct PlannedTables {
    tables: Mutex<HashMap<(String, String, String), PlannedColumns>>,
}

impl PlannedTables {
    fn record(&self, key: (String, String, String), columns: PlannedColumns) {
        use PlannedColumns::{Dropped, Known, Unknown};
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let merged = match (tables.get(&key), columns) {
            // A resource that keeps or creates the table under this name wins
            // over one that drops it, whichever was planned first.
            (Some(kept @ (Known(_) | Unknown)), Dropped) => kept.clone(),
            // Two resources planning one table differently: the check cannot
            // tell which wins, so it steps aside.
            (Some(Unknown), _) => Unknown,
            (Some(Known(old)), Known(new)) if *old != new => Unknown,
            (_, new) => new,
        };
        tables.insert(key, merged);
    }

    fn get(&self, key: &(String, String, String)) -> Option<PlannedColumns> {
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }
}

impl Engine {
    /// Records what a `hasura_table` plan of this process will make of its table.
    pub fn record_planned_columns(&self, t: TableRef<'_>, columns: PlannedColumns) {
        self.planned.record(planned_key(t), columns);
    }

    /// What a `hasura_table` planned earlier in this process will make of the
    /// table; `None` when no plan of this process concerns it (the catalog
    /// is then the truth).
    pub fn planned_columns(&self, t: TableRef<'_>) -> Option<PlannedColumns> {
        self.planned.get(&planned_key(t))
    }

    /// The table's column names once this process's plan is applied: as a
    /// `hasura_table` planned earlier in the process makes them, else as the
    /// catalog has them (unchanged tables are planned too, so a table no plan
    /// concerns is not managed by this configuration).
    pub async fn columns_after_plan(
        &self,
        cancel: &CancellationToken,
        t: TableRef<'_>,
    ) -> ColumnsAfterPlan {
        match self.planned_columns(t) {
            Some(PlannedColumns::Known(c)) => ColumnsAfterPlan::Planned(c.into_iter().collect()),
            Some(PlannedColumns::Dropped) => ColumnsAfterPlan::Dropped,
            Some(PlannedColumns::Unknown) => ColumnsAfterPlan::Unknown,
            None => match self.table_catalog(cancel, t).await {
                Ok(Some(cat)) => {
                    ColumnsAfterPlan::Existing(cat.columns.into_iter().map(|c| c.name).collect())
                }
                Ok(None) => ColumnsAfterPlan::Absent,
                Err(_) => ColumnsAfterPlan::Unknown,
            },
        }
    }

    /// A table's catalog from this process's snapshot of its source; `None`
    /// when the table does not exist. Reflects every write this process made
    /// before the call.
    pub async fn table_catalog(
        &self,
        cancel: &CancellationToken,
        t: TableRef<'_>,
    ) -> Result<Option<CatalogTable>, HasuraError> {
        if is_left_out(t.schema) {
            return self.table_catalog_fresh(cancel, t).await;
        }
        let snapshot = self
            .catalogs
            .get(t.source, || self.fetch_snapshot(cancel, t.source))
            .await?;
        Ok(snapshot.table(t.schema, t.name).cloned())
    }

    /// One table read straight from the server (one `run_sql`), for when the
    /// answer must be as of now: before an ALTER, or to learn whether a write
    /// whose answer was lost landed.
    pub async fn table_catalog_fresh(
        &self,
        cancel: &CancellationToken,
        t: TableRef<'_>,
    ) -> Result<Option<CatalogTable>, HasuraError> {
        let TableRef {
            source,
            schema,
            name,
        } = t;
        let sql = format!(
            "SELECT COALESCE((SELECT {TABLE_JSON} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = {} AND c.relname = {} AND c.relkind IN ('r', 'p')), 'null'::json)",
            quote_literal(schema).map_err(|e| HasuraError::other(e.to_string()))?,
            quote_literal(name).map_err(|e| HasuraError::other(e.to_string()))?
        );
        let v = self.query_json(cancel, source, &sql).await?;
        if v.is_null() {
            return Ok(None);
        }
        serde_json::from_value(v)
            .map(Some)
            .map_err(|e| HasuraError::other(format!("unexpected catalog row: {e}")))
    }

    async fn fetch_snapshot(
        &self,
        cancel: &CancellationToken,
        source: &str,
    ) -> Result<Snapshot, HasuraError> {
        let sql = format!(
            "SELECT COALESCE((SELECT json_agg(json_build_object('schema', n.nspname, 'name', c.relname, 'table', {TABLE_JSON}))
 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMAS}), '[]'::json)"
        );
        let snapshot = Snapshot::from_json(self.query_json(cancel, source, &sql).await?)?;
        tracing::debug!(
            source,
            tables = snapshot.tables.len(),
            "read catalog snapshot"
        );
        Ok(snapshot)
    }
}

#[cfg(test)]
pub(crate) mod emulated;

#[cfg(test)]
mod tests;
