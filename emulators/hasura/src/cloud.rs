//! Hasura Cloud control-plane subset (`POST /cloud/v1/graphql`): project -> tenant lookup
//! and the tenant env-var API with its `currentHash` compare-and-swap chain.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};

use crate::graphql_parse::{parse, project, OpKind, RootField};
use crate::rollout::EnvWriteFault;
use crate::state::{load_env, store_env, AppState};

pub fn initial_hash(tenant: &str) -> String {
    hex(Sha1::digest(format!("tenant-env:{tenant}").as_bytes()).as_slice())
}

/// Chained so that every change yields a new 40-hex hash, even back to an earlier value.
fn next_hash(prev: &str, env: &BTreeMap<String, String>) -> String {
    let body = serde_json::to_string(env).unwrap_or_default();
    hex(Sha1::digest(format!("{prev}\n{body}").as_bytes()).as_slice())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The answer to a stale `currentHash`. Hasura Cloud's real answer is not
/// public: its docs (`docs/docs/api-reference/cloud-api-reference.mdx`) show
/// only the happy path, and no public client (the Cloud console in
/// hasura/graphql-engine `frontend/.../ControlPlane`, hasura-cloud-preview-apps,
/// Infisical, envsecrets, gurukulkarni/terraform-provider-hasura-cloud)
/// matches on an error of `updateTenantEnv`: they all surface
/// `errors[0].message`. What is on record is how the control plane's own
/// resolvers fail: HTTP 200, `errors[]`, and for createTenant
/// (hasura/graphql-engine#9731)
/// `{"extensions":{"code":"GenericServerError","id":"<uuid>"},"message":"there was an internal error while serving your request"}`.
/// So this emulator answers a stale hash with exactly that, and nothing in
/// it says "stale": a client must re-read the env and compare hashes, as
/// the provider does, rather than trust a code we would have invented.
fn stale_hash() -> Value {
    json!({
        "extensions": {"code": "GenericServerError", "id": crate::random_uuid()},
        "message": "there was an internal error while serving your request",
    })
}

fn gql_error(message: impl Into<String>, code: &str, path: &str) -> Value {
    json!({"extensions": {"path": path, "code": code}, "message": message.into()})
}

/// The answer, and whether a test asked for the connection to drop instead.
pub async fn handle(
    st: &AppState,
    headers: &HeaderMap,
    body: &Value,
) -> (StatusCode, Value, Option<EnvWriteFault>) {
    let fault = Mutex::new(None);
    let (status, body) = answer(st, headers, body, &fault).await;
    let fault = *fault.lock().unwrap_or_else(|p| p.into_inner());
    (status, body, fault)
}

async fn answer(
    st: &AppState,
    headers: &HeaderMap,
    body: &Value,
    fault: &Mutex<Option<EnvWriteFault>>,
) -> (StatusCode, Value) {
    let expected = format!("pat {}", st.settings.cloud_token);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth.trim() != expected {
        // The control plane authenticates through a webhook; a rejected PAT looks like this.
        return (
            StatusCode::UNAUTHORIZED,
            json!({"errors": [gql_error("Authentication hook unauthorized this request", "access-denied", "$")]}),
        );
    }
    let ok = |errors: Vec<Value>| (StatusCode::OK, json!({ "errors": errors }));
    let Some(query) = body.get("query").and_then(Value::as_str) else {
        return ok(vec![gql_error(
            "the key 'query' was not present",
            "parse-failed",
            "$",
        )]);
    };
    let vars = body
        .get("variables")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let op_name = body.get("operationName").and_then(Value::as_str);
    let op = match parse(query, op_name, &vars) {
        Ok(op) => op,
        Err(e) => return ok(vec![gql_error(e, "validation-failed", "$.query")]),
    };
    let mut data = Map::new();
    for f in &op.fields {
        let r = match (op.kind, f.name.as_str()) {
            (_, "__typename") => Ok(json!(match op.kind {
                OpKind::Mutation => "mutation_root",
                _ => "query_root",
            })),
            (OpKind::Query, "projects_by_pk") => Ok(project_by_pk(st, f)),
            (OpKind::Query, "tenant_by_pk") => Ok(tenant_by_pk(st, f)),
            (OpKind::Query, "getTenantEnv") => get_env(st, f).await,
            (OpKind::Mutation, "updateTenantEnv") => change_env(st, f, false, fault).await,
            (OpKind::Mutation, "deleteTenantEnv") => change_env(st, f, true, fault).await,
            (kind, name) => Err(gql_error(
                format!(
                    "field '{name}' not found in type: '{}'",
                    if kind == OpKind::Mutation {
                        "mutation_root"
                    } else {
                        "query_root"
                    }
                ),
                "validation-failed",
                &format!("$.selectionSet.{name}"),
            )),
        };
        match r {
            Ok(v) => {
                data.insert(f.key.clone(), project(&v, &f.children, &f.name));
            }
            Err(e) => return ok(vec![e]),
        }
    }
    (StatusCode::OK, json!({ "data": data }))
}

fn str_arg<'a>(f: &'a RootField, k: &str) -> Result<&'a str, Value> {
    f.args.get(k).and_then(Value::as_str).ok_or_else(|| {
        gql_error(
            format!("missing required field '{k}'"),
            "validation-failed",
            &format!("$.selectionSet.{}.args.{k}", f.name),
        )
    })
}

