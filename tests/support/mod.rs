//! Acceptance-test harness: drives real Terraform cores against the providers built by
//! this package. Every test file uses it with `mod support;`.
//!
//! * Which cores: `TERRAFORM_BINARIES` (`:`-separated paths; `scripts/test.sh` sets it to
//!   the 1.11.x core and the cached 1.0.3 core), else `terraform` on `PATH`.
//! * Each [`Workdir`] is a fresh temp dir with its own CLI config (`cli.tfrc`) whose
//!   `dev_overrides` point `registry.terraform.io/clerk-hasura/{clerk,hasura}` at the
//!   directory holding this build's provider binaries, so no `terraform init` is needed.
//!   Configs must declare the providers with those sources (see [`required_providers`]).
//! * Terraform never reads the user's config: `HOME`, `TF_CLI_CONFIG_FILE` and friends are
//!   replaced for every run, and every run is killed after a timeout
//!   (`TF_TEST_TIMEOUT_SECS`, default 180 s) which fails the test.
//! * [`clerk::Env`] and [`hasura::Env`] start a scenario's emulator (the Hasura one on a
//!   throwaway PostgreSQL) and make workdirs whose provider settings point at it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub mod clerk;
pub mod hasura;
pub mod refusals;

/// Provider source addresses, as used in `required_providers` and in `dev_overrides`.
pub const CLERK_SOURCE: &str = "registry.terraform.io/clerk-hasura/clerk";
pub const HASURA_SOURCE: &str = "registry.terraform.io/clerk-hasura/hasura";

/// The provider binaries under test (built by cargo for this test target).
pub const CLERK_PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-clerk");
pub const HASURA_PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-hasura");

const DEFAULT_TIMEOUT_SECS: u64 = 180;

/// A `terraform { required_providers { ... } }` block declaring both providers with the
/// sources that the harness's `dev_overrides` serve. Prepend it to a test's main.tf.
pub fn required_providers() -> String {
    "terraform {\n  required_providers {\n    clerk = {\n      source = \"clerk-hasura/clerk\"\n    }\n    hasura = {\n      source = \"clerk-hasura/hasura\"\n    }\n  }\n}\n".to_string()
}

/// Terraform binaries to run every acceptance scenario against.
///
/// From `TERRAFORM_BINARIES` (`:`-separated), else `terraform` on `PATH`, else the
/// `.cache/terraform/bin/terraform` that `scripts/setup.sh` links. Panics if none exist.
pub fn terraform_binaries() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("TERRAFORM_BINARIES") {
        let list = list.to_string_lossy().into_owned();
        let bins: Vec<PathBuf> = list
            .split(':')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect();
        assert!(
            !bins.is_empty(),
            "TERRAFORM_BINARIES is set but empty; set it to ':'-separated paths of terraform \
             binaries, or unset it to use `terraform` from PATH (scripts/setup.sh installs them)"
        );
        for b in &bins {
            assert!(
                is_executable(b),
                "TERRAFORM_BINARIES lists {}, which is not an executable file \
                 (run scripts/setup.sh, or fix TERRAFORM_BINARIES={list})",
                b.display()
            );
        }
        return bins;
    }
    if let Some(b) = find_on_path("terraform") {
        return vec![b];
    }
    let cached = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/terraform/bin/terraform");
    if is_executable(&cached) {
        return vec![cached];
    }
    panic!(
        "no Terraform binary found: TERRAFORM_BINARIES is unset and there is no `terraform` on \
         PATH. Run scripts/setup.sh (or scripts/test.sh, which sets TERRAFORM_BINARIES to the \
         1.11.x and 1.0.3 cores)"
    );
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// The version a Terraform binary reports, e.g. `"1.11.4"` (cached per path).
pub fn terraform_version(bin: &Path) -> String {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(bin) {
        return v.clone();
    }
    let dir = tempfile::tempdir().expect("create temp dir");
    let cfg = dir.path().join("empty.tfrc");
    std::fs::write(&cfg, "").expect("write empty CLI config");
    let mut cmd = Command::new(bin);
    cmd.arg("version").arg("-json");
    isolate_env(&mut cmd, dir.path(), &cfg);
    cmd.current_dir(dir.path());
    let out = run_with_timeout(
        cmd,
        Duration::from_secs(60),
        &format!("{} version", bin.display()),
    );
    assert!(
        out.success(),
        "`{} version -json` failed:\n{}",
        bin.display(),
        out.combined()
    );
    let v = serde_json::from_str::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|j| j["terraform_version"].as_str().map(str::to_string))
        .or_else(|| {
            // Very old cores have no -json: "Terraform v1.0.3".
            out.stdout
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("Terraform v"))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| {
            panic!(
                "cannot read the version of {}:\n{}",
                bin.display(),
                out.combined()
            )
        });
    cache.lock().unwrap().insert(bin.to_path_buf(), v.clone());
    v
}

