//! Hasura's defaults for what a permission leaves out, so that a
//! configuration spelling a default (`backend_only = false`, `set = {}`,
//! `validate_input` with `timeout = 10`) and one leaving it out both plan
//! empty against what the server returns, after apply and after import.
//!
//! Source: graphql-engine `server/src-lib/Hasura/RQL/Types/Permission.hs`
//! (`FromJSON (InsPerm b)`, `FromJSON (SelPerm b)`, `UpdPerm`, `DelPerm`,
//! `FromJSON (ValidateInputHttpDefinition webhook)`), and the export rules of
//! `server/src-lib/Hasura/RQL/Types/Metadata/Serialization.hs`
//! (`insPermToOrdJSON`, `selPermToOrdJSON`, ...): `allow_aggregations` and
//! `backend_only` are parsed `.!= False` and exported only when `true`,
//! `computed_fields` is parsed `.!= []` and exported only when non-empty,
//! `set` is exported only when non-empty; `validate_input` is exported by its
//! `ToJSON`, which writes the parsed defaults (`headers: []`, `timeout: 10`,
//! `forward_client_headers: false`) back out and drops unknown keys.
//! `query_root_fields` / `subscription_root_fields` have no default: absent
//! allows every root field, `[]` allows none, and both are kept as written.
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value as J};

use crate::framework::{Known, Null, Unknown, Value};

use super::{Model, Names};

/// Whether an action's permission has the attribute (with a default).
fn has(attr: &str, action: &str) -> bool {
    match attr {
        "allow_aggregations" | "computed_fields" => action == "select",
        "backend_only" => action != "select",
        "set" => matches!(action, "insert" | "update"),
        _ => false,
    }
}

/// The value Hasura gives `attr` of an `action` permission that leaves it out.
fn default_of<T>(attr: &str, action: Option<&str>, default: T) -> Value<T> {
    match action {
        Some(a) if has(attr, a) => Known(default),
        Some(_) => Null,
        None => Unknown,
    }
}

/// A `true`, or the action's default where Hasura exported none.
pub(super) fn exported_bool(attr: &str, action: &str, got: Option<bool>) -> Value<bool> {
    match got {
        Some(b) if has(attr, action) || b => Known(b),
        _ => default_of(attr, Some(action), false),
    }
}

/// An exported `computed_fields`, the action's default where absent.
pub(super) fn exported_names(attr: &str, action: &str) -> Names {
    default_of(attr, Some(action), vec![])
}

/// `set` where Hasura exported none (it omits an empty one).
pub(super) fn exported_set(action: &str) -> Value<BTreeMap<String, Value<String>>> {
    default_of("set", Some(action), BTreeMap::new())
}

/// The input-validation webhook as Hasura holds it: `type` and the parsed
/// `definition` with its defaults filled in and unknown keys dropped.
/// `None` for a value Hasura would refuse (compared as written then).
fn validate_input_form(text: &str) -> Option<J> {
    #[derive(Deserialize)]
    struct ValidateInput {
        r#type: J,
        definition: Definition,
    }
    #[derive(Deserialize)]
    struct Definition {
        url: J,
        #[serde(default = "no_headers")]
        headers: J,
        #[serde(default = "ten")]
        timeout: J,
        #[serde(default = "no")]
        forward_client_headers: J,
    }
    fn no_headers() -> J {
        json!([])
    }
    fn ten() -> J {
        json!(10)
    }
    fn no() -> J {
        json!(false)
    }
    let v: ValidateInput = serde_json::from_str(text).ok()?;
    let d = v.definition;
    Some(json!({
        "type": v.r#type,
        "definition": {
            "url": d.url,
            "headers": d.headers,
            "timeout": d.timeout,
            "forward_client_headers": d.forward_client_headers,
        },
    }))
}

/// Two `validate_input` documents Hasura stores alike.
pub(super) fn same_validate_input(a: &str, b: &str) -> bool {
    match (validate_input_form(a), validate_input_form(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

impl Model {
    /// Plans Hasura's default where the configuration leaves an attribute
    /// out (the attributes are optional and computed), and keeps the prior
    /// `validate_input` text where the configured one means the same.
    pub(super) fn plan_defaults(&mut self, config: &Model, prior: Option<&Model>) {
        let action = self.action.as_deref().map(str::to_owned);
        let action = action.as_deref();
        if config.allow_aggregations.is_null() {
            self.allow_aggregations = default_of("allow_aggregations", action, false);
        }
        if config.backend_only.is_null() {
            self.backend_only = default_of("backend_only", action, false);
        }
        if config.computed_fields.is_null() {
            self.computed_fields = default_of("computed_fields", action, vec![]);
        }
        if config.set.is_null() {
            self.set = default_of("set", action, BTreeMap::new());
        }
        if let (Some(c), Some(p)) = (
            config.validate_input.as_deref(),
            prior.and_then(|p| p.validate_input.as_deref()),
        ) {
            if c != p && same_validate_input(c, p) {
                self.validate_input = Known(p.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::prior;
    use super::*;

    #[test]
    fn validate_input_defaults() {
        let short = r#"{"type":"http","definition":{"url":"https://x"}}"#;
        let full = r#"{"definition":{"forward_client_headers":false,"headers":[],"timeout":10,"url":"https://x"},"type":"http"}"#;
        assert!(same_validate_input(short, full));
        let other = r#"{"type":"http","definition":{"url":"https://x","timeout":5}}"#;
        assert!(!same_validate_input(short, other));
        assert!(!same_validate_input("{", short));
    }

    #[test]
    fn planned_defaults_follow_the_action() {
        let config = prior("insert");
        let mut planned = config.clone();
        planned.plan_defaults(&config, None);
        assert_eq!(planned.backend_only, Known(false));
        assert_eq!(planned.set, Known(BTreeMap::new()));
        assert_eq!(planned.allow_aggregations, Null);
        assert_eq!(planned.computed_fields, Null);

        let config = prior("select");
        let mut planned = config.clone();
        planned.plan_defaults(&config, None);
        assert_eq!(planned.allow_aggregations, Known(false));
        assert_eq!(planned.computed_fields, Known(vec![]));
        assert_eq!(planned.backend_only, Null);

        let mut config = prior("update");
        config.backend_only = Known(true);
        config.action = Unknown;
        let mut planned = config.clone();
        planned.plan_defaults(&config, None);
        assert_eq!(planned.backend_only, Known(true));
        assert!(planned.set.is_unknown());
    }
}
