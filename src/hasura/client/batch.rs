//! Coalescing of concurrent metadata writes into one `bulk` per flush.
//!
//! Each caller hands over the commands ONE resource needs applied atomically
//! (`[create]`, `[drop]`, `[drop, create]`). Writes are gathered until none
//! has arrived for [`QUIET`] (at most [`MAX_WAIT`] after the first), and while
//! a flush is in flight. Terraform starts at most `-parallelism` operations at
//! once, so arrivals stop once they all wait here, and a lone write waits
//! only [`QUIET`];
//! flushes run one at a time on their own task, so two of our bulks never race
//! each other on `resource_version`, and a caller that is cancelled never
//! aborts the others' flush. A flush sends one `bulk` of every gathered
//! command carrying the current `resource_version` (re-read and retried on a
//! conflict). If a multi-resource bulk fails otherwise, each resource is sent
//! as its own bulk, so every error is reported by the resource that caused it
//! and the others still land.
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::metadata::{is_already_gone, table_name, Export, CONFLICT_RETRIES};
use super::{Engine, HasuraError};

/// A batch is flushed once no write has joined it for this long...
pub const QUIET: Duration = Duration::from_millis(50);
/// ...or this long after its first write, whichever comes first.
pub const MAX_WAIT: Duration = Duration::from_millis(250);

/// The writes waiting for the next flush.
#[derive(Default)]
pub struct Queue {
    inner: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    items: Vec<Item>,
    /// When the oldest and the newest waiting writes arrived.
    first: Option<Instant>,
    last: Option<Instant>,
    /// A flush task is running (it takes every write queued before it ends).
    running: bool,
}

struct Item {
    cmds: Vec<Value>,
    cancel: CancellationToken,
    tx: oneshot::Sender<Result<(), HasuraError>>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn cancelled() -> HasuraError {
    HasuraError {
        status: None,
        code: Some("cancelled".into()),
        message: "Hasura metadata write was cancelled because Terraform asked the provider to stop"
            .into(),
    }
}

fn is_cancelled(e: &HasuraError) -> bool {
    e.code_is("cancelled")
}

/// Resets the queue if the flush task panics, so later writes start a new one;
/// the dropped senders answer the waiting callers with an error.
struct PanicGuard(Engine);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut p = self.0.batch.lock();
            p.running = false;
            p.first = None;
            p.last = None;
            p.items.clear();
        }
    }
}

