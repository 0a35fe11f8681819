//! `clerk_organization_settings`: the instance's organization settings
//! (GetInstanceOrganizationSettings / UpdateInstanceOrganizationSettings,
//! `/v1/instance/organization_settings`). A singleton; destroying it leaves
//! the settings as they are. Everything it manages is read back, so changes
//! made elsewhere show in the plan.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Invalid, Schema, StrCheck, Type,
    UseStateForUnknown, Value,
};

use crate::settle::{settle, ReadBack, Settle};

use super::client::{ClerkClient, ClerkError, OrgSettings, OrgSettingsPatch};
use super::singleton::{Singleton, SINGLETON_ID};

pub struct OrganizationSettings;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    enabled: Value<bool>,
    max_allowed_memberships: Value<i64>,
    admin_delete_enabled: Value<bool>,
    domains_enabled: Value<bool>,
    domains_enrollment_modes: Value<Vec<String>>,
    creator_role: Value<String>,
    domains_default_role: Value<String>,
}

impl From<OrgSettings> for Model {
    fn from(o: OrgSettings) -> Self {
        let mut modes = o.domains_enrollment_modes;
        modes.sort();
        modes.dedup();
        Model {
            id: SINGLETON_ID.to_string().into(),
            enabled: o.enabled.into(),
            max_allowed_memberships: o.max_allowed_memberships.into(),
            admin_delete_enabled: o.admin_delete_enabled.into(),
            domains_enabled: o.domains_enabled.into(),
            domains_enrollment_modes: modes.into(),
            creator_role: o.creator_role.into(),
            domains_default_role: o.domains_default_role.into(),
        }
    }
}

/// The modes UpdateInstanceOrganizationSettings documents as supported.
const ENROLLMENT_MODES: &[&str] = &["automatic_invitation", "automatic_suggestion"];

/// Role keys are `org:<name>` (the Backend API's organization roles).
pub fn check_role_key(s: &str) -> Result<(), Invalid> {
    let name = s.strip_prefix("org:").ok_or_else(|| {
        Invalid::from("must be an organization role key starting with `org:`, such as `org:admin`")
    })?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':'))
    {
        return Err(
            "must be `org:` followed by letters, digits, `_`, `-` or `:`, such as `org:admin`"
                .into(),
        );
    }
    Ok(())
}

#[async_trait]
impl Singleton for OrganizationSettings {
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_organization_settings";
    const NOUN: &'static str = "organization settings";