/// `(major, minor, patch)` of [`terraform_version`], for gating on core features.
pub fn terraform_version_tuple(bin: &Path) -> (u32, u32, u32) {
    let v = terraform_version(bin);
    let mut it = v
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

/// A runtime of its own for a scenario's emulators, so the test thread can block on
/// Terraform while they serve.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs a scenario once per Terraform binary, printing which core runs. Every core is tried
/// even if one fails; the test then fails naming the cores that failed.
pub fn for_each_terraform(f: impl Fn(&Path)) {
    let bins = terraform_binaries();
    let mut failed = Vec::new();
    for bin in &bins {
        let v = terraform_version(bin);
        eprintln!("=== Terraform {v} ({})", bin.display());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(bin)));
        match r {
            Ok(()) => eprintln!("=== Terraform {v}: ok"),
            Err(e) => {
                let msg = panic_message(&e);
                eprintln!("=== Terraform {v}: FAILED: {msg}");
                failed.push(format!("{v} ({}): {msg}", bin.display()));
            }
        }
    }
    if !failed.is_empty() {
        panic!(
            "scenario failed on {} of {} Terraform core(s):\n{}",
            failed.len(),
            bins.len(),
            failed.join("\n")
        );
    }
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic)".to_string()
    }
}

/// The result of one Terraform command.
#[derive(Debug, Clone)]
pub struct TfOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TfOutput {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// stdout then stderr, for assertions on messages wherever Terraform printed them.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Panics, showing everything Terraform printed, unless the command succeeded.
    pub fn assert_success(&self, what: &str) -> &Self {
        assert!(
            self.success(),
            "{what} failed with exit code {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics unless the command failed and its output contains `needle`.
    pub fn assert_failure_contains(&self, needle: &str) -> &Self {
        assert!(
            !self.success(),
            "expected failure containing {needle:?}, but the command succeeded\n{}",
            self.combined()
        );
        assert!(
            self.combined().contains(needle),
            "expected output to contain {needle:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// `plan -detailed-exitcode` in `wd` must show no changes (exit 0).
pub fn assert_no_changes(wd: &Workdir, when: &str) {
    let (code, out) = wd.plan_exitcode();
    assert_eq!(
        code,
        0,
        "expected an empty plan {when}, got exit {code}:\n{}",
        out.combined()
    );
}

/// `plan -detailed-exitcode` in `wd` must show changes (exit 2) and its stdout mention
/// every needle; returns the plan's output.
pub fn assert_changes(wd: &Workdir, when: &str, needles: &[&str]) -> TfOutput {
    let (code, out) = wd.plan_exitcode();
    assert_eq!(
        code,
        2,
        "expected changes {when}, got exit {code}:\n{}",
        out.combined()
    );
    for n in needles {
        assert!(
            out.stdout.contains(n),
            "plan {when} should mention {n:?}:\n{}",
            out.stdout
        );
    }
    out
}

/// A temp dir holding `main.tf` (or other files), a CLI config and the local state.
pub struct Workdir {
    dir: tempfile::TempDir,
    tf: PathBuf,
    env: Vec<(String, String)>,
    timeout: Duration,
}

/// Subcommands that accept `-no-color` (on 1.0.3 and 1.11.x alike).
const NO_COLOR_SUBCOMMANDS: &[&str] = &[
    "init", "validate", "plan", "apply", "destroy", "refresh", "import", "show", "output",
    "console", "taint", "untaint", "get", "graph",
];

impl Workdir {
    /// A fresh temp dir for `tf`, with `cli.tfrc` serving this build's providers through
    /// `dev_overrides`.
    pub fn new(tf: &Path) -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix("tf-acc-")
            .tempdir()
            .expect("create temp dir for terraform");
        std::fs::create_dir_all(dir.path().join("home")).expect("create fake HOME");
        let cfg = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{CLERK_SOURCE}\" = {}\n    \"{HASURA_SOURCE}\" = {}\n  }}\n  direct {{}}\n}}\n",
            hcl_string(&provider_dir(CLERK_PROVIDER_BIN)),
            hcl_string(&provider_dir(HASURA_PROVIDER_BIN)),
        );
        std::fs::write(dir.path().join("cli.tfrc"), cfg).expect("write cli.tfrc");
        let timeout = std::env::var("TF_TEST_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(DEFAULT_TIMEOUT_SECS);
        Workdir {
            dir,
            tf: tf.to_path_buf(),
            env: Vec::new(),
            timeout: Duration::from_secs(timeout),
        }
    }

    /// The temp dir (Terraform's working directory).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The Terraform binary this workdir runs.
    pub fn terraform(&self) -> &Path {
        &self.tf
    }

    /// Drives the same directory (configuration and state) with another
    /// core from now on, as a user upgrading Terraform does.
    pub fn set_terraform(&mut self, tf: &Path) {
        self.tf = tf.to_path_buf();
    }

    /// Extra environment for every Terraform run (e.g. `CLERK_SECRET_KEY`, `TF_VAR_x`);
    /// a later value for the same key wins.
    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    /// Overrides the per-command timeout.
    pub fn set_timeout(&mut self, t: Duration) -> &mut Self {
        self.timeout = t;
        self
    }

    /// Writes (replaces) a file in the workdir, e.g. `main.tf`.
    pub fn write(&self, file: &str, contents: &str) {
        let p = self.dir.path().join(file);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&p, contents).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    /// Removes a file from the workdir if it exists.
    pub fn remove(&self, file: &str) {
        let _ = std::fs::remove_file(self.dir.path().join(file));
    }

    /// Runs `terraform <args>` in the workdir. Adds `-no-color` after the subcommand where it
    /// is accepted. Never panics on a Terraform failure, only on a timeout.
    pub fn tf(&self, args: &[&str]) -> TfOutput {
        let mut full: Vec<&str> = args.to_vec();
        if let Some(sub) = args.first() {
            if NO_COLOR_SUBCOMMANDS.contains(sub) && !args.contains(&"-no-color") {
                full.insert(1, "-no-color");
            }
        }
        let mut cmd = Command::new(&self.tf);
        cmd.args(&full);
        isolate_env(&mut cmd, self.dir.path(), &self.dir.path().join("cli.tfrc"));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.current_dir(self.dir.path());
        let what = format!(
            "terraform {} ({} in {})",
            full.join(" "),
            self.tf.display(),
            self.dir.path().display()
        );
        run_with_timeout(cmd, self.timeout, &what)
    }

    /// `apply -auto-approve -input=false`; panics with all output if it fails.
    pub fn apply(&self) -> TfOutput {
        let out = self.try_apply();
        out.assert_success(&format!("terraform apply (Terraform {})", self.version()));
        out
    }

    /// `apply -auto-approve -input=false`, returning failures instead of panicking.
    pub fn try_apply(&self) -> TfOutput {
        self.tf(&["apply", "-auto-approve", "-input=false"])
    }

    /// `plan -detailed-exitcode -input=false`: 0 no changes, 2 changes, 1 error.
    pub fn plan_exitcode(&self) -> (i32, TfOutput) {
        let out = self.tf(&["plan", "-detailed-exitcode", "-input=false"]);
        (out.code, out)
    }

    /// `destroy -auto-approve -input=false`; panics with all output if it fails.
    pub fn destroy(&self) -> TfOutput {
        let out = self.try_destroy();
        out.assert_success(&format!("terraform destroy (Terraform {})", self.version()));
        out
    }

    /// `destroy -auto-approve -input=false`, returning failures instead of panicking.
    pub fn try_destroy(&self) -> TfOutput {
        self.tf(&["destroy", "-auto-approve", "-input=false"])
    }

    /// `import -input=false <addr> <id>` (does not panic; check `.success()`).
    pub fn import(&self, addr: &str, id: &str) -> TfOutput {
        self.tf(&["import", "-input=false", addr, id])
    }

    /// `validate` (does not panic; check `.success()`).
    pub fn validate(&self) -> TfOutput {
        self.tf(&["validate"])
    }

    /// Runs another program (e.g. a script that calls Terraform itself) in the workdir, with
    /// the same isolated environment and extra [`Workdir::env`] as [`Workdir::tf`], plus
    /// `TERRAFORM` set to this workdir's Terraform binary. Never panics on a failure, only on
    /// a timeout.
    pub fn run(&self, program: &Path, args: &[&str]) -> TfOutput {
        let mut cmd = Command::new(program);
        cmd.args(args);
        isolate_env(&mut cmd, self.dir.path(), &self.dir.path().join("cli.tfrc"));
        cmd.env("TERRAFORM", &self.tf);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.current_dir(self.dir.path());
        let what = format!(
            "{} {} (Terraform {} in {})",
            program.display(),
            args.join(" "),
            self.tf.display(),
            self.dir.path().display()
        );
        run_with_timeout(cmd, self.timeout, &what)
    }

    /// `show -json`, parsed. Panics if the command fails or prints no JSON.
    pub fn state(&self) -> serde_json::Value {
        let out = self.tf(&["show", "-json"]);
        out.assert_success(&format!(
            "terraform show -json (Terraform {})",
            self.version()
        ));
        serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "terraform show -json printed invalid JSON ({e}):\n{}",
                out.combined()
            )
        })
    }

    /// The `values` of the resource at `addr` (e.g. `clerk_user.a`,
    /// `module.m.hasura_table.t`, `clerk_user.b[0]`) in the current state; panics if absent.
    pub fn resource_values(&self, addr: &str) -> serde_json::Value {
        let state = self.state();
        find_resource(&state["values"]["root_module"], addr)
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| {
                panic!(
                    "resource {addr} not in state:\n{}",
                    serde_json::to_string_pretty(&state).unwrap_or_default()
                )
            })
    }

