//! `clerk_organization_permission`, `clerk_organization_role`,
//! `clerk_organization`, `clerk_domain` and the `clerk_organization_roles` /
//! `clerk_domains` data sources, driven by real Terraform against the Clerk
//! emulator on every core in TERRAFORM_BINARIES: create, empty re-plan,
//! update in place (a role's permissions swapped without the role ever
//! going without them), out-of-band change and delete shown in plan, import
//! by id and by natural key, bad input refused at plan, destroy.
mod support;

use clerk_emulator::ClerkConfig;
use reqwest::Method;
use serde_json::{json, Value};
use support::clerk::Env;
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

/// What varies between the configurations of the scenario.
struct Cfg<'a> {
    edit_key: &'a str,
    edit_name: &'a str,
    role_name: &'a str,
    role_permissions: &'a str,
    org_name: &'a str,
    org_public: &'a str,
    domain: &'a str,
    proxy: Option<&'a str>,
}

const FIRST: Cfg = Cfg {
    edit_key: "org:posts:edit",
    edit_name: "Edit posts",
    role_name: "Editor",
    role_permissions: r#"[clerk_organization_permission.edit.key, "org:sys_memberships:read"]"#,
    org_name: "Acme Inc",
    org_public: r#"jsonencode({ tier = "gold", seats = 5 })"#,
    domain: "sat.example.com",
    proxy: None,
};

const SECOND: Cfg = Cfg {
    edit_key: "org:posts:write",
    edit_name: "Write posts",
    role_name: "Writer",
    // No permission in common with FIRST: removing before assigning would
    // leave the role empty in between.
    role_permissions: r#"[clerk_organization_permission.read.key, "org:sys_domains:read"]"#,
    org_name: "Acme Corporation",
    org_public: r#"jsonencode({ seats = 10, tier = "gold" })"#,
    domain: "sat2.example.com",
    proxy: Some("https://sat2.example.com/__clerk"),
};

fn config(c: &Cfg) -> String {
    let proxy = c
        .proxy
        .map(|p| format!("\n  proxy_url = \"{p}\""))
        .unwrap_or_default();
    format!(
        r#"{providers}
provider "clerk" {{}}

resource "clerk_organization_permission" "edit" {{
  key         = "{edit_key}"
  name        = "{edit_name}"
  description = "Create and change posts"
}}

resource "clerk_organization_permission" "read" {{
  key  = "org:posts:read"
  name = "Read posts"
}}

resource "clerk_organization_role" "editor" {{
  key         = "org:editor"
  name        = "{role_name}"
  description = "Edits the organization's posts"
  permissions = {role_permissions}
}}

resource "clerk_organization" "acme" {{
  name             = "{org_name}"
  slug             = "acme"
  created_by       = "user_alice"
  public_metadata  = {org_public}
  private_metadata = jsonencode({{ crm_id = "c-42" }})
}}

resource "clerk_domain" "satellite" {{
  name = "{domain}"{proxy}
}}

data "clerk_organization_roles" "all" {{
  depends_on = [clerk_organization_role.editor]
}}

data "clerk_domains" "all" {{
  depends_on = [clerk_domain.satellite]
}}

output "role_keys" {{
  value = data.clerk_organization_roles.all.keys
}}

output "domain_names" {{
  value = [for d in data.clerk_domains.all.domains : d.name]
}}
"#,
        providers = required_providers(),
        edit_key = c.edit_key,
        edit_name = c.edit_name,
        role_name = c.role_name,
        role_permissions = c.role_permissions,
        org_name = c.org_name,
        org_public = c.org_public,
        domain = c.domain,
    )
}

/// The resources alone: a fresh import has no outputs yet, which Terraform
/// 1.0.3 would plan as changes.
fn resources_only(c: &Cfg) -> String {
    let full = config(c);
    full.split("data \"clerk_organization_roles\"")
        .next()
        .unwrap()
        .to_string()
}

