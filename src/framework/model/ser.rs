//! Typed model -> cty value. Serde knows no cty types, so this builds an
//! untyped value first (structs as objects, maps as maps, sequences as lists)
//! and [`conform`] then shapes it by the schema's type (sets, numbers, maps
//! of objects), refusing anything that does not fit.
use std::collections::BTreeMap;

use serde::ser::{self, Impossible, Serialize};

use crate::plugin::cty::{Number, Type, Value as Cty};

use super::super::value::MARKER;
use super::de::Error;

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

pub struct Ser;

/// Narrow numbers serialise as their widest kin.
macro_rules! widen {
    ($($f:ident($t:ty) => $wide:ident,)*) => {
        $(fn $f(self, v: $t) -> R {
            self.$wide(v.into())
        })*
    };
}

type R = Result<Cty, Error>;

fn number(n: Option<Number>) -> R {
    n.map(Cty::Number)
        .ok_or_else(|| Error("number is not finite".into()))
}

impl ser::Serializer for Ser {
    type Ok = Cty;
    type Error = Error;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Impossible<Cty, Error>;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Impossible<Cty, Error>;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Cty::Bool(v))
    }
    widen! {
        serialize_i8(i8) => serialize_i64,
        serialize_i16(i16) => serialize_i64,
        serialize_i32(i32) => serialize_i64,
        serialize_u8(u8) => serialize_u64,
        serialize_u16(u16) => serialize_u64,
        serialize_u32(u32) => serialize_u64,
        serialize_f32(f32) => serialize_f64,
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(Cty::Number(Number::from_i64(v)))
    }
    fn serialize_u64(self, v: u64) -> R {
        Ok(Cty::Number(Number::from_u64(v)))
    }
    fn serialize_f64(self, v: f64) -> R {
        number(v.is_finite().then(|| Number::from_f64(v)))
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Cty::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Cty::string(v))
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Err(Error("bytes have no cty form".into()))
    }
    fn serialize_none(self) -> R {
        Ok(Cty::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(Cty::Null)
    }
    fn serialize_unit_struct(self, name: &'static str) -> R {
        Ok(if name == MARKER {
            Cty::Unknown
        } else {
            Cty::Null
        })
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        Ok(Cty::string(variant))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> R {
        Err(Error("enum variants with data have no cty form".into()))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, Error> {
        Ok(Seq(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Impossible<Cty, Error>, Error> {
        Err(Error("enum variants with data have no cty form".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map, Error> {
        Ok(Map::default())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Map, Error> {
        Ok(Map {
            object: true,
            ..Map::default()
        })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Impossible<Cty, Error>, Error> {
        Err(Error("enum variants with data have no cty form".into()))
    }
}

pub struct Seq(Vec<Cty>);

impl ser::SerializeSeq for Seq {
    type Ok = Cty;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.0.push(v.serialize(Ser)?);
        Ok(())
    }
    fn end(self) -> R {
        Ok(Cty::List(self.0))
    }
}

/// Tuples are sequences to cty (a tuple-typed attribute is conformed later).
macro_rules! as_seq {
    ($($tr:ident::$f:ident),*) => {$(
        impl ser::$tr for Seq {
            type Ok = Cty;
            type Error = Error;
            fn $f<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
                ser::SerializeSeq::serialize_element(self, v)
            }
            fn end(self) -> R {
                ser::SerializeSeq::end(self)
            }
        }
    )*};
}

as_seq!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

#[derive(Default)]
pub struct Map {
    object: bool,
    entries: BTreeMap<String, Cty>,
    key: Option<String>,
}

impl ser::SerializeMap for Map {
    type Ok = Cty;
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> Result<(), Error> {
        match k.serialize(Ser)? {
            Cty::String(s) => self.key = Some(s),
            other => return Err(Error(format!("map key {other:?} is not a string"))),
        }
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        let k = self
            .key
            .take()
            .ok_or_else(|| Error("value without key".into()))?;
        self.entries.insert(k, v.serialize(Ser)?);
        Ok(())
    }
    fn end(self) -> R {
        Ok(if self.object {
            Cty::Object(self.entries)
        } else {
            Cty::Map(self.entries)
        })
    }
}

impl ser::SerializeStruct for Map {
    type Ok = Cty;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        k: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.entries.insert(k.to_string(), v.serialize(Ser)?);
        Ok(())
    }
    fn end(self) -> R {
        ser::SerializeMap::end(self)
    }
}

/// Shapes an untyped value by `ty`. Null and unknown fit every type; an
/// object must carry exactly the type's attributes (a model field the
/// schema lacks is a bug, reported rather than dropped).
pub fn conform(v: Cty, ty: &Type) -> R {
    Ok(match (v, ty) {
        (v @ (Cty::Null | Cty::Unknown), _) => v,
        (v, Type::Dynamic) => v,
        (v @ Cty::String(_), Type::String)
        | (v @ Cty::Bool(_), Type::Bool)
        | (v @ Cty::Number(_), Type::Number) => v,
        (Cty::List(items) | Cty::Set(items), Type::List(et)) => Cty::List(conform_all(items, et)?),
        (Cty::List(items) | Cty::Set(items), Type::Set(et)) => Cty::Set(conform_all(items, et)?),
        (Cty::List(items), Type::Tuple(ets)) if items.len() == ets.len() => Cty::Tuple(
            items
                .into_iter()
                .zip(ets)
                .map(|(x, t)| conform(x, t))
                .collect::<Result<_, _>>()?,
        ),
        (Cty::Map(m) | Cty::Object(m), Type::Map(et)) => Cty::Map(
            m.into_iter()
                .map(|(k, x)| Ok((k, conform(x, et)?)))
                .collect::<Result<_, Error>>()?,
        ),
        (Cty::Map(mut m) | Cty::Object(mut m), Type::Object(attrs)) => {
            let mut out = BTreeMap::new();
            for (name, at) in attrs {
                out.insert(
                    name.clone(),
                    conform(m.remove(name).unwrap_or(Cty::Null), at)?,
                );
            }
            if let Some(extra) = m.keys().next() {
                return Err(Error(format!("the schema has no attribute {extra:?}")));
            }
            Cty::Object(out)
        }
        (v, t) => return Err(Error(format!("{v:?} does not fit type {}", t.to_json()))),
    })
}

fn conform_all(items: Vec<Cty>, et: &Type) -> Result<Vec<Cty>, Error> {
    items.into_iter().map(|x| conform(x, et)).collect()
}