    /// Addresses of all resources in state (root and child modules).
    pub fn resource_addresses(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_addresses(&self.state()["values"]["root_module"], &mut out);
        out
    }

    /// The value of a root output from state (`null` if absent).
    pub fn output(&self, name: &str) -> serde_json::Value {
        self.state()["values"]["outputs"][name]["value"].clone()
    }

    fn version(&self) -> String {
        terraform_version(&self.tf)
    }
}

fn find_resource<'a>(module: &'a serde_json::Value, addr: &str) -> Option<&'a serde_json::Value> {
    if let Some(rs) = module["resources"].as_array() {
        if let Some(r) = rs.iter().find(|r| r["address"] == addr) {
            return Some(r);
        }
    }
    module["child_modules"]
        .as_array()?
        .iter()
        .find_map(|m| find_resource(m, addr))
}

fn collect_addresses(module: &serde_json::Value, out: &mut Vec<String>) {
    if let Some(rs) = module["resources"].as_array() {
        out.extend(
            rs.iter()
                .filter_map(|r| r["address"].as_str().map(str::to_string)),
        );
    }
    if let Some(ms) = module["child_modules"].as_array() {
        for m in ms {
            collect_addresses(m, out);
        }
    }
}

/// The directory holding a provider binary (what `dev_overrides` wants).
pub fn provider_dir(bin: &str) -> PathBuf {
    Path::new(bin)
        .parent()
        .expect("provider binary has a parent dir")
        .to_path_buf()
}

