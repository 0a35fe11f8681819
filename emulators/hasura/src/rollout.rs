//! Hasura Cloud's rolling restart, and an engine that cannot boot.
//!
//! Every accepted env change redeploys the project. The control plane records
//! the new env at once (`updateTenantEnv` answers it, and `getTenantEnv` must
//! too: its `hash` is the compare-and-swap token of the next write), but the
//! running engine keeps the env it booted with until the new one has rolled
//! out. Meanwhile `/healthz` is not OK: the Cloud console waits for the
//! project "to go down and then further time to come back up" before it polls
//! `/healthz` (graphql-engine `frontend/.../ControlPlane` `useUpdateTenantEnv`).
//!
//! An engine whose env does not parse does not start at all: graphql-engine
//! parses its env at boot (`server/src-lib/Hasura/Server/Init/Env.hs`,
//! `considerEnv`: "Fatal Error:- Environment variable <NAME>: <error>") and
//! exits on the error, so nothing of the engine answers: neither `/healthz`
//! (`server/src-lib/Hasura/Server/App.hs` serves "OK" or, with inconsistent
//! metadata, "WARN: inconsistent objects in schema", both 200, and "ERROR"
//! with 500 only when the metadata storage is down) nor its APIs.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use crate::errors::QErr;
use crate::graphql::{JwtConfig, JWT_SECRET_ENV};
use crate::state::{load_env, AppState};

type Env = BTreeMap<String, String>;

#[derive(Default)]
pub struct Rollout(Mutex<Inner>);

#[derive(Default)]
struct Inner {
    /// The env the running engine booted with (set at start from the store).
    live: Option<Env>,
    /// The env being rolled out, live from the given instant.
    next: Option<(Instant, Env)>,
    /// Changes a test made "in the dashboard" to land just before the next
    /// env write, which then carries a stale hash.
    races: VecDeque<Vec<(String, String)>>,
    /// Faults a test asked for on the next env writes.
    faults: VecDeque<EnvWriteFault>,
}

/// What goes wrong with one env write, for tests of the provider's settling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvWriteFault {
    /// The write is applied, then the connection drops before the answer.
    LostAnswer,
    /// The connection drops before the write is applied.
    Reset,
}

/// What answers on the project's URL.
#[derive(Debug, PartialEq)]
pub enum Engine {
    Up,
    /// Rolling out an env change: the old workers still serve the old env.
    Restarting,
    /// The engine did not boot with the current env (the fatal error it logs).
    Down(String),
}

impl Rollout {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The booted env, after promoting a rollout that has finished.
    fn live(&self) -> Option<Env> {
        let mut g = self.lock();
        if g.next.as_ref().is_some_and(|(at, _)| Instant::now() >= *at) {
            g.live = g.next.take().map(|(_, env)| env);
        }
        g.live.clone()
    }

    /// The env the emulator's engine boots with.
    pub fn boot(&self, env: Env) {
        self.lock().live = Some(env);
    }

    pub fn queue_race(&self, pairs: Vec<(String, String)>) {
        self.lock().races.push_back(pairs);
    }

    pub fn take_race(&self) -> Option<Vec<(String, String)>> {
        self.lock().races.pop_front()
    }

    pub fn queue_fault(&self, f: EnvWriteFault) {
        self.lock().faults.push_back(f);
    }

    pub fn take_fault(&self) -> Option<EnvWriteFault> {
        self.lock().faults.pop_front()
    }
}

impl AppState {
    /// Starts the redeploy of `new`; the engine keeps `old` until it is done.
    /// A change during a rollout replaces the env being rolled out and
    /// starts the wait again.
    pub fn begin_restart(&self, old: &Env, new: &Env) {
        self.control.count("cloud:restart");
        let _ = self.rollout.live();
        let mut g = self.rollout.lock();
        if g.live.is_none() {
            g.live = Some(old.clone());
        }
        g.next = Some((Instant::now() + self.settings.restart_window, new.clone()));
    }

    /// The env the running engine uses (JWT secret, unauthorized role).
    pub async fn engine_env(&self) -> Result<Env, QErr> {
        match self.rollout.live() {
            Some(env) => Ok(env),
            None => Ok(load_env(&self.db, &self.settings.tenant_id).await?.1),
        }
    }

    pub async fn engine(&self) -> Engine {
        let env = match self.engine_env().await {
            Ok(env) => env,
            Err(e) => return Engine::Down(e.error),
        };
        // `engine_env` promoted a finished rollout: one left is still running.
        if self.rollout.lock().next.is_some() {
            return Engine::Restarting;
        }
        match env.get(JWT_SECRET_ENV).map(|raw| JwtConfig::parse(raw)) {
            Some(Err(e)) => Engine::Down(format!(
                "Fatal Error:- Environment variable {JWT_SECRET_ENV}: {e}"
            )),
            _ => Engine::Up,
        }
    }
}
