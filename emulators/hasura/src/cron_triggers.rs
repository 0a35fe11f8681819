//! Cron triggers: `create_cron_trigger`, `delete_cron_trigger` and
//! `get_cron_triggers`, kept under the metadata's top-level `cron_triggers`.
//!
//! Sources (graphql-engine):
//! - arguments: `server/src-lib/Hasura/RQL/Types/ScheduledTrigger.hs`
//!   (`CreateCronTrigger`: `name`, `webhook`, `schedule` required; `payload`,
//!   `retry_conf` (default `{0, 10, 60, 21600}`), `headers` (default `[]`),
//!   `include_in_metadata` (default false), `comment`, `replace` (default
//!   false), `request_transform`, `response_transform`);
//! - behaviour: `server/src-lib/Hasura/RQL/DDL/ScheduledTrigger.hs`
//!   (`runCreateCronTrigger`: "cron trigger with name: N already exists"
//!   (`already-exists`) unless `replace`, which needs the trigger to exist
//!   (`checkExists`: "cron trigger with name: N does not exist",
//!   `not-exists`); `runDeleteCronTrigger` likewise; `runGetCronTriggers`
//!   answers `{"cron_triggers": [...]}`);
//! - export shape: `server/src-lib/Hasura/RQL/Types/Metadata/Serialization.hs`
//!   (`cronTriggersToOrdJSONList`: sorted by name; `name`, `webhook`,
//!   `schedule`, `include_in_metadata`, then `payload`, `retry_conf` (only
//!   when not the default), `headers` (only when not empty), `comment`,
//!   `request_transform`, `response_transform` when present);
//! - `schedule`: `parseCronSchedule`, stored as `serializeCronSchedule`
//!   writes it (`cron.rs`);
//! - resolution: `resolveCronTrigger` renders the webhook template
//!   ("Value for environment variables not found: X", `resolveWebhook` in
//!   `Hasura/RQL/Types/Common.hs`) and header env vars ("environment variable
//!   'X' not set", `getEnv`); the failure makes the new object inconsistent,
//!   which `buildSchemaCacheFor` reports as `invalid-configuration`.
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::cron::parse_cron;
use crate::errors::{parse_failed, QErr};
use crate::metadata::Metadata;

const KEY: &str = "cron_triggers";

type Env = BTreeMap<String, String>;

/// `defaultSTRetryConf`.
fn default_retry_conf() -> Value {
    json!({"num_retries": 0, "retry_interval_seconds": 10, "timeout_seconds": 60, "tolerance_seconds": 21600})
}

