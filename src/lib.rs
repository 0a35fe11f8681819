//! Terraform providers for Clerk and Hasura.
//!
//! Layers, bottom up: `plugin` speaks the Terraform plugin protocol (handshake,
//! TLS, gRPC, the cty wire format); `framework` turns it into typed schemas,
//! validators, plan modifiers and a `Resource` trait; `clerk` and `hasura` each
//! hold one API client and the resources built on it.
pub mod adopt;
pub mod clerk;
pub mod framework;
pub mod hasura;
pub mod http;
pub mod plugin;
pub mod settings;
pub mod settle;
