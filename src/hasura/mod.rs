//! The Hasura provider: tables (DDL through `run_sql`), table tracking and
//! role permissions through the metadata API, and Hasura Cloud env vars.
mod client;
mod env_var;
mod ident;
mod jwt_secret;
mod permission;
mod provider;
mod table;
mod tracked_table;
mod types;

pub use provider::HasuraProvider;
