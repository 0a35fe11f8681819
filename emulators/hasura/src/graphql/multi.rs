//! One request over several sources: each source's root fields run in a
//! transaction on that source's own database, as Hasura runs each source's
//! part of an operation through that source's pool. Within one source all
//! root fields share the transaction, so a failed mutation field rolls back
//! the ones before it; nothing commits unless every part succeeded.

use serde_json::{Map, Value};

use super::auth::Session;
use super::{exec, schema, GqlErr};
use crate::graphql_parse::{OpKind, Operation};
use crate::metadata::Metadata;
use crate::sources;
use crate::state::{load_metadata, AppState};

struct Conn {
    client: tokio_postgres::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The sources the GraphQL schema is built from: `default` first (fields no
/// source serves are reported from it), then every reachable source with
/// tracked tables. An unreachable source is inconsistent and not in the schema.
async fn connect_all(st: &AppState, md: &Metadata) -> Result<Vec<(String, Conn)>, GqlErr> {
    let env = st
        .engine_env()
        .await
        .map_err(|e| GqlErr::new("unexpected", "$", e.error))?;
    let mut names: Vec<&String> = md.sources.keys().filter(|n| *n == "default").collect();
    names.extend(
        md.sources
            .iter()
            .filter(|(n, s)| *n != "default" && !s.tables.is_empty())
            .map(|(n, _)| n),
    );
    let mut out = Vec::new();
    for name in names {
        let conf = &md.sources[name].configuration;
        let Ok(url) = sources::resolve_url(conf, &env, &st.settings.database_url) else {
            continue;
        };
        match sources::open(&url).await {
            Ok((client, task)) => out.push((name.clone(), Conn { client, task })),
            Err(e) if name == "default" => return Err(GqlErr::new("unexpected", "$", e)),
            Err(_) => continue,
        }
    }
    Ok(out)
}

pub async fn run(st: &AppState, session: &Session, op: &Operation) -> Result<Value, GqlErr> {
    let (md, _) = load_metadata(&st.db)
        .await
        .map_err(|e| GqlErr::new("unexpected", "$", e.error))?;
    let mut conns = connect_all(st, &md).await?;
    let mut txs = Vec::with_capacity(conns.len());
    let mut schemas = Vec::with_capacity(conns.len());
    for (name, conn) in conns.iter_mut() {
        let tx = conn
            .client
            .build_transaction()
            .read_only(op.kind == OpKind::Query)
            .start()
            .await?;
        if op.kind == OpKind::Mutation {
            // Hasura's `setHeadersTx`: event triggers read the session from here.
            tx.execute(
                "SELECT set_config('hasura.user', $1, true)",
                &[&session.to_json().to_string()],
            )
            .await?;
        }
        schemas.push(schema::Schema::load(&tx, &md, name).await?);
        txs.push(tx);
    }
    if txs.is_empty() {
        return Err(GqlErr::new("unexpected", "$", "no source is reachable"));
    }
    // Each root field goes to the source that serves it.
    let mut parts: Vec<Vec<_>> = vec![Vec::new(); txs.len()];
    for f in &op.fields {
        let i = schemas
            .iter()
            .position(|s| s.root(&f.name).is_some())
            .unwrap_or(0);
        parts[i].push(f.clone());
    }
    let mut data = Map::new();
    for (i, fields) in parts.into_iter().enumerate() {
        if fields.is_empty() {
            continue;
        }
        let part = Operation {
            kind: op.kind,
            fields,
        };
        if let Value::Object(m) = exec::run(&txs[i], &schemas[i], session, &part).await? {
            data.extend(m);
        }
    }
    for tx in txs {
        tx.commit().await?;
    }
    // The answer keeps the order of the request's fields.
    let ordered = op
        .fields
        .iter()
        .filter_map(|f| data.remove(&f.key).map(|v| (f.key.clone(), v)))
        .collect();
    Ok(Value::Object(ordered))
}
