//! The instance singletons: `/v1/instance` (GetInstance, UpdateInstance),
//! `/v1/instance/restrictions` (UpdateInstanceRestrictions) and
//! `/v1/instance/organization_settings` (GetInstanceOrganizationSettings,
//! UpdateInstanceOrganizationSettings) of the Backend API spec 2025-11-10.
//!
//! The API reads back only part of what it writes: GetInstance returns
//! `allowed_origins` of everything UpdateInstance takes, and there is no read
//! of the restrictions at all (the PATCH answers the `InstanceRestrictions`
//! object). The emulator keeps every setting so tests can see that a write
//! landed, through the test-only `/__emulator/instance`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::paging::parse_body;
use crate::patch_fields::Fields;
use crate::state::{AppState, Store};
use crate::{ids, instance_errors};

/// What UpdateInstance sets. Defaults are a fresh development instance's
/// (UpdateInstance: `test_mode` "Defaults to true for development instances").
pub struct InstanceConfig {
    pub allowed_origins: Option<Vec<String>>,
    pub test_mode: bool,
    pub hibp: bool,
    pub support_email: Option<String>,
    pub clerk_js_version: Option<String>,
    pub development_origin: Option<String>,
    pub url_based_session_syncing: bool,
    pub preferred_sign_in_strategy_when_password_required: String,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        InstanceConfig {
            allowed_origins: None,
            test_mode: true,
            hibp: true,
            support_email: None,
            clerk_js_version: None,
            development_origin: None,
            url_based_session_syncing: true,
            preferred_sign_in_strategy_when_password_required: String::new(),
        }
    }
}

/// The `InstanceRestrictions` object's settings, all off on a fresh instance.
#[derive(Default)]
pub struct Restrictions {
    pub allowlist: bool,
    pub blocklist: bool,
    pub allowlist_blocklist_disabled_on_sign_in: bool,
    pub block_email_subaddresses: bool,
    pub block_disposable_email_domains: bool,
}

/// The `OrganizationSettings` object. Roles are held by key, as the object
/// reports them; UpdateInstanceOrganizationSettings names them by id.
pub struct OrgSettings {
    pub enabled: bool,
    pub max_allowed_memberships: i64,
    pub admin_delete_enabled: bool,
    pub domains_enabled: bool,
    pub slug_disabled: bool,
    pub domains_enrollment_modes: Vec<String>,
    pub creator_role: String,
    pub domains_default_role: String,
    /// The roles a fresh instance has (`org:admin`, `org:member`), id ->
    /// key, for resolving `creator_role_id` / `domains_default_role_id`.
    /// Merge point: once the emulator keeps organization roles, look the
    /// id up there instead (see `role_key`).
    pub default_roles: Vec<(String, String)>,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            enabled: false,
            max_allowed_memberships: 5,
            admin_delete_enabled: true,
            domains_enabled: false,
            slug_disabled: false,
            domains_enrollment_modes: Vec::new(),
            creator_role: "org:admin".into(),
            domains_default_role: "org:member".into(),
            default_roles: vec![
                (ids::new_id("role"), "org:admin".into()),
                (ids::new_id("role"), "org:member".into()),
            ],
        }
    }
}

/// The key of the organization role with this id.
fn role_key(store: &Store, id: &str) -> Option<String> {
    store
        .orgs
        .roles
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.key.clone())
        .or_else(|| {
            store
                .org_settings
                .default_roles
                .iter()
                .find(|(rid, _)| rid == id)
                .map(|(_, key)| key.clone())
        })
}

/// The `Instance` object (spec schema; every member is required).
pub async fn get(State(state): State<AppState>) -> Json<Value> {
    let store = state.store();
    Json(json!({
        "object": "instance",
        "id": state.0.instance_id,
        "environment_type": "development",
        "allowed_origins": store.instance.allowed_origins,
        "workspace_id": null,
    }))
}

