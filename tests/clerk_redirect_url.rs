//! `clerk_redirect_url` driven by real Terraform against the Clerk emulator,
//! on every core in TERRAFORM_BINARIES: create, empty re-plan, a changed URL
//! replaces, import by id and by URL, out-of-band delete shown in plan, bad
//! input refused at validate with the attribute, destroy.
mod support;

use clerk_emulator::ClerkConfig;
use reqwest::Method;
use serde_json::{json, Value};
use support::clerk::Env;
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

fn config(urls: &[(&str, &str)]) -> String {
    let mut s = format!("{}\nprovider \"clerk\" {{}}\n", required_providers());
    for (name, url) in urls {
        s.push_str(&format!(
            "\nresource \"clerk_redirect_url\" \"{name}\" {{\n  url = \"{url}\"\n}}\n"
        ));
    }
    s
}

fn listed(env: &Env) -> Vec<Value> {
    let (status, body) = env.api(Method::GET, "/redirect_urls?paginated=true&limit=500", None);
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().unwrap().clone()
}

fn urls(env: &Env) -> Vec<String> {
    let mut u: Vec<String> = listed(env)
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect();
    u.sort();
    u
}

#[test]
fn lifecycle_import_drift_and_replace() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        let web = ("web", "https://app.example.com/sso-callback");
        let mobile = ("mobile", "myapp://oauth-callback");
        wd.write("main.tf", &config(&[web, mobile]));
        wd.apply();
        assert_eq!(urls(&env), vec![web.1.to_string(), mobile.1.to_string()]);
        let v = wd.resource_values("clerk_redirect_url.web");
        assert!(v["id"].as_str().unwrap().starts_with("ru_"), "{v}");
        assert!(v["created_at"].as_i64().unwrap() > 0, "{v}");
        assert_no_changes(&wd, "right after create");

        // There is no update operation: a new URL replaces the object.
        let web2 = ("web", "https://app.example.com/callback");
        wd.write("main.tf", &config(&[web2, mobile]));
        assert_changes(&wd, "after changing url", &["must be replaced", "url"]);
        wd.apply();
        assert_eq!(urls(&env), vec![web2.1.to_string(), mobile.1.to_string()]);
        assert_no_changes(&wd, "after the replacement");

        // Deleted out of band: the plan creates it again.
        let id = wd.resource_values("clerk_redirect_url.mobile")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, body) = env.api(Method::DELETE, &format!("/redirect_urls/{id}"), None);
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            json!({"object": "redirect_url", "id": id, "deleted": true})
        );
        assert_changes(
            &wd,
            "after an out-of-band delete",
            &["clerk_redirect_url.mobile", "will be created"],
        );
        wd.apply();
        assert_no_changes(&wd, "after re-creating");

        // Import by id and by URL into a fresh state: both plan empty.
        let (status, created) = env.api(
            Method::POST,
            "/redirect_urls",
            Some(json!({"url": "https://admin.example.com/cb"})),
        );
        assert_eq!(status, 200, "{created}");
        let adopt = ("admin", "https://admin.example.com/cb");
        for by in [created["id"].as_str().unwrap(), adopt.1] {
            let wd2 = env.workdir(tf);
            wd2.write("main.tf", &config(&[adopt]));
            wd2.import("clerk_redirect_url.admin", by)
                .assert_success("import");
            let v = wd2.resource_values("clerk_redirect_url.admin");
            assert_eq!(v["id"], created["id"], "imported by {by}");
            assert_no_changes(&wd2, &format!("after importing by {by}"));
        }
        let wd3 = env.workdir(tf);
        wd3.write("main.tf", &config(&[("nope", "https://nope.example.com/")]));
        wd3.import("clerk_redirect_url.nope", "https://nope.example.com/")
            .assert_failure_contains("not found");

        wd.destroy();
        assert_eq!(
            urls(&env),
            vec![adopt.1.to_string()],
            "destroy removes only ours"
        );
    });
}

#[test]
fn bad_urls_are_refused_at_validate() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        wd.write(
            "main.tf",
            &config(&[
                ("relative", "/sso-callback"),
                ("spaces", "https://app.example.com/a b"),
                ("js", "javascript:alert(1)"),
            ]),
        );
        let out = wd.tf(&["plan", "-input=false"]);
        assert!(!out.success(), "{}", out.combined());
        let text = out.combined();
        assert_eq!(text.matches("Invalid redirect URL").count(), 3, "{text}");
        assert!(text.contains("clerk_redirect_url.relative"), "{text}");
        assert!(text.contains("javascript"), "{text}");
        assert!(listed(&env).is_empty(), "nothing reached the API");
    });
}
