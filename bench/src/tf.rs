//! Running real Terraform against wrapped providers.
//!
//! Provider CPU time and peak RSS: the CLI config's `dev_overrides` point every provider
//! (ours and `hashicorp/null`) at a directory of tiny `sh` scripts named
//! `terraform-provider-<name>`, each of which `exec`s this bench binary in its `__wrap`
//! mode. The wrapper spawns the real provider with inherited stdio and environment (so
//! the handshake line, AutoMTLS and gRPC pass through untouched), reaps it with
//! `wait4(2)` and appends the kernel's rusage for that process (user + system CPU,
//! `ru_maxrss`) to a file per launch. The kernel's accounting covers the whole provider
//! process, every thread, from exec to exit, and needs no sampling; Terraform's graceful
//! shutdown (controller `Shutdown`) lets the provider exit normally so every launch is
//! recorded. `PR_SET_PDEATHSIG` kills the provider if the wrapper is killed.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// The `__wrap <name> <real binary> [args...]` mode; never returns.
pub fn wrap_main(args: &[String]) -> ! {
    let (name, real, rest) = match args {
        [name, real, rest @ ..] => (name, real, rest),
        _ => {
            eprintln!("usage: bench __wrap <name> <real-binary> [args...]");
            std::process::exit(2)
        }
    };
    let out_dir = std::env::var_os("BENCH_WRAP_OUT").map(PathBuf::from);
    let mut cmd = Command::new(real);
    cmd.args(rest);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let start = Instant::now();
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench wrapper: cannot exec {real}: {e}");
            std::process::exit(127)
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; wait4 fills it in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = loop {
        // SAFETY: valid pointers to locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = start.elapsed();
    if r == pid {
        if let Some(dir) = out_dir {
            let cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
            let line = format!(
                "{name} {cpu:.6} {} {:.6}\n",
                ru.ru_maxrss,
                wall.as_secs_f64()
            );
            let _ = std::fs::write(dir.join(format!("{name}.{pid}")), line);
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    std::process::exit(code)
}

fn tv(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// rusage of the provider launches made by one Terraform command.
#[derive(Clone, Debug, Default)]
pub struct ProviderUsage {
    pub launches: usize,
    pub cpu_s: f64,
    pub peak_rss_kb: u64,
}

/// A temp dir with `main.tf`, a CLI config with `dev_overrides` onto the wrappers, and
/// local state.
pub struct Workdir {
    dir: tempfile::TempDir,
    tf: PathBuf,
    env: Vec<(String, String)>,
}

pub struct Providers {
    /// Directory holding the real `terraform-provider-{clerk,hasura}`.
    pub bin_dir: PathBuf,
    /// The Go null provider binary, if available.
    pub null: Option<PathBuf>,
}

/// The output of one Terraform command, with its wall time and provider usage.
pub struct Run {
    pub code: i32,
    pub wall: Duration,
    /// User+system CPU of Terraform and all its reaped descendants (providers included).
    pub total_cpu_s: f64,
    pub stdout: String,
    pub stderr: String,
    pub usage: std::collections::BTreeMap<String, ProviderUsage>,
}

impl Run {
    /// Terraform core's own CPU: everything but the provider processes.
    pub fn core_cpu_s(&self) -> f64 {
        self.total_cpu_s - self.usage.values().map(|u| u.cpu_s).sum::<f64>()
    }

    pub fn usage(&self, name: &str) -> ProviderUsage {
        self.usage.get(name).cloned().unwrap_or_default()
    }
}

impl Workdir {
    pub fn new(tf: &Path, providers: &Providers) -> anyhow::Result<Workdir> {
        let dir = tempfile::Builder::new().prefix("tf-bench-").tempdir()?;
        let me = std::env::current_exe()?;
        let wrap = dir.path().join("wrap");
        std::fs::create_dir_all(&wrap)?;
        std::fs::create_dir_all(dir.path().join("home"))?;
        std::fs::create_dir_all(dir.path().join("usage"))?;
        let mut real = vec![
            ("clerk", providers.bin_dir.join("terraform-provider-clerk")),
            (
                "hasura",
                providers.bin_dir.join("terraform-provider-hasura"),
            ),
        ];
        if let Some(n) = &providers.null {
            real.push(("null", n.clone()));
        }
        for (name, bin) in &real {
            let script = wrap.join(format!("terraform-provider-{name}"));
            std::fs::write(
                &script,
                format!(
                    "#!/bin/sh\nexec {} __wrap {name} {} \"$@\"\n",
                    sh_quote(&me),
                    sh_quote(bin)
                ),
            )?;
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        }
        let w = hcl_string(&wrap);
        let cfg = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/clerk-hasura/clerk\" = {w}\n    \"registry.terraform.io/clerk-hasura/hasura\" = {w}\n    \"registry.terraform.io/hashicorp/null\" = {w}\n  }}\n  direct {{}}\n}}\n"
        );
        std::fs::write(dir.path().join("cli.tfrc"), cfg)?;
        Ok(Workdir {
            dir,
            tf: tf.to_path_buf(),
            env: Vec::new(),
        })
    }

    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    pub fn write(&self, file: &str, contents: &str) -> anyhow::Result<()> {
        std::fs::write(self.dir.path().join(file), contents)?;
        Ok(())
    }

    /// `terraform <args> -no-color`, with stdin closed, isolated from the user's config,
    /// killed after `timeout`.
    pub fn tf(&self, args: &[&str], timeout: Duration) -> anyhow::Result<Run> {
        let usage_dir = self.dir.path().join("usage");
        for e in std::fs::read_dir(&usage_dir)? {
            let _ = std::fs::remove_file(e?.path());
        }
        let mut full: Vec<&str> = args.to_vec();
        full.insert(1, "-no-color");
        let mut cmd = Command::new(&self.tf);
        cmd.args(&full).current_dir(self.dir.path());
        for (k, _) in std::env::vars_os() {
            let ks = k.to_string_lossy();
            if ks.starts_with("TF_") || ks == "TERRAFORM_CONFIG" || ks.starts_with("PLUGIN_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env("TF_CLI_CONFIG_FILE", self.dir.path().join("cli.tfrc"))
            .env("HOME", self.dir.path().join("home"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("BENCH_WRAP_OUT", &usage_dir);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", self.tf.display()))?;
        let mut so = child.stdout.take().expect("stdout");
        let mut se = child.stderr.take().expect("stderr");
        let t_out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = so.read_to_string(&mut s);
            s
        });
        let t_err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = se.read_to_string(&mut s);
            s
        });
        // wait4 rather than Child::wait: its rusage covers Terraform and every descendant
        // it reaped (the provider wrappers and so the providers).
        let pid = child.id() as libc::pid_t;
        let mut raw: libc::c_int = 0;
        // SAFETY: rusage is plain old data.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let status = loop {
            // SAFETY: valid pointers to locals; pid is our child.
            let r = unsafe { libc::wait4(pid, &mut raw, libc::WNOHANG, &mut ru) };
            if r == pid {
                break Some(if libc::WIFEXITED(raw) {
                    libc::WEXITSTATUS(raw)
                } else {
                    128 + libc::WTERMSIG(raw)
                });
            }
            if r == -1 {
                bail!("wait4: {}", std::io::Error::last_os_error());
            }
            if start.elapsed() > timeout {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let wall = start.elapsed();
        let total_cpu_s = tv(ru.ru_utime) + tv(ru.ru_stime);
        let Some(code) = status else {
            // SAFETY: kill(2) on our own process group.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            // SAFETY: reaping our own child.
            unsafe { libc::waitpid(pid, &mut raw, 0) };
            bail!(
                "terraform {} timed out after {} s in {}",
                full.join(" "),
                timeout.as_secs(),
                self.dir.path().display()
            );
        };
        let stdout = t_out.join().unwrap_or_default();
        let stderr = t_err.join().unwrap_or_default();
        // The wrappers write their record when the provider exits, which Terraform waits
        // for; give a straggler a moment anyway.
        std::thread::sleep(Duration::from_millis(20));
        let mut usage = std::collections::BTreeMap::<String, ProviderUsage>::new();
        for e in std::fs::read_dir(&usage_dir)? {
            let line = std::fs::read_to_string(e?.path()).unwrap_or_default();
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 3 {
                continue;
            }
            let u = usage.entry(f[0].to_string()).or_default();
            u.launches += 1;
            u.cpu_s += f[1].parse::<f64>().unwrap_or(0.0);
            u.peak_rss_kb = u.peak_rss_kb.max(f[2].parse().unwrap_or(0));
        }
        Ok(Run {
            code,
            wall,
            total_cpu_s,
            stdout,
            stderr,
            usage,
        })
    }

    pub fn apply(&self, parallelism: Option<u32>) -> anyhow::Result<Run> {
        let p = parallelism.map(|p| format!("-parallelism={p}"));
        let mut args = vec!["apply", "-auto-approve", "-input=false"];
        if let Some(p) = &p {
            args.push(p);
        }
        let r = self.tf(&args, Duration::from_secs(1800))?;
        if r.code != 0 {
            bail!(
                "terraform apply failed ({}):\n{}\n{}",
                r.code,
                tail(&r.stdout),
                tail(&r.stderr)
            );
        }
        Ok(r)
    }

    /// `plan -detailed-exitcode` (with refresh); fails unless the plan is empty.
    pub fn plan_no_changes(&self) -> anyhow::Result<Run> {
        let r = self.tf(
            &["plan", "-detailed-exitcode", "-input=false"],
            Duration::from_secs(1800),
        )?;
        if r.code != 0 {
            bail!(
                "terraform plan expected no changes, exit {}:\n{}\n{}",
                r.code,
                tail(&r.stdout),
                tail(&r.stderr)
            );
        }
        Ok(r)
    }
}

impl Workdir {
    /// Every managed resource instance in the state as `attribute -> value`, values
    /// rendered as strings (JSON for non-strings, `""` for null): the data a
    /// `null_resource` must carry to cost Terraform core as much per instance.
    pub fn state_values(&self) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
        let r = self.tf(&["show", "-json"], Duration::from_secs(600))?;
        if r.code != 0 {
            bail!(
                "terraform show -json failed ({}): {}",
                r.code,
                tail(&r.stderr)
            );
        }
        let v: serde_json::Value = serde_json::from_str(&r.stdout)?;
        let resources = v["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(resources
            .iter()
            .filter(|r| r["mode"] == "managed")
            .map(|r| {
                r["values"]
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| {
                                let s = match v {
                                    serde_json::Value::Null => String::new(),
                                    serde_json::Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                };
                                (k.clone(), s)
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect())
    }
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.to_string_lossy().replace('\'', "'\\''"))
}

fn hcl_string(p: &Path) -> String {
    serde_json::to_string(&p.to_string_lossy())
        .expect("string")
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// The Terraform binary: `--terraform`, `$TERRAFORM`, `terraform` on PATH, or the one
/// scripts/setup.sh links under .cache.
pub fn find_terraform(explicit: Option<PathBuf>, repo: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit.or_else(|| std::env::var_os("TERRAFORM").map(PathBuf::from)) {
        return Ok(p);
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(p) = std::env::split_paths(&path)
            .map(|d| d.join("terraform"))
            .find(|p| p.is_file())
        {
            return Ok(p);
        }
    }
    let cached = repo.join(".cache/terraform/bin/terraform");
    if cached.is_file() {
        return Ok(cached);
    }
    bail!("no terraform found: pass --terraform or run scripts/setup.sh")
}

pub fn terraform_version(tf: &Path) -> String {
    Command::new(tf)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim_start_matches("Terraform ").to_string())
        })
        .unwrap_or_else(|| "?".into())
}
