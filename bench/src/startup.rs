//! Row 1: a provider started the way Terraform starts it. We exec the binary with the
//! environment go-plugin's client sets (magic cookie, protocol versions, port range and a
//! Terraform-style P-521 `PLUGIN_CLIENT_CERT`, so AutoMTLS runs), time exec → first stdout
//! line, read VmRSS/VmHWM from /proc, then connect over the announced socket with mTLS
//! (pinned server certificate, our client certificate, ALPN h2) and call the schema RPC:
//! `tfplugin6.Provider/GetProviderSchema` for our providers, and for the Go null provider
//! (protocol 5) `tfplugin5.Provider/GetSchema` with a hand-written minimal prost message.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use terraform_providers::plugin::proto::tfplugin6::{
    get_provider_schema, provider_client::ProviderClient,
};
use tonic::transport::{Channel, Endpoint};

pub const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

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

/// A Terraform-style client certificate: ECDSA P-521, ecdsa-with-SHA512, self-signed,
/// CA:TRUE, EKU client+server, as go-plugin's `generateCert()` makes it.
pub struct ClientCert {
    pub der: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
    pub pem: String,
}

impl ClientCert {
    pub fn generate() -> anyhow::Result<ClientCert> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        params
            .distinguished_name
            .push(DnType::OrganizationName, "HashiCorp");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::hours(262_980);
        let cert = params.self_signed(&key)?;
        Ok(ClientCert {
            der: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            pem: cert.pem(),
        })
    }
}

struct Handshake {
    protocol: u32,
    network: String,
    addr: String,
    cert: Vec<u8>,
}

fn parse_handshake(line: &str) -> anyhow::Result<Handshake> {
    let parts: Vec<&str> = line.trim().split('|').collect();
    if parts.len() < 6 || parts[0] != "1" || parts[4] != "grpc" {
        bail!("not a go-plugin handshake line: {line:?}");
    }
    let cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5].trim_end_matches('='))
        .context("server certificate field")?;
    if cert.is_empty() {
        bail!("handshake announced no server certificate (AutoMTLS off?): {line:?}");
    }
    Ok(Handshake {
        protocol: parts[1].parse()?,
        network: parts[2].to_string(),
        addr: parts[3].to_string(),
        cert,
    })
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
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", &cert.pem)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
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
        let hs = parse_handshake(&line)?;
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

/// Pins the handshake's server certificate as the Go client does (it is the only root).
#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.algs)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> IoStream for T {}

/// Dials the announced unix socket (or TCP address) and runs TLS over it, for tonic.
#[derive(Clone)]
struct Dial {
    network: String,
    addr: String,
    tls: tokio_rustls::TlsConnector,
}

impl tonic::codegen::Service<http::Uri> for Dial {
    type Response = TokioIo<Box<dyn IoStream>>;
    type Error = BoxError;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let name = ServerName::try_from("localhost").expect("valid server name");
            let io: Box<dyn IoStream> = if this.network == "unix" {
                let s = tokio::net::UnixStream::connect(PathBuf::from(&this.addr)).await?;
                Box::new(this.tls.connect(name, s).await?)
            } else {
                let s = tokio::net::TcpStream::connect(&this.addr).await?;
                Box::new(this.tls.connect(name, s).await?)
            };
            Ok(TokioIo::new(io))
        })
    }
}

async fn channel(hs: &Handshake, cert: &ClientCert) -> anyhow::Result<Channel> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            der: hs.cert.clone(),
            algs: provider.signature_verification_algorithms,
        }))
        .with_client_auth_cert(vec![cert.der.clone()], cert.key.clone_key())?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    let dial = Dial {
        network: hs.network.clone(),
        addr: hs.addr.clone(),
        tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
    };
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(10))
        .connect_with_connector(dial)
        .await
        .map_err(|e| anyhow!("connecting to {} {}: {e:?}", hs.network, hs.addr))
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
    let mut cmd = Command::new(bin);
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", &cert.pem)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn()?;
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    let r = async {
        out.read_line(&mut line)?;
        let hs = parse_handshake(&line)?;
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
