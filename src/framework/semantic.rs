//! Typed semantic equality for `Attribute::semantic_eq`: resources say what
//! "the same" means for their text or nested model, and these adapters lift it
//! to the framework's values, so provider code never handles raw values.
use serde::de::DeserializeOwned;

use super::model::from_cty;
use crate::plugin::cty::Value;

/// Text compared by meaning (a GraphQL document, SDL...), not by spelling.
pub trait SameText {
    fn same(a: &str, b: &str) -> bool;
}

/// Semantic equality of string attributes as `F` compares them.
pub fn str_eq<F: SameText>(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => F::same(x, y),
        _ => a == b,
    }
}

/// Semantic equality of maps of strings: the same keys, each value the same
/// as `F` compares them.
pub fn map_str_eq<F: SameText>(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| str_eq::<F>(v, w)))
        }
        _ => a == b,
    }
}

/// A nested object's model with a meaning beyond its fields' values (e.g.
/// unset fields standing for their defaults).
pub trait SameModel: DeserializeOwned {
    fn same(&self, other: &Self) -> bool;
}

/// Semantic equality of a nested object as its model `M` compares it; values
/// that are not an `M` compare as they are.
pub fn model_eq<M: SameModel>(a: &Value, b: &Value) -> bool {
    match (from_cty::<M>(a), from_cty::<M>(b)) {
        (Ok(x), Ok(y)) => x.same(&y),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Value as V;
    use serde::Deserialize;

    struct Words;
    impl SameText for Words {
        fn same(a: &str, b: &str) -> bool {
            a.split_whitespace().eq(b.split_whitespace())
        }
    }

    #[test]
    fn strings_and_maps_of_strings() {
        assert!(str_eq::<Words>(
            &Value::string("a  b"),
            &Value::string(" a b")
        ));
        assert!(!str_eq::<Words>(
            &Value::string("a b"),
            &Value::string("a c")
        ));
        assert!(!str_eq::<Words>(&Value::string("a"), &Value::Null));
        let map = |kv: &[(&str, &str)]| {
            Value::Map(
                kv.iter()
                    .map(|(k, v)| (k.to_string(), Value::string(*v)))
                    .collect(),
            )
        };
        assert!(map_str_eq::<Words>(
            &map(&[("q", "a  b")]),
            &map(&[("q", "a b")])
        ));
        assert!(!map_str_eq::<Words>(
            &map(&[("q", "a b")]),
            &map(&[("r", "a b")])
        ));
        assert!(!map_str_eq::<Words>(
            &map(&[("q", "a")]),
            &map(&[("q", "a"), ("r", "a")])
        ));
    }

    #[derive(Deserialize)]
    struct Limit {
        max: V<i64>,
    }
    impl SameModel for Limit {
        fn same(&self, other: &Limit) -> bool {
            self.max.or(10) == other.max.or(10)
        }
    }

    #[test]
    fn nested_models() {
        let obj = |v: Value| Value::Object([("max".to_string(), v)].into_iter().collect());
        let ten = obj(Value::int(10));
        assert!(model_eq::<Limit>(&obj(Value::Null), &ten));
        assert!(!model_eq::<Limit>(&obj(Value::int(5)), &ten));
    }
}
