//! Process entry point: the go-plugin handshake as Terraform's client expects
//! it, then gRPC serving until the client says Shutdown.
//!
//! Rules that are easy to break and silently fatal (protocol notes 1.1-1.7):
//! stdout carries exactly one line, the handshake, and nothing before it; the
//! line has exactly six fields; the certificate field is unpadded base64; TLS
//! must negotiate ALPN `h2`; SIGINT belongs to Terraform, not to us.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;

use super::catch_panic::CatchPanic;
use super::go_plugin::{Broker, Controller, Stdio};
use super::proto::go_plugin::{
    grpc_broker_server::GrpcBrokerServer, grpc_controller_server::GrpcControllerServer,
    grpc_stdio_server::GrpcStdioServer,
};
use super::proto::tfplugin6::provider_server::{Provider, ProviderServer};
use super::{logging, tls};

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The only application protocol spoken here.
pub const PROTOCOL_VERSION: u32 = 6;
/// go-plugin's core protocol version, the first handshake field.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// What terraform-plugin-go servers accept and send; schemas of large
/// providers exceed tonic's 4 MiB default.
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;
/// How long a graceful stop may wait for clients to hang up before the process
/// exits anyway; Terraform SIGKILLs 2 s after Shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(750);
/// A connection that has not finished its TLS handshake by then is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Static facts about the provider binary.
#[derive(Debug, Clone, Copy)]
pub struct ServeConfig {
    /// e.g. `terraform-provider-clerk`; used in messages and as the log `@module`.
    pub binary_name: &'static str,
    /// e.g. `registry.terraform.io/clerk-hasura/clerk`; the TF_REATTACH_PROVIDERS key.
    pub provider_address: &'static str,
}

/// Entry point for a provider binary's `main()`.
///
/// Without arguments it expects to have been launched by Terraform (magic
/// cookie, `PLUGIN_PROTOCOL_VERSIONS`, `PLUGIN_CLIENT_CERT`); with `--debug`
/// it serves plaintext and prints a `TF_REATTACH_PROVIDERS` value instead.
pub fn run<S>(cfg: ServeConfig, provider: S) -> ExitCode
where
    S: Provider,
{
    let debug = match parse_args(std::env::args().skip(1)) {
        Ok(Args::Serve { debug }) => debug,
        Ok(Args::Help) => {
            eprintln!("{}", usage(cfg.binary_name));
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("{msg}\n\n{}", usage(cfg.binary_name));
            return ExitCode::from(2);
        }
    };

    let tls_client_certs = if debug {
        None
    } else {
        if !cookie_matches(std::env::var(MAGIC_COOKIE_KEY).ok().as_deref()) {
            eprintln!("{}", not_a_command_message(cfg.binary_name));
            return ExitCode::FAILURE;
        }
        if let Err(msg) =
            negotiate_protocol(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())
        {
            eprintln!("{}: {msg}", cfg.binary_name);
            return ExitCode::FAILURE;
        }
        match std::env::var("PLUGIN_CLIENT_CERT") {
            Ok(pem) if !pem.trim().is_empty() => match tls::parse_client_certs(&pem) {
                Ok(certs) => Some(certs),
                Err(e) => {
                    eprintln!("{}: {e}", cfg.binary_name);
                    return ExitCode::FAILURE;
                }
            },
            _ => None,
        }
    };

    logging::init(cfg.binary_name);

    // One thread: a provider's RPCs wait on the network, and its CPU per plan
    // is tens of milliseconds. A worker pool (one thread per core, each with
    // its stack and malloc arena) cost 0.4-0.5 MB of RSS per process, and
    // Terraform starts a provider process several times per command.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}: cannot start the async runtime: {e}", cfg.binary_name);
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(cfg, provider, debug, tls_client_certs));
    // Leftover tasks (idle connections, the stdio stream) must not delay the exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            tracing::error!(error = %msg, "plugin server failed");
            eprintln!("{}: {msg}", cfg.binary_name);
            ExitCode::FAILURE
        }
    }
}

