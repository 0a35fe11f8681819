//! The Hasura provider: tables (DDL through `run_sql`), table tracking and
//! role permissions through the metadata API, and Hasura Cloud env vars
//! (one per resource, or a whole set as one resource).
pub(crate) mod client;
mod computed_field;
mod env_common;
mod env_var;
mod env_vars;
mod graphql_query;
mod ident;
mod inherited_role;
pub(crate) mod jwt_secret;
mod permission;
pub(crate) mod provider;
mod table;
mod tracked_table;
mod types;

pub use provider::HasuraProvider;
