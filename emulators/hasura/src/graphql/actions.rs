//! Running actions: a root field naming a synchronous action is resolved by
//! POSTing Hasura's action payload to its handler and returning the answer,
//! with the field's selection applied.
//!
//! Sources (graphql-engine):
//! - `server/src-lib/Hasura/GraphQL/Execute/Action.hs` (`callWebhook`):
//!   payload `{action: {name}, input, session_variables, request_query}`
//!   (`ActionWebhookPayload`), headers `Content-Type: application/json`, the
//!   configured headers and, with `forward_client_headers`, the client's
//!   (configured ones win on a clash); a 2xx answer must be an object (an
//!   array for a list output type: "expecting object for action webhook
//!   response but got array" / "expecting array ... but got object"),
//!   without fields the output type lacks ("unexpected fields in webhook
//!   response: a, b") and with every non-null field ("field \"f\" expected
//!   in webhook response, but not found", "expecting not null value for
//!   field \"f\""), all `unexpected`; a 4xx answer `{message, code?,
//!   extensions?}` is the field's error (code `unexpected` unless given);
//!   anything else is "internal error", an unreadable body "not a valid json
//!   response from webhook", no answer "http exception when calling
//!   webhook";
//! - `Hasura/HTTP.hs` (`mkClientHeadersForward`, `commonClientHeadersIgnored`):
//!   which client headers are forwarded;
//! - a role sees an action only with an action permission (admin always):
//!   otherwise the field is not in its schema.
use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

use super::auth::{Role, Session};
use super::{forwarded_client_header, GqlErr};
use crate::actions::base_type;
use crate::cron_triggers::{render_template, resolve_headers};
use crate::custom_types;
use crate::graphql_parse::{OpKind, Operation, RootField, Sel};
use crate::metadata::Metadata;

/// The root fields of `op` that are actions `session` may call, each with
/// its action, and the operation without them.
pub fn split(
    md: &Metadata,
    op: Operation,
    session: &Session,
) -> (Vec<(RootField, Value)>, Operation) {
    let root = if op.kind == OpKind::Mutation {
        "mutation"
    } else {
        "query"
    };
    let visible = |a: &Value| match &session.role {
        Role::Admin => true,
        Role::Named(r) => a["permissions"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["role"] == r.as_str())),
    };
    let actions = crate::actions::list(md);
    let mut calls = Vec::new();
    let mut rest = Vec::new();
    for f in op.fields {
        match actions
            .iter()
            .find(|a| a["name"] == f.name.as_str() && a["definition"]["type"] == root && visible(a))
        {
            Some(a) => calls.push((f, a.clone())),
            None => rest.push(f),
        }
    }
    (
        calls,
        Operation {
            kind: op.kind,
            fields: rest,
        },
    )
}

/// What the call needs besides the field.
pub struct Request<'a> {
    pub md: &'a Metadata,
    pub env: &'a BTreeMap<String, String>,
    pub headers: &'a HeaderMap,
    pub session: &'a Session,
    pub query: &'a str,
}

fn unexpected(path: &str, msg: impl Into<String>) -> GqlErr {
    GqlErr::new("unexpected", path, msg)
}

/// Resolves one action field.
pub async fn call(req: &Request<'_>, f: &RootField, action: &Value) -> Result<Value, GqlErr> {
    let path = format!("$.selectionSet.{}", f.name);
    let def = &action["definition"];
    if def["kind"] == "asynchronous" {
        return Err(GqlErr::unsupported(&path, "asynchronous actions"));
    }
    let types = custom_types::document(req.md);
    let output = def["output_type"].as_str().unwrap_or_default();
    let out_name = base_type(output).unwrap_or_default();
    let object = custom_types::object(&types, out_name).ok_or_else(|| {
        unexpected(
            &path,
            format!("the type: \"{out_name}\" is not an object type defined in custom types"),
        )
    })?;
    check_args(f, def, &path)?;
    check_selection(&f.children, object, &types, &path)?;

    let url = render_template(def["handler"].as_str().unwrap_or_default(), req.env)
        .map_err(|e| unexpected(&path, e))?;
    let configured = resolve_headers(&def["headers"], req.env).map_err(|e| unexpected(&path, e))?;
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    if def["forward_client_headers"] == true {
        for (k, v) in req.headers {
            let (k, Ok(v)) = (k.as_str().to_ascii_lowercase(), v.to_str()) else {
                continue;
            };
            match k.as_str() {
                "host" => drop(headers.insert("x-forwarded-host".into(), v.into())),
                "user-agent" => drop(headers.insert("x-forwarded-user-agent".into(), v.into())),
                _ => {}
            }
            if forwarded_client_header(&k) {
                headers.insert(k, v.to_string());
            }
        }
    }
    for (k, v) in configured {
        headers.insert(k.to_ascii_lowercase(), v);
    }
    let payload = json!({
        "action": {"name": f.name},
        "input": Value::Object(f.args.clone()),
        "session_variables": req.session.to_json(),
        "request_query": req.query,
    });
    let timeout = def["timeout"].as_u64().unwrap_or(30);
    let mut post = reqwest::Client::new()
        .post(&url)
        .timeout(Duration::from_secs(timeout))
        .json(&payload);
    for (k, v) in &headers {
        post = post.header(k, v);
    }
    let resp = post
        .send()
        .await
        .map_err(|_| unexpected(&path, "http exception when calling webhook"))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|_| unexpected(&path, "http exception when calling webhook"))?;
    let answer: Value = serde_json::from_slice(&body)
        .map_err(|_| unexpected(&path, "not a valid json response from webhook"))?;
    if status.is_client_error() {
        let message = answer["message"]
            .as_str()
            .ok_or_else(|| unexpected(&path, "key \"message\" not found"))?;
        // The handler's own code; the emulator's error codes are static
        // strings, so a handler's is leaked (one small string per such answer).
        let code: &'static str = match answer["code"].as_str() {
            Some(c) => Box::leak(c.to_string().into_boxed_str()),
            None => "unexpected",
        };
        return Err(GqlErr::new(code, &path, message));
    }
    if !status.is_success() {
        return Err(unexpected(&path, "internal error"));
    }
    let list = output.trim_end_matches('!').starts_with('[');
    let fields = object_fields(object);
    match (&answer, list) {
        (Value::Array(items), true) => {
            for o in items {
                check_object(o, &fields, &path)?;
            }
        }
        (Value::Object(_), false) => check_object(&answer, &fields, &path)?,
        (Value::Array(_), false) => {
            return Err(unexpected(
                &path,
                "expecting object for action webhook response but got array",
            ))
        }
        (_, true) => {
            return Err(unexpected(
                &path,
                "expecting array for action webhook response but got object",
            ))
        }
        _ => {
            return Err(unexpected(
                &path,
                "expecting object for action webhook response",
            ))
        }
    }
    Ok(select(&answer, &f.children, out_name, &types))
}

