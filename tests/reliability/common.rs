//! Shared plumbing of the reliability suite: emulators on their own runtime,
//! Terraform runs in the background (so a test can kill or interrupt them),
//! and the figures each scenario records for `scripts/reliability.sh`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use emulator_common::{Control, FaultConfig, FaultKind};
use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::support::{self, required_providers, TfOutput, Workdir};

/// The Terraform cores the suite runs on: the first of `TERRAFORM_BINARIES` (the newest
/// core by `scripts/setup.sh`'s order), or all of them with `RELIABILITY_ALL_CORES=1`.
pub fn cores() -> Vec<PathBuf> {
    let all = support::terraform_binaries();
    if std::env::var("RELIABILITY_ALL_CORES").is_ok_and(|v| v == "1") {
        all
    } else {
        all.into_iter().take(1).collect()
    }
}

/// `RELIABILITY_SCALE=full` makes the fault runs larger and repeats them with more seeds.
pub fn full_scale() -> bool {
    std::env::var("RELIABILITY_SCALE").is_ok_and(|v| v == "full")
}

/// Where scenarios write their figures: `RELIABILITY_OUT`, else `target/reliability`.
pub fn out_dir() -> PathBuf {
    let d = std::env::var_os("RELIABILITY_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
            target.join("reliability")
        });
    std::fs::create_dir_all(&d).expect("create reliability output dir");
    d
}

/// What one scenario measured. Summed over all scenarios into the suite's table.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Figures {
    pub scenario: String,
    pub faults_injected: u64,
    pub retries: u64,
    pub adoptions: u64,
    pub applies: u64,
    pub applies_succeeded: u64,
    pub orphans: u64,
    pub duplicates: u64,
    pub bad_inputs_tried: u64,
    pub bad_inputs_diagnosed: u64,
    pub secrets_found: u64,
    pub failures: Vec<String>,
}

impl Figures {
    pub fn new(scenario: &str) -> Figures {
        Figures {
            scenario: scenario.to_string(),
            ..Default::default()
        }
    }

