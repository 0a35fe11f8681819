//! `clerk_jwt_template`, `clerk_jwks` and `clerk_jwt_template` (data) driven by
//! real Terraform against the Clerk emulator, on every core in TERRAFORM_BINARIES.
mod support;

use clerk_emulator::ClerkConfig;
use emulator_common::RateLimit;
use serde_json::json;
use support::clerk::Env;
use support::{
    assert_changes, assert_no_changes, for_each_terraform, required_providers, terraform_binaries,
    terraform_version_tuple,
};

fn hasura_template(name: &str, lifetime: Option<i64>, reorder: bool) -> String {
    let claims = if reorder {
        r#"jsonencode({
      "https://hasura.io/jwt/claims" = {
        "x-hasura-user-id"       = "{{user.id}}"
        "x-hasura-default-role"  = "user"
        "x-hasura-allowed-roles" = ["user"]
      }
    })"#
    } else {
        r#"jsonencode({
      "https://hasura.io/jwt/claims" = {
        "x-hasura-allowed-roles" = ["user"]
        "x-hasura-default-role"  = "user"
        "x-hasura-user-id"       = "{{user.id}}"
      }
    })"#
    };
    let lifetime = lifetime
        .map(|l| format!("  lifetime = {l}\n"))
        .unwrap_or_default();
    format!(
        "{}\nprovider \"clerk\" {{}}\n\nresource \"clerk_jwt_template\" \"hasura\" {{\n  name   = \"{name}\"\n  claims = {claims}\n{lifetime}}}\n",
        required_providers()
    )
}

#[test]
fn lifecycle_create_update_refresh_destroy() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        wd.write("main.tf", &hasura_template("hasura", None, false));
        wd.apply();

        let t = &env.templates()[0];
        assert_eq!(t["name"], "hasura");
        assert_eq!(t["lifetime"], 60);
        assert_eq!(
            t["claims"]["https://hasura.io/jwt/claims"]["x-hasura-user-id"],
            "{{user.id}}"
        );
        let v = wd.resource_values("clerk_jwt_template.hasura");
        assert!(v["id"].as_str().unwrap().starts_with("jtmp_"), "{v}");
        assert_eq!(v["id"], t["id"]);
        assert_eq!(v["lifetime"], 60);
        assert_eq!(v["allowed_clock_skew"], 5);
        assert_eq!(v["signing_algorithm"], "RS256");
        assert_eq!(v["created_at"], t["created_at"]);
        assert_no_changes(&wd, "right after create");

        // Reordered keys and different whitespace mean the same claims.
        wd.write("main.tf", &hasura_template("hasura", None, true));
        assert_no_changes(&wd, "after reordering claim keys");

        // In-place updates of lifetime and name keep the id.
        let id = v["id"].as_str().unwrap().to_string();
        wd.write("main.tf", &hasura_template("hasura-v2", Some(300), true));
        let plan = assert_changes(&wd, "after renaming", &["update in-place", "lifetime"]).stdout;
        assert!(
            !plan.contains("must be replaced"),
            "rename must not replace:\n{plan}"
        );
        wd.apply();
        let t = &env.templates()[0];
        assert_eq!(
            (
                t["id"].as_str().unwrap(),
                t["name"].as_str().unwrap(),
                t["lifetime"].as_i64().unwrap()
            ),
            (id.as_str(), "hasura-v2", 300)
        );
        assert_no_changes(&wd, "after update");

        // A claims change is an in-place update too.
        wd.write(
            "main.tf",
            &hasura_template("hasura-v2", Some(300), true).replace("\"user\"\n", "\"editor\"\n"),
        );
        assert_changes(&wd, "after changing claims", &["claims"]);
        wd.apply();
        assert_eq!(
            env.templates()[0]["claims"]["https://hasura.io/jwt/claims"]["x-hasura-default-role"],
            "editor"
        );
        assert_no_changes(&wd, "after claims update");

        wd.destroy();
        assert!(
            env.templates().is_empty(),
            "destroy must leave the emulator empty: {:?}",
            env.templates()
        );
    });
}

