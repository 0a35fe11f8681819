//! `clerk_instance_settings`: the instance-wide settings UpdateInstance
//! writes. A singleton: creating it adopts the instance, destroying it
//! leaves the instance as it is.
//!
//! GetInstance reads back only `allowed_origins`; every other setting keeps
//! the value last applied, so a change made elsewhere to one of them is not
//! seen (the descriptions say so).
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Invalid, OneOf, Schema, StrCheck,
    Type, UseStateForUnknown, Value,
};

use super::client::{ClerkClient, Instance, InstancePatch};
use super::singleton::Singleton;

pub struct InstanceSettings;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    allowed_origins: Value<Vec<String>>,
    test_mode: Value<bool>,
    hibp: Value<bool>,
    support_email: Value<String>,
    clerk_js_version: Value<String>,
    development_origin: Value<String>,
    url_based_session_syncing: Value<bool>,
    preferred_sign_in_strategy_when_password_required: Value<String>,
}

/// `scheme://host[:port]` and nothing after it: what `FormInvalidOrigin`
/// asks for (`my-app://localhost`, `chrome-extension://<id>`,
/// `capacitor://localhost:3000`, `http://localhost:3000`).
pub fn check_origin(s: &str) -> Result<(), Invalid> {
    let example = "such as `https://app.example.com`, `capacitor://localhost` or `chrome-extension://<extension id>`";
    let u = url::Url::parse(s).map_err(|e| format!("must be an origin {example} ({e})"))?;
    if s.chars().any(char::is_whitespace) {
        return Err("must not contain whitespace".into());
    }
    let host = u.host_str().unwrap_or("");
    if host.is_empty() || !s.contains("://") {
        return Err(format!("must be an origin with a host, {example}").into());
    }
    let tail = s.split_once("://").map_or("", |(_, t)| t);
    if tail.contains(['/', '?', '#', '@']) {
        return Err(format!(
            "must be an origin only (scheme, host and port, no path, query or user), {example}"
        )
        .into());
    }
    Ok(())
}

/// `local@domain.tld`; the empty string clears the setting.
pub fn check_email(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Ok(());
    }
    let valid = s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    }) && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(())
    } else {
        Err("must be an email address such as `support@example.com` (or `\"\"` to clear it)".into())
    }
}

fn check_optional_origin(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Ok(());
    }
    check_origin(s)
}

