//! Clients for the three APIs the provider uses: the engine's metadata API
//! (`/v1/metadata`), its schema API (`run_sql` on `/v2/query`), and the
//! Hasura Cloud control plane (env vars). Each is optional: a configuration
//! that only manages env vars needs no admin secret, and the other way round.
pub mod batch;
pub mod catalog;
pub mod cloud;
pub mod metadata;
pub mod sql;

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::framework::Diagnostics;
use crate::http::{HttpClient, HttpError, Idempotency};

pub use cloud::Cloud;
pub use metadata::Export;

/// The configured provider: whichever APIs its settings allow.
pub struct HasuraClient {
    engine: Result<Engine, String>,
    cloud: Result<Arc<Cloud>, String>,
}

impl HasuraClient {
    pub fn new(engine: Result<Engine, String>, cloud: Result<Arc<Cloud>, String>) -> Self {
        HasuraClient { engine, cloud }
    }

    /// The engine APIs, or a diagnostic naming the missing settings.
    pub fn engine(&self) -> Result<&Engine, Diagnostics> {
        self.engine.as_ref().map_err(|why| {
            Diagnostics::error(
                "Hasura endpoint not configured",
                format!("This resource talks to the Hasura GraphQL Engine, but {why}. Set `endpoint` and `admin_secret` in the provider block (or HASURA_GRAPHQL_ENDPOINT and HASURA_GRAPHQL_ADMIN_SECRET)."),
            )
        })
    }

    pub fn cloud(&self) -> Result<&Arc<Cloud>, Diagnostics> {
        self.cloud.as_ref().map_err(|why| {
            Diagnostics::error(
                "Hasura Cloud API not configured",
                format!("This resource uses the Hasura Cloud API, but {why}. Set `cloud_access_token` (or HASURA_CLOUD_ACCESS_TOKEN) in the provider block."),
            )
        })
    }
}

/// A failed Hasura call, worded for a Terraform user. Never carries secrets:
/// request bodies are not echoed, only Hasura's `error`/`path`/`code`.
#[derive(Debug, Clone)]
pub struct HasuraError {
    pub status: Option<StatusCode>,
    pub code: Option<String>,
    pub message: String,
}

impl std::fmt::Display for HasuraError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HasuraError {}

impl crate::framework::ApiError for HasuraError {}

impl HasuraError {
    pub fn code_is(&self, c: &str) -> bool {
        self.code.as_deref() == Some(c)
    }
    pub fn is_conflict(&self) -> bool {
        self.status == Some(StatusCode::CONFLICT) || self.code_is("conflict")
    }
    pub fn other(message: impl Into<String>) -> Self {
        HasuraError {
            status: None,
            code: None,
            message: message.into(),
        }
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
}

impl Engine {
    pub fn new(http: HttpClient, endpoint: &url::Url, admin_secret: &str) -> Result<Self, String> {
        let mut secret = HeaderValue::from_str(admin_secret).map_err(|_| {
            "admin_secret contains characters that cannot be sent in an HTTP header".to_string()
        })?;
        secret.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("x-hasura-admin-secret", secret);
        Ok(Engine {
            http,
            base: endpoint.as_str().trim_end_matches('/').to_string(),
            headers,
            export: Arc::new(tokio::sync::Mutex::new(None)),
            catalogs: Arc::new(catalog::Cache::default()),
            planned: Arc::new(catalog::PlannedTables::default()),
            batch: Arc::new(batch::Queue::default()),
        })
    }

    /// POSTs a JSON body; `what` names the operation in errors (e.g. `run_sql`).
    pub(crate) async fn post(
        &self,
        cancel: &CancellationToken,
        path: &str,
        what: &str,
        body: &Value,
        idem: Idempotency,
    ) -> Result<Value, HasuraError> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .send(cancel, Method::POST, &url, &self.headers, Some(body), idem)
            .await
            .map_err(|e| from_http(e, path, what))?;
        serde_json::from_slice(&resp.body).map_err(|e| {
            HasuraError::other(format!(
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

fn from_http(e: HttpError, path: &str, what: &str) -> HasuraError {
    match e {
        HttpError::Status { status, body } => {
            let parsed: Option<Value> = serde_json::from_str(&body).ok();
            let field = |k: &str| {
                parsed
                    .as_ref()
                    .and_then(|p| p.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let code = field("code");
            let mut what_failed = match field("error") {
                Some(err) => match field("path") {
                    Some(p) if p != "$" => format!("{err} (at {p})"),
                    _ => err,
                },
                // Unparsed bodies are not echoed: they could reflect request data.
                None => "no error details in the response".to_string(),
            };
            // run_sql failures carry PostgreSQL's own message under `internal`.
            if let Some(pg) = parsed.as_ref().and_then(|p| p.pointer("/internal/error")) {
                if let Some(m) = pg.get("message").and_then(Value::as_str) {
                    what_failed.push_str(&format!(": PostgreSQL says: {m}"));
                }
                if let Some(d) = pg.get("description").and_then(Value::as_str) {
                    what_failed.push_str(&format!(" ({d})"));
                }
                if let Some(h) = pg.get("hint").and_then(Value::as_str) {
                    what_failed.push_str(&format!(" Hint: {h}"));
                }
            }
            let hint = match status.as_u16() {
                401 | 403 => " Check `admin_secret` (or HASURA_GRAPHQL_ADMIN_SECRET): Hasura rejected it.",
                404 => " Is this the project's base URL, and is the API enabled (HASURA_GRAPHQL_ENABLED_APIS must include `metadata`)?",
                409 => " The metadata was changed concurrently; re-run the plan.",
                429 => " Hasura's rate limit was still exceeded after retries; try again later or lower -parallelism.",
                _ => "",
            };
            let code_txt = code
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
            HasuraError {
                status: Some(status),
                message: format!(
                    "Hasura {what} ({path}) failed with HTTP {}{code_txt}: {what_failed}.{hint}",
                    status.as_u16()
                ),
                code,
            }
        }
        HttpError::Transport(msg) => {
            HasuraError::other(format!("Hasura {what} ({path}) failed: {msg}"))
        }
        HttpError::Cancelled => HasuraError {
            status: None,
            code: Some("cancelled".into()),
            message: format!(
                "Hasura {what} ({path}) was cancelled because Terraform asked the provider to stop"
            ),
        },
    }
}
