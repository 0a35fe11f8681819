//! Databases (sources) besides the one holding the metadata: `pg_add_source` /
//! `pg_drop_source`, how a source's `database_url` resolves, one shared
//! connection per database for catalog reads, and each source's catalog as a
//! request sees it.
//!
//! graphql-engine `server/src-lib/Hasura/RQL/DDL/Schema/Source.hs`:
//! - `runAddSource`: a name already in the metadata is `already-exists`
//!   "source with name \"x\" already exists" unless `replace_configuration`,
//!   which replaces the configuration and the customization and keeps the
//!   tables; then `buildSchemaCacheFor (MOSource name)`, so a source that
//!   cannot be resolved or reached is the command's own inconsistency
//!   (`invalid-configuration`) and nothing is stored.
//! - `runDropSource`: an unknown name is `not-exists` "source with name \"x\"
//!   does not exist"; `cascade` is only about other sources' remote
//!   relationships into this one, so tables do not need it.
//!
//! Connection settings: `Hasura/Backends/Postgres/Connection/Settings.hs`
//! (`PostgresSourceConnInfo`, `PostgresPoolSettings`, `parseConnLifeTime`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio_postgres::Client;

use crate::errors::{parse_failed, QErr};
use crate::metadata::{Catalog, Inconsistency, Metadata, ObjId, Source};
use crate::metadata_api::{args_obj, bool_arg, Envelope};
use crate::permissions::canonical;
use crate::state::{connect, load_catalog, AppState};

/// The env var the `default` source reads: the engine's own database.
const DEFAULT_URL_VAR: &str = "HASURA_GRAPHQL_DATABASE_URL";

/// Catalog of every source configuration a request may meet, keyed by the
/// configuration: `Err` holds why the source is inconsistent.
#[derive(Default)]
pub struct Catalogs {
    by_config: HashMap<String, Result<Catalog, String>>,
    empty: Catalog,
}

impl Catalogs {
    pub fn of(&self, src: &Source) -> Result<&Catalog, &str> {
        match self.by_config.get(&src.configuration.to_string()) {
            Some(Ok(c)) => Ok(c),
            Some(Err(reason)) => Err(reason),
            None => Err("database query error"),
        }
    }

    /// The catalog of the source `name` of `md`, empty when the source is
    /// unknown or unreachable (the command then fails on its own checks).
    pub fn named(&self, md: &Metadata, name: &str) -> &Catalog {
        md.sources
            .get(name)
            .and_then(|s| self.of(s).ok())
            .unwrap_or(&self.empty)
    }
}

/// One shared connection per database URL, for catalog reads; transactions
/// (`run_sql`, GraphQL) open their own. A closed one is replaced.
#[derive(Default)]
pub struct Pools(tokio::sync::Mutex<HashMap<String, Arc<Client>>>);

impl Pools {
    async fn client(&self, url: &str) -> Result<Arc<Client>, String> {
        let mut map = self.0.lock().await;
        if let Some(c) = map.get(url).filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let client = Arc::new(open(url).await?.0);
        map.insert(url.to_string(), client.clone());
        Ok(client)
    }
}

