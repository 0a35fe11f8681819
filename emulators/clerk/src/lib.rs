//! Clerk Backend API emulator: JWT templates, JWKS, domains, instance and
//! session tokens minted from templates, served on loopback for provider
//! tests. The emulator is also the instance's Frontend API (it serves the
//! public `/.well-known/jwks.json` and is the tokens' issuer).

mod domains;
mod errors;
mod fields;
mod identifiers;
mod ids;
mod instance;
mod instance_errors;
mod jwks;
mod org_errors;
mod org_sessions;
mod org_store;
mod organizations;
mod paging;
mod patch_fields;
mod permissions;
mod redirect_urls;
mod roles;
mod routes;
mod state;
mod templates;
mod tokens;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use emulator_common::{Control, RateLimit, Served};
use serde_json::Value;

use state::AppState;

pub use templates::RESERVED_CLAIMS;

/// A development instance's Backend API limit, "100 requests per 10 seconds"
/// (clerk-docs `system-limits.mdx`; the spec repeats it on CreateUser), per
/// secret key, `GET /v1/jwks` exempt; over it Clerk answers 429
/// `too_many_requests` with `Retry-After` in seconds.
pub const DEVELOPMENT_RATE_LIMIT: RateLimit = RateLimit {
    requests: 100,
    window_secs: 10,
};

/// A production instance's: 1000 requests per 10 seconds (same sources).
pub const PRODUCTION_RATE_LIMIT: RateLimit = RateLimit {
    requests: 1000,
    window_secs: 10,
};

pub struct ClerkConfig {
    /// Bearer token the API accepts. Default: `sk_test_emulator` + random suffix.
    pub secret_key: String,
    /// E.g. Clerk's development limit, 100 requests / 10 s. Default: none.
    pub rate_limit: Option<RateLimit>,
    /// 0 picks a free port.
    pub port: u16,
}

impl Default for ClerkConfig {
    fn default() -> Self {
        ClerkConfig {
            secret_key: format!("sk_test_emulator{}", ids::random_base62(24)),
            rate_limit: None,
            port: 0,
        }
    }
}

pub struct ClerkEmulator {
    pub control: Control,
    state: AppState,
    served: Served,
}

impl ClerkEmulator {
    pub async fn start(cfg: ClerkConfig) -> anyhow::Result<ClerkEmulator> {
        let state = AppState::new(cfg.secret_key)?;
        let control = Control::new(errors::too_many_requests_body, errors::server_error_body);
        control.set_rate_limit(cfg.rate_limit);
        let router = routes::router(state.clone(), control.clone());
        let served = emulator_common::serve(router, cfg.port).await?;
        let _ = state.0.base_url.set(served.url());
        tracing::info!(url = %served.url(), "clerk emulator listening");
        Ok(ClerkEmulator {
            control,
            state,
            served,
        })
    }

    /// What the provider's `api_url` takes: `http://127.0.0.1:PORT/v1`.
    pub fn api_url(&self) -> String {
        format!("{}/v1", self.served.url())
    }

    /// `http://127.0.0.1:PORT`: issuer of minted tokens; JWKS at
    /// `/.well-known/jwks.json` below it.
    pub fn frontend_api_url(&self) -> String {
        self.served.url()
    }

    /// `pk_test_` + base64(`<frontend api host>$`), as Clerk builds them.
    pub fn publishable_key(&self) -> String {
        let host = self.served.addr.to_string();
        format!("pk_test_{}", STANDARD.encode(format!("{host}$")))
    }

    pub fn secret_key(&self) -> &str {
        &self.state.0.secret_key
    }

    /// Instance id, which is also the JWKS `kid`.
    pub fn instance_id(&self) -> &str {
        &self.state.0.instance_id
    }

    /// Current templates exactly as `GET /v1/jwt_templates/{id}` returns them,
    /// in creation order.
    pub fn templates(&self) -> Vec<Value> {
        self.state
            .store()
            .templates
            .iter()
            .map(state::Template::to_json)
            .collect()
    }

    /// The custom signing key the template named `name` holds (never in
    /// the API's answers), for tests that check what a write sent.
    pub fn template_signing_key(&self, name: &str) -> Option<String> {
        let store = self.state.store();
        let t = store.templates.iter().find(|t| t.name == name)?;
        t.signing_key.clone()
    }

    /// Adds (or replaces) a user; returns its session id.
    pub fn add_user(&self, id: &str, first_name: &str, last_name: &str, email: &str) -> String {
        self.state
            .store()
            .upsert_user(state::NewUser {
                id: Some(id.to_string()),
                first_name: Some(first_name.to_string()),
                last_name: Some(last_name.to_string()),
                email: Some(email.to_string()),
                username: None,
                public_metadata: None,
                unsafe_metadata: None,
            })
            .0
    }

    /// Makes the template with this id the instance's session-token
    /// template: deleting it answers 403 `session_token_jwt_template`.
    pub fn mark_session_token_template(&self, id: &str) {
        self.state
            .store()
            .session_token_templates
            .insert(id.to_string());
    }

    /// Whether the instance's plan lacks custom signing keys: creating or
    /// updating a template with one answers 402
    /// `unsupported_subscription_plan_features`.
    pub fn set_custom_signing_key_needs_upgrade(&self, gated: bool) {
        self.state.store().custom_signing_key_needs_upgrade = gated;
    }

    /// Turns organizations on, as the dashboard does (a fresh instance has
    /// them off, and CreateOrganization is refused until they are on).
    pub fn enable_organizations(&self) {
        self.state.store().org_settings.enabled = true;
    }

    /// Makes the instance a production one for the domain operations: only
    /// there may a domain have a `proxy_url` (AddDomain, UpdateDomain).
    pub fn set_production_domains(&self, production: bool) {
        self.state.store().orgs.production = production;
    }

    /// Every permission set `role_key` had, in order of change (create,
    /// assign, remove, update with `permissions`).
    pub fn role_permission_history(&self, role_key: &str) -> Vec<Vec<String>> {
        self.state
            .store()
            .orgs
            .role_history
            .iter()
            .filter(|c| c.role_key == role_key)
            .map(|c| c.permission_keys.clone())
            .collect()
    }

    /// Makes `organization_id` (an id or slug; the session's user must be a
    /// member) the session's active organization, as the frontend's
    /// `setActive` does; tokens minted for the session then carry it.
    pub fn set_active_organization(&self, session_id: &str, organization_id: &str) -> bool {
        let mut store = self.state.store();
        let Some(user) = store.sessions.get(session_id).cloned() else {
            return false;
        };
        let Some(org) = store
            .orgs
            .organizations
            .iter()
            .find(|o| o.id == organization_id || o.slug == organization_id)
            .map(|o| o.id.clone())
        else {
            return false;
        };
        if !store
            .orgs
            .memberships
            .iter()
            .any(|m| m.organization_id == org && m.user_id == user)
        {
            return false;
        }
        store.orgs.active.insert(session_id.to_string(), org);
        true
    }

    /// Sends `Retry-After` as an HTTP date (IMF-fixdate) instead of seconds.
    pub fn set_retry_after_dates(&self, dates: bool) {
        self.state
            .0
            .retry_after_dates
            .store(dates, std::sync::atomic::Ordering::Relaxed);
    }

    pub async fn stop(self) {
        self.served.stop().await;
    }
}
