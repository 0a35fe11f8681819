//! Actions (`create_action`, `update_action`, `drop_action`) and their
//! permissions (`create_action_permission`, `drop_action_permission`), as the
//! metadata export shows them under the top-level `actions`
//! (graphql-engine `Hasura/RQL/Types/Metadata/Serialization.hs`,
//! `actionMetadataToOrdJSONList`: `handler`, `output_type`, then
//! `forward_client_headers` only when true, `headers` and `arguments` only
//! when not empty, `type` (and `kind` for a mutation), `timeout` only when
//! not the default 30; `comment` and `permissions` only when set).
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub use super::headers::Header;
use super::metadata::Export;
use super::top_level::{self, same_normalized, Defined, Droppable};
use super::{Engine, HasuraError};

/// `defaultActionTimeoutSecs` (`Hasura/RQL/Types/Common.hs`).
pub const DEFAULT_TIMEOUT: i64 = 30;

pub type Action = Defined<Definition, Permission>;

/// `ActionDefinition`'s `FromJSON` (`Hasura/RQL/Types/Action.hs`) with its defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub handler: String,
    pub output_type: String,
    #[serde(default)]
    pub forward_client_headers: bool,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default)]
    pub arguments: Vec<Argument>,
    #[serde(rename = "type", default = "mutation")]
    pub typ: String,
    /// Mutations only; `synchronous` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout: i64,
}

fn mutation() -> String {
    "mutation".into()
}

fn default_timeout() -> i64 {
    DEFAULT_TIMEOUT
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Argument {
    pub name: String,
    #[serde(rename = "type")]
    pub typ: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Definition {
    /// `kind` as Hasura reads it: a query has none, a mutation defaults to synchronous.
    pub fn kind(&self) -> &str {
        match (self.typ.as_str(), self.kind.as_deref()) {
            ("query", _) | (_, None) => "synchronous",
            (_, Some(k)) => k,
        }
    }
}

impl top_level::Definition for Definition {
    const LIST: &'static str = "actions";

    /// The same action, whatever the order of its headers and arguments.
    fn same(&self, stored: &Definition) -> bool {
        same_normalized(self, stored, |d| {
            d.headers.sort();
            d.arguments.sort();
        })
    }
}

/// `drop_action` with its logged invocations (`clear_data`).
impl Droppable for Action {
    const DROP: &'static str = "drop_action";

    fn drop_args(name: &str) -> serde_json::Value {
        json!({"name": name, "clear_data": true})
    }
}

impl Export {
    pub fn action(&self, name: &str) -> Option<Action> {
        self.entry_named(name)
    }

    pub fn action_permission(&self, action: &str, role: &str) -> Option<Permission> {
        self.action(action)?
            .permissions
            .into_iter()
            .find(|p| p.role == role)
    }
}

impl Engine {
    /// `create_action_permission` (`allow`, with `comment`) or
    /// `drop_action_permission`; the export shows which.
    pub async fn set_action_permission(
        &self,
        cancel: &CancellationToken,
        action: &str,
        role: &str,
        allow: bool,
        comment: Option<&str>,
    ) -> Result<(), HasuraError> {
        let (typ, mut args) = match allow {
            true => (
                "create_action_permission",
                json!({"action": action, "role": role}),
            ),
            false => (
                "drop_action_permission",
                json!({"action": action, "role": role}),
            ),
        };
        if let (true, Some(c)) = (allow, comment) {
            args["comment"] = json!(c);
        }
        let (a, r, c) = (
            action.to_string(),
            role.to_string(),
            comment.map(str::to_string),
        );
        let landed = move |x: &Export| match x.action_permission(&a, &r) {
            Some(p) => allow && p.comment == c,
            None => !allow,
        };
        self.write_with(cancel, vec![json!({"type": typ, "args": args})], landed)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_defaults_are_read() {
        let a: Action = serde_json::from_value(json!({
            "name": "login",
            "definition": {"handler": "{{BASE}}/login", "output_type": "LoginResponse", "type": "mutation", "kind": "synchronous"},
            "permissions": [{"role": "user"}]
        }))
        .unwrap();
        assert_eq!(a.definition.timeout, 30);
        assert!(a.definition.headers.is_empty() && !a.definition.forward_client_headers);
        assert_eq!(a.permissions[0].role, "user");
        let q: Definition = serde_json::from_value(
            json!({"handler": "https://x", "output_type": "T", "type": "query"}),
        )
        .unwrap();
        assert_eq!(q.kind(), "synchronous");
    }
}
