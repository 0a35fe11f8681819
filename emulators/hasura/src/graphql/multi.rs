//! One request over several sources: each source's root fields run in a
//! transaction on that source's own database, as Hasura runs each source's
//! part of an operation through that source's pool. Within one source all
//! root fields share the transaction, so a failed mutation field rolls back
//! the ones before it; nothing commits unless every part succeeded.

use serde_json::{Map, Value};

use super::auth::Session;
use super::{exec, schema, GqlErr};
use crate::graphql_parse::{OpKind, Operation, RootField};
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

/// A source's `customization.root_fields` (graphql-engine
/// `RootFieldsCustomization`, `Hasura/RQL/Types/SourceCustomization.hs`):
/// every root field of the source is `prefix + name + suffix`, and all of
/// them sit under one `namespace` field when it is set.
#[derive(Default)]
struct RootFields {
    namespace: Option<String>,
    prefix: String,
    suffix: String,
}

impl RootFields {
    fn of(md: &Metadata, source: &str) -> RootFields {
        let rf = md
            .sources
            .get(source)
            .and_then(|s| s.extra.get("customization"))
            .map(|c| &c["root_fields"]);
        let text = |k: &str| rf.and_then(|r| r[k].as_str()).map(str::to_string);
        RootFields {
            namespace: text("namespace"),
            prefix: text("prefix").unwrap_or_default(),
            suffix: text("suffix").unwrap_or_default(),
        }
    }

    /// The name the source's schema knows a requested root field by.
    fn own_name<'n>(&self, name: &'n str) -> Option<&'n str> {
        name.strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())
    }

    /// A requested field as a root field of the source: its own name, the
    /// requested key (alias or customised name) kept for the answer.
    fn unwrap(
        &self,
        key: &str,
        name: &str,
        args: &Map<String, Value>,
        children: &[crate::graphql_parse::Sel],
    ) -> RootField {
        RootField {
            key: key.to_string(),
            name: self.own_name(name).unwrap_or(name).to_string(),
            args: args.clone(),
            children: children.to_vec(),
        }
    }
}

pub async fn run(st: &AppState, session: &Session, op: &Operation) -> Result<Value, GqlErr> {
    let (md, _) = load_metadata(&st.db)
        .await
        .map_err(|e| GqlErr::new("unexpected", "$", e.error))?;
    let mut conns = connect_all(st, &md).await?;
    let custom: Vec<RootFields> = conns
        .iter()
        .map(|(name, _)| RootFields::of(&md, name))
        .collect();
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
    // Each root field goes to the source that serves it, under its own name.
    let mut parts: Vec<Vec<RootField>> = vec![Vec::new(); txs.len()];
    let mut namespaced: Vec<(usize, String, Vec<RootField>)> = Vec::new();
    for f in &op.fields {
        if let Some(i) = custom
            .iter()
            .position(|c| c.namespace.as_deref() == Some(f.name.as_str()))
        {
            let fields = f
                .children
                .iter()
                .map(|c| custom[i].unwrap(&c.key, &c.name, &c.args, &c.children))
                .collect();
            namespaced.push((i, f.key.clone(), fields));
            continue;
        }
        let served = (0..txs.len()).find(|&i| {
            custom[i].namespace.is_none()
                && custom[i]
                    .own_name(&f.name)
                    .is_some_and(|n| schemas[i].root(n).is_some())
        });
        match served {
            Some(i) => parts[i].push(custom[i].unwrap(&f.key, &f.name, &f.args, &f.children)),
            None => parts[0].push(f.clone()),
        }
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
    for (i, key, fields) in namespaced {
        let part = Operation {
            kind: op.kind,
            fields,
        };
        let answer = exec::run(&txs[i], &schemas[i], session, &part).await?;
        data.insert(key, answer);
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