fn get(env: &Env, path: &str) -> Value {
    let (status, body) = env.api(Method::GET, path, None);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

fn role_permission_keys(env: &Env, id: &str) -> Vec<String> {
    let role = get(env, &format!("/organization_roles/{id}"));
    let mut keys: Vec<String> = role["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    keys
}

fn id_of(wd: &support::Workdir, addr: &str) -> String {
    wd.resource_values(addr)["id"].as_str().unwrap().to_string()
}

#[test]
fn lifecycle_update_drift_import_destroy() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        env.enable_organizations();
        env.emu().set_production_domains(true);
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(&FIRST));
        wd.apply();

        let role_id = id_of(&wd, "clerk_organization_role.editor");
        assert!(role_id.starts_with("role_"), "{role_id}");
        assert_eq!(
            role_permission_keys(&env, &role_id),
            ["org:posts:edit", "org:sys_memberships:read"]
        );
        let org = wd.resource_values("clerk_organization.acme");
        let org_id = org["id"].as_str().unwrap().to_string();
        let remote = get(&env, &format!("/organizations/{org_id}"));
        assert_eq!(remote["slug"], "acme");
        assert_eq!(remote["members_count"], 1, "created_by is a member");
        assert_eq!(
            remote["public_metadata"],
            json!({"tier": "gold", "seats": 5})
        );
        assert_eq!(remote["private_metadata"], json!({"crm_id": "c-42"}));
        let dom = wd.resource_values("clerk_domain.satellite");
        assert_eq!(dom["is_satellite"], true);
        assert_eq!(dom["frontend_api_url"], "https://clerk.sat.example.com");
        assert_eq!(
            dom["cname_targets"][0]["host"], "clerk.sat.example.com",
            "{dom}"
        );
        assert_eq!(
            wd.output("role_keys"),
            json!(["org:admin", "org:editor", "org:member"])
        );
        assert_eq!(wd.output("domain_names")[1], "sat.example.com");
        let edit = wd.resource_values("clerk_organization_permission.edit");
        let read = wd.resource_values("clerk_organization_permission.read");
        assert_eq!(read["description"], Value::Null);
        assert_no_changes(&wd, "right after create");

        // Every attribute changes in place: nothing is replaced.
        wd.write("main.tf", &config(&SECOND));
        let plan = assert_changes(&wd, "after the update", &["update in-place"]);
        let text = plan.combined();
        assert!(!text.contains("must be replaced"), "{text}");
        assert!(
            text.contains("0 to add, 4 to change, 0 to destroy"),
            "{text}"
        );
        wd.apply();
        assert_eq!(id_of(&wd, "clerk_organization_role.editor"), role_id);
        assert_eq!(
            role_permission_keys(&env, &role_id),
            ["org:posts:read", "org:sys_domains:read"]
        );
        assert_eq!(
            wd.resource_values("clerk_organization_permission.edit")["id"],
            edit["id"],
            "the key changed in place"
        );
        // The swap assigned before it removed: the role always had permissions.
        let history = env.emu().role_permission_history("org:editor");
        assert!(history.len() >= 3, "{history:?}");
        assert!(history.iter().all(|set| !set.is_empty()), "{history:?}");
        let remote = get(&env, &format!("/organizations/{org_id}"));
        assert_eq!(remote["name"], "Acme Corporation");
        assert_eq!(
            remote["public_metadata"],
            json!({"tier": "gold", "seats": 10})
        );
        let dom = wd.resource_values("clerk_domain.satellite");
        assert_eq!(dom["proxy_url"], "https://sat2.example.com/__clerk");
        assert_eq!(dom["id"], json!(id_of(&wd, "clerk_domain.satellite")));
        assert_no_changes(&wd, "after the update");

        // Out-of-band changes and deletes show precisely.
        let (s, b) = env.api(
            Method::PATCH,
            &format!("/organizations/{org_id}"),
            Some(json!({"public_metadata": {"tier": "silver"}})),
        );
        assert_eq!(s, 200, "{b}");
        let (s, b) = env.api(
            Method::PATCH,
            &format!("/organization_roles/{role_id}"),
            Some(json!({"name": "Renamed"})),
        );
        assert_eq!(s, 200, "{b}");
        let read_id = read["id"].as_str().unwrap();
        let (s, b) = env.api(
            Method::DELETE,
            &format!("/organization_roles/{role_id}/permissions/{read_id}"),
            None,
        );
        assert_eq!(s, 200, "{b}");
        let dom_id = id_of(&wd, "clerk_domain.satellite");
        let (s, b) = env.api(Method::DELETE, &format!("/domains/{dom_id}"), None);
        assert_eq!(s, 200, "{b}");
        assert_changes(
            &wd,
            "after out-of-band changes",
            &[
                "clerk_organization.acme will be updated in-place",
                "silver",
                "\"Renamed\" -> \"Writer\"",
                "+ \"org:posts:read\"",
                "clerk_domain.satellite will be created",
            ],
        );
        wd.apply();
        assert_no_changes(&wd, "after repairing the drift");

        // Import into fresh states, by natural key and by id: both plan empty.
        let perm_edit_id = id_of(&wd, "clerk_organization_permission.edit");
        let perm_read_id = id_of(&wd, "clerk_organization_permission.read");
        let dom_id = id_of(&wd, "clerk_domain.satellite");
        let role_id = id_of(&wd, "clerk_organization_role.editor");
        let by_key = [
            ("clerk_organization_permission.edit", "org:posts:write"),
            ("clerk_organization_permission.read", "org:posts:read"),
            ("clerk_organization_role.editor", "org:editor"),
            ("clerk_organization.acme", "acme"),
            ("clerk_domain.satellite", "sat2.example.com"),
        ];
        let by_id = [
            ("clerk_organization_permission.edit", perm_edit_id.as_str()),
            ("clerk_organization_permission.read", perm_read_id.as_str()),
            ("clerk_organization_role.editor", role_id.as_str()),
            ("clerk_organization.acme", org_id.as_str()),
            ("clerk_domain.satellite", dom_id.as_str()),
        ];
        for ids in [by_key, by_id] {
            let wd2 = env.workdir(tf);
            wd2.write("main.tf", &resources_only(&SECOND));
            for (addr, id) in ids {
                wd2.import(addr, id)
                    .assert_success(&format!("import {addr} {id}"));
            }
            assert_no_changes(&wd2, &format!("after importing by {:?}", ids[0].1));
        }
        let wd3 = env.workdir(tf);
        wd3.write("main.tf", &resources_only(&SECOND));
        wd3.import("clerk_organization_role.editor", "org:nope")
            .assert_failure_contains("not found");
        wd3.import(
            "clerk_organization_permission.edit",
            "org:sys_memberships:read",
        )
        .assert_failure_contains("System permission");
        let primary = get(&env, "/domains")["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        wd3.import("clerk_domain.satellite", &primary)
            .assert_failure_contains("Primary domain");

        wd.destroy();
        let roles = get(&env, "/organization_roles");
        assert_eq!(roles["total_count"], 2, "only the defaults remain: {roles}");
        let perms = get(&env, "/organization_permissions?limit=500");
        assert!(
            perms["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["type"] == "system"),
            "{perms}"
        );
        assert_eq!(get(&env, "/organizations")["total_count"], 0);
        assert_eq!(get(&env, "/domains")["total_count"], 1);
    });
}

