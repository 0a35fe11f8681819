//! The README demo. Starts PostgreSQL and the Clerk and Hasura emulators on
//! free loopback ports, applies `examples/clerk-hasura` with real Terraform,
//! then proves the integration: tokens minted from Clerk's `hasura` template
//! are verified by Hasura against the JWKS URL Terraform configured, and each
//! user sees only its own row. Finally an out-of-band change is caught by the
//! CI drift check. Exits 0 only if every step held; cleans up after itself.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use clerk_emulator::{ClerkConfig, ClerkEmulator};
use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
use serde_json::{json, Value};

struct Args {
    repo: PathBuf,
    providers: PathBuf,
    terraform: PathBuf,
}

fn args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        repo: PathBuf::from("."),
        providers: PathBuf::from("target/debug"),
        terraform: PathBuf::from("terraform"),
    };
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--repo" => a.repo = v.into(),
            "--providers" => a.providers = v.into(),
            "--terraform" => a.terraform = v.into(),
            _ => bail!("unknown flag {flag} (expected --repo, --providers, --terraform)"),
        }
    }
    a.repo = a.repo.canonicalize().context("--repo")?;
    a.providers = a
        .repo
        .join(&a.providers)
        .canonicalize()
        .context("--providers: build the providers first")?;
    Ok(a)
}

fn step(msg: &str) {
    println!("==> {msg}");
}

fn ok(msg: &str) {
    println!("    ok: {msg}");
}

struct Tf<'a> {
    bin: &'a Path,
    dir: &'a Path,
    env: Vec<(String, String)>,
}

