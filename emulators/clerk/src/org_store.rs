//! Organizations, their roles and permissions, and satellite domains: the
//! objects of the Backend API spec's `Organization`, `Role`, `Permission` and
//! `Domain` schemas, with what a fresh instance starts with.

use serde_json::{json, Value};

use crate::ids;

/// The `Permission` schema. `type` is `system` for Clerk's own permissions
/// (`org:sys_*`, which UpdateOrganizationPermission and
/// DeleteOrganizationPermission refuse) and `user` for custom ones.
#[derive(Clone, Debug)]
pub struct Permission {
    pub id: String,
    pub name: String,
    pub key: String,
    pub description: String,
    pub system: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Permission {
    pub fn to_json(&self) -> Value {
        json!({
            "object": "permission",
            "id": self.id,
            "name": self.name,
            "key": self.key,
            "description": self.description,
            "type": if self.system { "system" } else { "user" },
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// The `Role` schema (`additionalProperties: false`); `permissions` are ids,
/// expanded to `Permission` objects in its JSON.
#[derive(Clone, Debug)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub key: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The `Organization` schema (the members this emulator keeps).
#[derive(Clone, Debug)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub max_allowed_memberships: i64,
    pub admin_delete_enabled: bool,
    pub public_metadata: Value,
    pub private_metadata: Value,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Organization {
    pub fn to_json(&self, members_count: usize) -> Value {
        json!({
            "object": "organization",
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "image_url": "",
            "has_image": false,
            "members_count": members_count,
            "pending_invitations_count": 0,
            "max_allowed_memberships": self.max_allowed_memberships,
            "admin_delete_enabled": self.admin_delete_enabled,
            "public_metadata": self.public_metadata,
            "private_metadata": self.private_metadata,
            "created_by": self.created_by.clone().unwrap_or_default(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "role_set_key": null,
        })
    }
}

/// A membership: the user's role in an organization, by role key.
#[derive(Clone, Debug)]
pub struct Membership {
    pub organization_id: String,
    pub user_id: String,
    pub role: String,
}

/// A satellite domain (AddDomain only makes satellites).
#[derive(Clone, Debug)]
pub struct SatelliteDomain {
    pub id: String,
    pub name: String,
    pub proxy_url: Option<String>,
}

impl SatelliteDomain {
    /// The `Domain` schema for a satellite: its Frontend API is
    /// `clerk.<name>` unless a proxy serves it, and `accounts_portal_url` is
    /// null ("Null for satellite domains").
    pub fn to_json(&self) -> Value {
        let host = self.name.split(':').next().unwrap_or(&self.name);
        let fapi = self
            .proxy_url
            .clone()
            .unwrap_or_else(|| format!("https://clerk.{host}"));
        json!({
            "object": "domain",
            "id": self.id,
            "name": self.name,
            "is_satellite": true,
            "frontend_api_url": fapi,
            "accounts_portal_url": null,
            "proxy_url": self.proxy_url,
            "development_origin": "",
            "cname_targets": [
                {"host": format!("clerk.{host}"), "value": "frontend-api.clerk.services", "required": true},
            ],
        })
    }
}

/// One change of a role's permission set, for tests that must show a role
/// never went without its permissions.
#[derive(Clone, Debug)]
pub struct RoleChange {
    pub role_key: String,
    pub permission_keys: Vec<String>,
}

pub struct OrgStore {
    pub permissions: Vec<Permission>,
    pub roles: Vec<Role>,
    pub organizations: Vec<Organization>,
    pub memberships: Vec<Membership>,
    pub domains: Vec<SatelliteDomain>,
    /// A production instance (a test knob): only there may a domain have a
    /// `proxy_url` (AddDomain, UpdateDomain).
    pub production: bool,
    /// Every permission set a role had, in order.
    pub role_history: Vec<RoleChange>,
    /// Session id -> its active organization's id.
    pub active: std::collections::BTreeMap<String, String>,
}

/// Clerk's system permissions (clerk-docs "Roles and Permissions": manage
/// and delete the organization, read and manage members, domains, billing).
const SYSTEM_PERMISSIONS: &[(&str, &str, &str)] = &[
    (
        "org:sys_profile:manage",
        "Manage organization",
        "Permission to manage an organization.",
    ),
    (
        "org:sys_profile:delete",
        "Delete organization",
        "Permission to delete an organization.",
    ),
    (
        "org:sys_memberships:read",
        "Read members",
        "Permission to read the members of an organization.",
    ),
    (
        "org:sys_memberships:manage",
        "Manage members",
        "Permission to manage the members of an organization.",
    ),
    (
        "org:sys_domains:read",
        "Read domains",
        "Permission to read the domains of an organization.",
    ),
    (
        "org:sys_domains:manage",
        "Manage domains",
        "Permission to manage the domains of an organization.",
    ),
    (
        "org:sys_billing:read",
        "Read billing",
        "Permission to read the billing of an organization.",
    ),
    (
        "org:sys_billing:manage",
        "Manage billing",
        "Permission to manage the billing of an organization.",
    ),
];

/// How many roles an instance may add to the two defaults (clerk-docs
/// "Roles and Permissions": "up to 10 custom organization roles"); over it
/// Clerk answers `OrganizationInstanceRolesQuotaExceeded`.
pub const CUSTOM_ROLES_MAX: usize = 10;

impl Default for OrgStore {
    /// A fresh instance: the system permissions, `org:admin` with all of
    /// them and `org:member` with "Read members" and "Read billing".
    fn default() -> Self {
        let now = ids::now_millis();
        let permissions: Vec<Permission> = SYSTEM_PERMISSIONS
            .iter()
            .map(|(key, name, description)| Permission {
                id: ids::new_id("perm"),
                name: name.to_string(),
                key: key.to_string(),
                description: description.to_string(),
                system: true,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let ids_of = |keys: &[&str]| -> Vec<String> {
            permissions
                .iter()
                .filter(|p| keys.contains(&p.key.as_str()))
                .map(|p| p.id.clone())
                .collect()
        };
        let all: Vec<&str> = SYSTEM_PERMISSIONS.iter().map(|p| p.0).collect();
        let roles = vec![
            Role {
                id: ids::new_id("role"),
                name: "Admin".into(),
                key: "org:admin".into(),
                description: Some("Role with elevated permissions".into()),
                permissions: ids_of(&all),
                created_at: now,
                updated_at: now,
            },
            Role {
                id: ids::new_id("role"),
                name: "Member".into(),
                key: "org:member".into(),
                description: Some("Role with non-elevated permissions".into()),
                permissions: ids_of(&["org:sys_memberships:read", "org:sys_billing:read"]),
                created_at: now,
                updated_at: now,
            },
        ];
        OrgStore {
            permissions,
            roles,
            organizations: Vec::new(),
            memberships: Vec::new(),
            domains: Vec::new(),
            production: false,
            role_history: Vec::new(),
            active: Default::default(),
        }
    }
}

impl OrgStore {
    pub fn permission(&self, id: &str) -> Option<&Permission> {
        self.permissions.iter().find(|p| p.id == id)
    }

    pub fn role_json(&self, r: &Role) -> Value {
        let perms: Vec<Value> = r
            .permissions
            .iter()
            .filter_map(|id| self.permission(id))
            .map(Permission::to_json)
            .collect();
        json!({
            "object": "role",
            "id": r.id,
            "name": r.name,
            "key": r.key,
            "description": r.description,
            "is_creator_eligible": self.is_creator_eligible(r),
            "permissions": perms,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        })
    }

    /// A creator must be able to manage the organization and its members.
    fn is_creator_eligible(&self, r: &Role) -> bool {
        ["org:sys_profile:manage", "org:sys_memberships:manage"]
            .iter()
            .all(|k| {
                r.permissions
                    .iter()
                    .any(|id| self.permission(id).is_some_and(|p| p.key == *k))
            })
    }

    /// The permission keys a role grants, for membership answers and tokens.
    pub fn role_permission_keys(&self, role_key: &str) -> Vec<String> {
        self.roles
            .iter()
            .find(|r| r.key == role_key)
            .map(|r| {
                r.permissions
                    .iter()
                    .filter_map(|id| self.permission(id))
                    .map(|p| p.key.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn members_count(&self, org_id: &str) -> usize {
        self.memberships
            .iter()
            .filter(|m| m.organization_id == org_id)
            .count()
    }

    pub fn org_json(&self, o: &Organization) -> Value {
        o.to_json(self.members_count(&o.id))
    }

    /// Records the role's permission set after a change.
    pub fn record(&mut self, role_index: usize) {
        let r = &self.roles[role_index];
        let keys = r
            .permissions
            .iter()
            .filter_map(|id| self.permission(id))
            .map(|p| p.key.clone())
            .collect();
        self.role_history.push(RoleChange {
            role_key: r.key.clone(),
            permission_keys: keys,
        });
    }
}
