//! JSON forms of values: stored state (cty JSON) in, and plain JSON for
//! typed models.
use std::collections::BTreeMap;

use serde_json::Value as J;

use super::types::ShapeError;
use super::{Number, Type, Value};

/// Decodes stored state JSON against the current type. Attributes the schema
/// no longer has are dropped and missing ones become null, so a schema change
/// never strands a state file.
pub fn from_state_json(j: &J, ty: &Type) -> Result<Value, ShapeError> {
    Ok(match (j, ty) {
        (J::Null, _) => Value::Null,
        (_, Type::Dynamic) => {
            // cty JSON writes dynamic values as {"value": .., "type": ..}
            let t = j.get("type").ok_or(ShapeError::DynamicWithoutType)?;
            let inner = Type::from_json(t)?;
            from_state_json(j.get("value").unwrap_or(&J::Null), &inner)?
        }
        (J::String(s), Type::String) => Value::String(s.clone()),
        (J::Bool(b), Type::Bool) => Value::Bool(*b),
        (J::Number(n), Type::Number) => {
            Value::Number(Number::parse(&n.to_string()).ok_or(ShapeError::BadNumber)?)
        }
        (J::String(s), Type::Number) => {
            Value::Number(Number::parse(s).ok_or(ShapeError::BadNumber)?)
        }
        (J::Array(a), Type::List(et)) => Value::List(
            a.iter()
                .map(|x| from_state_json(x, et))
                .collect::<Result<_, _>>()?,
        ),
        (J::Array(a), Type::Set(et)) => Value::Set(
            a.iter()
                .map(|x| from_state_json(x, et))
                .collect::<Result<_, _>>()?,
        ),
        (J::Array(a), Type::Tuple(ets)) => Value::Tuple(
            a.iter()
                .zip(ets)
                .map(|(x, t)| from_state_json(x, t))
                .collect::<Result<_, _>>()?,
        ),
        (J::Object(m), Type::Map(et)) => Value::Map(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), from_state_json(x, et)?)))
                .collect::<Result<_, ShapeError>>()?,
        ),
        (J::Object(m), Type::Object(attrs)) => {
            let mut out = BTreeMap::new();
            for (name, at) in attrs {
                out.insert(
                    name.clone(),
                    from_state_json(m.get(name).unwrap_or(&J::Null), at)?,
                );
            }
            Value::Object(out)
        }
        (other, t) => {
            let kind = match other {
                J::Null => "null",
                J::Bool(_) => "bool",
                J::Number(_) => "number",
                J::String(_) => "string",
                J::Array(_) => "array",
                J::Object(_) => "object",
            };
            return Err(ShapeError::Mismatch {
                kind,
                ty: t.to_json().to_string(),
            });
        }
    })
}

/// Plain JSON for typed models: unknown becomes null (a model sees "not yet
/// known" and "unset" alike; the framework keeps them apart).
pub fn to_json(v: &Value) -> J {
    match v {
        Value::Null | Value::Unknown => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(J::from)
            .or_else(|| {
                n.as_exact_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(J::Number)
            })
            .unwrap_or_else(|| J::String(n.to_string())),
        Value::String(s) => J::String(s.clone()),
        Value::List(a) | Value::Set(a) | Value::Tuple(a) => {
            J::Array(a.iter().map(to_json).collect())
        }
        Value::Map(m) | Value::Object(m) => {
            J::Object(m.iter().map(|(k, x)| (k.clone(), to_json(x))).collect())
        }
    }
}

impl Value {
    /// Builds a value of type `ty` from plain JSON (the inverse of `to_json`).
    pub fn from_json(j: &J, ty: &Type) -> Result<Value, ShapeError> {
        from_state_json(j, ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_json_drops_removed_attributes_and_fills_new_ones() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let v = from_state_json(&json!({"a": "x", "gone": true}), &ty).unwrap();
        assert_eq!(v.get("a"), &Value::string("x"));
        assert_eq!(v.get("b"), &Value::Null);
        assert_eq!(v.as_object().unwrap().len(), 2);
    }

    #[test]
    fn a_value_that_does_not_fit_is_not_quoted() {
        let ty = Type::object([("vars", Type::map(Type::String))]);
        let e = from_state_json(&json!({"vars": "hunter2-secret"}), &ty).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("a stored string") && !text.contains("hunter2"),
            "{text}"
        );
    }
}
