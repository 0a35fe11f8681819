//! Cron triggers (`create_cron_trigger` / `delete_cron_trigger`), as the
//! metadata export shows them under the top-level `cron_triggers`
//! (graphql-engine `Hasura/RQL/Types/Metadata/Serialization.hs`,
//! `cronTriggersToOrdJSONList`: `retry_conf` only when not the default,
//! `headers` only when not empty, `payload`/`comment` only when set).
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub use super::headers::Header;
use super::top_level::{command, same_normalized, Droppable, TopLevel};
use super::{Engine, HasuraError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CronTrigger {
    pub name: String,
    pub webhook: String,
    pub schedule: String,
    #[serde(default)]
    pub include_in_metadata: bool,
    /// The user's own JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(default)]
    pub retry_conf: RetryConf,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `STRetryConf`; its default is `defaultSTRetryConf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryConf {
    pub num_retries: i64,
    pub retry_interval_seconds: i64,
    pub timeout_seconds: i64,
    pub tolerance_seconds: i64,
}

impl Default for RetryConf {
    fn default() -> Self {
        RetryConf {
            num_retries: 0,
            retry_interval_seconds: 10,
            timeout_seconds: 60,
            tolerance_seconds: 21600,
        }
    }
}

impl TopLevel for CronTrigger {
    const LIST: &'static str = "cron_triggers";

    fn key(&self) -> &str {
        &self.name
    }

    /// The same trigger, whatever the order of its headers.
    fn same(&self, stored: &CronTrigger) -> bool {
        same_normalized(self, stored, |t| t.headers.sort())
    }
}

impl Droppable for CronTrigger {
    const DROP: &'static str = "delete_cron_trigger";
}

impl Engine {
    /// Creates `trigger`, or (`replace`) overwrites the existing one of that
    /// name in place.
    pub async fn put_cron_trigger(
        &self,
        cancel: &CancellationToken,
        trigger: &CronTrigger,
        replace: bool,
    ) -> Result<(), HasuraError> {
        let mut cmd = command("create_cron_trigger", trigger)?;
        cmd["args"]["replace"] = json!(replace);
        self.put_entry(cancel, vec![cmd], trigger).await
    }
}