/// Connects within a bound, with an error that never names the URL (it may
/// hold a password): Hasura reports an unreachable source as
/// "database query error" (`mkTxErrorHandler`'s unexpected error).
pub async fn open(url: &str) -> Result<(Client, tokio::task::JoinHandle<()>), String> {
    match tokio::time::timeout(Duration::from_secs(5), connect(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => {
            tracing::debug!("source connection failed: {}", e.root_cause());
            Err("database query error".into())
        }
        Err(_) => Err("database query error".into()),
    }
}

/// The URL a source configuration names, resolved against the engine's env
/// (`resolveUrlConf`, `Hasura/RQL/Types/Common.hs`): a missing variable is
/// "environment variable 'X' not set". Read replicas' URLs are resolved too
/// (the source's configuration resolves as a whole); only the primary is
/// connected to, as Hasura introspects through one pool.
pub fn resolve_url(
    configuration: &Value,
    env: &BTreeMap<String, String>,
    engine_db: &str,
) -> Result<String, String> {
    let replicas = configuration["read_replicas"].as_array();
    for r in replicas.into_iter().flatten() {
        resolve_one(&r["database_url"], env, engine_db)?;
    }
    resolve_one(
        &configuration["connection_info"]["database_url"],
        env,
        engine_db,
    )
}

fn resolve_one(
    url: &Value,
    env: &BTreeMap<String, String>,
    engine_db: &str,
) -> Result<String, String> {
    match url {
        Value::String(s) => Ok(s.clone()),
        Value::Object(o) => {
            if let Some(var) = o.get("from_env").and_then(Value::as_str) {
                return match env.get(var) {
                    Some(v) => Ok(v.clone()),
                    None if var == DEFAULT_URL_VAR => Ok(engine_db.to_string()),
                    None => Err(format!("environment variable '{var}' not set")),
                };
            }
            if let Some(p) = o.get("connection_parameters") {
                let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default();
                let password = match s("password") {
                    "" => String::new(),
                    pw => format!(":{pw}"),
                };
                let port = p.get("port").and_then(Value::as_i64).unwrap_or(5432);
                return Ok(format!(
                    "postgres://{}{password}@{}:{port}/{}",
                    s("username"),
                    s("host"),
                    s("database")
                ));
            }
            Err("database query error".into())
        }
        _ => Err("database query error".into()),
    }
}

/// The URL of source `name` for `run_sql` and GraphQL, or Hasura's refusal.
pub async fn url_of(st: &AppState, md: &Metadata, name: &str) -> Result<String, QErr> {
    let src = md.sources.get(name).ok_or_else(|| not_exists(name))?;
    let env = st.engine_env().await?;
    resolve_url(&src.configuration, &env, &st.settings.database_url).map_err(|_| {
        QErr::bad(
            "unexpected",
            "$",
            format!("source with name \"{name}\" is inconsistent"),
        )
    })
}

/// The shared connection to each reachable source database, with the
/// sources that use it (two sources may name one database).
pub async fn databases(
    st: &AppState,
    md: &Metadata,
    env: &BTreeMap<String, String>,
) -> Vec<(Arc<Client>, Vec<String>)> {
    let mut by_url: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, src) in &md.sources {
        if let Ok(url) = resolve_url(&src.configuration, env, &st.settings.database_url) {
            by_url.entry(url).or_default().push(name.clone());
        }
    }
    let mut out = Vec::new();
    for (url, names) in by_url {
        if let Ok(c) = st.pools.client(&url).await {
            out.push((c, names));
        }
    }
    out
}

/// Every configuration the request may leave in the metadata: the stored
/// sources, and those `add_source` / `replace_metadata` bring (in a bulk too).
fn configurations(md: &Metadata, body: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = md
        .sources
        .values()
        .map(|s| s.configuration.clone())
        .collect();
    let mut stack = vec![body.clone()];
    while let Some(q) = stack.pop() {
        let Ok(env) = Envelope::parse(&q, "$") else {
            continue;
        };
        let base = env.typ.strip_prefix("pg_").unwrap_or(&env.typ);
        match base {
            "bulk" | "bulk_keep_going" => {
                stack.extend(env.args.as_array().cloned().unwrap_or_default())
            }
            "add_source" => {
                if let Ok(c) = parse_configuration(&env.typ, &env.args["configuration"]) {
                    out.push(c);
                }
            }
            "replace_metadata" => {
                let doc = env.args.get("metadata").unwrap_or(&env.args);
                if let Ok(m) = Metadata::parse(doc) {
                    out.extend(m.sources.into_values().map(|s| s.configuration));
                }
            }
            _ => {}
        }
    }
    out
}

/// Reads the catalog of every source the request may touch. The engine's own
/// database is read on `st.db`; others through the pool map.
pub async fn probe(
    st: &AppState,
    md: &Metadata,
    body: &Value,
    env: &BTreeMap<String, String>,
) -> Result<Catalogs, QErr> {
    let mut catalogs = Catalogs::default();
    for conf in configurations(md, body) {
        let key = conf.to_string();
        if catalogs.by_config.contains_key(&key) {
            continue;
        }
        let result = match resolve_url(&conf, env, &st.settings.database_url) {
            Err(reason) => Err(reason),
            Ok(url) if url == st.settings.database_url => Ok(load_catalog(&st.db).await?),
            Ok(url) => match st.pools.client(&url).await {
                Ok(c) => load_catalog(&*c)
                    .await
                    .map_err(|_| "database query error".to_string()),
                Err(reason) => Err(reason),
            },
        };
        catalogs.by_config.insert(key, result);
    }
    Ok(catalogs)
}

/// A source that cannot be resolved or reached, as `get_inconsistent_metadata`
/// lists it.
pub fn inconsistency(src: &Source, reason: &str) -> Inconsistency {
    Inconsistency {
        id: ObjId::Source(src.name.clone()),
        json: json!({
            "definition": src.name,
            "name": format!("source {}", src.name),
            "reason": format!("Inconsistent object: {reason}"),
            "type": "source",
        }),
    }
}

