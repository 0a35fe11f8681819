//! Talking to a remote server: where a definition points (`url` template or
//! `url_from_env`, headers resolved with the engine's env), its
//! introspection, and sending it a query.
//!
//! Sources (graphql-engine):
//! - `validateRemoteSchemaDef` (`Hasura/RemoteSchema/SchemaCache/Types.hs`):
//!   "both `url` and `url_from_env` can't be empty" / "... can't be present"
//!   (`invalid-params`), a template rendered by `resolveWebhook`
//!   (`Hasura/RQL/Types/Common.hs`: `unexpected`, "Value for environment
//!   variables not found: X"), `getUrlFromEnv` (`Hasura/RemoteSchema/
//!   Metadata/Core.hs`: `invalid-params`, "environment variable 'X' not
//!   set"), timeout 60 when unset;
//! - `makeHeadersFromConf` (`Hasura/RQL/DDL/Headers.hs`): a `value_from_env`
//!   the engine lacks is `not-found`, "environment variable 'X' not set";
//! - `execRemoteGQ` / `fetchRemoteSchema` (`Hasura/GraphQL/RemoteServer.hs`):
//!   a failed request is `remote-schema-error`, "HTTP exception occurred
//!   while sending the request to \"<template or env var name>\""; an answer
//!   that is not an introspection result is `remote-schema-error` too.
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{json, Value};

use super::types::Types;
use crate::errors::QErr;

pub type Env = BTreeMap<String, String>;

/// Introspection results of the definitions a request names, fetched before
/// the (synchronous) command runs, keyed by the stored definition's JSON.
pub type Fetched = HashMap<String, Result<Types, QErr>>;

pub struct Target {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    /// How Hasura names the endpoint in errors (`_envVarName`): the
    /// template as written, or the env var's name.
    pub label: String,
}

/// Where a stored definition points, with the engine's env.
pub fn target(def: &Value, env: &Env) -> Result<Target, QErr> {
    let url = match (def["url"].as_str(), def["url_from_env"].as_str()) {
        (Some(t), None) => (
            crate::cron_triggers::render_template(t, env)
                .map_err(|m| QErr::bad("unexpected", "$", m))?,
            t.to_string(),
        ),
        (None, Some(var)) => (
            env.get(var).cloned().ok_or_else(|| {
                QErr::bad(
                    "invalid-params",
                    "$",
                    format!("environment variable '{var}' not set"),
                )
            })?,
            var.to_string(),
        ),
        (None, None) => {
            return Err(QErr::bad(
                "invalid-params",
                "$",
                "both `url` and `url_from_env` can't be empty",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(QErr::bad(
                "invalid-params",
                "$",
                "both `url` and `url_from_env` can't be present",
            ))
        }
    };
    if reqwest::Url::parse(&url.0).is_err() {
        let msg = if def["url"].is_string() {
            format!("not a valid URI generated from the template: {}", url.1)
        } else {
            format!("not a valid URI in environment variable: {}", url.1)
        };
        return Err(QErr::bad("invalid-params", "$", msg));
    }
    let headers = crate::cron_triggers::resolve_headers(&def["headers"], env)
        .map_err(|m| QErr::bad("not-found", "$", m))?;
    let secs = def["timeout_seconds"].as_u64().unwrap_or(60);
    Ok(Target {
        url: url.0,
        headers,
        timeout: Duration::from_secs(secs),
        label: url.1,
    })
}

fn http_failed(label: &str) -> QErr {
    QErr::bad(
        "remote-schema-error",
        "$",
        format!("HTTP exception occurred while sending the request to {label:?}"),
    )
}

/// POSTs `body` with the configured headers plus `extra` (session variables
/// and forwarded client headers; configured ones win, as in `execRemoteGQ`).
pub async fn post(t: &Target, body: &Value, extra: &[(String, String)]) -> Result<Value, QErr> {
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in extra.iter().chain(&t.headers) {
        merged.insert(k.to_ascii_lowercase(), v.clone());
    }
    let mut req = reqwest::Client::new()
        .post(&t.url)
        .timeout(t.timeout)
        .header("content-type", "application/json")
        .json(body);
    for (k, v) in &merged {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await.map_err(|_| http_failed(&t.label))?;
    let bytes = resp.bytes().await.map_err(|_| http_failed(&t.label))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        QErr::bad(
            "remote-schema-error",
            "$",
            format!("Error in $: Failed reading: not a valid json value ({e})"),
        )
    })
}

const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name } types { kind name fields(includeDeprecated: true) { name type { ...TypeRef } } inputFields { name type { ...TypeRef } } enumValues(includeDeprecated: true) { name } possibleTypes { name } } } } fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } }";

/// `fetchRemoteSchema`: the server's introspection, as the admin.
pub async fn introspect(def: &Value, env: &Env) -> Result<Types, QErr> {
    let t = target(def, env)?;
    let v = post(
        &t,
        &json!({"query": INTROSPECTION}),
        &[("x-hasura-role".into(), "admin".into())],
    )
    .await?;
    Types::from_introspection(&v).map_err(|m| QErr::bad("remote-schema-error", "$", m))
}
