//! Attributes holding JSON documents as strings (`jsonencode(...)`): compared
//! by meaning, so key order and whitespace never show up as a diff.
use crate::plugin::cty::Value;

/// Semantic equality for JSON strings; invalid JSON compares as text.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => match (
            serde_json::from_str::<serde_json::Value>(x),
            serde_json::from_str::<serde_json::Value>(y),
        ) {
            (Ok(x), Ok(y)) => x == y,
            _ => x == y,
        },
        _ => a == b,
    }
}

/// The text Terraform's `jsonencode` would produce for `v`: keys sorted,
/// no whitespace. Imported values then match a config written with jsonencode.
pub fn canonical(v: &serde_json::Value) -> String {
    serde_json::to_string(&sorted(v)).expect("JSON serialises")
}

fn sorted(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, x)| (k.clone(), sorted(x)))
                    .collect(),
            )
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_despite_order_and_space() {
        assert!(json_eq(
            &Value::string(r#"{"a":1,"b":[1,2]}"#),
            &Value::string("{ \"b\": [1, 2], \"a\": 1 }")
        ));
        assert!(!json_eq(
            &Value::string(r#"{"a":1}"#),
            &Value::string(r#"{"a":2}"#)
        ));
        assert!(!json_eq(
            &Value::string(r#"{"b":[1,2]}"#),
            &Value::string(r#"{"b":[2,1]}"#)
        ));
        assert_eq!(
            canonical(&serde_json::json!({"b": {"d": 1, "c": 2}, "a": 0})),
            r#"{"a":0,"b":{"c":2,"d":1}}"#
        );
    }
}
