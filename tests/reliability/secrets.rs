//! Secrets never reach output: every scenario runs with `TF_LOG=trace` and
//! `TF_LOG_PROVIDER=trace`, all output is captured (state files aside) and searched for
//! every secret, including in failed API calls and panics. And TLS: verified for any
//! https endpoint, with no setting that turns verification off.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use emulator_common::{FaultConfig, FaultKind};
use serde_json::Value;

use crate::common::*;
use crate::support::{required_providers, TfOutput, Workdir};

struct Capture {
    outputs: Vec<(String, String)>,
}

impl Capture {
    fn add(&mut self, what: &str, out: &TfOutput) {
        self.outputs.push((what.to_string(), out.combined()));
    }
    /// Everything in the workdir but state, the lock file and the CLI config we wrote.
    fn add_files(&mut self, wd: &Workdir) {
        for e in walk(wd.path()) {
            let name = e.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.starts_with("terraform.tfstate")
                || name == "cli.tfrc"
                || name == ".terraform.lock.hcl"
                || name.ends_with(".tf")
            {
                continue;
            }
            if let Ok(text) = std::fs::read(&e) {
                self.outputs.push((
                    format!("file {}", e.display()),
                    String::from_utf8_lossy(&text).into_owned(),
                ));
            }
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if e.metadata().map(|m| m.len() < 50_000_000).unwrap_or(false) {
            out.push(p);
        }
    }
    out
}

fn traced(emus: &Emus, tf: &std::path::Path) -> Workdir {
    let mut wd = emus.workdir(tf);
    wd.env("TF_LOG", "trace");
    wd.env("TF_LOG_PROVIDER", "trace");
    wd
}

#[test]
#[ignore = "reliability suite: run by scripts/reliability.sh"]
fn no_secret_in_any_output() {
    let mut fig = Figures::new("secrets");
    for tf in cores() {
        let emus = Emus::hasura();
        let ready = hasura_resources_ready(&tf);
        let mut cap = Capture {
            outputs: Vec::new(),
        };
        let signing_key = format!("hmac-signing-key-{}", std::process::id());
        let wrong_clerk = "sk_test_wrongKEYthatIsSecret0123456789".to_string();
        let wrong_admin = "wrong-admin-secret-7f3a9c".to_string();
        let mut secrets = emus.secrets();
        secrets.push(("signing_key".into(), signing_key.clone()));
        secrets.push(("wrong clerk key".into(), wrong_clerk.clone()));
        secrets.push(("wrong admin secret".into(), wrong_admin.clone()));

        // 1. A template with a custom signing key, through a sensitive variable.
        let mut wd = traced(&emus, &tf);
        wd.env("TF_VAR_signing_key", &signing_key);
        wd.write(
            "main.tf",
            &format!(
                r#"{}
variable "signing_key" {{
  type      = string
  sensitive = true
}}
provider "clerk" {{}}
resource "clerk_jwt_template" "k" {{
  name               = "secret-test"
  claims             = jsonencode({{ role = "user" }})
  custom_signing_key = true
  signing_algorithm  = "HS256"
  signing_key        = var.signing_key
}}
"#,
                required_providers()
            ),
        );
        let out = wd.try_apply();
        if !out.success() {
            fig.fail(format!("custom-key apply failed:\n{}", tail(&out)));
        }
        cap.add("apply custom key", &out);
        cap.add("plan custom key", &wd.plan_exitcode().1);
        // 2. The same update failing on every request (API errors, retries exhausted).
        emus.set_faults(FaultConfig {
            error_rate: 1.0,
            kinds: vec![FaultKind::Status500, FaultKind::ConnectionReset],
            seed: Some(9),
            ..Default::default()
        });
        wd.write(
            "main.tf",
            &std::fs::read_to_string(wd.path().join("main.tf"))
                .unwrap()
                .replace("role = \"user\"", "role = \"admin\"")
                .replace(
                    "provider \"clerk\" {}",
                    "provider \"clerk\" {\n  max_retries = 1\n}",
                ),
        );
        let out = wd.try_apply();
        if out.success() {
            fig.fail("apply succeeded with every request failing");
        }
        cap.add("apply under total failure", &out);
        emus.clear_faults();
        let out = wd.try_destroy();
        cap.add("destroy custom key", &out);
        cap.add_files(&wd);

        // 3. A wrong Clerk key: the 401 error must not echo it.
        let mut wd = traced(&emus, &tf);
        wd.env("CLERK_SECRET_KEY", &wrong_clerk);
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"clerk\" {{}}\nresource \"clerk_jwt_template\" \"x\" {{\n  name = \"x\"\n  claims = \"{{}}\"\n}}\n",
                required_providers()
            ),
        );
        let out = wd.try_apply();
        if out.success() {
            fig.fail("apply with a wrong Clerk key succeeded");
        }
        cap.add("wrong clerk key", &out);
        cap.add_files(&wd);

