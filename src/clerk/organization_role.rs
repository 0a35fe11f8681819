//! `clerk_organization_role`: an organization role and the permissions it
//! grants (`/organization_roles`). Name, key and description update in
//! place (UpdateOrganizationRole); permissions change one by one through
//! AssignPermissionToOrganizationRole / RemovePermissionFromOrganizationRole,
//! new ones first, so a member never holds the role without its permissions.
use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Invalid, Known, Plan, Schema,
    StrCheck, Type, Value,
};

use super::client::{
    ClerkClient, ClerkError, Permission, Role, RoleCreate, RoleUpdate, PERMISSIONS, ROLES,
};
use super::create_settled::create_settled;
use super::crud::{created_at, Collected, Collection, ImportId};
use super::organization_permission::{name_and_description, planned_keys};

pub struct OrganizationRoleResource;

type Keys = Value<Vec<Value<String>>>;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    key: Value<String>,
    name: Value<String>,
    description: Value<String>,
    permissions: Keys,
    created_at: Value<i64>,
}

impl From<Role> for Model {
    fn from(r: Role) -> Self {
        Model {
            id: r.id.into(),
            key: r.key.into(),
            name: r.name.into(),
            description: r.description.filter(|d| !d.is_empty()).into(),
            permissions: keys_value(&r.permissions),
            created_at: r.created_at.into(),
        }
    }
}

fn keys_value(perms: &[Permission]) -> Keys {
    let keys: BTreeSet<&str> = perms.iter().map(|p| p.key.as_str()).collect();
    Known(keys.into_iter().map(|k| Known(k.to_string())).collect())
}

/// The configured keys, when every one is known.
fn known_keys(v: &Keys) -> Option<BTreeSet<String>> {
    v.known()?
        .iter()
        .map(|k| k.known().cloned())
        .collect::<Option<BTreeSet<_>>>()
}

/// CreateOrganizationRole's rule: `org:` then lowercase letters, digits and
/// underscores only.
pub fn check_role_key(key: &str) -> Result<(), Invalid> {
    let ok = key.strip_prefix("org:").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    });
    if !ok {
        return Err("must start with `org:` followed by lowercase letters, digits or underscores only (e.g. `org:editor`)".into());
    }
    Ok(())
}

/// A permission key as the role names it: `org:<feature>:<action>`,
/// Clerk's `org:sys_*` included.
fn check_granted_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split(':').collect();
    parts.len() == 3
        && parts[0] == "org"
        && parts[1..].iter().all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// Permission ids for `keys`, or the keys no permission has.
fn resolve(all: &[Permission], keys: &BTreeSet<String>) -> Result<Vec<String>, Vec<String>> {
    let mut ids = Vec::new();
    let mut missing = Vec::new();
    for k in keys {
        match all.iter().find(|p| &p.key == k) {
            Some(p) => ids.push(p.id.clone()),
            None => missing.push(k.clone()),
        }
    }
    if missing.is_empty() {
        Ok(ids)
    } else {
        Err(missing)
    }
}