impl Tf<'_> {
    fn run(&self, args: &[&str]) -> Result<(i32, String)> {
        let out = Command::new(self.bin)
            .args(args)
            .current_dir(self.dir)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .with_context(|| format!("running {}", self.bin.display()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok((out.status.code().unwrap_or(-1), text))
    }
    fn must(&self, args: &[&str]) -> Result<String> {
        let (code, text) = self.run(args)?;
        ensure!(
            code == 0,
            "terraform {} failed (exit {code}):\n{text}",
            args.join(" ")
        );
        Ok(text)
    }
}

async fn mint(clerk: &ClerkEmulator, session: &str) -> Result<String> {
    let resp: Value = reqwest::Client::new()
        .post(format!(
            "{}/sessions/{session}/tokens/hasura",
            clerk.api_url()
        ))
        .bearer_auth(clerk.secret_key())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    resp["jwt"]
        .as_str()
        .map(str::to_string)
        .context("no jwt in token response")
}

async fn graphql(hasura: &HasuraEmulator, token: &str, query: &str) -> Result<Value> {
    Ok(reqwest::Client::new()
        .post(format!("{}/v1/graphql", hasura.endpoint()))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await?
        .json()
        .await?)
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(()) => println!("\nDemo passed: Clerk tokens drive Hasura row-level access, all configured by Terraform."),
        Err(e) => {
            eprintln!("\nDemo FAILED: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn run() -> Result<()> {
    let a = args()?;
    step("starting PostgreSQL and the Clerk and Hasura emulators on free loopback ports");
    let pg = tokio::task::spawn_blocking(TempPostgres::start).await??;
    let clerk = ClerkEmulator::start(ClerkConfig::default()).await?;
    let hasura = HasuraEmulator::start(HasuraConfig {
        restart_window: Duration::from_millis(300),
        ..HasuraConfig::new(pg.url())
    })
    .await?;
    ok(&format!(
        "PostgreSQL on port {}, Clerk at {}, Hasura at {}",
        pg.port(),
        clerk.api_url(),
        hasura.endpoint()
    ));

    let work = tempfile::Builder::new()
        .prefix("clerk-hasura-demo-")
        .tempdir()?;
    for f in ["main.tf", "blog.tf", "variables.tf", "outputs.tf"] {
        std::fs::copy(
            a.repo.join("examples/clerk-hasura").join(f),
            work.path().join(f),
        )?;
    }
    let cli = work.path().join("cli.tfrc");
    let dir = a.providers.display().to_string();
    std::fs::write(
        &cli,
        format!("provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/clerk-hasura/clerk\" = {dir:?}\n    \"registry.terraform.io/clerk-hasura/hasura\" = {dir:?}\n  }}\n  direct {{}}\n}}\n"),
    )?;
    let cfg = &hasura.config;
    let tf = Tf {
        bin: &a.terraform,
        dir: work.path(),
        env: vec![
            ("TF_CLI_CONFIG_FILE".into(), cli.display().to_string()),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
            ("TF_IN_AUTOMATION".into(), "1".into()),
            ("TF_INPUT".into(), "0".into()),
            ("CLERK_SECRET_KEY".into(), clerk.secret_key().to_string()),
            (
                "HASURA_GRAPHQL_ADMIN_SECRET".into(),
                cfg.admin_secret.clone(),
            ),
            ("HASURA_CLOUD_ACCESS_TOKEN".into(), cfg.cloud_token.clone()),
            ("TF_VAR_clerk_api_url".into(), clerk.api_url()),
            ("TF_VAR_hasura_endpoint".into(), hasura.endpoint()),
            ("TF_VAR_hasura_cloud_api_url".into(), hasura.cloud_api_url()),
            (
                "TF_VAR_hasura_cloud_project_id".into(),
                cfg.project_id.clone(),
            ),
            // Throwaway infrastructure: let the demo's own clean-up drop the table.
            ("TF_VAR_protect_tables".into(), "false".into()),
        ],
    };

    step("terraform apply of examples/clerk-hasura");
    tf.must(&["apply", "-auto-approve", "-no-color"])?;
    let state = tf.must(&["state", "list"])?;
    ok(&format!(
        "applied: {}",
        state.split_whitespace().collect::<Vec<_>>().join(", ")
    ));
    let (code, plan) = tf.run(&["plan", "-detailed-exitcode", "-no-color"])?;
    ensure!(
        code == 0,
        "a second plan should be empty, got exit {code}:\n{plan}"
    );
    ok("a second plan is empty (no perpetual diff)");

    step("minting tokens for two users from Clerk's `hasura` template");
    let alice = mint(&clerk, "sess_alice").await?;
    let bob = mint(&clerk, "sess_bob").await?;
    ok("got RS256 tokens for user_alice and user_bob");

    step("each user writes its own row through Hasura's GraphQL API");
    for (token, id, name) in [(&alice, "user_alice", "Alice"), (&bob, "user_bob", "Bob")] {
        let r = graphql(&hasura, token, &format!(r#"mutation {{ insert_users_one(object: {{id: "{id}", name: "{name}"}}) {{ id }} }}"#)).await?;
        ensure!(
            r["data"]["insert_users_one"]["id"] == id,
            "insert as {id} failed: {r}"
        );
    }
    ok("user_alice and user_bob inserted their own rows");
    let r = graphql(
        &hasura,
        &alice,
        r#"mutation { insert_users_one(object: {id: "user_bob", name: "Mallory"}) { id } }"#,
    )
    .await?;
    ensure!(
        r.get("errors").is_some(),
        "alice must not insert a row for bob: {r}"
    );
    ok("alice cannot insert a row as bob (insert check)");

    step("query { users { id name } } as each user");
    for (token, id, name) in [(&alice, "user_alice", "Alice"), (&bob, "user_bob", "Bob")] {
        let r = graphql(&hasura, token, "query { users { id name } }").await?;
        ensure!(
            r["data"]["users"] == json!([{ "id": id, "name": name }]),
            "{id} should see only its own row, got {r}"
        );
        ok(&format!("{id} sees exactly [{{id: {id}, name: {name}}}]"));
    }

    step("each user writes a post, then reads users { posts } (permissions through relationships)");
    for (token, id) in [(&alice, "user_alice"), (&bob, "user_bob")] {
        let r = graphql(&hasura, token, &format!(r#"mutation {{ insert_posts_one(object: {{author_id: "{id}", title: "Hello from {id}"}}) {{ title }} }}"#)).await?;
        ensure!(
            r["data"]["insert_posts_one"]["title"] == format!("Hello from {id}"),
            "{id} could not write its own post: {r}"
        );
    }
    let r = graphql(
        &hasura,
        &alice,
        r#"mutation { insert_posts_one(object: {author_id: "user_bob", title: "Forged"}) { title } }"#,
    )
    .await?;
    ensure!(
        r.get("errors").is_some(),
        "alice must not write a post as bob: {r}"
    );
    ok("alice cannot write a post for bob (insert check through `author`)");
    for (token, id) in [(&alice, "user_alice"), (&bob, "user_bob")] {
        let r = graphql(
            &hasura,
            token,
            "query { users { id posts { title author { id } } } }",
        )
        .await?;
        let want = json!([{ "id": id, "posts": [{ "title": format!("Hello from {id}"), "author": { "id": id } }] }]);
        ensure!(
            r["data"]["users"] == want,
            "{id} should see only its own posts through users {{ posts }}, got {r}"
        );
        ok(&format!(
            "{id} sees exactly its own post through users {{ posts {{ author }} }}"
        ));
    }

    let r = graphql(&hasura, "not-a-jwt", "query { users { id } }").await?;
    ensure!(
        r.get("errors").is_some() && r.get("data").is_none(),
        "an invalid token must be rejected: {r}"
    );
    ok("an invalid token is rejected");

    step("an out-of-band change, then the CI drift check");
    let (s, _) = metadata(&hasura, json!({"type": "pg_drop_select_permission", "args": {"source": "default", "table": {"schema": "public", "name": "users"}, "role": "user"}})).await?;
    ensure!(s == 200, "dropping the permission out of band failed");
    ok("dropped the `user` role's select permission behind Terraform's back");
    let out = Command::new("bash")
        .arg(a.repo.join("examples/ci/drift-check.sh"))
        .current_dir(work.path())
        .envs(tf.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("TERRAFORM", &a.terraform)
        .output()?;
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    ensure!(
        out.status.code() == Some(2),
        "drift check should exit 2, got {:?}:\n{report}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(
        report.contains("hasura_permission.user_select"),
        "drift report should name the permission:\n{report}"
    );
    for line in report.lines().filter(|l| !l.trim().is_empty()) {
        println!("    | {line}");
    }
    ok("drift check exited 2 and named hasura_permission.user_select");
    tf.must(&["apply", "-auto-approve", "-no-color"])?;
    let r = graphql(&hasura, &alice, "query { users { id name } }").await?;
    ensure!(
        r["data"]["users"] == json!([{ "id": "user_alice", "name": "Alice" }]),
        "after repair alice should see her row: {r}"
    );
    ok("terraform apply repaired it; alice sees her row again");

    step("cleaning up");
    tf.must(&["destroy", "-auto-approve", "-no-color"])?;
    hasura.stop().await;
    clerk.stop().await;
    drop(pg);
    ok("destroyed, emulators and PostgreSQL stopped, temp files removed");
    Ok(())
}

async fn metadata(hasura: &HasuraEmulator, body: Value) -> Result<(u16, Value)> {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/metadata", hasura.endpoint()))
        .header("x-hasura-admin-secret", &hasura.config.admin_secret)
        .json(&body)
        .send()
        .await?;
    Ok((r.status().as_u16(), r.json().await.unwrap_or(Value::Null)))
}
