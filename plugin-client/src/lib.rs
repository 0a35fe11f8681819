//! What Terraform's go-plugin client does to a provider, for the tests and the benchmark:
//!
//! 1. make a throwaway client certificate the way go-plugin's `generateCert()` does
//!    ([`ClientCert::generate`]: ECDSA P-521, ecdsa-with-SHA512, self-signed CA:TRUE);
//! 2. exec the provider with the magic cookie, the offered protocol versions, the port
//!    range and the certificate's PEM in `PLUGIN_CLIENT_CERT` ([`command`]);
//! 3. read the handshake line from its stdout ([`Handshake::parse`]);
//! 4. dial the announced socket with TLS pinned to the server certificate from the
//!    handshake, its own certificate for client auth and ALPN `h2`, and speak gRPC over
//!    it ([`channel`], or [`tls_connector`] + [`Dial`] + [`connect`] for variations).
//!
//! The certificate itself is built by the providers' own
//! [`terraform_providers::plugin::tls::go_plugin_cert`], which their server side uses too.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme, SupportedProtocolVersion};
use tonic::transport::{Channel, Endpoint};

/// go-plugin's handshake cookie for Terraform providers (`TF_PLUGIN_MAGIC_COOKIE`).
pub const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The environment go-plugin's client gives a Terraform provider, apart from
/// `PLUGIN_CLIENT_CERT`: the magic cookie, the protocol versions Terraform speaks and the
/// port range (only used on TCP).
pub const LAUNCH_ENV: [(&str, &str); 4] = [
    ("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE),
    ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
    ("PLUGIN_MIN_PORT", "10000"),
    ("PLUGIN_MAX_PORT", "25000"),
];

/// A Terraform-style client certificate: ECDSA P-521, ecdsa-with-SHA512, self-signed,
/// CA:TRUE, EKU client+server, as go-plugin's `generateCert()` makes it.
pub struct ClientCert {
    pub der: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
    pub pem: String,
}

impl ClientCert {
    pub fn generate() -> anyhow::Result<ClientCert> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)?;
        let cert = terraform_providers::plugin::tls::go_plugin_cert(&key)?;
        Ok(ClientCert {
            der: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            pem: cert.pem(),
        })
    }
}

/// `bin` ready to be spawned as go-plugin's client launches a provider: a clean
/// environment holding [`LAUNCH_ENV`] and, with `cert`, `PLUGIN_CLIENT_CERT` (AutoMTLS);
/// stdin from /dev/null, stdout piped for the handshake line, stderr discarded. Callers
/// add what else the child should see (`PATH`, `TMPDIR`, overrides) before spawning.
pub fn command(bin: &Path, cert: Option<&ClientCert>) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .envs(LAUNCH_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(cert) = cert {
        cmd.env("PLUGIN_CLIENT_CERT", &cert.pem);
    }
    cmd
}

/// go-plugin's handshake line,
/// `CORE-VERSION|APP-PROTOCOL-VERSION|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT`.
#[derive(Clone, Debug)]
pub struct Handshake {
    /// The plugin protocol the provider chose (5 or 6 for Terraform).
    pub protocol: u32,
    /// `unix` or `tcp`.
    pub network: String,
    /// The socket path or `host:port`.
    pub addr: String,
    /// The server certificate (DER) under AutoMTLS; `None` when the field is empty.
    pub cert: Option<Vec<u8>>,
}

impl Handshake {
    /// Parses the line as go-plugin's client does, Terraform's way: core version 1, the
    /// gRPC protocol, and the certificate field in unpadded standard base64
    /// (`RawStdEncoding`, so padding is an error).
    pub fn parse(line: &str) -> anyhow::Result<Handshake> {
        let parts: Vec<&str> = line.trim().split('|').collect();
        if parts.len() < 5 || parts[0] != "1" || parts[4] != "grpc" {
            bail!("not a go-plugin gRPC handshake line: {line:?}");
        }
        let cert = match parts.get(5) {
            Some(field) if !field.is_empty() => Some(
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(field)
                    .with_context(|| format!("server certificate field {field:?}"))?,
            ),
            _ => None,
        };
        Ok(Handshake {
            protocol: parts[1]
                .parse()
                .with_context(|| format!("protocol version in {line:?}"))?,
            network: parts[2].to_owned(),
            addr: parts[3].to_owned(),
            cert,
        })
    }

    /// A dialer for the announced address, over `tls` or plaintext.
    pub fn dial(&self, tls: Option<tokio_rustls::TlsConnector>) -> Dial {
        Dial::new(&self.network, &self.addr, tls)
    }
}

