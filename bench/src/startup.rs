//! Row 1: a provider started the way Terraform starts it. We exec the binary with the
//! environment go-plugin's client sets (magic cookie, protocol versions, port range and a
//! Terraform-style P-521 `PLUGIN_CLIENT_CERT`, so AutoMTLS runs), time exec → first stdout
//! line, read VmRSS/VmHWM from /proc, then connect over the announced socket with mTLS
//! (pinned server certificate, our client certificate, ALPN h2) and call the schema RPC:
//! `tfplugin6.Provider/GetProviderSchema` for our providers, and for the Go null provider
//! (protocol 5) `tfplugin5.Provider/GetSchema` with a hand-written minimal prost message.
//! The go-plugin client side (certificate, launch environment, handshake, mTLS dial) is
//! the `plugin-client` crate the transport tests use too.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use plugin_client::{channel, Handshake};
use terraform_providers::plugin::proto::tfplugin6::{
    get_provider_schema, provider_client::ProviderClient,
};
use tonic::transport::Channel;

pub use plugin_client::ClientCert;

/// One launch of one provider.
#[derive(Clone, Copy, Debug)]
pub struct Launch {
    pub handshake: Duration,
    /// VmRSS right after the handshake line, KiB.
    pub rss_kb: u64,
    /// VmRSS after the schema RPC returned, KiB.
    pub rss_schema_kb: u64,
    /// VmHWM (peak RSS) after the schema RPC, KiB.
    pub hwm_schema_kb: u64,
    /// RssAnon / RssFile after the schema RPC, KiB: heap and stacks vs pages of the
    /// binary and shared libraries.
    pub anon_schema_kb: u64,
    pub file_schema_kb: u64,
    /// Resource types the schema listed (sanity check that the RPC really ran).
    pub resource_types: usize,
}

/// Memory of a live process from `/proc/<pid>/status`, KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcMem {
    pub rss: u64,
    pub hwm: u64,
    pub anon: u64,
    pub file: u64,
}

pub fn proc_mem_kb(pid: u32) -> ProcMem {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    ProcMem {
        rss: field("VmRSS:"),
        hwm: field("VmHWM:"),
        anon: field("RssAnon:"),
        file: field("RssFile:"),
    }
}

/// Resident KiB per mapped file (and anonymous), largest first: where RSS goes.
/// Printed to stderr with `BENCH_SMAPS=1`.
pub fn smaps_by_file(pid: u32) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by: std::collections::BTreeMap<String, u64> = Default::default();
    let mut name = String::new();
    for l in s.lines() {
        let mut f = l.split_whitespace();
        let first = f.next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            let rest: Vec<&str> = f.collect();
            name = rest.get(4).copied().unwrap_or("[anon]").to_string();
        } else if first == "Rss:" {
            *by.entry(name.clone()).or_default() +=
                f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        }
    }
    let mut v: Vec<(String, u64)> = by.into_iter().filter(|(_, k)| *k > 0).collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.1));
    v.iter()
        .map(|(n, k)| format!("{k} KiB {n}; "))
        .collect::<String>()
        + "\n"
}

