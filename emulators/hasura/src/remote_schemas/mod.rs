//! Remote schemas: `add_remote_schema`, `update_remote_schema`,
//! `remove_remote_schema`, `add_remote_schema_permissions` and
//! `drop_remote_schema_permissions`, kept under the metadata's top-level
//! `remote_schemas`; `/v1/graphql` forwards their root fields
//! (`graphql/remote.rs`).
//!
//! Sources (graphql-engine):
//! - arguments: `server/src-lib/Hasura/RemoteSchema/MetadataAPI/Core.hs`
//!   (`AddRemoteSchemaQuery`: `name`, `definition`, `comment`) and
//!   `Hasura/RemoteSchema/Metadata/Core.hs` (`RemoteSchemaDef`: `url`,
//!   `url_from_env`, `headers`, `forward_client_headers` (default false),
//!   `timeout_seconds`, `customization`), `Metadata/Customization.hs`;
//! - behaviour: `runAddRemoteSchema` ("remote schema with name \"N\" already
//!   exists", `already-exists`, checked before the server is introspected),
//!   `runUpdateRemoteSchema` ("remote schema with name \"N\" doesn't exist",
//!   `not-exists`; permissions kept and checked against the new schema),
//!   `runRemoveRemoteSchema` ("no such remote schema", `not-exists`; its
//!   permissions go with it); `validateRemoteSchemaCustomization`
//!   ("attempt to customize reserved field name \"__x\"", `invalid-params`);
//! - permissions: `Hasura/RemoteSchema/MetadataAPI/Permission.hs`
//!   (`runAddRemoteSchemaPermissions`: refused with `constraint-violation`
//!   unless the engine runs with `HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_
//!   PERMISSIONS=true`; "remote schema \"N\" doesn't exist" (`not-exists`);
//!   "permissions for role: \"R\" for remote schema:\"N\" already exists"
//!   (`already-exists`); new permissions go first in the list;
//!   `resolveRoleBasedRemoteSchema`: "cannot define permission for admin
//!   role" (`constraint-violation`), then `permission.rs`;
//!   `runDropRemoteSchemaPermissions`: "... doesn't exist", `not-exists`);
//! - export shape: `Hasura/RQL/Types/Metadata/Serialization.hs`
//!   (`remoteSchemasToOrdJSONList`: sorted by name; `name`, `definition`
//!   (`url`, `url_from_env`, `timeout_seconds`, `customization`, `headers`
//!   when not empty, `forward_client_headers` only when true), then
//!   `comment` and `permissions` when present; a permission is `role`,
//!   `definition.schema` re-printed from the parsed document, `comment`).
mod permission;
pub mod remote;
pub mod types;

use serde_json::{json, Map, Value};

use crate::errors::{parse_failed, QErr};
use crate::metadata::Metadata;
use crate::query_collections::obj;
use remote::{Env, Fetched};

const KEY: &str = "remote_schemas";
pub const PERMISSIONS_ENV: &str = "HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS";

pub fn list(md: &Metadata) -> Vec<Value> {
    md.extra
        .get(KEY)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Stores `schemas` (sorted by name, as exported) and answers success.
fn saved(md: &mut Metadata, mut schemas: Vec<Value>) -> Result<Value, QErr> {
    schemas.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    md.extra.insert(KEY.into(), Value::Array(schemas));
    Ok(json!({"message": "success"}))
}

fn position(schemas: &[Value], name: &str) -> Option<usize> {
    schemas.iter().position(|s| s["name"] == name)
}

fn text(cmd: &str, o: &Map<String, Value>, k: &str, path: &str) -> Result<Option<String>, QErr> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(parse_failed(
            cmd,
            &format!("{path}.{k}"),
            "parsing Text failed, expected String",
        )),
    }
}

/// A required `NonEmptyText` (`RemoteSchemaName`, `RoleName`).
fn non_empty(cmd: &str, o: &Map<String, Value>, k: &str) -> Result<String, QErr> {
    match text(cmd, o, k, "$.args")? {
        None => Err(parse_failed(
            cmd,
            "$.args",
            format!("key \"{k}\" not found"),
        )),
        Some(s) if s.is_empty() => Err(parse_failed(
            cmd,
            &format!("$.args.{k}"),
            "empty string not allowed",
        )),
        Some(s) => Ok(s),
    }
}

fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A `G.Name` field (`graphQLFieldNameCodec`).
fn name_at(cmd: &str, v: &Value, path: &str) -> Result<String, QErr> {
    match v.as_str() {
        Some(s) if is_name(s) => Ok(s.to_string()),
        Some(s) => Err(parse_failed(
            cmd,
            path,
            format!("{s} is not valid GraphQL name"),
        )),
        None => Err(parse_failed(
            cmd,
            path,
            "parsing Name failed, expected String",
        )),
    }
}

