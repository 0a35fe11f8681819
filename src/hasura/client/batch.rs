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
//!
//! A read-modify-write of a whole document (`set_custom_types`) hands over a
//! builder instead of commands ([`Engine::write_computed`]): it is called with
//! the export each attempt is checked against (re-read after a conflict), and
//! each such write is sent as its own bulk after the others of its flush, so
//! two of them never overwrite each other's change.
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::settle::{settle_when, ReadBack, Settle, Unsettled};

use super::landed::permission_landed;
use super::metadata::{is_already_gone, Export, CONFLICT_RETRIES};
use super::{Engine, HasuraError};

/// A batch is flushed once no write has joined it for this long...
pub const QUIET: Duration = Duration::from_millis(100);
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

/// Whether an export already shows a write's effect (see [`Engine::write_with`]).
pub type Landed = Box<dyn Fn(&Export) -> bool + Send + Sync>;

/// Builds a write's commands from the current export (see [`Engine::write_computed`]).
pub type Build = Box<dyn Fn(&Export) -> Result<Vec<Value>, HasuraError> + Send + Sync>;

enum Cmds {
    Fixed(Vec<Value>),
    FromExport(Build),
}

struct Item {
    cmds: Cmds,
    landed: Landed,
    cancel: CancellationToken,
    tx: oneshot::Sender<Result<(), HasuraError>>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn cancelled() -> HasuraError {
    HasuraError::cancelled(
        "Hasura metadata write was cancelled because Terraform asked the provider to stop",
    )
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
    /// [`Engine::write_with`] for permission commands: an identical entry for
    /// a create, none for a drop, shows the write landed.
    pub async fn write(
        &self,
        cancel: &CancellationToken,
        cmds: Vec<Value>,
    ) -> Result<(), HasuraError> {
        let want = cmds.clone();
        self.write_with(cancel, cmds, move |x| permission_landed(x, &want))
            .await
    }

    /// Applies one resource's metadata commands atomically, batched with the
    /// concurrent writes of this process. `landed` tells from an export
    /// whether the commands' effect is already there: after a lost
    /// `resource_version` race the batch re-reads the metadata and stops if
    /// it is. A drop of something already gone, and a create refused as
    /// already existing whose effect is there (an earlier attempt whose
    /// answer was lost), count as done.
    pub async fn write_with(
        &self,
        cancel: &CancellationToken,
        cmds: Vec<Value>,
        landed: impl Fn(&Export) -> bool + Send + Sync + 'static,
    ) -> Result<(), HasuraError> {
        if cmds.is_empty() {
            return Ok(());
        }
        self.enqueue(cancel, Cmds::Fixed(cmds), Box::new(landed))
            .await
    }

    /// [`Engine::write_with`] for a read-modify-write: `build` makes the
    /// commands from the export the attempt is checked against (fresh after a
    /// `resource_version` conflict), so a change made meanwhile by anyone is
    /// kept. An `Err` from `build` is the write's answer, nothing is sent;
    /// no commands means nothing to change.
    pub async fn write_computed(
        &self,
        cancel: &CancellationToken,
        build: impl Fn(&Export) -> Result<Vec<Value>, HasuraError> + Send + Sync + 'static,
        landed: impl Fn(&Export) -> bool + Send + Sync + 'static,
    ) -> Result<(), HasuraError> {
        self.enqueue(cancel, Cmds::FromExport(Box::new(build)), Box::new(landed))
            .await
    }

    async fn enqueue(
        &self,
        cancel: &CancellationToken,
        cmds: Cmds,
        landed: Landed,
    ) -> Result<(), HasuraError> {
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
                landed,
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
        let (fixed, computed): (Vec<Item>, Vec<Item>) = items
            .into_iter()
            .partition(|i| matches!(i.cmds, Cmds::Fixed(_)));
        self.flush_fixed(&cancel, fixed).await;
        for i in computed {
            let r = self.apply_one(&cancel, &i).await;
            let _ = i.tx.send(r);
        }
        watcher.abort();
    }

    async fn flush_fixed(&self, cancel: &CancellationToken, items: Vec<Item>) {
        if items.len() > 1 {
            let all: Vec<Value> = items
                .iter()
                .flat_map(|i| i.fixed().iter().cloned())
                .collect();
            let r = self
                .bulk_cas(
                    cancel,
                    |_| Ok(all.clone()),
                    |x| items.iter().all(|i| (i.landed)(x)),
                )
                .await;
            match r {
                Ok(()) => {
                    tracing::debug!(resources = items.len(), "applied a batched metadata bulk");
                    for i in items {
                        let _ = i.tx.send(Ok(()));
                    }
                    return;
                }
                Err(e) if e.is_cancelled() => {
                    for i in items {
                        let _ = i.tx.send(Err(e.clone()));
                    }
                    return;
                }
                Err(e) => tracing::info!(
                    resources = items.len(),
                    error = %e,
                    "batched metadata bulk failed; applying each resource on its own to attribute the error"
                ),
            }
        }
        for i in items {
            let r = self.apply_one(cancel, &i).await;
            let _ = i.tx.send(r);
        }
    }

    /// One resource's commands as their own bulk.
    async fn apply_one(&self, cancel: &CancellationToken, item: &Item) -> Result<(), HasuraError> {
        let r = match &item.cmds {
            Cmds::Fixed(cmds) => {
                self.bulk_cas(cancel, |_| Ok(cmds.clone()), &item.landed)
                    .await
            }
            Cmds::FromExport(build) => self.bulk_cas(cancel, build, &item.landed).await,
        };
        let e = match r {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if e.is_cancelled() {
            return Err(e);
        }
        let fixed = item.fixed();
        if !fixed.is_empty() && fixed.iter().all(is_drop) && is_already_gone(&e) {
            return Ok(());
        }
        if e.code_is("already-exists") {
            self.invalidate().await;
            if self.export(cancel).await.is_ok_and(|x| (item.landed)(&x)) {
                return Ok(());
            }
        }
        Err(e)
    }

    /// `bulk` with the current `resource_version`, settled: a conflict (a
    /// concurrent write moved the version) re-reads the metadata and re-sends
    /// unless it shows the change already made (`landed`).
    async fn bulk_cas(
        &self,
        cancel: &CancellationToken,
        build: impl Fn(&Export) -> Result<Vec<Value>, HasuraError>,
        landed: impl Fn(&Export) -> bool,
    ) -> Result<(), HasuraError> {
        let how = Settle {
            resending:
                "metadata changed concurrently (resource_version conflict); re-reading and retrying",
            landed: None,
            table: None,
            resends: CONFLICT_RETRIES as u32,
            backoff: false,
        };
        settle_when(
            cancel,
            &how,
            HasuraError::is_conflict,
            || async {
                // The cache is dropped after each of our writes and on conflicts.
                let export = self.export(cancel).await?;
                let cmds = build(&export)?;
                if cmds.is_empty() {
                    return Ok(());
                }
                self.bulk(cancel, cmds, Some(export.resource_version))
                    .await
                    .map(drop)
            },
            |_| async {
                let export = self.export(cancel).await?;
                Ok(if landed(&export) {
                    ReadBack::Landed(())
                } else {
                    ReadBack::Absent
                })
            },
        )
        .await
        // A failed re-read is reported as itself, as the first read would be.
        .map_err(Unsettled::into_last_error)
    }
}

impl Item {
    /// A fixed write's commands; none for a computed one.
    fn fixed(&self) -> &[Value] {
        match &self.cmds {
            Cmds::Fixed(c) => c,
            Cmds::FromExport(_) => &[],
        }
    }
}

fn is_drop(c: &Value) -> bool {
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        typ: String,
    }
    Head::deserialize(c).is_ok_and(|h| {
        let t = h.typ.strip_prefix("pg_").unwrap_or(&h.typ);
        t.starts_with("drop_") || t.starts_with("delete_")
    })
}
