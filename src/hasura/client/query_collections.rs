//! Query collections and the allow list, as the metadata export shows them
//! under the top-level `query_collections` and `allowlist` (graphql-engine
//! `Hasura/RQL/Types/Metadata/Serialization.hs`: `createCollectionToOrdJSON`
//! (`name`, `definition: {queries: [{name, query}]}`, `comment` when set) and
//! `toJSON @AllowlistEntry` (`collection`, `scope`); commands from
//! `Hasura/RQL/DDL/QueryCollection.hs`).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::rest_endpoints::Endpoint;
use super::top_level::{self, Defined, Droppable, TopLevel};
use super::{Engine, HasuraError};

pub type Collection = Defined<Definition>;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    #[serde(default)]
    pub queries: Vec<ListedQuery>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListedQuery {
    pub name: String,
    pub query: String,
}

impl Definition {
    /// Query name -> text; Hasura refuses duplicate names.
    pub fn queries(&self) -> BTreeMap<String, String> {
        self.queries
            .iter()
            .map(|q| (q.name.clone(), q.query.clone()))
            .collect()
    }
}

/// `AllowlistEntry`; a missing `scope` is global.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllowlistEntry {
    pub collection: String,
    #[serde(default)]
    pub scope: Scope,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    pub global: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            global: true,
            roles: None,
        }
    }
}

impl Scope {
    /// `None` is global; roles compare as a set.
    pub fn roles(&self) -> Option<Vec<String>> {
        if self.global {
            return None;
        }
        let mut r = self.roles.clone().unwrap_or_default();
        r.sort();
        r.dedup();
        Some(r)
    }

    pub fn from_roles(roles: Option<Vec<String>>) -> Scope {
        match roles {
            None => Scope::default(),
            Some(r) => Scope {
                global: false,
                roles: Some(r),
            },
        }
    }
}

impl top_level::Definition for Definition {
    const LIST: &'static str = "query_collections";

    fn same(&self, stored: &Definition) -> bool {
        stored.queries() == self.queries()
    }
}

impl TopLevel for AllowlistEntry {
    const LIST: &'static str = "allowlist";

    fn key(&self) -> &str {
        &self.collection
    }

    fn same(&self, stored: &AllowlistEntry) -> bool {
        stored.scope.roles() == self.scope.roles()
    }
}

impl Droppable for Collection {
    const DROP: &'static str = "drop_query_collection";

    fn drop_args(name: &str) -> serde_json::Value {
        json!({"collection": name, "cascade": false})
    }
}

impl Droppable for AllowlistEntry {
    const DROP: &'static str = "drop_collection_from_allowlist";

    fn drop_args(collection: &str) -> serde_json::Value {
        json!({ "collection": collection })
    }

    /// Already out of the allow list ("doesn't exist in the allowlist").
    fn already_gone(e: &HasuraError) -> bool {
        e.code_is("not-found")
    }
}

impl Engine {
    pub async fn create_query_collection(
        &self,
        cancel: &CancellationToken,
        c: &Collection,
    ) -> Result<(), HasuraError> {
        let cmd = json!({"type": "create_query_collection", "args": c});
        self.put_entry(cancel, vec![cmd], c).await
    }

    /// Turns `old` (what is stored) into `new` in one bulk. Queries change
    /// one by one so an allow-list entry of the collection survives; only a
    /// comment change needs the collection recreated, and then its allow-list
    /// entry is put back in the same bulk. A REST endpoint running a query
    /// that is replaced would be left inconsistent in between, which Hasura
    /// refuses (`withNewInconsistentObjsCheck` in `runDropQueryFromCollection`
    /// / `runDropCollection`): such endpoints are dropped first and created
    /// again last, in the same bulk.
    pub async fn update_query_collection(
        &self,
        cancel: &CancellationToken,
        old: &Collection,
        new: &Collection,
        entry: Option<&AllowlistEntry>,
        endpoints: &[Endpoint],
    ) -> Result<(), HasuraError> {
        let mut cmds = Vec::new();
        let (was, will) = (old.definition.queries(), new.definition.queries());
        let recreate = old.comment != new.comment;
        // Endpoints of queries that are replaced (and still there after).
        let around: Vec<&Endpoint> = endpoints
            .iter()
            .filter(|e| e.definition.query.collection_name == new.name)
            .filter(|e| {
                let q = &e.definition.query.query_name;
                will.contains_key(q) && (recreate || was.get(q) != will.get(q))
            })
            .collect();
        for e in &around {
            cmds.push(Endpoint::drop_cmd(&e.name));
        }
        if recreate {
            cmds.push(json!({"type": "drop_query_collection", "args": {"collection": new.name, "cascade": true}}));
            cmds.push(json!({"type": "create_query_collection", "args": new}));
            if let Some(e) = entry {
                cmds.push(json!({"type": "add_collection_to_allowlist", "args": e}));
            }
        } else {
            for (name, q) in &was {
                if will.get(name) != Some(q) {
                    cmds.push(json!({"type": "drop_query_from_collection", "args": {"collection_name": new.name, "query_name": name}}));
                }
            }
            for (name, q) in &will {
                if was.get(name) != Some(q) {
                    cmds.push(json!({"type": "add_query_to_collection", "args": {"collection_name": new.name, "query_name": name, "query": q}}));
                }
            }
        }
        for e in &around {
            cmds.push(json!({"type": "create_rest_endpoint", "args": e}));
        }
        self.put_entry(cancel, cmds, new).await
    }

    /// Adds `entry`, or (`update`) changes the scope of the one there.
    pub async fn put_allowlist_entry(
        &self,
        cancel: &CancellationToken,
        entry: &AllowlistEntry,
        update: bool,
    ) -> Result<(), HasuraError> {
        let typ = if update {
            "update_scope_of_collection_in_allowlist"
        } else {
            "add_collection_to_allowlist"
        };
        let cmd = json!({"type": typ, "args": entry});
        self.put_entry(cancel, vec![cmd], entry).await
    }
}
