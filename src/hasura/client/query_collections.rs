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

use super::metadata::Export;
use super::rest_endpoints::Endpoint;
use super::{Engine, HasuraError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    pub name: String,
    pub definition: Definition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

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

impl Collection {
    /// Query name -> text; Hasura refuses duplicate names.
    pub fn queries(&self) -> BTreeMap<String, String> {
        self.definition
            .queries
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

impl Export {
    pub fn query_collection(&self, name: &str) -> Option<Collection> {
        self.top_level("query_collections")?
            .as_array()?
            .iter()
            .filter_map(|c| Collection::deserialize(c).ok())
            .find(|c| c.name == name)
    }

    pub fn allowlist_entry(&self, collection: &str) -> Option<AllowlistEntry> {
        self.top_level("allowlist")?
            .as_array()?
            .iter()
            .filter_map(|e| AllowlistEntry::deserialize(e).ok())
            .find(|e| e.collection == collection)
    }
}

fn same_collection(x: &Export, want: &Collection) -> bool {
    x.query_collection(&want.name)
        .is_some_and(|c| c.queries() == want.queries() && c.comment == want.comment)
}

impl Engine {
    pub async fn create_query_collection(
        &self,
        cancel: &CancellationToken,
        c: &Collection,
    ) -> Result<(), HasuraError> {
        let want = c.clone();
        self.write_with(
            cancel,
            vec![json!({"type": "create_query_collection", "args": c})],
            move |x| same_collection(x, &want),
        )
        .await
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
        let (was, will) = (old.queries(), new.queries());
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
            cmds.push(json!({"type": "drop_rest_endpoint", "args": {"name": e.name}}));
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
        let want = new.clone();
        self.write_with(cancel, cmds, move |x| same_collection(x, &want))
            .await
    }

    pub async fn drop_query_collection(
        &self,
        cancel: &CancellationToken,
        name: &str,
    ) -> Result<(), HasuraError> {
        let n = name.to_string();
        self.write_with(
            cancel,
            vec![json!({"type": "drop_query_collection", "args": {"collection": name, "cascade": false}})],
            move |x| x.query_collection(&n).is_none(),
        )
        .await
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
        let want = entry.clone();
        self.write_with(
            cancel,
            vec![json!({"type": typ, "args": entry})],
            move |x| {
                x.allowlist_entry(&want.collection)
                    .is_some_and(|e| e.scope.roles() == want.scope.roles())
            },
        )
        .await
    }

    pub async fn drop_allowlist_entry(
        &self,
        cancel: &CancellationToken,
        collection: &str,
    ) -> Result<(), HasuraError> {
        let c = collection.to_string();
        let r = self
            .write_with(
                cancel,
                vec![json!({"type": "drop_collection_from_allowlist", "args": {"collection": collection}})],
                move |x| x.allowlist_entry(&c).is_none(),
            )
            .await;
        match r {
            // Already out of the allow list ("doesn't exist in the allowlist"): done.
            Err(e) if e.code_is("not-found") => Ok(()),
            r => r,
        }
    }
}
