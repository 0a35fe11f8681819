//! `examples/clerk-hasura-organizations` end to end, on every core: applied against the
//! emulators, members of two organizations get tokens from the `hasura` template with
//! their active organization, and Hasura shows each only its organization's projects and
//! refuses a write into the other one. On Terraform >= 1.5 the example's `check` block
//! warns when the template's roles and Hasura's roles disagree, and stays quiet when they
//! match.
mod support;

use std::path::{Path, PathBuf};

use clerk_emulator::ClerkConfig;
use reqwest::Method;
use serde_json::{json, Value};
use support::{assert_no_changes, for_each_terraform, terraform_version_tuple};

fn example(f: &str) -> String {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/clerk-hasura-organizations")
        .join(f);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn graphql(hasura: &support::hasura::Env, token: &str, query: &str) -> Value {
    let bearer = format!("Bearer {token}");
    hasura.graphql(&[("authorization", &bearer)], query, false)
}

#[test]
fn members_see_only_their_organizations_rows() {
    for_each_terraform(|tf| {
        let clerk = support::clerk::Env::start(ClerkConfig::default());
        clerk.enable_organizations();
        let hasura = support::hasura::Env::start();
        let mut wd = hasura.workdir(tf);
        let cfg = hasura.emu().config.clone();
        wd.env("CLERK_SECRET_KEY", clerk.emu().secret_key())
            .env("TF_VAR_clerk_api_url", &clerk.emu().api_url())
            .env("TF_VAR_hasura_endpoint", &hasura.emu().endpoint())
            .env("TF_VAR_hasura_cloud_api_url", &hasura.emu().cloud_api_url())
            .env("TF_VAR_hasura_cloud_project_id", &cfg.project_id)
            .env("TF_VAR_protect_tables", "false");
        let checks = terraform_version_tuple(tf) >= (1, 5, 0);
        for f in ["main.tf", "variables.tf"] {
            wd.write(f, &example(f));
        }
        if checks {
            wd.write("checks.tf", &example("checks.tf"));
        }
        let out = wd.apply();
        assert!(
            !out.combined().contains("Check block assertion failed"),
            "the roles match, so the check must be quiet:\n{}",
            out.combined()
        );
        assert_no_changes(&wd, "right after apply");

        // Two tenants: alice administers acme, bob is an editor at globex.
        let mut orgs = Vec::new();
        for (slug, user, role) in [
            ("acme", "user_alice", "org:admin"),
            ("globex", "user_bob", "org:editor"),
        ] {
            let (s, o) = clerk.api(
                Method::POST,
                "/organizations",
                Some(json!({"name": slug, "slug": slug})),
            );
            assert_eq!(s, 200, "{o}");
            let id = o["id"].as_str().unwrap().to_string();
            let (s, m) = clerk.api(
                Method::POST,
                &format!("/organizations/{id}/memberships"),
                Some(json!({"user_id": user, "role": role})),
            );
            assert_eq!(s, 200, "{m}");
            let session = user.replace("user_", "sess_");
            assert!(clerk.emu().set_active_organization(&session, &id));
            orgs.push((id, session));
        }
        let token = |session: &str| {
            let (s, t) = clerk.api(
                Method::POST,
                &format!("/sessions/{session}/tokens/hasura"),
                None,
            );
            assert_eq!(s, 200, "{t}");
            t["jwt"].as_str().unwrap().to_string()
        };
        let (acme, alice) = (&orgs[0].0, token(&orgs[0].1));
        let (globex, bob) = (&orgs[1].0, token(&orgs[1].1));

        for (who, tok, org) in [("alice", &alice, acme), ("bob", &bob, globex)] {
            let r = graphql(
                &hasura,
                tok,
                &format!(
                    r#"mutation {{ insert_projects_one(object: {{org_id: "{org}", name: "{who}'s project"}}) {{ name }} }}"#
                ),
            );
            assert_eq!(
                r["data"]["insert_projects_one"]["name"],
                format!("{who}'s project"),
                "{r}"
            );
        }
        let r = graphql(
            &hasura,
            &alice,
            &format!(
                r#"mutation {{ insert_projects_one(object: {{org_id: "{globex}", name: "planted"}}) {{ name }} }}"#
            ),
        );
        assert!(
            r.get("errors").is_some(),
            "alice must not write into globex: {r}"
        );
        for (tok, org, name) in [
            (&alice, acme, "alice's project"),
            (&bob, globex, "bob's project"),
        ] {
            let r = graphql(&hasura, tok, "query { projects { org_id name } }");
            assert_eq!(
                r["data"]["projects"],
                json!([{"org_id": org, "name": name}]),
                "{r}"
            );
        }

        // A role Clerk can issue but Hasura does not know: the check warns, nothing fails.
        if checks {
            let narrowed = example("main.tf").replace(
                "  for_each = local.org_roles\n",
                "  for_each = setsubtract(local.org_roles, [\"org:member\"])\n",
            );
            assert_ne!(
                narrowed,
                example("main.tf"),
                "the edit must apply to main.tf"
            );
            wd.write("main.tf", &narrowed);
            let out = wd.tf(&["plan", "-no-color"]);
            out.assert_success("a check only warns");
            // Terraform wraps the message: look for its parts.
            let text = out
                .combined()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                text.contains("Check block assertion failed")
                    && text.contains("no Hasura select permission knows: org:member"),
                "{text}"
            );
            wd.write("main.tf", &example("main.tf"));
        }
        // The tenants were made outside Terraform: remove them (and their memberships,
        // which keep Clerk from deleting a role still assigned) before destroying.
        for (id, _) in &orgs {
            let (s, v) = clerk.api(Method::DELETE, &format!("/organizations/{id}"), None);
            assert_eq!(s, 200, "{v}");
        }
        wd.destroy();
    });
}