/// `RemoteTypeCustomization` / `RemoteFieldCustomization` in export order.
fn renames(
    cmd: &str,
    o: &Map<String, Value>,
    path: &str,
    out: &mut Map<String, Value>,
) -> Result<(), QErr> {
    for k in ["prefix", "suffix"] {
        if let Some(v) = o.get(k).filter(|v| !v.is_null()) {
            out.insert(k.into(), json!(name_at(cmd, v, &format!("{path}.{k}"))?));
        }
    }
    let mut mapping = Map::new();
    if let Some(m) = o.get("mapping").filter(|v| !v.is_null()) {
        let m = m.as_object().ok_or_else(|| {
            parse_failed(
                cmd,
                &format!("{path}.mapping"),
                "parsing HashMap failed, expected Object",
            )
        })?;
        for (k, v) in m {
            let at = format!("{path}.mapping.{k}");
            if !is_name(k) {
                return Err(parse_failed(
                    cmd,
                    &at,
                    format!("{k} is not valid GraphQL name"),
                ));
            }
            mapping.insert(k.clone(), json!(name_at(cmd, v, &at)?));
        }
    }
    out.insert("mapping".into(), Value::Object(mapping));
    Ok(())
}

fn customization(cmd: &str, v: &Value) -> Result<Value, QErr> {
    let base = "$.args.definition.customization";
    let o = v.as_object().ok_or_else(|| {
        parse_failed(
            cmd,
            base,
            "parsing RemoteSchemaCustomization failed, expected Object",
        )
    })?;
    let mut out = Map::new();
    if let Some(ns) = o.get("root_fields_namespace").filter(|v| !v.is_null()) {
        out.insert(
            "root_fields_namespace".into(),
            json!(name_at(cmd, ns, &format!("{base}.root_fields_namespace"))?),
        );
    }
    if let Some(t) = o.get("type_names").filter(|v| !v.is_null()) {
        let path = format!("{base}.type_names");
        let t = t.as_object().ok_or_else(|| {
            parse_failed(
                cmd,
                &path,
                "parsing RemoteTypeCustomization failed, expected Object",
            )
        })?;
        let mut tn = Map::new();
        renames(cmd, t, &path, &mut tn)?;
        out.insert("type_names".into(), Value::Object(tn));
    }
    if let Some(f) = o.get("field_names").filter(|v| !v.is_null()) {
        let path = format!("{base}.field_names");
        let items = f
            .as_array()
            .ok_or_else(|| parse_failed(cmd, &path, "parsing [a] failed, expected Array"))?;
        let mut list = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("{path}[{i}]");
            let io = item.as_object().ok_or_else(|| {
                parse_failed(
                    cmd,
                    &at,
                    "parsing RemoteFieldCustomization failed, expected Object",
                )
            })?;
            let parent = io
                .get("parent_type")
                .ok_or_else(|| parse_failed(cmd, &at, "key \"parent_type\" not found"))?;
            let mut fc = Map::new();
            fc.insert(
                "parent_type".into(),
                json!(name_at(cmd, parent, &format!("{at}.parent_type"))?),
            );
            renames(cmd, io, &at, &mut fc)?;
            list.push(Value::Object(fc));
        }
        out.insert("field_names".into(), Value::Array(list));
    }
    Ok(Value::Object(out))
}

/// `RemoteSchemaDef`'s `FromJSON`, answered in the export's key order.
pub fn definition(cmd: &str, v: Option<&Value>) -> Result<Value, QErr> {
    let base = "$.args.definition";
    let v = v.ok_or_else(|| parse_failed(cmd, "$.args", "key \"definition\" not found"))?;
    let o = v
        .as_object()
        .ok_or_else(|| parse_failed(cmd, base, "parsing Object failed, expected Object"))?;
    let mut out = Map::new();
    if let Some(url) = text(cmd, o, "url", base)? {
        crate::cron_triggers::parse_template(&url).map_err(|e| {
            parse_failed(
                cmd,
                &format!("{base}.url"),
                format!("Parsing URL template failed: {e}"),
            )
        })?;
        out.insert("url".into(), json!(url));
    }
    if let Some(env) = text(cmd, o, "url_from_env", base)? {
        out.insert("url_from_env".into(), json!(env));
    }
    match o.get("timeout_seconds") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.is_i64() => {
            out.insert("timeout_seconds".into(), json!(n));
        }
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.timeout_seconds"),
                "parsing Int failed, expected Number",
            ))
        }
    }
    if let Some(c) = o.get("customization").filter(|v| !v.is_null()) {
        out.insert("customization".into(), customization(cmd, c)?);
    }
    let headers =
        crate::cron_triggers::headers_at(cmd, &format!("{base}.headers"), o.get("headers"))?;
    if !headers.is_empty() {
        out.insert("headers".into(), Value::Array(headers));
    }
    match o.get("forward_client_headers") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            out.insert("forward_client_headers".into(), json!(true));
        }
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.forward_client_headers"),
                "parsing Bool failed, expected Boolean",
            ))
        }
    }
    Ok(Value::Object(out))
}