fn not_exists(name: &str) -> QErr {
    QErr::bad(
        "not-exists",
        "$.args",
        format!("source with name \"{name}\" does not exist"),
    )
}

/// `SourceName`: `default`, or any non-empty text.
fn name_arg(cmd: &str, o: &Map<String, Value>) -> Result<String, QErr> {
    match o.get("name") {
        Some(Value::String(s)) if s.is_empty() => {
            Err(parse_failed(cmd, "$.args.name", "empty string not allowed"))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(parse_failed(
            cmd,
            "$.args.name",
            "parsing Text failed, expected String",
        )),
        None => Err(parse_failed(cmd, "$.args", "key \"name\" not found")),
    }
}

/// `pg_add_source`; returns the source to rebuild (its own inconsistency is
/// the command's error).
pub fn add(md: &mut Metadata, cmd: &str, args: &Value) -> Result<ObjId, QErr> {
    let o = args_obj(cmd, args)?;
    let name = name_arg(cmd, o)?;
    let conf = o
        .get("configuration")
        .ok_or_else(|| parse_failed(cmd, "$.args", "key \"configuration\" not found"))?;
    let configuration = parse_configuration(cmd, conf)?;
    let replace = bool_arg(cmd, o, "replace_configuration")?;
    let customization = match o.get("customization") {
        None | Some(Value::Null) => None,
        Some(Value::Object(c)) if c.is_empty() => None,
        Some(c @ Value::Object(_)) => Some(c.clone()),
        Some(_) => {
            return Err(parse_failed(
                cmd,
                "$.args.customization",
                "parsing SourceCustomization failed, expected Object",
            ))
        }
    };
    match md.sources.get_mut(&name) {
        Some(_) if !replace => {
            return Err(QErr::bad(
                "already-exists",
                "$.args",
                format!("source with name \"{name}\" already exists"),
            ))
        }
        Some(src) => {
            src.configuration = configuration;
            match customization {
                Some(c) => src.extra.insert("customization".into(), c),
                None => src.extra.remove("customization"),
            };
        }
        None => {
            let mut extra = Map::new();
            if let Some(c) = customization {
                extra.insert("customization".into(), c);
            }
            let src = Source {
                name: name.clone(),
                kind: "postgres".into(),
                tables: Default::default(),
                configuration,
                extra,
            };
            md.sources.insert(name.clone(), src);
        }
    }
    Ok(ObjId::Source(name))
}

/// `pg_drop_source`.
pub fn drop(md: &mut Metadata, cmd: &str, args: &Value) -> Result<(), QErr> {
    let o = args_obj(cmd, args)?;
    let name = name_arg(cmd, o)?;
    bool_arg(cmd, o, "cascade")?;
    md.sources
        .remove(&name)
        .map(|_| ())
        .ok_or_else(|| not_exists(&name))
}

/// `PostgresConnConfiguration` in the form the export shows it (keys sorted,
/// as the emulator stores every configuration).
pub fn parse_configuration(cmd: &str, v: &Value) -> Result<Value, QErr> {
    let base = "$.args.configuration";
    let Value::Object(o) = v else {
        return Err(parse_failed(
            cmd,
            base,
            "parsing PostgresConnConfiguration failed, expected Object",
        ));
    };
    let info = o
        .get("connection_info")
        .ok_or_else(|| parse_failed(cmd, base, "key \"connection_info\" not found"))?;
    let mut out = Map::new();
    out.insert(
        "connection_info".into(),
        conn_info(cmd, &format!("{base}.connection_info"), info)?,
    );
    match o.get("read_replicas") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) if list.is_empty() => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.read_replicas"),
                "parsing NonEmpty failed, unexpected empty list",
            ))
        }
        Some(Value::Array(list)) => {
            let replicas = list
                .iter()
                .enumerate()
                .map(|(i, r)| conn_info(cmd, &format!("{base}.read_replicas[{i}]"), r))
                .collect::<Result<Vec<_>, _>>()?;
            out.insert("read_replicas".into(), Value::Array(replicas));
        }
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.read_replicas"),
                "parsing NonEmpty failed, expected Array",
            ))
        }
    }
    match o.get("extensions_schema") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "public" => {}
        Some(s) => {
            out.insert("extensions_schema".into(), s.clone());
        }
    }
    for k in ["connection_template", "connection_set"] {
        if let Some(x) = o.get(k).filter(|x| !x.is_null()) {
            out.insert(k.into(), x.clone());
        }
    }
    Ok(canonical(&Value::Object(out)))
}

