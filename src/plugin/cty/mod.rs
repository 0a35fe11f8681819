//! The cty type system as it crosses the wire: types, values, and the two
//! encodings Terraform uses for `DynamicValue` (msgpack for everything, JSON
//! only for stored state handed to `UpgradeResourceState`).
mod json;
mod msgpack;
mod number;
mod path;
mod types;
mod value;

pub use json::{from_state_json, to_json};
pub use msgpack::{decode, encode, DecodeError};
pub use number::Number;
pub use path::{AttrPath, Step};
pub use types::{ShapeError, Type};
pub use value::Value;