#[test]
fn bad_input_is_refused_at_plan() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        wd.write(
            "main.tf",
            &format!(
                r#"{}
provider "clerk" {{}}

resource "clerk_organization_role" "no_prefix" {{
  key  = "editor"
  name = "Editor"
}}

resource "clerk_organization_permission" "system" {{
  key  = "org:sys_things:do"
  name = "Sys"
}}

resource "clerk_organization" "bad_slug" {{
  name = "Acme"
  slug = "Acme Inc"
}}

resource "clerk_domain" "primary" {{
  name         = "x.example.com"
  is_satellite = false
}}

resource "clerk_domain" "scheme" {{
  name = "https://x.example.com"
}}
"#,
                required_providers()
            ),
        );
        let out = wd.tf(&["plan", "-input=false"]);
        assert!(!out.success(), "{}", out.combined());
        let text = out.combined();
        for needle in [
            "Invalid role key",
            "clerk_organization_role.no_prefix",
            "Invalid permission key",
            "Invalid organization slug",
            "Only satellite domains",
            "Invalid domain name",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        // Past validation: a permission key no permission has, neither
        // remotely nor planned in this configuration.
        wd.write(
            "main.tf",
            &format!(
                r#"{}
provider "clerk" {{}}

resource "clerk_organization_role" "unknown_permission" {{
  key         = "org:auditor"
  name        = "Auditor"
  permissions = ["org:sys_memberships:read", "org:audit:read"]
}}
"#,
                required_providers()
            ),
        );
        let out = wd.tf(&["plan", "-input=false"]);
        assert!(!out.success(), "{}", out.combined());
        let text = out.combined();
        for needle in [
            "Unknown organization permission",
            "\"org:audit:read\"",
            "on main.tf line",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        // Only the missing key is named, not the system permission beside it.
        assert!(text.contains("names \"org:audit:read\", which"), "{text}");
        assert_eq!(get(&env, "/organization_roles")["total_count"], 2);
        assert_eq!(get(&env, "/organizations")["total_count"], 0);
        assert_eq!(get(&env, "/domains")["total_count"], 1);
    });
}