/// `validateRemoteSchemaCustomization`.
fn check_reserved(def: &Value) -> Result<(), QErr> {
    let fields = def
        .pointer("/customization/field_names")
        .and_then(Value::as_array);
    for f in fields.into_iter().flatten() {
        for k in f["mapping"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if k.starts_with("__") {
                return Err(QErr::bad(
                    "invalid-params",
                    "$.args",
                    format!("attempt to customize reserved field name \"{k}\""),
                ));
            }
        }
    }
    Ok(())
}

/// The introspection fetched for `def` before the command ran.
fn introspected<'f>(fetched: &'f Fetched, def: &Value) -> Result<&'f types::Types, QErr> {
    match fetched.get(&def.to_string()) {
        Some(Ok(t)) => Ok(t),
        Some(Err(e)) => Err(QErr {
            path: "$.args".into(),
            ..e.clone()
        }),
        None => Err(QErr::unexpected("the remote schema was not introspected")),
    }
}

/// The commands of `body` (a `bulk` too) that introspect a server, with the
/// definition each needs: add/update name theirs, a permission its schema's
/// (stored, or added earlier in the same bulk).
pub fn definitions_to_fetch(body: &Value, md: &Metadata, out: &mut Vec<Value>) {
    let typ = body["type"].as_str().unwrap_or_default();
    let args = &body["args"];
    match typ {
        "bulk" | "bulk_keep_going" => {
            for item in args.as_array().into_iter().flatten() {
                definitions_to_fetch(item, md, out);
            }
        }
        "add_remote_schema" | "update_remote_schema" => {
            if let Ok(def) = definition(typ, args.get("definition")) {
                out.push(def);
            }
        }
        "add_remote_schema_permissions" => {
            let name = &args["remote_schema"];
            if let Some(s) = list(md).into_iter().find(|s| &s["name"] == name) {
                out.push(s["definition"].clone());
            }
        }
        _ => {}
    }
}

/// Introspects every server `body` needs, before the command runs.
pub async fn prefetch(body: &Value, md: &Metadata, env: &Env) -> Fetched {
    let mut defs = Vec::new();
    definitions_to_fetch(body, md, &mut defs);
    let mut out = Fetched::new();
    for d in defs {
        let key = d.to_string();
        if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(key) {
            slot.insert(remote::introspect(&d, env).await);
        }
    }
    out
}

pub fn add(
    md: &mut Metadata,
    fetched: &Fetched,
    cmd: &str,
    args: &Value,
    update: bool,
) -> Result<Value, QErr> {
    let o = obj(cmd, args, "AddRemoteSchemaQuery")?;
    let name = non_empty(cmd, o, "name")?;
    let def = definition(cmd, o.get("definition"))?;
    let comment = text(cmd, o, "comment", "$.args")?;
    let mut schemas = list(md);
    let existing = position(&schemas, &name);
    match (existing, update) {
        (Some(_), false) => {
            return Err(QErr::bad(
                "already-exists",
                "$.args",
                format!("remote schema with name \"{name}\" already exists"),
            ))
        }
        (None, true) => {
            return Err(QErr::bad(
                "not-exists",
                "$.args",
                format!("remote schema with name \"{name}\" doesn't exist"),
            ))
        }
        _ => {}
    }
    check_reserved(&def)?;
    let upstream = introspected(fetched, &def)?;
    let mut entry = Map::new();
    entry.insert("name".into(), json!(name));
    entry.insert("definition".into(), def);
    if let Some(c) = comment {
        entry.insert("comment".into(), json!(c));
    }
    match existing {
        Some(i) => {
            // `runUpdateRemoteSchema` keeps the permissions; the rebuild
            // checks them against the new schema (`withNewInconsistentObjsCheck`).
            let perms = schemas[i]["permissions"].clone();
            for p in perms.as_array().into_iter().flatten() {
                let sdl = p
                    .pointer("/definition/schema")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let ok = graphql_parser::parse_schema::<String>(sdl)
                    .map(|d| permission::validate(upstream, &types::from_sdl(&d)).is_ok())
                    .unwrap_or(false);
                if !ok {
                    return Err(QErr::bad(
                        "unexpected",
                        "$.args",
                        "cannot continue due to new inconsistent metadata",
                    ));
                }
            }
            if perms.is_array() {
                entry.insert("permissions".into(), perms);
            }
            schemas[i] = Value::Object(entry);
        }
        None => schemas.push(Value::Object(entry)),
    }
    saved(md, schemas)
}