/// Why the plugin did not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("unknown argument {0:?}")]
    UnknownArgument(String),
    #[error(
        "this provider speaks only plugin protocol version {PROTOCOL_VERSION}, but the \
         client offered {0:?}; use Terraform 1.0 or later"
    )]
    Protocol(String),
    #[error("{0} handler: {1}")]
    Signal(&'static str, std::io::Error),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("{0}")]
    Listen(std::io::Error),
    #[error("cannot write the handshake to stdout: {0}")]
    Handshake(std::io::Error),
    #[error("gRPC server error: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Args {
    Serve { debug: bool },
    Help,
}

/// Terraform passes no arguments; `--debug` (or Go-flag style `-debug`) is
/// for a developer attaching Terraform to a provider under a debugger.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, ServeError> {
    let mut debug = false;
    for arg in args {
        match arg.as_str() {
            "--debug" | "-debug" | "--debug=true" | "-debug=true" => debug = true,
            "--debug=false" | "-debug=false" => debug = false,
            "-h" | "--help" | "-help" => return Ok(Args::Help),
            other => return Err(ServeError::UnknownArgument(other.to_string())),
        }
    }
    Ok(Args::Serve { debug })
}

fn usage(binary: &str) -> String {
    format!(
        "Usage: {binary} [--debug]\n\n\
         Terraform starts this provider itself. Run it by hand only with --debug, which serves\n\
         without TLS and prints a TF_REATTACH_PROVIDERS value to export in the shell that runs terraform."
    )
}

pub fn cookie_matches(value: Option<&str>) -> bool {
    value == Some(MAGIC_COOKIE_VALUE)
}

pub fn not_a_command_message(binary: &str) -> String {
    format!(
        "This binary is a plugin. These are not meant to be executed directly.\n\
         Please execute the program that consumes these plugins, which will\n\
         load any plugins automatically.\n\n\
         {binary} is a Terraform provider: declare it in a required_providers block and run\n\
         terraform (terraform init installs it from the registry, or point a dev_overrides\n\
         block in the CLI configuration at the directory holding this binary). To debug it,\n\
         run `{binary} --debug` and export the TF_REATTACH_PROVIDERS value it prints."
    )
}

/// The client lists the versions it speaks (in any order); we speak only 6.
/// go-plugin servers treat a missing list as "use your default".
pub fn negotiate_protocol(offered: Option<&str>) -> Result<u32, ServeError> {
    let Some(offered) = offered.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    if offered
        .split(',')
        .any(|v| v.trim().parse::<u32>() == Ok(PROTOCOL_VERSION))
    {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(ServeError::Protocol(offered.to_string()))
    }
}

/// The one stdout line, newline included. Exactly six fields: Terraform 1.0's
/// go-plugin uses `SplitN(line, "|", 6)`, so a seventh would corrupt the cert.
pub fn handshake_line(network: &str, address: &str, cert_field: &str) -> String {
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{network}|{address}|grpc|{cert_field}\n")
}

/// The value of TF_REATTACH_PROVIDERS for a provider in debug mode. `Test: true`
/// stops Terraform from sending Shutdown or killing the process after each run.
pub fn reattach_json(provider_address: &str, pid: u32, socket: &Path) -> String {
    let mut inner = serde_json::Map::new();
    inner.insert("Protocol".into(), "grpc".into());
    inner.insert("ProtocolVersion".into(), PROTOCOL_VERSION.into());
    inner.insert("Pid".into(), pid.into());
    inner.insert("Test".into(), true.into());
    let mut addr = serde_json::Map::new();
    addr.insert("Network".into(), "unix".into());
    addr.insert(
        "String".into(),
        socket.to_string_lossy().into_owned().into(),
    );
    inner.insert("Addr".into(), addr.into());
    let mut outer = serde_json::Map::new();
    outer.insert(provider_address.to_owned(), inner.into());
    serde_json::Value::Object(outer).to_string()
}

fn debug_message(provider_address: &str, socket: &Path) -> String {
    format!(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment \
         variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{}'\n",
        reattach_json(provider_address, std::process::id(), socket)
    )
}

/// Where the socket goes: `PLUGIN_UNIX_SOCKET_DIR`, else the temp dir ($TMPDIR).
pub fn socket_dir() -> PathBuf {
    match std::env::var_os("PLUGIN_UNIX_SOCKET_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => std::env::temp_dir(),
    }
}

