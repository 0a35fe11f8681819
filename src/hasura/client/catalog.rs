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

use super::{Engine, HasuraError};

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
    pub fn record_planned_columns(
        &self,
        source: &str,
        schema: &str,
        name: &str,
        columns: PlannedColumns,
    ) {
        self.planned
            .record((source.into(), schema.into(), name.into()), columns);
    }

    /// What a `hasura_table` planned earlier in this process will make of the
    /// table; `None` when no plan of this process concerns it (the catalog
    /// is then the truth).
    pub fn planned_columns(
        &self,
        source: &str,
        schema: &str,
        name: &str,
    ) -> Option<PlannedColumns> {
        self.planned
            .get(&(source.into(), schema.into(), name.into()))
    }

    /// A table's catalog from this process's snapshot of its source; `None`
    /// when the table does not exist. Reflects every write this process made
    /// before the call.
    pub async fn table_catalog(
        &self,
        cancel: &CancellationToken,
        source: &str,
        schema: &str,
        name: &str,
    ) -> Result<Option<CatalogTable>, HasuraError> {
        if is_left_out(schema) {
            return self.table_catalog_fresh(cancel, source, schema, name).await;
        }
        let snapshot = self
            .catalogs
            .get(source, || self.fetch_snapshot(cancel, source))
            .await?;
        Ok(snapshot.table(schema, name).cloned())
    }

    /// One table read straight from the server (one `run_sql`), for when the
    /// answer must be as of now: before an ALTER, or to learn whether a write
    /// whose answer was lost landed.
    pub async fn table_catalog_fresh(
        &self,
        cancel: &CancellationToken,
        source: &str,
        schema: &str,
        name: &str,
    ) -> Result<Option<CatalogTable>, HasuraError> {
        let sql = format!(
            "SELECT COALESCE((SELECT {TABLE_JSON} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = {} AND c.relname = {} AND c.relkind IN ('r', 'p')), 'null'::json)",
            quote_literal(schema).map_err(HasuraError::other)?,
            quote_literal(name).map_err(HasuraError::other)?
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

/// An engine talking to the Hasura emulator on a throwaway PostgreSQL, for
/// tests that count the `run_sql` calls a code path makes.
#[cfg(test)]
pub(crate) mod emulated {
    use std::time::Duration;

    use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
    use tokio_util::sync::CancellationToken;

    use crate::hasura::client::sql::SqlOptions;
    use crate::hasura::client::Engine;
    use crate::http::{HttpClient, RetryPolicy};

    pub struct Emulated {
        pub emu: HasuraEmulator,
        _pg: TempPostgres,
    }

    impl Emulated {
        pub async fn start() -> Emulated {
            let pg = TempPostgres::start().expect("start temporary PostgreSQL");
            let emu = HasuraEmulator::start(HasuraConfig::new(pg.url()))
                .await
                .expect("start hasura emulator");
            Emulated { emu, _pg: pg }
        }

        /// A new engine: what one provider process would have.
        pub fn engine(&self) -> Engine {
            let http = HttpClient::new(
                "catalog-test",
                Duration::from_secs(30),
                RetryPolicy::default(),
            )
            .unwrap();
            let url = url::Url::parse(&self.emu.endpoint()).unwrap();
            Engine::new(http, &url, &self.emu.config.admin_secret).unwrap()
        }

        pub fn run_sql_calls(&self) -> u64 {
            self.emu.control.counters()["ops"]["run_sql"]
                .as_u64()
                .unwrap_or(0)
        }

        /// SQL from somewhere else (a migration, another process).
        pub async fn out_of_band(&self, sql: &str) {
            self.engine()
                .run_sql(
                    &CancellationToken::new(),
                    "default",
                    sql,
                    SqlOptions::default(),
                )
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }

        pub async fn stop(self) {
            self.emu.stop().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::emulated::Emulated;
    use super::*;
    use crate::hasura::client::sql::SqlOptions;

    use std::sync::atomic::AtomicUsize;

    fn snapshot_with(name: &str) -> Snapshot {
        let mut s = Snapshot::default();
        s.tables.insert(
            ("public".into(), name.into()),
            CatalogTable {
                comment: None,
                columns: vec![],
                primary_key: None,
            },
        );
        s
    }

    /// What the cache serves when a fetch would answer a snapshot holding `name`.
    async fn served(cache: &Cache, name: &'static str) -> Arc<Snapshot> {
        cache
            .get("default", || async move { Ok(snapshot_with(name)) })
            .await
            .unwrap()
    }

    #[test]
    fn planned_tables_merge() {
        use PlannedColumns::{Dropped, Known, Unknown};
        let known = |c: &[&str]| Known(c.iter().map(|s| s.to_string()).collect());
        let key = |n: &str| ("default".to_string(), "public".to_string(), n.to_string());
        let p = PlannedTables::default();
        assert_eq!(p.get(&key("t")), None);
        p.record(key("t"), known(&["id"]));
        p.record(key("t"), known(&["id"]));
        assert_eq!(p.get(&key("t")), Some(known(&["id"])));
        // Another resource drops the name: the one keeping it wins, in either order.
        p.record(key("t"), Dropped);
        assert_eq!(p.get(&key("t")), Some(known(&["id"])));
        p.record(key("u"), Dropped);
        assert_eq!(p.get(&key("u")), Some(Dropped));
        p.record(key("u"), known(&["a"]));
        assert_eq!(p.get(&key("u")), Some(known(&["a"])));
        // Two plans disagreeing, or one not knowing: nobody can tell.
        p.record(key("t"), known(&["id", "x"]));
        assert_eq!(p.get(&key("t")), Some(Unknown));
        p.record(key("t"), known(&["id"]));
        p.record(key("t"), Dropped);
        assert_eq!(p.get(&key("t")), Some(Unknown));
        p.record(key("u"), Unknown);
        assert_eq!(p.get(&key("u")), Some(Unknown));
    }

    #[test]
    fn left_out_schemas_match_the_sql() {
        for s in [
            "pg_catalog",
            "information_schema",
            "pg_toast",
            "pg_toast_temp_1",
            "pg_temp_3",
        ] {
            assert!(is_left_out(s), "{s}");
        }
        for s in ["public", "pg", "pgtoast", "hdb_catalog", "pg_tem"] {
            assert!(!is_left_out(s), "{s}");
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(Cache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get("default", || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(snapshot_with("t"))
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap().table("public", "t").is_some());
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // Another source has its own snapshot.
        cache
            .get("other", || async {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok(snapshot_with("t"))
            })
            .await
            .unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_kept() {
        let cache = Cache::default();
        let e = cache
            .get("default", || async { Err(HasuraError::other("boom")) })
            .await;
        assert!(e.is_err());
        let s = served(&cache, "t").await;
        assert!(s.table("public", "t").is_some());
    }

    #[tokio::test]
    async fn a_write_drops_the_snapshot() {
        let cache = Cache::default();
        served(&cache, "old").await;
        drop(cache.write());
        let s = served(&cache, "new").await;
        assert!(s.table("public", "new").is_some());
    }

    /// A fetch that was in flight while a write was answered may predate the
    /// write: its caller gets it, nobody after does.
    #[tokio::test]
    async fn a_fetch_overlapping_a_write_is_not_kept() {
        let cache = Arc::new(Cache::default());
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        let overlapping = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get("default", || async move {
                        started_tx.send(()).unwrap();
                        release_rx.await.unwrap();
                        Ok(snapshot_with("before"))
                    })
                    .await
                    .unwrap()
            })
        };
        started_rx.await.unwrap();
        drop(cache.write());
        release_tx.send(()).unwrap();
        let s = overlapping.await.unwrap();
        assert!(s.table("public", "before").is_some());
        let s = served(&cache, "after").await;
        assert!(
            s.table("public", "after").is_some(),
            "the pre-write fetch was served after the write"
        );
    }

    /// The guard also counts a write whose future was dropped mid-flight.
    #[tokio::test]
    async fn an_abandoned_write_drops_the_snapshot() {
        let cache = Arc::new(Cache::default());
        served(&cache, "old").await;
        let (sent_tx, sent_rx) = tokio::sync::oneshot::channel();
        let write = {
            let cache = cache.clone();
            tokio::spawn(async move {
                let _w = cache.write();
                sent_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            })
        };
        sent_rx.await.unwrap();
        write.abort();
        let _ = write.await;
        let s = served(&cache, "new").await;
        assert!(s.table("public", "new").is_some());
    }

    /// The snapshot holds each table exactly as the single-table read does.
    #[tokio::test]
    async fn the_snapshot_agrees_with_the_single_table_read() {
        let env = Emulated::start().await;
        env.out_of_band(
            "CREATE SCHEMA \"odd.schema\";
             CREATE TABLE public.plain (id text PRIMARY KEY, name text);
             CREATE TABLE public.shaped (a int, b varchar(20) NOT NULL DEFAULT 'x', c serial UNIQUE,
               d timestamptz DEFAULT now(), e numeric(10,2)[], PRIMARY KEY (b, a));
             COMMENT ON TABLE public.shaped IS 'it''s shaped';
             CREATE TABLE \"odd.schema\".\"Mixed Case\" (\"Col\" int);
             CREATE TABLE public.gone (x int); ALTER TABLE public.gone DROP COLUMN x;
             CREATE TABLE public.parted (k int NOT NULL, v text) PARTITION BY RANGE (k);
             CREATE TABLE public.part_1 PARTITION OF public.parted FOR VALUES FROM (0) TO (10);
             CREATE VIEW public.a_view AS SELECT 1 AS one;",
        )
        .await;
        let engine = env.engine();
        let cancel = CancellationToken::new();
        let tables = [
            ("public", "plain"),
            ("public", "shaped"),
            ("odd.schema", "Mixed Case"),
            ("public", "gone"),
            ("public", "parted"),
            ("public", "part_1"),
            ("public", "a_view"),
            ("public", "missing"),
            ("pg_catalog", "pg_class"),
        ];
        let mut fresh = Vec::new();
        for (schema, name) in tables {
            fresh.push(
                engine
                    .table_catalog_fresh(&cancel, "default", schema, name)
                    .await
                    .unwrap(),
            );
        }
        assert!(fresh[1].as_ref().unwrap().comment.is_some());
        assert!(fresh[6].is_none() && fresh[7].is_none());
        assert!(fresh[8].is_some());
        let before = env.run_sql_calls();
        for ((schema, name), want) in tables.iter().zip(&fresh) {
            let got = engine
                .table_catalog(&cancel, "default", schema, name)
                .await
                .unwrap();
            assert_eq!(&got, want, "{schema}.{name}");
        }
        // One snapshot, plus the left-out pg_catalog table read on its own.
        assert_eq!(env.run_sql_calls() - before, 2);
        env.stop().await;
    }

    #[tokio::test]
    async fn ddl_through_the_engine_is_seen_by_the_next_lookup() {
        let env = Emulated::start().await;
        env.out_of_band("CREATE TABLE public.t (id text PRIMARY KEY)")
            .await;
        let engine = env.engine();
        let cancel = CancellationToken::new();
        let columns = |t: Option<CatalogTable>| -> Vec<String> {
            t.unwrap().columns.into_iter().map(|c| c.name).collect()
        };
        let lookup = || engine.table_catalog(&cancel, "default", "public", "t");
        assert_eq!(columns(lookup().await.unwrap()), ["id"]);
        assert_eq!(columns(lookup().await.unwrap()), ["id"]);
        assert_eq!(env.run_sql_calls(), 2, "one setup, one snapshot");

        engine
            .run_sql(
                &cancel,
                "default",
                "ALTER TABLE public.t ADD COLUMN extra int",
                SqlOptions {
                    read_only: false,
                    check_metadata_consistency: Some(false),
                },
            )
            .await
            .unwrap();
        assert_eq!(columns(lookup().await.unwrap()), ["id", "extra"]);
        // A write that fails still may have changed something: dropped too.
        assert!(engine
            .run_sql(
                &cancel,
                "default",
                "ALTER TABLE public.nope ADD COLUMN x int",
                SqlOptions::default()
            )
            .await
            .is_err());
        lookup().await.unwrap();
        assert_eq!(env.run_sql_calls(), 6);

        // Probes in temporary tables leave the snapshot alone.
        engine
            .run_sql_temporary(
                &cancel,
                "default",
                "CREATE TEMP TABLE probe (x int) ON COMMIT DROP; SELECT 1",
            )
            .await
            .unwrap();
        lookup().await.unwrap();
        assert_eq!(env.run_sql_calls(), 7);

        // Another process's change is for the next process (command) to see.
        env.out_of_band("ALTER TABLE public.t ADD COLUMN later int")
            .await;
        assert_eq!(columns(lookup().await.unwrap()), ["id", "extra"]);
        let next = env.engine();
        assert_eq!(
            columns(
                next.table_catalog(&cancel, "default", "public", "t")
                    .await
                    .unwrap()
            ),
            ["id", "extra", "later"]
        );
        env.stop().await;
    }
}
