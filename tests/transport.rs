//! The transport half of the protocol layer, exercised through the
//! `stub-provider` example binary: handshake line, cookie and protocol checks,
//! AutoMTLS with a Terraform-style P-521 client certificate, the go-plugin
//! services, signals, panics, and finally real Terraform cores.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use plugin_client::{connect, tls_connector, ClientCert, Dial, Handshake};
use terraform_providers::plugin::proto::go_plugin::{
    grpc_controller_client::GrpcControllerClient, Empty,
};
use terraform_providers::plugin::proto::tfplugin6::{
    get_provider_schema, provider_client::ProviderClient, validate_provider_config,
};
use tonic::transport::Channel;
use tonic_health::pb::{health_check_response::ServingStatus, health_client::HealthClient};

const COOKIE: &str = plugin_client::MAGIC_COOKIE;
const STUB_ADDRESS: &str = "registry.terraform.io/clerk-hasura/stub";

/// The example binary cargo builds next to this test (`target/<profile>/examples`).
fn stub_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap();
        let bin = profile_dir.join("examples").join("stub-provider");
        // A plain `cargo test` builds examples alongside this test, but
        // `cargo test --test transport` does not, which would leave a stale or
        // missing stub. Rebuilding unconditionally is no cheaper: the nested
        // cargo resolves features differently and recompiles half the tree.
        let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let newest_source = ["src", "examples", "Cargo.toml", "build.rs", "proto"]
            .iter()
            .filter_map(|p| newest_mtime(&manifest.join(p)))
            .max();
        if matches!((built, newest_source), (Some(b), Some(s)) if b >= s) {
            return bin;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--example", "stub-provider"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("running cargo to build the stub-provider example");
        assert!(status.success(), "building examples/stub-provider failed");
        assert!(bin.exists(), "{} missing after build", bin.display());
        bin
    })
}

fn newest_mtime(path: &Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    let own = meta.modified().ok();
    if !meta.is_dir() {
        return own;
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| newest_mtime(&e.path()))
        .chain(own)
        .max()
}

struct Plugin {
    child: Child,
    stdout_lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    socket_dir: tempfile::TempDir,
}

impl Plugin {
    /// Starts the stub with a clean environment plus `env`, in a private socket dir.
    fn spawn(env: &[(&str, &str)], args: &[&str]) -> Plugin {
        let mut cmd = Command::new(stub_binary());
        cmd.env_clear().envs(env.iter().copied());
        Plugin::start(cmd, args)
    }

    /// Starts the stub as Terraform launches a provider (see `plugin_client::command`),
    /// with `cert` for AutoMTLS, plus `extra` (which overrides).
    fn managed(cert: Option<&ClientCert>, extra: &[(&str, &str)]) -> Plugin {
        let mut cmd = plugin_client::command(stub_binary(), cert);
        cmd.envs(extra.iter().copied());
        Plugin::start(cmd, &[])
    }

