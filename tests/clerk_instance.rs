//! The instance-level Clerk resources driven by real Terraform against the
//! Clerk emulator, on every core in TERRAFORM_BINARIES: the singletons
//! (`clerk_instance_settings`, `clerk_instance_restrictions`,
//! `clerk_organization_settings`) with the `clerk_instance` data source, and
//! the allow/block-list identifiers. Create, empty re-plan, update, import,
//! changes made out of band (shown where the API can read them, and not
//! claimed where it cannot), unset attributes left as they are, destroy
//! (singletons leave the instance as it is).
mod support;

use clerk_emulator::ClerkConfig;
use reqwest::Method;
use serde_json::{json, Value};
use support::clerk::Env;
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

/// Every setting, including those the API never reads back (test-only route).
fn hidden(env: &Env) -> Value {
    let url = format!("{}/__emulator/instance", env.emu().frontend_api_url());
    env.rt.block_on(async move {
        reqwest::get(url)
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    })
}

fn org_settings(env: &Env) -> Value {
    let (s, o) = env.api(Method::GET, "/instance/organization_settings", None);
    assert_eq!(s, 200, "{o}");
    o
}

struct Singletons<'a> {
    settings: &'a str,
    restrictions: &'a str,
    orgs: &'a str,
}

fn singletons(s: &Singletons) -> String {
    format!(
        r#"{}
provider "clerk" {{}}

resource "clerk_instance_settings" "this" {{
{}
}}

resource "clerk_instance_restrictions" "this" {{
{}
}}

resource "clerk_organization_settings" "this" {{
{}
}}

data "clerk_instance" "this" {{}}

output "instance_id" {{
  value = data.clerk_instance.this.id
}}
"#,
        required_providers(),
        s.settings,
        s.restrictions,
        s.orgs
    )
}

const SETTINGS_1: &str = r#"  allowed_origins = ["capacitor://localhost", "http://localhost:3000"]
  hibp            = false
  test_mode       = false
  support_email   = "help@example.com"
  url_based_session_syncing = true"#;

const RESTRICTIONS_1: &str = r#"  allowlist                = true
  block_email_subaddresses = true"#;

const ORGS_1: &str = r#"  enabled                  = true
  max_allowed_memberships  = 20
  domains_enabled          = true
  domains_enrollment_modes = ["automatic_invitation"]"#;

