//! `hasura_env_vars` driven by real Terraform against the Hasura emulator's
//! Cloud env API, on every core in TERRAFORM_BINARIES. The emulator counts
//! each accepted env mutation as one project restart (`cloud:restart`).
mod support;

use serde_json::json;
use support::hasura::Env;
use support::{assert_no_changes, for_each_terraform, required_providers, TfOutput, Workdir};

const JWK_URL: &str = "https://example.clerk.accounts.dev/.well-known/jwks.json";

/// A config with one `hasura_env_vars.all` holding `vars` (HCL map body
/// lines) and `extra` after it.
fn config(vars: &[(String, String)], attrs: &str, extra: &str) -> String {
    let mut body = String::new();
    for (k, v) in vars {
        body.push_str(&format!("    {k:?} = {v:?}\n"));
    }
    format!(
        "{}\nprovider \"hasura\" {{}}\n\nresource \"hasura_env_vars\" \"all\" {{\n  vars = {{\n{body}  }}\n{attrs}}}\n{extra}",
        required_providers()
    )
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn twenty() -> Vec<(String, String)> {
    (0..20)
        .map(|i| (format!("K{i:02}"), format!("value-{i}")))
        .collect()
}

/// Terraform wraps diagnostic text at 78 columns: compare with one space
/// for any run of whitespace.
fn flat(out: &TfOutput) -> String {
    out.combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_failed_with(out: &TfOutput, needles: &[&str]) {
    assert!(!out.success(), "expected a failure:\n{}", out.combined());
    for n in needles {
        assert!(
            flat(out).contains(n),
            "expected output to mention {n:?}:\n{}",
            out.combined()
        );
    }
}

fn apply(wd: &Workdir) -> TfOutput {
    let out = wd.tf(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]);
    out.assert_success("terraform apply");
    out
}

/// [`support::assert_changes`], with the needles looked for in stdout and stderr.
fn assert_changes(wd: &Workdir, when: &str, needles: &[&str]) -> TfOutput {
    let out = support::assert_changes(wd, when, &[]);
    for n in needles {
        assert!(
            out.combined().contains(n),
            "plan {when} should mention {n:?}:\n{}",
            out.combined()
        );
    }
    out
}

#[test]
fn twenty_keys_one_restart_then_drift_repair_and_removal() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.set_env_out_of_band(&[("UNMANAGED", "dashboard")]);
        let wd = env.workdir(tf);
        // A `hasura_env_var` applied at the same time joins the same batch.
        let single =
            "\nresource \"hasura_env_var\" \"single\" {\n  key   = \"SINGLE\"\n  value = \"one\"\n}\n";
        let all = twenty();
        wd.write("main.tf", &config(&all, "", single));
        env.reset_counters();
        apply(&wd);
        assert_eq!(
            env.writes(),
            (1, 1, 0),
            "20 keys + 1 hasura_env_var: one update, one restart: {}",
            env.emu().control.counters()
        );
        let vars = env.env_vars();
        for (k, v) in &all {
            assert_eq!(vars.get(k), Some(v), "{k}");
        }
        assert_eq!(vars["SINGLE"], "one");
        assert_eq!(vars["UNMANAGED"], "dashboard", "not exclusive: left alone");
        assert_eq!(wd.resource_values("hasura_env_vars.all")["id"], "default");
        assert_no_changes(&wd, "after creating 20 keys");

        // Drift: one value changed and one key deleted in the dashboard.
        env.set_env_out_of_band(&[("K03", "changed-out-of-band")]);
        assert_changes(
            &wd,
            "after a value changed out of band",
            &["hasura_env_vars.all"],
        );
        env.delete_env_out_of_band(&["K07"]);
        assert_changes(
            &wd,
            "after a key deleted out of band",
            &["hasura_env_vars.all"],
        );
        env.set_env_out_of_band(&[("K03", "value-3")]);
        assert_changes(&wd, "with only the deleted key", &["hasura_env_vars.all"]);
        env.set_env_out_of_band(&[("K03", "changed-out-of-band")]);
        // Refreshed state: the changed value as it is, the deleted key gone.
        wd.tf(&["apply", "-refresh-only", "-auto-approve", "-input=false"])
            .assert_success("refresh-only apply");
        let refreshed = wd.resource_values("hasura_env_vars.all")["vars"].clone();
        assert_eq!(refreshed["K03"], "changed-out-of-band");
        assert!(refreshed.get("K07").is_none(), "{refreshed}");
        assert_eq!(refreshed.as_object().unwrap().len(), 19);
        assert!(refreshed.get("UNMANAGED").is_none(), "not exclusive");
        env.reset_counters();
        apply(&wd);
        assert_eq!(
            env.writes(),
            (1, 1, 0),
            "repair: one update, one restart: {}",
            env.emu().control.counters()
        );
        let vars = env.env_vars();
        assert_eq!(vars["K03"], "value-3");
        assert_eq!(vars["K07"], "value-7");
        assert_no_changes(&wd, "after repairing drift");

        // A key removed from the config is deleted from the project; a
        // changed one is updated, both in the same apply.
        let mut fewer: Vec<(String, String)> =
            all.iter().filter(|(k, _)| k != "K19").cloned().collect();
        fewer[0].1 = "new-zero".into();
        wd.write("main.tf", &config(&fewer, "", single));
        env.reset_counters();
        apply(&wd);
        assert_eq!(
            env.writes(),
            (2, 1, 1),
            "one update and one delete: {}",
            env.emu().control.counters()
        );
        let vars = env.env_vars();
        assert!(!vars.contains_key("K19"), "{vars:?}");
        assert_eq!(vars["K00"], "new-zero");
        assert_eq!(vars["UNMANAGED"], "dashboard");
        assert_no_changes(&wd, "after removing a key");

        // Only removals: one delete, one restart.
        wd.write("main.tf", &config(&fewer[..15], "", single));
        env.reset_counters();
        apply(&wd);
        assert_eq!(env.writes(), (1, 0, 1), "{}", env.emu().control.counters());
        assert!(!env.env_vars().contains_key("K15"));
        assert_no_changes(&wd, "after removing four keys");

        // Destroy deletes the managed keys in one mutation, nothing else.
        env.reset_counters();
        wd.destroy();
        assert_eq!(env.writes(), (1, 0, 1), "{}", env.emu().control.counters());
        let vars = env.env_vars();
        assert_eq!(
            vars.keys().collect::<Vec<_>>(),
            ["UNMANAGED"],
            "only the unmanaged key survives: {vars:?}"
        );
    });
}

