//! `examples/ci/drift-check.sh` run against real Terraform and the Clerk emulator, on every
//! core in TERRAFORM_BINARIES: a clean run (exit 0), out-of-band drift (exit 2 with a
//! summary naming resources and attributes, never secret values), broken credentials
//! (exit 1 with Terraform's error) and an out-of-band delete.
mod support;

use std::path::{Path, PathBuf};

use clerk_emulator::ClerkConfig;
use serde_json::{json, Value};
use support::clerk::Env;
use support::{for_each_terraform, required_providers, TfOutput, Workdir};

const SIGNING_KEY: &str = "drift-check-hmac-signing-key-0123456789abcdef";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/drift-check.sh")
}

fn config() -> String {
    format!(
        r#"{}
provider "clerk" {{}}

resource "clerk_jwt_template" "hasura" {{
  name     = "hasura"
  claims   = jsonencode({{ "https://hasura.io/jwt/claims" = {{ "x-hasura-default-role" = "user" }} }})
  lifetime = 120
}}

resource "clerk_jwt_template" "custom" {{
  name               = "custom"
  claims             = jsonencode({{ a = 1 }})
  custom_signing_key = true
  signing_algorithm  = "HS256"
  signing_key        = "{SIGNING_KEY}"
}}
"#,
        required_providers()
    )
}

/// Runs the script; checks that no secret shows up in anything it printed.
fn drift_check(wd: &Workdir, env: &Env) -> TfOutput {
    let out = wd.run(&script(), &[]);
    eprintln!(
        "--- drift-check: exit {}\n{}{}",
        out.code, out.stdout, out.stderr
    );
    let all = out.combined();
    for secret in [env.emu().secret_key(), SIGNING_KEY] {
        assert!(
            !all.contains(secret),
            "drift-check printed a secret value:\n{all}"
        );
    }
    out
}

fn assert_exit(out: &TfOutput, code: i32, when: &str) {
    assert_eq!(
        out.code, code,
        "drift-check {when}: expected exit {code}, got {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.code, out.stdout, out.stderr
    );
}

/// The summary line for `addr` under "Planned changes".
fn planned_line<'a>(out: &'a TfOutput, addr: &str) -> &'a str {
    out.stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{addr}:")))
        .unwrap_or_else(|| panic!("no planned-change line for {addr}:\n{}", out.stdout))
}

#[test]
fn drift_check_clean_drifted_broken_deleted() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let mut wd = env.workdir(tf);
        wd.write("main.tf", &config());
        wd.apply();

        // Clean.
        let out = drift_check(&wd, &env);
        assert_exit(&out, 0, "right after apply");
        assert!(out.stdout.contains("No drift"), "{}", out.stdout);
        assert!(
            !out.stdout.contains("clerk_jwt_template"),
            "a clean run lists no resources:\n{}",
            out.stdout
        );

        // Someone changes the lifetime in the dashboard.
        let t = env.template("hasura");
        let (s, body) = env.api(
            reqwest::Method::PATCH,
            &format!("/jwt_templates/{}", t["id"].as_str().unwrap()),
            Some(json!({"name": "hasura", "claims": t["claims"], "lifetime": 999})),
        );
        assert_eq!(s, 200, "{body}");
        let out = drift_check(&wd, &env);
        assert_exit(&out, 2, "after an out-of-band lifetime edit");
        assert!(out.stdout.contains("Drift detected"), "{}", out.stdout);
        let line = planned_line(&out, "clerk_jwt_template.hasura");
        assert!(line.contains("update in place"), "{line}");
        assert!(line.contains("lifetime"), "{line}");
        assert!(
            !out.stdout.contains("999") && !out.stdout.contains("120"),
            "values must not be printed:\n{}",
            out.stdout
        );
        assert!(
            !out.stdout.contains("clerk_jwt_template.custom"),
            "the untouched template is not listed:\n{}",
            out.stdout
        );
        // Every supported core (1.0.3 and newer) reports what refresh found (resource_drift);
        // the summary of a plan without it is tested with a fake terraform below.
        assert!(
            out.stdout.contains(
                "Changed outside of Terraform (1):\n  ~ clerk_jwt_template.hasura: lifetime"
            ),
            "{}",
            out.stdout
        );
        // Nothing was applied: the drift is still there.
        assert_eq!(env.template("hasura")["lifetime"], 999);

        // Broken credentials: Terraform's error, exit 1.
        wd.env("CLERK_SECRET_KEY", "sk_test_wrong_key_for_drift_check");
        let out = drift_check(&wd, &env);
        assert_exit(&out, 1, "with a wrong CLERK_SECRET_KEY");
        assert!(
            out.stderr.contains("terraform plan failed")
                && out.stderr.contains("Error")
                && out.stderr.contains("Clerk rejected it"),
            "Terraform's error must be shown:\n{}",
            out.stderr
        );
        assert!(!out.stdout.contains("No drift"), "{}", out.stdout);
        wd.env("CLERK_SECRET_KEY", env.emu().secret_key());

        // Repair, then someone deletes the custom template.
        wd.apply();
        assert_exit(&drift_check(&wd, &env), 0, "after repairing");
        let id = env.template("custom")["id"].as_str().unwrap().to_string();
        let (s, body) = env.api(
            reqwest::Method::DELETE,
            &format!("/jwt_templates/{id}"),
            None,
        );
        assert_eq!(s, 200, "{body}");
        let out = drift_check(&wd, &env);
        assert_exit(&out, 2, "after an out-of-band delete");
        let line = planned_line(&out, "clerk_jwt_template.custom");
        assert!(line.contains("create"), "{line}");
        assert!(
            !out.stdout.contains("clerk_jwt_template.hasura"),
            "{}",
            out.stdout
        );
        wd.destroy();
    });
}

