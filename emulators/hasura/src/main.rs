//! `hasura-emulator`: runs the emulator until SIGINT/SIGTERM. The first stdout line is a
//! JSON object with the endpoint and the (test-only) credentials.

use std::time::Duration;

use anyhow::{bail, Context};
use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};

const USAGE: &str = "usage: hasura-emulator (--database-url URL | --temp-postgres) [--admin-secret S] [--cloud-token T] [--port N] [--project-id UUID] [--tenant-id UUID] [--restart-window-ms N] [--read-only] [--enable-allowlist]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let mut args = std::env::args().skip(1);
    let mut database_url = None;
    let mut temp_postgres = false;
    let mut cfg = HasuraConfig::new("");
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--database-url" => database_url = Some(value("--database-url")?),
            "--temp-postgres" => temp_postgres = true,
            "--admin-secret" => cfg.admin_secret = value("--admin-secret")?,
            "--cloud-token" => cfg.cloud_token = value("--cloud-token")?,
            "--project-id" => cfg.project_id = value("--project-id")?,
            "--tenant-id" => cfg.tenant_id = value("--tenant-id")?,
            "--port" => cfg.port = value("--port")?.parse().context("--port")?,
            "--restart-window-ms" => {
                cfg.restart_window = Duration::from_millis(
                    value("--restart-window-ms")?
                        .parse()
                        .context("--restart-window-ms")?,
                )
            }
            "--read-only" => cfg.read_only = true,
            "--enable-allowlist" => cfg.enable_allowlist = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let _pg = match (database_url, temp_postgres) {
        (Some(url), false) => {
            cfg.database_url = url;
            None
        }
        (None, true) => {
            let pg = TempPostgres::start()?;
            cfg.database_url = pg.url();
            tracing::info!(url = %pg.url(), "started temporary PostgreSQL");
            Some(pg)
        }
        _ => bail!("exactly one of --database-url and --temp-postgres is required\n{USAGE}"),
    };

    // Installed before the ready line: a supervisor that sends SIGTERM as
    // soon as it reads that line must find it handled, not fatal.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let emu = HasuraEmulator::start(cfg.clone()).await?;
    println!(
        "{}",
        serde_json::json!({
            "endpoint": emu.endpoint(),
            "cloud_api_url": emu.cloud_api_url(),
            "admin_secret": cfg.admin_secret,
            "cloud_token": cfg.cloud_token,
            "project_id": cfg.project_id,
            "tenant_id": cfg.tenant_id,
        })
    );
    tracing::info!(endpoint = %emu.endpoint(), "hasura emulator listening");

    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    emu.stop().await;
    Ok(())
}