fn unknown_permissions(missing: &[String]) -> Diagnostics {
    Diagnostics::attr_error(
        AttrPath::attr("permissions"),
        "Unknown organization permission",
        format!("`permissions` names {}, which no organization permission of this instance has. Create it with a `clerk_organization_permission` and reference its `key` (e.g. `clerk_organization_permission.edit.key`), so Terraform creates it before the role.", missing.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ")),
    )
}

#[async_trait]
impl Collected for OrganizationRoleResource {
    type Object = Role;
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_organization_role";
    const IMPORT: ImportId<Role> = ImportId::KeyPrefix("org:", |r| &r.key);

    const COLLECTION: &'static Collection<Role> = &ROLES;
    const ID: fn(&Model) -> &str = |m| m.id.str_or("");
    const IMPORT_TAKES: (&'static str, &'static str) =
        ("key", "an id (`role_...`) or a key (`org:...`)");

    fn schema(&self) -> Schema {
        let [name, description] = name_and_description(
            "Blank role name",
            "Display name shown in the Clerk dashboard and components.",
            "Empty role description",
        );
        Schema::new(
            "An organization role (`/organization_roles`) and the permissions it grants; session tokens carry it as `org_role` and its permissions as `org_permissions`. Every attribute updates in place. Permissions change one at a time, new ones assigned before old ones are removed, so members holding the role never lose a permission that stays. The default roles `org:admin` and `org:member` can be imported and managed; Clerk refuses to delete a role that is the creator role, the domain default role, or held by a member. Import with the id (`role_...`) or the key.",
            vec![
                Attribute::id("Role id (`role_...`), an import id."),
                Attribute::string("key").required().validate(StrCheck("Invalid role key", check_role_key)).describe("Unique key: `org:` followed by lowercase letters, digits or underscores (e.g. `org:editor`). Tokens carry it as `org_role`. Changing it updates the role in place; Clerk moves members, the creator role and the domain default role to the new key. Also an import id."),
                name,
                description,
                Attribute::typed("permissions", Type::set(Type::String)).optional_computed().describe("Keys of the permissions the role grants: custom ones (`clerk_organization_permission.<name>.key`) and Clerk's system permissions (`org:sys_memberships:read`, ...). Unset means none. A key no permission has is refused at plan when the instance's permissions can be listed (a permission created in the same apply counts when the role references it), and by Clerk otherwise."),
                created_at(),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        for k in config.permissions.elements() {
            if let Some(k) = k.known() {
                if !check_granted_key(k) {
                    diags.add_attr_error(
                        AttrPath::attr("permissions"),
                        "Invalid permission key",
                        format!("`permissions` contains {k:?}, which is not a permission key: keys look like `org:<feature>:<action>` (e.g. `org:posts:edit` or `org:sys_memberships:read`)."),
                    );
                }
            }
        }
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Model>) {
        if plan.config.permissions.is_null() {
            plan.planned.permissions = Known(Vec::new());
        }
        let Some(keys) = known_keys(&plan.planned.permissions) else {
            return;
        };
        if keys.is_empty() {
            return;
        }
        let Ok(client) = ctx.client::<ClerkClient>() else {
            return;
        };
        // Without a listing (no credentials yet, API down) Clerk has the last word.
        let Ok(all) = PERMISSIONS.list(&client, &ctx.cancel).await else {
            return;
        };
        if let Err(missing) = resolve(&all, &keys) {
            let planned = planned_keys()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let missing: Vec<String> = missing
                .into_iter()
                .filter(|k| !planned.contains(k))
                .collect();
            if !missing.is_empty() {
                plan.diags.extend(unknown_permissions(&missing));
            }
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let client = ctx.client::<ClerkClient>()?;
        let keys = known_keys(&m.permissions).unwrap_or_default();
        let all = PERMISSIONS.list_in(ctx).await?;
        let ids = resolve(&all, &keys).map_err(|missing| unknown_permissions(&missing))?;
        let body = RoleCreate {
            name: m.name.str_or("").to_string(),
            key: m.key.str_or("").to_string(),
            description: m.description.str_or("").to_string(),
            permissions: ids,
        };
        let created = create_settled(
            ctx,
            "an organization role",
            || ROLES.create(&client, &ctx.cancel, &body),
            || ROLES.find(&client, &ctx.cancel, |r| r.key == body.key),
            |r: &Role| {
                r.name == body.name
                    && r.permissions
                        .iter()
                        .map(|p| &p.key)
                        .collect::<BTreeSet<_>>()
                        == keys.iter().collect()
            },
        )
        .await
        .map_err(|e| e.into_diags("Failed to create organization role"))?;
        Ok(created.into())
    }

    async fn update(&self, ctx: &Ctx, prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        let id = (Self::ID)(&prior);
        let client = ctx.client::<ClerkClient>()?;
        let result = update_role(&client, ctx, id, &prior, &m).await;
        match result {
            Ok(r) => Ok(r.into()),
            Err(diags) => {
                // Part of the change may have landed: record what is there.
                let state = ROLES
                    .get(&client, &ctx.cancel, id)
                    .await
                    .ok()
                    .flatten()
                    .map(Model::from);
                Err(ApplyError { state, diags })
            }
        }
    }
}

/// Name, key and description first (one PATCH), then the permissions:
/// every missing one assigned before any extra one is removed. The keys are
/// resolved before anything is written, so an unknown one changes nothing.
async fn update_role(
    client: &ClerkClient,
    ctx: &Ctx,
    id: &str,
    prior: &Model,
    m: &Model,
) -> Result<Role, Diagnostics> {
    let failed = |e: ClerkError| e.into_diags("Failed to update organization role");
    let want = known_keys(&m.permissions).unwrap_or_default();
    let all = PERMISSIONS
        .list(client, &ctx.cancel)
        .await
        .map_err(failed)?;
    let want_ids = resolve(&all, &want).map_err(|missing| unknown_permissions(&missing))?;
    let fields_changed =
        prior.name != m.name || prior.key != m.key || prior.description != m.description;
    if fields_changed {
        let body = RoleUpdate {
            name: m.name.str_or("").to_string(),
            key: m.key.str_or("").to_string(),
            description: m.description.str_or("").to_string(),
        };
        ROLES
            .update(client, &ctx.cancel, id, &body)
            .await
            .map_err(failed)?;
    }
    // The role as it is now, not as the prior state says: it may have
    // drifted, and a retried apply may find part of the change made.
    let current = ROLES.get(client, &ctx.cancel, id).await.map_err(failed)?.ok_or_else(|| {
        Diagnostics::error(
            "Organization role not found",
            format!("The organization role {id} no longer exists; run `terraform apply` again to create it."),
        )
    })?;
    let have: BTreeSet<&str> = current.permissions.iter().map(|p| p.id.as_str()).collect();
    for pid in want_ids.iter().filter(|p| !have.contains(p.as_str())) {
        client
            .assign_permission(&ctx.cancel, id, pid)
            .await
            .map_err(failed)?;
    }
    for pid in have.iter().filter(|p| !want_ids.iter().any(|w| w == *p)) {
        client
            .remove_permission(&ctx.cancel, id, pid)
            .await
            .map_err(failed)?;
    }
    ROLES
        .get(client, &ctx.cancel, id)
        .await
        .map_err(failed)?
        .ok_or_else(|| {
            Diagnostics::error(
                "Organization role not found",
                format!("The organization role {id} disappeared during the update."),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn role_keys() {
        assert_checks(
            check_role_key,
            &["org:editor", "org:billing_2"],
            &[
                "editor",
                "org:",
                "org:Editor",
                "org:a:b",
                "org:a-b",
                "Org:x",
                "",
            ],
        );
        assert!(check_granted_key("org:sys_memberships:read"));
        assert!(!check_granted_key("org:editor"));
    }
}
