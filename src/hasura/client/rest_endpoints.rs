//! RESTified endpoints (`create_rest_endpoint` / `drop_rest_endpoint`), as
//! the metadata export shows them under the top-level `rest_endpoints`
//! (graphql-engine `Hasura/RQL/Types/Endpoint.hs`, `EndpointMetadata`:
//! `name`, `url`, `methods`, `definition: {query: {collection_name,
//! query_name}}`, `comment`; exported by `endpointsToOrdJSONList` in
//! `Hasura/RQL/Types/Metadata/Serialization.hs`). Hasura has no update
//! command (`Hasura/RQL/DDL/Endpoint.hs`): a change is a drop and a create
//! of the same name in one bulk, so it applies whole or not at all.
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::metadata::Export;
use super::top_level::TopLevel;
use super::{Engine, HasuraError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub name: String,
    pub url: String,
    pub methods: Vec<String>,
    pub definition: EndpointDef,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointDef {
    pub query: QueryReference,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryReference {
    pub collection_name: String,
    pub query_name: String,
}

impl TopLevel for Endpoint {
    const LIST: &'static str = "rest_endpoints";

    fn key(&self) -> &str {
        &self.name
    }

    /// The same endpoint, methods compared as a set (Hasura keeps the list
    /// as given, but matches requests by membership).
    fn same(&self, stored: &Endpoint) -> bool {
        let sorted = |e: &Endpoint| {
            let mut e = e.clone();
            e.methods.sort();
            e.methods.dedup();
            e
        };
        sorted(self) == sorted(stored)
    }
}

impl Export {
    pub fn rest_endpoint(&self, name: &str) -> Option<Endpoint> {
        self.entry_named(name)
    }

    pub fn rest_endpoints(&self) -> Vec<Endpoint> {
        self.entries()
    }
}

impl Engine {
    /// Puts `want` as endpoint `name`, or (`None`) drops it. `replace` drops
    /// the one there first, in the same bulk.
    pub async fn set_rest_endpoint(
        &self,
        cancel: &CancellationToken,
        name: &str,
        want: Option<&Endpoint>,
        replace: bool,
    ) -> Result<(), HasuraError> {
        let drop = json!({"type": "drop_rest_endpoint", "args": {"name": name}});
        let Some(e) = want else {
            return self.drop_entry::<Endpoint>(cancel, drop, name).await;
        };
        let mut cmds = Vec::new();
        if replace {
            cmds.push(drop);
        }
        cmds.push(json!({"type": "create_rest_endpoint", "args": e}));
        self.put_entry(cancel, cmds, e).await
    }
}