        // 4. Hasura: a table through run_sql and the metadata API, then a wrong admin secret.
        if ready.iter().any(|r| r == "hasura_table") {
            let wd = traced(&emus, &tf);
            wd.write(
                "main.tf",
                &format!(
                    "{}\nprovider \"hasura\" {{}}\nresource \"hasura_table\" \"s\" {{\n  name = \"secret_t\"\n  columns = [{{ name = \"id\", type = \"integer\" }}]\n  deletion_protection = false\n}}\n",
                    required_providers()
                ),
            );
            let out = wd.try_apply();
            if !out.success() {
                fig.fail(format!("hasura table apply failed:\n{}", tail(&out)));
            }
            cap.add("hasura apply", &out);
            let out = wd.try_destroy();
            cap.add("hasura destroy", &out);
            cap.add_files(&wd);

            let mut wd = traced(&emus, &tf);
            wd.env("HASURA_GRAPHQL_ADMIN_SECRET", &wrong_admin);
            wd.write(
                "main.tf",
                &format!(
                    "{}\nprovider \"hasura\" {{}}\nresource \"hasura_table\" \"s\" {{\n  name = \"secret_u\"\n  columns = [{{ name = \"id\", type = \"integer\" }}]\n}}\n",
                    required_providers()
                ),
            );
            let out = wd.try_apply();
            if out.success() {
                fig.fail("apply with a wrong admin secret succeeded");
            }
            cap.add("wrong admin secret", &out);
            cap.add_files(&wd);
        }

