//! In-memory instance state: JWT templates in creation order, users and their sessions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::ids;
use crate::jwks::InstanceKey;

pub struct Template {
    pub id: String,
    pub name: String,
    pub claims: Value,
    pub lifetime: i64,
    pub allowed_clock_skew: i64,
    pub custom_signing_key: bool,
    pub signing_algorithm: String,
    /// Write-only in the API: kept to mint tokens, never returned. Checked
    /// against `signing_algorithm` when saved.
    pub signing_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Template {
    /// The `JWTTemplate` object, fields in the spec's order and nothing more
    /// (the schema has `additionalProperties: false`).
    pub fn to_json(&self) -> Value {
        json!({
            "object": "jwt_template",
            "id": self.id,
            "name": self.name,
            "claims": self.claims,
            "lifetime": self.lifetime,
            "allowed_clock_skew": self.allowed_clock_skew,
            "custom_signing_key": self.custom_signing_key,
            "signing_algorithm": self.signing_algorithm,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// A `RedirectURL` (spec schema, `additionalProperties: false`).
pub struct RedirectUrl {
    pub id: String,
    pub url: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl RedirectUrl {
    pub fn to_json(&self) -> Value {
        json!({
            "object": "redirect_url",
            "id": self.id,
            "url": self.url,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct NewUser {
    pub id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    #[serde(default)]
    pub public_metadata: Option<Value>,
    #[serde(default)]
    pub unsafe_metadata: Option<Value>,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub public_metadata: Value,
    pub unsafe_metadata: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Default)]
pub struct Store {
    pub templates: Vec<Template>,
    pub redirect_urls: Vec<RedirectUrl>,
    pub users: BTreeMap<String, User>,
    /// session id -> user id
    pub sessions: BTreeMap<String, String>,
    /// Ids of templates that are the instance's session-token template,
    /// which Clerk refuses to delete (catalog `SessionTokenTemplateNotDeletable`).
    pub session_token_templates: BTreeSet<String>,
    /// The instance's plan lacks custom signing keys: a create or update
    /// asking for one answers 402. The spec lists 402 on both operations
    /// without naming the gated option; this is the one tests gate.
    pub custom_signing_key_needs_upgrade: bool,
    /// Organizations, roles, permissions, memberships, satellite domains.
    pub orgs: crate::org_store::OrgStore,
    pub instance: crate::instance::InstanceConfig,
    pub restrictions: crate::instance::Restrictions,
    pub org_settings: crate::instance::OrgSettings,
    pub allowlist: Vec<crate::identifiers::Identifier>,
    pub blocklist: Vec<crate::identifiers::Identifier>,
}

impl Store {
    pub fn template(&self, id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == id)
    }

    /// Adds or replaces a user; its session is `sess_<id without "user_">`
    /// so seeded and test users have predictable sessions.
    pub fn upsert_user(&mut self, new: NewUser) -> (String, String) {
        let id = new.id.unwrap_or_else(|| ids::new_id("user"));
        let now = ids::now_millis();
        let created_at = self.users.get(&id).map_or(now, |u| u.created_at);
        let user = User {
            id: id.clone(),
            first_name: new.first_name,
            last_name: new.last_name,
            email: new.email,
            username: new.username,
            public_metadata: new.public_metadata.unwrap_or_else(|| json!({})),
            unsafe_metadata: new.unsafe_metadata.unwrap_or_else(|| json!({})),
            created_at,
            updated_at: now,
        };
        self.users.insert(id.clone(), user);
        let session_id = format!("sess_{}", id.strip_prefix("user_").unwrap_or(&id));
        self.sessions.insert(session_id.clone(), id.clone());
        (session_id, id)
    }
}

pub struct Shared {
    pub secret_key: String,
    pub instance_id: String,
    pub domain_id: String,
    pub key: InstanceKey,
    /// Send `Retry-After` as an HTTP date instead of seconds (a test knob:
    /// Clerk documents seconds, RFC 9110 §10.2.3 allows either).
    pub retry_after_dates: AtomicBool,
    /// Known only once the listener is bound; set right after.
    pub base_url: OnceLock<String>,
    store: Mutex<Store>,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl AppState {
    pub fn new(secret_key: String) -> anyhow::Result<Self> {
        let instance_id = ids::new_id("ins");
        let key = InstanceKey::generate(instance_id.clone())?;
        let mut store = Store::default();
        for (id, first, last, email) in [
            ("user_alice", "Alice", "Anderson", "alice@example.com"),
            ("user_bob", "Bob", "Brown", "bob@example.com"),
        ] {
            store.upsert_user(NewUser {
                id: Some(id.into()),
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                email: Some(email.into()),
                username: Some(first.to_lowercase()),
                public_metadata: None,
                unsafe_metadata: None,
            });
        }
        Ok(AppState(Arc::new(Shared {
            secret_key,
            instance_id,
            domain_id: ids::new_id("dmn"),
            key,
            retry_after_dates: AtomicBool::new(false),
            base_url: OnceLock::new(),
            store: Mutex::new(store),
        })))
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.0.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `http://127.0.0.1:PORT`: the Frontend API URL and token issuer.
    pub fn frontend_api_url(&self) -> String {
        self.0.base_url.get().cloned().unwrap_or_default()
    }
}
