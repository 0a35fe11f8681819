//! A throwaway PostgreSQL cluster for tests and the `--temp-postgres` flag.
//!
//! PostgreSQL refuses to run as root, and CI runs as root, so when we are root the
//! cluster is owned by (and every server binary runs as) the `postgres` system user,
//! created if missing.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{anyhow, bail, Context};

const SUPERUSER: &str = "postgres";
const RUN_AS: &str = "postgres";

pub struct TempPostgres {
    dir: Option<tempfile::TempDir>,
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    as_root: bool,
}

impl TempPostgres {
    pub fn start() -> anyhow::Result<TempPostgres> {
        let bin_dir = find_bin_dir()?;
        let as_root = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        if as_root {
            ensure_system_user()?;
        }
        // As root, $TMPDIR may sit under a home the postgres user cannot enter; /tmp is
        // world-traversable.
        let parent = if as_root && Path::new("/tmp").is_dir() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("hasura-emu-pg-")
            .tempdir_in(parent)
            .context("creating temp dir for PostgreSQL")?;
        if as_root {
            chown_to_run_user(dir.path())?;
        }
        let data_dir = dir.path().join("data");
        let initdb_args = [
            "-D",
            path_str(&data_dir)?,
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ];
        let out = run_pg(as_root, &bin_dir.join("initdb"), &initdb_args)?;
        check(&out, "initdb")?;

        let mut pg = TempPostgres {
            dir: Some(dir),
            bin_dir,
            data_dir,
            port: 0,
            as_root,
        };
        // The free port is only free until someone else takes it; retry a few times.
        let mut last_err = None;
        for _ in 0..5 {
            pg.port = free_port()?;
            match pg.pg_ctl_start() {
                Ok(()) => return Ok(pg),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow!("could not start PostgreSQL")))
    }

    pub fn url(&self) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn root(&self) -> &Path {
        self.dir
            .as_ref()
            .map(|d| d.path())
            .unwrap_or(Path::new("/"))
    }

    fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let log = self.root().join("postgres.log");
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            path_str(self.root())?
        );
        let out = run_pg(
            self.as_root,
            &self.bin_dir.join("pg_ctl"),
            &[
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                path_str(&self.data_dir)?,
                "-l",
                path_str(&log)?,
                "-o",
                &opts,
            ],
        )?;
        if !out.status.success() {
            let server_log = std::fs::read_to_string(&log).unwrap_or_default();
            bail!(
                "pg_ctl start failed: {}{}\n{server_log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.data_dir) {
            let _ = run_pg(
                self.as_root,
                &self.bin_dir.join("pg_ctl"),
                &["stop", "-m", "immediate", "-w", "-D", data],
            );
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .ok_or_else(|| anyhow!("non-UTF-8 path {}", p.display()))
}

fn check(out: &Output, what: &str) -> anyhow::Result<()> {
    if out.status.success() {
        return Ok(());
    }
    bail!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Debian keeps the real binaries under /usr/lib/postgresql/<major>/bin and only puts a
/// wrapper (or nothing) on PATH; prefer the newest versioned directory.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    versioned.sort();
    if let Some((_, bin)) = versioned.pop() {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let initdb = dir.join("initdb");
        if initdb.is_file() && dir.join("pg_ctl").is_file() {
            let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
            return Ok(real.parent().map(Path::to_path_buf).unwrap_or(dir));
        }
    }
    bail!("PostgreSQL server binaries (initdb, pg_ctl) not found; install the `postgresql` package")
}

fn run_pg(as_root: bool, bin: &Path, args: &[&str]) -> anyhow::Result<Output> {
    let mut cmd = if as_root {
        let mut c = Command::new("runuser");
        c.arg("-u").arg(RUN_AS).arg("--").arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        // A cwd the run-as user may not enter makes initdb warn or fail.
        .current_dir("/")
        .stdin(std::process::Stdio::null());
    cmd.output()
        .with_context(|| format!("running {}", bin.display()))
}

fn ensure_system_user() -> anyhow::Result<()> {
    let exists = Command::new("id")
        .arg("-u")
        .arg(RUN_AS)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if exists {
        return Ok(());
    }
    let out = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
        ])
        .arg(RUN_AS)
        .output()
        .context("running useradd")?;
    // Another test may have created it concurrently.
    let exists_now = Command::new("id")
        .arg("-u")
        .arg(RUN_AS)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if exists_now {
        Ok(())
    } else {
        check(&out, "useradd postgres")
    }
}

fn chown_to_run_user(dir: &Path) -> anyhow::Result<()> {
    let out = Command::new("chown")
        .arg(format!("{RUN_AS}:"))
        .arg(dir)
        .output()
        .context("running chown")?;
    check(&out, "chown")
}

fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}
