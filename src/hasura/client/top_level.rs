//! Top-level metadata objects: entries of one of the export's top-level
//! lists (`cron_triggers`, `query_collections`, `allowlist`,
//! `inherited_roles`, `remote_schemas`, `rest_endpoints`, `actions`), each named by one member. Finding one in an export,
//! writing one through the batcher with the export as its landed check, and
//! dropping one are the same for every kind; a kind says only where it is
//! listed, what names it, and when a stored entry is the one written.
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::metadata::Export;
use super::{Engine, HasuraError};

pub trait TopLevel: DeserializeOwned + Clone + Send + Sync + 'static {
    /// The export's top-level key, e.g. `cron_triggers`.
    const LIST: &'static str;

    /// The member that names the entry (unique in its list).
    fn key(&self) -> &str;

    /// Whether `stored`, read back from an export, is `self` as written
    /// (members Hasura may reorder compare as sets).
    fn same(&self, stored: &Self) -> bool;
}

/// An entry known by its `name` that holds a `definition` and a `comment`
/// (query collections, actions, remote schemas), and the role permissions
/// `P` of those that have them: exported, but written with their own
/// commands, so never sent with the entry nor compared with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Defined<D, P = ()> {
    pub name: String,
    pub definition: D,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default = "Vec::new", skip_serializing)]
    pub permissions: Vec<P>,
}

/// The definition of a [`Defined`] kind.
pub trait Definition: Clone + DeserializeOwned + Send + Sync + 'static {
    /// The export's top-level key, e.g. `actions`.
    const LIST: &'static str;

    /// Whether `stored` is `self` as written.
    fn same(&self, stored: &Self) -> bool;
}

impl<D: Definition, P: DeserializeOwned + Clone + Send + Sync + 'static> TopLevel
    for Defined<D, P>
{
    const LIST: &'static str = D::LIST;

    fn key(&self) -> &str {
        &self.name
    }

    fn same(&self, stored: &Self) -> bool {
        self.definition.same(&stored.definition) && self.comment == stored.comment
    }
}

/// A kind dropped by its key alone.
pub trait Droppable: TopLevel {
    /// The command that drops an entry, e.g. `drop_rest_endpoint`.
    const DROP: &'static str;

    /// Its args for the entry named `key`.
    fn drop_args(key: &str) -> Value {
        serde_json::json!({ "name": key })
    }

    /// The command that drops the entry named `key`.
    fn drop_cmd(key: &str) -> Value {
        serde_json::json!({"type": Self::DROP, "args": Self::drop_args(key)})
    }

    /// Whether a refused drop means the entry was already gone. The
    /// batcher's rule covers `drop_`/`delete_` commands; a kind whose command
    /// is named otherwise, or whose refusal reads otherwise, says so here.
    fn already_gone(_e: &HasuraError) -> bool {
        false
    }
}

/// The metadata command `{"type": typ, "args": args}`.
pub fn command<A: Serialize>(typ: &str, args: &A) -> Result<Value, HasuraError> {
    let args = serde_json::to_value(args).map_err(|e| HasuraError::other(e.to_string()))?;
    Ok(serde_json::json!({"type": typ, "args": args}))
}

/// Whether `a` and `b` are equal once `norm` has put in order the members
/// Hasura keeps as given but whose order means nothing.
pub fn same_normalized<T: Clone + PartialEq>(a: &T, b: &T, norm: impl Fn(&mut T)) -> bool {
    let normalized = |t: &T| {
        let mut t = t.clone();
        norm(&mut t);
        t
    };
    normalized(a) == normalized(b)
}

impl Export {
    /// Every entry of kind `T`; entries not in the form Hasura exports are
    /// passed over.
    pub fn entries<T: TopLevel>(&self) -> Vec<T> {
        self.top_level(T::LIST)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| T::deserialize(v).ok())
            .collect()
    }

    /// The entry of kind `T` named `key`.
    pub fn entry_named<T: TopLevel>(&self, key: &str) -> Option<T> {
        self.entries::<T>().into_iter().find(|t| t.key() == key)
    }
}

impl Engine {
    /// Sends `{"type": typ, "args": want}`, which leaves `want` stored (see
    /// `put_entry`).
    pub async fn put_entry_as<T: TopLevel + Serialize>(
        &self,
        cancel: &CancellationToken,
        typ: &str,
        want: &T,
    ) -> Result<(), HasuraError> {
        self.put_entry(cancel, vec![command(typ, want)?], want)
            .await
    }

    /// Sends `cmds`, which leave `want` stored, batched with the other
    /// metadata writes of this process; an export holding `want` shows they
    /// landed.
    pub async fn put_entry<T: TopLevel>(
        &self,
        cancel: &CancellationToken,
        cmds: Vec<Value>,
        want: &T,
    ) -> Result<(), HasuraError> {
        let want = want.clone();
        self.write_with(cancel, cmds, move |x| {
            x.entry_named::<T>(want.key())
                .is_some_and(|t| want.same(&t))
        })
        .await
    }

    /// Sends `cmd`, which drops the entry named `key`; its absence from an
    /// export shows it landed.
    pub async fn drop_entry<T: TopLevel>(
        &self,
        cancel: &CancellationToken,
        cmd: Value,
        key: &str,
    ) -> Result<(), HasuraError> {
        let key = key.to_string();
        self.write_with(cancel, vec![cmd], move |x| {
            x.entry_named::<T>(&key).is_none()
        })
        .await
    }

    /// Drops the entry of kind `T` named `key`; already gone counts as dropped.
    pub async fn drop_named<T: Droppable>(
        &self,
        cancel: &CancellationToken,
        key: &str,
    ) -> Result<(), HasuraError> {
        match self.drop_entry::<T>(cancel, T::drop_cmd(key), key).await {
            Err(e) if T::already_gone(&e) => Ok(()),
            r => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::actions::Action;
    use super::super::query_collections::Collection;
    use super::*;

    #[test]
    fn defined_entries_read_permissions_but_never_send_them() {
        let exported = json!({
            "name": "login",
            "definition": {"handler": "https://x", "output_type": "T", "headers": [
                {"name": "B", "value": "2"}, {"name": "A", "value": "1"}
            ]},
            "permissions": [{"role": "user"}]
        });
        let a: Action = serde_json::from_value(exported).unwrap();
        assert_eq!(a.permissions.len(), 1);
        let sent = serde_json::to_value(&a).unwrap();
        assert!(sent.get("permissions").is_none() && sent.get("comment").is_none());
        // Written without permissions and with the headers reordered: the same.
        let mut written = a.clone();
        written.permissions.clear();
        written.definition.headers.reverse();
        assert!(written.same(&a));
        written.comment = Some("c".into());
        assert!(!written.same(&a));
        // A kind without permissions reads an entry that has none.
        let c: Collection =
            serde_json::from_value(json!({"name": "c", "definition": {"queries": []}})).unwrap();
        assert!(c.permissions.is_empty() && c.key() == "c");
    }

    #[test]
    fn drop_commands() {
        assert_eq!(
            Action::drop_cmd("login"),
            json!({"type": "drop_action", "args": {"name": "login", "clear_data": true}})
        );
        assert_eq!(
            Collection::drop_cmd("c"),
            json!({"type": "drop_query_collection", "args": {"collection": "c", "cascade": false}})
        );
        assert_eq!(
            command("create_x", &json!({"a": 1})).unwrap(),
            json!({"type": "create_x", "args": {"a": 1}})
        );
    }
}
