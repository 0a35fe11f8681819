//! The env-var batch: changes queued for a tenant by concurrent resource
//! applies, sent together (one `updateTenantEnv`, one `deleteTenantEnv`,
//! chained by hash) and settled, then the wait for the restarted project's
//! `/healthz`.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;
use crate::settle::{settle_when, Ambiguous, ReadBack, Settle};

use super::super::lenient::Lenient;
use super::super::{may_have_landed, HasuraError};
use super::{parse_env, Cloud, EnvChange, EnvRow, Project, TenantEnv};

type Waiter = oneshot::Sender<Result<(), HasuraError>>;

pub(super) struct Pending {
    project: Project,
    /// One entry per caller: its changes, in order, and where to report.
    ops: Vec<(Vec<EnvChange>, Waiter)>,
    last_added: Instant,
}

/// How many times an env write is re-read and re-sent after a stale hash or
/// an ambiguous failure.
const STALE_RETRIES: u32 = 8;

impl Cloud {
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

    /// Sends what `changes` still need, settled. After any failure of an env
    /// mutation but cancellation, the env is read back and its hash decides:
    /// - what we want is there: done (our write landed with its answer lost,
    ///   or someone made the same change);
    /// - the hash moved from the one we sent: the env changed under us (a
    ///   stale `currentHash`, or a write of ours whose answer was lost), so
    ///   the diff is sent again from the env as it now is;
    /// - the hash is the one we sent: our write did not land. After an
    ///   ambiguous failure (5xx, reset, lost answer) it is sent again; after a
    ///   GraphQL `errors[]` answer the control plane refused it on the current
    ///   env, and that refusal is reported.
    ///
    /// Hasura Cloud's answer to a stale `currentHash` is not public (see
    /// `emulators/hasura/src/cloud.rs`, `stale_hash`): this never depends on
    /// its code or text, only on the hashes.
    async fn apply(
        &self,
        cancel: &CancellationToken,
        project: &Project,
        changes: &[EnvChange],
    ) -> Result<(), HasuraError> {
        let want = desired(changes);
        let secrets: Vec<&str> = want.values().flatten().copied().collect();
        let tenant = project.tenant_id.as_str();
        // Whether a write of ours may have restarted the project; the hash
        // the last mutation was sent with (then the one it answered); the env
        // the last read-back saw, which the next send starts from; whether the
        // env moved under us.
        // (Atomics and mutexes, not cells: the batch runs on a spawned task.)
        let changed = AtomicBool::new(false);
        let raced = AtomicBool::new(false);
        let hash = Mutex::new(String::new());
        let fresh: Mutex<Option<TenantEnv>> = Mutex::new(None);
        let (changed, raced, hash, fresh, want) = (&changed, &raced, &hash, &fresh, &want);
        let how = Settle {
            resending: "Hasura Cloud env write failed or raced; re-reading the env and retrying",
            landed: Some("Hasura Cloud env write found landed on re-reading the env"),
            table: None,
            resends: STALE_RETRIES,
            backoff: true,
        };
        let settled = settle_when(
            cancel,
            &how,
            |e: &HasuraError| !e.is_cancelled() && (refused_by_graphql(e) || may_have_landed(e)),
            || async {
                let last_read = lock(fresh).take();
                let env = match last_read {
                    Some(env) => env,
                    None => self.fetch_env(cancel, tenant).await?,
                };
                let diff = Diff::new(want, &env.vars);
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
                let refused = refused_by_graphql(e);
                async move {
                    let now = self.fetch_env(cancel, tenant).await?;
                    // An empty hash: the failure came before any mutation
                    // was sent (the first read), so nothing of ours moved it.
                    let sent = lock(hash).clone();
                    let moved = !sent.is_empty() && now.hash != sent;
                    if moved {
                        // Someone's write landed since ours was sent, maybe
                        // ours: the project restarts, so wait for /healthz.
                        changed.store(true, Ordering::SeqCst);
                    }
                    let verdict = judge(want, &now.vars, moved, refused);
                    match verdict {
                        ReadBack::Landed(()) => {
                            self.envs.lock().await.insert(tenant.to_string(), now);
                        }
                        ReadBack::Absent => {
                            raced.fetch_or(moved && refused, Ordering::SeqCst);
                            *lock(fresh) = Some(now);
                        }
                        ReadBack::Other => {}
                    }
                    Ok(verdict)
                }
            },
        )
        .await;
        if let Err(unsettled) = settled {
            let mut e = unsettled.into_error(
                "reading the env back to see whether the change landed (it may have: check the project's env vars in the Cloud dashboard)",
            );
            if raced.load(Ordering::SeqCst) {
                let m = e.message_mut();
                *m = format!("{m} (the project's env vars kept changing while this provider wrote them: it re-read them and retried {STALE_RETRIES} times; apply again once other writers are done)");
            }
            return Err(e);
        }
        if changed.load(Ordering::SeqCst) {
            self.wait_healthy(cancel, project).await?;
        }
        Ok(())
    }