/// A ClerkJS version or tag: `5`, `5.2.1`, `5.0.0-beta.3`, `latest`.
fn check_js_version(s: &str) -> Result<(), Invalid> {
    let ok = s.is_empty()
        || (s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')));
    if ok {
        Ok(())
    } else {
        Err(
            "must be a ClerkJS version such as `5` or `5.2.1` (letters, digits, `.`, `-`, `+`)"
                .into(),
        )
    }
}

impl Model {
    fn patch(&self) -> InstancePatch {
        InstancePatch {
            allowed_origins: self.allowed_origins.known().cloned(),
            test_mode: self.test_mode.known().copied(),
            hibp: self.hibp.known().copied(),
            support_email: self.support_email.known().cloned(),
            clerk_js_version: self.clerk_js_version.known().cloned(),
            development_origin: self.development_origin.known().cloned(),
            url_based_session_syncing: self.url_based_session_syncing.known().copied(),
            preferred_sign_in_strategy_when_password_required: self
                .preferred_sign_in_strategy_when_password_required
                .known()
                .cloned(),
        }
    }

    /// What GetInstance reports; everything else stays as it was.
    fn observe(mut self, i: Instance) -> Self {
        self.id = i.id.into();
        self.allowed_origins = i.allowed_origins.unwrap_or_default().into();
        self
    }
}

const NOT_READ: &str = "GetInstance does not report it, so the provider keeps the value it last applied and cannot see a change made elsewhere. Unset: left as it is.";

#[async_trait]
impl Singleton for InstanceSettings {
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_instance_settings";
    const NOUN: &'static str = "instance settings";
    const OTHER_IMPORT_IDS: &'static str = " (or this instance's id, `ins_...`)";

    fn schema(&self) -> Schema {
        let not_read = |what: &str| format!("{what} {NOT_READ}");
        Schema::new(
            "The instance's settings (UpdateInstance, `PATCH /v1/instance`). One per instance: creating it adopts the instance's settings and applies the configured ones; destroying it leaves the instance as it is (nothing is reset). An attribute left unset is not managed and keeps its remote value. Only `allowed_origins` can be read back (GetInstance), so only it shows changes made elsewhere. Import with the id `instance`. The deprecated `enhanced_email_deliverability` and `cookieless_dev` are not offered: UpdateInstance of the 2025-11-10 API does not take the first, and `url_based_session_syncing` replaces the second.",
            vec![
                Attribute::id("The instance id (`ins_...`). Import with `instance`."),
                Attribute::typed("allowed_origins", Type::set(Type::String)).optional_computed().plan(UseStateForUnknown).describe("Origins allowed to call the Frontend API from browser-like stacks (browser extensions, Electron, Capacitor), e.g. `chrome-extension://<id>`, `capacitor://localhost`, `http://localhost:3000`: scheme, host and optional port, nothing else. Read back, so a change made elsewhere shows in the plan. Unset: the remote list is kept and reported."),
                Attribute::bool("test_mode").optional().describe(not_read("Test mode: allows test email addresses and phone numbers (on by default on development instances).")),
                Attribute::bool("hibp").optional().describe(not_read("Check passwords against the Have I Been Pwned breach corpus.")),
                Attribute::string("support_email").optional().validate(StrCheck("Invalid support email", check_email)).describe(not_read("The support email address shown in Clerk's components and emails; `\"\"` clears it.")),
                Attribute::string("clerk_js_version").optional().validate(StrCheck("Invalid ClerkJS version", check_js_version)).describe(not_read("The ClerkJS version the instance pins, e.g. `5`; `\"\"` clears the pin.")),
                Attribute::string("development_origin").optional().validate(StrCheck("Invalid development origin", check_optional_origin)).describe(not_read("The origin of a development instance's app, e.g. `http://localhost:3000`; `\"\"` clears it.")),
                Attribute::bool("url_based_session_syncing").optional().describe(not_read("Development instances: sync sessions through the URL instead of third-party cookies.")),
                Attribute::string("preferred_sign_in_strategy_when_password_required").optional().validate(OneOf(&["password", "otp", ""])).describe(not_read("When a password is required: the sign-in strategy Clerk's components offer first, `password` or `otp`; `\"\"` clears the override.")),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        for o in config.allowed_origins.known().into_iter().flatten() {
            if let Err(e) = check_origin(o) {
                diags.add_attr_error(
                    AttrPath::attr("allowed_origins"),
                    "Invalid allowed origin",
                    format!("`allowed_origins` entry {o:?} {e}."),
                );
            }
        }
    }

    /// A repeated PATCH lands in the same state, so the shared client's
    /// retries settle a lost answer; no read-back is needed for the values
    /// the API cannot report anyway.
    async fn apply(&self, ctx: &Ctx, m: Model, failed: &str) -> Result<Model, ApplyError<Model>> {
        let client = ctx.client::<ClerkClient>()?;
        let patch = m.patch();
        if patch != InstancePatch::default() {
            client
                .update_instance(&ctx.cancel, &patch)
                .await
                .map_err(|e| e.into_diags(failed))?;
        }
        Ok(m.observe(instance(ctx, failed).await?))
    }

    async fn read(&self, ctx: &Ctx, state: Model, failed: &str) -> Result<Model, Diagnostics> {
        Ok(state.observe(instance(ctx, failed).await?))
    }

    async fn is_instance_id(&self, ctx: &Ctx, id: &str) -> Result<bool, Diagnostics> {
        Ok(id
            == instance(ctx, "Failed to import instance settings")
                .await?
                .id)
    }
}

async fn instance(ctx: &Ctx, failed: &str) -> Result<Instance, Diagnostics> {
    let client = ctx.client::<ClerkClient>()?;
    client
        .instance(&ctx.cancel)
        .await
        .map_err(|e| e.into_diags(failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn origins() {
        assert_checks(
            check_origin,
            &[
                "https://app.example.com",
                "http://localhost:3000",
                "capacitor://localhost",
                "chrome-extension://mnhbilbfebpbokpjjamapdecdgieldho",
            ],
            &[
                "",
                "localhost:3000",
                "https://app.example.com/path",
                "https://app.example.com?q",
                "javascript:alert(1)",
                "https://a b.com",
                "https://user@host.com",
            ],
        );
    }

    #[test]
    fn emails_and_versions() {
        assert_checks(
            check_email,
            &["support@example.com", ""],
            &["support", "a@b", "a b@example.com"],
        );
        assert_checks(check_js_version, &["5.2.1"], &["5; rm -rf"]);
    }
}