fn hcl_string(p: &Path) -> String {
    // JSON string escaping is valid HCL string syntax for paths; `${`/`%{` must not start a
    // template.
    serde_json::to_string(&p.to_string_lossy())
        .unwrap()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// Makes Terraform ignore the user's environment: its own CLI config, a fake HOME, no
/// version checks, no inherited TF_* knobs that change behaviour.
fn isolate_env(cmd: &mut Command, dir: &Path, cli_config: &Path) {
    let drop: Vec<OsString> = std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| {
            let k = k.to_string_lossy();
            k.starts_with("TF_CLI_ARGS")
                || k.starts_with("TF_VAR_")
                || matches!(
                    k.as_ref(),
                    "TF_WORKSPACE"
                        | "TF_DATA_DIR"
                        | "TF_PLUGIN_CACHE_DIR"
                        | "TF_REATTACH_PROVIDERS"
                        | "TF_CLI_CONFIG_FILE"
                        | "TERRAFORM_CONFIG"
                )
        })
        .collect();
    for k in drop {
        cmd.env_remove(k);
    }
    cmd.env("TF_CLI_CONFIG_FILE", cli_config)
        .env("HOME", dir.join("home"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0");
}

/// Runs a command with stdin closed, captures its output, and kills it together with all its
/// descendants (the providers Terraform started) if it outlives `timeout`, failing the test.
///
/// Terraform stays in the test's process group, so a test runner that kills a hung test's
/// group (cargo-nextest's slow-timeout) takes Terraform and the providers down with it.
fn run_with_timeout(mut cmd: Command, timeout: Duration, what: &str) -> TfOutput {
    use std::os::unix::process::CommandExt;
    // Its own process group, so that whatever it leaves behind (a provider
    // orphaned by a crashing core keeps the output pipes open) can be ended.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait().expect("wait for terraform") {
            Some(s) => break Some(s),
            None if start.elapsed() >= timeout => break None,
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let Some(status) = status else {
        // Kill the descendants too, so that provider processes do not keep the pipes open.
        kill_tree(child.id());
        let _ = child.kill();
        let _ = child.wait();
        let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
        panic!(
            "{what} timed out after {} s and was killed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            timeout.as_secs_f64()
        );
    };
    kill_group(child.id());
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    TfOutput {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// SIGKILLs what is left of the process group `leader` led (nothing, when
/// Terraform stopped its providers as it should).
fn kill_group(leader: u32) {
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    const SIGKILL: i32 = 9;
    // SAFETY: kill(2) with a negative pid signals that process group only.
    unsafe {
        kill(-(leader as i32), SIGKILL);
    }
}

/// SIGKILLs `root` and every process descended from it (found through /proc), all at once
/// so that none is re-parented out of reach first.
fn kill_tree(root: u32) {
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    const SIGKILL: i32 = 9;
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
            let ppid = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    for pid in tree {
        // SAFETY: kill(2) with a pid and a signal number has no memory-safety preconditions.
        unsafe {
            kill(pid as i32, SIGKILL);
        }
    }
}