/// A third of the requests to the organization collections fail: 5xx,
/// resets, 429 with `Retry-After`, and writes that land but whose answer is lost. Applies are
/// repeated until one succeeds; then every object exists exactly once
/// (organizations without a slug included: a lost create is adopted, not
/// sent twice), and with the faults gone the plan is empty.
#[test]
fn faults_never_duplicate_or_lose_objects() {
    use emulator_common::{FaultConfig, FaultKind};
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        env.enable_organizations();
        let wd = env.workdir(tf);
        wd.write(
            "main.tf",
            &format!(
                r#"{}
provider "clerk" {{}}

resource "clerk_organization_permission" "p" {{
  count = 3
  key   = "org:feature${{count.index}}:use"
  name  = "Use feature ${{count.index}}"
}}

resource "clerk_organization_role" "r" {{
  count       = 2
  key         = "org:role${{count.index}}"
  name        = "Role ${{count.index}}"
  permissions = [clerk_organization_permission.p[count.index].key]
}}

resource "clerk_organization" "o" {{
  count = 4
  name  = "Tenant ${{count.index}}"
}}

resource "clerk_domain" "d" {{
  count = 2
  name  = "sat${{count.index}}.example.com"
}}
"#,
                required_providers()
            ),
        );
        env.emu().control.set_faults(FaultConfig {
            error_rate: 0.33,
            kinds: vec![
                FaultKind::Status500,
                FaultKind::Status503,
                FaultKind::ConnectionReset,
                FaultKind::LostResponse,
                FaultKind::TooManyRequests,
            ],
            seed: Some(7),
            paths: Some(
                [
                    "/v1/organization_permissions",
                    "/v1/organization_roles",
                    "/v1/organizations",
                    "/v1/domains",
                ]
                .map(String::from)
                .to_vec(),
            ),
            ..FaultConfig::default()
        });
        let mut done = false;
        for _ in 0..8 {
            if wd.try_apply().success() {
                done = true;
                break;
            }
        }
        env.emu().control.set_faults(FaultConfig::default());
        assert!(done, "no apply succeeded in 8 attempts under faults");
        let counters = env.emu().control.counters();
        let lost = counters["faults"]["lost_response"].as_u64().unwrap_or(0);
        assert!(lost > 0, "some writes lost their answer: {counters}");

        let orgs = get(&env, "/organizations?limit=500");
        let mut names: Vec<String> = orgs["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["Tenant 0", "Tenant 1", "Tenant 2", "Tenant 3"],
            "each organization exactly once"
        );
        assert_eq!(get(&env, "/organization_roles")["total_count"], 4);
        assert_eq!(get(&env, "/domains")["total_count"], 3);
        assert_eq!(wd.resource_addresses().len(), 11, "all in state");
        assert_no_changes(&wd, "after applying under faults");
        wd.destroy();
        assert_eq!(get(&env, "/organizations")["total_count"], 0);
    });
}

