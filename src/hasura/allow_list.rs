//! `hasura_allow_list`: one query collection in the allow list
//! (`add_collection_to_allowlist`, `drop_collection_from_allowlist`), its
//! scope changed in place (`update_scope_of_collection_in_allowlist`).
use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    AttrPath, Attribute, Ctx, Diagnostics, Each, IntoDiags, Invalid, Known, NotEmpty, Null,
    RequiresReplace, Schema, StrCheck, Type, Value,
};

use super::client::query_collections::{AllowlistEntry, Scope};
use super::engine;
use super::ident::NameCheck;
use super::named::Named;
use super::query_collection::check_name;

pub struct AllowListResource;

type Roles = Value<Vec<Value<String>>>;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    collection: Value<String>,
    roles: Roles,
}

impl Model {
    fn collection(&self) -> &str {
        self.collection.str_or("")
    }

    fn entry(&self) -> AllowlistEntry {
        let roles = self.roles.known().map(|r| {
            r.iter()
                .filter_map(|v| v.known().cloned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        });
        AllowlistEntry {
            collection: self.collection().to_string(),
            scope: Scope::from_roles(roles),
        }
    }

    fn from_remote(e: AllowlistEntry) -> Model {
        Model {
            id: Known(e.collection.clone()),
            roles: e
                .scope
                .roles()
                .map_or(Null, |r| Known(r.into_iter().map(Known).collect())),
            collection: Known(e.collection),
        }
    }

    /// Adds the entry, or (`update`) changes the scope of the one there.
    async fn put(&self, ctx: &Ctx, update: bool, summary: &str) -> Result<(), Diagnostics> {
        let put = engine(ctx)?
            .put_allowlist_entry(&ctx.cancel, &self.entry(), update)
            .await;
        put.map_err(|e| {
            if e.message().contains("query collection with name") {
                return Diagnostics::attr_error(
                    AttrPath::attr("collection"),
                    summary,
                    e.to_string(),
                );
            }
            e.into_diags(summary)
        })
    }
}

/// Hasura's `RoleName` is any non-empty text.
fn check_role(role: &str) -> Result<(), Invalid> {
    if role.is_empty() {
        return Err("has an empty role name".into());
    }
    Ok(())
}

#[async_trait]
impl Named for AllowListResource {
    type Model = Model;
    type Remote = AllowlistEntry;
    const IMPORT_ID: (NameCheck, &'static str) = (
        check_name,
        "the name of a query collection in the allow list",
    );
    const DROP_FAILED: &'static str = "Failed to remove collection from the allow list";
    const KEY: fn(&mut Model) -> [&mut Value<String>; 2] = |m| [&mut m.id, &mut m.collection];
    const FROM_REMOTE: fn(AllowlistEntry, &Model) -> Model = |e, _| Model::from_remote(e);

    fn type_name(&self) -> &'static str {
        "hasura_allow_list"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Adds a query collection to the allow list (`add_collection_to_allowlist`). When the engine runs with `HASURA_GRAPHQL_ENABLE_ALLOWLIST=true`, non-admin requests may only run the documents of collections allowed for every role (global scope) or for their role. Changing `roles` updates the scope in place (`update_scope_of_collection_in_allowlist`). Import with the collection's name.",
            vec![
                Attribute::id("The collection's name: the import id."),
                Attribute::string("collection").required().plan(RequiresReplace).validate(StrCheck("Invalid collection name", check_name)).describe("Name of the query collection, usually `hasura_query_collection.<name>.name` (which also orders the writes)."),
                Attribute::typed("roles", Type::set(Type::String)).optional().validate(NotEmpty("Invalid roles", "`roles` must name at least one role; leave it unset for the global scope.")).validate(Each(StrCheck("Invalid roles", check_role))).describe("Roles the collection is allowed for (scope `{global: false, roles}`). Unset: allowed for every role (global scope). Must not be empty when set. Role names are any non-empty text."),
            ],
        )
    }

    async fn write(&self, ctx: &Ctx, m: &Model, update: bool) -> Result<(), Diagnostics> {
        if update {
            return m
                .put(ctx, true, "Failed to update the allow-list scope")
                .await;
        }
        let summary = "Failed to add collection to the allow list";
        // Hasura answers an entry already there with 200 and ignores the
        // scope: refuse instead of silently adopting another scope.
        let export = engine(ctx)?
            .export(&ctx.cancel)
            .await
            .map_err(|e| e.into_diags(summary))?;
        if export
            .entry_named::<AllowlistEntry>(m.collection())
            .is_some()
        {
            return Err(Diagnostics::attr_error(
                AttrPath::attr("collection"),
                summary,
                format!(
                    "The collection {:?} is already in the allow list. To manage it, import it: terraform import <address> {}",
                    m.collection(),
                    m.collection()
                ),
            ));
        }
        m.put(ctx, false, summary).await
    }
}
