//! Event triggers: `pg_create_event_trigger` / `pg_delete_event_trigger` in
//! the metadata (a tracked table's `event_triggers`), real PostgreSQL
//! triggers that log each change, and a delivery loop that POSTs the events
//! to their webhooks with retries.
//!
//! Sources (graphql-engine):
//! - arguments and checks: `server/src-lib/Hasura/RQL/DDL/EventTrigger.hs`
//!   (`CreateEventTriggerQuery`'s `FromJSON`: "only alphanumeric and
//!   underscore and hyphens allowed for name", "event trigger name can be at
//!   most 42 characters", "atleast one amongst insert/update/delete/
//!   enable_manual spec must be provided", "only one of webhook or
//!   webhook_from_env should be given", "must provide webhook or
//!   webhook_from_env", "found empty column specification";
//!   `resolveEventTriggerQuery`: the table must be tracked, listed columns
//!   must exist (`column "c" does not exist`), `replace` cannot move a
//!   trigger to another table (`not-supported`, "cannot replace table or
//!   schema for trigger"); `createEventTriggerQueryMetadata`: "Event trigger
//!   with name \"n\" already exists" (`already-exists`) without `replace`;
//!   `askEventTriggerInfo`: "event trigger \"n\" does not exist" (`not-exists`)
//!   for a replace or a delete of an unknown trigger);
//! - export shape: `Hasura/RQL/Types/Metadata/Serialization.hs`
//!   (`eventTriggerConfToOrdJSON`: `name`, `definition`, `retry_conf`, then
//!   `webhook`/`webhook_from_env`, `headers` when not empty), entries sorted
//!   by name; `TriggerOpsDef` carries `enable_manual` always and each op as
//!   `{"columns": "*" | [..]}`; `RetryConf` defaults to
//!   `{num_retries: 0, interval_sec: 10, timeout_sec: 60}`;
//! - SQL: `Hasura/Backends/Postgres/DDL/EventTrigger.hs` names the trigger
//!   and its function `notify_hasura_<name>_<OP>` (in `hdb_catalog`), reads
//!   the session from `current_setting('hasura.user')` (set by mutations,
//!   `setHeadersTx`) and logs into `hdb_catalog.event_log`; an update trigger
//!   on listed columns fires only when one of them changed;
//! - delivery: `Hasura/Eventing/EventTrigger.hs` (POST of `{event: {op,
//!   data: {old, new}, session_variables, trace_context}, created_at, id,
//!   delivery_info: {max_retries, current_retry}, trigger: {name}, table:
//!   {schema, name}}`; a non-2xx answer or a timeout is retried after
//!   `interval_sec` until `num_retries` is spent);
//! - `request_transform` and `cleanup_config`: `event_transform.rs`.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio_postgres::Client;

use crate::cron_triggers::{render_template, resolve_headers};
use crate::errors::{parse_failed, QErr};
use crate::event_transform as transform;
use crate::metadata::{Catalog, Metadata, QualifiedTable};
use crate::state::{load_metadata, AppState};

const KEY: &str = "event_triggers";
const OPS: [&str; 3] = ["insert", "update", "delete"];

type Env = BTreeMap<String, String>;
type Parse = fn(&str, &Value) -> Result<Value, QErr>;

fn default_retry_conf() -> Value {
    json!({"num_retries": 0, "interval_sec": 10, "timeout_sec": 60})
}

/// `RetryConf`'s `FromJSON` (Hasura/RQL/Types/EventTrigger.hs): generic
/// aeson with `omitNothingFields`, so `num_retries` and `interval_sec` are
/// required `Int`s (no sign check), `timeout_sec` an optional one left out of
/// the export when not given; only a missing `retry_conf` is
/// `defaultRetryConf`.
fn parse_retry_conf(cmd: &str, r: &Value) -> Result<Value, QErr> {
    let at = "$.args.retry_conf";
    let Some(r) = r.as_object() else {
        return Err(parse_failed(
            cmd,
            at,
            "parsing RetryConf failed, expected Object",
        ));
    };
    let mut out = Map::new();
    for (k, required) in [
        ("num_retries", true),
        ("interval_sec", true),
        ("timeout_sec", false),
    ] {
        match r.get(k) {
            None | Some(Value::Null) if required => {
                return Err(parse_failed(cmd, at, format!("key {k:?} not found")))
            }
            None | Some(Value::Null) => {}
            Some(v) if v.is_i64() => {
                out.insert(k.into(), v.clone());
            }
            Some(_) => {
                return Err(parse_failed(
                    cmd,
                    &format!("{at}.{k}"),
                    "parsing Int failed, expected Number",
                ))
            }
        }
    }
    Ok(Value::Object(out))
}

