//! Remote schemas (`add_remote_schema`, `update_remote_schema`,
//! `remove_remote_schema`) and their role permissions
//! (`add_remote_schema_permissions`, `drop_remote_schema_permissions`), as the
//! metadata export shows them under the top-level `remote_schemas`
//! (graphql-engine `Hasura/RQL/Types/Metadata/Serialization.hs`,
//! `remoteSchemasToOrdJSONList`: `definition` holds `url` or `url_from_env`,
//! `timeout_seconds` and `customization` when given, `headers` when not
//! empty, `forward_client_headers` only when true; `comment` and
//! `permissions` only when set; `Hasura/RemoteSchema/Metadata/Core.hs`).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub use super::headers::Header;
use super::metadata::{is_already_gone, Export};
use super::top_level::{self, same_normalized, Defined, Droppable};
use super::{Engine, HasuraError};

pub type RemoteSchema = Defined<Definition, Permission>;

/// `RemoteSchemaDef`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_from_env: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Header>,
    #[serde(default)]
    pub forward_client_headers: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customization: Option<Customization>,
}

/// `RemoteSchemaCustomization` (`Hasura/RemoteSchema/Metadata/Customization.hs`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Customization {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_fields_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_names: Option<Renames>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_names: Option<Vec<FieldRenames>>,
}

/// `RemoteTypeCustomization`: `mapping` is always exported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Renames {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
}

/// `RemoteFieldCustomization`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldRenames {
    pub parent_type: String,
    #[serde(flatten)]
    pub renames: Renames,
}

/// `RemoteSchemaPermissionMetadata`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    pub role: String,
    pub definition: PermissionDefinition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PermissionDefinition {
    pub schema: String,
}

impl top_level::Definition for Definition {
    const LIST: &'static str = "remote_schemas";

    /// The same definition, whatever the order of its headers and field
    /// renames (Hasura keeps both as given, but neither order means anything).
    fn same(&self, other: &Definition) -> bool {
        same_normalized(self, other, |d| {
            d.headers.sort();
            if let Some(f) = d
                .customization
                .as_mut()
                .and_then(|c| c.field_names.as_mut())
            {
                f.sort_by(|a, b| a.parent_type.cmp(&b.parent_type));
            }
        })
    }
}

impl RemoteSchema {
    pub fn permission(&self, role: &str) -> Option<&Permission> {
        self.permissions.iter().find(|p| p.role == role)
    }
}

/// A schema already gone counts as removed: `remove_remote_schema` is not
/// a `drop_` command, so the batcher's rule does not cover it.
impl Droppable for RemoteSchema {
    const DROP: &'static str = "remove_remote_schema";

    fn already_gone(e: &HasuraError) -> bool {
        is_already_gone(e)
    }
}

impl Export {
    pub fn remote_schema(&self, name: &str) -> Option<RemoteSchema> {
        self.entry_named(name)
    }
}

impl Engine {
    /// Sets `role`'s permission on `remote_schema`. Hasura has no update for
    /// it: with `replace`, the old one is dropped and the new one added in the
    /// same atomic `bulk`, so the role is never left without one.
    /// `same` tells whether an exported permission is the wanted one.
    pub async fn put_remote_schema_permission(
        &self,
        cancel: &CancellationToken,
        remote_schema: &str,
        perm: &Permission,
        replace: bool,
        same: fn(&Permission, &Permission) -> bool,
    ) -> Result<(), HasuraError> {
        let mut cmds = Vec::new();
        if replace {
            cmds.push(drop_permission(remote_schema, &perm.role));
        }
        cmds.push(json!({"type": "add_remote_schema_permissions", "args": {
            "remote_schema": remote_schema,
            "role": perm.role,
            "definition": perm.definition,
            "comment": perm.comment,
        }}));
        let (rs, want) = (remote_schema.to_string(), perm.clone());
        self.write_with(cancel, cmds, move |x| {
            x.remote_schema(&rs)
                .and_then(|r| r.permission(&want.role).cloned())
                .is_some_and(|p| same(&p, &want))
        })
        .await
    }

    pub async fn drop_remote_schema_permission(
        &self,
        cancel: &CancellationToken,
        remote_schema: &str,
        role: &str,
    ) -> Result<(), HasuraError> {
        let (rs, r) = (remote_schema.to_string(), role.to_string());
        self.write_with(
            cancel,
            vec![drop_permission(remote_schema, role)],
            move |x| {
                x.remote_schema(&rs)
                    .is_none_or(|s| s.permission(&r).is_none())
            },
        )
        .await
    }
}

fn drop_permission(remote_schema: &str, role: &str) -> Value {
    json!({"type": "drop_remote_schema_permissions", "args": {"remote_schema": remote_schema, "role": role}})
}