        // 5. Env vars: their values are secrets too, through both resources. The
        //    applies must succeed, or the values never reached the provider and
        //    the search below would prove nothing.
        let env_value = format!("env-value-secret-{}", std::process::id());
        let set_value = format!("env-set-secret-{}", std::process::id());
        secrets.push(("env var value".into(), env_value.clone()));
        secrets.push(("env vars map value".into(), set_value.clone()));
        let wd = traced(&emus, &tf);
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"hasura\" {{}}\nresource \"hasura_env_var\" \"e\" {{\n  key   = \"SECRET_TEST\"\n  value = \"{env_value}\"\n}}\nresource \"hasura_env_vars\" \"set\" {{\n  vars = {{\n    SECRET_SET_TEST = \"{set_value}\"\n  }}\n}}\n",
                required_providers()
            ),
        );
        let out = wd.try_apply();
        if !out.success() {
            fig.fail(format!("env var apply failed: {}", tail(&out)));
        }
        cap.add("env var apply", &out);
        let (_, out) = wd.plan_exitcode();
        cap.add("env var plan", &out);
        let out = wd.try_destroy();
        if !out.success() {
            fig.fail(format!("env var destroy failed: {}", tail(&out)));
        }
        cap.add("env var destroy", &out);
        cap.add_files(&wd);

        // 6. Webhook headers of a cron trigger (sensitive `headers`), written through
        //    the metadata batcher: the value is in the request body, never in a log.
        let header_value = format!("cron-header-secret-{}", std::process::id());
        secrets.push(("cron trigger header".into(), header_value.clone()));
        let wd = traced(&emus, &tf);
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"hasura\" {{}}\nresource \"hasura_cron_trigger\" \"c\" {{\n  name     = \"secret-cron\"\n  webhook  = \"https://jobs.example.com/x\"\n  schedule = \"0 * * * *\"\n  headers  = {{ \"X-Key\" = \"{header_value}\" }}\n}}\n",
                required_providers()
            ),
        );
        let out = wd.try_apply();
        if !out.success() {
            fig.fail(format!("cron trigger apply failed: {}", tail(&out)));
        }
        cap.add("cron trigger apply", &out);
        let (_, out) = wd.plan_exitcode();
        cap.add("cron trigger plan", &out);
        let out = wd.try_destroy();
        if !out.success() {
            fig.fail(format!("cron trigger destroy failed: {}", tail(&out)));
        }
        cap.add("cron trigger destroy", &out);
        cap.add_files(&wd);

        // 7. A header an event trigger's request transform adds (sensitive
        //    `request_transform.add_headers`): in the request body, never in a log.
        let transform_value = format!("transform-header-secret-{}", std::process::id());
        secrets.push(("request transform header".into(), transform_value.clone()));
        emus.sql("CREATE TABLE IF NOT EXISTS public.secret_events (id int PRIMARY KEY)");
        emus.metadata_call(serde_json::json!({"type": "pg_track_table", "args": {"table": {"schema": "public", "name": "secret_events"}}}));
        let wd = traced(&emus, &tf);
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"hasura\" {{}}\nresource \"hasura_event_trigger\" \"e\" {{\n  table   = \"secret_events\"\n  name    = \"secret_events\"\n  insert  = true\n  webhook = \"https://hooks.example.com/e\"\n  request_transform = {{ add_headers = {{ \"X-Key\" = \"{transform_value}\" }} }}\n}}\n",
                required_providers()
            ),
        );
        let out = wd.try_apply();
        if !out.success() {
            fig.fail(format!("event trigger apply failed: {}", tail(&out)));
        }
        cap.add("event trigger apply", &out);
        let (_, out) = wd.plan_exitcode();
        cap.add("event trigger plan", &out);
        let out = wd.try_destroy();
        if !out.success() {
            fig.fail(format!("event trigger destroy failed: {}", tail(&out)));
        }
        cap.add("event trigger destroy", &out);
        cap.add_files(&wd);

        // 8. Handler headers of an action (sensitive `headers`), written through the
        //    metadata batcher after the custom types it needs.
        let action_value = format!("action-header-secret-{}", std::process::id());
        secrets.push(("action header".into(), action_value.clone()));
        let wd = traced(&emus, &tf);
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"hasura\" {{}}\nresource \"hasura_custom_types\" \"t\" {{\n  name = \"t\"\n  sdl  = \"type SecretOut {{ ok: Boolean }}\"\n}}\nresource \"hasura_action\" \"a\" {{\n  name        = \"secret_action\"\n  handler     = \"https://actions.example.com/x\"\n  output_type = \"SecretOut\"\n  headers     = {{ \"X-Key\" = \"{action_value}\" }}\n  depends_on  = [hasura_custom_types.t]\n}}\n",
                required_providers()
            ),
        );
        let out = wd.try_apply();
        if !out.success() {
            fig.fail(format!("action apply failed: {}", tail(&out)));
        }
        cap.add("action apply", &out);
        let (_, out) = wd.plan_exitcode();
        cap.add("action plan", &out);
        let out = wd.try_destroy();
        if !out.success() {
            fig.fail(format!("action destroy failed: {}", tail(&out)));
        }
        cap.add("action destroy", &out);
        cap.add_files(&wd);

        // 9. A source's `database_url` with a password (trust authentication
        //    ignores it): sent to pg_add_source, echoed by every export.
        let db_password = format!("source-db-password-{}", std::process::id());
        secrets.push(("source database_url password".into(), db_password.clone()));
        let url = emus.h().config.database_url.replacen(
            "postgres@",
            &format!("postgres:{db_password}@"),
            1,
        );
        let wd = traced(&emus, &tf);
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"hasura\" {{}}\nresource \"hasura_source\" \"s\" {{\n  name            = \"secret-source\"\n  database_url    = \"{url}\"\n  max_connections = 5\n}}\n",
                required_providers()
            ),
        );
        let out = wd.try_apply();
        if !out.success() {
            fig.fail(format!("source apply failed: {}", tail(&out)));
        }
        cap.add("source apply", &out);
        let (_, out) = wd.plan_exitcode();
        cap.add("source plan", &out);
        let out = wd.try_destroy();
        if !out.success() {
            fig.fail(format!("source destroy failed: {}", tail(&out)));
        }
        cap.add("source destroy", &out);
        cap.add_files(&wd);

        let mut bytes = 0usize;
        for (what, text) in &cap.outputs {
            bytes += text.len();
            for (label, secret) in &secrets {
                let n = text.matches(secret.as_str()).count() as u64;
                if n > 0 {
                    fig.secrets_found += n;
                    let at = text.find(secret.as_str()).unwrap();
                    let ctx: String = text[at.saturating_sub(200)..]
                        .chars()
                        .take(400)
                        .collect::<String>()
                        .replace(secret.as_str(), "<SECRET>");
                    fig.fail(format!("{label} appears {n}x in {what}; context: …{ctx}…"));
                }
            }
        }
        eprintln!(
            "[secrets] searched {} outputs, {bytes} bytes, for {} secrets",
            cap.outputs.len(),
            secrets.len()
        );
        if bytes < 100_000 {
            fig.fail(format!(
                "only {bytes} bytes captured: TF_LOG=trace output is missing"
            ));
        }
    }
    fig.finish();
}

