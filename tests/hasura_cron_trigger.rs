//! `hasura_cron_trigger` on every core against the Hasura emulator: create with env-var
//! templates set by `hasura_env_var` in the same apply, the export's exact shape (the
//! schedule as Hasura rewrites it), an empty re-plan, updates in place (`replace: true`, never a delete), out-of-band change
//! and delete shown in plan, import, secrets kept out of plans, bad input refused at
//! validate and an unknown env var refused at apply with nothing written, destroy.
mod support;

use serde_json::{json, Value};
use support::hasura::Env;
use support::refusals::{hasura_refusals, resource_tf};
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

const CANARY: &str = "canary-header-secret-31f7";

fn config(cleanup_schedule: &str, cleanup_payload: &str) -> String {
    format!(
        r#"{req}
provider "hasura" {{}}

resource "hasura_env_var" "base" {{
  key   = "CRON_BASE_URL"
  value = "https://jobs.example.com"
}}

resource "hasura_env_var" "auth" {{
  key   = "CRON_AUTH"
  value = "Bearer not-in-metadata"
}}

resource "hasura_cron_trigger" "cleanup" {{
  name             = "cleanup"
  webhook          = "{{{{CRON_BASE_URL}}}}/cleanup"
  schedule         = "{cleanup_schedule}"
  payload          = {cleanup_payload}
  headers          = {{ "X-Canary" = "{CANARY}" }}
  headers_from_env = {{ Authorization = "CRON_AUTH" }}
  comment          = "purges expired sessions"
  depends_on       = [hasura_env_var.base, hasura_env_var.auth]
}}

resource "hasura_cron_trigger" "report" {{
  name     = "report"
  webhook  = "https://reports.example.com/run"
  schedule = "00  9 * * MON-FRI"
  retry_conf = {{
    num_retries = 3
  }}
}}
"#,
        req = required_providers()
    )
}