    /// Waits for the restart an env change triggers to finish. Cloud rolls
    /// the change out while the old workers keep serving the old env, and the
    /// project answers `/healthz` again once the new engine is up (the Cloud
    /// console waits 5 s, then polls `/healthz`: graphql-engine
    /// `frontend/.../ControlPlane` `useUpdateTenantEnv`). An OK seen before
    /// any failure therefore only counts after that grace period. An engine
    /// that cannot boot with the new env (graphql-engine exits on a bad
    /// `HASURA_GRAPHQL_JWT_SECRET`, `Hasura/Server/Init/Env.hs` `considerEnv`)
    /// never answers again: that is reported, with what `/healthz` said.
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
        let grace = Duration::from_secs(5).min(self.health_timeout);
        let mut saw_down = false;
        loop {
            let status = super::super::health(&self.probe, cancel, base).await;
            let ok = status.is_some_and(|s| s.is_success());
            if cancel.is_cancelled() {
                return Err(HasuraError::cancelled(
                    "waiting for the Hasura project to restart was cancelled; the env change was made",
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
                let said = match status {
                    Some(s) => format!("HTTP {}", s.as_u16()),
                    None => "no answer".to_string(),
                };
                return Err(HasuraError::other(format!(
                    "the env vars were changed, but the Hasura project did not come back healthy: {base}/healthz still answered {said} {} s after the change. A bad value (e.g. an invalid HASURA_GRAPHQL_JWT_SECRET) keeps the engine from booting; check the project's logs in the Cloud dashboard, fix the value and apply again.",
                    self.health_timeout.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// A GraphQL `errors[]` answer (HTTP 200): the control plane looked at the
/// write and refused it. Whether for a stale `currentHash` or for another
/// reason only the env's hash can tell (`Cloud::apply`).
fn refused_by_graphql(e: &HasuraError) -> bool {
    matches!(e, HasuraError::Api { status: None, .. })
}

/// What a failed env write became, from the env read back: `moved` says
/// whether its hash differs from the one the write was sent with, `refused`
/// whether the control plane answered with GraphQL `errors[]`.
fn judge(
    want: &BTreeMap<&str, Option<&str>>,
    now: &BTreeMap<String, String>,
    moved: bool,
    refused: bool,
) -> ReadBack<()> {
    if Diff::new(want, now).is_empty() {
        ReadBack::Landed(())
    } else if refused && !moved {
        // Refused on the very env it was meant for: a real refusal.
        ReadBack::Other
    } else {
        // Stale (the env moved under us) or lost before it landed: what is
        // still missing is sent again, with the env's current hash.
        ReadBack::Absent
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
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
    fn a_failed_write_is_judged_by_the_env_read_back() {
        let changes = [EnvChange::Set("A".into(), "1".into())];
        let want = desired(&changes);
        let with_a: BTreeMap<String, String> = [("A".to_string(), "1".to_string())].into();
        let without: BTreeMap<String, String> = BTreeMap::new();
        for (moved, refused) in [(false, false), (true, false), (false, true), (true, true)] {
            // There, whatever the answer was: nothing to re-send.
            assert_eq!(judge(&want, &with_a, moved, refused), ReadBack::Landed(()));
        }
        // Stale hash (refused, env moved): re-diff and re-send.
        assert_eq!(judge(&want, &without, true, true), ReadBack::Absent);
        // Lost before it landed (ambiguous, env unchanged, or moved by others).
        assert_eq!(judge(&want, &without, false, false), ReadBack::Absent);
        assert_eq!(judge(&want, &without, true, false), ReadBack::Absent);
        // Refused on the env it was sent for: reported, not retried.
        assert_eq!(judge(&want, &without, false, true), ReadBack::Other);
    }

    #[test]
    fn only_graphql_refusals_and_ambiguous_failures_are_read_back() {
        let gql = HasuraError::Api {
            status: None,
            code: Some("GenericServerError".into()),
            message: "there was an internal error while serving your request".into(),
        };
        assert!(refused_by_graphql(&gql));
        let http = HasuraError::Api {
            status: Some(reqwest::StatusCode::UNAUTHORIZED),
            code: None,
            message: "no".into(),
        };
        assert!(!refused_by_graphql(&http) && !may_have_landed(&http));
        assert!(may_have_landed(&HasuraError::transport("reset")));
        assert!(!refused_by_graphql(&HasuraError::cancelled("stop")));
    }

    #[test]
    fn a_send_carries_only_what_the_env_lacks() {
        let set = |k: &str, v: &str| EnvChange::Set(k.into(), v.into());
        let del = |k: &str| EnvChange::Delete(k.into());
        let changes = [set("A", "1"), set("B", "2"), del("C"), del("D")];
        let want = desired(&changes);
        let env: BTreeMap<String, String> = [("A", "1"), ("B", "old"), ("C", "x")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let diff = Diff::new(&want, &env);
        let sent: Vec<(&str, Value)> = diff
            .mutations()
            .into_iter()
            .map(|(op, _, _, items)| (op, items))
            .collect();
        // Updates first, then deletes; what is already there is not re-sent.
        assert_eq!(
            sent,
            [
                ("updateTenantEnv", json!([{"key": "B", "value": "2"}])),
                ("deleteTenantEnv", json!(["C"])),
            ]
        );
        let landed: BTreeMap<String, String> = [("A", "1"), ("B", "2")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(Diff::new(&want, &landed).is_empty());
    }
}