/// `PostgresSourceConnInfo`: `use_prepared_statements` defaults to false and
/// `isolation_level` to `read-committed`, both always exported; pool settings
/// only as given, except `connection_lifetime` (`parseConnLifeTime`: absent
/// means 600, 0 means none and is not exported).
fn conn_info(cmd: &str, path: &str, v: &Value) -> Result<Value, QErr> {
    let Value::Object(o) = v else {
        return Err(parse_failed(
            cmd,
            path,
            "parsing PostgresSourceConnInfo failed, expected Object",
        ));
    };
    let url = match o.get("database_url") {
        Some(u @ Value::String(_)) => u.clone(),
        Some(Value::Object(u))
            if u.get("from_env").is_some_and(Value::is_string)
                || u.contains_key("connection_parameters") =>
        {
            Value::Object(u.clone())
        }
        Some(Value::Object(_)) => {
            return Err(parse_failed(
                cmd,
                &format!("{path}.database_url"),
                "key \"from_env\" not found",
            ))
        }
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{path}.database_url"),
                "one of string or object must be provided for url/webhook",
            ))
        }
        None => return Err(parse_failed(cmd, path, "key \"database_url\" not found")),
    };
    let mut out = Map::new();
    out.insert("database_url".into(), url);
    match o.get("pool_settings") {
        None | Some(Value::Null) => {}
        Some(p) => {
            out.insert(
                "pool_settings".into(),
                pool_settings(cmd, &format!("{path}.pool_settings"), p)?,
            );
        }
    }
    let prepared = match o.get("use_prepared_statements") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{path}.use_prepared_statements"),
                "parsing Bool failed, expected Boolean",
            ))
        }
    };
    out.insert("use_prepared_statements".into(), json!(prepared));
    let iso = match o.get("isolation_level") {
        None | Some(Value::Null) => "read-committed",
        Some(Value::String(s))
            if matches!(
                s.as_str(),
                "read-committed" | "repeatable-read" | "serializable"
            ) =>
        {
            s.as_str()
        }
        Some(Value::String(_)) => {
            return Err(parse_failed(
                cmd,
                &format!("{path}.isolation_level"),
                "Only expecting read-committed / repeatable-read / serializable",
            ))
        }
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{path}.isolation_level"),
                "parsing Q.TxIsolation failed, expected String",
            ))
        }
    };
    out.insert("isolation_level".into(), json!(iso));
    if let Some(ssl) = o.get("ssl_configuration").filter(|x| !x.is_null()) {
        out.insert("ssl_configuration".into(), ssl.clone());
    }
    Ok(Value::Object(out))
}

fn pool_settings(cmd: &str, path: &str, v: &Value) -> Result<Value, QErr> {
    let Value::Object(o) = v else {
        return Err(parse_failed(
            cmd,
            path,
            "parsing PostgresPoolSettings failed, expected Object",
        ));
    };
    let mut out = Map::new();
    for k in [
        "max_connections",
        "total_max_connections",
        "idle_timeout",
        "retries",
    ] {
        match o.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) if n.is_i64() => {
                out.insert(k.into(), Value::Number(n.clone()));
            }
            Some(_) => {
                return Err(parse_failed(
                    cmd,
                    &format!("{path}.{k}"),
                    "parsing Int failed, expected Number",
                ))
            }
        }
    }
    let seconds = |k: &str| -> Result<Option<f64>, QErr> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(_) => Err(parse_failed(
                cmd,
                &format!("{path}.{k}"),
                "parsing NominalDiffTime failed, expected Number",
            )),
        }
    };
    if let Some(t) = seconds("pool_timeout")? {
        out.insert("pool_timeout".into(), number(t));
    }
    match seconds("connection_lifetime")? {
        None => {
            out.insert("connection_lifetime".into(), json!(600));
        }
        Some(0.0) => {}
        Some(t) => {
            out.insert("connection_lifetime".into(), number(t));
        }
    }
    Ok(Value::Object(out))
}

/// A whole number of seconds prints as an integer, as aeson prints a
/// `NominalDiffTime` with no fraction.
fn number(t: f64) -> Value {
    if t.fract() == 0.0 && t.abs() < 1e15 {
        json!(t as i64)
    } else {
        json!(t)
    }
}