/// Pins the handshake's server certificate as the Go client does (it is the only root,
/// and the server name is `localhost`); webpki itself would refuse a CA:TRUE leaf.
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
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if server_name.to_str() != "localhost" {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName,
            ));
        }
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

/// TLS client config pinned to `server_der`, authenticating with `client` (or with no
/// certificate), limited to `versions` (Terraform offers TLS 1.2 and 1.3:
/// [`rustls::DEFAULT_VERSIONS`]), offering ALPN `h2`.
pub fn tls_connector(
    server_der: &[u8],
    client: Option<&ClientCert>,
    versions: &[&'static SupportedProtocolVersion],
) -> Result<tokio_rustls::TlsConnector, rustls::Error> {
    let provider = terraform_providers::plugin::tls::crypto_provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            der: server_der.to_vec(),
            algs: provider.signature_verification_algorithms,
        }));
    let mut config = match client {
        Some(c) => builder.with_client_auth_cert(vec![c.der.clone()], c.key.clone_key())?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A byte stream tonic can run HTTP/2 over: a socket, or TLS over one.
pub trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> IoStream for T {}

/// Dials a plugin's unix socket (or TCP address) for tonic, plaintext or with TLS; with
/// TLS the server must have agreed on ALPN `h2`, as grpc-go >= 1.67 insists.
#[derive(Clone)]
pub struct Dial {
    network: String,
    addr: String,
    tls: Option<tokio_rustls::TlsConnector>,
}

impl Dial {
    pub fn new(network: &str, addr: &str, tls: Option<tokio_rustls::TlsConnector>) -> Dial {
        Dial {
            network: network.to_owned(),
            addr: addr.to_owned(),
            tls,
        }
    }
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
            let stream: Box<dyn IoStream> = if this.network == "unix" {
                Box::new(tokio::net::UnixStream::connect(&this.addr).await?)
            } else {
                Box::new(tokio::net::TcpStream::connect(&this.addr).await?)
            };
            let Some(connector) = this.tls else {
                return Ok(TokioIo::new(stream));
            };
            let name = ServerName::try_from("localhost").expect("valid server name");
            let tls = connector.connect(name, stream).await?;
            let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
            if alpn.as_deref() != Some(b"h2") {
                return Err(format!("server negotiated ALPN {alpn:?}, not h2").into());
            }
            Ok(TokioIo::new(Box::new(tls) as Box<dyn IoStream>))
        })
    }
}

/// A gRPC channel over `dial` (connect timeout 10 s).
pub async fn connect(dial: Dial) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(10))
        .connect_with_connector(dial)
        .await
}

/// Connects as Terraform does after the handshake: mTLS with `cert`, pinned to the
/// server certificate the handshake announced, TLS 1.2 or 1.3, ALPN `h2`.
pub async fn channel(hs: &Handshake, cert: &ClientCert) -> anyhow::Result<Channel> {
    let server = hs
        .cert
        .as_deref()
        .ok_or_else(|| anyhow!("handshake announced no server certificate (AutoMTLS off?)"))?;
    let tls = tls_connector(server, Some(cert), rustls::DEFAULT_VERSIONS)?;
    connect(hs.dial(Some(tls)))
        .await
        .map_err(|e| anyhow!("connecting to {} {}: {e:?}", hs.network, hs.addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_handshake_lines_like_go_plugin() {
        let hs = Handshake::parse("1|6|unix|/tmp/plugin1|grpc|AQID\n").unwrap();
        assert_eq!(hs.protocol, 6);
        assert_eq!(
            (hs.network.as_str(), hs.addr.as_str()),
            ("unix", "/tmp/plugin1")
        );
        assert_eq!(hs.cert.as_deref(), Some(&[1u8, 2, 3][..]));
        let plain = Handshake::parse("1|5|tcp|127.0.0.1:10000|grpc|").unwrap();
        assert!(plain.cert.is_none());
        // Padding, another core version, netrpc and garbage are refused.
        for bad in [
            "1|6|unix|/tmp/p|grpc|AQI=",
            "2|6|unix|/tmp/p|grpc|",
            "1|6|unix|/tmp/p|netrpc|",
            "1|x|unix|/tmp/p|grpc|",
            "Provider started.",
        ] {
            assert!(Handshake::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_cert_is_terraforms_shape() {
        let cert = ClientCert::generate().unwrap();
        assert!(cert.pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let parsed =
            terraform_providers::plugin::tls::parse_client_certs(&cert.pem).expect("PEM parses");
        assert_eq!(parsed, vec![cert.der.clone()]);
        assert!(tls_connector(&cert.der, Some(&cert), rustls::DEFAULT_VERSIONS).is_ok());
    }
}
