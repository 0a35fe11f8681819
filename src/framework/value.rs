//! `Value<T>`: an attribute of a typed model, which Terraform may leave null
//! (unset) or, while planning, unknown (computed later). Keeping the three
//! apart is what stops a null from being sent as an empty string.
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, EnumAccess, VariantAccess};
use serde::ser::{Serialize, Serializer};

/// The serde name through which the cty (de)serializers in `model` tell a
/// `Value<T>` apart from a plain field. Other formats (serde_json in tests)
/// see an `Option<T>`.
pub(crate) const MARKER: &str = "$terraform_providers::Value";

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Value<T> {
    #[default]
    Null,
    Unknown,
    Known(T),
}

pub use Value::{Known, Null, Unknown};

impl<T> Value<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn known_mut(&mut self) -> Option<&mut T> {
        match self {
            Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn into_known(self) -> Option<T> {
        match self {
            Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Unknown)
    }
    pub fn is_known(&self) -> bool {
        matches!(self, Known(_))
    }
    pub fn as_ref(&self) -> Value<&T> {
        match self {
            Known(v) => Known(v),
            Null => Null,
            Unknown => Unknown,
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Value<U> {
        match self {
            Known(v) => Known(f(v)),
            Null => Null,
            Unknown => Unknown,
        }
    }
    /// The known value, or `default` when null. Unknown is not a value: the
    /// caller must not reach this for an attribute that may still be unknown.
    pub fn or(&self, default: T) -> T
    where
        T: Clone,
    {
        self.known().cloned().unwrap_or(default)
    }
}

impl<T: Default + Clone> Value<T> {
    /// Known value or `T::default()` for null/unknown: for optional
    /// collections where absent and empty mean the same to the API.
    pub fn or_default(&self) -> T {
        self.known().cloned().unwrap_or_default()
    }
}

impl Value<String> {
    pub fn as_deref(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }
    /// The known string, or `default` when null or unknown.
    pub fn str_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.as_deref().unwrap_or(default)
    }
}

impl<E> Value<Vec<E>> {
    /// The known elements, empty when null or unknown.
    pub fn elements(&self) -> &[E] {
        self.known().map(Vec::as_slice).unwrap_or_default()
    }
}

impl<T> From<T> for Value<T> {
    fn from(v: T) -> Self {
        Known(v)
    }
}

impl<T> From<Option<T>> for Value<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Null, Known)
    }
}

impl From<&str> for Value<String> {
    fn from(v: &str) -> Self {
        Known(v.to_string())
    }
}

impl<T: Serialize> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Known(v) => v.serialize(s),
            Null => s.serialize_none(),
            Unknown => s.serialize_unit_struct(MARKER),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(MARKER, ValueVisitor(PhantomData))
    }
}

struct ValueVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> de::Visitor<'de> for ValueVisitor<T> {
    type Value = Value<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a known, null or unknown value")
    }

    /// The cty deserializer names the state as an enum variant.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (state, v): (u8, _) = data.variant()?;
        match state {
            0 => v.unit_variant().map(|_| Null),
            1 => v.unit_variant().map(|_| Unknown),
            _ => v.newtype_variant().map(Known),
        }
    }

    /// Any other format: plain `Option<T>` semantics.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Option::<T>::deserialize(d).map(Value::from)
    }
}
