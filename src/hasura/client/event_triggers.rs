//! Event triggers (`pg_create_event_trigger` / `pg_delete_event_trigger`),
//! as the export shows them in a tracked table's `event_triggers`
//! (graphql-engine `Hasura/RQL/Types/Metadata/Serialization.hs`,
//! `eventTriggerConfToOrdJSON`; `Hasura/RQL/Types/EventTrigger.hs` for
//! `TriggerOpsDef`, `SubscribeOpSpec` and `RetryConf`; `request_transform`
//! and `cleanup_config` in `transform.rs`).
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::headers::Header;
use super::metadata::{qualified_table, Export};
use super::top_level::{command, same_normalized};
use super::transform::{CleanupConfig, RequestTransform};
use super::{Engine, HasuraError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventTrigger {
    pub name: String,
    pub definition: Definition,
    #[serde(default)]
    pub retry_conf: RetryConf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_from_env: Option<String>,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_transform: Option<RequestTransform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_config: Option<CleanupConfig>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insert: Option<OpSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<OpSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete: Option<OpSpec>,
    #[serde(default)]
    pub enable_manual: bool,
}

/// `SubscribeOpSpec`: the columns whose change fires the trigger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpSpec {
    pub columns: Columns,
}

/// `"*"` or a list of column names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    All(Star),
    Listed(Vec<String>),
}

/// The literal `"*"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Star;

impl Serialize for Star {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("*")
    }
}

impl<'de> Deserialize<'de> for Star {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "*" => Ok(Star),
            other => Err(serde::de::Error::custom(format!(
                "expected \"*\", got {other:?}"
            ))),
        }
    }
}

/// `RetryConf`; its default is `defaultRetryConf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryConf {
    pub num_retries: i64,
    pub interval_sec: i64,
    pub timeout_sec: i64,
}

impl Default for RetryConf {
    fn default() -> Self {
        RetryConf {
            num_retries: 0,
            interval_sec: 10,
            timeout_sec: 60,
        }
    }
}

/// Where a trigger lives: its table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub schema: String,
    pub table: String,
}

impl EventTrigger {
    fn same(&self, other: &EventTrigger) -> bool {
        let transforms = match (&self.request_transform, &other.request_transform) {
            (Some(a), Some(b)) => a.same(b),
            (a, b) => a == b,
        };
        transforms
            && same_normalized(self, other, |t| {
                t.headers.sort();
                t.request_transform = None;
            })
    }
}

impl Export {
    /// The trigger called `name` in `source` (names are unique in a source) and its table.
    pub fn event_trigger(&self, source: &str, name: &str) -> Option<(Located, EventTrigger)> {
        #[derive(Default, Deserialize)]
        #[serde(default)]
        struct Triggers {
            event_triggers: Vec<serde_json::Value>,
        }
        self.tables(source).find_map(|(schema, table, entry)| {
            let t = (Triggers::deserialize(entry).ok()?.event_triggers.iter())
                .filter_map(|t| EventTrigger::deserialize(t).ok())
                .find(|t| t.name == name)?;
            let at = Located {
                schema: schema.to_string(),
                table: table.to_string(),
            };
            Some((at, t))
        })
    }
}

impl Engine {
    /// Creates the trigger on `at`, or (`replace`) overwrites it in place.
    pub async fn put_event_trigger(
        &self,
        cancel: &CancellationToken,
        source: &str,
        at: &Located,
        trigger: &EventTrigger,
        replace: bool,
    ) -> Result<(), HasuraError> {
        let mut cmd = command("pg_create_event_trigger", trigger)?;
        let args = &mut cmd["args"];
        let def = args
            .as_object_mut()
            .and_then(|o| o.remove("definition"))
            .unwrap_or_default();
        for (k, v) in def.as_object().into_iter().flatten() {
            args[k] = v.clone();
        }
        args["source"] = json!(source);
        args["table"] = qualified_table(&at.schema, &at.table);
        args["replace"] = json!(replace);
        let (src, want, at) = (source.to_string(), trigger.clone(), at.clone());
        self.write_with(cancel, vec![cmd], move |x| {
            x.event_trigger(&src, &want.name)
                .is_some_and(|(l, t)| l == at && t.same(&want))
        })
        .await
    }

    pub async fn delete_event_trigger(
        &self,
        cancel: &CancellationToken,
        source: &str,
        name: &str,
    ) -> Result<(), HasuraError> {
        let (src, n) = (source.to_string(), name.to_string());
        self.write_with(
            cancel,
            vec![json!({"type": "pg_delete_event_trigger", "args": {"source": source, "name": name}})],
            move |x| x.event_trigger(&src, &n).is_none(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exported_shape_reads_back() {
        let t: EventTrigger = serde_json::from_value(json!({
            "name": "post_created",
            "definition": {"enable_manual": false, "insert": {"columns": "*"}, "update": {"columns": ["title"]}},
            "retry_conf": {"num_retries": 2, "interval_sec": 10, "timeout_sec": 60},
            "webhook_from_env": "POSTS_HOOK",
            "headers": [{"name": "X-Key", "value_from_env": "KEY"}]
        }))
        .unwrap();
        assert_eq!(
            t.definition.insert,
            Some(OpSpec {
                columns: Columns::All(Star)
            })
        );
        assert_eq!(
            t.definition.update,
            Some(OpSpec {
                columns: Columns::Listed(vec!["title".into()])
            })
        );
        assert_eq!(t.retry_conf.num_retries, 2);
        let back = serde_json::to_value(&t).unwrap();
        assert_eq!(back["definition"]["insert"]["columns"], "*");
        assert!(back.get("webhook").is_none());
    }
}
