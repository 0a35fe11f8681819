//! The protocol layer: everything Terraform core sees on the wire.
pub mod proto;
pub mod cty;
