//! `POST /v2/query`: `run_sql` on the real database, Hasura's result encoding, and the
//! post-DDL metadata consistency pass.

use serde_json::{json, Map, Value};
use tokio_postgres::SimpleQueryMessage;

use crate::column_types;
use crate::errors::QErr;
use crate::metadata::{Catalog, Metadata, QualifiedTable};
use crate::permissions::{bool_exp_columns, PermType};
use crate::sources;
use crate::state::{load_catalog, load_metadata, store_metadata, AppState};
use tokio_postgres::GenericClient;

pub async fn handle(st: &AppState, body: &Value) -> Result<Value, QErr> {
    let Value::Object(o) = body else {
        return Err(QErr::bad(
            "parse-failed",
            "$",
            "parsing RQLQuery failed, expected Object",
        ));
    };
    let typ = o.get("type").and_then(Value::as_str).unwrap_or_default();
    let args = o.get("args").cloned().unwrap_or(Value::Null);
    // graphql-engine `server/src-lib/Hasura/Server/API/V2Query.hs` (`runQuery`):
    // refused before anything runs when `queryModifiesUserDB`.
    if st.settings.read_only && modifies_user_db(body) {
        return Err(QErr::bad(
            "not-supported",
            "$",
            "Cannot run write queries when read-only mode is enabled",
        ));
    }
    match typ {
        "run_sql" | "pg_run_sql" => run_sql(st, &args).await,
        "bulk" | "concurrent_bulk" => {
            let Value::Array(items) = &args else {
                return Err(QErr::bad(
                    "parse-failed",
                    "$.args",
                    "parsing [a] failed, expected Array",
                ));
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let item_type = item.get("type").and_then(Value::as_str).unwrap_or_default();
                if typ == "concurrent_bulk"
                    && !item
                        .pointer("/args/read_only")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                {
                    return Err(QErr::bad(
                        "bad-request",
                        "$.args",
                        "Only read-only queries are allowed in a concurrent_bulk",
                    ));
                }
                if item_type == "bulk" || item_type == "concurrent_bulk" {
                    return Err(QErr::bad(
                        "parse-failed",
                        "$.args",
                        "nested bulk is not supported",
                    ));
                }
                // Each item is its own transaction, as on Hasura.
                out.push(Box::pin(handle(st, item)).await.map_err(|e| e.in_bulk(i))?);
            }
            Ok(Value::Array(out))
        }
        other => Err(QErr::bad(
            "parse-failed",
            "$",
            format!("Unrecognised RQLQuery type: {other}"),
        )),
    }
}

/// `queryModifiesUserDB` (V2Query.hs): `run_sql` unless `read_only`, a bulk
/// if any of its queries does, never a `concurrent_bulk`.
fn modifies_user_db(q: &Value) -> bool {
    match q.get("type").and_then(Value::as_str).unwrap_or_default() {
        "run_sql" | "pg_run_sql" => !q
            .pointer("/args/read_only")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        "bulk" => q
            .get("args")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(modifies_user_db)),
        _ => false,
    }
}

struct RunSql {
    sql: String,
    source: String,
    cascade: bool,
    check_metadata_consistency: Option<bool>,
    read_only: bool,
    no_transaction: bool,
}

fn parse_args(args: &Value) -> Result<RunSql, QErr> {
    let Value::Object(o) = args else {
        return Err(QErr::bad(
            "parse-failed",
            "$.args",
            "parsing RunSQL failed, expected Object",
        ));
    };
    let b = |k: &str| -> Result<Option<bool>, QErr> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(v)) => Ok(Some(*v)),
            Some(_) => Err(QErr::bad(
                "parse-failed",
                &format!("$.args.{k}"),
                "parsing Bool failed, expected Boolean",
            )),
        }
    };
    Ok(RunSql {
        sql: match o.get("sql") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(QErr::bad(
                    "parse-failed",
                    "$.args.sql",
                    "parsing Text failed, expected String",
                ))
            }
            None => return Err(QErr::bad("parse-failed", "$.args", "key \"sql\" not found")),
        },
        source: o
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string(),
        cascade: b("cascade")?.unwrap_or(false),
        check_metadata_consistency: b("check_metadata_consistency")?,
        read_only: b("read_only")?.unwrap_or(false),
        no_transaction: b("no_transaction")?.unwrap_or(false),
    })
}

/// Hasura's heuristic (case-insensitive, word-bounded):
/// `\balter\b|\bdrop\b|\breplace\b|\bcreate function\b|\bcomment on\b`.
pub fn contains_ddl_keyword(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    ["alter", "drop", "replace", "create function", "comment on"]
        .iter()
        .any(|kw| {
            lower.match_indices(kw).any(|(i, _)| {
                let before_ok = i == 0 || !is_word(bytes[i - 1]);
                let end = i + kw.len();
                let after_ok = end >= bytes.len() || !is_word(bytes[end]);
                before_ok && after_ok
            })
        })
}

