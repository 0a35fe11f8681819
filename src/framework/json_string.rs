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

/// A normal form of an API's JSON documents (e.g. the form a server stores
/// them in), for semantic equality beyond key order and whitespace.
pub trait JsonForm {
    /// `None` when `v` has no normal form (the server would refuse it).
    fn normal(v: &serde_json::Value) -> Option<serde_json::Value>;
}

/// Semantic equality of JSON strings in `F`'s normal form; documents without
/// one compare as `json_eq` does.
pub fn json_eq_in<F: JsonForm>(a: &Value, b: &Value) -> bool {
    let parse = |v: &Value| serde_json::from_str::<serde_json::Value>(v.as_str()?).ok();
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => match (F::normal(&x), F::normal(&y)) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        _ => json_eq(a, b),
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

    struct Sorted;
    impl JsonForm for Sorted {
        fn normal(v: &serde_json::Value) -> Option<serde_json::Value> {
            let mut a = v.as_array()?.clone();
            a.sort_by_key(|x| x.to_string());
            Some(serde_json::Value::Array(a))
        }
    }

    #[test]
    fn equal_in_a_normal_form() {
        let eq = |a: &str, b: &str| json_eq_in::<Sorted>(&Value::string(a), &Value::string(b));
        assert!(eq("[2, 1]", "[1,2]"));
        assert!(!eq("[1]", "[2]"));
        // Without a normal form: plain JSON equality, then text.
        assert!(eq(r#"{"a":1, "b":2}"#, r#"{"b":2,"a":1}"#));
        assert!(!eq("{", "{ ") && eq("{", "{"));
    }
}
