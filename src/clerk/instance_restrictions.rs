//! `clerk_instance_restrictions`: who may sign up (UpdateInstanceRestrictions,
//! `PATCH /v1/instance/restrictions`). A singleton; destroying it leaves the
//! restrictions as they are.
//!
//! The API has no read of the restrictions: the PATCH answers the whole
//! `InstanceRestrictions` object, and that answer is what the state holds.
//! A refresh keeps it, so a change made elsewhere is not seen.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{ApplyError, Attribute, Ctx, Diagnostics, IntoDiags, Schema, Value};

use super::client::{ClerkClient, Restrictions};
use super::singleton::{Singleton, SINGLETON_ID};

pub struct InstanceRestrictions;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    allowlist: Value<bool>,
    blocklist: Value<bool>,
    allowlist_blocklist_disabled_on_sign_in: Value<bool>,
    block_email_subaddresses: Value<bool>,
    block_disposable_email_domains: Value<bool>,
}

impl Model {
    /// Known (configured, or kept from the last apply) values only: a value
    /// left unknown is not sent and so stays as it is remotely.
    fn patch(&self) -> Restrictions {
        Restrictions {
            allowlist: self.allowlist.known().copied(),
            blocklist: self.blocklist.known().copied(),
            allowlist_blocklist_disabled_on_sign_in: self
                .allowlist_blocklist_disabled_on_sign_in
                .known()
                .copied(),
            block_email_subaddresses: self.block_email_subaddresses.known().copied(),
            block_disposable_email_domains: self.block_disposable_email_domains.known().copied(),
        }
    }

    fn answered(r: Restrictions) -> Self {
        Model {
            id: SINGLETON_ID.to_string().into(),
            allowlist: r.allowlist.into(),
            blocklist: r.blocklist.into(),
            allowlist_blocklist_disabled_on_sign_in: r
                .allowlist_blocklist_disabled_on_sign_in
                .into(),
            block_email_subaddresses: r.block_email_subaddresses.into(),
            block_disposable_email_domains: r.block_disposable_email_domains.into(),
        }
    }
}

const NOT_READ: &str = "Unset: never sent, so left as it is; the value the API reports after an apply is recorded (shown as known after apply when the restrictions change). The API cannot read the restrictions, so a change made elsewhere is not seen.";

#[async_trait]
impl Singleton for InstanceRestrictions {
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_instance_restrictions";
    const NOUN: &'static str = "instance restrictions";

    fn schema(&self) -> Schema {
        let d = |what: &str| format!("{what} {NOT_READ}");
        // No UseStateForUnknown: an unset flag is unknown in an update's plan
        // and so never sent. Re-sending the last answer could undo a change
        // made elsewhere that the API gives no way to see.
        let flag = |name: &'static str, what: &str| {
            Attribute::bool(name).optional_computed().describe(d(what))
        };
        Schema::new(
            "Sign-up restrictions of the instance (UpdateInstanceRestrictions, `PATCH /v1/instance/restrictions`). One per instance; destroying it leaves the restrictions as they are. **No drift detection:** the Backend API has no read of the restrictions, only the PATCH's answer, so the state holds the values the last apply saw and a change made in the dashboard is not shown by `terraform plan`. Import with the id `instance` (the import sends an empty PATCH, which changes nothing, to learn the current values).",
            vec![
                Attribute::id("Always `instance`, the import id."),
                flag("allowlist", "Only identifiers on the allow-list (`clerk_allowlist_identifier`) may sign up."),
                flag("blocklist", "Identifiers on the block-list (`clerk_blocklist_identifier`) may not sign up or sign in."),
                flag("allowlist_blocklist_disabled_on_sign_in", "Apply the allow- and block-list at sign-up only, not at sign-in."),
                flag("block_email_subaddresses", "Refuse email addresses with a subaddress (`+`, `=` or `#` in the local part)."),
                flag("block_disposable_email_domains", "Refuse email addresses of disposable email providers."),
            ],
        )
    }

    /// A repeated PATCH lands in the same state: the shared client retries a
    /// lost answer, and its answer is the whole object.
    async fn apply(&self, ctx: &Ctx, m: Model, failed: &str) -> Result<Model, ApplyError<Model>> {
        patched(ctx, &m.patch(), failed).await.map_err(Into::into)
    }

    /// Nothing to read: the state keeps the last answer.
    async fn read(&self, _ctx: &Ctx, state: Model, _failed: &str) -> Result<Model, Diagnostics> {
        Ok(state)
    }

    /// An empty PATCH changes nothing and answers the current values.
    async fn import(&self, ctx: &Ctx, failed: &str) -> Result<Model, Diagnostics> {
        patched(ctx, &Restrictions::default(), failed).await
    }
}

async fn patched(ctx: &Ctx, patch: &Restrictions, failed: &str) -> Result<Model, Diagnostics> {
    let client = ctx.client::<ClerkClient>()?;
    let r = client
        .update_restrictions(&ctx.cancel, patch)
        .await
        .map_err(|e| e.into_diags(failed))?;
    Ok(Model::answered(r))
}