async fn run_sql(st: &AppState, args: &Value) -> Result<Value, QErr> {
    let q = parse_args(args)?;
    st.control.count("run_sql");
    // The SQL runs on the source's own database (`args.source`); the metadata
    // stays in the engine's, which may or may not be the same one.
    let url = sources::url_of(st, &load_metadata(&st.db).await?.0, &q.source).await?;
    let same_db = url == st.settings.database_url;
    let check = !q.read_only
        && q.check_metadata_consistency
            .unwrap_or_else(|| contains_ddl_keyword(&q.sql));
    let (mut client, task) = sources::open(&url).await.map_err(QErr::unexpected)?;
    if q.no_transaction && !q.read_only {
        let result = run_outside_transaction(st, &mut client, &q, check, same_db).await;
        drop(client);
        task.abort();
        return result;
    }
    // Held across the SQL so a concurrent metadata write can't interleave with the diff.
    let _guard = if check {
        Some(st.metadata_lock.lock().await)
    } else {
        None
    };
    let result = async {
        let tx = client
            .build_transaction()
            .read_only(q.read_only)
            .start()
            .await?;
        let types_before: Option<Before> = match check {
            true => Some((column_types::load(&tx).await?, load_catalog(&tx).await?)),
            false => None,
        };
        let messages = match tx.simple_query(&q.sql).await {
            Ok(m) => m,
            Err(e) => return Err(pg_error(&q.sql, &e)),
        };
        if let Some(before) = types_before {
            if same_db {
                metadata_pass(&tx, &tx, &q, before).await?;
            } else {
                metadata_pass(&st.db, &tx, &q, before).await?;
            }
        }
        tx.commit().await?;
        Ok(encode(messages))
    }
    .await;
    drop(client);
    task.abort();
    result
}

/// `no_transaction: true`: graphql-engine runs every `run_sql` in a
/// transaction (`runRunSQL` in `server/src-lib/Hasura/Backends/Postgres/DDL/RunSQL.hs`
/// goes through `runTx`/`runTxWithCtx` on both branches), so `CREATE INDEX
/// CONCURRENTLY` fails there with SQLSTATE 25001 "cannot run inside a
/// transaction block" (the answer quoted in hasura/graphql-engine#10707).
/// v2.45.3's release notes add the optional `no_transaction` flag ("execute
/// SQL statements outside transaction blocks, with support for splitting
/// multiple statements"), which this mirrors: the SQL is sent without
/// BEGIN/COMMIT, so each statement commits on its own. (A multi-statement
/// string sent here runs as PostgreSQL's implicit transaction of one simple
/// query instead of being split; the provider sends one statement.) The
/// metadata pass, when asked for, runs afterwards in its own transaction,
/// since the SQL cannot be rolled back with it.
async fn run_outside_transaction(
    st: &AppState,
    client: &mut tokio_postgres::Client,
    q: &RunSql,
    check: bool,
    same_db: bool,
) -> Result<Value, QErr> {
    let _guard = if check {
        Some(st.metadata_lock.lock().await)
    } else {
        None
    };
    let messages = client
        .simple_query(&q.sql)
        .await
        .map_err(|e| pg_error(&q.sql, &e))?;
    if check {
        let tx = client.transaction().await?;
        let catalog = load_catalog(&tx).await?;
        if same_db {
            store_reconciled(&tx, &q.source, &catalog).await?;
        } else {
            store_reconciled(&st.db, &q.source, &catalog).await?;
        }
        tx.commit().await?;
    }
    Ok(encode(messages))
}

/// The catalog of the SQL's database and its column types, before the SQL.
type Before = (column_types::Types, Catalog);

/// The post-DDL pass of `withMetadataCheck` for the source the SQL ran on:
/// `meta` holds the metadata, `db` is the SQL's transaction.
async fn metadata_pass(
    meta: &impl GenericClient,
    db: &impl GenericClient,
    q: &RunSql,
    (types_before, catalog_before): Before,
) -> Result<(), QErr> {
    let (md, rv) = load_metadata(meta).await?;
    let own = one_source(&md, &q.source);
    column_types::check(
        &own,
        &q.source,
        &types_before,
        &column_types::load(db).await?,
    )?;
    let catalog = load_catalog(db).await?;
    crate::computed_fields::check_new_inconsistencies(&own, &catalog_before, &catalog)?;
    let (new_md, dependents) = reconcile(&md, &q.source, &catalog);
    if !dependents.is_empty() && !q.cascade {
        let mut dependents = dependents;
        dependents.sort();
        return Err(QErr::bad(
            "dependency-error",
            "$.args",
            format!(
                "cannot drop due to the following dependent objects : {}",
                dependents.join(", ")
            ),
        ));
    }
    if new_md != md {
        store_metadata(meta, rv, &new_md).await?;
    }
    Ok(())
}

/// Reconciles `source` with `catalog` and stores the result (no refusals:
/// the SQL already committed).
async fn store_reconciled(
    meta: &impl GenericClient,
    source: &str,
    catalog: &Catalog,
) -> Result<(), QErr> {
    let (md, rv) = load_metadata(meta).await?;
    let (new_md, _dependents) = reconcile(&md, source, catalog);
    if new_md != md {
        store_metadata(meta, rv, &new_md).await?;
    }
    Ok(())
}