fn list(md: &Metadata) -> Vec<Value> {
    md.extra
        .get(KEY)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn store(md: &mut Metadata, mut triggers: Vec<Value>) {
    triggers.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    md.extra.insert(KEY.into(), Value::Array(triggers));
}

fn position(triggers: &[Value], name: &str) -> Option<usize> {
    triggers.iter().position(|t| t["name"] == name)
}

fn not_exists(name: &str) -> QErr {
    QErr::bad(
        "not-exists",
        "$.args",
        format!("cron trigger with name: {name} does not exist"),
    )
}

fn text(
    cmd: &str,
    o: &Map<String, Value>,
    k: &str,
    required: bool,
) -> Result<Option<String>, QErr> {
    match o.get(k) {
        None if required => Err(parse_failed(
            cmd,
            "$.args",
            format!("key \"{k}\" not found"),
        )),
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        _ => Err(parse_failed(
            cmd,
            &format!("$.args.{k}"),
            "parsing Text failed, expected String",
        )),
    }
}

/// `TriggerName` wraps `NonEmptyText` (`Data/Text/NonEmpty.hs`).
fn name_arg(cmd: &str, o: &Map<String, Value>) -> Result<String, QErr> {
    let name = text(cmd, o, "name", true)?.unwrap_or_default();
    if name.is_empty() {
        return Err(parse_failed(cmd, "$.args.name", "empty string not allowed"));
    }
    Ok(name)
}

pub fn create(md: &mut Metadata, env: &Env, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = args.as_object().ok_or_else(|| {
        parse_failed(
            cmd,
            "$.args",
            "parsing CreateCronTrigger failed, expected Object",
        )
    })?;
    let name = name_arg(cmd, o)?;
    let webhook = text(cmd, o, "webhook", true)?.unwrap_or_default();
    parse_template(&webhook).map_err(|e| {
        parse_failed(
            cmd,
            "$.args.webhook",
            format!("Parsing URL template failed: {e}"),
        )
    })?;
    let schedule = text(cmd, o, "schedule", true)?.unwrap_or_default();
    let schedule = parse_cron(&schedule).map_err(|e| parse_failed(cmd, "$.args.schedule", e))?;
    let retry_conf = retry_conf(cmd, o.get("retry_conf"))?;
    let headers = headers(cmd, o.get("headers"))?;
    let include = match o.get("include_in_metadata") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(parse_failed(
                cmd,
                "$.args.include_in_metadata",
                "parsing Bool failed, expected Boolean",
            ))
        }
    };
    let replace = matches!(o.get("replace"), Some(Value::Bool(true)));
    let comment = text(cmd, o, "comment", false)?;

    let mut triggers = list(md);
    let existing = position(&triggers, &name);
    match (existing, replace) {
        (Some(_), false) => {
            return Err(QErr::bad(
                "already-exists",
                "$.args",
                format!("cron trigger with name: {name} already exists"),
            ))
        }
        (None, true) => return Err(not_exists(&name)),
        _ => {}
    }
    render_template(&webhook, env)
        .and_then(|_| resolve_headers(&Value::Array(headers.clone()), env))
        .map_err(|reason| {
            QErr::bad(
                "invalid-configuration",
                "$.args",
                format!("Inconsistent object: {reason}"),
            )
        })?;

    let mut entry = Map::new();
    entry.insert("name".into(), json!(name));
    entry.insert("webhook".into(), json!(webhook));
    entry.insert("schedule".into(), json!(schedule));
    entry.insert("include_in_metadata".into(), json!(include));
    if let Some(p) = o.get("payload").filter(|p| !p.is_null()) {
        entry.insert("payload".into(), p.clone());
    }
    if retry_conf != default_retry_conf() {
        entry.insert("retry_conf".into(), retry_conf);
    }
    if !headers.is_empty() {
        entry.insert("headers".into(), Value::Array(headers));
    }
    if let Some(c) = comment {
        entry.insert("comment".into(), json!(c));
    }
    for k in ["request_transform", "response_transform"] {
        if let Some(v) = o.get(k).filter(|v| !v.is_null()) {
            entry.insert(k.into(), v.clone());
        }
    }
    match existing {
        Some(i) => triggers[i] = Value::Object(entry),
        None => triggers.push(Value::Object(entry)),
    }
    store(md, triggers);
    Ok(json!({"message": "success"}))
}

pub fn delete(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = args.as_object().ok_or_else(|| {
        parse_failed(
            cmd,
            "$.args",
            "parsing ScheduledTriggerName failed, expected Object",
        )
    })?;
    let name = name_arg(cmd, o)?;
    let mut triggers = list(md);
    let i = position(&triggers, &name).ok_or_else(|| not_exists(&name))?;
    triggers.remove(i);
    store(md, triggers);
    Ok(json!({"message": "success"}))
}

pub fn get(md: &Metadata) -> Value {
    json!({ "cron_triggers": list(md) })
}

/// `STRetryConf`'s `FromJSON`, filled with the defaults and in export order.
fn retry_conf(cmd: &str, v: Option<&Value>) -> Result<Value, QErr> {
    let mut out = default_retry_conf();
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    let o = v.as_object().ok_or_else(|| {
        parse_failed(
            cmd,
            "$.args.retry_conf",
            "parsing STRetryConf failed, expected Object",
        )
    })?;
    for k in [
        "num_retries",
        "retry_interval_seconds",
        "timeout_seconds",
        "tolerance_seconds",
    ] {
        match o.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) => {
                let path = format!("$.args.retry_conf.{k}");
                let Some(i) = n.as_i64() else {
                    return Err(parse_failed(
                        cmd,
                        &path,
                        format!("{n} is not a whole number"),
                    ));
                };
                if i < 0 {
                    // `STRetryConf`'s own check for the count; `NonNegativeDiffTime` for the rest.
                    let msg = if k == "num_retries" {
                        "num_retries cannot be a negative value"
                    } else {
                        "negative value not allowed"
                    };
                    return Err(parse_failed(
                        cmd,
                        if k == "num_retries" {
                            "$.args.retry_conf"
                        } else {
                            &path
                        },
                        msg,
                    ));
                }
                out[k] = json!(i);
            }
            Some(_) => {
                return Err(parse_failed(
                    cmd,
                    &format!("$.args.retry_conf.{k}"),
                    "parsing Number failed, expected Number",
                ))
            }
        }
    }
    Ok(out)
}

