//! Actions: `create_action`, `update_action`, `drop_action`,
//! `create_action_permission`, `drop_action_permission`, kept under the
//! metadata's top-level `actions`. Running them is `graphql/actions.rs`.
//!
//! Sources (graphql-engine):
//! - arguments: `server/src-lib/Hasura/RQL/Types/Action.hs` (`FromJSON
//!   ActionDefinition`: `arguments` (default `[]`), `output_type`, `headers`
//!   (default `[]`), `forward_client_headers` (default false), `handler` (a
//!   URL template, "Parsing URL template failed: ..."), `timeout` (default
//!   `defaultActionTimeoutSecs` = 30, "timeout value cannot be negative",
//!   `Hasura/RQL/Types/Common.hs`), `type` (default `mutation`; else
//!   "expected mutation or query, but found X"), `kind` for mutations
//!   (default `synchronous`)); `ActionName` is a GraphQL name;
//! - behaviour: `server/src-lib/Hasura/RQL/DDL/Action.hs`
//!   (`runCreateAction`: `action with name "X" already exists`,
//!   already-exists; `runUpdateAction` / `getActionInfo`: `action with name
//!   "X" does not exist`, not-exists; `resolveAction`: argument types must be
//!   scalars, enums or input objects ("the type: \"T\" is not defined in
//!   custom types or it is not a scalar/enum/input_object"), the output type
//!   a custom object type ("the type: \"T\" is not an object type defined in
//!   custom types"), the handler template rendered with the engine's env
//!   (`resolveWebhook`: "Value for environment variables not found: X"); a
//!   failure makes the action inconsistent, which `buildSchemaCacheFor`
//!   reports as invalid-configuration; `runCreateActionPermission`:
//!   `permission for role "R" is already defined on "A"`, already-exists;
//!   `runDropActionPermission`: `permission for role: "R" is not defined on
//!   "A"`, not-exists);
//! - export shape: `Hasura/RQL/Types/Metadata/Serialization.hs`
//!   (`actionMetadataToOrdJSONList`: sorted by name; `name`, `definition`
//!   (`handler`, `output_type`, `forward_client_headers` only when true,
//!   `headers` and `arguments` only when not empty, `type`, `kind` for a
//!   mutation, `timeout` only when not 30), `comment`, `permissions` only
//!   when not empty, each `{role, comment?}`).
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::cron_triggers::{headers_at, parse_template, render_template};
use crate::custom_types;
use crate::errors::{parse_failed, QErr};
use crate::metadata::Metadata;

const KEY: &str = "actions";

type Env = BTreeMap<String, String>;

pub fn list(md: &Metadata) -> Vec<Value> {
    md.extra
        .get(KEY)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn store(md: &mut Metadata, mut actions: Vec<Value>) {
    actions.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    md.extra.insert(KEY.into(), Value::Array(actions));
}

fn position(actions: &[Value], name: &str) -> Option<usize> {
    actions.iter().position(|a| a["name"] == name)
}

fn not_exists(name: &str) -> QErr {
    QErr::bad(
        "not-exists",
        "$.args",
        format!("action with name \"{name}\" does not exist"),
    )
}

fn obj<'v>(
    cmd: &str,
    v: &'v Value,
    path: &str,
    what: &str,
) -> Result<&'v Map<String, Value>, QErr> {
    v.as_object()
        .ok_or_else(|| parse_failed(cmd, path, format!("parsing {what} failed, expected Object")))
}

fn string(cmd: &str, o: &Map<String, Value>, k: &str, path: &str) -> Result<String, QErr> {
    match o.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        None => Err(parse_failed(cmd, path, format!("key \"{k}\" not found"))),
        Some(_) => Err(parse_failed(
            cmd,
            &format!("{path}.{k}"),
            "parsing Text failed, expected String",
        )),
    }
}

/// `G.Name`'s `FromJSON` (`parseName`): "<text> is not valid GraphQL name".
fn graphql_name(cmd: &str, s: &str, path: &str) -> Result<(), QErr> {
    let mut cs = s.chars();
    let ok = matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(parse_failed(
            cmd,
            path,
            format!("{s} is not valid GraphQL name"),
        ))
    }
}

/// A GraphQL type reference (`GraphQLType`'s parser); its base name.
pub fn base_type(t: &str) -> Option<&str> {
    let mut rest = t.trim();
    loop {
        rest = rest.strip_suffix('!').unwrap_or(rest).trim();
        match rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            Some(inner) => rest = inner.trim(),
            None => break,
        }
    }
    let mut cs = rest.chars();
    let ok = matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric());
    ok.then_some(rest)
}

