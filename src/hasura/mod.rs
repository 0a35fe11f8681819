//! The Hasura provider: tables (DDL through `run_sql`), table tracking and
//! role permissions through the metadata API, and Hasura Cloud env vars
//! (one per resource, or a whole set as one resource).
mod action;
mod action_permission;
mod action_sdl;
mod allow_list;
pub(crate) mod client;
mod computed_field;
mod cron;
mod cron_trigger;
mod custom_types;
mod custom_types_sdl;
mod env_common;
mod env_var;
mod env_vars;
mod event_trigger;
mod foreign_key;
mod graphql_doc;
mod graphql_query;
mod ident;
mod index;
mod inherited_role;
pub(crate) mod jwt_secret;
mod named;
mod permission;
pub(crate) mod provider;
mod query_collection;
mod relationship;
mod remote_schema;
mod rest_endpoint;
mod source;
mod table;
mod tracked_table;
mod transform;
mod types;
mod webhook;

pub use provider::HasuraProvider;
/// A table name as the export writes it (bare, or `{schema, name}`), for `terraform-adopt`.
pub(crate) use relationship::Table as QualifiedTable;

use std::sync::Arc;

use crate::framework::{Ctx, Diagnostics, IntoDiags};
use client::{Engine, Export, HasuraClient};

/// The engine of the configured provider (shared caches and write batcher);
/// a diagnostic naming the missing setting when it is not configured.
pub(crate) fn engine(ctx: &Ctx) -> Result<Engine, Diagnostics> {
    Ok(ctx.client::<HasuraClient>()?.engine()?.clone())
}

/// The current metadata (shared by every read of this process until the next
/// write), or a diagnostic.
pub(crate) async fn exported(ctx: &Ctx) -> Result<Arc<Export>, Diagnostics> {
    engine(ctx)?
        .export(&ctx.cancel)
        .await
        .map_err(|e| e.into_diags("Failed to read Hasura metadata"))
}