/// `HeaderConf`: `{name, value}` or `{name, value_from_env}`
/// (`Hasura/RQL/Types/EventTrigger.hs`, `instance FromJSON HeaderConf`).
fn headers(cmd: &str, v: Option<&Value>) -> Result<Vec<Value>, QErr> {
    headers_at(cmd, "$.args.headers", v)
}

/// `headers` at `base` (remote schemas keep them in `definition`).
pub(crate) fn headers_at(cmd: &str, base: &str, v: Option<&Value>) -> Result<Vec<Value>, QErr> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items = v
        .as_array()
        .ok_or_else(|| parse_failed(cmd, base, "parsing [a] failed, expected Array"))?;
    let mut out = Vec::new();
    for (i, h) in items.iter().enumerate() {
        let path = format!("{base}[{i}]");
        let o = h.as_object().ok_or_else(|| {
            parse_failed(cmd, &path, "parsing HeaderConf failed, expected Object")
        })?;
        let name = match o.get("name") {
            Some(Value::String(s)) => s.clone(),
            None => return Err(parse_failed(cmd, &path, "key \"name\" not found")),
            Some(_) => {
                return Err(parse_failed(
                    cmd,
                    &format!("{path}.name"),
                    "parsing Text failed, expected String",
                ))
            }
        };
        let entry = match (o.get("value"), o.get("value_from_env")) {
            (Some(Value::String(v)), None) => json!({"name": name, "value": v}),
            (None, Some(Value::String(e))) => json!({"name": name, "value_from_env": e}),
            (Some(_), Some(_)) => {
                return Err(parse_failed(
                    cmd,
                    &path,
                    "expecting only one of value or value_from_env keys",
                ))
            }
            (None, None) => {
                return Err(parse_failed(
                    cmd,
                    &path,
                    "expecting value or value_from_env keys",
                ))
            }
            _ => {
                return Err(parse_failed(
                    cmd,
                    &path,
                    "parsing Text failed, expected String",
                ))
            }
        };
        out.push(entry);
    }
    Ok(out)
}

/// Checks a URL template: text with `{{ENV_VAR}}` parts (`Data/URL/Template.hs`).
pub(crate) fn parse_template(s: &str) -> Result<(), String> {
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let j = after
            .find("}}")
            .ok_or_else(|| "endOfInput: expecting \"}}\"".to_string())?;
        if after[..j].trim().is_empty() {
            return Err("empty variable name".into());
        }
        rest = &after[j + 2..];
    }
    Ok(())
}

/// A URL template rendered with the engine's env (`resolveWebhook`: "Value
/// for environment variables not found: X").
pub fn render_template(s: &str, env: &Env) -> Result<String, String> {
    let mut out = String::new();
    let mut missing = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        let var = after[..j].trim();
        match env.get(var) {
            Some(v) => out.push_str(v),
            None => missing.push(var.to_string()),
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "Value for environment variables not found: {}",
            missing.join(", ")
        ))
    }
}

/// Header confs as (name, value) with env vars read (`getEnv`: "environment
/// variable 'X' not set").
pub fn resolve_headers(headers: &Value, env: &Env) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for h in headers.as_array().into_iter().flatten() {
        let name = h["name"].as_str().unwrap_or_default().to_string();
        let value = match (h["value"].as_str(), h["value_from_env"].as_str()) {
            (Some(v), _) => v.to_string(),
            (_, Some(e)) => env
                .get(e)
                .cloned()
                .ok_or_else(|| format!("environment variable '{e}' not set"))?,
            _ => continue,
        };
        out.push((name, value));
    }
    Ok(out)
}
