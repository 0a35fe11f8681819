//! The resource framework: typed schemas, validators, plan modifiers, typed
//! models and the `Resource`/`DataSource`/`Provider` traits, plus the server
//! that applies Terraform's plan/apply contract on a resource author's behalf.
//!
//! Provider code imports from here only: `AttrPath` and `Type` are
//! re-exported for diagnostics and schemas; values reach it as models.
pub mod diag;
mod erased;
pub mod json_string;
pub mod model;
pub mod planmod;
mod planning;
pub mod resource;
pub mod schema;
pub mod semantic;
mod server;
pub mod validators;
pub mod value;
mod wire;

pub use crate::plugin::cty::{AttrPath, Type};
pub use diag::{ApiError, Diagnostic, Diagnostics, IntoDiags, Severity};
pub use erased::{DynDataSource, DynResource, Registered};
pub use model::Model;
pub use planmod::{Immutable, PlanModifier, RequiresReplace, UseStateForUnknown};
pub use resource::{data_source, resource, ApplyError, Ctx, DataSource, Plan, Provider, Resource};
pub use schema::{AttrType, Attribute, Mode, Nesting, Schema};
pub use semantic::{map_str_eq, model_eq, str_eq, SameModel, SameText};
pub use server::ProviderServer;
#[cfg(test)]
pub use validators::assert_checks;
pub use validators::{
    Each, IntBetween, Invalid, JsonObject, NotEmpty, OneOf, StrCheck, StringLen, Validator,
};
pub use value::{Known, Null, Unknown, Value};
