//! Hasura Cloud control plane (GraphQL at `cloud_api_url`): project -> tenant
//! lookup and the tenant env vars. Every env write must carry the hash of the
//! config it replaces and restarts the project, so writes from concurrent
//! resource applies are coalesced per tenant into one `updateTenantEnv` and
//! one `deleteTenantEnv`, chained by hash, then the provider waits for the
//! project's `/healthz`.
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::http::{secret_header, BadHeader, HttpClient, HttpError, Idempotency};

mod env_batch;

use super::lenient::Lenient;
use super::HasuraError;

#[derive(Clone, Debug)]
pub struct Project {
    pub id: String,
    pub tenant_id: String,
    /// Base URL of the project's engine, for `/healthz`.
    pub endpoint: Option<String>,
}

#[derive(Clone, Debug)]
pub struct TenantEnv {
    pub hash: String,
    pub vars: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub enum EnvChange {
    Set(String, String),
    Delete(String),
}

pub struct Cloud {
    http: HttpClient,
    probe: HttpClient,
    url: String,
    headers: HeaderMap,
    pub default_project: Option<String>,
    /// The provider's `endpoint`, used for `/healthz` when the control plane does not say.
    engine_base: Option<String>,
    projects: tokio::sync::Mutex<HashMap<String, Project>>,
    envs: tokio::sync::Mutex<HashMap<String, TenantEnv>>,
    pending: Mutex<HashMap<String, env_batch::Pending>>,
    /// A batch closes once no change arrived for this long...
    quiet: Duration,
    /// ...or once it is this old.
    max_wait: Duration,
    health_timeout: Duration,
}

impl Cloud {
    pub fn new(
        http: HttpClient,
        probe: HttpClient,
        url: &url::Url,
        token: &str,
        default_project: Option<String>,
        engine_base: Option<String>,
    ) -> Result<Self, BadHeader> {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            secret_header("cloud_access_token", &format!("pat {token}"))?,
        );
        Ok(Cloud {
            http,
            probe,
            url: url.as_str().to_string(),
            headers,
            default_project,
            engine_base,
            projects: Default::default(),
            envs: Default::default(),
            pending: Default::default(),
            quiet: Duration::from_millis(400),
            max_wait: Duration::from_secs(3),
            health_timeout: health_timeout(),
        })
    }

    /// One GraphQL operation, its `data` decoded as `T` (from `{}` when
    /// `data` is null, so absent fields read as absent). `secrets` are
    /// redacted from any error text the control plane sends back.
    async fn gql<T: DeserializeOwned>(
        &self,
        cancel: &CancellationToken,
        op: &str,
        query: &str,
        variables: Value,
        idem: Idempotency,
        secrets: &[&str],
    ) -> Result<T, HasuraError> {
        let body = json!({"query": query, "variables": variables});
        let resp = self
            .http
            .send(cancel, Method::POST, &self.url, &self.headers, Some(&body), idem)
            .await
            .map_err(|e| match e {
                HttpError::Status { status, body } => {
                    let msg = serde_json::from_str::<GqlAnswer>(&body)
                        .ok()
                        .and_then(|a| a.first_error())
                        .and_then(|e| e.message.0);
                    let hint = if matches!(status.as_u16(), 401 | 403) { " Check `cloud_access_token` (or HASURA_CLOUD_ACCESS_TOKEN): the Cloud API rejected it." } else { "" };
                    HasuraError::Api {
                        status: Some(status),
                        code: None,
                        message: format!("Hasura Cloud API {op} failed with HTTP {}: {}.{hint}", status.as_u16(), redact(&msg.unwrap_or_else(|| "no error details".into()), secrets)),
                    }
                }
                HttpError::Transport(m) => HasuraError::transport(format!("Hasura Cloud API {op} failed: {m}")),
                HttpError::Cancelled => HasuraError::cancelled(format!("Hasura Cloud API {op} was cancelled because Terraform asked the provider to stop")),
            })?;
        let unreadable = |e: serde_json::Error| {
            HasuraError::transport(format!(
                "Hasura Cloud API {op} returned a body this provider cannot read: {e}"
            ))
        };
        let answer: GqlAnswer = serde_json::from_slice(&resp.body).map_err(unreadable)?;
        // GraphQL reports failures with HTTP 200 and `errors`.
        if let Some(err) = answer.first_error() {
            let code = err.extensions.0.and_then(|x| x.code.0);
            let msg = err.message.0.unwrap_or_else(|| "unknown error".into());
            return Err(HasuraError::Api {
                status: None,
                message: format!(
                    "Hasura Cloud API {op} failed{}: {}",
                    code.as_deref()
                        .map(|c| format!(" [{c}]"))
                        .unwrap_or_default(),
                    redact(&msg, secrets)
                ),
                code,
            });
        }
        let data = match answer.data {
            Value::Null => json!({}),
            d => d,
        };
        serde_json::from_value(data).map_err(unreadable)
    }

