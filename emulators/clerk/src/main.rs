//! `clerk-emulator [--port N] [--secret-key KEY] [--rate-limit REQUESTS/SECONDS|development|production]`
//!
//! Prints one JSON line with the URLs and keys on stdout (so scripts can read
//! it), logs to stderr, and runs until SIGINT or SIGTERM.

use anyhow::{bail, Context};
use clerk_emulator::{ClerkConfig, ClerkEmulator};
use emulator_common::RateLimit;
use std::io::Write;

/// `development` / `production`: the limits Clerk documents for each.
fn preset_rate_limit(v: &str) -> Option<RateLimit> {
    match v {
        "development" => Some(clerk_emulator::DEVELOPMENT_RATE_LIMIT),
        "production" => Some(clerk_emulator::PRODUCTION_RATE_LIMIT),
        _ => None,
    }
}

fn parse_args() -> anyhow::Result<ClerkConfig> {
    let mut cfg = ClerkConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |name: &str| -> anyhow::Result<String> {
            inline
                .clone()
                .or_else(|| args.next())
                .with_context(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--port" => cfg.port = value("--port")?.parse().context("--port")?,
            "--secret-key" => cfg.secret_key = value("--secret-key")?,
            "--rate-limit" => {
                let v = value("--rate-limit")?;
                if let Some(preset) = preset_rate_limit(&v) {
                    cfg.rate_limit = Some(preset);
                    continue;
                }
                let (n, secs) = v.split_once('/').context(
                    "--rate-limit takes REQUESTS/SECONDS (e.g. 100/10), development or production",
                )?;
                cfg.rate_limit = Some(RateLimit {
                    requests: n.trim().parse().context("--rate-limit requests")?,
                    window_secs: secs.trim().parse().context("--rate-limit seconds")?,
                });
            }
            "-h" | "--help" => {
                eprintln!(
                    "usage: clerk-emulator [--port N] [--secret-key KEY] [--rate-limit REQUESTS/SECONDS|development|production]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(cfg)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cfg = parse_args()?;
    // Installed before the ready line: a supervisor that sends SIGTERM as
    // soon as it reads that line must find it handled, not fatal.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("install SIGTERM handler")?;
    let emu = ClerkEmulator::start(cfg).await?;
    let line = serde_json::json!({
        "api_url": emu.api_url(),
        "frontend_api_url": emu.frontend_api_url(),
        "publishable_key": emu.publishable_key(),
        "secret_key": emu.secret_key(),
    });
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
    emu.stop().await;
    Ok(())
}