#[test]
fn drift_is_detected_and_repaired() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        wd.write("main.tf", &hasura_template("hasura", Some(120), false));
        wd.apply();
        let id = wd.resource_values("clerk_jwt_template.hasura")["id"]
            .as_str()
            .unwrap()
            .to_string();

        // Someone edits the lifetime in the dashboard.
        let (s, _) = env.api(
            reqwest::Method::PATCH,
            &format!("/jwt_templates/{id}"),
            Some(
                json!({"name": "hasura", "claims": env.templates()[0]["claims"], "lifetime": 999}),
            ),
        );
        assert_eq!(s, 200);
        let plan = assert_changes(
            &wd,
            "after an out-of-band lifetime edit",
            &["lifetime", "999", "120"],
        )
        .stdout;
        assert!(plan.contains("update in-place"), "{plan}");
        wd.apply();
        assert_eq!(env.templates()[0]["lifetime"], 120);
        assert_no_changes(&wd, "after repairing drift");

        // Someone deletes it: refresh drops it and the plan re-creates it.
        let (s, _) = env.api(
            reqwest::Method::DELETE,
            &format!("/jwt_templates/{id}"),
            None,
        );
        assert_eq!(s, 200);
        assert_changes(&wd, "after an out-of-band delete", &["will be created"]);
        wd.apply();
        assert_eq!(env.templates().len(), 1);
        assert_no_changes(&wd, "after re-creating");
        wd.destroy();
        assert!(env.templates().is_empty());
    });
}

#[test]
fn import_by_id_and_by_name() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        // Made in the dashboard, with keys in another order than jsonencode writes them.
        let (s, made) = env.api(
            reqwest::Method::POST,
            "/jwt_templates",
            Some(json!({"name": "hasura", "claims": {"https://hasura.io/jwt/claims": {"x-hasura-user-id": "{{user.id}}", "x-hasura-default-role": "user", "x-hasura-allowed-roles": ["user"]}}})),
        );
        assert_eq!(s, 200, "{made}");
        let id = made["id"].as_str().unwrap();

        for import_id in [id, "hasura"] {
            let wd = env.workdir(tf);
            wd.write("main.tf", &hasura_template("hasura", None, false));
            wd.import("clerk_jwt_template.hasura", import_id)
                .assert_success(&format!("import {import_id}"));
            assert_eq!(wd.resource_values("clerk_jwt_template.hasura")["id"], id);
            assert_no_changes(&wd, &format!("after importing by {import_id:?}"));
        }

        let wd = env.workdir(tf);
        wd.write("main.tf", &hasura_template("hasura", None, false));
        wd.import("clerk_jwt_template.hasura", "no-such-template")
            .assert_failure_contains("No JWT template has the id or name");
        assert_eq!(env.templates().len(), 1);
    });
}

#[test]
fn bad_input_fails_at_validate_with_the_attribute() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        let cases = [
            (r#"jsonencode({ sub = "x" })"#, "lifetime = 60", "\"sub\""),
            (r#"jsonencode(["a"])"#, "lifetime = 60", "JSON object"),
            (r#""{not json""#, "lifetime = 60", "not valid JSON"),
            (
                r#"jsonencode({ a = 1 })"#,
                "lifetime = 10",
                "between 30 and 315360000",
            ),
            (
                r#"jsonencode({ a = 1 })"#,
                "allowed_clock_skew = 301",
                "between 0 and 300",
            ),
            (
                r#"jsonencode({ a = 1 })"#,
                "custom_signing_key = true",
                "signing_algorithm",
            ),
        ];
        for (claims, extra, needle) in cases {
            wd.write(
                "main.tf",
                &format!("{}\nprovider \"clerk\" {{}}\nresource \"clerk_jwt_template\" \"t\" {{\n  name = \"t\"\n  claims = {claims}\n  {extra}\n}}\n", required_providers()),
            );
            let out = wd.validate();
            out.assert_failure_contains(needle);
            assert!(
                out.combined().contains("clerk_jwt_template"),
                "diagnostic must point at the resource:\n{}",
                out.combined()
            );
            wd.try_apply().assert_failure_contains(needle);
        }
        assert!(
            env.templates().is_empty(),
            "nothing may be created from bad input"
        );
    });
}