impl Engine {
    /// Applies one resource's metadata commands atomically, batched with the
    /// concurrent writes of this process. A drop of something already gone,
    /// and a create whose identical entry is already there (an earlier attempt
    /// whose answer was lost), count as done.
    pub async fn write(
        &self,
        cancel: &CancellationToken,
        cmds: Vec<Value>,
    ) -> Result<(), HasuraError> {
        if cmds.is_empty() {
            return Ok(());
        }
        if cancel.is_cancelled() {
            return Err(cancelled());
        }
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut p = self.batch.lock();
            let now = Instant::now();
            if p.items.is_empty() {
                p.first = Some(now);
            }
            p.last = Some(now);
            p.items.push(Item {
                cmds,
                cancel: cancel.clone(),
                tx,
            });
            !std::mem::replace(&mut p.running, true)
        };
        if start {
            tokio::spawn(self.clone().flush_loop());
        }
        tokio::select! {
            r = rx => r.unwrap_or_else(|_| Err(HasuraError::other(
                "the provider's metadata writer stopped before applying this change (see the provider log)",
            ))),
            _ = cancel.cancelled() => Err(cancelled()),
        }
    }

    async fn flush_loop(self) {
        let guard = PanicGuard(self);
        let engine = &guard.0;
        loop {
            let due = {
                let mut p = engine.batch.lock();
                if p.items.is_empty() {
                    p.running = false;
                    return;
                }
                let now = Instant::now();
                let (first, last) = (p.first.unwrap_or(now), p.last.unwrap_or(now));
                (last + QUIET).min(first + MAX_WAIT)
            };
            if due > Instant::now() {
                tokio::time::sleep_until(due).await;
                continue;
            }
            let items = {
                let mut p = engine.batch.lock();
                p.first = None;
                p.last = None;
                std::mem::take(&mut p.items)
            };
            engine.flush(items).await;
        }
    }

    async fn flush(&self, items: Vec<Item>) {
        // A caller that gave up (cancelled) is not applied.
        let items: Vec<Item> = items.into_iter().filter(|i| !i.tx.is_closed()).collect();
        if items.is_empty() {
            return;
        }
        // The flush stops only when every caller in it has been cancelled.
        let cancel = CancellationToken::new();
        let watcher = {
            let tokens: Vec<CancellationToken> = items.iter().map(|i| i.cancel.clone()).collect();
            let all = cancel.clone();
            tokio::spawn(async move {
                for t in tokens {
                    t.cancelled().await;
                }
                all.cancel();
            })
        };
        if items.len() > 1 {
            let all: Vec<Value> = items.iter().flat_map(|i| i.cmds.iter().cloned()).collect();
            let r = self
                .bulk_cas(&cancel, all, |x| items.iter().all(|i| landed(x, &i.cmds)))
                .await;
            match r {
                Ok(()) => {
                    tracing::debug!(resources = items.len(), "applied a batched metadata bulk");
                    for i in items {
                        let _ = i.tx.send(Ok(()));
                    }
                    watcher.abort();
                    return;
                }
                Err(e) if is_cancelled(&e) => {
                    for i in items {
                        let _ = i.tx.send(Err(e.clone()));
                    }
                    watcher.abort();
                    return;
                }
                Err(e) => tracing::info!(
                    resources = items.len(),
                    error = %e.message,
                    "batched metadata bulk failed; applying each resource on its own to attribute the error"
                ),
            }
        }
        for i in items {
            let r = self.apply_one(&cancel, &i.cmds).await;
            let _ = i.tx.send(r);
        }
        watcher.abort();
    }

    /// One resource's commands as their own bulk.
    async fn apply_one(
        &self,
        cancel: &CancellationToken,
        cmds: &[Value],
    ) -> Result<(), HasuraError> {
        let e = match self
            .bulk_cas(cancel, cmds.to_vec(), |x| landed(x, cmds))
            .await
        {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if is_cancelled(&e) {
            return Err(e);
        }
        if cmds.iter().all(is_drop) && is_already_gone(&e) {
            return Ok(());
        }
        if e.code_is("already-exists") {
            self.invalidate().await;
            if self.export(cancel).await.is_ok_and(|x| landed(&x, cmds)) {
                return Ok(());
            }
        }
        Err(e)
    }

    /// `bulk` with the current `resource_version`; on a conflict, re-read and
    /// retry unless the re-read shows the change already made (`landed`).
    async fn bulk_cas(
        &self,
        cancel: &CancellationToken,
        cmds: Vec<Value>,
        landed: impl Fn(&Export) -> bool,
    ) -> Result<(), HasuraError> {
        let mut attempt = 0;
        loop {
            // The cache is dropped after each of our writes and on conflicts.
            let export = self.export(cancel).await?;
            if attempt > 0 && landed(&export) {
                return Ok(());
            }
            match self
                .bulk(cancel, cmds.clone(), Some(export.resource_version))
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.is_conflict() && attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tracing::info!(attempt, "metadata changed concurrently (resource_version conflict); re-reading and retrying");
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn is_drop(c: &Value) -> bool {
    c.get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("pg_drop_"))
}

type PermKey = (String, String, String, String, String);

/// Whether the export already shows the effect of these permission commands
/// (an identical entry for a create, none for a drop). Other commands: false.
pub fn landed(export: &Export, cmds: &[Value]) -> bool {
    let mut want: Vec<(PermKey, Option<&Value>)> = Vec::new();
    for c in cmds {
        let Some(typ) = c.get("type").and_then(Value::as_str) else {
            return false;
        };
        let args = c.get("args").unwrap_or(&Value::Null);
        let (create, action) = match typ
            .strip_suffix("_permission")
            .and_then(|t| t.strip_prefix("pg_"))
        {
            Some(t) => match (t.strip_prefix("create_"), t.strip_prefix("drop_")) {
                (Some(a), _) => (true, a),
                (_, Some(a)) => (false, a),
                _ => return false,
            },
            None => return false,
        };
        let (schema, table) = table_name(args.get("table").unwrap_or(&Value::Null));
        let key = (
            args.get("source")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string(),
            schema,
            table,
            args.get("role")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            action.to_string(),
        );
        want.retain(|(k, _)| *k != key);
        want.push((key, create.then_some(args)));
    }
    want.iter().all(|((src, sch, tbl, role, act), w)| {
        match (w, export.permission(src, sch, tbl, role, act)) {
            (None, None) => true,
            (Some(args), Some(entry)) => same_entry(args, entry),
            _ => false,
        }
    })
}

/// A create's args and an exported entry describe the same permission.
/// Export omits defaults (`false`, `[]`, `{}`, null), and may reorder lists.
fn same_entry(args: &Value, entry: &Value) -> bool {
    let text = |v: &Value| {
        v.get("comment")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let null = Value::Null;
    text(args) == text(entry)
        && normalize(args.get("permission").unwrap_or(&null))
            == normalize(entry.get("permission").unwrap_or(&null))
}

fn normalize(v: &Value) -> Value {
    let Some(o) = v.as_object() else {
        return v.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, x) in o {
        let default = match x {
            Value::Null | Value::Bool(false) => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(m) => m.is_empty() && k != "filter" && k != "check",
            _ => false,
        };
        if default {
            continue;
        }
        let x = match x.as_array() {
            Some(a) if a.iter().all(Value::is_string) => {
                let mut s: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                s.sort_unstable();
                Value::from(s)
            }
            _ => x.clone(),
        };
        out.insert(k.clone(), x);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn export(perms: Value) -> Export {
        Export {
            resource_version: 1,
            metadata: json!({"sources": [{"name": "default", "tables": [
                {"table": {"schema": "public", "name": "users"}, "select_permissions": perms}
            ]}]}),
        }
    }

    fn create(perm: Value) -> Value {
        json!({"type": "pg_create_select_permission", "args": {
            "source": "default", "table": {"schema": "public", "name": "users"},
            "role": "user", "permission": perm}})
    }

    fn drop() -> Value {
        json!({"type": "pg_drop_select_permission", "args": {
            "source": "default", "table": {"schema": "public", "name": "users"}, "role": "user"}})
    }

    #[test]
    fn landed_reads_export_rules() {
        let x = export(
            json!([{"role": "user", "permission": {"columns": ["name", "id"], "filter": {}}}]),
        );
        // Defaults omitted on export, lists reordered: still the same permission.
        let same = create(
            json!({"columns": ["id", "name"], "filter": {}, "allow_aggregations": false, "computed_fields": []}),
        );
        assert!(landed(&x, std::slice::from_ref(&same)));
        assert!(landed(&x, &[drop(), same.clone()]));
        assert!(!landed(&x, &[drop()]));
        assert!(!landed(
            &x,
            &[create(json!({"columns": ["id"], "filter": {}}))]
        ));
        let empty = export(json!([]));
        assert!(landed(&empty, &[drop()]));
        assert!(!landed(&empty, std::slice::from_ref(&same)));
        assert!(!landed(
            &x,
            &[json!({"type": "pg_track_table", "args": {}})]
        ));
    }
}