fn gql_type(cmd: &str, o: &Map<String, Value>, k: &str, path: &str) -> Result<String, QErr> {
    let t = string(cmd, o, k, path)?;
    if base_type(&t).is_none() {
        return Err(parse_failed(
            cmd,
            &format!("{path}.{k}"),
            format!("not a valid GraphQL type: {t}"),
        ));
    }
    Ok(t)
}

/// The definition in export form, defaults left out.
fn definition(cmd: &str, v: Option<&Value>) -> Result<Value, QErr> {
    let base = "$.args.definition";
    let v = v.ok_or_else(|| parse_failed(cmd, "$.args", "key \"definition\" not found"))?;
    let o = obj(cmd, v, base, "ActionDefinition")?;
    let handler = string(cmd, o, "handler", base)?;
    parse_template(&handler).map_err(|e| {
        parse_failed(
            cmd,
            &format!("{base}.handler"),
            format!("Parsing URL template failed: {e}"),
        )
    })?;
    let output_type = gql_type(cmd, o, "output_type", base)?;
    let mut args = Vec::new();
    if let Some(list) = o.get("arguments").filter(|v| !v.is_null()) {
        let list = list.as_array().ok_or_else(|| {
            parse_failed(
                cmd,
                &format!("{base}.arguments"),
                "parsing [a] failed, expected Array",
            )
        })?;
        for (i, a) in list.iter().enumerate() {
            let path = format!("{base}.arguments[{i}]");
            let ao = obj(cmd, a, &path, "ArgumentDefinition")?;
            let name = string(cmd, ao, "name", &path)?;
            graphql_name(cmd, &name, &format!("{path}.name"))?;
            let mut entry = json!({"name": name, "type": gql_type(cmd, ao, "type", &path)?});
            if let Some(Value::String(d)) = ao.get("description") {
                entry["description"] = json!(d);
            }
            args.push(entry);
        }
    }
    let headers = headers_at(cmd, &format!("{base}.headers"), o.get("headers"))?;
    let forward = match o.get("forward_client_headers") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.forward_client_headers"),
                "parsing Bool failed, expected Boolean",
            ))
        }
    };
    let timeout = match o.get("timeout") {
        None | Some(Value::Null) => 30,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(t) if t >= 0 => t,
            Some(_) => {
                return Err(parse_failed(
                    cmd,
                    &format!("{base}.timeout"),
                    "timeout value cannot be negative",
                ))
            }
            None => {
                return Err(parse_failed(
                    cmd,
                    &format!("{base}.timeout"),
                    format!("{n} is out of bounds"),
                ))
            }
        },
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.timeout"),
                "parsing Timeout failed, expected Number",
            ))
        }
    };
    let typ = match o.get("type") {
        None | Some(Value::Null) => "mutation".to_string(),
        Some(Value::String(t)) if t == "mutation" || t == "query" => t.clone(),
        Some(Value::String(t)) => {
            return Err(parse_failed(
                cmd,
                base,
                format!("expected mutation or query, but found {t}"),
            ))
        }
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.type"),
                "parsing Text failed, expected String",
            ))
        }
    };
    let kind = match o.get("kind") {
        None | Some(Value::Null) => "synchronous".to_string(),
        Some(Value::String(k)) if k == "synchronous" || k == "asynchronous" => k.clone(),
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.kind"),
                "parsing ActionMutationKind failed, expected one of the tags ['synchronous', 'asynchronous']",
            ))
        }
    };
    let mut d = Map::new();
    d.insert("handler".into(), json!(handler));
    d.insert("output_type".into(), json!(output_type));
    if forward {
        d.insert("forward_client_headers".into(), json!(true));
    }
    if !headers.is_empty() {
        d.insert("headers".into(), Value::Array(headers));
    }
    if !args.is_empty() {
        d.insert("arguments".into(), Value::Array(args));
    }
    if typ == "mutation" {
        d.insert("type".into(), json!("mutation"));
        d.insert("kind".into(), json!(kind));
    } else {
        d.insert("type".into(), json!("query"));
    }
    if timeout != 30 {
        d.insert("timeout".into(), json!(timeout));
    }
    Ok(Value::Object(d))
}

