use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use serde::{Deserialize, Serialize};

use crate::framework::{
    resource, AttrPath, Attribute, Diagnostics, DynDataSource, DynResource, Provider, Schema, Value,
};
use crate::http::{check_endpoint, HttpClient, RetryPolicy};
use crate::settings::{retry_attributes, retry_settings, setting};

use super::client::{Cloud, Engine, HasuraClient, Missing};
use super::computed_field::ComputedFieldResource;
use super::env_var::EnvVarResource;
use super::env_vars::EnvVarsResource;
use super::foreign_key::ForeignKeyResource;
use super::index::IndexResource;
use super::inherited_role::InheritedRoleResource;
use super::named::NamedResource;
use super::permission::PermissionResource;
use super::relationship::RelationshipResource;
use super::table::TableResource;
use super::tracked_table::TrackedTableResource;

pub const DEFAULT_CLOUD_API_URL: &str = "https://data.pro.hasura.io/v1/graphql";

pub struct HasuraProvider;

#[derive(Serialize, Deserialize)]
pub struct Config {
    endpoint: Value<String>,
    admin_secret: Value<String>,
    cloud_api_url: Value<String>,
    cloud_access_token: Value<String>,
    cloud_project_id: Value<String>,
    max_retries: Value<i64>,
    request_timeout: Value<i64>,
}

#[async_trait]
impl Provider for HasuraProvider {
    type Config = Config;

    fn schema(&self) -> Schema {
        Schema::new(
            "Manages a Hasura GraphQL Engine through its metadata and schema APIs (tables, foreign keys, indexes, tracking, relationships, computed fields, role permissions and inherited roles, cron and event triggers, actions with their custom types and permissions, remote schemas and their permissions, query collections, the allow list, REST endpoints and additional PostgreSQL sources), and Hasura Cloud project env vars through the Cloud API. Settings are only required by the resources that use them.",
            [
                Attribute::string("endpoint").optional().describe(
                    "Base URL of the Hasura project, e.g. `https://my-project.hasura.app` (without `/v1/graphql`). Falls back to `HASURA_GRAPHQL_ENDPOINT`. Required by the resources and data sources that call the engine's APIs (all but `hasura_env_var`, `hasura_env_vars` and `hasura_action_sdl`). Plain `http://` is accepted only for loopback hosts.",
                ),
                Attribute::string("admin_secret").optional().sensitive().describe(
                    "The project's admin secret, sent as `X-Hasura-Admin-Secret`. Falls back to `HASURA_GRAPHQL_ADMIN_SECRET`. Required with `endpoint`. Never logged.",
                ),
                Attribute::string("cloud_api_url").optional().describe(
                    "Hasura Cloud control-plane GraphQL URL. Falls back to `HASURA_CLOUD_API_URL`, then `https://data.pro.hasura.io/v1/graphql`.",
                ),
                Attribute::string("cloud_access_token").optional().sensitive().describe(
                    "Hasura Cloud personal access token (sent as `Authorization: pat <token>`). Falls back to `HASURA_CLOUD_ACCESS_TOKEN`. Required by `hasura_env_var` and `hasura_env_vars`. Never logged.",
                ),
                Attribute::string("cloud_project_id").optional().describe(
                    "Default Hasura Cloud project id (the UUID in the dashboard URL; the provider maps it to the tenant id with `projects_by_pk`). Falls back to `HASURA_CLOUD_PROJECT_ID`. The `project_id` of `hasura_env_var` and `hasura_env_vars` overrides it.",
                ),
            ]
            .into_iter()
            .chain(retry_attributes())
            .collect(),
        )
    }

    fn validate(&self, config: &Config, diags: &mut Diagnostics) {
        for (attr, what, value) in [
            ("endpoint", "Hasura endpoint", &config.endpoint),
            (
                "cloud_api_url",
                "Hasura Cloud API URL",
                &config.cloud_api_url,
            ),
        ] {
            if let Some(u) = value.as_deref() {
                if let Err(e) = check_endpoint(u) {
                    diags.add_attr_error(AttrPath::attr(attr), format!("Invalid {what}"), e);
                }
            }
        }
    }

    async fn configure(
        &self,
        config: Config,
        _tf: &str,
    ) -> Result<Arc<dyn Any + Send + Sync>, Diagnostics> {
        let (retry, timeout) = retry_settings(&config.max_retries, &config.request_timeout);
        let ua = format!("terraform-provider-hasura/{}", env!("CARGO_PKG_VERSION"));
        let http_client = |timeout, retry| {
            HttpClient::new(&ua, timeout, retry)
                .map_err(|e| Diagnostics::error("Cannot configure the HTTP client", e))
        };
        let http = http_client(timeout, retry)?;
        // `/healthz` probes: a restarting project must be seen as down.
        let no_retries = RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        };
        let probe = http_client(Duration::from_secs(5), no_retries)?;