#[test]
fn data_sources_feed_hasura() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"clerk\" {{}}\n{}\ndata \"clerk_jwks\" \"this\" {{}}\ndata \"clerk_jwt_template\" \"byname\" {{\n  name = clerk_jwt_template.hasura.name\n}}\noutput \"jwk_url\" {{ value = data.clerk_jwks.this.jwks_url }}\noutput \"issuer\" {{ value = data.clerk_jwks.this.issuer }}\noutput \"kid\" {{ value = data.clerk_jwks.this.keys[0].kid }}\noutput \"same_id\" {{ value = data.clerk_jwt_template.byname.id == clerk_jwt_template.hasura.id }}\n",
                required_providers(),
                hasura_template("hasura", None, false).split("provider \"clerk\" {}").nth(1).unwrap()
            ),
        );
        wd.apply();
        assert_eq!(
            wd.output("jwk_url"),
            json!(format!(
                "{}/.well-known/jwks.json",
                env.emu().frontend_api_url()
            ))
        );
        assert_eq!(wd.output("issuer"), json!(env.emu().frontend_api_url()));
        assert!(wd.output("kid").as_str().is_some_and(|k| !k.is_empty()));
        assert_eq!(wd.output("same_id"), json!(true));

        // With a publishable key the issuer is derived offline, and must agree.
        let mut wd2 = env.workdir(tf);
        wd2.env("CLERK_PUBLISHABLE_KEY", &env.emu().publishable_key());
        wd2.write("main.tf", &format!("{}\nprovider \"clerk\" {{}}\ndata \"clerk_jwks\" \"this\" {{}}\noutput \"issuer\" {{ value = data.clerk_jwks.this.issuer }}\n", required_providers()));
        wd2.apply();
        assert_eq!(wd2.output("issuer"), json!(env.emu().frontend_api_url()));
        wd.destroy();
    });
}

#[test]
fn converges_under_rate_limit_and_never_logs_secrets() {
    for_each_terraform(|tf| {
        // Tight limit: the provider must wait out 429s (Retry-After) and still converge.
        let env = Env::start(ClerkConfig {
            rate_limit: Some(RateLimit {
                requests: 4,
                window_secs: 2,
            }),
            ..ClerkConfig::default()
        });
        let mut wd = env.workdir(tf);
        wd.env("TF_LOG", "trace");
        wd.env("TF_LOG_PROVIDER", "trace");
        let signing_key = "hmac-signing-key-do-not-log-0123456789abcdef";
        let mut hcl = String::new();
        for i in 0..6 {
            hcl.push_str(&format!(
                "resource \"clerk_jwt_template\" \"t{i}\" {{\n  name = \"t{i}\"\n  claims = jsonencode({{ n = {i} }})\n}}\n"
            ));
        }
        hcl.push_str(&format!(
            "resource \"clerk_jwt_template\" \"custom\" {{\n  name = \"custom\"\n  claims = jsonencode({{ a = 1 }})\n  custom_signing_key = true\n  signing_algorithm = \"HS256\"\n  signing_key = \"{signing_key}\"\n}}\n"
        ));
        wd.write(
            "main.tf",
            &format!("{}\nprovider \"clerk\" {{}}\n{hcl}", required_providers()),
        );
        let apply = wd.apply();
        assert_eq!(env.templates().len(), 7);
        let counters = env.emu().control.counters();
        assert!(
            counters["rate_limited"].as_u64().unwrap_or(0) > 0,
            "the scenario must actually hit the rate limit: {counters}"
        );
        // A refresh of 7 templates is one list page, not 7 GETs.
        env.emu().control.reset_counters();
        let (code, plan) = wd.plan_exitcode();
        assert_eq!(code, 0, "{}", plan.combined());
        let c = env.emu().control.counters();
        assert_eq!(
            c["requests"]["GET /v1/jwt_templates"], 1,
            "one listing per refresh: {c}"
        );
        assert!(
            c["requests"]["GET /v1/jwt_templates/{template_id}"].is_null(),
            "no per-template GETs: {c}"
        );
        let destroy = wd.destroy();
        assert!(env.templates().is_empty());
        for out in [&apply, &plan, &destroy] {
            let all = out.combined();
            assert!(all.contains("provider"), "trace logging must be on");
            assert!(
                !all.contains(env.emu().secret_key()),
                "secret key leaked into Terraform output/logs"
            );
            assert!(
                !all.contains(signing_key),
                "signing key leaked into Terraform output/logs"
            );
        }
    });
}

