//! Webhook request transforms (`request_transform` of event triggers, and
//! actions) and event-log cleanup settings, in the shape the metadata export
//! shows them.
//!
//! - `RequestTransform`: graphql-engine
//!   `Hasura/RQL/DDL/Webhook/Transform.hs` (`FromJSON`: `version` defaults to
//!   1, whose `body` is a bare template; version 2's `body` is
//!   `{action: remove | transform (template) | x_www_form_urlencoded
//!   (form_template)}`; `template_engine` defaults to `Kriti`; `ToJSON`
//!   always writes `version` and `template_engine`), the field types of
//!   `Hasura/RQL/Types/Webhook/Transform/{Method,Url,QueryParams,Headers}.hs`
//!   (`query_params` an object of templates or one template; `request_headers`
//!   `{add_headers, remove_headers}`, both written back).
//! - `CleanupConfig`: `AutoTriggerLogCleanupConfig` in
//!   `Hasura/RQL/Types/EventTrigger.hs` (`schedule` and `clear_older_than`
//!   required; `batch_size` 10000, `timeout` 60, `clean_invocation_logs` and
//!   `paused` false by default; `ToJSON` writes every field).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestTransform {
    #[serde(default = "version_one")]
    pub version: i64,
    #[serde(default = "kriti")]
    pub template_engine: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_params: Option<QueryParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<HeaderChanges>,
    /// Version 1: a template string; version 2: `{action, ...}` (see `Body`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

fn version_one() -> i64 {
    1
}

fn kriti() -> String {
    "Kriti".into()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QueryParams {
    /// Each parameter's template; a null removes it.
    Each(BTreeMap<String, Option<String>>),
    /// One template rendering the whole query string.
    Template(String),
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeaderChanges {
    #[serde(default)]
    pub add_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub remove_headers: Vec<String>,
}

/// Version 2's body transform.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Remove,
    Transform(String),
    Form(BTreeMap<String, String>),
}

impl Body {
    pub fn to_json(&self) -> Value {
        match self {
            Body::Remove => json!({"action": "remove"}),
            Body::Transform(t) => json!({"action": "transform", "template": t}),
            Body::Form(f) => json!({"action": "x_www_form_urlencoded", "form_template": f}),
        }
    }
}

impl RequestTransform {
    /// The body whatever the version (a version 1 body is a transform).
    pub fn body(&self) -> Option<Body> {
        let b = self.body.as_ref()?;
        if let Some(t) = b.as_str() {
            return Some(Body::Transform(t.to_string()));
        }
        match b["action"].as_str()? {
            "remove" => Some(Body::Remove),
            "transform" => Some(Body::Transform(b["template"].as_str()?.to_string())),
            "x_www_form_urlencoded" => Some(Body::Form(
                serde_json::from_value(b["form_template"].clone()).ok()?,
            )),
            _ => None,
        }
    }

    /// The same transform, in version 2 with header names compared without
    /// case and removals as a set: what Hasura applies.
    pub fn same(&self, other: &RequestTransform) -> bool {
        let norm = |t: &RequestTransform| {
            let mut t = t.clone();
            t.body = t.body().map(|b| b.to_json());
            t.version = 2;
            if let Some(h) = &mut t.request_headers {
                h.add_headers = h
                    .add_headers
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect();
                h.remove_headers = h
                    .remove_headers
                    .iter()
                    .map(|k| k.to_ascii_lowercase())
                    .collect();
                h.remove_headers.sort();
                h.remove_headers.dedup();
            }
            t
        };
        norm(self) == norm(other)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupConfig {
    pub schedule: String,
    #[serde(default = "batch_size")]
    pub batch_size: i64,
    pub clear_older_than: i64,
    #[serde(default = "timeout")]
    pub timeout: i64,
    #[serde(default)]
    pub clean_invocation_logs: bool,
    #[serde(default)]
    pub paused: bool,
}

pub const DEFAULT_BATCH_SIZE: i64 = 10000;
pub const DEFAULT_TIMEOUT: i64 = 60;

fn batch_size() -> i64 {
    DEFAULT_BATCH_SIZE
}

fn timeout() -> i64 {
    DEFAULT_TIMEOUT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_one_and_two_read_alike() {
        let v1: RequestTransform = serde_json::from_value(json!({
            "body": "{{$body.event.data.new}}", "url": "{{$base_url}}/x"
        }))
        .unwrap();
        assert_eq!((v1.version, v1.template_engine.as_str()), (1, "Kriti"));
        let v2: RequestTransform = serde_json::from_value(json!({
            "version": 2, "template_engine": "Kriti", "url": "{{$base_url}}/x",
            "body": {"action": "transform", "template": "{{$body.event.data.new}}"}
        }))
        .unwrap();
        assert!(v1.same(&v2));
        let q: RequestTransform = serde_json::from_value(json!({
            "version": 2, "query_params": "a=1", "request_headers": {"add_headers": {"X-A": "1"}}
        }))
        .unwrap();
        assert_eq!(q.query_params, Some(QueryParams::Template("a=1".into())));
        assert_eq!(
            q.request_headers.unwrap().remove_headers,
            Vec::<String>::new()
        );
    }

    #[test]
    fn cleanup_defaults() {
        let c: CleanupConfig =
            serde_json::from_value(json!({"schedule": "0 0 * * *", "clear_older_than": 168}))
                .unwrap();
        assert_eq!((c.batch_size, c.timeout, c.paused), (10000, 60, false));
    }
}
