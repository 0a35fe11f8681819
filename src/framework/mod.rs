//! The resource framework: typed schemas, validators, plan modifiers and the
//! `Resource`/`DataSource`/`Provider` traits, plus the server that applies
//! Terraform's plan/apply contract on a resource author's behalf.
pub mod diag;
pub mod json_string;
pub mod planmod;
mod planning;
pub mod provider_config;
pub mod resource;
pub mod schema;
mod server;
pub mod validators;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use planmod::{PlanModifier, RequiresReplace, UseStateForUnknown};
pub use resource::{decode, encode, ApplyError, Ctx, DataSource, PlanContext, Provider, Resource};
pub use schema::{AttrType, Attribute, Mode, Nesting, Schema};
pub use server::ProviderServer;
pub use validators::{IntBetween, JsonObject, OneOf, StringLen, Validator};
