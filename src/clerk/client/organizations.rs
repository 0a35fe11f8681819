//! Organization permissions, roles and organizations: the operations of the
//! spec's "Organization Permissions", "Organization Roles" and
//! "Organizations" tags that the resources use.
use reqwest::Method;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::{already_gone_is_done, object_path, ClerkClient, ClerkError};

const PERMISSIONS: &str = "/organization_permissions";
const ROLES: &str = "/organization_roles";
const ORGANIZATIONS: &str = "/organizations";

/// The `Permission` object. `kind` is `system` for Clerk's `org:sys_*`.
#[derive(Clone, Debug, Deserialize)]
pub struct Permission {
    pub id: String,
    pub name: String,
    pub key: String,
    #[serde(default)]
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
    #[serde(default)]
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
    #[serde(default)]
    pub public_metadata: Option<serde_json::Value>,
    #[serde(default)]
    pub private_metadata: Option<serde_json::Value>,
    #[serde(default)]
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

fn json<T: Serialize>(body: &T) -> serde_json::Value {
    serde_json::to_value(body).expect("body serialises")
}

impl ClerkClient {
    async fn send<T: DeserializeOwned>(
        &self,
        cancel: &CancellationToken,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        idem: Idempotency,
    ) -> Result<T, ClerkError> {
        self.call(cancel, method, path, body.as_ref(), idem).await
    }

    async fn delete_object(
        &self,
        cancel: &CancellationToken,
        path: &str,
    ) -> Result<(), ClerkError> {
        let idem = Idempotency::Idempotent;
        already_gone_is_done(
            self.send::<IgnoredAny>(cancel, Method::DELETE, path, None, idem)
                .await,
        )
    }

    // --- permissions ---

    pub async fn list_permissions(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<Permission>, ClerkError> {
        self.list_all(cancel, PERMISSIONS).await
    }

    /// `Ok(None)` when no permission has this id.
    pub async fn permission(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<Option<Permission>, ClerkError> {
        self.get_optional(cancel, &object_path(PERMISSIONS, id))
            .await
    }

    pub async fn create_permission(
        &self,
        cancel: &CancellationToken,
        body: &PermissionBody,
    ) -> Result<Permission, ClerkError> {
        let idem = Idempotency::Unsafe;
        self.send(cancel, Method::POST, PERMISSIONS, Some(json(body)), idem)
            .await
    }

    pub async fn update_permission(
        &self,
        cancel: &CancellationToken,
        id: &str,
        body: &PermissionBody,
    ) -> Result<Permission, ClerkError> {
        let path = object_path(PERMISSIONS, id);
        let idem = Idempotency::Idempotent;
        self.send(cancel, Method::PATCH, &path, Some(json(body)), idem)
            .await
    }

    pub async fn delete_permission(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<(), ClerkError> {
        self.delete_object(cancel, &object_path(PERMISSIONS, id))
            .await
    }

    // --- roles ---

    pub async fn list_roles(&self, cancel: &CancellationToken) -> Result<Vec<Role>, ClerkError> {
        self.list_all(cancel, ROLES).await
    }

    /// `Ok(None)` when no role has this id.
    pub async fn role(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<Option<Role>, ClerkError> {
        self.get_optional(cancel, &object_path(ROLES, id)).await
    }

    pub async fn create_role(
        &self,
        cancel: &CancellationToken,
        body: &RoleCreate,
    ) -> Result<Role, ClerkError> {
        let idem = Idempotency::Unsafe;
        self.send(cancel, Method::POST, ROLES, Some(json(body)), idem)
            .await
    }

    pub async fn update_role(
        &self,
        cancel: &CancellationToken,
        id: &str,
        body: &RoleUpdate,
    ) -> Result<Role, ClerkError> {
        let path = object_path(ROLES, id);
        let idem = Idempotency::Idempotent;
        self.send(cancel, Method::PATCH, &path, Some(json(body)), idem)
            .await
    }

    pub async fn delete_role(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<(), ClerkError> {
        self.delete_object(cancel, &object_path(ROLES, id)).await
    }

    /// AssignPermissionToOrganizationRole. A 409 (already assigned) is
    /// success: the role has the permission, which is what was asked, and it
    /// is what a repeated attempt whose first answer was lost meets.
    pub async fn assign_permission(
        &self,
        cancel: &CancellationToken,
        role_id: &str,
        permission_id: &str,
    ) -> Result<(), ClerkError> {
        let path = format!(
            "{}{}",
            object_path(ROLES, role_id),
            object_path("/permissions", permission_id)
        );
        let idem = Idempotency::Idempotent;
        match self
            .send::<IgnoredAny>(cancel, Method::POST, &path, None, idem)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(reqwest::StatusCode::CONFLICT) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// RemovePermissionFromOrganizationRole. "Not assigned" (404
    /// `organization_role_permission_association_not_found`) is success.
    pub async fn remove_permission(
        &self,
        cancel: &CancellationToken,
        role_id: &str,
        permission_id: &str,
    ) -> Result<(), ClerkError> {
        let path = format!(
            "{}{}",
            object_path(ROLES, role_id),
            object_path("/permissions", permission_id)
        );
        let idem = Idempotency::Idempotent;
        match self
            .send::<IgnoredAny>(cancel, Method::DELETE, &path, None, idem)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("organization_role_permission_association_not_found") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    // --- organizations ---

    pub async fn list_organizations(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<Organization>, ClerkError> {
        self.list_all(cancel, ORGANIZATIONS).await
    }

    /// By id or slug (GetOrganization takes either); `Ok(None)` on 404.
    pub async fn organization(
        &self,
        cancel: &CancellationToken,
        id_or_slug: &str,
    ) -> Result<Option<Organization>, ClerkError> {
        self.get_optional(cancel, &object_path(ORGANIZATIONS, id_or_slug))
            .await
    }

    pub async fn create_organization(
        &self,
        cancel: &CancellationToken,
        body: &OrganizationBody,
    ) -> Result<Organization, ClerkError> {
        let idem = Idempotency::Unsafe;
        self.send(cancel, Method::POST, ORGANIZATIONS, Some(json(body)), idem)
            .await
    }

    pub async fn update_organization(
        &self,
        cancel: &CancellationToken,
        id: &str,
        body: &OrganizationBody,
    ) -> Result<Organization, ClerkError> {
        let path = object_path(ORGANIZATIONS, id);
        let mut b = json(body);
        // UpdateOrganization has no `created_by`.
        if let Some(m) = b.as_object_mut() {
            m.remove("created_by");
        }
        let idem = Idempotency::Idempotent;
        self.send(cancel, Method::PATCH, &path, Some(b), idem).await
    }

    pub async fn delete_organization(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<(), ClerkError> {
        self.delete_object(cancel, &object_path(ORGANIZATIONS, id))
            .await
    }
}
