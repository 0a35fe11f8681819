//! cty value -> typed model. Strict where a lenient reading would hide a
//! bug: a model must name every attribute of its schema, and an unknown or
//! null can only land in a `Value<T>` (or an `Option<T>` for null).
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, VariantAccess,
    Visitor,
};

use crate::plugin::cty::Value as Cty;

use super::super::value::MARKER;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

impl de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

pub struct De<'a>(pub &'a Cty);

impl<'de> IntoDeserializer<'de, Error> for De<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

fn unexpected(v: &Cty) -> Error {
    Error(match v {
        Cty::Unknown => "an unknown value reached a model field that is not a Value<T>".into(),
        Cty::Null => "a null reached a model field that is neither Value<T> nor Option<T>".into(),
        other => format!("unexpected value {other:?}"),
    })
}

impl<'de> Deserializer<'de> for De<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0 {
            Cty::Null => v.visit_none(),
            Cty::Unknown => Err(unexpected(self.0)),
            Cty::Bool(b) => v.visit_bool(*b),
            Cty::Number(n) => {
                if let Some(i) = n.as_i64() {
                    v.visit_i64(i)
                } else if let Some(f) = n.as_exact_f64() {
                    v.visit_f64(f)
                } else {
                    v.visit_str(n.as_str())
                }
            }
            Cty::String(s) => v.visit_borrowed_str(s),
            Cty::List(items) | Cty::Set(items) | Cty::Tuple(items) => {
                v.visit_seq(SeqDeserializer::new(items.iter().map(De)))
            }
            Cty::Map(m) | Cty::Object(m) => v.visit_map(MapDeserializer::new(
                m.iter().map(|(k, x)| (k.as_str(), De(x))),
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0 {
            Cty::Null => v.visit_none(),
            Cty::Unknown => Err(unexpected(self.0)),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        if name == MARKER {
            v.visit_enum(State(self.0))
        } else {
            v.visit_newtype_struct(self)
        }
    }

    /// A struct must have a field for each attribute; an unknown object (a
    /// nested block not yet known at plan) reads as every field unknown.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Cty::Object(m) => {
                if let Some(k) = m.keys().find(|k| !fields.contains(&k.as_str())) {
                    return Err(Error(format!(
                        "model {name} has no field for attribute {k:?}"
                    )));
                }
                v.visit_map(MapDeserializer::new(
                    m.iter().map(|(k, x)| (k.as_str(), De(x))),
                ))
            }
            Cty::Unknown => v.visit_map(AllUnknown(fields.iter())),
            _ => Err(unexpected(self.0)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Cty::String(s) => v.visit_enum(s.as_str().into_deserializer()),
            _ => Err(unexpected(self.0)),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

static UNKNOWN: Cty = Cty::Unknown;

struct AllUnknown(std::slice::Iter<'static, &'static str>);

impl<'de> MapAccess<'de> for AllUnknown {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, k: K) -> Result<Option<K::Value>, Error> {
        self.0
            .clone()
            .next()
            .map(|f| k.deserialize(f.into_deserializer()))
            .transpose()
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, s: S) -> Result<S::Value, Error> {
        self.0.next();
        s.deserialize(De(&UNKNOWN))
    }
}

/// `Value<T>`'s three states as the variants null (0), unknown (1), known (2).
struct State<'a>(&'a Cty);

impl<'de> EnumAccess<'de> for State<'de> {
    type Error = Error;
    type Variant = Self;
    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        let tag: u8 = match self.0 {
            Cty::Null => 0,
            Cty::Unknown => 1,
            _ => 2,
        };
        Ok((seed.deserialize(tag.into_deserializer())?, self))
    }
}

impl<'de> VariantAccess<'de> for State<'de> {
    type Error = Error;
    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(De(self.0))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Error> {
        Err(Error("tuple variant".into()))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        Err(Error("struct variant".into()))
    }
}
