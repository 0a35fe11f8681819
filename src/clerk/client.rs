//! Clerk Backend API client: JWT templates, JWKS, domains.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::http::{HttpClient, HttpError, Idempotency, RetryPolicy};

/// Page size for list calls: Clerk's maximum, so a refresh of many templates
/// costs one request per 500.
const PAGE: usize = 500;

pub struct ClerkClient {
    http: HttpClient,
    base: String,
    headers: HeaderMap,
    pub publishable_key: Option<String>,
    /// All templates from one paged listing, shared by every read of a
    /// refresh: N templates cost ceil(N/500) list calls, not N GETs (and stay
    /// under Clerk's rate limit). Writes invalidate it.
    snapshot: tokio::sync::Mutex<Option<Snapshot>>,
}

struct Snapshot {
    taken: Instant,
    by_id: Arc<HashMap<String, JwtTemplate>>,
}

/// Long enough to serve a whole refresh, short enough that a long-lived
/// process never answers from a stale listing for long.
const SNAPSHOT_TTL: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct JwtTemplate {
    pub id: String,
    pub name: String,
    pub claims: serde_json::Value,
    pub lifetime: i64,
    pub allowed_clock_skew: i64,
    #[serde(default)]
    pub custom_signing_key: bool,
    #[serde(default)]
    pub signing_algorithm: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Create and PATCH share one body; PATCH is a full replacement.
#[derive(Clone, Serialize)]
pub struct TemplateBody {
    pub name: String,
    pub claims: serde_json::Value,
    pub lifetime: i64,
    pub allowed_clock_skew: i64,
    pub custom_signing_key: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

// The signing key must never reach a log line through a debug print.
impl std::fmt::Debug for TemplateBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateBody")
            .field("name", &self.name)
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "(sensitive)"),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Paged<T> {
    data: Vec<T>,
    total_count: usize,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Jwk {
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub kty: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(rename = "use", default)]
    pub use_: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Deserialize)]
pub struct Domain {
    #[serde(default)]
    pub is_satellite: bool,
    pub frontend_api_url: String,
}

/// A failed Clerk call, already worded for a Terraform user.
#[derive(Debug)]
pub struct ClerkError {
    pub status: Option<StatusCode>,
    pub code: Option<String>,
    pub message: String,
    /// The request parameter Clerk blamed (`meta.param_name`), e.g. `lifetime`.
    pub param: Option<String>,
}

impl std::fmt::Display for ClerkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ClerkError {}

/// Request parameters are named like the resource's attributes, so a
/// parameter Clerk rejected becomes a diagnostic on that attribute.
impl crate::framework::ApiError for ClerkError {
    fn attribute(&self) -> Option<&str> {
        self.param.as_deref()
    }
}

impl ClerkError {
    pub fn is_not_found(&self) -> bool {
        self.status == Some(StatusCode::NOT_FOUND)
    }
    /// True when the request may have been applied although no answer came back.
    pub fn is_ambiguous(&self) -> bool {
        self.status.is_none() || self.status.is_some_and(|s| s.is_server_error())
    }
    pub fn is_cancelled(&self) -> bool {
        self.code.as_deref() == Some("cancelled")
    }
}