fn not_exists(name: &str) -> QErr {
    QErr::bad(
        "not-exists",
        "$.args",
        format!("event trigger \"{name}\" does not exist"),
    )
}

/// (source, table, index) of the trigger called `name`: names are unique in a source.
fn find(md: &Metadata, source: &str, name: &str) -> Option<(QualifiedTable, usize)> {
    md.sources.get(source)?.tables.values().find_map(|tm| {
        let list = tm.extra.get(KEY)?.as_array()?;
        let i = list.iter().position(|t| t["name"] == name)?;
        Some((tm.table.clone(), i))
    })
}

fn text(o: &Map<String, Value>, k: &str) -> Option<String> {
    o.get(k).and_then(Value::as_str).map(str::to_string)
}

pub fn create(
    md: &mut Metadata,
    catalog: &Catalog,
    env: &Env,
    cmd: &str,
    args: &Value,
) -> Result<Value, QErr> {
    let fail = |msg: &str| parse_failed(cmd, "$.args", msg);
    let o = args
        .as_object()
        .ok_or_else(|| fail("parsing CreateEventTriggerQuery failed, expected Object"))?;
    let source = text(o, "source").unwrap_or_else(|| "default".into());
    let name = match o.get("name") {
        Some(Value::String(s)) => s.clone(),
        None => return Err(fail("key \"name\" not found")),
        Some(_) => {
            return Err(parse_failed(
                cmd,
                "$.args.name",
                "parsing Text failed, expected String",
            ))
        }
    };
    let table = QualifiedTable::parse(
        o.get("table")
            .ok_or_else(|| fail("key \"table\" not found"))?,
    )
    .map_err(|m| parse_failed(cmd, "$.args.table", m))?;
    // `isIllegalTriggerName` (Hasura/RQL/Types/EventTrigger.hs): the regex
    // `^[A-Za-z]+[A-Za-z0-9_\-]*$`, ASCII only, a letter first.
    if !name.starts_with(|c: char| c.is_ascii_alphabetic())
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(fail(
            "only alphanumeric and underscore and hyphens allowed for name",
        ));
    }
    if name.chars().count() > 42 {
        return Err(fail("event trigger name can be at most 42 characters"));
    }
    let mut definition = Map::new();
    for op in OPS {
        let Some(spec) = o.get(op).filter(|v| !v.is_null()) else {
            continue;
        };
        let columns = spec.get("columns").cloned().unwrap_or(Value::Null);
        match &columns {
            Value::String(s) if s == "*" => {}
            Value::Array(a) if a.is_empty() => {
                return Err(fail("found empty column specification"))
            }
            Value::Array(a) if a.iter().all(Value::is_string) => {}
            _ => {
                return Err(parse_failed(
                    cmd,
                    &format!("$.args.{op}.columns"),
                    "expected \"*\" or an array of column names",
                ))
            }
        }
        definition.insert(op.into(), json!({"columns": columns}));
    }
    let enable_manual = matches!(o.get("enable_manual"), Some(Value::Bool(true)));
    if definition.is_empty() && !enable_manual {
        return Err(fail(
            "atleast one amongst insert/update/delete/enable_manual spec must be provided",
        ));
    }
    definition.insert("enable_manual".into(), json!(enable_manual));
    let (webhook, webhook_from_env) = (text(o, "webhook"), text(o, "webhook_from_env"));
    match (&webhook, &webhook_from_env) {
        (Some(_), Some(_)) => {
            return Err(fail(
                "only one of webhook or webhook_from_env should be given",
            ))
        }
        (None, None) => return Err(fail("must provide webhook or webhook_from_env")),
        _ => {}
    }
    let headers = o
        .get("headers")
        .cloned()
        .filter(|h| !h.is_null())
        .unwrap_or(json!([]));
    let retry_conf = match o.get("retry_conf") {
        None | Some(Value::Null) => default_retry_conf(),
        Some(r) => parse_retry_conf(cmd, r)?,
    };
    let replace = matches!(o.get("replace"), Some(Value::Bool(true)));
    let extras = [
        (
            "request_transform",
            transform::parse_request_transform as Parse,
        ),
        ("cleanup_config", transform::parse_cleanup as Parse),
    ]
    .into_iter()
    .filter_map(|(k, parse)| {
        let v = o.get(k).filter(|v| !v.is_null())?;
        Some(parse(cmd, v).map(|v| (k, v)))
    })
    .collect::<Result<Vec<_>, QErr>>()?;

    // `resolveEventTriggerQuery` / `createEventTriggerQueryMetadata`.
    let src = md.sources.get(&source).ok_or_else(|| {
        QErr::bad(
            "not-exists",
            "$.args",
            format!("source with name \"{source}\" does not exist"),
        )
    })?;
    if !src.tables.contains_key(&table) {
        return Err(QErr::bad(
            "not-exists",
            "$.args",
            format!("table \"{table}\" does not exist in source: {source}"),
        ));
    }
    let existing = find(md, &source, &name);
    match (&existing, replace) {
        (Some(_), false) => {
            return Err(QErr::bad(
                "already-exists",
                "$.args",
                format!("Event trigger with name \"{name}\" already exists"),
            ))
        }
        (None, true) => return Err(not_exists(&name)),
        (Some((t, _)), true) if *t != table => {
            return Err(QErr::bad(
                "not-supported",
                "$.args",
                "cannot replace table or schema for trigger",
            ))
        }
        _ => {}
    }
    let columns = catalog.get(&table).cloned().unwrap_or_default();
    for op in OPS {
        for c in definition
            .get(op)
            .and_then(|d| d["columns"].as_array())
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !columns.iter().any(|x| x == c) {
                return Err(QErr::bad(
                    "not-exists",
                    "$.args",
                    format!("column \"{c}\" does not exist"),
                ));
            }
        }
    }
    // The new object must resolve (`buildSchemaCacheFor`): webhook and header env vars.
    let resolved = match (&webhook, &webhook_from_env) {
        (Some(w), _) => render_template(w, env),
        (_, Some(e)) => env
            .get(e)
            .cloned()
            .ok_or_else(|| format!("environment variable '{e}' not set")),
        _ => unreachable!(),
    };
    resolved
        .and_then(|_| resolve_headers(&headers, env).map(|_| ()))
        .map_err(|reason| {
            QErr::bad(
                "invalid-configuration",
                "$.args",
                format!("Inconsistent object: {reason}"),
            )
        })?;

    let mut entry = Map::new();
    entry.insert("name".into(), json!(name));
    entry.insert("definition".into(), Value::Object(definition));
    entry.insert("retry_conf".into(), retry_conf);
    if let Some(w) = webhook {
        entry.insert("webhook".into(), json!(w));
    }
    if let Some(w) = webhook_from_env {
        entry.insert("webhook_from_env".into(), json!(w));
    }
    if headers.as_array().is_some_and(|h| !h.is_empty()) {
        entry.insert("headers".into(), headers);
    }
    // `eventTriggerConfToOrdJSON`: after `headers`, in this order.
    for (k, v) in extras {
        entry.insert(k.into(), v);
    }
    if let Some((t, i)) = existing {
        list_mut(md, &source, &t).remove(i);
    }
    let list = list_mut(md, &source, &table);
    list.push(Value::Object(entry));
    list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Ok(json!({"message": "success"}))
}