/// Removes the socket file when serving ends, however it ends.
struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Binds `<dir>/plugin<digits>`, go-plugin's naming, retrying on collisions.
fn bind_socket(dir: &Path) -> std::io::Result<(std::os::unix::net::UnixListener, SocketFile)> {
    let mut last_err = None;
    for _ in 0..64 {
        let path = dir.join(format!("plugin{}", rand::random::<u32>()));
        match std::os::unix::net::UnixListener::bind(&path) {
            Ok(listener) => {
                listener.set_nonblocking(true)?;
                return Ok((listener, SocketFile(path)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last_err = Some(e),
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("cannot listen on {}: {e}", path.display()),
                ))
            }
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free socket name")))
}

fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

async fn serve<S: Provider>(
    cfg: ServeConfig,
    provider: S,
    debug: bool,
    client_certs: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
) -> Result<(), ServeError> {
    let token = CancellationToken::new();
    watch_signals(token.clone(), debug)?;

    let (tls_config, cert_field) = match client_certs {
        Some(certs) => {
            let identity = tls::generate_server_identity()?;
            let field = tls::handshake_cert_field(&identity.cert);
            tracing::trace!(
                client_certs = certs.len(),
                "AutoMTLS enabled, server certificate generated"
            );
            (Some(tls::server_config(identity, certs)?), field)
        }
        None => {
            tracing::trace!("serving without TLS");
            (None, String::new())
        }
    };

    let (std_listener, socket) = bind_socket(&socket_dir()).map_err(ServeError::Listen)?;
    let listener = tokio::net::UnixListener::from_std(std_listener).map_err(ServeError::Listen)?;
    let address = socket.0.to_string_lossy().into_owned();
    tracing::debug!(network = "unix", address = %address, "plugin address");

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let incoming = accept_loop(
        listener,
        tls_config.map(tokio_rustls::TlsAcceptor::from),
        token.clone(),
    );
    let provider_service = CatchPanic::new(
        ProviderServer::new(provider)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE),
    );
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller::new(token.clone())))
        .add_service(GrpcStdioServer::new(Stdio::new(token.clone())))
        .add_service(GrpcBrokerServer::new(Broker::new(token.clone())))
        .add_service(provider_service)
        .serve_with_incoming_shutdown(incoming, token.clone().cancelled_owned());

    let announcement = if debug {
        debug_message(cfg.provider_address, &socket.0)
    } else {
        handshake_line("unix", &address, &cert_field)
    };
    write_stdout(&announcement).map_err(ServeError::Handshake)?;
    tracing::debug!(
        protocol = PROTOCOL_VERSION,
        tls = !cert_field.is_empty(),
        "handshake written, serving"
    );

    let grace_expired = async {
        token.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        r = server => r?,
        () = grace_expired => tracing::debug!("clients still connected after the grace period, exiting anyway"),
    }
    tracing::debug!("plugin server stopped");
    drop(socket);
    Ok(())
}

/// SIGTERM stops serving. SIGINT is ignored unless in debug mode: a terminal
/// Ctrl-C reaches the whole process group, and Terraform answers it with
/// StopProvider and then Shutdown, which must still find us alive.
fn watch_signals(token: CancellationToken, debug: bool) -> Result<(), ServeError> {
    use tokio::signal::unix::{signal, SignalKind};
    // Registering replaces the default disposition for good, which is what
    // turns SIGINT from fatal into ignorable.
    let mut int = signal(SignalKind::interrupt()).map_err(|e| ServeError::Signal("SIGINT", e))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| ServeError::Signal("SIGTERM", e))?;
    let t = token.clone();
    tokio::spawn(async move {
        while int.recv().await.is_some() {
            if debug {
                t.cancel();
            } else {
                tracing::debug!("ignoring SIGINT; Terraform will send StopProvider and Shutdown");
            }
        }
    });
    tokio::spawn(async move {
        if term.recv().await.is_some() {
            tracing::debug!("SIGTERM received, stopping");
            token.cancel();
        }
    });
    Ok(())
}