    /// The project (`project_id`, else the provider's `cloud_project_id`) and its tenant.
    pub async fn project(
        &self,
        cancel: &CancellationToken,
        project_id: Option<&str>,
    ) -> Result<Project, HasuraError> {
        let Some(id) = project_id.or(self.default_project.as_deref()) else {
            return Err(HasuraError::other("No Hasura Cloud project given: set `project_id` on the resource or `cloud_project_id` (HASURA_CLOUD_PROJECT_ID) in the provider block."));
        };
        let mut cache = self.projects.lock().await;
        if let Some(p) = cache.get(id) {
            return Ok(p.clone());
        }
        #[derive(Deserialize)]
        struct Data {
            #[serde(default)]
            projects_by_pk: Lenient<ProjectRow>,
        }
        #[derive(Deserialize)]
        struct ProjectRow {
            #[serde(default)]
            endpoint: Lenient<String>,
            #[serde(default)]
            tenant: Lenient<Id>,
        }
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let data: Data = self
            .gql(cancel, "projects_by_pk", "query projectTenant($id: uuid!) { projects_by_pk(id: $id) { id endpoint tenant { id } } }", json!({"id": id}), Idempotency::Idempotent, &[])
            .await?;
        let p = data.projects_by_pk.0.ok_or_else(|| {
            HasuraError::other(format!("Hasura Cloud project {id:?} was not found, or the access token cannot see it. Use the project id from the Cloud dashboard URL (not the tenant id)."))
        })?;
        let tenant_id = p.tenant.0.map(|t| t.id).ok_or_else(|| {
            HasuraError::other(format!("Hasura Cloud project {id:?} has no tenant"))
        })?;
        let endpoint = p
            .endpoint
            .0
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.trim_end_matches('/')
                    .trim_end_matches("/v1/graphql")
                    .to_string()
            })
            .or_else(|| self.engine_base.clone());
        let project = Project {
            id: id.to_string(),
            tenant_id,
            endpoint,
        };
        cache.insert(id.to_string(), project.clone());
        Ok(project)
    }

    /// The tenant's env vars, from this process's cache when it has them.
    pub async fn env(
        &self,
        cancel: &CancellationToken,
        tenant: &str,
    ) -> Result<TenantEnv, HasuraError> {
        let mut cache = self.envs.lock().await;
        if let Some(e) = cache.get(tenant) {
            return Ok(e.clone());
        }
        let e = self.fetch_env(cancel, tenant).await?;
        cache.insert(tenant.to_string(), e.clone());
        Ok(e)
    }

    async fn fetch_env(
        &self,
        cancel: &CancellationToken,
        tenant: &str,
    ) -> Result<TenantEnv, HasuraError> {
        #[derive(Deserialize)]
        #[allow(non_snake_case)]
        struct Data {
            #[serde(default)]
            getTenantEnv: Lenient<EnvRow>,
        }
        let data: Data = self
            .gql(cancel, "getTenantEnv", "query getTenantEnv($tenantId: uuid!) { getTenantEnv(tenantId: $tenantId) { hash envVars } }", json!({"tenantId": tenant}), Idempotency::Idempotent, &[])
            .await?;
        parse_env(data.getTenantEnv.0, "getTenantEnv")
    }
}

/// How long an apply waits for the project to answer `/healthz` after an env
/// change: 600 s, or `HASURA_CLOUD_HEALTH_TIMEOUT` seconds (an environment
/// variable of the provider process, for slow projects and for tests).
fn health_timeout() -> Duration {
    std::env::var("HASURA_CLOUD_HEALTH_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(600), Duration::from_secs)
}

/// An env as the control plane answers it. User variables live under
/// `envVars.environment`.
#[derive(Deserialize)]
struct EnvRow {
    #[serde(default)]
    hash: Lenient<String>,
    #[serde(default, rename = "envVars")]
    env_vars: Lenient<EnvVars>,
}

#[derive(Deserialize)]
struct EnvVars {
    #[serde(default)]
    environment: Lenient<BTreeMap<String, Value>>,
}

fn parse_env(row: Option<EnvRow>, op: &str) -> Result<TenantEnv, HasuraError> {
    let row = row.ok_or_else(|| {
        HasuraError::other(format!(
            "Hasura Cloud API {op} returned no env (wrong tenant?)"
        ))
    })?;
    let environment = row.env_vars.0.and_then(|e| e.environment.0);
    // Stringify anything that is not a string.
    let vars = environment
        .unwrap_or_default()
        .into_iter()
        .map(|(k, x)| {
            let v = match x {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect();
    Ok(TenantEnv {
        hash: row.hash.0.unwrap_or_default(),
        vars,
    })
}

/// A GraphQL answer: `errors` (first one reported) and `data`.
#[derive(Deserialize)]
struct GqlAnswer {
    #[serde(default)]
    errors: Lenient<Vec<GqlError>>,
    #[serde(default)]
    data: Value,
}

impl GqlAnswer {
    fn first_error(&self) -> Option<GqlError> {
        self.errors.0.as_ref()?.first().cloned()
    }
}

#[derive(Clone, Deserialize)]
struct GqlError {
    #[serde(default)]
    message: Lenient<String>,
    #[serde(default)]
    extensions: Lenient<GqlExtensions>,
}

#[derive(Clone, Deserialize)]
struct GqlExtensions {
    #[serde(default)]
    code: Lenient<String>,
}

fn redact(msg: &str, secrets: &[&str]) -> String {
    let mut m = msg.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        m = m.replace(*s, "(sensitive value)");
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_shape_and_redaction() {
        let row = |v: Value| serde_json::from_value::<Lenient<EnvRow>>(v).unwrap().0;
        let e = parse_env(
            row(
                json!({"hash": "h", "envVars": {"environment": {"A": "1", "B": 2}, "other": true}}),
            ),
            "x",
        )
        .unwrap();
        assert_eq!(e.hash, "h");
        assert_eq!(e.vars.get("A").map(String::as_str), Some("1"));
        assert_eq!(e.vars.get("B").map(String::as_str), Some("2"));
        assert!(parse_env(row(Value::Null), "x").is_err());
        assert_eq!(
            redact("bad value supersecret here", &["supersecret"]),
            "bad value (sensitive value) here"
        );
    }
}
