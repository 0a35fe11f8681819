//! The instance singletons: GetInstance / UpdateInstance (`/instance`),
//! UpdateInstanceRestrictions (`/instance/restrictions`),
//! GetInstanceOrganizationSettings / UpdateInstanceOrganizationSettings
//! (`/instance/organization_settings`), and the organization-role lookup the
//! organization settings need (they are written by role id, read by key).
//!
//! Every PATCH body member is optional: one left out is left as it is.
use reqwest::Method;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::collection::PAGE;
use super::wire::Paged;
use super::{ClerkClient, ClerkError};

/// The `Instance` object: of what UpdateInstance writes, only
/// `allowed_origins` is read back.
#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub id: String,
    pub environment_type: String,
    pub allowed_origins: Option<Vec<String>>,
}

/// UpdateInstance's body (members the spec marks deprecated are left out).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct InstancePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_mode: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hibp: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clerk_js_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub development_origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_based_session_syncing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_sign_in_strategy_when_password_required: Option<String>,
}

/// The `InstanceRestrictions` object, also UpdateInstanceRestrictions' body.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Restrictions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowlist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocklist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowlist_blocklist_disabled_on_sign_in: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_email_subaddresses: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_disposable_email_domains: Option<bool>,
}

/// The `OrganizationSettings` object (the members this provider manages).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct OrgSettings {
    pub enabled: bool,
    pub max_allowed_memberships: i64,
    pub admin_delete_enabled: bool,
    pub domains_enabled: bool,
    #[serde(default)]
    pub domains_enrollment_modes: Vec<String>,
    /// A role key, e.g. `org:admin`.
    pub creator_role: String,
    pub domains_default_role: String,
}

/// UpdateInstanceOrganizationSettings' body: roles go by id.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OrgSettingsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_allowed_memberships: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_delete_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains_enrollment_modes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_role_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domains_default_role_id: Option<String>,
}

#[derive(Deserialize)]
struct Role {
    id: String,
    key: String,
}

fn to_body<T: Serialize>(t: &T) -> serde_json::Value {
    serde_json::to_value(t).expect("body serialises")
}

impl ClerkClient {
    pub async fn instance(&self, cancel: &CancellationToken) -> Result<Instance, ClerkError> {
        self.get(cancel, "/instance").await
    }

    /// UpdateInstance answers 204 with no body. Repeating the same PATCH
    /// lands in the same state, so a lost answer is simply retried.
    pub async fn update_instance(
        &self,
        cancel: &CancellationToken,
        patch: &InstancePatch,
    ) -> Result<(), ClerkError> {
        let path = "/instance";
        let url = format!("{}{path}", self.base);
        let body = to_body(patch);
        self.http
            .send(
                cancel,
                Method::PATCH,
                &url,
                &self.headers,
                Some(&body),
                Idempotency::Idempotent,
            )
            .await
            .map(|_| ())
            .map_err(|e| ClerkError::from_http(e, &Method::PATCH, path))
    }

    /// The only way to see the restrictions: the API has no read of them.
    pub async fn update_restrictions(
        &self,
        cancel: &CancellationToken,
        patch: &Restrictions,
    ) -> Result<Restrictions, ClerkError> {
        let body = to_body(patch);
        let idem = Idempotency::Idempotent;
        self.call(
            cancel,
            Method::PATCH,
            "/instance/restrictions",
            Some(&body),
            idem,
        )
        .await
    }

    pub async fn org_settings(
        &self,
        cancel: &CancellationToken,
    ) -> Result<OrgSettings, ClerkError> {
        self.get(cancel, "/instance/organization_settings").await
    }

    pub async fn update_org_settings(
        &self,
        cancel: &CancellationToken,
        patch: &OrgSettingsPatch,
    ) -> Result<OrgSettings, ClerkError> {
        let body = to_body(patch);
        let path = "/instance/organization_settings";
        self.call(
            cancel,
            Method::PATCH,
            path,
            Some(&body),
            Idempotency::Idempotent,
        )
        .await
    }

    /// The id of the organization role with this key (ListOrganizationRoles,
    /// whose `query` matches keys partially: the exact key is picked out).
    pub async fn organization_role_id(
        &self,
        cancel: &CancellationToken,
        key: &str,
    ) -> Result<Option<String>, ClerkError> {
        let q: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
        let mut seen = 0;
        loop {
            let path = format!("/organization_roles?query={q}&limit={PAGE}&offset={seen}");
            let page: Paged<Role> = self.get(cancel, &path).await?;
            let n = page.data.len();
            seen += n;
            if let Some(r) = page.data.into_iter().find(|r| r.key == key) {
                return Ok(Some(r.id));
            }
            if n == 0 || seen >= page.total_count {
                return Ok(None);
            }
        }
    }
}
