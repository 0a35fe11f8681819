use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

use serde::{Deserialize, Serialize};

use crate::framework::{
    data_source, resource, AttrPath, Attribute, Diagnostics, DynDataSource, DynResource, Provider,
    Schema, Value,
};
use crate::http::check_endpoint;
use crate::settings::{not_yet_known, retry_attributes, retry_settings, setting};

use super::client::{ClerkClient, IdentifierList};
use super::domain::DomainResource;
use super::domains_data_source::DomainsDataSource;
use super::hasura_jwt_secret::HasuraJwtSecretDataSource;
use super::identifiers::IdentifierResource;
use super::instance_data_source::InstanceDataSource;
use super::instance_restrictions::InstanceRestrictions;
use super::instance_settings::InstanceSettings;
use super::jwks::{frontend_api_from_publishable_key, JwksDataSource};
use super::jwt_template::JwtTemplateResource;
use super::organization::OrganizationResource;
use super::organization_permission::OrganizationPermissionResource;
use super::organization_role::OrganizationRoleResource;
use super::organization_roles_data_source::OrganizationRolesDataSource;
use super::organization_settings::OrganizationSettings;
use super::redirect_url::RedirectUrlResource;
use super::singleton::SingletonResource;
use super::template_data_source::JwtTemplateDataSource;

pub const DEFAULT_API_URL: &str = "https://api.clerk.com/v1";

pub struct ClerkProvider;

#[derive(Serialize, Deserialize)]
pub struct Config {
    secret_key: Value<String>,
    api_url: Value<String>,
    publishable_key: Value<String>,
    max_retries: Value<i64>,
    request_timeout: Value<i64>,
}

#[async_trait]
impl Provider for ClerkProvider {
    type Config = Config;

    fn schema(&self) -> Schema {
        Schema::new(
            "Manages a Clerk instance through the Clerk Backend API: JWT templates, instance settings and restrictions, allow and block lists, redirect URLs, satellite domains, and organizations with their settings, roles and permissions.",
            [
                Attribute::string("secret_key").optional().sensitive().describe(
                    "Clerk secret key (`sk_test_...` or `sk_live_...`) of the instance to manage. Falls back to the `CLERK_SECRET_KEY` environment variable. Never logged.",
                ),
                Attribute::string("api_url").optional().describe(
                    "Backend API base URL. Falls back to `CLERK_API_URL`, then `https://api.clerk.com/v1`. Plain `http://` is accepted only for loopback hosts (local emulators).",
                ),
                Attribute::string("publishable_key").optional().describe(
                    "Publishable key (`pk_test_...`/`pk_live_...`). Falls back to `CLERK_PUBLISHABLE_KEY`. When set, `clerk_jwks` derives the issuer and JWKS URL from it offline instead of calling `GET /v1/domains`.",
                ),
            ]
            .into_iter()
            .chain(retry_attributes())
            .collect(),
        )
    }

    fn validate(&self, config: &Config, diags: &mut Diagnostics) {
        if let Some(u) = config.api_url.as_deref() {
            if let Err(e) = check_endpoint(u) {
                diags.add_attr_error(AttrPath::attr("api_url"), "Invalid Clerk API URL", e);
            }
        }
        if let Some(k) = config.publishable_key.as_deref() {
            if frontend_api_from_publishable_key(k).is_none() {
                diags.add_attr_error(AttrPath::attr("publishable_key"), "Invalid publishable key", "`publishable_key` must look like `pk_test_<base64>` or `pk_live_<base64>` as shown in the Clerk dashboard.");
            }
        }
        if let Some(k) = config.secret_key.as_deref() {
            if !(k.starts_with("sk_test_") || k.starts_with("sk_live_")) {
                diags.add_attr_error(AttrPath::attr("secret_key"), "Invalid secret key", "`secret_key` must start with `sk_test_` or `sk_live_` (copy it from the Clerk dashboard's API keys page).");
            }
        }
    }

    async fn configure(
        &self,
        config: Config,
        _tf: &str,
    ) -> Result<Arc<dyn Any + Send + Sync>, Diagnostics> {
        // The environment never stands in for a setting not known yet.
        let known = |v: &Value<String>, env: &str, attr: &str| {
            setting(v, env).map_err(|_| {
                Diagnostics::attr_error(
                    AttrPath::attr(attr),
                    "Provider setting not known yet",
                    not_yet_known(attr),
                )
            })
        };
        let Some(secret) = known(&config.secret_key, "CLERK_SECRET_KEY", "secret_key")? else {
            return Err(Diagnostics::attr_error(
                AttrPath::attr("secret_key"),
                "Missing Clerk secret key",
                "Set `secret_key` in the provider block or the CLERK_SECRET_KEY environment variable.",
            ));
        };
        let api_url = known(&config.api_url, "CLERK_API_URL", "api_url")?
            .unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let url = check_endpoint(&api_url).map_err(|e| {
            Diagnostics::attr_error(AttrPath::attr("api_url"), "Invalid Clerk API URL", e)
        })?;
        let publishable = known(
            &config.publishable_key,
            "CLERK_PUBLISHABLE_KEY",
            "publishable_key",
        )?;
        let (retry, timeout) = retry_settings(&config.max_retries, &config.request_timeout);
        let client = ClerkClient::new(&url, &secret, publishable, timeout, retry).map_err(|e| {
            Diagnostics::attr_error(
                AttrPath::attr("secret_key"),
                "Cannot configure the Clerk client",
                e.to_string(),
            )
        })?;
        Ok(Arc::new(client))
    }

    fn resources(&self) -> Vec<Arc<dyn DynResource>> {
        vec![
            resource(JwtTemplateResource),
            resource(RedirectUrlResource),
            resource(OrganizationPermissionResource),
            resource(OrganizationRoleResource),
            resource(OrganizationResource),
            resource(DomainResource),
            resource(SingletonResource(InstanceSettings)),
            resource(SingletonResource(InstanceRestrictions)),
            resource(SingletonResource(OrganizationSettings)),
            resource(IdentifierResource(IdentifierList::Allow)),
            resource(IdentifierResource(IdentifierList::Block)),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource>> {
        vec![
            data_source(JwtTemplateDataSource),
            data_source(JwksDataSource),
            data_source(HasuraJwtSecretDataSource),
            data_source(OrganizationRolesDataSource),
            data_source(DomainsDataSource),
            data_source(InstanceDataSource),
        ]
    }
}
