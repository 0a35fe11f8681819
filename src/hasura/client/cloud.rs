//! Hasura Cloud control plane (GraphQL at `cloud_api_url`): project -> tenant
//! lookup and the tenant env vars. Every env write must carry the hash of the
//! config it replaces and restarts the project, so writes from concurrent
//! resource applies are coalesced per tenant into one `updateTenantEnv` and
//! one `deleteTenantEnv`, chained by hash, then the provider waits for the
//! project's `/healthz`.
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::http::{secret_header, BadHeader, HttpClient, HttpError, Idempotency};
use crate::settle::{settle_when, ReadBack, Settle, Unsettled};

use super::error::Lenient;
use super::{may_have_landed, HasuraError};

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

type Waiter = oneshot::Sender<Result<(), HasuraError>>;

struct Pending {
    project: Project,
    /// One entry per caller: its changes, in order, and where to report.
    ops: Vec<(Vec<EnvChange>, Waiter)>,
    last_added: Instant,
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
    pending: Mutex<HashMap<String, Pending>>,
    /// A batch closes once no change arrived for this long...
    quiet: Duration,
    /// ...or once it is this old.
    max_wait: Duration,
    health_timeout: Duration,
}

/// How many times an env write is re-read and re-sent after a stale hash or
/// an ambiguous failure.
const STALE_RETRIES: u32 = 8;

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
            health_timeout: Duration::from_secs(600),
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

    /// Queues several changes for the tenant as one unit and waits until they
    /// are live. They join the same batch as every other change queued for
    /// the tenant meanwhile (from this resource or any other), so a whole
    /// set of env vars costs one `updateTenantEnv` (+ one `deleteTenantEnv`)
    /// and one restart. Within a batch a later change to a key wins.
    pub async fn change_all(
        self: &Arc<Self>,
        cancel: &CancellationToken,
        project: &Project,
        changes: Vec<EnvChange>,
    ) -> Result<(), HasuraError> {
        if changes.is_empty() {
            return Ok(());
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.pending.lock().expect("pending lock");
            match pending.get_mut(&project.tenant_id) {
                Some(p) => {
                    p.ops.push((changes, tx));
                    p.last_added = Instant::now();
                }
                None => {
                    pending.insert(
                        project.tenant_id.clone(),
                        Pending {
                            project: project.clone(),
                            ops: vec![(changes, tx)],
                            last_added: Instant::now(),
                        },
                    );
                    let me = self.clone();
                    let tenant = project.tenant_id.clone();
                    tokio::spawn(async move { me.lead(tenant).await });
                }
            }
        }
        tokio::select! {
            r = rx => r.unwrap_or_else(|_| Err(HasuraError::other("the env-var batch was abandoned (provider shutting down)"))),
            _ = cancel.cancelled() => Err(HasuraError::cancelled("waiting for the Hasura Cloud env-var change was cancelled because Terraform asked the provider to stop; the change may still be applied")),
        }
    }

    /// Runs one batch: waits for the burst of concurrent applies to settle,
    /// then applies everything in as few mutations as possible.
    async fn lead(self: Arc<Self>, tenant: String) {
        let started = Instant::now();
        let (project, ops) = loop {
            tokio::time::sleep(self.quiet / 4).await;
            let mut pending = self.pending.lock().expect("pending lock");
            let ready = pending.get(&tenant).is_none_or(|p| {
                p.last_added.elapsed() >= self.quiet || started.elapsed() >= self.max_wait
            });
            if ready {
                // Removed under the lock: later changes start the next batch.
                match pending.remove(&tenant) {
                    Some(p) => break (p.project, p.ops),
                    None => return,
                }
            }
        };
        let changes: Vec<EnvChange> = ops.iter().flat_map(|(c, _)| c.iter().cloned()).collect();
        tracing::info!(
            project = %project.id,
            callers = ops.len(),
            changes = changes.len(),
            "applying coalesced Hasura Cloud env-var changes"
        );
        // Detached from any one RPC: the batch serves every waiter.
        let result = self
            .apply(&CancellationToken::new(), &project, &changes)
            .await;
        for (_, tx) in ops {
            let _ = tx.send(result.clone());
        }
    }

    /// Sends what `changes` still need, settled: a stale hash (someone else
    /// changed the env since we read it) or an ambiguous failure (reset, lost
    /// response, 5xx: the write may or may not have landed) re-reads the env
    /// and sends again. Each send diffs the wanted values against the env it
    /// starts from, so a write that landed is not re-sent, and one that did
    /// not is re-sent with the new hash.
    async fn apply(
        &self,
        cancel: &CancellationToken,
        project: &Project,
        changes: &[EnvChange],
    ) -> Result<(), HasuraError> {
        let want = desired(changes);
        let secrets: Vec<&str> = want.values().flatten().copied().collect();
        let tenant = project.tenant_id.as_str();
        // Whether a write of ours may have restarted the project; the env's
        // hash as of our last write; the env the last read-back saw, which the
        // next send starts from.
        // (Atomics and mutexes, not cells: the batch runs on a spawned task.)
        let changed = AtomicBool::new(false);
        let hash = Mutex::new(String::new());
        let fresh: Mutex<Option<TenantEnv>> = Mutex::new(None);
        let (changed, hash, fresh) = (&changed, &hash, &fresh);
        let how = Settle {
            resending: "Hasura Cloud env write failed or raced; re-reading the env and retrying",
            landed: None,
            table: None,
            resends: STALE_RETRIES,
            backoff: false,
        };
        settle_when(
            cancel,
            &how,
            |e: &HasuraError| e.is_conflict() || may_have_landed(e),
            || async {
                let last_read = lock(fresh).take();
                let env = match last_read {
                    Some(env) => env,
                    None => self.fetch_env(cancel, tenant).await?,
                };
                let diff = Diff::new(&want, &env.vars);
                if diff.is_empty() {
                    self.envs.lock().await.insert(tenant.to_string(), env);
                    return Ok(());
                }
                *lock(hash) = env.hash;
                for (op, query, list, items) in diff.mutations() {
                    let current = lock(hash).clone();
                    let data: EnvMutation = self
                        .gql(
                            cancel,
                            op,
                            query,
                            json!({"tenantId": tenant, "currentHash": current, list: items}),
                            Idempotency::Unsafe,
                            &secrets,
                        )
                        .await?;
                    changed.store(true, Ordering::SeqCst);
                    let e = parse_env(data.env(op), op)?;
                    *lock(hash) = e.hash.clone();
                    self.envs.lock().await.insert(tenant.to_string(), e);
                }
                Ok(())
            },
            |e| {
                let conflict = e.is_conflict();
                async move {
                    let now = self.fetch_env(cancel, tenant).await?;
                    if !conflict && now.hash != *lock(hash) {
                        // Our write may have landed with its answer lost: the
                        // project restarts, so wait for /healthz below.
                        changed.store(true, Ordering::SeqCst);
                    }
                    *lock(fresh) = Some(now);
                    Ok(ReadBack::Absent)
                }
            },
        )
        .await
        // A failed re-read is reported as itself.
        .map_err(Unsettled::into_last_error)?;
        if changed.load(Ordering::SeqCst) {
            self.wait_healthy(cancel, project).await?;
        }
        Ok(())
    }

    /// Waits for the restart an env change triggers to finish.
    async fn wait_healthy(
        &self,
        cancel: &CancellationToken,
        project: &Project,
    ) -> Result<(), HasuraError> {
        let Some(base) = project.endpoint.as_deref() else {
            tracing::warn!(
                "no endpoint known for the Hasura Cloud project; not waiting for /healthz"
            );
            return Ok(());
        };
        let start = Instant::now();
        // The control plane starts the restart asynchronously: an OK seen
        // before any failure only counts after a grace period.
        let grace = Duration::from_secs(5);
        let mut saw_down = false;
        loop {
            let ok = super::health(&self.probe, cancel, base)
                .await
                .is_some_and(|s| s.is_success());
            if cancel.is_cancelled() {
                return Err(HasuraError::cancelled(
                    "waiting for the Hasura project to restart was cancelled",
                ));
            }
            if ok && (saw_down || start.elapsed() >= grace) {
                tracing::info!(
                    waited_ms = start.elapsed().as_millis() as u64,
                    "Hasura project healthy after env change"
                );
                return Ok(());
            }
            saw_down |= !ok;
            if start.elapsed() >= self.health_timeout {
                return Err(HasuraError::other(format!(
                    "the Hasura project did not report healthy on {base}/healthz within {} s after its env vars changed. A bad value (e.g. an invalid JWT secret) can keep it from booting; check the project's logs in the Cloud dashboard.",
                    self.health_timeout.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// What a batch wants per key: later changes to a key win; `None` means delete.
fn desired(changes: &[EnvChange]) -> BTreeMap<&str, Option<&str>> {
    let mut want = BTreeMap::new();
    for c in changes {
        match c {
            EnvChange::Set(k, v) => want.insert(k.as_str(), Some(v.as_str())),
            EnvChange::Delete(k) => want.insert(k.as_str(), None),
        };
    }
    want
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

/// The answer of either env mutation: the env after it.
#[derive(Deserialize)]
#[allow(non_snake_case)]
struct EnvMutation {
    #[serde(default)]
    updateTenantEnv: Lenient<EnvRow>,
    #[serde(default)]
    deleteTenantEnv: Lenient<EnvRow>,
}

impl EnvMutation {
    fn env(self, op: &str) -> Option<EnvRow> {
        if op == UPDATE.0 {
            self.updateTenantEnv.0
        } else {
            self.deleteTenantEnv.0
        }
    }
}

const UPDATE: (&str, &str) = ("updateTenantEnv", "mutation updateTenantEnv($tenantId: uuid!, $currentHash: String!, $envs: [UpdateEnvObject!]!) { updateTenantEnv(tenantId: $tenantId, currentHash: $currentHash, envs: $envs) { hash envVars } }");
const DELETE: (&str, &str) = ("deleteTenantEnv", "mutation deleteTenantEnv($tenantId: uuid!, $currentHash: String!, $deleteEnvs: [String!]!) { deleteTenantEnv(tenantId: $tenantId, currentHash: $currentHash, deleteEnvs: $deleteEnvs) { hash envVars } }");

/// What a batch must still send, given the env as it is.
struct Diff<'a> {
    upserts: Vec<Value>,
    deletes: Vec<&'a str>,
}

impl<'a> Diff<'a> {
    fn new(want: &BTreeMap<&'a str, Option<&'a str>>, vars: &BTreeMap<String, String>) -> Self {
        let upserts = want
            .iter()
            .filter_map(|(k, v)| {
                v.filter(|v| vars.get(*k).map(String::as_str) != Some(*v))
                    .map(|v| json!({"key": k, "value": v}))
            })
            .collect();
        let deletes = want
            .iter()
            .filter(|(k, v)| v.is_none() && vars.contains_key(**k))
            .map(|(k, _)| *k)
            .collect();
        Diff { upserts, deletes }
    }

    fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.deletes.is_empty()
    }

    /// The mutations to send, in order (each chained on the previous one's
    /// hash): operation, query, list variable, list.
    fn mutations(&self) -> Vec<(&'static str, &'static str, &'static str, Value)> {
        let mut out = Vec::new();
        if !self.upserts.is_empty() {
            out.push((UPDATE.0, UPDATE.1, "envs", json!(self.upserts)));
        }
        if !self.deletes.is_empty() {
            out.push((DELETE.0, DELETE.1, "deleteEnvs", json!(self.deletes)));
        }
        out
    }
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
    fn batch_merges_callers_and_later_changes_win() {
        let set = |k: &str, v: &str| EnvChange::Set(k.into(), v.into());
        let del = |k: &str| EnvChange::Delete(k.into());
        // Two callers' change sets, flattened in queue order as `lead` does.
        let ops = [
            vec![set("A", "1"), set("B", "2"), del("C")],
            vec![set("B", "3"), del("A"), set("D", "4")],
        ];
        let flat: Vec<EnvChange> = ops.iter().flatten().cloned().collect();
        let want = desired(&flat);
        assert_eq!(
            want.into_iter().collect::<Vec<_>>(),
            vec![("A", None), ("B", Some("3")), ("C", None), ("D", Some("4"))]
        );
    }

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
