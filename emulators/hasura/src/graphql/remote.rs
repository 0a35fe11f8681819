//! Root fields of remote schemas: a query whose root fields all belong to one
//! remote schema is forwarded to its server and the answer returned, as
//! graphql-engine's `execRemoteGQ` does (`Hasura/GraphQL/RemoteServer.hs`):
//! configured headers win over the session variables (`x-hasura-*`, always
//! sent), which win over the client's own headers (sent only with
//! `forward_client_headers`, minus `commonClientHeadersIgnored` and session
//! variables, plus `X-Forwarded-Host`/`-User-Agent`/`-Origin`:
//! `mkClientHeadersForward`, `Hasura/Server/Utils.hs`).
//!
//! A non-admin role sees only its permission's schema when the engine runs
//! with remote schema permissions (`HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_
//! PERMISSIONS=true`): a field outside it is refused like any unknown field
//! ("field 'x' not found in type: 'T'", `validation-failed`); without a
//! permission the role has none of the schema's root fields. Without the
//! setting every role sees the whole remote schema.
//!
//! Outside the emulator's subset, refused explicitly: a request mixing
//! remote and database root fields (Hasura would split it), remote schemas
//! with field renames, and `__typename` under type renames
//! (`root_fields_namespace` is honoured).
use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

use super::auth::{Role, Session};
use super::{forwarded_client_header, GqlErr};
use crate::graphql_parse::{OpKind, Operation, Sel};
use crate::remote_schemas::remote::{self, Env};
use crate::remote_schemas::types::{base, Types};
use crate::remote_schemas::{list, PERMISSIONS_ENV};
use crate::state::{load_metadata, AppState};

struct Owner {
    schema: Value,
    types: Types,
    namespace: Option<String>,
}

fn failed(e: crate::errors::QErr) -> GqlErr {
    GqlErr::new(e.code, "$", e.error)
}

/// `Some(data)` when the request's root fields belong to a remote schema.
pub async fn serve(
    st: &AppState,
    headers: &HeaderMap,
    session: &Session,
    op: &Operation,
    req: &Map<String, Value>,
) -> Result<Option<Value>, GqlErr> {
    let (md, _) = load_metadata(&st.db).await.map_err(failed)?;
    let schemas = list(&md);
    if schemas.is_empty() {
        return Ok(None);
    }
    let env = st.engine_env().await.map_err(failed)?;
    let mutation = op.kind == OpKind::Mutation;
    let roots: Vec<&str> = op
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| *n != "__typename")
        .collect();
    let mut owner: Option<Owner> = None;
    let mut owned = 0;
    for s in schemas {
        // An unreachable server leaves its schema out, as an inconsistent object.
        let Ok(types) = remote::introspect(&s["definition"], &env).await else {
            continue;
        };
        let namespace = s
            .pointer("/definition/customization/root_fields_namespace")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mine = |n: &str| match &namespace {
            Some(ns) => n == ns,
            None => types
                .root(mutation)
                .and_then(|r| types.fields_of(r))
                .is_some_and(|f| f.contains_key(n)),
        };
        let count = roots.iter().filter(|n| mine(n)).count();
        if count > 0 {
            if owner.is_some() {
                return Err(GqlErr::unsupported(
                    "$",
                    "root fields of two remote schemas in one request",
                ));
            }
            owned = count;
            owner = Some(Owner {
                schema: s,
                types,
                namespace,
            });
        }
    }
    let Some(owner) = owner else { return Ok(None) };
    if owned != roots.len() {
        return Err(GqlErr::unsupported(
            "$",
            "a request mixing remote schema and database root fields",
        ));
    }
    // Type renames show only in `__typename` (fragments are inlined): without
    // it the answer is the same; field renames would need the query rewritten.
    let custom = owner.schema.pointer("/definition/customization");
    if custom.is_some_and(|c| c.get("field_names").is_some()) {
        return Err(GqlErr::unsupported(
            "$",
            "remote schemas with field name customization",
        ));
    }
    let typename = op.fields.iter().any(|f| selects_typename(&f.children));
    if typename && custom.is_some_and(|c| c.get("type_names").is_some()) {
        return Err(GqlErr::unsupported(
            "$",
            "`__typename` of a remote schema with type name customization",
        ));
    }
    let root_type = if mutation {
        "mutation_root"
    } else {
        "query_root"
    };
    let view = role_view(&owner, session, &env)?;
    let Some(view) = view else {
        // The role has no permission: none of the schema's root fields exist for it.
        return Err(GqlErr::field_not_found(
            "$.selectionSet",
            roots[0],
            root_type,
        ));
    };
    let top = view.root(mutation).unwrap_or_default().to_string();
    for f in &op.fields {
        let path = format!("$.selectionSet.{}", f.name);
        match &owner.namespace {
            Some(_) => check(&view, &top, &f.children, &path)?,
            None if f.name == "__typename" => {}
            None => {
                let Some(t) = view.fields_of(&top).and_then(|m| m.get(&f.name)) else {
                    return Err(GqlErr::field_not_found(
                        "$.selectionSet",
                        &f.name,
                        root_type,
                    ));
                };
                check(&view, base(t), &f.children, &path)?;
            }
        }
    }
    let target = remote::target(&owner.schema["definition"], &env).map_err(failed)?;
    let mut extra: Vec<(String, String)> = Vec::new();
    if owner.schema.pointer("/definition/forward_client_headers") == Some(&json!(true)) {
        extra.extend(client_headers(headers));
    }
    for (k, v) in session.to_json().as_object().into_iter().flatten() {
        extra.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
    }
    let body = match &owner.namespace {
        None => {
            let mut b = Map::new();
            for k in ["query", "variables", "operationName"] {
                if let Some(v) = req.get(k) {
                    b.insert(k.into(), v.clone());
                }
            }
            Value::Object(b)
        }
        Some(_) => {
            let kw = if mutation { "mutation" } else { "query" };
            let inner: Vec<Sel> = op.fields.iter().flat_map(|f| f.children.clone()).collect();
            json!({"query": format!("{kw} {}", render(&inner))})
        }
    };
    let answer = remote::post(&target, &body, &extra).await.map_err(failed)?;
    if let Some(e) = answer["errors"].as_array().and_then(|a| a.first()) {
        let msg = e["message"]
            .as_str()
            .unwrap_or("the remote server answered with an error");
        return Err(GqlErr::new("remote-schema-error", "$", msg));
    }
    let data = answer.get("data").cloned().unwrap_or(Value::Null);
    Ok(Some(match &owner.namespace {
        None => data,
        Some(_) => Value::Object(
            op.fields
                .iter()
                .map(|f| (f.key.clone(), data.clone()))
                .collect(),
        ),
    }))
}