#[test]
fn singletons_lifecycle_drift_import_and_destroy() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        wd.write(
            "main.tf",
            &singletons(&Singletons {
                settings: SETTINGS_1,
                restrictions: RESTRICTIONS_1,
                orgs: ORGS_1,
            }),
        );
        wd.apply();
        let h = hidden(&env);
        assert_eq!(
            h["instance"]["allowed_origins"],
            json!(["capacitor://localhost", "http://localhost:3000"]),
            "{h}"
        );
        assert_eq!(h["instance"]["hibp"], false, "{h}");
        assert_eq!(h["instance"]["test_mode"], false, "{h}");
        assert_eq!(h["instance"]["support_email"], "help@example.com", "{h}");
        // Unset settings are left as they were (a fresh development instance's).
        assert_eq!(h["instance"]["clerk_js_version"], Value::Null, "{h}");
        assert_eq!(h["restrictions"]["allowlist"], true, "{h}");
        assert_eq!(h["restrictions"]["block_email_subaddresses"], true, "{h}");
        assert_eq!(h["restrictions"]["blocklist"], false, "{h}");
        let o = org_settings(&env);
        assert_eq!(o["enabled"], true);
        assert_eq!(o["max_allowed_memberships"], 20);
        assert_eq!(
            o["domains_enrollment_modes"],
            json!(["automatic_invitation"])
        );
        // Unset attributes record what the API reports.
        let r = wd.resource_values("clerk_instance_restrictions.this");
        assert_eq!(r["blocklist"], false, "{r}");
        assert_eq!(r["id"], "instance", "{r}");
        let os = wd.resource_values("clerk_organization_settings.this");
        assert_eq!(os["creator_role"], "org:admin", "{os}");
        assert_eq!(os["admin_delete_enabled"], true, "{os}");
        let s = wd.resource_values("clerk_instance_settings.this");
        assert_eq!(s["id"], env.emu().instance_id(), "{s}");
        assert_eq!(wd.output("instance_id"), json!(env.emu().instance_id()));
        assert_no_changes(&wd, "right after create");

        // Update in place; `support_email` is dropped from the configuration
        // and so left as it is remotely.
        let settings_2 = r#"  allowed_origins = ["capacitor://localhost"]
  hibp            = true
  test_mode       = false
  url_based_session_syncing = true"#;
        let restrictions_2 = r#"  allowlist                = true
  blocklist                = true
  block_email_subaddresses = false"#;
        let orgs_2 = r#"  enabled                  = true
  max_allowed_memberships  = 50
  domains_enabled          = true
  domains_enrollment_modes = ["automatic_invitation", "automatic_suggestion"]"#;
        let cfg2 = singletons(&Singletons {
            settings: settings_2,
            restrictions: restrictions_2,
            orgs: orgs_2,
        });
        wd.write("main.tf", &cfg2);
        assert_changes(
            &wd,
            "after editing",
            &[
                "updated in-place",
                "hibp",
                "blocklist",
                "max_allowed_memberships",
            ],
        );
        wd.apply();
        let h = hidden(&env);
        assert_eq!(
            h["instance"]["allowed_origins"],
            json!(["capacitor://localhost"])
        );
        assert_eq!(h["instance"]["hibp"], true);
        assert_eq!(
            h["instance"]["support_email"], "help@example.com",
            "an unset attribute is not reset: {h}"
        );
        assert_eq!(h["restrictions"]["blocklist"], true);
        assert_eq!(h["restrictions"]["block_email_subaddresses"], false);
        assert_eq!(org_settings(&env)["max_allowed_memberships"], 50);
        assert_no_changes(&wd, "after the update");

        // Out of band: what the API reads back shows in the plan...
        let (s, b) = env.api(
            Method::PATCH,
            "/instance",
            Some(json!({"allowed_origins": ["https://evil.example.com"], "hibp": false})),
        );
        assert_eq!(s, 204, "{b}");
        let (s, b) = env.api(
            Method::PATCH,
            "/instance/organization_settings",
            Some(json!({"max_allowed_memberships": 7})),
        );
        assert_eq!(s, 200, "{b}");
        let out = assert_changes(
            &wd,
            "after out-of-band changes",
            &["evil.example.com", "max_allowed_memberships", "7 -> 50"],
        );
        // ...what it cannot read (hibp) is not claimed as drift.
        assert!(!out.stdout.contains("hibp"), "{}", out.stdout);
        wd.apply();
        assert_eq!(
            hidden(&env)["instance"]["allowed_origins"],
            json!(["capacitor://localhost"])
        );
        assert_eq!(org_settings(&env)["max_allowed_memberships"], 50);
        // The restrictions have no read at all: a change made elsewhere is
        // not seen, as documented.
        let (s, _) = env.api(
            Method::PATCH,
            "/instance/restrictions",
            Some(json!({"blocklist": false})),
        );
        assert_eq!(s, 200);
        assert_no_changes(&wd, "after an out-of-band restrictions change (unreadable)");

        // Import with `instance` into a fresh state.
        let wd2 = env.workdir(tf);
        wd2.write("main.tf", &cfg2);
        for addr in [
            "clerk_instance_settings.this",
            "clerk_instance_restrictions.this",
            "clerk_organization_settings.this",
        ] {
            wd2.import(addr, "instance").assert_success("import");
        }
        let r = wd2.resource_values("clerk_instance_restrictions.this");
        assert_eq!(
            r["blocklist"], false,
            "import reports the current value: {r}"
        );
        let os = wd2.resource_values("clerk_organization_settings.this");
        assert_eq!(os["max_allowed_memberships"], 50, "{os}");
        // What the API cannot report is written by the next apply: only
        // those (and the restriction changed above) are in the plan.
        let out = assert_changes(&wd2, "after import", &["hibp", "test_mode", "blocklist"]);
        assert!(!out.stdout.contains("allowed_origins"), "{}", out.stdout);
        assert!(
            !out.stdout.contains("max_allowed_memberships"),
            "{}",
            out.stdout
        );
        wd2.apply();
        assert_eq!(hidden(&env)["restrictions"]["blocklist"], true);
        assert_no_changes(&wd2, "after applying the imported singletons");
        let wd3 = env.workdir(tf);
        wd3.write("main.tf", &cfg2);
        wd3.import("clerk_instance_restrictions.this", "ins_other")
            .assert_failure_contains("imported with the id `instance`");
        // The settings also take the instance's own id.
        wd3.import("clerk_instance_settings.this", env.emu().instance_id())
            .assert_success("import by instance id");
        assert_eq!(
            wd3.resource_values("clerk_instance_settings.this")["allowed_origins"],
            json!(["capacitor://localhost"])
        );

        // An unset restriction is never sent: a change made elsewhere (which
        // the API gives no way to see) survives an apply of other changes.
        let (s, _) = env.api(
            Method::PATCH,
            "/instance/restrictions",
            Some(json!({"allowlist_blocklist_disabled_on_sign_in": true})),
        );
        assert_eq!(s, 200);
        let restrictions_3 = format!("{restrictions_2}\n  block_disposable_email_domains = true");
        wd.write(
            "main.tf",
            &singletons(&Singletons {
                settings: settings_2,
                restrictions: &restrictions_3,
                orgs: orgs_2,
            }),
        );
        wd.apply();
        let h = hidden(&env);
        assert_eq!(
            h["restrictions"]["block_disposable_email_domains"], true,
            "{h}"
        );
        assert_eq!(
            h["restrictions"]["allowlist_blocklist_disabled_on_sign_in"], true,
            "an unset restriction was reset: {h}"
        );
        let r = wd.resource_values("clerk_instance_restrictions.this");
        assert_eq!(r["allowlist_blocklist_disabled_on_sign_in"], true, "{r}");
        assert_no_changes(&wd, "after changing the restrictions again");

        // Destroy forgets the singletons and leaves the instance as it is.
        let before = (hidden(&env), org_settings(&env));
        wd2.destroy();
        wd.destroy();
        assert_eq!((hidden(&env), org_settings(&env)), before);
    });
}

