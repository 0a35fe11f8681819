//! The Hasura provider: tables (DDL through `run_sql`), table tracking and
//! role permissions through the metadata API, and Hasura Cloud env vars
//! (one per resource, or a whole set as one resource).
pub(crate) mod client;
mod env_common;
mod env_var;
mod env_vars;
mod foreign_key;
mod graphql_query;
mod ident;
mod index;
pub(crate) mod jwt_secret;
mod permission;
pub(crate) mod provider;
mod table;
mod tracked_table;
mod types;

pub use provider::HasuraProvider;