fn list_mut<'m>(md: &'m mut Metadata, source: &str, table: &QualifiedTable) -> &'m mut Vec<Value> {
    let tm = md
        .sources
        .get_mut(source)
        .and_then(|s| s.tables.get_mut(table))
        .expect("checked by the caller");
    let v = tm.extra.entry(KEY).or_insert_with(|| json!([]));
    if !v.is_array() {
        *v = json!([]);
    }
    v.as_array_mut().expect("an array")
}

pub fn delete(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = args.as_object().ok_or_else(|| {
        parse_failed(
            cmd,
            "$.args",
            "parsing DeleteEventTriggerQuery failed, expected Object",
        )
    })?;
    let source = text(o, "source").unwrap_or_else(|| "default".into());
    let name =
        text(o, "name").ok_or_else(|| parse_failed(cmd, "$.args", "key \"name\" not found"))?;
    let (table, i) = find(md, &source, &name).ok_or_else(|| not_exists(&name))?;
    list_mut(md, &source, &table).remove(i);
    Ok(json!({"message": "success"}))
}

fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One SQL trigger per (event trigger, operation) of the sources on one database.
struct SqlTrigger {
    name: String,
    op: &'static str,
    table: QualifiedTable,
    columns: Option<Vec<String>>,
}

fn wanted(md: &Metadata, sources: &[String]) -> Vec<SqlTrigger> {
    let mut out = Vec::new();
    let tables = sources
        .iter()
        .filter_map(|s| md.sources.get(s))
        .flat_map(|src| src.tables.values());
    for tm in tables {
        for t in tm
            .extra
            .get(KEY)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = t["name"].as_str().unwrap_or_default().to_string();
            for op in OPS {
                let Some(spec) = t["definition"].get(op) else {
                    continue;
                };
                let columns = spec["columns"].as_array().map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                });
                out.push(SqlTrigger {
                    name: name.clone(),
                    op,
                    table: tm.table.clone(),
                    columns,
                });
            }
        }
    }
    out
}