#[test]
fn exclusive_shows_and_removes_undeclared_keys() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.set_env_out_of_band(&[("OTHER", "dashboard"), ("A", "1")]);
        let wd = env.workdir(tf);
        let declared = pairs(&[("A", "1"), ("B", "2")]);

        // Not exclusive: OTHER is left alone and no drift shows.
        wd.write("main.tf", &config(&declared, "", ""));
        apply(&wd);
        assert_eq!(env.env_vars()["OTHER"], "dashboard");
        assert_no_changes(&wd, "when not exclusive");

        // Turning exclusive on names and deletes the undeclared key.
        wd.write("main.tf", &config(&declared, "  exclusive = true\n", ""));
        assert_changes(&wd, "when exclusive is turned on", &["exclusive", "OTHER"]);
        env.reset_counters();
        apply(&wd);
        assert_eq!(env.writes(), (1, 0, 1), "{}", env.emu().control.counters());
        assert_eq!(env.env_vars(), declared.iter().cloned().collect());
        assert_no_changes(&wd, "after taking ownership");

        // A key added outside Terraform is drift, and the next apply removes it.
        env.set_env_out_of_band(&[("STRAY", "x")]);
        assert_changes(&wd, "after a stray key appeared", &["STRAY"]);
        env.reset_counters();
        apply(&wd);
        assert_eq!(env.writes(), (1, 0, 1), "{}", env.emu().control.counters());
        assert!(!env.env_vars().contains_key("STRAY"));
        assert_no_changes(&wd, "after removing the stray key");

        // Created exclusive: every undeclared key goes in the same apply.
        wd.destroy();
        assert!(env.env_vars().is_empty());
        env.set_env_out_of_band(&[("LEFTOVER", "x"), ("B", "2")]);
        let out = wd.tf(&["plan", "-input=false"]);
        assert!(
            out.combined().contains("LEFTOVER"),
            "the create plan names the key it will delete:\n{}",
            out.combined()
        );
        env.reset_counters();
        apply(&wd);
        assert_eq!(env.writes(), (2, 1, 1), "{}", env.emu().control.counters());
        assert_eq!(env.env_vars(), declared.iter().cloned().collect());
        assert_no_changes(&wd, "after an exclusive create");
    });
}

#[test]
fn import_by_key_list_then_empty_plan() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let jwt = json!({ "jwk_url": JWK_URL }).to_string();
        env.set_env_out_of_band(&[
            ("HASURA_GRAPHQL_JWT_SECRET", &jwt),
            ("A", "1"),
            ("OTHER", "x"),
        ]);
        let declared = pairs(&[("HASURA_GRAPHQL_JWT_SECRET", &jwt), ("A", "1")]);

        // Project from the provider's cloud_project_id.
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(&declared, "", ""));
        for (id, needle) in [
            ("A,1BAD", "Invalid import id"),
            ("not-a-uuid/A", "Invalid import id"),
            ("A,NOPE", "NOPE"),
        ] {
            assert_failed_with(&wd.import("hasura_env_vars.all", id), &[needle]);
        }
        env.reset_counters();
        wd.import("hasura_env_vars.all", "HASURA_GRAPHQL_JWT_SECRET,A")
            .assert_success("import by key list");
        let state = wd.resource_values("hasura_env_vars.all");
        assert_eq!(state["id"], "default");
        assert_eq!(state["exclusive"], false);
        assert_eq!(state["vars"]["A"], "1");
        assert!(state["vars"].get("OTHER").is_none(), "{state}");
        assert_no_changes(&wd, "after importing");
        apply(&wd);
        assert_eq!(env.writes(), (0, 0, 0), "{}", env.emu().control.counters());
        assert_no_changes(&wd, "after a re-apply");

        // With an explicit project id.
        let pid = env.emu().config.project_id.clone();
        let wd2 = env.workdir(tf);
        wd2.write(
            "main.tf",
            &config(&declared, &format!("  project_id = \"{pid}\"\n"), ""),
        );
        wd2.import(
            "hasura_env_vars.all",
            &format!("{pid}/A,HASURA_GRAPHQL_JWT_SECRET"),
        )
        .assert_success("import with a project id");
        assert_eq!(
            wd2.resource_values("hasura_env_vars.all")["id"],
            pid.as_str()
        );
        assert_no_changes(&wd2, "after importing with a project id");

        // A config value that differs from the imported one is a change.
        let changed = pairs(&[("HASURA_GRAPHQL_JWT_SECRET", &jwt), ("A", "2")]);
        wd2.write(
            "main.tf",
            &config(&changed, &format!("  project_id = \"{pid}\"\n"), ""),
        );
        assert_changes(&wd2, "after changing an imported value", &["vars"]);
        env.reset_counters();
        apply(&wd2);
        assert_eq!(env.writes(), (1, 1, 0), "{}", env.emu().control.counters());
        assert_eq!(env.env_vars()["A"], "2");
        assert_eq!(env.env_vars()["OTHER"], "x");
    });
}