/// `resolveAction` against `types` (a custom types document): the handler
/// URL, or the reason the action is inconsistent.
pub fn resolve(def: &Value, types: &Value, env: &Env) -> Result<String, String> {
    for a in def["arguments"].as_array().into_iter().flatten() {
        let t = base_type(a["type"].as_str().unwrap_or_default()).unwrap_or_default();
        if !custom_types::is_input_type(types, t) {
            return Err(format!(
                "the type: \"{t}\" is not defined in custom types or it is not a scalar/enum/input_object"
            ));
        }
    }
    let out = base_type(def["output_type"].as_str().unwrap_or_default()).unwrap_or_default();
    if custom_types::object(types, out).is_none() {
        return Err(format!(
            "the type: \"{out}\" is not an object type defined in custom types"
        ));
    }
    render_template(def["handler"].as_str().unwrap_or_default(), env)
}

fn inconsistent(reason: String) -> QErr {
    QErr::bad(
        "invalid-configuration",
        "$.args",
        format!("Inconsistent object: {reason}"),
    )
}

fn comment(cmd: &str, o: &Map<String, Value>) -> Result<Option<String>, QErr> {
    crate::metadata_api::comment_arg(cmd, o)
}

/// `create_action`, or (`update`) `update_action`, which keeps the permissions.
pub fn put(
    md: &mut Metadata,
    env: &Env,
    cmd: &str,
    args: &Value,
    update: bool,
) -> Result<Value, QErr> {
    let o = obj(
        cmd,
        args,
        "$.args",
        if update {
            "UpdateAction"
        } else {
            "CreateAction"
        },
    )?;
    let name = string(cmd, o, "name", "$.args")?;
    graphql_name(cmd, &name, "$.args.name")?;
    let def = definition(cmd, o.get("definition"))?;
    let comment = comment(cmd, o)?;
    let mut actions = list(md);
    let existing = position(&actions, &name);
    match (existing, update) {
        (Some(_), false) => {
            return Err(QErr::bad(
                "already-exists",
                "$.args",
                format!("action with name \"{name}\" already exists"),
            ))
        }
        (None, true) => return Err(not_exists(&name)),
        _ => {}
    }
    resolve(&def, &custom_types::document(md), env).map_err(inconsistent)?;
    let mut entry = Map::new();
    entry.insert("name".into(), json!(name));
    entry.insert("definition".into(), def);
    if let Some(c) = comment {
        entry.insert("comment".into(), json!(c));
    }
    match existing {
        Some(i) => {
            if let Some(p) = actions[i].get("permissions").cloned() {
                entry.insert("permissions".into(), p);
            }
            actions[i] = Value::Object(entry);
        }
        None => actions.push(Value::Object(entry)),
    }
    store(md, actions);
    Ok(json!({"message": "success"}))
}

pub fn drop(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = obj(cmd, args, "$.args", "DropAction")?;
    let name = string(cmd, o, "name", "$.args")?;
    let mut actions = list(md);
    let i = position(&actions, &name).ok_or_else(|| not_exists(&name))?;
    actions.remove(i);
    store(md, actions);
    Ok(json!({"message": "success"}))
}

/// `create_action_permission` / `drop_action_permission`.
pub fn permission(md: &mut Metadata, cmd: &str, args: &Value, create: bool) -> Result<Value, QErr> {
    let o = obj(cmd, args, "$.args", "CreateActionPermission")?;
    let action = string(cmd, o, "action", "$.args")?;
    let role = string(cmd, o, "role", "$.args")?;
    if role.is_empty() {
        return Err(parse_failed(cmd, "$.args.role", "empty string not allowed"));
    }
    let comment = comment(cmd, o)?;
    let mut actions = list(md);
    let i = position(&actions, &action).ok_or_else(|| not_exists(&action))?;
    let mut perms: Vec<Value> = actions[i]["permissions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let had = perms.iter().position(|p| p["role"] == role.as_str());
    match (had, create) {
        (Some(_), true) => {
            return Err(QErr::bad(
                "already-exists",
                "$.args",
                format!("permission for role \"{role}\" is already defined on \"{action}\""),
            ))
        }
        (None, false) => {
            return Err(QErr::bad(
                "not-exists",
                "$.args",
                format!("permission for role: \"{role}\" is not defined on \"{action}\""),
            ))
        }
        (Some(j), false) => {
            perms.remove(j);
        }
        (None, true) => {
            let mut p = json!({"role": role});
            if let Some(c) = comment {
                p["comment"] = json!(c);
            }
            // `runCreateActionPermission` conses the new entry onto the list.
            perms.insert(0, p);
        }
    }
    let entry = actions[i].as_object_mut().expect("actions are objects");
    if perms.is_empty() {
        entry.remove("permissions");
    } else {
        entry.insert("permissions".into(), Value::Array(perms));
    }
    store(md, actions);
    Ok(json!({"message": "success"}))
}