    fn schema(&self) -> Schema {
        let unset = "Unset: left as it is; the remote value is recorded.";
        Schema::new(
            "The instance's organization settings (`/v1/instance/organization_settings`). One per instance: creating it applies the configured settings, destroying it leaves them as they are. Every attribute is read back, so a change made elsewhere shows in the plan. Import with the id `instance`.",
            vec![
                Attribute::id("Always `instance`, the import id."),
                Attribute::bool("enabled").optional_computed().plan(UseStateForUnknown).describe(format!("Whether organizations are enabled. {unset}")),
                Attribute::int("max_allowed_memberships").optional_computed().plan(UseStateForUnknown).validate(crate::framework::IntBetween(0, i64::from(i32::MAX))).describe(format!("Members an organization may have; `0` means no limit. {unset}")),
                Attribute::bool("admin_delete_enabled").optional_computed().plan(UseStateForUnknown).describe(format!("Whether organization admins may delete their organization (Frontend API). {unset}")),
                Attribute::bool("domains_enabled").optional_computed().plan(UseStateForUnknown).describe(format!("Whether organizations may verify domains. {unset}")),
                Attribute::typed("domains_enrollment_modes", Type::set(Type::String)).optional_computed().plan(UseStateForUnknown).describe(format!("Enrollment modes for verified organization domains: `automatic_invitation`, `automatic_suggestion`. {unset}")),
                Attribute::string("creator_role").optional_computed().plan(UseStateForUnknown).validate(StrCheck("Invalid role key", check_role_key)).describe(format!("Key of the role given to an organization's creator, e.g. `org:admin` (or a `clerk_organization_role`'s `key`). The role must exist. {unset}")),
                Attribute::string("domains_default_role").optional_computed().plan(UseStateForUnknown).validate(StrCheck("Invalid role key", check_role_key)).describe(format!("Key of the role given to members who join through a verified domain, e.g. `org:member`. The role must exist. {unset}")),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        for m in config
            .domains_enrollment_modes
            .known()
            .into_iter()
            .flatten()
        {
            if !ENROLLMENT_MODES.contains(&m.as_str()) {
                diags.add_attr_error(
                    AttrPath::attr("domains_enrollment_modes"),
                    "Invalid enrollment mode",
                    format!("`domains_enrollment_modes` entry {m:?} must be one of `automatic_invitation`, `automatic_suggestion`."),
                );
            }
        }
    }

    async fn apply(&self, ctx: &Ctx, m: Model, failed: &str) -> Result<Model, ApplyError<Model>> {
        apply(ctx, &m, failed).await
    }

    async fn read(&self, ctx: &Ctx, _state: Model, failed: &str) -> Result<Model, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let o = client
            .org_settings(&ctx.cancel)
            .await
            .map_err(|e| e.into_diags(failed))?;
        Ok(o.into())
    }
}

/// Roles are written by id and read by key: a configured key is looked up
/// first, and one no role has is refused on its attribute.
async fn role_id(
    client: &ClerkClient,
    ctx: &Ctx,
    attr: &str,
    key: Option<&String>,
) -> Result<Option<String>, Diagnostics> {
    let Some(key) = key else { return Ok(None) };
    let failed = |e: ClerkError| e.into_diags("Failed to look up the organization role");
    match client.organization_role_id(&ctx.cancel, key).await.map_err(failed)? {
        Some(id) => Ok(Some(id)),
        None => Err(Diagnostics::attr_error(
            AttrPath::attr(attr),
            "Organization role not found",
            format!("No organization role has the key {key:?}. Create it first (clerk_organization_role) or use an existing role such as `org:admin`."),
        )),
    }
}

/// Whether `now` shows every value of `patch` (roles by key): how an update
/// whose answer was lost is recognised as landed.
fn shows(
    now: &OrgSettings,
    patch: &OrgSettingsPatch,
    creator: Option<&str>,
    default_role: Option<&str>,
) -> bool {
    let same = |want: Option<bool>, got: bool| want.is_none_or(|w| w == got);
    let mut modes = now.domains_enrollment_modes.clone();
    modes.sort();
    modes.dedup();
    same(patch.enabled, now.enabled)
        && same(patch.admin_delete_enabled, now.admin_delete_enabled)
        && same(patch.domains_enabled, now.domains_enabled)
        && patch
            .max_allowed_memberships
            .is_none_or(|m| m == now.max_allowed_memberships)
        && patch.domains_enrollment_modes.as_ref().is_none_or(|want| {
            let mut want = want.clone();
            want.sort();
            want.dedup();
            want == modes
        })
        && creator.is_none_or(|k| k == now.creator_role)
        && default_role.is_none_or(|k| k == now.domains_default_role)
}

/// The shared client repeats a PATCH whose answer was lost (it is
/// idempotent); when those retries run out, the settings are read back and
/// an update that landed is adopted. Roles are looked up only when they
/// change, so an unchanged role costs no role listing.
async fn apply(ctx: &Ctx, m: &Model, failed: &str) -> Result<Model, ApplyError<Model>> {
    let client = ctx.client::<ClerkClient>()?;
    let now = client
        .org_settings(&ctx.cancel)
        .await
        .map_err(|e| e.into_diags(failed))?;
    let changed = |v: &Value<String>, current: &str| v.known().filter(|k| *k != current).cloned();
    let creator = changed(&m.creator_role, &now.creator_role);
    let default_role = changed(&m.domains_default_role, &now.domains_default_role);
    let patch = OrgSettingsPatch {
        enabled: m.enabled.known().copied(),
        max_allowed_memberships: m.max_allowed_memberships.known().copied(),
        admin_delete_enabled: m.admin_delete_enabled.known().copied(),
        domains_enabled: m.domains_enabled.known().copied(),
        domains_enrollment_modes: m.domains_enrollment_modes.known().cloned(),
        creator_role_id: role_id(&client, ctx, "creator_role", creator.as_ref()).await?,
        domains_default_role_id: role_id(
            &client,
            ctx,
            "domains_default_role",
            default_role.as_ref(),
        )
        .await?,
    };
    let how = Settle {
        resending: "updating the organization settings failed ambiguously and did not land; sending it again",
        landed: Some("updating the organization settings failed ambiguously but it landed; adopting it"),
        table: None,
        resends: 2,
        backoff: true,
    };
    let o = settle(
        &ctx.cancel,
        &how,
        || client.update_org_settings(&ctx.cancel, &patch),
        |_| async {
            let now = client.org_settings(&ctx.cancel).await?;
            Ok(
                if shows(&now, &patch, creator.as_deref(), default_role.as_deref()) {
                    ReadBack::Landed(now)
                } else {
                    ReadBack::Absent
                },
            )
        },
    )
    .await
    .map_err(|u| {
        u.into_error("reading the organization settings back to see whether it landed")
            .into_diags(failed)
    })?;
    Ok(o.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    fn now() -> OrgSettings {
        OrgSettings {
            enabled: true,
            max_allowed_memberships: 20,
            admin_delete_enabled: true,
            domains_enabled: true,
            domains_enrollment_modes: vec![
                "automatic_suggestion".into(),
                "automatic_invitation".into(),
            ],
            creator_role: "org:admin".into(),
            domains_default_role: "org:member".into(),
        }
    }

    #[test]
    fn a_lost_update_is_recognised_by_its_values() {
        let patch = OrgSettingsPatch {
            enabled: Some(true),
            max_allowed_memberships: Some(20),
            domains_enrollment_modes: Some(vec![
                "automatic_invitation".into(),
                "automatic_suggestion".into(),
            ]),
            ..OrgSettingsPatch::default()
        };
        assert!(shows(&now(), &patch, Some("org:admin"), None));
        assert!(!shows(&now(), &patch, Some("org:editor"), None));
        let more = OrgSettingsPatch {
            max_allowed_memberships: Some(50),
            ..patch
        };
        assert!(!shows(&now(), &more, None, None));
    }

    #[test]
    fn role_keys() {
        assert_checks(
            check_role_key,
            &["org:admin", "org:billing_manager"],
            &["admin", "org:", "org:a b"],
        );
    }
}