/// A role update whose permission keys cannot be resolved at apply (the plan
/// could not list the permissions, so Clerk has the last word) fails before
/// anything is written: the role keeps its name.
#[test]
fn role_update_that_cannot_resolve_its_permissions_changes_nothing() {
    use emulator_common::{FaultConfig, FaultKind};
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        let config = |name: &str, permissions: &str| {
            format!(
                r#"{}
provider "clerk" {{
  max_retries = 1
}}

resource "clerk_organization_role" "r" {{
  key         = "org:auditor"
  name        = "{name}"
  permissions = {permissions}
}}
"#,
                required_providers()
            )
        };
        wd.write("main.tf", &config("Auditor", "[]"));
        wd.apply();
        wd.write("main.tf", &config("Chief auditor", r#"["org:audit:read"]"#));
        env.emu().control.set_faults(FaultConfig {
            error_rate: 1.0,
            kinds: vec![FaultKind::Status500],
            seed: Some(1),
            paths: Some(vec!["/v1/organization_permissions".to_string()]),
            ..FaultConfig::default()
        });
        let out = wd.try_apply();
        env.emu().control.set_faults(FaultConfig::default());
        out.assert_failure_contains("Failed to update organization role");
        let roles = get(&env, "/organization_roles?limit=500");
        let role = roles["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "org:auditor")
            .cloned()
            .unwrap_or_default();
        assert_eq!(role["name"], "Auditor", "nothing half-applied: {role}");
        wd.write("main.tf", &config("Auditor", "[]"));
        wd.destroy();
    });
}

/// An organization created without `created_by` is renamed in place: the
/// unset creator stays unset in the plan instead of turning unknown, which
/// `RequiresReplace` would take for a change (and delete the memberships).
#[test]
fn an_organization_without_a_creator_is_renamed_in_place() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        let config = |name: &str, settings: bool| {
            let (settings, depends) = if settings {
                (
                    "resource \"clerk_organization_settings\" \"s\" {\n  enabled = true\n}\n",
                    "  depends_on = [clerk_organization_settings.s]\n",
                )
            } else {
                ("", "")
            };
            format!(
                "{}\nprovider \"clerk\" {{}}\n{settings}resource \"clerk_organization\" \"o\" {{\n  name = \"{name}\"\n{depends}}}\n",
                required_providers()
            )
        };
        // Organizations are off on a fresh instance: Clerk refuses, and the
        // diagnostic says how to turn them on.
        wd.write("main.tf", &config("Acme", false));
        wd.try_apply()
            .assert_failure_contains("organization_not_enabled_in_instance")
            .assert_failure_contains("clerk_organization_settings");
        wd.write("main.tf", &config("Acme", true));
        wd.apply();
        let id = wd.resource_values("clerk_organization.o")["id"].clone();
        wd.write("main.tf", &config("Acme Inc", true));
        let out = assert_changes(&wd, "a rename", &["update in-place"]);
        assert!(
            !out.combined().contains("must be replaced") && !out.combined().contains("created_by"),
            "{}",
            out.combined()
        );
        wd.apply();
        assert_eq!(
            wd.resource_values("clerk_organization.o")["id"],
            id,
            "same organization"
        );
        assert_no_changes(&wd, "after the rename");
        wd.destroy();
    });
}
