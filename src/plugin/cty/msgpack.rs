//! cty's msgpack wire format (terraform `docs/plugin-protocol/object-wire-format.md`).
use std::collections::BTreeMap;

use rmpv::Value as M;

use super::{Number, Type, Value};

#[derive(Debug, thiserror::Error)]
#[error("invalid DynamicValue at {path}: {msg}")]
pub struct DecodeError {
    pub path: String,
    pub msg: String,
}

fn err(path: &str, msg: impl Into<String>) -> DecodeError {
    DecodeError {
        path: if path.is_empty() {
            "(root)".into()
        } else {
            path.into()
        },
        msg: msg.into(),
    }
}

/// Decodes msgpack bytes as a value of type `ty`. Empty input is null, as core treats it.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut rd = bytes;
    let m = rmpv::decode::read_value(&mut rd).map_err(|e| err("", e.to_string()))?;
    from_msgpack(&m, ty, "")
}

fn from_msgpack(m: &M, ty: &Type, path: &str) -> Result<Value, DecodeError> {
    // Any extension value is an unknown, whatever its code (ext 0 plain, ext 12 refined).
    if let M::Ext(..) = m {
        return Ok(Value::Unknown);
    }
    if let M::Nil = m {
        return Ok(Value::Null);
    }
    Ok(match ty {
        Type::String => match m {
            M::String(s) => Value::String(
                s.as_str()
                    .ok_or_else(|| err(path, "string is not valid UTF-8"))?
                    .to_string(),
            ),
            _ => return Err(err(path, "expected a string")),
        },
        Type::Bool => match m {
            M::Boolean(b) => Value::Bool(*b),
            _ => return Err(err(path, "expected a bool")),
        },
        Type::Number => Value::Number(number(m).ok_or_else(|| err(path, "expected a number"))?),
        Type::List(et) | Type::Set(et) => {
            let arr = m.as_array().ok_or_else(|| err(path, "expected an array"))?;
            let items = arr
                .iter()
                .enumerate()
                .map(|(i, x)| from_msgpack(x, et, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(ty, Type::List(_)) {
                Value::List(items)
            } else {
                Value::Set(items)
            }
        }
        Type::Tuple(ets) => {
            let arr = m.as_array().ok_or_else(|| err(path, "expected an array"))?;
            if arr.len() != ets.len() {
                return Err(err(path, format!("tuple needs {} elements", ets.len())));
            }
            Value::Tuple(
                arr.iter()
                    .zip(ets)
                    .enumerate()
                    .map(|(i, (x, t))| from_msgpack(x, t, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map(et) => {
            let entries = m.as_map().ok_or_else(|| err(path, "expected a map"))?;
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let k = k
                    .as_str()
                    .ok_or_else(|| err(path, "map key must be a string"))?;
                out.insert(
                    k.to_string(),
                    from_msgpack(v, et, &format!("{path}[{k:?}]"))?,
                );
            }
            Value::Map(out)
        }
        Type::Object(attrs) => {
            let entries = m.as_map().ok_or_else(|| err(path, "expected an object"))?;
            let mut given: BTreeMap<&str, &M> = BTreeMap::new();
            for (k, v) in entries {
                let k = k
                    .as_str()
                    .ok_or_else(|| err(path, "attribute name must be a string"))?;
                if !attrs.contains_key(k) {
                    return Err(err(path, format!("unsupported attribute {k:?}")));
                }
                given.insert(k, v);
            }
            let mut out = BTreeMap::new();
            for (name, at) in attrs {
                let child = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                let v = match given.get(name.as_str()) {
                    Some(v) => from_msgpack(v, at, &child)?,
                    None => Value::Null,
                };
                out.insert(name.clone(), v);
            }
            Value::Object(out)
        }
        Type::Dynamic => {
            let arr = m
                .as_array()
                .filter(|a| a.len() == 2)
                .ok_or_else(|| err(path, "dynamic value must be a [type, value] pair"))?;
            let type_json: serde_json::Value = match &arr[0] {
                M::Binary(b) => serde_json::from_slice(b),
                M::String(s) => serde_json::from_slice(s.as_bytes()),
                _ => return Err(err(path, "dynamic type must be JSON bytes")),
            }
            .map_err(|e| err(path, e.to_string()))?;
            let inner = Type::from_json(&type_json).map_err(|e| err(path, e.to_string()))?;
            from_msgpack(&arr[1], &inner, path)?
        }
    })
}

fn number(m: &M) -> Option<Number> {
    match m {
        M::Integer(i) => i
            .as_i64()
            .map(Number::from_i64)
            .or_else(|| i.as_u64().map(Number::from_u64)),
        // cty numbers are finite decimals here: NaN has no decimal form and
        // would not survive a round trip, so it is rejected as malformed.
        M::F32(f) if f.is_finite() => Some(Number::from_f64(f64::from(*f))),
        M::F64(f) if f.is_finite() => Some(Number::from_f64(*f)),
        M::String(s) => Number::parse(s.as_str()?),
        _ => None,
    }
}

/// Encodes `v` as type `ty`. Objects always carry every attribute of the type.
pub fn encode(v: &Value, ty: &Type) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &to_msgpack(v, ty)).expect("writing to a Vec cannot fail");
    out
}

fn to_msgpack(v: &Value, ty: &Type) -> M {
    match (v, ty) {
        (Value::Null, _) => M::Nil,
        (Value::Unknown, _) => M::Ext(0, vec![0]),
        (_, Type::Dynamic) => {
            let inner = infer_type(v);
            let type_json = serde_json::to_vec(&inner.to_json()).expect("type JSON");
            M::Array(vec![M::Binary(type_json), to_msgpack(v, &inner)])
        }
        (Value::Bool(b), _) => M::Boolean(*b),
        (Value::String(s), _) => M::String(s.clone().into()),
        (Value::Number(n), _) => {
            if let Some(i) = n.as_i64() {
                M::from(i)
            } else if let Some(f) = n.as_exact_f64() {
                M::F64(f)
            } else {
                M::String(n.as_str().to_string().into())
            }
        }
        (Value::List(items) | Value::Set(items), Type::List(et) | Type::Set(et)) => {
            M::Array(items.iter().map(|x| to_msgpack(x, et)).collect())
        }
        (Value::Tuple(items), Type::Tuple(ets)) => M::Array(
            items
                .iter()
                .zip(ets)
                .map(|(x, t)| to_msgpack(x, t))
                .collect(),
        ),
        (Value::Map(m), Type::Map(et)) => M::Map(
            m.iter()
                .map(|(k, x)| (M::String(k.clone().into()), to_msgpack(x, et)))
                .collect(),
        ),
        (Value::Object(m), Type::Object(attrs)) => M::Map(
            attrs
                .iter()
                .map(|(k, at)| {
                    let x = m.get(k).unwrap_or(&Value::Null);
                    (M::String(k.clone().into()), to_msgpack(x, at))
                })
                .collect(),
        ),
        // A value that does not fit its type is a provider bug; encode what we
        // have so core reports the mismatch against the attribute.
        (other, _) => to_msgpack(other, &infer_type(other)),
    }
}

/// The most specific type describing a (dynamic) value.
fn infer_type(v: &Value) -> Type {
    match v {
        Value::Null | Value::Unknown => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            Type::Tuple(items.iter().map(infer_type).collect())
        }
        Value::Map(m) | Value::Object(m) => {
            Type::Object(m.iter().map(|(k, x)| (k.clone(), infer_type(x))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj_ty() -> Type {
        Type::object([
            ("id", Type::String),
            ("n", Type::Number),
            ("tags", Type::list(Type::String)),
            ("flag", Type::Bool),
        ])
    }

    #[test]
    fn round_trips_objects_with_every_attribute() {
        let v = Value::Object(BTreeMap::from([
            ("id".to_string(), Value::string("x")),
            ("n".to_string(), Value::int(42)),
            (
                "tags".to_string(),
                Value::List(vec![Value::string("a"), Value::Unknown]),
            ),
            ("flag".to_string(), Value::Null),
        ]));
        let bytes = encode(&v, &obj_ty());
        assert_eq!(decode(&bytes, &obj_ty()).unwrap(), v);
        // A partial object written by someone else still decodes, with nulls.
        let mut partial = Vec::new();
        rmpv::encode::write_value(&mut partial, &M::Map(vec![(M::from("id"), M::from("y"))]))
            .unwrap();
        let d = decode(&partial, &obj_ty()).unwrap();
        assert_eq!(d.get("id"), &Value::string("y"));
        assert_eq!(d.get("n"), &Value::Null);
    }

    #[test]
    fn unknowns_plain_and_refined() {
        assert_eq!(
            decode(&[0xd4, 0, 0], &Type::String).unwrap(),
            Value::Unknown
        );
        // refined: not-null unknown string, ext 12 with payload {1: false}
        assert_eq!(
            decode(&[0xc7, 3, 0x0c, 0x81, 0x01, 0xc2], &Type::String).unwrap(),
            Value::Unknown
        );
        assert_eq!(encode(&Value::Unknown, &Type::String), vec![0xd4, 0, 0]);
    }

    #[test]
    fn numbers_keep_precision() {
        // big integer beyond u64 arrives as a decimal string
        let big = "123456789012345678901234567890";
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &M::from(big)).unwrap();
        let v = decode(&b, &Type::Number).unwrap();
        assert_eq!(v, Value::Number(Number::parse(big).unwrap()));
        assert_eq!(
            decode(&encode(&v, &Type::Number), &Type::Number).unwrap(),
            v
        );
        // 0.1 arrives as a string from core and leaves as an exact float
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &M::from("0.1")).unwrap();
        let v = decode(&b, &Type::Number).unwrap();
        assert_eq!(v, Value::Number(Number::parse("0.1").unwrap()));
        assert_eq!(encode(&v, &Type::Number), {
            let mut e = Vec::new();
            rmpv::encode::write_value(&mut e, &M::F64(0.1)).unwrap();
            e
        });
        let u = u64::MAX;
        let v = decode(
            &encode(&Value::Number(Number::from_u64(u)), &Type::Number),
            &Type::Number,
        )
        .unwrap();
        assert_eq!(v, Value::Number(Number::from_u64(u)));
        assert_eq!(
            decode(&[0xcb, 0x40, 0x45, 0, 0, 0, 0, 0, 0], &Type::Number).unwrap(),
            Value::int(42)
        );
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let mut b = Vec::new();
        rmpv::encode::write_value(
            &mut b,
            &M::Array(vec![
                M::Binary(br#"["list","string"]"#.to_vec()),
                M::Array(vec![M::from("a")]),
            ]),
        )
        .unwrap();
        assert_eq!(
            decode(&b, &Type::Dynamic).unwrap(),
            Value::List(vec![Value::string("a")])
        );
        let enc = encode(&Value::string("s"), &Type::Dynamic);
        assert_eq!(decode(&enc, &Type::Dynamic).unwrap(), Value::string("s"));
        // a wholly unknown dynamic is a bare ext
        assert_eq!(
            decode(&[0xd4, 0, 0], &Type::Dynamic).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn rejects_attributes_the_schema_lacks() {
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &M::Map(vec![(M::from("nope"), M::from(1))])).unwrap();
        assert!(decode(&b, &obj_ty())
            .unwrap_err()
            .to_string()
            .contains("nope"));
    }

    #[test]
    fn rejects_nan_and_infinity() {
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &M::F64(f64::NAN)).unwrap();
        assert!(decode(&b, &Type::Number).is_err());
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &M::F32(f32::INFINITY)).unwrap();
        assert!(decode(&b, &Type::Number).is_err());
    }

    #[test]
    fn number_parse_canonicalises() {
        assert_eq!(Number::parse("007.500").unwrap().as_str(), "7.5");
        assert_eq!(Number::parse("-0").unwrap().as_str(), "0");
        assert_eq!(Number::parse("1e3").unwrap().as_str(), "1000");
        assert!(Number::parse("1.2.3").is_none());
        assert!(Number::parse("abc").is_none());
    }
}