fn identifiers(allow: &[(&str, &str, Option<bool>)], block: &[(&str, &str)]) -> String {
    let mut s = format!("{}\nprovider \"clerk\" {{}}\n", required_providers());
    for (name, id, notify) in allow {
        let notify = notify.map_or(String::new(), |n| format!("  notify     = {n}\n"));
        s.push_str(&format!(
            "\nresource \"clerk_allowlist_identifier\" \"{name}\" {{\n  identifier = \"{id}\"\n{notify}}}\n"
        ));
    }
    for (name, id) in block {
        s.push_str(&format!(
            "\nresource \"clerk_blocklist_identifier\" \"{name}\" {{\n  identifier = \"{id}\"\n}}\n"
        ));
    }
    s
}

fn listed(env: &Env, list: &str) -> Vec<String> {
    let (s, body) = env.api(
        Method::GET,
        &format!("/{list}_identifiers?paginated=true&limit=500"),
        None,
    );
    assert_eq!(s, 200, "{body}");
    let mut v: Vec<String> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["identifier"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

const WALLET: &str = "0x52908400098527886E0F7030069857D2E4169EE7";

#[test]
fn identifiers_lifecycle_replace_import_and_drift() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        let alice = ("alice", "alice@example.com", Some(true));
        let phone = ("phone", "+15555550100", None);
        let spam = ("spam", "*@spam.example");
        let wallet = ("wallet", WALLET);
        wd.write("main.tf", &identifiers(&[alice, phone], &[spam, wallet]));
        wd.apply();
        assert_eq!(
            listed(&env, "allowlist"),
            ["+15555550100", "alice@example.com"]
        );
        assert_eq!(listed(&env, "blocklist"), ["*@spam.example", WALLET]);
        let a = wd.resource_values("clerk_allowlist_identifier.alice");
        assert!(a["id"].as_str().unwrap().starts_with("alid_"), "{a}");
        assert_eq!(a["identifier_type"], "email_address");
        assert!(
            a["invitation_id"].as_str().unwrap().starts_with("inv_"),
            "{a}"
        );
        let w = wd.resource_values("clerk_blocklist_identifier.wallet");
        assert_eq!(w["identifier_type"], "web3_wallet", "{w}");
        assert_no_changes(&wd, "right after create");

        // No update operation: a new identifier replaces the entry.
        let bob = ("alice", "bob@example.com", Some(true));
        wd.write("main.tf", &identifiers(&[bob, phone], &[spam, wallet]));
        assert_changes(&wd, "after changing identifier", &["must be replaced"]);
        wd.apply();
        assert_eq!(
            listed(&env, "allowlist"),
            ["+15555550100", "bob@example.com"]
        );
        assert_no_changes(&wd, "after the replacement");

        // Deleted out of band: the plan adds it again.
        let id = wd.resource_values("clerk_blocklist_identifier.spam")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (s, b) = env.api(
            Method::DELETE,
            &format!("/blocklist_identifiers/{id}"),
            None,
        );
        assert_eq!(s, 200, "{b}");
        assert_changes(
            &wd,
            "after an out-of-band delete",
            &["clerk_blocklist_identifier.spam", "will be created"],
        );
        wd.apply();
        assert_no_changes(&wd, "after re-adding");

        // Already listed (made elsewhere): create refuses and says how to import.
        let (s, made) = env.api(
            Method::POST,
            "/allowlist_identifiers",
            Some(json!({"identifier": "carol@example.com"})),
        );
        assert_eq!(s, 200, "{made}");
        let carol = ("carol", "carol@example.com", None);
        let wd2 = env.workdir(tf);
        wd2.write("main.tf", &identifiers(&[carol], &[]));
        let out = wd2.try_apply();
        assert!(!out.success(), "{}", out.combined());
        assert!(
            out.combined().contains("terraform import"),
            "{}",
            out.combined()
        );

        // Import by id and by the identifier itself: both plan empty.
        for by in [made["id"].as_str().unwrap(), "carol@example.com"] {
            let wd3 = env.workdir(tf);
            wd3.write("main.tf", &identifiers(&[carol], &[]));
            wd3.import("clerk_allowlist_identifier.carol", by)
                .assert_success("import");
            let v = wd3.resource_values("clerk_allowlist_identifier.carol");
            assert_eq!(v["id"], made["id"], "imported by {by}");
            assert_no_changes(&wd3, &format!("after importing by {by}"));
        }
        let wd4 = env.workdir(tf);
        wd4.write("main.tf", &identifiers(&[], &[spam]));
        wd4.import("clerk_blocklist_identifier.spam", "*@spam.example")
            .assert_success("import by identifier");
        assert_no_changes(&wd4, "after importing the block-list entry");
        let wd5 = env.workdir(tf);
        wd5.write(
            "main.tf",
            &identifiers(&[], &[("nope", "nope@example.com")]),
        );
        wd5.import("clerk_blocklist_identifier.nope", "nope@example.com")
            .assert_failure_contains("not found");

        wd.destroy();
        assert_eq!(
            listed(&env, "allowlist"),
            ["carol@example.com"],
            "destroy removes only ours"
        );
        assert!(listed(&env, "blocklist").is_empty());
    });
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        let cfg = format!(
            "{}{}",
            singletons(&Singletons {
                settings: r#"  allowed_origins = ["https://app.example.com/login"]
  support_email   = "nope""#,
                restrictions: "",
                orgs: r#"  creator_role             = "admin"
  domains_enrollment_modes = ["automatic_everything"]"#,
            }),
            identifiers(&[("bad", "not-an-identifier", None)], &[])
                .split_once("provider \"clerk\" {}\n")
                .unwrap()
                .1
        );
        wd.write("main.tf", &cfg);
        let out = wd.tf(&["plan", "-input=false"]);
        assert!(!out.success(), "{}", out.combined());
        let text = out.combined();
        for needle in [
            "Invalid allowed origin",
            "Invalid support email",
            "Invalid role key",
            "Invalid enrollment mode",
            "Invalid identifier",
        ] {
            assert!(text.contains(needle), "{needle} missing:\n{text}");
        }
        let h = hidden(&env);
        assert_eq!(
            h["instance"]["allowed_origins"],
            Value::Null,
            "nothing sent"
        );
        assert!(listed(&env, "allowlist").is_empty());
    });
}