        // A setting not known yet fails only the calls that need it, with a
        // diagnostic naming it; the environment never stands in for it.
        let endpoint = setting(&config.endpoint, "HASURA_GRAPHQL_ENDPOINT")
            .map_err(|_| Missing::NotYetKnown("endpoint"));
        let endpoint_url = match &endpoint {
            Ok(Some(e)) => {
                Some(check_endpoint(e).map_err(invalid("endpoint", "Invalid Hasura endpoint"))?)
            }
            _ => None,
        };
        let admin_secret = setting(&config.admin_secret, "HASURA_GRAPHQL_ADMIN_SECRET")
            .map_err(|_| Missing::NotYetKnown("admin_secret"));
        let engine = match (&endpoint_url, endpoint, admin_secret) {
            (_, Err(m), _) | (_, _, Err(m)) => Err(m),
            (Some(u), _, Ok(Some(secret))) => Ok(Engine::new(http.clone(), u, &secret)
                .map_err(invalid("admin_secret", "Invalid admin secret"))?),
            (None, _, _) => Err(Missing::Endpoint),
            (Some(_), _, Ok(None)) => Err(Missing::AdminSecret),
        };

        // Checked whenever it is known, with a token or not, as before.
        let cloud_url = match setting(&config.cloud_api_url, "HASURA_CLOUD_API_URL") {
            Err(_) => Err(Missing::NotYetKnown("cloud_api_url")),
            Ok(url) => {
                let url = url.unwrap_or_else(|| DEFAULT_CLOUD_API_URL.to_string());
                Ok(check_endpoint(&url)
                    .map_err(invalid("cloud_api_url", "Invalid Hasura Cloud API URL"))?)
            }
        };
        let cloud = match (
            cloud_url,
            setting(&config.cloud_access_token, "HASURA_CLOUD_ACCESS_TOKEN"),
            setting(&config.cloud_project_id, "HASURA_CLOUD_PROJECT_ID"),
        ) {
            (Err(m), _, _) => Err(m),
            (_, Err(_), _) => Err(Missing::NotYetKnown("cloud_access_token")),
            (_, _, Err(_)) => Err(Missing::NotYetKnown("cloud_project_id")),
            (_, Ok(None), _) => Err(Missing::CloudAccessToken),
            (Ok(url), Ok(Some(token)), Ok(project)) => Ok(Arc::new(
                Cloud::new(
                    http,
                    probe,
                    &url,
                    &token,
                    project,
                    endpoint_url
                        .as_ref()
                        .map(|u| u.as_str().trim_end_matches('/').to_string()),
                )
                .map_err(invalid(
                    "cloud_access_token",
                    "Invalid Hasura Cloud access token",
                ))?,
            )),
        };
        Ok(Arc::new(HasuraClient::new(engine, cloud)))
    }

    fn resources(&self) -> Vec<Arc<dyn DynResource>> {
        vec![
            resource(TableResource),
            resource(TrackedTableResource),
            resource(PermissionResource),
            resource(RelationshipResource),
            resource(EnvVarResource),
            resource(EnvVarsResource),
            resource(ForeignKeyResource),
            resource(IndexResource),
            resource(NamedResource(super::cron_trigger::CronTriggerResource)),
            resource(NamedResource(
                super::query_collection::QueryCollectionResource,
            )),
            resource(NamedResource(super::allow_list::AllowListResource)),
            resource(NamedResource(super::rest_endpoint::RestEndpointResource)),
            resource(super::event_trigger::EventTriggerResource),
            resource(InheritedRoleResource),
            resource(ComputedFieldResource),
            resource(NamedResource(super::remote_schema::RemoteSchemaResource)),
            resource(super::remote_schema::permission::RemoteSchemaPermissionResource),
            resource(NamedResource(super::action::ActionResource)),
            resource(super::action_permission::ActionPermissionResource),
            resource(super::custom_types::CustomTypesResource),
            resource(super::source::SourceResource),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource>> {
        vec![
            crate::framework::data_source(super::graphql_query::GraphqlQueryDataSource),
            crate::framework::data_source(super::action_sdl::ActionSdlDataSource),
        ]
    }
}

/// A setting `attr` the provider cannot use, and why.
fn invalid<E: Into<String>>(
    attr: &'static str,
    summary: &'static str,
) -> impl Fn(E) -> Diagnostics {
    move |e| Diagnostics::attr_error(AttrPath::attr(attr), summary, e)
}