fn object_fields(object: &Value) -> Vec<(String, String)> {
    object["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["name"].as_str().unwrap_or_default().to_string(),
                f["type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Unknown arguments and missing non-null ones are validation errors.
fn check_args(f: &RootField, def: &Value, path: &str) -> Result<(), GqlErr> {
    let declared: Vec<(&str, &str)> = def["arguments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or_default(),
                a["type"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    if let Some(k) = f
        .args
        .keys()
        .find(|k| !declared.iter().any(|(n, _)| n == k))
    {
        return Err(GqlErr::validation(
            path,
            format!("'{}' has no argument named '{k}'", f.name),
        ));
    }
    for (n, t) in declared {
        if t.ends_with('!') && f.args.get(n).is_none_or(Value::is_null) {
            return Err(GqlErr::validation(
                path,
                format!("missing required field '{n}'"),
            ));
        }
    }
    Ok(())
}

fn check_selection(sels: &[Sel], object: &Value, types: &Value, path: &str) -> Result<(), GqlErr> {
    let name = object["name"].as_str().unwrap_or_default();
    let fields = object_fields(object);
    for s in sels {
        if s.name == "__typename" {
            continue;
        }
        let Some((_, t)) = fields.iter().find(|(n, _)| *n == s.name) else {
            return Err(GqlErr::field_not_found(path, &s.name, name));
        };
        if let Some(nested) = base_type(t).and_then(|b| custom_types::object(types, b)) {
            check_selection(&s.children, nested, types, &format!("{path}.{}", s.name))?;
        }
    }
    Ok(())
}

fn check_object(o: &Value, fields: &[(String, String)], path: &str) -> Result<(), GqlErr> {
    let Value::Object(m) = o else {
        return Err(unexpected(
            path,
            "expecting object for action webhook response",
        ));
    };
    let extra: Vec<&str> = m
        .keys()
        .filter(|k| !fields.iter().any(|(n, _)| n == *k))
        .map(String::as_str)
        .collect();
    if !extra.is_empty() {
        return Err(unexpected(
            path,
            format!(
                "unexpected fields in webhook response: {}",
                extra.join(", ")
            ),
        ));
    }
    for (n, _) in fields.iter().filter(|(_, t)| t.ends_with('!')) {
        match m.get(n) {
            None => {
                return Err(unexpected(
                    path,
                    format!("field \"{n}\" expected in webhook response, but not found"),
                ))
            }
            Some(Value::Null) => {
                return Err(unexpected(
                    path,
                    format!("expecting not null value for field \"{n}\""),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The selection of `v` (an object or a list of them) of type `type_name`.
fn select(v: &Value, sels: &[Sel], type_name: &str, types: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| select(i, sels, type_name, types))
                .collect(),
        ),
        Value::Object(m) => {
            let fields = custom_types::object(types, type_name)
                .map(object_fields)
                .unwrap_or_default();
            let mut out = Map::new();
            for s in sels {
                let value = if s.name == "__typename" {
                    json!(type_name)
                } else {
                    let child = m.get(&s.name).cloned().unwrap_or(Value::Null);
                    let nested = fields
                        .iter()
                        .find(|(n, _)| *n == s.name)
                        .and_then(|(_, t)| base_type(t))
                        .filter(|b| custom_types::object(types, b).is_some());
                    match nested {
                        Some(b) if !s.children.is_empty() => select(&child, &s.children, b, types),
                        _ => child,
                    }
                };
                out.insert(s.key.clone(), value);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}