/// The schema the session's role may query: everything for admin or without
/// remote schema permissions, else its permission's document (`None`: none).
fn role_view(owner: &Owner, session: &Session, env: &Env) -> Result<Option<Types>, GqlErr> {
    let Role::Named(role) = &session.role else {
        return Ok(Some(owner.types.clone()));
    };
    if env
        .get(PERMISSIONS_ENV)
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
        != Some("true")
    {
        return Ok(Some(owner.types.clone()));
    }
    let perm = owner.schema["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["role"] == role.as_str());
    let Some(sdl) = perm
        .and_then(|p| p.pointer("/definition/schema"))
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    let doc = graphql_parser::parse_schema::<String>(sdl)
        .map_err(|e| GqlErr::new("unexpected", "$", e.to_string()))?;
    Ok(Some(crate::remote_schemas::types::from_sdl(&doc).into()))
}

/// Every selected field exists in `ty` of the role's view.
fn check(view: &Types, ty: &str, sels: &[Sel], path: &str) -> Result<(), GqlErr> {
    for s in sels.iter().filter(|s| s.name != "__typename") {
        let Some(fields) = view.fields_of(ty) else {
            continue;
        };
        let Some(t) = fields.get(&s.name) else {
            return Err(GqlErr::field_not_found(
                &format!("{path}.selectionSet"),
                &s.name,
                ty,
            ));
        };
        check(
            view,
            base(t),
            &s.children,
            &format!("{path}.selectionSet.{}", s.name),
        )?;
    }
    Ok(())
}

fn selects_typename(sels: &[Sel]) -> bool {
    sels.iter()
        .any(|s| s.name == "__typename" || selects_typename(&s.children))
}

fn client_headers(h: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in h {
        let name = k.as_str().to_ascii_lowercase();
        let Ok(v) = v.to_str() else { continue };
        match name.as_str() {
            "host" => out.push(("x-forwarded-host".into(), v.to_string())),
            "user-agent" => out.push(("x-forwarded-user-agent".into(), v.to_string())),
            "origin" => out.push(("x-forwarded-origin".into(), v.to_string())),
            _ => {}
        }
        if forwarded_client_header(&name) {
            out.push((name, v.to_string()));
        }
    }
    out
}

/// A selection set as GraphQL text (arguments as literals; enum values
/// become strings, which is why only namespaced schemas take this path).
fn render(sels: &[Sel]) -> String {
    let items: Vec<String> = sels
        .iter()
        .map(|s| {
            let mut out = if s.key == s.name {
                s.name.clone()
            } else {
                format!("{}: {}", s.key, s.name)
            };
            if !s.args.is_empty() {
                let args: Vec<String> = s
                    .args
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", literal(v)))
                    .collect();
                out.push_str(&format!("({})", args.join(", ")));
            }
            if !s.children.is_empty() {
                out.push(' ');
                out.push_str(&render(&s.children));
            }
            out
        })
        .collect();
    format!("{{ {} }}", items.join(" "))
}

fn literal(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}