    fn start(mut cmd: Command, args: &[&str]) -> Plugin {
        let socket_dir = tempfile::tempdir().unwrap();
        cmd.args(args)
            .env("TMPDIR", socket_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let (tx, stdout_lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Plugin {
            child,
            stdout_lines,
            stderr,
            socket_dir,
        }
    }

    fn first_line(&self) -> String {
        self.stdout_lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no handshake line; stderr:\n{}", self.stderr()))
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Everything written to stdout after the first line.
    fn rest_of_stdout(&self) -> Vec<String> {
        self.stdout_lines.try_iter().collect()
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The handshake line as `plugin_client` parses it (core version 1, gRPC, unpadded
/// base64 certificate), plus what this provider must announce: protocol 6 on a unix
/// socket named like go-plugin's, in exactly six fields.
fn parse_handshake(line: &str) -> Handshake {
    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts.len(), 6, "exactly six fields: {line:?}");
    assert_eq!(parts[0], "1");
    assert_eq!(parts[1], "6");
    assert_eq!(parts[2], "unix");
    assert_eq!(parts[4], "grpc");
    assert!(!parts[5].contains('='), "cert field must be unpadded");
    let hs = Handshake::parse(line).expect("cert field is RawStdEncoding base64");
    assert_eq!((hs.protocol, hs.network.as_str()), (6, "unix"));
    let name = Path::new(&hs.addr).file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("plugin") && name[6..].bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    hs
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const TLS13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
const TLS12: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

async fn health_check(ch: Channel) -> Result<ServingStatus, tonic::Status> {
    let resp = HealthClient::new(ch)
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await?;
    Ok(resp.into_inner().status())
}

fn assert_hclog_lines(stderr: &str) {
    let mut seen = 0;
    for line in stderr.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let ts = v["@timestamp"].as_str().unwrap();
        // 2026-11-27T04:23:30.935673Z
        assert_eq!(ts.len(), 27, "{ts}");
        assert_eq!(&ts[19..20], ".");
        assert!(ts[20..26].bytes().all(|b| b.is_ascii_digit()) && ts.ends_with('Z'));
        assert!(v["@level"].is_string() && v["@message"].is_string());
        seen += 1;
    }
    assert!(seen > 0, "expected hclog lines on stderr, got:\n{stderr}");
}

#[test]
fn rejects_launch_without_magic_cookie() {
    for env in [
        vec![],
        vec![("TF_PLUGIN_MAGIC_COOKIE", "wrong")],
        vec![("PLUGIN_PROTOCOL_VERSIONS", "6")],
    ] {
        let mut p = Plugin::spawn(&env, &[]);
        let status = p.wait_exit(Duration::from_secs(20)).expect("exits");
        assert_eq!(status.code(), Some(1));
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            p.stderr().starts_with(
                "This binary is a plugin. These are not meant to be executed directly."
            ),
            "{}",
            p.stderr()
        );
        assert!(p.rest_of_stdout().is_empty(), "stdout must stay empty");
        assert_eq!(std::fs::read_dir(p.socket_dir.path()).unwrap().count(), 0);
    }
}

#[test]
fn refuses_clients_without_protocol_6() {
    let mut p = Plugin::spawn(
        &[
            ("TF_PLUGIN_MAGIC_COOKIE", COOKIE),
            ("PLUGIN_PROTOCOL_VERSIONS", "4,5"),
        ],
        &[],
    );
    assert_eq!(
        p.wait_exit(Duration::from_secs(20)).unwrap().code(),
        Some(1)
    );
    std::thread::sleep(Duration::from_millis(50));
    assert!(p.stderr().contains("protocol version 6"), "{}", p.stderr());
    assert!(p.rest_of_stdout().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_without_client_cert() {
    // Either order of the offered versions must work (Terraform builds it from a map).
    let mut p = Plugin::managed(None, &[("PLUGIN_PROTOCOL_VERSIONS", "6,5")]);
    let line = p.first_line();
    let hs = parse_handshake(&line);
    assert!(hs.cert.is_none(), "plaintext mode leaves field 6 empty");
    let socket = PathBuf::from(&hs.addr);
    assert!(socket.starts_with(p.socket_dir.path()));
    let ch = connect(hs.dial(None)).await.unwrap();
    assert_eq!(
        health_check(ch.clone()).await.unwrap(),
        ServingStatus::Serving
    );
    let schema = ProviderClient::new(ch.clone())
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.provider.is_some());
    // Default stubs answer Unimplemented rather than hanging or crashing.
    let err = ProviderClient::new(ch.clone())
        .stop_provider(terraform_providers::plugin::proto::tfplugin6::stop_provider::Request {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);

    GrpcControllerClient::new(ch)
        .shutdown(Empty {})
        .await
        .unwrap();
    let status = tokio::task::block_in_place(|| p.wait_exit(Duration::from_secs(2)))
        .expect("exits within 2 s of Shutdown");
    assert!(status.success());
    assert!(!socket.exists(), "socket removed on exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automtls_with_terraform_style_p521_client_cert() {
    let client = ClientCert::generate().unwrap();
    let mut p = Plugin::managed(Some(&client), &[("TF_LOG", "trace")]);
    let line = p.first_line();
    let hs = parse_handshake(&line);
    let server_der = hs.cert.clone().expect("AutoMTLS sends the server cert");

    // What the Go client needs from the server certificate.
    let (_, x509) = x509_parser::parse_x509_certificate(&server_der).unwrap();
    assert!(x509.is_ca());
    let san = x509.subject_alternative_name().unwrap().unwrap();
    assert!(san.value.general_names.iter().any(|n| matches!(
        n,
        x509_parser::extensions::GeneralName::DNSName("localhost")
    )));
    let eku = x509.extended_key_usage().unwrap().unwrap();
    assert!(eku.value.server_auth && eku.value.client_auth);
    let ku = x509.key_usage().unwrap().unwrap();
    assert!(ku.value.digital_signature() && ku.value.key_cert_sign());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(x509.validity().not_before.timestamp() <= now - 25);
    assert!(x509.validity().not_after.timestamp() > now + 10 * 365 * 86400);

    // A stranger's certificate (same shape, different key) is refused.
    let other = ClientCert::generate().unwrap();
    let tls = tls_connector(&server_der, Some(&other), TLS13).unwrap();
    let stranger = async {
        let ch = connect(hs.dial(Some(tls))).await?;
        Ok::<_, BoxError>(health_check(ch).await?)
    }
    .await;
    assert!(stranger.is_err(), "foreign client cert accepted");

    // No certificate at all is refused too.
    let tls = tls_connector(&server_der, None, TLS13).unwrap();
    let anonymous = async {
        let ch = connect(hs.dial(Some(tls))).await?;
        Ok::<_, BoxError>(health_check(ch).await?)
    }
    .await;
    assert!(anonymous.is_err(), "client without cert accepted");

    // Plaintext against a TLS server fails as well.
    let plaintext = async {
        let ch = connect(hs.dial(None)).await?;
        Ok::<_, BoxError>(health_check(ch).await?)
    }
    .await;
    assert!(plaintext.is_err(), "plaintext client accepted");

    // TLS 1.2 with the pinned P-521 cert exercises the TLS 1.2 signature path.
    let tls12 = tls_connector(&server_der, Some(&client), TLS12).unwrap();
    let ch12 = connect(hs.dial(Some(tls12))).await.unwrap();
    assert_eq!(health_check(ch12).await.unwrap(), ServingStatus::Serving);

    // The real thing: TLS 1.3, Terraform's certificate, ALPN h2.
    let tls13 = tls_connector(&server_der, Some(&client), TLS13).unwrap();
    let ch = connect(hs.dial(Some(tls13))).await.unwrap();
    assert_eq!(
        health_check(ch.clone()).await.unwrap(),
        ServingStatus::Serving
    );

    // Terraform keeps these two streams open for the whole session; they must
    // not hold up Shutdown.
    let mut stdio =
        terraform_providers::plugin::proto::go_plugin::grpc_stdio_client::GrpcStdioClient::new(
            ch.clone(),
        )
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    let (broker_tx, broker_rx) = tokio::sync::mpsc::channel(1);
    let mut broker =
        terraform_providers::plugin::proto::go_plugin::grpc_broker_client::GrpcBrokerClient::new(
            ch.clone(),
        )
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(broker_rx))
        .await
        .unwrap()
        .into_inner();
    assert!(
        tokio::time::timeout(Duration::from_millis(200), stdio.message())
            .await
            .is_err(),
        "stdio stream stays open and quiet"
    );

    // SIGINT belongs to Terraform: the plugin must survive it.
    p.signal("INT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        p.child.try_wait().unwrap().is_none(),
        "SIGINT killed the plugin"
    );
    assert_eq!(
        health_check(ch.clone()).await.unwrap(),
        ServingStatus::Serving
    );

    let started = Instant::now();
    GrpcControllerClient::new(ch)
        .shutdown(Empty {})
        .await
        .unwrap();
    let status = tokio::task::block_in_place(|| p.wait_exit(Duration::from_secs(2)))
        .expect("exits within 2 s of Shutdown");
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(!Path::new(&hs.addr).exists(), "socket removed on exit");
    drop(broker_tx);
    let _ = broker.message().await;

    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        p.rest_of_stdout().is_empty(),
        "nothing after the handshake on stdout"
    );
    let stderr = p.stderr();
    assert_hclog_lines(&stderr);
    assert!(
        stderr.contains("\"@message\":\"plugin address\""),
        "{stderr}"
    );
    assert!(!stderr.contains("BEGIN"), "no PEM in logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_panic_is_an_error_not_a_crash() {
    let mut p = Plugin::managed(None, &[("STUB_PROVIDER_PANIC", "1")]);
    let hs = parse_handshake(&p.first_line());
    let ch = connect(hs.dial(None)).await.unwrap();
    let err = ProviderClient::new(ch.clone())
        .validate_provider_config(validate_provider_config::Request { config: None })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal);
    assert!(
        err.message().contains("stub provider asked to panic"),
        "{err:?}"
    );
    assert!(p.child.try_wait().unwrap().is_none());
    assert_eq!(health_check(ch).await.unwrap(), ServingStatus::Serving);
    p.signal("TERM");
    let status = tokio::task::block_in_place(|| p.wait_exit(Duration::from_secs(5)));
    assert!(status.is_some(), "SIGTERM stops the plugin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_prints_reattach_config() {
    let mut p = Plugin::spawn(&[], &["--debug"]);
    let first = p.first_line();
    assert!(first.starts_with("Provider started."), "{first}");
    let mut reattach = None;
    while let Ok(line) = p.stdout_lines.recv_timeout(Duration::from_secs(10)) {
        if let Some(v) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(v.trim_end_matches('\'').to_owned());
            break;
        }
    }
    let json: serde_json::Value = serde_json::from_str(&reattach.expect("reattach line")).unwrap();
    let entry = &json[STUB_ADDRESS];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], p.child.id());
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = PathBuf::from(entry["Addr"]["String"].as_str().unwrap());
    let ch = connect(Dial::new("unix", socket.to_str().unwrap(), None))
        .await
        .unwrap();
    assert_eq!(health_check(ch).await.unwrap(), ServingStatus::Serving);
    // In debug mode Ctrl-C is the way out.
    p.signal("INT");
    let status = tokio::task::block_in_place(|| p.wait_exit(Duration::from_secs(5)));
    assert!(status.expect("exits on SIGINT in debug mode").success());
    assert!(!socket.exists());
}

/// Terraform cores to drive: `TERRAFORM_BINARIES` (':'-separated), else
/// `terraform` on PATH, plus the cached 1.0.3 core if `scripts/setup.sh` fetched it.
fn terraform_binaries() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("TERRAFORM_BINARIES") {
        return std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    let mut found = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(tf) = std::env::split_paths(&path)
            .map(|d| d.join("terraform"))
            .find(|p| p.is_file())
        {
            found.push(tf);
        }
    }
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/terraform/1.0.3/terraform");
    if old.is_file() {
        found.push(old);
    }
    found
}

#[test]
fn real_terraform_validates_with_the_stub_over_automtls() {
    let cores = terraform_binaries();
    if cores.is_empty() {
        eprintln!("SKIP: no terraform binary found");
        return;
    }
    for tf in cores {
        let work = tempfile::tempdir().unwrap();
        let plugin_dir = work.path().join("plugins");
        std::fs::create_dir(&plugin_dir).unwrap();
        std::fs::copy(stub_binary(), plugin_dir.join("terraform-provider-stub")).unwrap();
        let cli_config = work.path().join("cli.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"{STUB_ADDRESS}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                plugin_dir.display()
            ),
        )
        .unwrap();
        let module = work.path().join("module");
        std::fs::create_dir(&module).unwrap();
        std::fs::write(
            module.join("main.tf"),
            "terraform {\n  required_providers {\n    stub = {\n      source = \"clerk-hasura/stub\"\n    }\n  }\n}\n\nprovider \"stub\" {}\n",
        )
        .unwrap();
        let log = work.path().join("tf.log");
        let started = Instant::now();
        let out = Command::new(&tf)
            .args(["validate", "-no-color"])
            .current_dir(&module)
            .env("TF_CLI_CONFIG_FILE", &cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_LOG", "trace")
            .env("TF_LOG_PATH", &log)
            .env("TMPDIR", work.path())
            .env_remove("TF_DISABLE_PLUGIN_TLS")
            .env_remove("TF_REATTACH_PROVIDERS")
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        eprintln!("{} validate took {elapsed:?}", tf.display());
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let context = || {
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            format!(
                "{} validate failed\nstdout:\n{stdout}\nstderr:\n{stderr}\nlog tail (reversed):\n{}",
                tf.display(),
                tail.join("\n")
            )
        };
        assert!(out.status.success(), "{}", context());
        assert!(
            stdout.contains("The configuration is valid"),
            "{}",
            context()
        );
        // AutoMTLS was on: Terraform passed a client cert and we answered with ours.
        assert!(log.contains("plugin address"), "{}", context());
        // Our hclog lines were parsed (a bad timestamp would show them raw).
        assert!(
            log.contains("provider.terraform-provider-stub: stub provider answering"),
            "{}",
            context()
        );
        assert!(
            !log.contains("provider.terraform-provider-stub: {\"@level\""),
            "{}",
            context()
        );
        // Shutdown was honoured: no 2-second kill.
        assert!(
            !log.contains("plugin failed to exit gracefully"),
            "{}",
            context()
        );
        assert!(elapsed < Duration::from_secs(60));
        // No socket left behind in our TMPDIR.
        let leftovers: Vec<_> = std::fs::read_dir(work.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("plugin") && n != "plugins")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