    /// Writes `<out>/<scenario>.json` (also when the scenario then fails, so the table
    /// shows what went wrong).
    pub fn save(&self) {
        let p = out_dir().join(format!("{}.json", self.scenario));
        std::fs::write(&p, serde_json::to_vec_pretty(self).unwrap())
            .unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    pub fn fail(&mut self, msg: impl Into<String>) {
        let m = msg.into();
        eprintln!("[{}] FAILURE: {m}", self.scenario);
        self.failures.push(m);
    }

    /// Saves, then fails the test if anything was recorded as failed.
    pub fn finish(self) {
        self.save();
        assert!(
            self.failures.is_empty(),
            "{} failure(s) in {}:\n{}",
            self.failures.len(),
            self.scenario,
            self.failures.join("\n---\n")
        );
    }
}

/// Lines the provider logs when it retries or adopts (counted from `TF_LOG_PROVIDER`
/// output; see src/http.rs and src/clerk/jwt_template.rs).
pub fn count_retries(out: &TfOutput) -> u64 {
    out.stderr.matches("transient failure; retrying").count() as u64
}

pub fn count_adoptions(out: &TfOutput) -> u64 {
    out.stderr.matches("adopting").count() as u64
}

pub fn faults_in(counters: &Value) -> u64 {
    counters["faults"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

/// Error blocks Terraform printed (human output), to assert none reached the user.
pub fn errors_shown(out: &TfOutput) -> Vec<String> {
    let all = out.combined();
    all.split("\nError: ")
        .skip(1)
        .map(|s| s.chars().take(600).collect())
        .collect()
}

pub fn all_faults(rate: f64, latency_ms: u64, seed: u64) -> FaultConfig {
    FaultConfig {
        error_rate: rate,
        latency_ms,
        kinds: FaultKind::ALL.to_vec(),
        seed: Some(seed),
        paths: None,
    }
}

/// The emulators of one scenario, on a runtime of their own so the test thread can block
/// on Terraform.
pub struct Emus {
    pub rt: tokio::runtime::Runtime,
    clerk: Option<ClerkEmulator>,
    hasura: Option<HasuraEmulator>,
    // Dropped after the emulator: the database must outlive it.
    pg: Option<TempPostgres>,
}

impl Emus {
    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    pub fn clerk() -> Emus {
        let rt = Self::runtime();
        let clerk = rt
            .block_on(ClerkEmulator::start(ClerkConfig::default()))
            .expect("start clerk emulator");
        // The playground of every scenario: organizations on, as in the dashboard.
        clerk.enable_organizations();
        Emus {
            rt,
            clerk: Some(clerk),
            hasura: None,
            pg: None,
        }
    }

    pub fn hasura() -> Emus {
        let mut e = Emus::clerk();
        let pg = TempPostgres::start().expect("start temp postgres");
        let h =
            e.rt.block_on(HasuraEmulator::start(HasuraConfig::new(pg.url())))
                .expect("start hasura emulator");
        e.hasura = Some(h);
        e.pg = Some(pg);
        e
    }

    pub fn c(&self) -> &ClerkEmulator {
        self.clerk.as_ref().expect("clerk emulator")
    }

    pub fn h(&self) -> &HasuraEmulator {
        self.hasura.as_ref().expect("hasura emulator")
    }

    pub fn has_hasura(&self) -> bool {
        self.hasura.is_some()
    }

    /// Every control (to set faults on all emulators at once).
    pub fn controls(&self) -> Vec<Control> {
        let mut v = vec![self.c().control.clone()];
        if let Some(h) = &self.hasura {
            v.push(h.control.clone());
        }
        v
    }

    pub fn set_faults(&self, f: FaultConfig) {
        for c in self.controls() {
            c.set_faults(f.clone());
        }
    }

    pub fn clear_faults(&self) {
        self.set_faults(FaultConfig::default());
    }

    pub fn faults_injected(&self) -> u64 {
        self.controls()
            .iter()
            .map(|c| faults_in(&c.counters()))
            .sum()
    }

    pub fn reset_counters(&self) {
        for c in self.controls() {
            c.reset_counters();
        }
    }

    /// Write requests (anything but GET, and for Hasura every POST that is not a read)
    /// seen by the emulators.
    pub fn clerk_writes(&self) -> u64 {
        let c = self.c().control.counters();
        c["requests"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !k.starts_with("GET "))
                    .filter_map(|(_, v)| v.as_u64())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// A Terraform workdir whose environment points both providers at the emulators.
    /// Secrets only travel in the environment, never in the config.
    pub fn workdir(&self, tf: &Path) -> Workdir {
        let mut wd = Workdir::new(tf);
        wd.env("CLERK_SECRET_KEY", self.c().secret_key());
        wd.env("CLERK_API_URL", &self.c().api_url());
        if let Some(h) = &self.hasura {
            wd.env("HASURA_GRAPHQL_ENDPOINT", &h.endpoint());
            wd.env("HASURA_GRAPHQL_ADMIN_SECRET", &h.config.admin_secret);
            wd.env("HASURA_CLOUD_API_URL", &h.cloud_api_url());
            wd.env("HASURA_CLOUD_ACCESS_TOKEN", &h.config.cloud_token);
            wd.env("HASURA_CLOUD_PROJECT_ID", &h.config.project_id);
        }
        wd
    }

    /// Secrets the providers hold, which must never appear in any output.
    pub fn secrets(&self) -> Vec<(String, String)> {
        let mut v = vec![(
            "clerk secret_key".to_string(),
            self.c().secret_key().to_string(),
        )];
        if let Some(h) = &self.hasura {
            v.push(("hasura admin_secret".into(), h.config.admin_secret.clone()));
            v.push(("hasura cloud token".into(), h.config.cloud_token.clone()));
        }
        v
    }

    /// `run_sql` as the admin, for checks of what really exists in PostgreSQL.
    pub fn sql(&self, sql: &str) -> Value {
        let h = self.h();
        let url = format!("{}/v2/query", h.endpoint());
        let secret = h.config.admin_secret.clone();
        let body =
            serde_json::json!({"type": "run_sql", "args": {"source": "default", "sql": sql}});
        self.rt.block_on(async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("x-hasura-admin-secret", secret)
                .json(&body)
                .send()
                .await
                .expect("run_sql");
            r.json::<Value>().await.expect("run_sql json")
        })
    }

    /// A metadata API call as the admin (e.g. `pg_track_table`), for test fixtures.
    pub fn metadata_call(&self, body: Value) -> Value {
        let h = self.h();
        let url = format!("{}/v1/metadata", h.endpoint());
        let secret = h.config.admin_secret.clone();
        self.rt.block_on(async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("x-hasura-admin-secret", secret)
                .json(&body)
                .send()
                .await
                .expect("metadata call");
            r.json::<Value>().await.expect("metadata json")
        })
    }

    /// Names of the tables in `schema` (PostgreSQL's view, not Hasura's).
    pub fn pg_tables(&self, schema: &str) -> Vec<String> {
        let v = self.sql(&format!(
            "SELECT tablename FROM pg_tables WHERE schemaname = '{}' ORDER BY 1",
            schema.replace('\'', "''")
        ));
        v["result"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .skip(1)
                    .filter_map(|r| r[0].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn metadata(&self) -> Value {
        self.rt.block_on(self.h().metadata())
    }

    /// `(schema, name)` of every table tracked in the `default` source.
    pub fn tracked_tables(&self) -> Vec<(String, String)> {
        let md = self.metadata();
        let mut out = Vec::new();
        for s in md["sources"].as_array().into_iter().flatten() {
            for t in s["tables"].as_array().into_iter().flatten() {
                let tb = &t["table"];
                out.push((
                    tb["schema"].as_str().unwrap_or("public").to_string(),
                    tb["name"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        out
    }

    pub fn env_vars(&self) -> BTreeMap<String, String> {
        self.rt.block_on(self.h().env_vars())
    }
}

impl Drop for Emus {
    fn drop(&mut self) {
        if let Some(e) = self.clerk.take() {
            self.rt.block_on(e.stop());
        }
        if let Some(e) = self.hasura.take() {
            self.rt.block_on(e.stop());
        }
        self.pg.take();
    }
}

/// The resource types the Hasura provider really implements (a resource whose schema has
/// no attributes is still a stub), read from `terraform providers schema -json`.
pub fn hasura_resources_ready(tf: &Path) -> Vec<String> {
    let wd = Workdir::new(tf);
    wd.write(
        "main.tf",
        &format!("{}\nprovider \"hasura\" {{}}\n", required_providers()),
    );
    let out = wd.tf(&["providers", "schema", "-json"]);
    if !out.success() {
        return Vec::new();
    }
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap_or(Value::Null);
    let mut ready = Vec::new();
    if let Some(ps) = v["provider_schemas"].as_object() {
        for (addr, p) in ps {
            if !addr.ends_with("/hasura") {
                continue;
            }
            for (name, r) in p["resource_schemas"].as_object().into_iter().flatten() {
                // A stub has an empty schema (the framework may still add `id`).
                let described = r["block"]["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty());
                let n = r["block"]["attributes"]
                    .as_object()
                    .map(|a| a.len())
                    .unwrap_or(0);
                if described && n > 1 {
                    ready.push(name.clone());
                }
            }
        }
    }
    ready
}

/// A Terraform command running in the background.
pub struct Background {
    handle: std::thread::JoinHandle<TfOutput>,
    pub started: Instant,
}

impl Background {
    pub fn join(self) -> TfOutput {
        self.handle.join().expect("terraform thread panicked")
    }
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

/// Runs `terraform <args>` on a copy of `wd`'s settings in another thread.
pub fn spawn_tf(wd: &Arc<Workdir>, args: &[&str]) -> Background {
    let wd = wd.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    Background {
        started: Instant::now(),
        handle: std::thread::spawn(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            wd.tf(&a)
        }),
    }
}

/// Pids of processes whose command line contains `needle` and whose working directory is
/// `dir` (Terraform and the providers it starts run in the workdir).
pub fn pids_in(dir: &Path, needle: &str) -> Vec<u32> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmd).contains(needle) {
            continue;
        }
        if std::fs::read_link(format!("/proc/{pid}/cwd"))
            .ok()
            .as_deref()
            == Some(dir.as_path())
        {
            out.push(pid);
        }
    }
    out
}

pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{sig}"), "--", &pid.to_string()])
        .status();
}

/// Polls `f` every 10 ms until it is true or `timeout` passes; returns whether it became true.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// Serialises the heavy scenarios of this binary: the machine has two cores.
pub fn heavy_lock() -> std::sync::MutexGuard<'static, ()> {
    static L: Mutex<()> = Mutex::new(());
    L.lock().unwrap_or_else(|e| e.into_inner())
}