fn triggers(env: &Env) -> Vec<Value> {
    env.metadata()["cron_triggers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn trigger(env: &Env, name: &str) -> Option<Value> {
    triggers(env).into_iter().find(|t| t["name"] == name)
}

#[test]
fn lifecycle_drift_import_and_refusals() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        let payload = r#"jsonencode({ kind = "cleanup", days = 30 })"#;
        wd.write("main.tf", &config("*/15 * * * *", payload));
        let out = wd.apply();
        assert!(
            !out.combined().contains(CANARY),
            "a header value leaked into the apply output"
        );

        // The export holds exactly what Hasura would store: defaults left out, headers as given.
        assert_eq!(
            trigger(&env, "cleanup").unwrap(),
            json!({
                "name": "cleanup",
                "webhook": "{{CRON_BASE_URL}}/cleanup",
                "schedule": "*/15 * * * *",
                "include_in_metadata": true,
                "payload": {"days": 30, "kind": "cleanup"},
                "headers": [
                    {"name": "X-Canary", "value": CANARY},
                    {"name": "Authorization", "value_from_env": "CRON_AUTH"}
                ],
                "comment": "purges expired sessions"
            })
        );
        let report = trigger(&env, "report").unwrap();
        assert_eq!(report["schedule"], "0 9 * * 1-5", "{report}");
        assert_eq!(
            report["retry_conf"],
            json!({"num_retries": 3, "retry_interval_seconds": 10, "timeout_seconds": 60, "tolerance_seconds": 21600})
        );
        // Hasura stores `serializeCronSchedule`'s form; the state keeps the user's.
        assert_eq!(
            wd.resource_values("hasura_cron_trigger.report")["schedule"],
            "00  9 * * MON-FRI",
            "the user's spelling is kept in state"
        );
        assert_no_changes(&wd, "right after create");
        // The stored spelling in the configuration is no change either.
        wd.write(
            "main.tf",
            &config("*/15 * * * *", payload).replace("00  9 * * MON-FRI", "0 9 * * 1-5"),
        );
        assert_no_changes(&wd, "after respelling the schedule as Hasura stores it");
        wd.write("main.tf", &config("*/15 * * * *", payload));

        // An update is made in place: create_cron_trigger with replace, no delete.
        env.reset_counters();
        wd.write(
            "main.tf",
            &config("0 3 * * *", r#"jsonencode({ kind = "cleanup", days = 7 })"#),
        );
        assert_changes(
            &wd,
            "after changing schedule and payload",
            &["updated in-place", "0 3 * * *"],
        );
        let plan = wd.tf(&["plan", "-no-color"]).combined();
        assert!(
            !plan.contains("known after apply"),
            "an in-place update keeps the id known:\n{plan}"
        );
        wd.apply();
        assert_eq!(env.ops("metadata:delete_cron_trigger"), 0);
        let cleanup = trigger(&env, "cleanup").unwrap();
        assert_eq!(cleanup["schedule"], "0 3 * * *");
        assert_eq!(cleanup["payload"], json!({"kind": "cleanup", "days": 7}));
        assert_no_changes(&wd, "after the update");

        // Changed out of band: the plan shows the attribute and puts it back.
        env.meta(json!({"type": "create_cron_trigger", "args": {
            "name": "report", "webhook": "https://reports.example.com/run",
            "schedule": "30 9 * * 1-5", "include_in_metadata": true, "replace": true,
            "retry_conf": {"num_retries": 3}
        }}));
        assert_changes(
            &wd,
            "after an out-of-band schedule change",
            &["hasura_cron_trigger.report", "30 9 * * 1-5"],
        );
        wd.apply();
        assert_eq!(trigger(&env, "report").unwrap()["schedule"], "0 9 * * 1-5");

        // Deleted out of band: the plan creates it again.
        env.meta(json!({"type": "delete_cron_trigger", "args": {"name": "report"}}));
        assert_changes(
            &wd,
            "after an out-of-band delete",
            &["hasura_cron_trigger.report", "will be created"],
        );
        wd.apply();
        assert_no_changes(&wd, "after re-creating");

        // Import by name into a fresh state entry: an empty plan.
        wd.tf(&["state", "rm", "hasura_cron_trigger.cleanup"])
            .assert_success("state rm");
        wd.import("hasura_cron_trigger.cleanup", "cleanup")
            .assert_success("import");
        assert_no_changes(&wd, "after import");
        assert!(
            !wd.tf(&["plan", "-no-color"]).combined().contains(CANARY),
            "a header value leaked into a plan"
        );

        // A template naming an env var the engine lacks: refused at apply, nothing written.
        let mut bad = config("0 3 * * *", r#"jsonencode({ kind = "cleanup", days = 7 })"#);
        bad.push_str(
            "\nresource \"hasura_cron_trigger\" \"orphan\" {\n  name     = \"orphan\"\n  webhook  = \"{{NO_SUCH_VAR}}/x\"\n  schedule = \"* * * * *\"\n}\n",
        );
        wd.write("main.tf", &bad);
        wd.try_apply()
            .assert_failure_contains("NO_SUCH_VAR")
            .assert_failure_contains("webhook");
        assert!(trigger(&env, "orphan").is_none());

        wd.write(
            "main.tf",
            &config("0 3 * * *", r#"jsonencode({ kind = "cleanup", days = 7 })"#),
        );
        wd.destroy();
        assert!(triggers(&env).is_empty(), "{:?}", triggers(&env));
    });
}

#[test]
fn bad_input_is_refused_at_validate() {
    let cases = [
        // Hasura's cron grammar: a list cannot hold a step, a step lies in the range.
        (r#"schedule = "*/5,30 * * * *""#, "step", "schedule"),
        (r#"schedule = "*/60 * * * *""#, "minute", "schedule"),
        (r#"schedule = "* * * * 8""#, "day of week", "schedule"),
        (r#"schedule = "@annually""#, "@daily", "schedule"),
        (r#"schedule = "61 * * * *""#, "minute", "schedule"),
        (r#"webhook = "ftp://files.example.com/x""#, "webhook", "webhook"),
        (r#"webhook = "{{UNCLOSED/x""#, "webhook", "webhook"),
        (r#"payload = "{not json""#, "payload", "payload"),
        (
            r#"headers_from_env = { Authorization = "not-an-env-name" }"#,
            "headers_from_env",
            "headers_from_env",
        ),
        (
            r#"headers = { "bad header" = "x" }"#,
            "Invalid header name",
            "headers",
        ),
        (
            r#"retry_conf = { num_retries = -1 }"#,
            "num_retries",
            "retry_conf",
        ),
        // A header in both maps is a cross-attribute error.
        (
            "headers = { Authorization = \"x\" }\n  headers_from_env = { Authorization = \"AUTH\" }",
            "Header set twice",
            "headers",
        ),
    ];
    let defaults = [
        r#"name = "t""#,
        r#"webhook = "https://x.example.com""#,
        r#"schedule = "* * * * *""#,
    ];
    hasura_refusals(
        &cases,
        |lines| resource_tf("hasura_cron_trigger", "t", &defaults, lines),
        |_, _| {},
    );
}

/// Metadata answers lost after the write landed, 5xx and resets on a third of the calls:
/// creates, updates and deletes converge to exactly the configuration, with no duplicate
/// and no error, because every ambiguous write is settled by reading the export back.
#[test]
fn writes_converge_under_lost_answers_and_server_errors() {
    let many = |schedule: &str| {
        let mut s = format!("{}\nprovider \"hasura\" {{}}\n", required_providers());
        for i in 0..6 {
            s.push_str(&format!(
                "resource \"hasura_cron_trigger\" \"t{i}\" {{\n  name = \"job-{i}\"\n  webhook = \"https://jobs.example.com/{i}\"\n  schedule = \"{schedule}\"\n}}\n"
            ));
        }
        s
    };
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        wd.write("main.tf", &many("*/5 * * * *"));
        env.under_faults(7, || wd.apply());
        let names: Vec<Value> = triggers(&env).iter().map(|t| t["name"].clone()).collect();
        assert_eq!(
            names,
            (0..6)
                .map(|i| json!(format!("job-{i}")))
                .collect::<Vec<_>>()
        );
        assert_no_changes(&wd, "after creating under faults");

        wd.write("main.tf", &many("0 * * * *"));
        env.under_faults(11, || wd.apply());
        assert!(triggers(&env).iter().all(|t| t["schedule"] == "0 * * * *"));
        assert_no_changes(&wd, "after updating under faults");

        env.under_faults(13, || wd.destroy());
        assert!(triggers(&env).is_empty());
        env.assert_lost_answers_fired();
    });
}