#[test]
fn drift_check_reports_terraform_config_errors() {
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        wd.write(
            "main.tf",
            &format!(
                "{}\nresource \"clerk_jwt_template\" \"x\" {{\n  nme = \"typo\"\n}}\n",
                required_providers()
            ),
        );
        let out = wd.run(&script(), &[]);
        assert_exit(&out, 1, "on an invalid configuration");
        assert!(out.stderr.contains("nme"), "{}", out.stderr);
    });
}

/// A stand-in `terraform`: `plan` exits 2, `show` prints $FAKE_PLAN_JSON (or fails when
/// $FAKE_SHOW_FAIL is set).
const FAKE_TERRAFORM: &str = r#"#!/bin/sh
case "$1" in
    plan) echo "fake plan output"; exit 2 ;;
    show) if [ -n "${FAKE_SHOW_FAIL:-}" ]; then echo "show exploded" >&2; exit 1; fi
          cat "$FAKE_PLAN_JSON"; exit 0 ;;
esac
exit 1
"#;

fn run_with_fake_terraform(plan: &Value, show_fail: bool) -> TfOutput {
    run_with_fake_terraform_in(tempfile::tempdir().unwrap(), plan, show_fail, &[])
}

fn run_with_fake_terraform_in(
    dir: tempfile::TempDir,
    plan: &Value,
    show_fail: bool,
    env: &[(&str, &std::path::Path)],
) -> TfOutput {
    use std::os::unix::fs::PermissionsExt;
    let fake = dir.path().join("terraform");
    std::fs::write(&fake, FAKE_TERRAFORM).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let json = dir.path().join("plan.json");
    std::fs::write(&json, plan.to_string()).unwrap();
    let mut cmd = std::process::Command::new(script());
    cmd.current_dir(dir.path())
        .env("TERRAFORM", &fake)
        .env("FAKE_PLAN_JSON", &json)
        .env_remove("DRIFT_SUMMARY_FILE")
        .stdin(std::process::Stdio::null());
    if show_fail {
        cmd.env("FAKE_SHOW_FAIL", "1");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    TfOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn summary_names_attributes_never_values_and_copes_without_resource_drift() {
    // No resource_drift (as from a core that does not report it), a sensitive attribute,
    // a map whose keys are data, unknowns, a replacement, a no-op, a data read, an output.
    let plan = json!({
        "format_version": "0.1",
        "resource_changes": [
            {"address": "clerk_jwt_template.a", "mode": "managed", "change": {
                "actions": ["update"],
                "before": {"name": "a", "lifetime": 60, "signing_key": "SECRET-BEFORE",
                           "tags": {"secret-map-key": "SECRET-V1"}, "same": [1, 2]},
                "after": {"name": "a", "lifetime": 61, "signing_key": "SECRET-AFTER",
                          "tags": {"secret-map-key": "SECRET-V2"}, "same": [1, 2]},
                "after_unknown": {"updated_at": true, "same": [false, false]},
                "before_sensitive": {"signing_key": true},
                "after_sensitive": {"signing_key": true, "tags": {}}}},
            {"address": "clerk_jwt_template.b", "mode": "managed",
             "action_reason": "replace_because_cannot_update", "change": {
                "actions": ["delete", "create"],
                "before": {"id": "jtmp_1", "name": "b", "x": 1},
                "after": {"name": "c", "x": 1},
                "after_unknown": {"id": true},
                "before_sensitive": {}, "after_sensitive": {},
                "replace_paths": [["name"]]}},
            {"address": "clerk_jwt_template.c", "mode": "managed", "change": {
                "actions": ["no-op"], "before": {"name": "c"}, "after": {"name": "c"}}},
            {"address": "data.clerk_jwks.k", "mode": "data", "change": {
                "actions": ["read"], "before": null, "after": {}, "after_unknown": {"keys": true}}}
        ],
        "output_changes": {
            "token": {"actions": ["update"], "before": "SECRET-OUT1", "after": "SECRET-OUT2",
                      "after_sensitive": true},
            "same": {"actions": ["no-op"], "before": 1, "after": 1}
        }
    });
    let out = run_with_fake_terraform(&plan, false);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout,
        "Drift detected: the plan is not empty.\n\
         Changed outside of Terraform: not reported by this Terraform version (see the planned changes below).\n\
         Planned changes (3):\n  \
         clerk_jwt_template.a: update in place; attributes: lifetime, signing_key (sensitive), tags, updated_at (known after apply)\n  \
         clerk_jwt_template.b: replace (destroy, then create); attributes: id (known after apply), name (forces replacement) [replace_because_cannot_update]\n  \
         data.clerk_jwks.k: read (data source)\n\
         Root outputs that would change: token\n"
    );
    for leak in ["SECRET", "secret-map-key", "60", "61", "jtmp_1"] {
        assert!(
            !out.combined().contains(leak),
            "{leak} leaked:\n{}",
            out.combined()
        );
    }

    // A plan that cannot be shown is an error, not drift.
    let out = run_with_fake_terraform(&plan, true);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("show exploded"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn report_files_show_old_and_new_values_with_secrets_masked() {
    let plan = json!({
        "format_version": "1.2",
        "resource_drift": [
            {"address": "clerk_jwt_template.a", "mode": "managed", "change": {
                "actions": ["update"],
                "before": {"name": "a", "lifetime": 60, "signing_key": "SECRET-BEFORE"},
                "after": {"name": "a", "lifetime": 999, "signing_key": "SECRET-AFTER"},
                "before_sensitive": {"signing_key": true},
                "after_sensitive": {"signing_key": true}}},
            {"address": "hasura_permission.p", "mode": "managed", "change": {
                "actions": ["delete"], "before": {"role": "user", "filter": "{}"}, "after": null}}
        ],
        "resource_changes": [
            {"address": "clerk_jwt_template.a", "mode": "managed", "change": {
                "actions": ["update"],
                "before": {"name": "a", "lifetime": 999, "signing_key": "SECRET-AFTER"},
                "after": {"name": "a", "lifetime": 60, "signing_key": "SECRET-BEFORE"},
                "after_unknown": {"updated_at": true},
                "before_sensitive": {"signing_key": true},
                "after_sensitive": {"signing_key": true}}}
        ]
    });
    let reports = tempfile::tempdir().unwrap();
    let md = reports.path().join("report.md");
    let js = reports.path().join("report.json");
    let (mdp, jsp) = (md.clone(), js.clone());
    let out = run_with_fake_terraform_in(
        tempfile::tempdir().unwrap(),
        &plan,
        false,
        &[("DRIFT_SUMMARY_FILE", &mdp), ("DRIFT_JSON_FILE", &jsp)],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        !out.stdout.contains("999"),
        "stdout stays free of values:\n{}",
        out.stdout
    );
    let md = std::fs::read_to_string(&md).unwrap();
    for row in [
        "| changed outside Terraform | `clerk_jwt_template.a` | `lifetime` | `60` | `999` |",
        "| changed outside Terraform | `clerk_jwt_template.a` | `signing_key` | `(sensitive)` | `(sensitive)` |",
        "| deleted outside Terraform | `hasura_permission.p` | `role` | `\"user\"` | — |",
        "| update in place | `clerk_jwt_template.a` | `lifetime` | `999` | `60` |",
        "| update in place | `clerk_jwt_template.a` | `updated_at` | — | `(known after apply)` |",
    ] {
        assert!(md.contains(row), "{row} not in:\n{md}");
    }
    let js: Value = serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    let lifetime = js["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "drift" && c["attribute"] == "lifetime")
        .unwrap();
    assert_eq!(
        (&lifetime["old"], &lifetime["new"]),
        (&json!(60), &json!(999))
    );
    for text in [&md, &js.to_string(), &out.combined()] {
        assert!(!text.contains("SECRET"), "a secret leaked:\n{text}");
    }
}
