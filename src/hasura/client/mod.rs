//! Clients for the three APIs the provider uses: the engine's metadata API
//! (`/v1/metadata`), its schema API (`run_sql` on `/v2/query`), and the
//! Hasura Cloud control plane (env vars). Each is optional: a configuration
//! that only manages env vars needs no admin secret, and the other way round.
pub mod actions;
pub mod batch;
pub mod catalog;
pub mod cloud;
pub mod constraints;
pub mod cron_triggers;
pub mod custom_types;
mod error;
pub mod event_triggers;
pub mod graphql;
pub mod headers;
mod landed;
mod lenient;
pub mod metadata;
pub mod planned;
pub mod query_collections;
pub mod remote_schemas;
pub mod rest_endpoints;
pub mod sources;
pub mod sql;
pub mod table_config;
pub mod top_level;
pub mod transform;

use std::sync::Arc;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::http::{secret_header, BadHeader, HttpClient, Idempotency};

pub use cloud::Cloud;
pub use error::{may_have_landed, HasuraError, Missing};
pub use metadata::{Export, TableRef};

/// The configured provider: whichever APIs its settings allow.
pub struct HasuraClient {
    engine: Result<Engine, Missing>,
    cloud: Result<Arc<Cloud>, Missing>,
}

impl HasuraClient {
    pub fn new(engine: Result<Engine, Missing>, cloud: Result<Arc<Cloud>, Missing>) -> Self {
        HasuraClient { engine, cloud }
    }

    /// The engine APIs, or an error naming the missing setting.
    pub fn engine(&self) -> Result<&Engine, HasuraError> {
        self.engine
            .as_ref()
            .map_err(|m| HasuraError::not_configured(*m))
    }

    pub fn cloud(&self) -> Result<&Arc<Cloud>, HasuraError> {
        self.cloud
            .as_ref()
            .map_err(|m| HasuraError::not_configured(*m))
    }
}

/// The GraphQL Engine: base URL, admin-secret headers, the export cache, the
/// catalog snapshots, the tables planned in this process and the metadata
/// write batcher. Cheap to clone: clones share the caches and the batcher (a
/// flush runs on its own task with a clone).
#[derive(Clone)]
pub struct Engine {
    http: HttpClient,
    base: String,
    headers: HeaderMap,
    export: Arc<tokio::sync::Mutex<Option<Arc<Export>>>>,
    catalogs: Arc<catalog::Cache>,
    planned: Arc<catalog::PlannedTables>,
    batch: Arc<batch::Queue>,
    /// Inherited roles and computed fields planned by this process.
    pub(crate) planned_objects: Arc<planned::PlannedObjects>,
}

impl Engine {
    pub fn new(
        http: HttpClient,
        endpoint: &url::Url,
        admin_secret: &str,
    ) -> Result<Self, BadHeader> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hasura-admin-secret",
            secret_header("admin_secret", admin_secret)?,
        );
        Ok(Engine {
            http,
            base: endpoint.as_str().trim_end_matches('/').to_string(),
            headers,
            export: Arc::new(tokio::sync::Mutex::new(None)),
            catalogs: Arc::new(catalog::Cache::default()),
            planned: Arc::new(catalog::PlannedTables::default()),
            batch: Arc::new(batch::Queue::default()),
            planned_objects: Arc::new(planned::PlannedObjects::default()),
        })
    }

    /// POSTs a JSON body and decodes the answer; `what` names the operation
    /// in errors (e.g. `run_sql`).
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        cancel: &CancellationToken,
        path: &str,
        what: &str,
        body: &Value,
        idem: Idempotency,
    ) -> Result<T, HasuraError> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .send(cancel, Method::POST, &url, &self.headers, Some(body), idem)
            .await
            .map_err(|e| error::from_http(e, path, what))?;
        serde_json::from_slice(&resp.body).map_err(|e| {
            HasuraError::transport(format!(
                "Hasura answered {what} on {path} with a body this provider cannot read: {e}"
            ))
        })
    }
}

/// One probe of `<base>/healthz` without retries: a restarting project must
/// be seen as down, not waited out inside the HTTP layer.
/// `probe` must be built with no retries.
pub(crate) async fn health(
    probe: &HttpClient,
    cancel: &CancellationToken,
    base: &str,
) -> Option<StatusCode> {
    let url = format!("{}/healthz", base.trim_end_matches('/'));
    match probe
        .send(
            cancel,
            Method::GET,
            &url,
            &HeaderMap::new(),
            None,
            Idempotency::Idempotent,
        )
        .await
    {
        Ok(r) => Some(r.status),
        Err(e) => e.status(),
    }
}
