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
use super::top_level::{same_normalized, Droppable, TopLevel};
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
        same_normalized(self, stored, |e| {
            e.methods.sort();
            e.methods.dedup();
        })
    }
}

impl Droppable for Endpoint {
    const DROP: &'static str = "drop_rest_endpoint";
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
    /// Creates endpoint `e`; `replace` drops the one of its name first, in
    /// the same bulk.
    pub async fn put_rest_endpoint(
        &self,
        cancel: &CancellationToken,
        e: &Endpoint,
        replace: bool,
    ) -> Result<(), HasuraError> {
        let mut cmds = Vec::new();
        if replace {
            cmds.push(Endpoint::drop_cmd(&e.name));
        }
        cmds.push(json!({"type": "create_rest_endpoint", "args": e}));
        self.put_entry(cancel, cmds, e).await
    }
}
