//! Policy tests (issue 16): `examples/clerk-hasura/tests/policy.tftest.hcl` run with
//! `terraform test` against the Clerk and Hasura emulators after the example's own apply
//! (the seed flow). They must pass on the seed, and fail, naming the broken promise, once a
//! permission is loosened behind Terraform's back.
//!
//! `terraform test` needs its helper module installed; `terraform get` does that offline
//! (local source) while the providers keep coming from the harness's `dev_overrides`, so
//! no `terraform init` and no registry.
mod support;

use std::path::{Path, PathBuf};

use clerk_emulator::ClerkConfig;
use serde_json::json;
use support::{for_each_terraform, terraform_version_tuple, TfOutput, Workdir};

/// The example's files the policy tests need, relative to `examples/clerk-hasura`.
const FILES: &[&str] = &[
    "main.tf",
    "variables.tf",
    "outputs.tf",
    "tests/policy.tftest.hcl",
    "tests/policy/main.tf",
];

struct Scenario {
    clerk: support::clerk::Env,
    hasura: support::hasura::Env,
    wd: Workdir,
}

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clerk-hasura")
}

/// The example applied against fresh emulators, as the demo applies it: endpoints through
/// `TF_VAR_*`, secrets through the providers' environment variables.
fn seeded(tf: &Path) -> Scenario {
    let clerk = support::clerk::Env::start(ClerkConfig::default());
    let hasura = support::hasura::Env::start();
    let mut wd = hasura.workdir(tf);
    let cfg = hasura.emu().config.clone();
    wd.env("CLERK_SECRET_KEY", clerk.emu().secret_key())
        .env("TF_VAR_clerk_api_url", &clerk.emu().api_url())
        .env("TF_VAR_hasura_endpoint", &hasura.emu().endpoint())
        .env("TF_VAR_hasura_cloud_api_url", &hasura.emu().cloud_api_url())
        .env("TF_VAR_hasura_cloud_project_id", &cfg.project_id)
        .env("TF_VAR_protect_tables", "false");
    for f in FILES {
        let text = std::fs::read_to_string(example_dir().join(f))
            .unwrap_or_else(|e| panic!("read examples/clerk-hasura/{f}: {e}"));
        wd.write(f, &text);
    }
    wd.apply();
    wd.tf(&["get", "-no-color"])
        .assert_success("terraform get (installs the policy tests' helper module)");
    Scenario { clerk, hasura, wd }
}

fn policy_tests(wd: &Workdir) -> TfOutput {
    wd.tf(&["test", "-no-color"])
}

/// `terraform test` exists from 1.6 on.
fn has_terraform_test(tf: &Path) -> bool {
    let (major, minor, _) = terraform_version_tuple(tf);
    if (major, minor) < (1, 6) {
        eprintln!(
            "skipped: terraform test needs Terraform >= 1.6, this core is {}",
            support::terraform_version(tf)
        );
        return false;
    }
    true
}

#[test]
fn policy_tests_pass_on_the_seed() {
    for_each_terraform(|tf| {
        if !has_terraform_test(tf) {
            return;
        }
        let s = seeded(tf);
        let out = policy_tests(&s.wd);
        out.assert_success("terraform test on the seeded example");
        let text = out.combined();
        for run in [
            "seed_test_users",
            "user_sees_exactly_their_own_row",
            "anonymous_sees_nothing",
            "insert_for_another_user_is_refused",
        ] {
            assert!(
                text.contains(&format!("run \"{run}\"... pass")),
                "run {run} did not pass:\n{text}"
            );
        }
        // The seed really landed: the two test users' rows, nothing for the stranger.
        let rows = s.hasura.sql("SELECT id FROM public.users ORDER BY id");
        assert_eq!(
            rows["result"],
            json!([["id"], ["policy-test-alice"], ["policy-test-bob"]]),
            "{rows}"
        );
        // A second run finds the rows already there and still passes.
        policy_tests(&s.wd).assert_success("terraform test, second run");
        // The admin secret never reaches Terraform's output.
        let secret = &s.hasura.emu().config.admin_secret;
        assert!(!text.contains(secret.as_str()), "admin secret in output");
        let _ = &s.clerk;
    });
}

#[test]
fn policy_tests_fail_when_a_permission_is_loosened_out_of_band() {
    for_each_terraform(|tf| {
        if !has_terraform_test(tf) {
            return;
        }
        let s = seeded(tf);
        policy_tests(&s.wd).assert_success("terraform test before the change");
        // Someone widens the `user` select filter in the console: every row for everyone.
        s.hasura.meta(json!({"type": "bulk", "args": [
            {"type": "pg_drop_select_permission", "args": {"table": "users", "role": "user"}},
            {"type": "pg_create_select_permission", "args": {"table": "users", "role": "user",
                "permission": {"columns": ["id", "name", "last_seen"], "filter": {}}}},
        ]}));
        let out = policy_tests(&s.wd);
        assert!(
            !out.success(),
            "terraform test passed with a loosened permission:\n{}",
            out.combined()
        );
        let text = out.combined();
        eprintln!("{text}");
        assert!(
            text.contains("run \"user_sees_exactly_their_own_row\"... fail"),
            "the failing run is not named:\n{text}"
        );
        assert!(
            text.contains("The user role must see exactly its own row of `users`"),
            "the failing assertion's message is missing:\n{text}"
        );
        // The other promises still hold and are reported as such.
        assert!(
            text.contains("run \"anonymous_sees_nothing\"... pass"),
            "{text}"
        );
        assert!(
            text.contains("run \"insert_for_another_user_is_refused\"... pass"),
            "{text}"
        );

        // Each of the other assertions can fail too: anonymous gets a select permission,
        // and the insert check is dropped.
        s.hasura.meta(json!({"type": "bulk", "args": [
            {"type": "pg_create_select_permission", "args": {"table": "users", "role": "anonymous",
                "permission": {"columns": ["id"], "filter": {}}}},
            {"type": "pg_drop_insert_permission", "args": {"table": "users", "role": "user"}},
            {"type": "pg_create_insert_permission", "args": {"table": "users", "role": "user",
                "permission": {"columns": ["id", "name"], "check": {}}}},
        ]}));
        let out = policy_tests(&s.wd);
        let text = out.combined();
        eprintln!("{text}");
        assert!(!out.success(), "{text}");
        for (run, message) in [
            (
                "anonymous_sees_nothing",
                "The anonymous role must see no rows of `users`",
            ),
            (
                "insert_for_another_user_is_refused",
                "Inserting a row for another user must be refused",
            ),
        ] {
            assert!(
                text.contains(&format!("run \"{run}\"... fail")) && text.contains(message),
                "run {run} should fail with its message:\n{text}"
            );
        }
        let _ = &s.clerk;
    });
}
