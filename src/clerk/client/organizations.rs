//! Organization permissions, roles and organizations: the operations of the
//! spec's "Organization Permissions", "Organization Roles" and
//! "Organizations" tags that the resources use.
use reqwest::Method;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::collection::{object_path, Collection};
use super::{ClerkClient, ClerkError};

/// The `Permission` object. `kind` is `system` for Clerk's `org:sys_*`.
#[derive(Clone, Debug, Deserialize)]
pub struct Permission {
    pub id: String,
    pub name: String,
    pub key: String,
    pub description: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub created_at: i64,
}

/// Create and update share the body: every member is sent, so an update
/// is a full replacement and can be repeated.
#[derive(Clone, Debug, Serialize)]
pub struct PermissionBody {
    pub name: String,
    pub key: String,
    pub description: String,
}

/// The `Role` object; its permissions come expanded.
#[derive(Clone, Debug, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub key: String,
    pub description: Option<String>,
    #[serde(default)]
    pub is_creator_eligible: bool,
    #[serde(default)]
    pub permissions: Vec<Permission>,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RoleCreate {
    pub name: String,
    pub key: String,
    pub description: String,
    /// Permission ids.
    pub permissions: Vec<String>,
}

/// UpdateOrganizationRole without `permissions`: those change one by one
/// (assign, then remove) so the role is never without them.
#[derive(Clone, Debug, Serialize)]
pub struct RoleUpdate {
    pub name: String,
    pub key: String,
    pub description: String,
}

/// The `Organization` object (the members the resource reads).
#[derive(Clone, Debug, Deserialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub max_allowed_memberships: i64,
    pub public_metadata: Option<serde_json::Value>,
    pub private_metadata: Option<serde_json::Value>,
    pub created_by: Option<String>,
    pub created_at: i64,
}

/// CreateOrganization / UpdateOrganization. Absent members are left to
/// Clerk (create) or unchanged (update). Metadata objects replace the
/// stored ones on update: with the pinned API version (2021-02-05) they are
/// accepted on `PATCH /organizations/{id}`, so one request changes all.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OrganizationBody {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_allowed_memberships: Option<i64>,
    pub public_metadata: serde_json::Value,
    pub private_metadata: serde_json::Value,
}

impl OrganizationBody {
    /// UpdateOrganization has no `created_by`, and gets the slug and the
    /// membership limit only when they change: an instance with slugs
    /// disabled, or whose limits billing manages, may refuse them even
    /// unchanged. Name and metadata are always sent (the metadata replaces).
    pub fn for_update(self, prior: &OrganizationBody) -> Self {
        OrganizationBody {
            created_by: None,
            slug: self.slug.filter(|s| prior.slug.as_ref() != Some(s)),
            max_allowed_memberships: self
                .max_allowed_memberships
                .filter(|n| prior.max_allowed_memberships != Some(*n)),
            ..self
        }
    }
}

pub const PERMISSIONS: Collection<Permission> =
    Collection::paged("/organization_permissions", "organization permission");
pub const ROLES: Collection<Role> = Collection::paged("/organization_roles", "organization role");
pub const ORGANIZATIONS: Collection<Organization> =
    Collection::paged("/organizations", "organization");

impl ClerkClient {
    /// AssignPermissionToOrganizationRole. A 409 (already assigned) is
    /// success: the role has the permission, which is what was asked, and it
    /// is what a repeated attempt whose first answer was lost meets.
    pub async fn assign_permission(
        &self,
        cancel: &CancellationToken,
        role_id: &str,
        permission_id: &str,
    ) -> Result<(), ClerkError> {
        let already = |e: &ClerkError| e.status() == Some(reqwest::StatusCode::CONFLICT);
        self.role_permission(cancel, Method::POST, role_id, permission_id, already)
            .await
    }

    /// RemovePermissionFromOrganizationRole. "Not assigned" (404
    /// `organization_role_permission_association_not_found`) is success.
    pub async fn remove_permission(
        &self,
        cancel: &CancellationToken,
        role_id: &str,
        permission_id: &str,
    ) -> Result<(), ClerkError> {
        let already =
            |e: &ClerkError| e.code() == Some("organization_role_permission_association_not_found");
        self.role_permission(cancel, Method::DELETE, role_id, permission_id, already)
            .await
    }

    /// One permission of a role assigned or removed; an error `already`
    /// accepts means the role is already as asked.
    async fn role_permission(
        &self,
        cancel: &CancellationToken,
        method: Method,
        role_id: &str,
        permission_id: &str,
        already: impl Fn(&ClerkError) -> bool,
    ) -> Result<(), ClerkError> {
        let role = ROLES.object_path(role_id);
        let path = format!("{role}{}", object_path("/permissions", permission_id));
        let idem = Idempotency::Idempotent;
        match self
            .call::<IgnoredAny>(cancel, method, &path, None, idem)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if already(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