/// UpdateInstance: 204 with no body, 422 `UnprocessableEntity` otherwise.
pub async fn update(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body = parse_body(&body)?;
    let mut f = Fields::new(
        &body,
        &[
            "test_mode",
            "hibp",
            "support_email",
            "clerk_js_version",
            "development_origin",
            "allowed_origins",
            "cookieless_dev",
            "url_based_session_syncing",
            "preferred_sign_in_strategy_when_password_required",
        ],
    );
    let test_mode = f.bool("test_mode");
    let hibp = f.bool("hibp");
    let support_email = f.string("support_email");
    let clerk_js_version = f.string("clerk_js_version");
    let development_origin = f.string("development_origin");
    let allowed_origins = f.strings("allowed_origins");
    // `cookieless_dev` is the deprecated name of `url_based_session_syncing`.
    let cookieless = f.bool("cookieless_dev");
    let syncing = f.bool("url_based_session_syncing").or(cookieless);
    let strategy = f.string("preferred_sign_in_strategy_when_password_required");
    if let Some(email) = &support_email {
        if !email.is_empty() && !is_email(email) {
            f.errors
                .push(instance_errors::form_invalid_email_address("support_email"));
        }
    }
    if let Some(o) = &development_origin {
        if !o.is_empty() && !is_origin(o) {
            f.errors
                .push(instance_errors::form_invalid_origin("development_origin"));
        }
    }
    if allowed_origins
        .as_ref()
        .is_some_and(|all| all.iter().any(|o| !is_origin(o)))
    {
        f.errors
            .push(instance_errors::form_invalid_origin("allowed_origins"));
    }
    if let Some(s) = &strategy {
        let allowed = ["password", "otp", ""];
        if !allowed.contains(&s.as_str()) {
            f.errors.push(crate::errors::form_param_value_not_allowed(
                "preferred_sign_in_strategy_when_password_required",
                s,
                &allowed,
            ));
        }
    }
    if !f.errors.is_empty() {
        return Err(ApiError::form(f.errors));
    }
    let mut store = state.store();
    let i = &mut store.instance;
    if let Some(v) = allowed_origins {
        i.allowed_origins = Some(v);
    }
    if let Some(v) = test_mode {
        i.test_mode = v;
    }
    if let Some(v) = hibp {
        i.hibp = v;
    }
    // An empty string clears an optional string setting.
    if let Some(v) = support_email {
        i.support_email = Some(v).filter(|s| !s.is_empty());
    }
    if let Some(v) = clerk_js_version {
        i.clerk_js_version = Some(v).filter(|s| !s.is_empty());
    }
    if let Some(v) = development_origin {
        i.development_origin = Some(v).filter(|s| !s.is_empty());
    }
    if let Some(v) = syncing {
        i.url_based_session_syncing = v;
    }
    if let Some(v) = strategy {
        i.preferred_sign_in_strategy_when_password_required = v;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn restrictions_json(r: &Restrictions) -> Value {
    json!({
        "object": "instance_restrictions",
        "allowlist": r.allowlist,
        "blocklist": r.blocklist,
        "allowlist_blocklist_disabled_on_sign_in": r.allowlist_blocklist_disabled_on_sign_in,
        "block_email_subaddresses": r.block_email_subaddresses,
        "block_disposable_email_domains": r.block_disposable_email_domains,
    })
}

/// UpdateInstanceRestrictions: 200 with the whole `InstanceRestrictions`.
pub async fn update_restrictions(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = parse_body(&body)?;
    const NAMES: [&str; 5] = [
        "allowlist",
        "blocklist",
        "allowlist_blocklist_disabled_on_sign_in",
        "block_email_subaddresses",
        "block_disposable_email_domains",
    ];
    let mut f = Fields::new(&body, &NAMES);
    let values: Vec<Option<bool>> = NAMES.iter().map(|n| f.bool(n)).collect();
    if !f.errors.is_empty() {
        return Err(ApiError::form(f.errors));
    }
    let mut store = state.store();
    let r = &mut store.restrictions;
    let slots = [
        &mut r.allowlist,
        &mut r.blocklist,
        &mut r.allowlist_blocklist_disabled_on_sign_in,
        &mut r.block_email_subaddresses,
        &mut r.block_disposable_email_domains,
    ];
    for (slot, v) in slots.into_iter().zip(values) {
        if let Some(v) = v {
            *slot = v;
        }
    }
    Ok(Json(restrictions_json(r)))
}

/// The `OrganizationSettings` object (`additionalProperties: false`).
fn org_settings_json(o: &OrgSettings) -> Value {
    json!({
        "object": "organization_settings",
        "enabled": o.enabled,
        "max_allowed_memberships": o.max_allowed_memberships,
        "max_allowed_roles": 10,
        "max_allowed_domains": 10,
        "creator_role": o.creator_role,
        "admin_delete_enabled": o.admin_delete_enabled,
        "domains_enabled": o.domains_enabled,
        "slug_disabled": o.slug_disabled,
        "domains_enrollment_modes": o.domains_enrollment_modes,
        "domains_default_role": o.domains_default_role,
        "initial_role_set_key": null,
    })
}

pub async fn get_org_settings(State(state): State<AppState>) -> Json<Value> {
    Json(org_settings_json(&state.store().org_settings))
}

/// UpdateInstanceOrganizationSettings: 200 with the whole object; a role id
/// that names no role is 404 `OrganizationRoleNotFound`.
pub async fn update_org_settings(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = parse_body(&body)?;
    let mut f = Fields::new(
        &body,
        &[
            "enabled",
            "max_allowed_memberships",
            "admin_delete_enabled",
            "domains_enabled",
            "slug_disabled",
            "domains_enrollment_modes",
            "creator_role_id",
            "domains_default_role_id",
        ],
    );
    let enabled = f.bool("enabled");
    let max = f.int("max_allowed_memberships");
    let admin_delete = f.bool("admin_delete_enabled");
    let domains = f.bool("domains_enabled");
    let slug_disabled = f.bool("slug_disabled");
    let modes = f.strings("domains_enrollment_modes");
    let creator = f.string("creator_role_id");
    let default_role = f.string("domains_default_role_id");
    if max.is_some_and(|n| n < 0) {
        f.errors.push(crate::errors::form_param_value_invalid(
            "max_allowed_memberships",
        ));
    }
    // The request documents the supported modes as `automatic_invitation`
    // and `automatic_suggestion`.
    let supported = ["automatic_invitation", "automatic_suggestion"];
    for m in modes.iter().flatten() {
        if !supported.contains(&m.as_str()) {
            f.errors.push(crate::errors::form_param_value_not_allowed(
                "domains_enrollment_modes",
                m,
                &supported,
            ));
        }
    }
    if !f.errors.is_empty() {
        return Err(ApiError::form(f.errors));
    }
    let mut store = state.store();
    let resolve = |param: &str, id: Option<String>| -> Result<Option<String>, ApiError> {
        id.map(|id| {
            role_key(&store, &id).ok_or_else(|| instance_errors::organization_role_not_found(param))
        })
        .transpose()
    };
    let creator = resolve("creator_role_id", creator)?;
    let default_role = resolve("domains_default_role_id", default_role)?;
    let o = &mut store.org_settings;
    if let Some(v) = enabled {
        o.enabled = v;
    }
    if let Some(v) = max {
        o.max_allowed_memberships = v;
    }
    if let Some(v) = admin_delete {
        o.admin_delete_enabled = v;
    }
    if let Some(v) = domains {
        o.domains_enabled = v;
    }
    if let Some(v) = slug_disabled {
        o.slug_disabled = v;
    }
    if let Some(mut v) = modes {
        v.dedup();
        o.domains_enrollment_modes = v;
    }
    if let Some(v) = creator {
        o.creator_role = v;
    }
    if let Some(v) = default_role {
        o.domains_default_role = v;
    }
    Ok(Json(org_settings_json(o)))
}

/// Test-only: every instance setting, including those the API never reads
/// back, so tests can see that a write landed (or that a destroy left it).
pub async fn hidden(State(state): State<AppState>) -> Json<Value> {
    let store = state.store();
    let i = &store.instance;
    Json(json!({
        "instance": {
            "allowed_origins": i.allowed_origins,
            "test_mode": i.test_mode,
            "hibp": i.hibp,
            "support_email": i.support_email,
            "clerk_js_version": i.clerk_js_version,
            "development_origin": i.development_origin,
            "url_based_session_syncing": i.url_based_session_syncing,
            "preferred_sign_in_strategy_when_password_required":
                i.preferred_sign_in_strategy_when_password_required,
        },
        "restrictions": restrictions_json(&store.restrictions),
        "organization_roles": store.org_settings.default_roles.iter()
            .map(|(id, key)| json!({"id": id, "key": key})).collect::<Vec<_>>(),
    }))
}

/// `local@domain.tld`, no whitespace.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `scheme://host[:port]`, nothing after: the examples of `FormInvalidOrigin`
/// (`my-app://localhost`, `chrome-extension://<id>`, `capacitor://localhost:3000`).
pub fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let mut sc = scheme.chars();
    let scheme_ok = sc.next().is_some_and(|c| c.is_ascii_alphabetic())
        && sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    scheme_ok
        && !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()))
}
