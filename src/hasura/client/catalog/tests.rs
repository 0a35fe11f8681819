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
                .table_catalog_fresh(&cancel, TableRef::new("default", schema, name))
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
            .table_catalog(&cancel, TableRef::new("default", schema, name))
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
    let lookup = || engine.table_catalog(&cancel, TableRef::new("default", "public", "t"));
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
            next.table_catalog(&cancel, TableRef::new("default", "public", "t"))
                .await
                .unwrap()
        ),
        ["id", "extra", "later"]
    );
    env.stop().await;
}