/// Brings every source database's triggers in line with the metadata after a
/// write: Hasura keeps each source's event log and triggers in that source's
/// own database (`hdb_catalog` there).
pub async fn sync_all(st: &AppState, md: &Metadata) -> Result<(), QErr> {
    let env = st.engine_env().await?;
    for (db, sources) in crate::sources::databases(st, md, &env).await {
        sync(&db, md, &sources).await?;
    }
    Ok(())
}

/// Brings one database's triggers in line with the event triggers of the
/// `sources` on it.
async fn sync(db: &Client, md: &Metadata, sources: &[String]) -> Result<(), QErr> {
    // Hasura prepares `hdb_catalog` in every source it adds (its source
    // catalog holds the event log).
    db.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS hdb_catalog;
         CREATE TABLE IF NOT EXISTS hdb_catalog.event_log (
             id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
             trigger_name text NOT NULL, schema_name text NOT NULL, table_name text NOT NULL,
             payload jsonb NOT NULL, delivered boolean NOT NULL DEFAULT false,
             error boolean NOT NULL DEFAULT false, tries integer NOT NULL DEFAULT 0,
             created_at timestamptz NOT NULL DEFAULT now(), next_retry_at timestamptz)",
    )
    .await?;
    let existing = db
        .query(
            "SELECT t.tgname, n.nspname, c.relname FROM pg_trigger t
             JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE t.tgname LIKE 'notify\\_hasura\\_%'",
            &[],
        )
        .await?;
    let want = wanted(md, sources);
    let mut sql = String::new();
    for row in existing {
        let (tg, schema, table): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        sql.push_str(&format!(
            "DROP TRIGGER IF EXISTS {} ON {}.{}; DROP FUNCTION IF EXISTS hdb_catalog.{}();\n",
            ident(&tg),
            ident(&schema),
            ident(&table),
            ident(&tg)
        ));
    }
    for w in &want {
        let fname = ident(&format!("notify_hasura_{}_{}", w.name, w.op.to_uppercase()));
        let (old, new) = match w.op {
            "insert" => ("NULL", "row_to_json(NEW)"),
            "update" => ("row_to_json(OLD)", "row_to_json(NEW)"),
            _ => ("row_to_json(OLD)", "NULL"),
        };
        let when = match &w.columns {
            Some(cols) if w.op == "update" => format!(
                " WHEN ({})",
                cols.iter()
                    .map(|c| format!("OLD.{0} IS DISTINCT FROM NEW.{0}", ident(c)))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
            _ => String::new(),
        };
        sql.push_str(&format!(
            "CREATE OR REPLACE FUNCTION hdb_catalog.{fname}() RETURNS trigger LANGUAGE plpgsql AS $f$
             BEGIN
               INSERT INTO hdb_catalog.event_log (trigger_name, schema_name, table_name, payload)
               VALUES ({name}, TG_TABLE_SCHEMA, TG_TABLE_NAME, json_build_object(
                 'op', TG_OP,
                 'data', json_build_object('old', {old}, 'new', {new}),
                 'session_variables', nullif(current_setting('hasura.user', true), '')::json));
               RETURN NULL;
             END $f$;
             CREATE TRIGGER {fname} AFTER {op} ON {schema}.{table} FOR EACH ROW{when}
               EXECUTE FUNCTION hdb_catalog.{fname}();\n",
            name = literal(&w.name),
            op = w.op.to_uppercase(),
            schema = ident(&w.table.schema),
            table = ident(&w.table.name),
        ));
    }
    if !sql.is_empty() {
        db.batch_execute(&format!("BEGIN;\n{sql}COMMIT;")).await?;
    }
    Ok(())
}

/// Delivers logged events until the emulator stops.
pub fn spawn_delivery(st: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Err(e) = deliver_due(&st, &http).await {
                tracing::debug!("event delivery: {}", e.error);
            }
        }
    })
}

