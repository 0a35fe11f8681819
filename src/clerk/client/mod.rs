//! Clerk Backend API client: JWT templates, JWKS, domains.
mod collection;
mod domains;
mod error;
mod identifiers;
mod instance;
mod organizations;
mod redirect_urls;
mod wire;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Method;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::http::{HttpClient, Idempotency, RetryPolicy};

pub use collection::Collection;
pub use domains::{CnameTarget, DomainAdd, DomainObject, DomainUpdate, DOMAINS};
pub use error::ClerkError;
#[cfg(test)]
pub use error::IDENTIFIER_TAKEN;
pub use identifiers::{Identifier, IdentifierCreate, IdentifierList};
pub use instance::{Instance, InstancePatch, OrgSettings, OrgSettingsPatch, Restrictions};
pub use organizations::{
    Organization, OrganizationBody, Permission, PermissionBody, Role, RoleCreate, RoleUpdate,
    ORGANIZATIONS, PERMISSIONS, ROLES,
};
pub use redirect_urls::{RedirectUrl, RedirectUrlCreate, REDIRECT_URLS};
use wire::Listing;
pub use wire::{Domain, Jwk, Jwks, JwtTemplate, TemplateBody};

const TEMPLATES: Collection<JwtTemplate> = Collection::paged("/jwt_templates", "JWT template");

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

impl ClerkClient {
    pub fn new(
        api_url: &url::Url,
        secret_key: &str,
        publishable_key: Option<String>,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, ClerkError> {
        let ua = format!("terraform-provider-clerk/{}", env!("CARGO_PKG_VERSION"));
        let http = HttpClient::new(&ua, timeout, retry).map_err(|e| ClerkError::NotConfigured {
            message: e.to_string(),
        })?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {secret_key}")).map_err(|_| {
            ClerkError::NotConfigured {
                message: "secret_key contains characters that cannot be sent in an HTTP header"
                    .to_string(),
            }
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

    async fn call<T: DeserializeOwned>(
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
            .map_err(|e| ClerkError::from_http(e, &method, path))?;
        serde_json::from_slice(&resp.body)
            .map_err(|e| ClerkError::unreadable(resp.status, &method, path, e))
    }

    async fn get<T: DeserializeOwned>(
        &self,
        cancel: &CancellationToken,
        path: &str,
    ) -> Result<T, ClerkError> {
        self.call(cancel, Method::GET, path, None, Idempotency::Idempotent)
            .await
    }

    pub async fn list_templates(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<JwtTemplate>, ClerkError> {
        TEMPLATES.list(self, cancel).await
    }

    /// `Ok(None)` when no template has this id.
    pub async fn template_by_id(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<Option<JwtTemplate>, ClerkError> {
        TEMPLATES.get(self, cancel, id).await
    }

    pub async fn template_by_name(
        &self,
        cancel: &CancellationToken,
        name: &str,
    ) -> Result<Option<JwtTemplate>, ClerkError> {
        TEMPLATES.find(self, cancel, |t| t.name == name).await
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
            None => self.get(cancel, &TEMPLATES.object_path(id)).await,
        }
    }

    /// Every write first drops the shared listing, so no later read answers
    /// from before it.
    async fn drop_snapshot(&self) {
        *self.snapshot.lock().await = None;
    }

    pub async fn create_template(
        &self,
        cancel: &CancellationToken,
        body: &TemplateBody,
    ) -> Result<JwtTemplate, ClerkError> {
        self.drop_snapshot().await;
        TEMPLATES.create(self, cancel, body).await
    }

    /// A full-body PATCH is idempotent: repeating it lands in the same state.
    pub async fn update_template(
        &self,
        cancel: &CancellationToken,
        id: &str,
        body: &TemplateBody,
    ) -> Result<JwtTemplate, ClerkError> {
        self.drop_snapshot().await;
        TEMPLATES.update(self, cancel, id, body).await
    }

    pub async fn delete_template(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<(), ClerkError> {
        self.drop_snapshot().await;
        TEMPLATES.delete(self, cancel, id).await
    }

    pub async fn jwks(&self, cancel: &CancellationToken) -> Result<Jwks, ClerkError> {
        self.get(cancel, "/jwks").await
    }

    pub async fn domains(&self, cancel: &CancellationToken) -> Result<Vec<Domain>, ClerkError> {
        let list: Listing<Domain> = self.get(cancel, "/domains").await?;
        Ok(list.into_vec())
    }
}
