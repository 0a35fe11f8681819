//! Typed models at the framework border: a resource declares a serde struct
//! with one field per attribute (`Value<T>` where it may be null or unknown;
//! nested attributes are nested structs) and never sees the wire format.
mod de;
mod ser;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::plugin::cty::{Type, Value as Cty};

use super::diag::Diagnostics;

pub use de::Error;

/// What a resource, data source or provider configuration is read into.
pub trait Model: Serialize + DeserializeOwned + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Model for T {}

pub fn from_cty<M: DeserializeOwned>(v: &Cty) -> Result<M, Error> {
    M::deserialize(de::De(v))
}

pub fn to_cty<M: Serialize>(m: &M, ty: &Type) -> Result<Cty, Error> {
    ser::conform(m.serialize(ser::Ser)?, ty)
}

/// [`from_cty`] for the framework: a failure is a provider bug.
pub(crate) fn decode<M: DeserializeOwned>(v: &Cty) -> Result<M, Diagnostics> {
    from_cty(v).map_err(|e| {
        Diagnostics::error("Provider bug: value does not fit its model", e.to_string())
    })
}

pub(crate) fn encode<M: Serialize>(m: &M, ty: &Type) -> Result<Cty, Diagnostics> {
    to_cty(m, ty).map_err(|e| {
        Diagnostics::error("Provider bug: model does not fit its schema", e.to_string())
    })
}

#[cfg(test)]
mod tests;
