//! The `clerk_organization_roles` data source: every organization role of
//! the instance, with the keys of the permissions each grants.
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::framework::{Attribute, Known, Type, Value};

use super::client::{Role, ROLES};
use super::crud::Collection;
use super::listing::Listing;

pub struct OrganizationRolesDataSource;

#[derive(Serialize, Deserialize)]
pub struct RoleItem {
    id: Value<String>,
    key: Value<String>,
    name: Value<String>,
    description: Value<String>,
    permissions: Value<Vec<Value<String>>>,
    is_creator_eligible: Value<bool>,
    created_at: Value<i64>,
}

#[derive(Serialize, Deserialize)]
pub struct Model {
    roles: Value<Vec<RoleItem>>,
    keys: Value<Vec<Value<String>>>,
}

impl Listing for OrganizationRolesDataSource {
    type Object = Role;
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_organization_roles";
    const ABOUT: &'static str = "Every organization role of the instance (all pages of `GET /organization_roles`), including the default `org:admin` and `org:member`: e.g. to map each role a session token can carry (`org_role`) to a Hasura role.";
    const LIST: (&'static str, &'static str) = ("roles", "The roles, sorted by key.");

    const COLLECTION: &'static Collection<Role> = &ROLES;

    fn item(&self) -> Vec<Attribute> {
        vec![
            Attribute::string("id").computed().describe("Role id (`role_...`)."),
            Attribute::string("key").computed().describe("Role key, e.g. `org:admin`; tokens carry it as `org_role`."),
            Attribute::string("name").computed().describe("Display name."),
            Attribute::string("description").computed().describe("Description; null when none."),
            Attribute::typed("permissions", Type::set(Type::String)).computed().describe("Keys of the permissions the role grants."),
            Attribute::bool("is_creator_eligible").computed().describe("Whether the role can be the creator role (it can manage the organization and its members)."),
            Attribute::int("created_at").computed().describe("Creation time, Unix milliseconds."),
        ]
    }

    fn summary(&self) -> Attribute {
        Attribute::typed("keys", Type::list(Type::String))
            .computed()
            .describe("The role keys alone, sorted.")
    }

    fn model(&self, mut roles: Vec<Role>) -> Model {
        roles.sort_by(|a, b| a.key.cmp(&b.key));
        let keys = roles.iter().map(|r| Known(r.key.clone())).collect();
        let items = roles
            .into_iter()
            .map(|r| {
                let perms: BTreeSet<String> = r.permissions.into_iter().map(|p| p.key).collect();
                RoleItem {
                    id: r.id.into(),
                    key: r.key.into(),
                    name: r.name.into(),
                    description: r.description.filter(|d| !d.is_empty()).into(),
                    permissions: Known(perms.into_iter().map(Known).collect()),
                    is_creator_eligible: r.is_creator_eligible.into(),
                    created_at: r.created_at.into(),
                }
            })
            .collect();
        Model {
            roles: Known(items),
            keys: Known(keys),
        }
    }
}