/// Starts `bin` as Terraform would, measures, calls the schema RPC, kills it.
pub async fn launch_once(bin: &Path, cert: &ClientCert) -> anyhow::Result<Launch> {
    let mut cmd = plugin_client::command(bin, Some(cert));
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir());
    let t0 = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("exec {}", bin.display()))?;
    let pid = child.id();
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    let read = out.read_line(&mut line);
    let handshake = t0.elapsed();
    let rss_kb = proc_mem_kb(pid).rss;
    let result = async {
        read.context("reading the handshake line")?;
        let hs = Handshake::parse(&line)?;
        let ch = channel(&hs, cert).await?;
        let resource_types = match hs.protocol {
            6 => {
                let resp = ProviderClient::new(ch)
                    .max_decoding_message_size(256 << 20)
                    .get_provider_schema(get_provider_schema::Request::default())
                    .await?
                    .into_inner();
                resp.resource_schemas.len()
            }
            5 => tfplugin5_get_schema(ch).await?,
            p => bail!("unexpected plugin protocol {p}"),
        };
        let after = proc_mem_kb(pid);
        if std::env::var_os("BENCH_SMAPS").is_some() {
            eprint!("{}: {}", bin.display(), smaps_by_file(pid));
        }
        Ok(Launch {
            handshake,
            rss_kb,
            rss_schema_kb: after.rss,
            hwm_schema_kb: after.hwm,
            anon_schema_kb: after.anon,
            file_schema_kb: after.file,
            resource_types,
        })
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Minimal hand-written `tfplugin5.GetProviderSchema` messages: the request is empty and
/// of the response we only decode `resource_schemas` (field 2) as raw bytes.
mod tfplugin5 {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GetSchemaRequest {}

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GetSchemaResponse {
        #[prost(map = "string, bytes", tag = "2")]
        pub resource_schemas: std::collections::HashMap<String, Vec<u8>>,
    }
}

async fn tfplugin5_get_schema(ch: Channel) -> anyhow::Result<usize> {
    let mut grpc = tonic::client::Grpc::new(ch);
    grpc.ready().await?;
    let codec =
        tonic_prost::ProstCodec::<tfplugin5::GetSchemaRequest, tfplugin5::GetSchemaResponse>::default();
    let resp = grpc
        .unary(
            tonic::Request::new(tfplugin5::GetSchemaRequest {}),
            http::uri::PathAndQuery::from_static("/tfplugin5.Provider/GetSchema"),
            codec,
        )
        .await?
        .into_inner();
    Ok(resp.resource_schemas.len())
}

/// Medians over `runs` launches.
#[derive(Clone, Copy, Debug)]
pub struct StartupStats {
    pub handshake_ms: f64,
    pub rss_mb: f64,
    pub rss_schema_mb: f64,
    pub hwm_schema_mb: f64,
    pub anon_schema_mb: f64,
    pub file_schema_mb: f64,
    pub resource_types: usize,
}

pub async fn measure(bin: &Path, cert: &ClientCert, runs: usize) -> anyhow::Result<StartupStats> {
    // One warm-up launch so every binary starts from the page cache.
    launch_once(bin, cert).await?;
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs {
        all.push(launch_once(bin, cert).await?);
    }
    let med = |f: &dyn Fn(&Launch) -> f64| {
        let mut v: Vec<f64> = all.iter().map(f).collect();
        median(&mut v)
    };
    Ok(StartupStats {
        handshake_ms: med(&|l| l.handshake.as_secs_f64() * 1e3),
        rss_mb: med(&|l| l.rss_kb as f64 / 1024.0),
        rss_schema_mb: med(&|l| l.rss_schema_kb as f64 / 1024.0),
        hwm_schema_mb: med(&|l| l.hwm_schema_kb as f64 / 1024.0),
        anon_schema_mb: med(&|l| l.anon_schema_kb as f64 / 1024.0),
        file_schema_mb: med(&|l| l.file_schema_kb as f64 / 1024.0),
        resource_types: all.first().map(|l| l.resource_types).unwrap_or(0),
    })
}

pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Schema resource type names of a protocol-6 provider (to see whether Hasura has landed).
pub async fn resource_types(bin: &Path, cert: &ClientCert) -> anyhow::Result<Vec<String>> {
    let mut cmd = plugin_client::command(bin, Some(cert));
    cmd.env("PLUGIN_PROTOCOL_VERSIONS", "6");
    let mut child = cmd.spawn()?;
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    let r = async {
        out.read_line(&mut line)?;
        let hs = Handshake::parse(&line)?;
        let ch = channel(&hs, cert).await?;
        let resp = ProviderClient::new(ch)
            .max_decoding_message_size(256 << 20)
            .get_provider_schema(get_provider_schema::Request::default())
            .await?
            .into_inner();
        let mut names: Vec<String> = resp.resource_schemas.into_keys().collect();
        names.sort();
        Ok::<_, anyhow::Error>(names)
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    r
}
