//! Reading API answers into structs without letting one odd field fail the
//! whole answer.
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// A field read only when it has the expected shape; anything else reads
/// as absent, so one odd field never hides the others.
#[derive(Debug, Clone)]
pub(crate) struct Lenient<T>(pub Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Lenient(serde_json::from_value(v).ok()))
    }
}
