//! The Clerk provider: Backend API client, `clerk_jwt_template`, and the
//! data sources that feed Hasura's JWT configuration.
mod claims;
mod client;
mod data_sources;
mod jwt_template;
mod provider;

pub use provider::ClerkProvider;
