//! The protocol layer: everything Terraform core sees on the wire.
mod catch_panic;
pub mod cty;
pub mod go_plugin;
pub mod logging;
pub mod proto;
pub mod serve;
pub mod tls;
