//! Hasura Cloud env writes under faults, through real Terraform on every core
//! in TERRAFORM_BINARIES: a stale `currentHash` (someone else changed the env
//! between the provider's read and its write), a write whose answer was lost,
//! one reset before it landed, and a project that does not come back healthy.
//! The emulator answers a stale hash with the control plane's generic error
//! (the real answer is not public: `emulators/hasura/src/cloud.rs`), so the
//! provider must settle every case by reading the env back.
mod support;

use hasura_emulator::EnvWriteFault;
use serde_json::json;
use support::hasura::Env;
use support::{assert_no_changes, for_each_terraform, required_providers, TfOutput, Workdir};

fn config(vars: &[(&str, &str)]) -> String {
    let body: String = vars
        .iter()
        .map(|(k, v)| format!("    {k:?} = {v:?}\n"))
        .collect();
    format!(
        "{}\nprovider \"hasura\" {{}}\n\nresource \"hasura_env_vars\" \"all\" {{\n  vars = {{\n{body}  }}\n}}\n",
        required_providers()
    )
}

fn apply(wd: &Workdir) -> TfOutput {
    let out = wd.tf(&["apply", "-auto-approve", "-input=false"]);
    out.assert_success("terraform apply");
    out
}

/// Terraform wraps diagnostics at 78 columns: compare with single spaces.
fn flat(out: &TfOutput) -> String {
    out.combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn vars(env: &Env) -> Vec<(String, String)> {
    env.env_vars().into_iter().collect()
}

fn owned(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_stale_hash_is_reread_and_only_the_missing_change_sent() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(&[("A", "1"), ("B", "2")]));
        // The dashboard changes the env between the provider's read and its write.
        env.emu().race_next_env_write(&[("OTHER", "dashboard")]);
        env.reset_counters();
        apply(&wd);
        assert_eq!(
            vars(&env),
            owned(&[("A", "1"), ("B", "2"), ("OTHER", "dashboard")]),
            "ours landed, theirs kept"
        );
        // The refused write, then one with the new hash; two restarts (theirs, ours).
        assert_eq!(env.writes(), (2, 2, 0), "{}", env.emu().control.counters());
        assert_no_changes(&wd, "after a write that met a stale hash");

        // The same on a delete, chained after an update in one batch.
        wd.write("main.tf", &config(&[("A", "10")]));
        env.emu().race_next_env_write(&[("OTHER", "again")]);
        env.reset_counters();
        apply(&wd);
        assert_eq!(
            vars(&env),
            owned(&[("A", "10"), ("OTHER", "again")]),
            "B deleted"
        );
        assert_no_changes(&wd, "after an update and a delete that met a stale hash");
    });
}

#[test]
fn a_lost_answer_is_settled_by_reading_the_env_back() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(&[("A", "1"), ("B", "2")]));
        // Applied, then the connection drops: the write must not be repeated.
        env.emu().fail_next_env_write(EnvWriteFault::LostAnswer);
        env.reset_counters();
        apply(&wd);
        assert_eq!(vars(&env), owned(&[("A", "1"), ("B", "2")]));
        assert_eq!(
            env.writes(),
            (1, 1, 0),
            "found landed, not sent again: {}",
            env.emu().control.counters()
        );
        assert_no_changes(&wd, "after a write whose answer was lost");

        // Update (answer lost) then delete: the read-back finds the update,
        // the delete is still sent, once.
        wd.write("main.tf", &config(&[("A", "5"), ("C", "3")]));
        env.emu().fail_next_env_write(EnvWriteFault::LostAnswer);
        env.reset_counters();
        apply(&wd);
        assert_eq!(vars(&env), owned(&[("A", "5"), ("C", "3")]));
        assert_eq!(env.writes(), (2, 1, 1), "{}", env.emu().control.counters());
        assert_no_changes(&wd, "after a batch whose first answer was lost");
    });
}

#[test]
fn a_write_reset_before_it_landed_is_sent_again() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(&[("A", "1")]));
        env.emu().fail_next_env_write(EnvWriteFault::Reset);
        env.reset_counters();
        apply(&wd);
        assert_eq!(vars(&env), owned(&[("A", "1")]));
        // The reset one never reached the store; the re-send did, once.
        assert_eq!(env.writes(), (1, 2, 0), "{}", env.emu().control.counters());
        assert_no_changes(&wd, "after a write reset before it landed");
    });
}

#[test]
fn a_project_that_does_not_come_back_healthy_is_reported() {
    for_each_terraform(|tf| {
        let env = Env::start();
        // A JWT secret the engine cannot boot with, set in the dashboard.
        env.set_env_out_of_band(&[(
            "HASURA_GRAPHQL_JWT_SECRET",
            r#"{"type":"HS256","key":"short"}"#,
        )]);
        let mut wd = env.workdir(tf);
        wd.env("HASURA_CLOUD_HEALTH_TIMEOUT", "3");
        wd.write("main.tf", &config(&[("A", "1")]));
        let out = wd.try_apply();
        assert!(!out.success(), "expected a failure:\n{}", out.combined());
        let text = flat(&out);
        for needle in [
            "the env vars were changed, but the Hasura project did not come back healthy",
            "/healthz still answered HTTP 503",
            "HASURA_GRAPHQL_JWT_SECRET",
        ] {
            assert!(
                text.contains(needle),
                "expected {needle:?} in:\n{}",
                out.combined()
            );
        }
        // The change itself was made, and is not hidden.
        assert_eq!(env.env_vars()["A"], "1");

        // Fixing the secret brings the project back; the next apply is clean.
        let fixed = json!({"type": "HS256", "key": "0123456789abcdef0123456789abcdef"});
        env.set_env_out_of_band(&[("HASURA_GRAPHQL_JWT_SECRET", &fixed.to_string())]);
        apply(&wd);
        assert_no_changes(&wd, "after the project came back");
    });
}

/// A credential-less GraphQL request: the engine's env decides the answer.
fn anonymous_error(env: &Env) -> String {
    let v = env.graphql(&[], "query { __typename }", false);
    v["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn apply_returns_once_the_rolling_restart_is_done() {
    let window = std::time::Duration::from_secs(3);
    for_each_terraform(|tf| {
        // Env changes take `window` to roll out.
        let env = Env::start_with(|cfg| cfg.restart_window = window);
        let wd = env.workdir(tf);
        let secret = json!({"type": "HS256", "key": "0123456789abcdef0123456789abcdef"});
        wd.write(
            "main.tf",
            &config(&[("HASURA_GRAPHQL_JWT_SECRET", &secret.to_string())]),
        );
        assert_eq!(
            anonymous_error(&env),
            "x-hasura-admin-secret/x-hasura-access-key required, but not found"
        );
        let started = std::time::Instant::now();
        apply(&wd);
        assert!(
            started.elapsed() >= window,
            "apply returned before the rollout could finish ({:?})",
            started.elapsed()
        );
        // The engine runs the new env: it is in JWT mode now.
        assert_eq!(
            anonymous_error(&env),
            "Missing Authorization header in JWT authentication mode"
        );
        assert_no_changes(&wd, "after the rollout");
    });
}
