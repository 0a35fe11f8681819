use std::collections::BTreeMap;

use serde_json::json;

/// A cty type. Object attribute order is irrelevant on the wire (go-cty sorts
/// keys), so a `BTreeMap` keeps encodings canonical for free.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    pub fn object<I: IntoIterator<Item = (S, Type)>, S: Into<String>>(attrs: I) -> Type {
        Type::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The type-constraint JSON used in schemas and in dynamic values.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::Dynamic => json!("dynamic"),
            Type::List(t) => json!(["list", t.to_json()]),
            Type::Set(t) => json!(["set", t.to_json()]),
            Type::Map(t) => json!(["map", t.to_json()]),
            Type::Object(attrs) => {
                let m: serde_json::Map<_, _> = attrs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect();
                json!(["object", m])
            }
            Type::Tuple(ts) => json!(["tuple", ts.iter().map(Type::to_json).collect::<Vec<_>>()]),
        }
    }

    pub fn from_json(v: &serde_json::Value) -> Result<Type, ShapeError> {
        use serde_json::Value as J;
        match v {
            J::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(ShapeError::Type(format!(
                    "unknown primitive type {other:?}"
                ))),
            },
            J::Array(a) if !a.is_empty() => {
                let kind = a[0]
                    .as_str()
                    .ok_or(ShapeError::Type("type kind must be a string".into()))?;
                let arg = a.get(1).ok_or(ShapeError::Type(
                    "collection type without element type".into(),
                ))?;
                match kind {
                    "list" => Ok(Type::list(Type::from_json(arg)?)),
                    "set" => Ok(Type::set(Type::from_json(arg)?)),
                    "map" => Ok(Type::map(Type::from_json(arg)?)),
                    "object" => {
                        let attrs = arg
                            .as_object()
                            .ok_or(ShapeError::Type("object type needs a map".into()))?;
                        let mut out = BTreeMap::new();
                        for (k, v) in attrs {
                            out.insert(k.clone(), Type::from_json(v)?);
                        }
                        Ok(Type::Object(out))
                    }
                    "tuple" => {
                        let elems = arg
                            .as_array()
                            .ok_or(ShapeError::Type("tuple type needs a list".into()))?;
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    other => Err(ShapeError::Type(format!("unknown type kind {other:?}"))),
                }
            }
            _ => Err(ShapeError::Type("malformed type constraint".into())),
        }
    }
}

/// A type or a stored value that does not have the shape it must have.
#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    #[error("{0}")]
    Type(String),
    #[error("dynamic value without type")]
    DynamicWithoutType,
    #[error("bad number")]
    BadNumber,
    /// The value's JSON kind, never the value: state holds secrets.
    #[error("a stored {kind} does not fit type {ty}")]
    Mismatch { kind: &'static str, ty: String },
}
