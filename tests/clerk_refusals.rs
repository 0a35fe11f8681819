//! Issue 11, point 7: the JWT template answers the spec lists beyond 4xx form
//! errors, through real Terraform on every core: 402 `PaymentRequired` on
//! create and update (catalog `UnsupportedSubscriptionPlanFeatures`), 403 on
//! delete of the session-token template (catalog
//! `SessionTokenTemplateNotDeletable`), and a name taken by another template
//! (catalog `FormIdentifierExists`). Each gives a diagnostic saying what to do.
mod support;

use clerk_emulator::ClerkConfig;
use reqwest::Method;
use serde_json::json;
use support::clerk::Env;
use support::{assert_no_changes, for_each_terraform, required_providers, TfOutput};

fn config(custom: bool) -> String {
    let key = if custom {
        "  custom_signing_key = true\n  signing_algorithm  = \"HS256\"\n  signing_key        = \"0123456789abcdef0123456789abcdef\"\n"
    } else {
        ""
    };
    format!(
        "{}\nprovider \"clerk\" {{}}\n\nresource \"clerk_jwt_template\" \"t\" {{\n  name   = \"session\"\n  claims = jsonencode({{ a = 1 }})\n{key}}}\n",
        required_providers()
    )
}

/// Terraform wraps long diagnostics: the output with whitespace folded.
fn flat(out: &TfOutput) -> String {
    out.combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_plan_without_custom_keys_is_named_on_create_and_update() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        env.emu().set_custom_signing_key_needs_upgrade(true);
        let wd = env.workdir(tf);

        wd.write("main.tf", &config(true));
        let out = wd.try_apply();
        assert!(!out.success());
        let text = flat(&out);
        for needle in [
            "HTTP 402",
            "[unsupported_subscription_plan_features]",
            "The instance's Clerk plan does not include `custom_signing_key`: upgrade the plan in the Clerk dashboard",
            "custom_signing_key = true",
        ] {
            assert!(text.contains(needle), "missing {needle:?}: {text}");
        }
        assert!(env.templates().is_empty());

        // Without the custom key it applies; turning it on is refused the same way.
        wd.write("main.tf", &config(false));
        wd.apply();
        wd.write("main.tf", &config(true));
        let text = flat(&wd.try_apply());
        assert!(
            text.contains("does not include `custom_signing_key`"),
            "{text}"
        );
        assert_eq!(env.template("session")["custom_signing_key"], false);

        env.emu().set_custom_signing_key_needs_upgrade(false);
        wd.apply();
        assert_no_changes(&wd, "after the upgrade");
        wd.destroy();
    });
}

#[test]
fn the_session_token_template_is_never_destroyed() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(false));
        wd.apply();
        let id = env.template("session")["id"].as_str().unwrap().to_string();
        env.emu().mark_session_token_template(&id);

        let out = wd.try_destroy();
        assert!(!out.success());
        let text = flat(&out);
        for needle in [
            "Failed to delete JWT template",
            "HTTP 403",
            "This template cannot be deleted because it's a session token template [session_token_jwt_template]",
            "remove it from the state (`terraform state rm <address>`) instead of destroying it",
        ] {
            assert!(text.contains(needle), "missing {needle:?}: {text}");
        }
        assert_eq!(env.templates().len(), 1);

        // The way out the diagnostic names works, and leaves the template alone.
        wd.tf(&["state", "rm", "clerk_jwt_template.t"])
            .assert_success("state rm");
        wd.destroy();
        assert_eq!(env.template("session")["id"], id.as_str());
    });
}

#[test]
fn a_name_taken_by_another_template_says_import() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let (s, _) = env.api(
            Method::POST,
            "/jwt_templates",
            Some(json!({"name": "session", "claims": {"other": true}})),
        );
        assert_eq!(s, 200);
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(false));
        let out = wd.try_apply();
        assert!(!out.success());
        let text = flat(&out);
        for needle in [
            "HTTP 422",
            "[form_identifier_exists]",
            "A template with this name already exists; import it with `terraform import`",
        ] {
            assert!(text.contains(needle), "missing {needle:?}: {text}");
        }
        assert_eq!(env.templates().len(), 1, "the other template is untouched");
        assert_eq!(env.templates()[0]["claims"], json!({"other": true}));
    });
}