fn tail(out: &TfOutput) -> String {
    let s = out.combined();
    let errs = errors_shown(out);
    if errs.is_empty() {
        s.chars()
            .rev()
            .take(2000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    } else {
        errs.join("\n---\n")
    }
}

/// A loopback HTTPS server whose certificate nobody trusts: the provider must refuse it
/// (and so never send the key), and neither provider offers a setting to skip the check.
#[test]
#[ignore = "reliability suite: run by scripts/reliability.sh"]
fn tls_is_verified_and_cannot_be_disabled() {
    let mut fig = Figures::new("tls");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let handshakes = Arc::new(AtomicU64::new(0));
    let attempts = Arc::new(AtomicU64::new(0));
    let port = rt.block_on(untrusted_tls_server(handshakes.clone(), attempts.clone()));
    for tf in cores() {
        let mut wd = Workdir::new(&tf);
        wd.env("CLERK_SECRET_KEY", "sk_test_tlsprobe");
        wd.env("CLERK_API_URL", &format!("https://localhost:{port}/v1"));
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"clerk\" {{\n  max_retries = 0\n}}\nresource \"clerk_jwt_template\" \"x\" {{\n  name = \"x\"\n  claims = \"{{}}\"\n}}\n",
                required_providers()
            ),
        );
        let out = wd.try_apply();
        let text = out.combined();
        if out.success() {
            fig.fail("apply against an untrusted certificate succeeded");
        } else if !(text.contains("certificate") || text.contains("UnknownIssuer")) {
            fig.fail(format!(
                "the error does not say the certificate was refused:\n{}",
                tail(&out)
            ));
        }

        // No provider setting can turn verification off.
        let wd = Workdir::new(&tf);
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"clerk\" {{}}\nprovider \"hasura\" {{}}\n",
                required_providers()
            ),
        );
        let out = wd.tf(&["providers", "schema", "-json"]);
        let v: Value = serde_json::from_str(out.stdout.trim()).unwrap_or(Value::Null);
        let mut attrs = Vec::new();
        for (_, p) in v["provider_schemas"].as_object().into_iter().flatten() {
            for (name, _) in p["provider"]["block"]["attributes"]
                .as_object()
                .into_iter()
                .flatten()
            {
                attrs.push(name.clone());
            }
        }
        if attrs.is_empty() {
            fig.fail(format!("no provider schema read:\n{}", out.combined()));
        }
        for a in &attrs {
            let l = a.to_lowercase();
            if ["insecure", "skip", "verify", "tls", "ca_", "cert"]
                .iter()
                .any(|w| l.contains(w))
            {
                fig.fail(format!("provider setting {a:?} looks like a TLS switch"));
            }
        }
        eprintln!("[tls] provider settings: {attrs:?}");
    }
    let h = handshakes.load(Ordering::SeqCst);
    let a = attempts.load(Ordering::SeqCst);
    if a == 0 {
        fig.fail("the provider never connected to the TLS server: the test proved nothing");
    }
    if h > 0 {
        fig.fail(format!(
            "{h} TLS handshake(s) with an untrusted certificate completed"
        ));
    }
    eprintln!("[tls] {a} connection(s), {h} completed handshake(s)");
    fig.finish();
}

/// Serves TLS on 127.0.0.1 with a fresh self-signed certificate for `localhost`; counts
/// connections and completed handshakes, and answers any request with a plausible body.
async fn untrusted_tls_server(handshakes: Arc<AtomicU64>, attempts: Arc<AtomicU64>) -> u16 {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            attempts.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let handshakes = handshakes.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(s).await {
                    handshakes.fetch_add(1, Ordering::SeqCst);
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let body = r#"{"id":"jtmp_x","name":"x","claims":{},"lifetime":60,"allowed_clock_skew":5,"created_at":1,"updated_at":1}"#;
                    let _ = tls
                        .write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            )
                            .as_bytes(),
                        )
                        .await;
                }
            });
        }
    });
    port
}