#[test]
fn bad_inputs_are_refused_before_anything_is_sent() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        let secret = "too-short-secret";
        let bad_jwt = json!({"type": "HS256", "key": secret}).to_string();
        for (vars, element, needle) in [
            (
                pairs(&[("OK", "1"), ("HASURA_GRAPHQL_JWT_SECRET", &bad_jwt)]),
                r#"vars["HASURA_GRAPHQL_JWT_SECRET"]"#,
                "at least 32",
            ),
            (
                pairs(&[("OK", "1"), ("1BAD", "x")]),
                r#"vars["1BAD"]"#,
                "must start with a letter",
            ),
            (
                pairs(&[("A-B", "x")]),
                r#"vars["A-B"]"#,
                "letters, digits and `_`",
            ),
        ] {
            wd.write("main.tf", &config(&vars, "", ""));
            env.reset_counters();
            for out in [wd.validate(), wd.try_apply()] {
                assert_failed_with(&out, &[element, needle]);
                let text = out.combined();
                assert!(
                    // Terraform may quote the config line; the provider never repeats the value.
                    !text
                        .lines()
                        .any(|l| l.contains(secret) && !l.contains("HASURA_GRAPHQL_JWT_SECRET\" =")),
                    "the secret leaked:\n{text}"
                );
                assert!(!text.contains("Apply complete"), "{text}");
            }
            assert_eq!(env.writes(), (0, 0, 0), "nothing may be sent");
            assert_eq!(env.ops("cloud:getTenantEnv"), 0, "not even a read");
            assert!(env.env_vars().is_empty());
        }

        // A key that exists with another value is refused, with an import hint;
        // nothing is written.
        env.set_env_out_of_band(&[("EXISTING", "old"), ("SAME", "s")]);
        env.reset_counters();
        wd.write(
            "main.tf",
            &config(
                &pairs(&[("EXISTING", "new"), ("SAME", "s"), ("NEWKEY", "v")]),
                "",
                "",
            ),
        );
        let out = wd.try_apply();
        assert_failed_with(
            &out,
            &[
                "Env var already exists",
                "The project already has EXISTING with a different value",
                "terraform import <address> EXISTING,SAME",
            ],
        );
        assert!(out.combined().contains("EXISTING"), "{}", out.combined());
        assert!(!out.combined().contains("\"old\""), "{}", out.combined());
        assert_eq!(env.writes(), (0, 0, 0), "{}", env.emu().control.counters());
        assert_eq!(
            env.env_vars(),
            pairs(&[("EXISTING", "old"), ("SAME", "s")])
                .into_iter()
                .collect()
        );
        assert!(wd.resource_addresses().is_empty());

        // The same value is adopted.
        wd.write(
            "main.tf",
            &config(
                &pairs(&[("EXISTING", "old"), ("SAME", "s"), ("NEWKEY", "v")]),
                "",
                "",
            ),
        );
        apply(&wd);
        assert_eq!(env.writes(), (1, 1, 0), "{}", env.emu().control.counters());
        assert_eq!(env.env_vars()["NEWKEY"], "v");
        assert_no_changes(&wd, "after adopting");

        // Hostile but legitimate values round-trip verbatim.
        let odd = pairs(&[
            ("EXISTING", "'; DROP TABLE users; --"),
            ("SAME", "a\"b\\c'd`e"),
            ("NEWKEY", "ünïcødé ✓ 日本語"),
            ("LINES", "line1\nline2\r\n"),
            ("PADDED", "  padded  "),
            ("EMPTY", ""),
        ]);
        wd.write("main.tf", &config(&odd, "", ""));
        env.reset_counters();
        apply(&wd);
        assert_eq!(env.writes(), (1, 1, 0), "{}", env.emu().control.counters());
        assert_eq!(env.env_vars(), odd.iter().cloned().collect());
        assert_no_changes(&wd, "after applying odd values");
    });
}