/// A rotated custom signing key reaches Clerk when `signing_key_version`
/// changes with it. Where `signing_key` is write-only (Terraform >= 1.11) the
/// key alone plans nothing (Terraform never sees it); older cores keep it in
/// state and plan the change by themselves.
#[test]
fn a_rotated_signing_key_is_sent_when_its_version_changes() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        let config = |key: &str, version: i64| {
            format!(
                "{}\nprovider \"clerk\" {{}}\nresource \"clerk_jwt_template\" \"custom\" {{\n  name = \"custom\"\n  claims = jsonencode({{ a = 1 }})\n  custom_signing_key = true\n  signing_algorithm = \"HS256\"\n  signing_key = \"{key}\"\n  signing_key_version = {version}\n}}\n",
                required_providers()
            )
        };
        let (first, second) = (
            "first-hmac-secret-0123456789abcdef",
            "second-hmac-secret-0123456789abcdef",
        );
        wd.write("main.tf", &config(first, 1));
        wd.apply();
        assert_eq!(
            env.emu().template_signing_key("custom").as_deref(),
            Some(first)
        );
        assert_no_changes(&wd, "after create");

        wd.write("main.tf", &config(second, 1));
        if terraform_version_tuple(tf) >= (1, 11, 0) {
            assert_no_changes(&wd, "a write-only key alone is not in the plan");
        } else {
            assert_changes(&wd, "a key kept in state", &["signing_key"]);
        }
        wd.write("main.tf", &config(second, 2));
        assert_changes(&wd, "the version bumped", &["signing_key_version"]);
        wd.apply();
        assert_eq!(
            env.emu().template_signing_key("custom").as_deref(),
            Some(second)
        );
        assert_no_changes(&wd, "after the rotation");
        let state = wd.resource_values("clerk_jwt_template.custom");
        assert_eq!(state["signing_key_version"], 2, "{state}");
        wd.destroy();
    });
}

/// State written by a core before 1.11 holds `signing_key` as an ordinary
/// attribute; Terraform 1.11 refuses a provider that hands a write-only value
/// back (upgrade or refresh). After the core is upgraded the plan is empty,
/// and the first refresh drops the key from state.
#[test]
fn state_from_an_older_core_plans_after_upgrading_to_1_11() {
    let bins = terraform_binaries();
    let old = bins
        .iter()
        .find(|b| terraform_version_tuple(b) < (1, 11, 0));
    let new = bins
        .iter()
        .find(|b| terraform_version_tuple(b) >= (1, 11, 0));
    let (Some(old), Some(new)) = (old, new) else {
        eprintln!("SKIPPED: needs a core before 1.11 and one from 1.11 on in TERRAFORM_BINARIES");
        return;
    };
    let env = Env::start(ClerkConfig::default());
    let mut wd = env.workdir(old);
    let key = "older-core-hmac-secret-0123456789abcdef";
    wd.write(
        "main.tf",
        &format!(
            "{}\nprovider \"clerk\" {{}}\nresource \"clerk_jwt_template\" \"custom\" {{\n  name = \"custom\"\n  claims = jsonencode({{ a = 1 }})\n  custom_signing_key = true\n  signing_algorithm = \"HS256\"\n  signing_key = \"{key}\"\n}}\n",
            required_providers()
        ),
    );
    wd.apply();
    assert_eq!(
        wd.resource_values("clerk_jwt_template.custom")["signing_key"],
        key
    );
    wd.set_terraform(new);
    assert_no_changes(&wd, "after upgrading the core");
    wd.tf(&["apply", "-refresh-only", "-auto-approve", "-input=false"])
        .assert_success("refresh-only apply on the new core");
    let state = std::fs::read_to_string(wd.path().join("terraform.tfstate")).unwrap();
    assert!(!state.contains(key), "the key left the state: {state}");
    assert_no_changes(&wd, "after the refresh");
    wd.destroy();
    assert!(env.templates().is_empty());
}