pub fn remove(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = obj(cmd, args, "RemoteSchemaNameQuery")?;
    let name = non_empty(cmd, o, "name")?;
    let mut schemas = list(md);
    let i = position(&schemas, &name)
        .ok_or_else(|| QErr::bad("not-exists", "$.args", "no such remote schema"))?;
    schemas.remove(i);
    saved(md, schemas)
}

fn missing_schema(name: &str) -> QErr {
    QErr::bad(
        "not-exists",
        "$.args",
        format!("remote schema \"{name}\" doesn't exist"),
    )
}

fn perms_of(s: &Value) -> Vec<Value> {
    s["permissions"].as_array().cloned().unwrap_or_default()
}

pub fn add_permission(
    md: &mut Metadata,
    env: &Env,
    fetched: &Fetched,
    cmd: &str,
    args: &Value,
) -> Result<Value, QErr> {
    let o = obj(cmd, args, "AddRemoteSchemaPermission")?;
    let name = non_empty(cmd, o, "remote_schema")?;
    let role = non_empty(cmd, o, "role")?;
    let defn = o
        .get("definition")
        .and_then(Value::as_object)
        .ok_or_else(|| parse_failed(cmd, "$.args", "key \"definition\" not found"))?;
    let sdl = text(cmd, defn, "schema", "$.args.definition")?
        .ok_or_else(|| parse_failed(cmd, "$.args.definition", "key \"schema\" not found"))?;
    let doc = graphql_parser::parse_schema::<String>(&sdl)
        .map_err(|e| parse_failed(cmd, "$.args.definition.schema", e.to_string().trim()))?;
    let comment = text(cmd, o, "comment", "$.args")?;
    if env.get(PERMISSIONS_ENV).map(|v| v.to_ascii_lowercase()) != Some("true".into()) {
        return Err(QErr::bad(
            "constraint-violation",
            "$.args",
            "remote schema permissions can only be added when remote schema permissions are enabled in the graphql-engine",
        ));
    }
    let mut schemas = list(md);
    let i = position(&schemas, &name).ok_or_else(|| missing_schema(&name))?;
    let mut perms = perms_of(&schemas[i]);
    if perms.iter().any(|p| p["role"] == role) {
        return Err(QErr::bad(
            "already-exists",
            "$.args",
            format!("permissions for role: \"{role}\" for remote schema:\"{name}\" already exists"),
        ));
    }
    if role == "admin" {
        return Err(QErr::bad(
            "constraint-violation",
            "$.args",
            "cannot define permission for admin role",
        ));
    }
    let upstream = introspected(fetched, &schemas[i]["definition"])?;
    permission::validate(upstream, &types::from_sdl(&doc))?;
    let mut p = Map::new();
    p.insert("role".into(), json!(role));
    p.insert("definition".into(), json!({"schema": doc.to_string()}));
    if let Some(c) = comment {
        p.insert("comment".into(), json!(c));
    }
    perms.insert(0, Value::Object(p));
    schemas[i]["permissions"] = Value::Array(perms);
    saved(md, schemas)
}

pub fn drop_permission(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = obj(cmd, args, "DropRemoteSchemaPermissions")?;
    let name = non_empty(cmd, o, "remote_schema")?;
    let role = non_empty(cmd, o, "role")?;
    let mut schemas = list(md);
    let i = position(&schemas, &name).ok_or_else(|| missing_schema(&name))?;
    let mut perms = perms_of(&schemas[i]);
    let Some(at) = perms.iter().position(|p| p["role"] == role) else {
        return Err(QErr::bad(
            "not-exists",
            "$.args",
            format!("permissions for role: \"{role}\" for remote schema:\"{name}\" doesn't exist"),
        ));
    };
    perms.remove(at);
    let s = schemas[i]
        .as_object_mut()
        .expect("stored remote schemas are objects");
    if perms.is_empty() {
        s.remove("permissions");
    } else {
        s.insert("permissions".into(), Value::Array(perms));
    }
    saved(md, schemas)
}