/// `md` with only the source `name`, for checks that read one database.
fn one_source(md: &Metadata, name: &str) -> Metadata {
    Metadata {
        sources: md
            .sources
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect(),
        extra: md.extra.clone(),
    }
}

/// Hasura's `RunSQLRes`: only the last statement's result; every cell a string, SQL NULL
/// the string "NULL"; column names as the first row.
fn encode(messages: Vec<SimpleQueryMessage>) -> Value {
    let mut last: Option<Option<Vec<Vec<String>>>> = None;
    let mut current: Option<Vec<Vec<String>>> = None;
    for m in messages {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                current = Some(vec![cols.iter().map(|c| c.name().to_string()).collect()]);
            }
            SimpleQueryMessage::Row(row) => {
                let cells = (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL").to_string())
                    .collect();
                match current.as_mut() {
                    Some(rows) => rows.push(cells),
                    None => {
                        let header = row.columns().iter().map(|c| c.name().to_string()).collect();
                        current = Some(vec![header, cells]);
                    }
                }
            }
            SimpleQueryMessage::CommandComplete(_) => last = Some(current.take()),
            _ => {}
        }
    }
    match last.flatten() {
        Some(rows) => json!({"result_type": "TuplesOk", "result": rows}),
        None => json!({"result_type": "CommandOk", "result": null}),
    }
}

fn pg_error(sql: &str, e: &tokio_postgres::Error) -> QErr {
    let detail = match e.as_db_error() {
        Some(db) => json!({
            "description": db.detail(),
            "exec_status": "FatalError",
            "hint": db.hint(),
            "message": db.message(),
            "status_code": db.code().code(),
        }),
        None => json!({
            "description": null,
            "exec_status": "FatalError",
            "hint": null,
            "message": e.to_string(),
            "status_code": null,
        }),
    };
    let mut internal = Map::new();
    internal.insert("arguments".into(), json!([]));
    internal.insert("error".into(), detail);
    internal.insert("prepared".into(), json!(false));
    internal.insert("statement".into(), json!(sql));
    QErr::bad("postgres-error", "$", "query execution failed")
        .with_internal(Value::Object(internal))
}

/// After DDL: tracked tables that no longer exist are dropped from metadata (as Hasura's
/// schema diff does); permissions that lost a column they use are dependents, which need
/// `cascade` and are then dropped whole.
fn reconcile(md: &Metadata, source: &str, catalog: &Catalog) -> (Metadata, Vec<String>) {
    let mut out = md.clone();
    let mut dependents = Vec::new();
    for src in out.sources.values_mut() {
        if src.kind != "postgres" || src.name != source {
            continue;
        }
        src.tables.retain(|t, _| catalog.contains_key(t));
        dependents.extend(crate::relationships::reconcile_ddl(src, catalog));
        for (t, tm) in src.tables.iter_mut() {
            let cols = &catalog[t];
            let others = tm.relationship_like_names();
            let mut lost: Vec<(PermType, String)> = Vec::new();
            for pt in PermType::ALL {
                for pd in tm.perms(pt) {
                    let before = md.sources[&src.name].tables[t].perm(pt, &pd.role);
                    let uses_missing = pd
                        .permission
                        .referenced_columns()
                        .iter()
                        .chain(
                            pd.permission
                                .bool_exps()
                                .iter()
                                .flat_map(|e| bool_exp_columns(e))
                                .filter(|c| !others.contains(c))
                                .collect::<Vec<_>>()
                                .iter(),
                        )
                        .any(|c| !cols.contains(c));
                    if uses_missing && before.is_some() {
                        lost.push((pt, pd.role.clone()));
                    }
                }
            }
            for (pt, role) in lost {
                dependents.push(permission_name(t, &role, pt, source));
                if let Some(m) = tm.permissions.get_mut(&pt) {
                    m.remove(&role);
                }
            }
            tm.permissions.retain(|_, m| !m.is_empty());
        }
    }
    (out, dependents)
}

/// `reportSchemaObj` (`Hasura/RQL/Types/SchemaCacheTypes.hs`), with its
/// `inSource` suffix; the list is sorted, as `reportSchemaObjs` sorts it.
fn permission_name(t: &QualifiedTable, role: &str, pt: PermType, source: &str) -> String {
    format!("permission {t}.{role}.{} in source \"{source}\"", pt.code())
}

#[cfg(test)]
mod tests {
    use super::contains_ddl_keyword;

    #[test]
    fn ddl_heuristic_matches_hasura() {
        assert!(contains_ddl_keyword("ALTER TABLE a ADD COLUMN b int"));
        assert!(contains_ddl_keyword("drop table x"));
        assert!(contains_ddl_keyword("CREATE FUNCTION f() ..."));
        assert!(!contains_ddl_keyword("create table item (id serial)"));
        assert!(!contains_ddl_keyword("select dropped_at from t"));
    }
}