async fn deliver_due(st: &AppState, http: &reqwest::Client) -> Result<(), QErr> {
    let (md, _) = load_metadata(&st.db).await?;
    let env = st.engine_env().await?;
    for (db, sources) in crate::sources::databases(st, &md, &env).await {
        deliver_from(st, http, &db, &md, &env, &sources).await?;
    }
    Ok(())
}

/// Delivers the due events logged in one source database.
async fn deliver_from(
    st: &AppState,
    http: &reqwest::Client,
    db: &Client,
    md: &Metadata,
    env: &Env,
    sources: &[String],
) -> Result<(), QErr> {
    let exists: bool = db
        .query_one(
            "SELECT to_regclass('hdb_catalog.event_log') IS NOT NULL",
            &[],
        )
        .await?
        .get(0);
    if !exists {
        return Ok(());
    }
    let rows = db
        .query(
            "SELECT id, trigger_name, schema_name, table_name, payload, tries,
                    to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')
             FROM hdb_catalog.event_log
             WHERE NOT delivered AND NOT error AND (next_retry_at IS NULL OR next_retry_at <= now())
             ORDER BY created_at LIMIT 20",
            &[],
        )
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    for row in rows {
        let (id, trigger, schema, table): (String, String, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let payload: Value = row.get(4);
        let tries: i32 = row.get(5);
        let created_at: String = row.get(6);
        let conf = sources.iter().find_map(|s| {
            let (t, i) = find(md, s, &trigger)?;
            md.sources
                .get(s)?
                .tables
                .get(&t)?
                .extra
                .get(KEY)?
                .get(i)
                .cloned()
        });
        let Some(conf) = conf else {
            // The trigger was deleted: its pending events are archived.
            db.execute(
                "UPDATE hdb_catalog.event_log SET error = true WHERE id = $1",
                &[&id],
            )
            .await?;
            continue;
        };
        let retry = &conf["retry_conf"];
        let max_retries = retry["num_retries"].as_i64().unwrap_or(0);
        let body = json!({
            "event": {
                "session_variables": payload["session_variables"],
                "op": payload["op"],
                "data": payload["data"],
                "trace_context": {"trace_id": format!("{:032x}", rand_u128()), "span_id": format!("{:016x}", rand_u128() as u64)},
            },
            "created_at": created_at,
            "id": id,
            "delivery_info": {"max_retries": max_retries, "current_retry": tries},
            "trigger": {"name": trigger},
            "table": {"schema": schema, "name": table},
        });
        let ok = post(http, &conf, env, &body).await;
        st.control.count(if ok {
            "events:delivered"
        } else {
            "events:failed_attempt"
        });
        let interval = retry["interval_sec"].as_i64().unwrap_or(10) as f64;
        db.execute(
            "UPDATE hdb_catalog.event_log SET tries = tries + 1, delivered = $2,
                        error = (NOT $2 AND tries + 1 > $3),
                        next_retry_at = now() + make_interval(secs => $4)
                 WHERE id = $1",
            &[&id, &ok, &(max_retries as i32), &interval],
        )
        .await?;
    }
    Ok(())
}

async fn post(http: &reqwest::Client, conf: &Value, env: &Env, body: &Value) -> bool {
    let url = match (conf["webhook"].as_str(), conf["webhook_from_env"].as_str()) {
        (Some(w), _) => render_template(w, env),
        (_, Some(e)) => env.get(e).cloned().ok_or(()).map_err(|_| String::new()),
        _ => return false,
    };
    let (Ok(url), Ok(headers)) = (url, resolve_headers(&conf["headers"], env)) else {
        return false;
    };
    let timeout = conf["retry_conf"]["timeout_sec"].as_u64().unwrap_or(60);
    // `applyRequestTransform` (see `event_transform.rs`); a transform that
    // fails to render fails the delivery, which is retried like any other.
    let call = match conf.get("request_transform") {
        Some(t) => match transform::apply(t, &url, body, headers) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("request transform: {e}");
                return false;
            }
        },
        None => transform::Call {
            method: "POST".into(),
            url,
            headers,
            body: Some((
                "application/json",
                serde_json::to_vec(body).unwrap_or_default(),
            )),
        },
    };
    let method =
        reqwest::Method::from_bytes(call.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut req = http
        .request(method, call.url)
        .timeout(Duration::from_secs(timeout.max(1)));
    if let Some((ct, bytes)) = call.body {
        req = req.header("content-type", ct).body(bytes);
    }
    for (k, v) in call.headers {
        req = req.header(k, v);
    }
    req.send().await.is_ok_and(|r| r.status().is_success())
}

fn rand_u128() -> u128 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        .wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
}
