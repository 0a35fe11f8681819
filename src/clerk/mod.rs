//! The Clerk provider: Backend API client, `clerk_jwt_template`, and the
//! data sources that feed Hasura's JWT configuration.
mod claims;
pub(crate) mod client;
mod create_settled;
mod crud;
mod domain;
mod domains_data_source;
mod hasura_jwt_secret;
mod identifiers;
mod instance_data_source;
mod instance_restrictions;
mod instance_settings;
mod jwks;
mod jwt_template;
mod listing;
mod organization;
mod organization_permission;
mod organization_role;
mod organization_roles_data_source;
mod organization_settings;
pub(crate) mod provider;
mod redirect_url;
mod signing_key;
mod singleton;
mod template_data_source;

pub use provider::ClerkProvider;