impl ClerkClient {
    pub fn new(
        api_url: &url::Url,
        secret_key: &str,
        publishable_key: Option<String>,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, String> {
        let ua = format!("terraform-provider-clerk/{}", env!("CARGO_PKG_VERSION"));
        let http = HttpClient::new(&ua, timeout, retry)?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {secret_key}")).map_err(|_| {
            "secret_key contains characters that cannot be sent in an HTTP header".to_string()
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert("Clerk-API-Version", HeaderValue::from_static("2021-02-05"));
        Ok(ClerkClient {
            http,
            base: api_url.as_str().trim_end_matches('/').to_string(),
            headers,
            publishable_key,
            snapshot: tokio::sync::Mutex::new(None),
        })
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        cancel: &CancellationToken,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        idem: Idempotency,
    ) -> Result<T, ClerkError> {
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .send(cancel, method.clone(), &url, &self.headers, body, idem)
            .await
            .map_err(|e| from_http(e, &method, path))?;
        serde_json::from_slice(&resp.body).map_err(|e| ClerkError {
            status: Some(resp.status),
            code: None,
            param: None,
            message: format!(
                "Clerk answered {method} {path} with a body this provider cannot read: {e}"
            ),
        })
    }

    pub async fn list_templates(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<JwtTemplate>, ClerkError> {
        let mut out = Vec::new();
        loop {
            let path = format!(
                "/jwt_templates?paginated=true&limit={PAGE}&offset={}",
                out.len()
            );
            let page: Paged<JwtTemplate> = self
                .call(cancel, Method::GET, &path, None, Idempotency::Idempotent)
                .await?;
            let n = page.data.len();
            out.extend(page.data);
            if n == 0 || out.len() >= page.total_count {
                return Ok(out);
            }
        }
    }

    pub async fn get_template(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<JwtTemplate, ClerkError> {
        self.call(
            cancel,
            Method::GET,
            &format!("/jwt_templates/{}", path_segment(id)),
            None,
            Idempotency::Idempotent,
        )
        .await
    }

    /// A template by id, served from the shared listing. An id missing from
    /// the listing is confirmed with a GET, since offset paging can skip an
    /// entry while templates are deleted concurrently.
    pub async fn read_template(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<JwtTemplate, ClerkError> {
        // Holding the lock while listing makes concurrent reads wait for one
        // listing instead of each starting its own.
        let by_id = {
            let mut snap = self.snapshot.lock().await;
            match snap.as_ref().filter(|s| s.taken.elapsed() < SNAPSHOT_TTL) {
                Some(s) => s.by_id.clone(),
                None => {
                    let all = self.list_templates(cancel).await?;
                    let by_id: Arc<HashMap<_, _>> =
                        Arc::new(all.into_iter().map(|t| (t.id.clone(), t)).collect());
                    *snap = Some(Snapshot {
                        taken: Instant::now(),
                        by_id: by_id.clone(),
                    });
                    by_id
                }
            }
        };
        match by_id.get(id) {
            Some(t) => Ok(t.clone()),
            None => self.get_template(cancel, id).await,
        }
    }

    async fn invalidate(&self) {
        *self.snapshot.lock().await = None;
    }

    pub async fn find_template_by_name(
        &self,
        cancel: &CancellationToken,
        name: &str,
    ) -> Result<Option<JwtTemplate>, ClerkError> {
        Ok(self
            .list_templates(cancel)
            .await?
            .into_iter()
            .find(|t| t.name == name))
    }

    pub async fn create_template(
        &self,
        cancel: &CancellationToken,
        body: &TemplateBody,
    ) -> Result<JwtTemplate, ClerkError> {
        let b = serde_json::to_value(body).expect("body serialises");
        self.invalidate().await;
        self.call(
            cancel,
            Method::POST,
            "/jwt_templates",
            Some(&b),
            Idempotency::Unsafe,
        )
        .await
    }

    pub async fn update_template(
        &self,
        cancel: &CancellationToken,
        id: &str,
        body: &TemplateBody,
    ) -> Result<JwtTemplate, ClerkError> {
        let b = serde_json::to_value(body).expect("body serialises");
        self.invalidate().await;
        // A full-body PATCH is idempotent: repeating it lands in the same state.
        self.call(
            cancel,
            Method::PATCH,
            &format!("/jwt_templates/{}", path_segment(id)),
            Some(&b),
            Idempotency::Idempotent,
        )
        .await
    }

    pub async fn delete_template(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<(), ClerkError> {
        self.invalidate().await;
        match self
            .call::<serde_json::Value>(
                cancel,
                Method::DELETE,
                &format!("/jwt_templates/{}", path_segment(id)),
                None,
                Idempotency::Idempotent,
            )
            .await
        {
            Ok(_) => Ok(()),
            // Already gone (out of band, or our earlier attempt whose answer was lost).
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn jwks(&self, cancel: &CancellationToken) -> Result<Jwks, ClerkError> {
        self.call(cancel, Method::GET, "/jwks", None, Idempotency::Idempotent)
            .await
    }

    pub async fn domains(&self, cancel: &CancellationToken) -> Result<Vec<Domain>, ClerkError> {
        let v: serde_json::Value = self
            .call(
                cancel,
                Method::GET,
                "/domains",
                None,
                Idempotency::Idempotent,
            )
            .await?;
        // The list is `{data, total_count}`; older instances answer a bare array.
        let data = v.get("data").cloned().unwrap_or(v);
        serde_json::from_value(data).map_err(|e| ClerkError {
            status: None,
            code: None,
            param: None,
            message: format!("unexpected /domains answer: {e}"),
        })
    }
}

/// Template request parameters, named exactly like `clerk_jwt_template`'s attributes.
const TEMPLATE_PARAMS: &[&str] = &[
    "name",
    "claims",
    "lifetime",
    "allowed_clock_skew",
    "custom_signing_key",
    "signing_algorithm",
    "signing_key",
];

/// Ids come from users (import); never let one change the request path.
fn path_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn from_http(e: HttpError, method: &Method, path: &str) -> ClerkError {
    let path = path.split('?').next().unwrap_or(path);
    match e {
        HttpError::Status { status, body } => {
            let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
            let first = parsed.as_ref().and_then(|p| p.get("errors")).and_then(|e| e.get(0)).cloned();
            let code = first.as_ref().and_then(|f| f.get("code")).and_then(|c| c.as_str()).map(str::to_string);
            let param = first
                .as_ref()
                .and_then(|f| f.get("meta"))
                .and_then(|m| m.get("param_name").or_else(|| m.get("name")))
                .and_then(|p| p.as_str())
                .filter(|p| TEMPLATE_PARAMS.contains(p))
                .map(str::to_string);
            let long = first
                .as_ref()
                .and_then(|f| f.get("long_message").or_else(|| f.get("message")))
                .and_then(|m| m.as_str())
                .map(str::to_string);
            let trace = parsed.as_ref().and_then(|p| p.get("clerk_trace_id")).and_then(|t| t.as_str()).map(|t| format!(" (clerk_trace_id {t})")).unwrap_or_default();
            let what = match (&code, long) {
                (Some(c), Some(l)) => format!("{l} [{c}]"),
                (None, Some(l)) => l,
                // Unparsed bodies are not echoed: they could reflect request data.
                _ => "no error details in the response".to_string(),
            };
            let hint = match (status.as_u16(), code.as_deref()) {
                (401, _) => " Check `secret_key` (or CLERK_SECRET_KEY): Clerk rejected it.",
                (429, _) => " Clerk's rate limit was still exceeded after retries; try again later or lower -parallelism.",
                (_, Some("form_identifier_exists")) => " A template with this name already exists; import it with `terraform import` instead of creating it.",
                _ => "",
            };
            ClerkError { status: Some(status), code, param, message: format!("Clerk API {method} {path} failed with HTTP {}: {what}{trace}.{hint}", status.as_u16()) }
        }
        HttpError::Transport(msg) => ClerkError { status: None, code: None, param: None, message: format!("Clerk API {method} {path} failed: {msg}") },
        HttpError::Cancelled => ClerkError { status: None, code: Some("cancelled".into()), param: None, message: format!("Clerk API {method} {path} was cancelled because Terraform asked the provider to stop") },
    }
}
