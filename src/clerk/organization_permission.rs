//! `clerk_organization_permission`: a custom permission organization roles
//! can grant (`/organization_permissions`; every attribute updates in place).
use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, Attribute, Ctx, Diagnostics, IntoDiags, Invalid, Plan, Schema, StrCheck, StringLen,
    Value,
};

use super::client::{ClerkClient, Permission, PermissionBody, PERMISSIONS};
use super::create_settled::create_settled;
use super::crud::{created_at, Collected, Collection, ImportId};

pub struct OrganizationPermissionResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    key: Value<String>,
    name: Value<String>,
    description: Value<String>,
    created_at: Value<i64>,
}

impl From<Permission> for Model {
    fn from(p: Permission) -> Self {
        Model {
            id: p.id.into(),
            key: p.key.into(),
            name: p.name.into(),
            // Clerk stores a missing description as "": read back as unset.
            description: p.description.filter(|d| !d.is_empty()).into(),
            created_at: p.created_at.into(),
        }
    }
}

impl Model {
    fn body(&self) -> PermissionBody {
        PermissionBody {
            name: self.name.str_or("").to_string(),
            key: self.key.str_or("").to_string(),
            description: self.description.str_or("").to_string(),
        }
    }
}

/// CreateOrganizationPermission's rule: `org:<feature>:<action>`, both
/// segments lowercase letters, digits or underscores; `org:sys_` is Clerk's.
pub fn check_permission_key(key: &str) -> Result<(), Invalid> {
    let segment = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let parts: Vec<&str> = key.split(':').collect();
    if parts.len() != 3 || parts[0] != "org" || !segment(parts[1]) || !segment(parts[2]) {
        return Err("must look like `org:<feature>:<action>` (e.g. `org:posts:edit`), both parts lowercase letters, digits or underscores".into());
    }
    if key.starts_with("org:sys_") {
        return Err(
            "starts with `org:sys_`, which Clerk reserves for its system permissions".into(),
        );
    }
    Ok(())
}

/// Clerk stores a missing description as "", so an empty one could never
/// read back as what was configured.
fn check_description(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err("must not be empty; leave it unset for no description".into());
    }
    Ok(())
}

/// Names Clerk shows (permissions, roles, organizations) need a visible character.
pub fn check_not_blank(s: &str) -> Result<(), Invalid> {
    if s.trim().is_empty() {
        return Err("must contain a visible character".into());
    }
    Ok(())
}

/// The `name` and `description` permissions and roles both have; the
/// refusals (`blank`, `empty`) name which of the two they are.
pub fn name_and_description(
    blank: &'static str,
    about_name: &str,
    empty: &'static str,
) -> [Attribute; 2] {
    [
        Attribute::string("name")
            .required()
            .validate(StringLen(1, 256))
            .validate(StrCheck(blank, check_not_blank))
            .describe(about_name),
        Attribute::string("description")
            .optional()
            .validate(StrCheck(empty, check_description))
            .describe("Free-text description. Unset means none."),
    ]
}

/// Keys of the permissions planned by this provider process: a role
/// planned after them (it references them, so Terraform plans them first)
/// may name a key that will exist once the plan is applied.
pub fn planned_keys() -> &'static Mutex<BTreeSet<String>> {
    static KEYS: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    KEYS.get_or_init(Default::default)
}

#[async_trait]
impl Collected for OrganizationPermissionResource {
    type Object = Permission;
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_organization_permission";
    const IMPORT: ImportId<Permission> = ImportId::KeyPrefix("org:", |p| &p.key);

    const COLLECTION: &'static Collection<Permission> = &PERMISSIONS;
    const ID: fn(&Model) -> &str = |m| m.id.str_or("");
    const IMPORT_TAKES: (&'static str, &'static str) = (
        "key",
        "an id (`perm_...`) or a key (`org:<feature>:<action>`)",
    );

    fn schema(&self) -> Schema {
        let [name, description] = name_and_description(
            "Blank permission name",
            "Display name shown in the Clerk dashboard.",
            "Empty permission description",
        );
        Schema::new(
            "A custom organization permission (`/organization_permissions`), granted to members through `clerk_organization_role`. Clerk's system permissions (`org:sys_*`) exist on every instance and cannot be managed. Every attribute updates in place. Import with the id (`perm_...`) or the key.",
            vec![
                Attribute::id("Permission id (`perm_...`), an import id."),
                Attribute::string("key").required().validate(StrCheck("Invalid permission key", check_permission_key)).describe("Unique key, `org:<feature>:<action>` with lowercase letters, digits or underscores (e.g. `org:posts:edit`); it is what session tokens and `has({ permission })` checks carry. Cannot start with `org:sys_`. Changing it updates the permission in place (roles keep it). Also an import id."),
                name,
                description,
                created_at(),
            ],
        )
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: Plan<'_, Model>) {
        if let Some(k) = plan.planned.key.known() {
            planned_keys()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(k.clone());
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let client = ctx.client::<ClerkClient>()?;
        let body = m.body();
        let created = create_settled(
            ctx,
            "an organization permission",
            || PERMISSIONS.create(&client, &ctx.cancel, &body),
            || PERMISSIONS.find(&client, &ctx.cancel, |p| p.key == body.key),
            |p: &Permission| {
                p.name == body.name && p.description.as_deref().unwrap_or("") == body.description
            },
        )
        .await
        .map_err(|e| e.into_diags("Failed to create organization permission"))?;
        Ok(created.into())
    }

    /// Every member is sent: the body alone says what the permission becomes.
    async fn update(&self, ctx: &Ctx, prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        PERMISSIONS
            .update_in(ctx, (Self::ID)(&prior), &m.body())
            .await
    }

    fn refuse_import(p: &Permission, id: &str) -> Result<(), Diagnostics> {
        if p.kind.as_deref() == Some("system") {
            return Err(Diagnostics::error(
                "System permission",
                format!("{id:?} is one of Clerk's system permissions, which exist on every instance and cannot be changed or deleted: there is nothing to manage."),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check_permission_key;
    use crate::framework::assert_checks;

    #[test]
    fn permission_keys() {
        assert_checks(
            check_permission_key,
            &["org:posts:edit", "org:team_2:read"],
            &[
                "posts:edit",
                "org:posts",
                "org:posts:edit:all",
                "org:Posts:edit",
                "org::edit",
                "org:posts:",
                "org:sys_profile:manage",
                "org:posts:ed it",
                "",
            ],
        );
    }
}