fn project_by_pk(st: &AppState, f: &RootField) -> Value {
    let s = &st.settings;
    if f.args.get("id").and_then(Value::as_str) != Some(s.project_id.as_str()) {
        return Value::Null;
    }
    json!({
        "id": s.project_id,
        "name": "emulated-project",
        "endpoint": st.endpoint.get().cloned().unwrap_or_default(),
        "tenant": {"id": s.tenant_id},
    })
}

fn tenant_by_pk(st: &AppState, f: &RootField) -> Value {
    let s = &st.settings;
    if f.args.get("id").and_then(Value::as_str) != Some(s.tenant_id.as_str()) {
        return Value::Null;
    }
    json!({
        "id": s.tenant_id,
        "slug": "emulated-project",
        "project": {"id": s.project_id, "endpoint": st.endpoint.get().cloned().unwrap_or_default()},
    })
}

fn unknown_tenant(f: &RootField) -> Value {
    gql_error(
        "tenant not found",
        "not-exists",
        &format!("$.selectionSet.{}.args.tenantId", f.name),
    )
}

fn tenant_env(hash: &str, env: &BTreeMap<String, String>) -> Value {
    json!({"hash": hash, "envVars": {"environment": env}})
}

async fn get_env(st: &AppState, f: &RootField) -> Result<Value, Value> {
    st.control.count("cloud:getTenantEnv");
    let tenant = str_arg(f, "tenantId")?;
    if tenant != st.settings.tenant_id {
        return Err(unknown_tenant(f));
    }
    let (hash, env) = load_env(&st.db, tenant)
        .await
        .map_err(|e| gql_error(e.error, "unexpected", "$"))?;
    Ok(tenant_env(&hash, &env))
}

async fn change_env(
    st: &AppState,
    f: &RootField,
    delete: bool,
    fault: &Mutex<Option<EnvWriteFault>>,
) -> Result<Value, Value> {
    st.control.count(if delete {
        "cloud:deleteTenantEnv"
    } else {
        "cloud:updateTenantEnv"
    });
    let tenant = str_arg(f, "tenantId")?;
    let current = str_arg(f, "currentHash")?;
    let list_key = if delete { "deleteEnvs" } else { "envs" };
    let Some(Value::Array(items)) = f.args.get(list_key) else {
        return Err(gql_error(
            format!("missing required field '{list_key}'"),
            "validation-failed",
            &format!("$.selectionSet.{}.args.{list_key}", f.name),
        ));
    };
    if tenant != st.settings.tenant_id {
        return Err(unknown_tenant(f));
    }
    let _guard = st.cloud_lock.lock().await;
    match st.rollout.take_fault() {
        Some(EnvWriteFault::Reset) => {
            *fault.lock().unwrap_or_else(|p| p.into_inner()) = Some(EnvWriteFault::Reset);
            return Ok(Value::Null);
        }
        other => *fault.lock().unwrap_or_else(|p| p.into_inner()) = other,
    }
    if let Some(pairs) = st.rollout.take_race() {
        // A test's "someone edited the env in the dashboard meanwhile".
        let (hash, mut env) = load_env(&st.db, tenant)
            .await
            .map_err(|e| gql_error(e.error, "unexpected", "$"))?;
        let old = env.clone();
        env.extend(pairs);
        store_env(&st.db, tenant, &next_hash(&hash, &env), &env)
            .await
            .map_err(|e| gql_error(e.error, "unexpected", "$"))?;
        st.begin_restart(&old, &env);
    }
    let (hash, mut env) = load_env(&st.db, tenant)
        .await
        .map_err(|e| gql_error(e.error, "unexpected", "$"))?;
    if current != hash {
        return Err(stale_hash());
    }
    let old = env.clone();
    for (i, item) in items.iter().enumerate() {
        let bad = |what: &str| {
            gql_error(
                format!("expected {what} at index {i}"),
                "validation-failed",
                &format!("$.selectionSet.{}.args.{list_key}[{i}]", f.name),
            )
        };
        if delete {
            let key = item.as_str().ok_or_else(|| bad("a String"))?;
            env.remove(key);
        } else {
            let key = item
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("{key, value}"))?;
            let value = item
                .get("value")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("{key, value}"))?;
            env.insert(key.to_string(), value.to_string());
        }
    }
    let new_hash = next_hash(&hash, &env);
    store_env(&st.db, tenant, &new_hash, &env)
        .await
        .map_err(|e| gql_error(e.error, "unexpected", "$"))?;
    // Every accepted change redeploys the project (`rollout.rs`).
    st.begin_restart(&old, &env);
    Ok(tenant_env(&new_hash, &env))
}
