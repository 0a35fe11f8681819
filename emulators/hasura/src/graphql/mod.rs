//! `POST /v1/graphql`: a deliberately small but honest subset of Hasura's GraphQL API —
//! select / insert / insert_one / update on tracked tables, with role permissions applied
//! and JWT (or admin-secret) authentication — executed as parameterised SQL on the real
//! PostgreSQL. Anything outside the subset is an explicit error, never a guess.

mod actions;
mod auth;
mod boolexp;
mod exec;
mod jwt;
mod multi;
mod nested;
mod relations;
mod remote;
mod roles;
mod schema;
mod sql;

use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

use crate::graphql_parse::{parse, OpKind};
use crate::state::AppState;

pub use auth::JWT_SECRET_ENV;
pub use jwt::{JwksCache, JwtConfig};

/// `commonClientHeadersIgnored`.
const IGNORED_CLIENT_HEADERS: [&str; 14] = [
    "content-length",
    "content-md5",
    "user-agent",
    "host",
    "origin",
    "referer",
    "accept",
    "accept-encoding",
    "accept-language",
    "accept-datetime",
    "cache-control",
    "connection",
    "dnt",
    "content-type",
];

/// Whether a client header (lower case) is passed on when an action or a remote
/// schema forwards the client's headers: never the ignored ones, never `x-hasura-*`
/// (session variables travel separately).
fn forwarded_client_header(name: &str) -> bool {
    !IGNORED_CLIENT_HEADERS.contains(&name) && !name.starts_with("x-hasura-")
}

/// One GraphQL error; Hasura answers every `/v1/graphql` failure (auth included) with
/// HTTP 200 and `{"errors": [{"message", "extensions": {"path", "code"}}]}`.
#[derive(Debug, Clone)]
pub struct GqlErr {
    pub message: String,
    pub code: &'static str,
    pub path: String,
}

impl GqlErr {
    pub fn new(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        GqlErr {
            message: message.into(),
            code,
            path: path.into(),
        }
    }

    pub fn validation(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new("validation-failed", path, message)
    }

    /// Valid Hasura, but outside what the emulator implements.
    pub fn unsupported(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(
            "not-supported",
            path,
            format!("{} (not supported by the emulator)", message.into()),
        )
    }

    pub fn field_not_found(path: &str, field: &str, type_name: &str) -> Self {
        Self::validation(
            format!("{path}.{field}"),
            format!("field '{field}' not found in type: '{type_name}'"),
        )
    }

    pub fn to_json(&self) -> Value {
        json!({"message": self.message, "extensions": {"path": self.path, "code": self.code}})
    }
}

impl From<tokio_postgres::Error> for GqlErr {
    fn from(e: tokio_postgres::Error) -> Self {
        sql::pg_error(&e)
    }
}

fn errors(e: GqlErr) -> Value {
    json!({ "errors": [e.to_json()] })
}

/// The body of the answer; the status is always 200.
pub async fn handle(st: &AppState, headers: &HeaderMap, body: &[u8]) -> Value {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return errors(GqlErr::new(
                "invalid-json",
                "$",
                format!("Error in $: Failed reading: not a valid json value ({e})"),
            ))
        }
    };
    // Hasura accepts a batch (a JSON array of requests) and answers with an array.
    match v {
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in &items {
                out.push(one(st, headers, item).await);
            }
            Value::Array(out)
        }
        other => one(st, headers, &other).await,
    }
}

async fn one(st: &AppState, headers: &HeaderMap, req: &Value) -> Value {
    match run(st, headers, req).await {
        Ok(data) => json!({ "data": data }),
        Err(e) => errors(e),
    }
}

/// One request's `{"data": ...}`, or its error (`rest_endpoints.rs` answers
/// it in the metadata API's error shape).
pub(crate) async fn execute(
    st: &AppState,
    headers: &HeaderMap,
    req: &Value,
) -> Result<Value, GqlErr> {
    run(st, headers, req)
        .await
        .map(|data| json!({ "data": data }))
}

async fn run(st: &AppState, headers: &HeaderMap, req: &Value) -> Result<Value, GqlErr> {
    let Value::Object(o) = req else {
        return Err(GqlErr::new(
            "parse-failed",
            "$",
            "parsing GQLReq failed, expected Object",
        ));
    };
    let query = match o.get("query") {
        Some(Value::String(q)) => q,
        Some(_) => {
            return Err(GqlErr::new(
                "parse-failed",
                "$.query",
                "parsing Text failed, expected String",
            ))
        }
        None => return Err(GqlErr::new("parse-failed", "$", "key \"query\" not found")),
    };
    let vars = match o.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(GqlErr::new(
                "parse-failed",
                "$.variables",
                "parsing HashMap failed, expected Object",
            ))
        }
    };
    let op_name = o.get("operationName").and_then(Value::as_str);

    // Authenticate before looking at the query, as Hasura does.
    let session = auth::resolve(st, headers).await?;
    let op = parse(query, op_name, &vars).map_err(|e| GqlErr::validation("$.query", e))?;
    // `checkQueryInAllowlist` (graphql-engine `Hasura/GraphQL/Execute.hs`): admin is
    // never restricted.
    if let auth::Role::Named(role) = &session.role {
        let refused = crate::query_collections::refuses(st, role, query)
            .await
            .map_err(|e| GqlErr::new("unexpected", "$", e.error))?;
        if refused {
            return Err(GqlErr::validation("$", "query is not allowed"));
        }
    }
    st.control.count(match op.kind {
        OpKind::Query => "graphql:query",
        OpKind::Mutation => "graphql:mutation",
        OpKind::Subscription => "graphql:subscription",
    });
    if op.kind == OpKind::Subscription {
        return Err(GqlErr::unsupported(
            "$",
            "subscriptions over HTTP POST /v1/graphql",
        ));
    }
    if let Some(data) = remote::serve(st, headers, &session, &op, o).await? {
        return Ok(data);
    }

    // Action root fields are resolved by their handlers (`actions.rs`), the rest by SQL.
    let (md, _) = crate::state::load_metadata(&st.db)
        .await
        .map_err(|e| GqlErr::new("unexpected", "$", e.error))?;
    let order: Vec<String> = op.fields.iter().map(|f| f.key.clone()).collect();
    let (calls, op) = actions::split(&md, op, &session);
    if calls.is_empty() {
        return sql(st, &session, &op).await;
    }
    let mut data = match op.fields.is_empty() {
        true => Map::new(),
        false => match sql(st, &session, &op).await? {
            Value::Object(m) => m,
            _ => Map::new(),
        },
    };
    let env = st
        .engine_env()
        .await
        .map_err(|e| GqlErr::new("unexpected", "$", e.error))?;
    let req = actions::Request {
        md: &md,
        env: &env,
        headers,
        session: &session,
        query,
    };
    for (f, a) in &calls {
        data.insert(f.key.clone(), actions::call(&req, f, a).await?);
    }
    Ok(Value::Object(
        order
            .into_iter()
            .filter_map(|k| data.remove(&k).map(|v| (k, v)))
            .collect(),
    ))
}

/// The root fields on tables: each source's in one transaction on its own database.
async fn sql(
    st: &AppState,
    session: &auth::Session,
    op: &crate::graphql_parse::Operation,
) -> Result<Value, GqlErr> {
    multi::run(st, session, op).await
}