/// Every new write path under the emulator's faults (5xx, resets, lost
/// answers, 429) and its rate limit: the apply converges, no identifier is
/// added twice (a lost create is settled by reading the list back), and the
/// plan that follows is empty.
#[test]
fn faults_and_rate_limits_converge_without_duplicates() {
    use emulator_common::{FaultConfig, FaultKind, RateLimit};
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig {
            rate_limit: Some(RateLimit {
                requests: 8,
                window_secs: 2,
            }),
            ..ClerkConfig::default()
        });
        let wd = env.workdir(tf);
        let allow: Vec<(String, String)> = (0..5)
            .map(|i| (format!("a{i}"), format!("user{i}@example.com")))
            .collect();
        let block: Vec<(String, String)> = (0..5)
            .map(|i| (format!("b{i}"), format!("+1555555010{i}")))
            .collect();
        let allow_ref: Vec<(&str, &str, Option<bool>)> = allow
            .iter()
            .map(|(n, i)| (n.as_str(), i.as_str(), None))
            .collect();
        let block_ref: Vec<(&str, &str)> = block
            .iter()
            .map(|(n, i)| (n.as_str(), i.as_str()))
            .collect();
        let ids = identifiers(&allow_ref, &block_ref);
        let cfg = format!(
            "{}{}",
            singletons(&Singletons {
                settings: SETTINGS_1,
                restrictions: RESTRICTIONS_1,
                orgs: ORGS_1,
            }),
            ids.split_once("provider \"clerk\" {}\n").unwrap().1
        );
        wd.write("main.tf", &cfg);
        env.emu().control.set_faults(FaultConfig {
            error_rate: 0.2,
            latency_ms: 0,
            kinds: FaultKind::ALL.to_vec(),
            seed: Some(13),
            paths: Some(vec![
                "/v1/instance".into(),
                "/v1/allowlist_identifiers".into(),
                "/v1/blocklist_identifiers".into(),
            ]),
        });
        wd.apply();
        let counters = env.emu().control.counters();
        env.emu().control.set_faults(FaultConfig::default());
        env.emu().control.set_rate_limit(None);
        assert!(
            counters["rate_limited"].as_u64().unwrap_or(0) > 0,
            "the scenario must hit the rate limit: {counters}"
        );
        let fired: u64 = counters["faults"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_u64)
            .sum();
        assert!(fired >= 3, "faults must fire: {counters}");
        let mut want: Vec<String> = allow.iter().map(|(_, i)| i.clone()).collect();
        want.sort();
        assert_eq!(
            listed(&env, "allowlist"),
            want,
            "one entry each: {counters}"
        );
        let mut want: Vec<String> = block.iter().map(|(_, i)| i.clone()).collect();
        want.sort();
        assert_eq!(
            listed(&env, "blocklist"),
            want,
            "one entry each: {counters}"
        );
        let h = hidden(&env);
        assert_eq!(h["instance"]["hibp"], false, "{h}");
        assert_eq!(h["restrictions"]["allowlist"], true, "{h}");
        assert_eq!(org_settings(&env)["max_allowed_memberships"], 20);
        assert_no_changes(&wd, &format!("after the faulty apply ({counters})"));
    });
}