/// Accepted connections, with TLS done off the accept loop so one slow or
/// hostile client cannot hold up the others.
fn accept_loop(
    listener: tokio::net::UnixListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    token: CancellationToken,
) -> tokio_stream::wrappers::ReceiverStream<Result<Conn, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                () = token.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Typically EMFILE: back off instead of spinning.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            match &acceptor {
                None => {
                    if tx.send(Ok(Conn::Plain(stream))).await.is_err() {
                        break;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(tls)) => {
                                let (_, session) = tls.get_ref();
                                tracing::trace!(
                                    alpn = ?session.alpn_protocol().map(String::from_utf8_lossy),
                                    version = ?session.protocol_version(),
                                    "TLS connection established"
                                );
                                let _ = tx.send(Ok(Conn::Tls(Box::new(tls)))).await;
                            }
                            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                            Err(_) => tracing::debug!("TLS handshake timed out"),
                        }
                    });
                }
            }
        }
        // Dropping the listener here closes the socket to new clients.
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// A served connection: the unix stream, wrapped in TLS under AutoMTLS.
/// (tonic implements `Connected` for tokio-rustls streams only with its own TLS
/// features, which would pull in a second TLS setup.)
pub enum Conn {
    Plain(UnixStream),
    Tls(Box<TlsStream<UnixStream>>),
}

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

/// Either kind of stream: every I/O call of a `Conn` goes to the one it holds.
trait Stream: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Stream for T {}

impl Conn {
    fn stream(&mut self) -> Pin<&mut dyn Stream> {
        match self {
            Conn::Plain(s) => Pin::new(s),
            Conn::Tls(s) => Pin::new(s.as_mut()),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.get_mut().stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.get_mut().stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.get_mut().stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.get_mut().stream().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.get_mut().stream().poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_line_has_six_fields() {
        let line = handshake_line("unix", "/tmp/plugin123", "QUJD");
        assert_eq!(line, "1|6|unix|/tmp/plugin123|grpc|QUJD\n");
        assert_eq!(line.trim_end().split('|').count(), 6);
        let plain = handshake_line("unix", "/tmp/plugin123", "");
        assert_eq!(plain, "1|6|unix|/tmp/plugin123|grpc|\n");
        assert_eq!(plain.trim_end().split('|').count(), 6);
    }

    #[test]
    fn cookie() {
        assert!(cookie_matches(Some(MAGIC_COOKIE_VALUE)));
        assert!(!cookie_matches(None));
        assert!(!cookie_matches(Some("")));
        assert!(!cookie_matches(Some(&MAGIC_COOKIE_VALUE[1..])));
        let msg = not_a_command_message("terraform-provider-x");
        assert!(msg
            .starts_with("This binary is a plugin. These are not meant to be executed directly."));
        assert!(msg.contains("--debug"));
    }

    #[test]
    fn protocol_negotiation() {
        for offered in [
            None,
            Some(""),
            Some("5,6"),
            Some("6,5"),
            Some(" 6 "),
            Some("4,x,6"),
        ] {
            assert_eq!(negotiate_protocol(offered).unwrap(), 6, "{offered:?}");
        }
        assert!(negotiate_protocol(Some("5")).is_err());
        assert!(negotiate_protocol(Some("5,7")).is_err());
        assert!(negotiate_protocol(Some("56")).is_err());
    }

    #[test]
    fn args() {
        let p = |v: &[&str]| parse_args(v.iter().map(|s| s.to_string())).unwrap();
        assert_eq!(p(&[]), Args::Serve { debug: false });
        assert_eq!(p(&["--debug"]), Args::Serve { debug: true });
        assert_eq!(p(&["-debug"]), Args::Serve { debug: true });
        assert_eq!(p(&["--help"]), Args::Help);
        let e = parse_args(["serve".to_string()]).unwrap_err();
        assert_eq!(e.to_string(), "unknown argument \"serve\"");
    }

    #[test]
    fn reattach_value() {
        let json = reattach_json(
            "registry.terraform.io/clerk-hasura/clerk",
            42,
            Path::new("/tmp/plugin7"),
        );
        assert_eq!(
            json,
            r#"{"registry.terraform.io/clerk-hasura/clerk":{"Protocol":"grpc","ProtocolVersion":6,"Pid":42,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin7"}}}"#
        );
    }

    #[test]
    fn socket_is_named_like_go_plugin_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (listener, file) = bind_socket(dir.path()).unwrap();
        let name = file.0.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with("plugin") && name[6..].chars().all(|c| c.is_ascii_digit()));
        assert!(file.0.exists());
        drop(listener);
        let path = file.0.clone();
        drop(file);
        assert!(!path.exists());
    }
}
