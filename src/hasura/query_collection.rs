//! `hasura_query_collection`: a named set of GraphQL documents
//! (`create_query_collection`, `drop_query_collection`); query changes are
//! made one by one (`add_query_to_collection`, `drop_query_from_collection`)
//! so the collection's allow-list entry survives them.
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    map_str_eq, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Known, Null, RequiresReplace,
    Schema, StrCheck, Type, Value,
};

use super::client::query_collections::{AllowlistEntry, Collection, Definition, ListedQuery};
use super::client::HasuraError;
use super::engine;
use super::graphql_doc;
/// Collection and query names are `NonEmptyText`.
pub(super) use super::ident::check_non_empty_text as check_name;
use super::ident::NameCheck;
use super::named::Named;

pub struct QueryCollectionResource;

type Queries = Value<BTreeMap<String, Value<String>>>;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    queries: Queries,
    comment: Value<String>,
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }

    fn collection(&self) -> Collection {
        let queries = self
            .queries
            .known()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| ListedQuery {
                        name: k.clone(),
                        query: v.str_or("").to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Collection {
            name: self.name().to_string(),
            definition: Definition { queries },
            comment: self.comment.known().cloned(),
            permissions: Vec::new(),
        }
    }

    /// What is remote, each query in the text `prior` had where they mean the same.
    fn from_remote(c: Collection, prior: &Model) -> Model {
        let old = prior.queries.known();
        let queries = c
            .definition
            .queries()
            .into_iter()
            .map(|(k, q)| {
                let keep = old
                    .and_then(|m| m.get(&k))
                    .and_then(|v| v.known())
                    .filter(|p| graphql_doc::same(p, &q));
                (k, Known(keep.cloned().unwrap_or(q)))
            })
            .collect();
        Model {
            id: Known(c.name.clone()),
            name: Known(c.name),
            queries: Known(queries),
            comment: c.comment.map_or(Null, Known),
        }
    }

    fn write_failed(&self, e: HasuraError, summary: &str) -> Diagnostics {
        let m = e.message();
        if m.contains("already exists") && m.contains("query collection") {
            return Diagnostics::attr_error(
                AttrPath::attr("name"),
                summary,
                format!(
                    "{e} To manage it, import it: terraform import <address> {}",
                    self.name()
                ),
            );
        }
        if m.contains("allowlist") {
            return Diagnostics::attr_error(
                AttrPath::attr("name"),
                summary,
                format!("{e} Remove its allow-list entry first (the `hasura_allow_list` of this collection, or `drop_collection_from_allowlist`)."),
            );
        }
        e.into_diags(summary)
    }
}

impl Model {
    /// Changes the stored collection into the planned one in place.
    async fn update(&self, ctx: &Ctx) -> Result<(), Diagnostics> {
        let engine = engine(ctx)?;
        let fail = |e: HasuraError| self.write_failed(e, "Failed to update query collection");
        // The diff is taken against what is stored now, not the prior state.
        let export = engine.export(&ctx.cancel).await.map_err(fail)?;
        let Some(old) = export.entry_named::<Collection>(self.name()) else {
            return Err(Diagnostics::attr_error(
                AttrPath::attr("name"),
                "Failed to update query collection",
                format!("The collection {:?} no longer exists in Hasura; refresh and apply again to create it.", self.name()),
            ));
        };
        let entry = export.entry_named::<AllowlistEntry>(self.name());
        engine
            .update_query_collection(
                &ctx.cancel,
                &old,
                &self.collection(),
                entry.as_ref(),
                &export.rest_endpoints(),
            )
            .await
            .map_err(fail)
    }
}

#[async_trait]
impl Named for QueryCollectionResource {
    type Model = Model;
    type Remote = Collection;
    const IMPORT_ID: (NameCheck, &'static str) = (check_name, "the query collection's name");
    const DROP_FAILED: &'static str = "Failed to delete query collection";
    const KEY: fn(&mut Model) -> [&mut Value<String>; 2] = |m| [&mut m.id, &mut m.name];
    const FROM_REMOTE: fn(Collection, &Model) -> Model = Model::from_remote;

    fn type_name(&self) -> &'static str {
        "hasura_query_collection"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A query collection: named GraphQL documents (`create_query_collection`). With the allow list enabled (`HASURA_GRAPHQL_ENABLE_ALLOWLIST=true`), a collection added to it by `hasura_allow_list` is the set of operations non-admin roles may run. Queries are added, changed and removed in place, one by one, so the collection stays in the allow list meanwhile. Import with the collection's name.",
            vec![
                Attribute::id("The collection's name: the import id."),
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid collection name", check_name)).describe("Collection name. Hasura has no rename here: changing it replaces the collection (remove it from the allow list first, e.g. by letting `hasura_allow_list.collection` reference this attribute)."),
                Attribute::typed("queries", Type::map(Type::String)).required().semantic_eq(map_str_eq::<graphql_doc::SameDocument>).describe("The collection's GraphQL documents, query name -> document, e.g. `{ user_by_id = \"query user_by_id($id: Int!) { users_by_pk(id: $id) { id name } }\" }`. Each must parse as a GraphQL executable document (checked at plan time). Compared by meaning: whitespace, commas and the order of a field's arguments never cause a diff. With the allow list on, a request must match one of these documents (ignoring layout and `__typename` fields) to run."),
                Attribute::string("comment").optional().describe("Free-form comment kept with the collection. Changing it recreates the collection in one atomic metadata write, keeping its allow-list entry."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        let Some(m) = config.queries.known() else {
            return;
        };
        for (name, q) in m {
            let path = AttrPath::attr("queries").key(name);
            if let Err(e) = check_name(name) {
                diags.add_attr_error(path.clone(), "Invalid query name", format!("{name:?} {e}."));
            }
            if let Some(Err(e)) = q.as_deref().map(graphql_doc::check) {
                diags.add_attr_error(
                    path,
                    "Invalid GraphQL query",
                    format!("`queries[{name:?}]` is not a GraphQL executable document: {e}"),
                );
            }
        }
    }

    async fn write(&self, ctx: &Ctx, m: &Model, update: bool) -> Result<(), Diagnostics> {
        if update {
            return m.update(ctx).await;
        }
        engine(ctx)?
            .create_query_collection(&ctx.cancel, &m.collection())
            .await
            .map_err(|e| m.write_failed(e, "Failed to create query collection"))
    }

    /// Its allow-list entry is what most often stops a drop: say so.
    fn drop_failed(m: &Model, e: HasuraError) -> Diagnostics {
        m.write_failed(e, Self::DROP_FAILED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_keeps_the_users_text() {
        let mut q = BTreeMap::new();
        q.insert(
            "a".to_string(),
            Known("query A {  users { id } }".to_string()),
        );
        q.insert(
            "b".to_string(),
            Known("query B { users { id } }".to_string()),
        );
        let prior = Model {
            name: Known("c".into()),
            queries: Known(q),
            ..Model::default()
        };
        let remote = Collection {
            name: "c".into(),
            definition: Definition {
                queries: vec![
                    ListedQuery {
                        name: "a".into(),
                        query: "query A { users { id } }".into(),
                    },
                    ListedQuery {
                        name: "b".into(),
                        query: "query B { users { name } }".into(),
                    },
                ],
            },
            comment: None,
            permissions: Vec::new(),
        };
        let m = Model::from_remote(remote, &prior);
        let q = m.queries.known().unwrap();
        assert_eq!(q["a"].as_deref(), Some("query A {  users { id } }"));
        assert_eq!(q["b"].as_deref(), Some("query B { users { name } }"));
    }
}
