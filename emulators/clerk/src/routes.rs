//! Route table, bearer authentication, and the small read-only endpoints
//! (JWKS, domains, instance).

use axum::extract::{Request, State};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use emulator_common::Control;
use serde_json::{json, Value};

use crate::errors::{self, ApiError};
use crate::state::{AppState, NewUser};
use crate::{
    domains, identifiers, instance, organizations, permissions, redirect_urls, roles, templates,
    tokens,
};

/// The Backend API documents `GET /v1/jwks` as never rate limited.
pub const JWKS_ROUTE: &str = "/v1/jwks";

pub fn router(state: AppState, control: Control) -> Router {
    let v1 = Router::new()
        .route(
            "/v1/jwt_templates",
            get(templates::list).post(templates::create),
        )
        .route(
            "/v1/jwt_templates/{template_id}",
            get(templates::get)
                .patch(templates::update)
                .delete(templates::delete),
        )
        .route(
            "/v1/redirect_urls",
            get(redirect_urls::list).post(redirect_urls::create),
        )
        .route(
            "/v1/redirect_urls/{id}",
            get(redirect_urls::get).delete(redirect_urls::delete),
        )
        .route(JWKS_ROUTE, get(jwks))
        .route("/v1/domains", get(domains::list).post(domains::add))
        .route(
            "/v1/domains/{domain_id}",
            axum::routing::patch(domains::update).delete(domains::delete),
        )
        .merge(organization_routes())
        .route("/v1/instance", get(instance::get).patch(instance::update))
        .route(
            "/v1/instance/restrictions",
            patch(instance::update_restrictions),
        )
        .route(
            "/v1/instance/organization_settings",
            get(instance::get_org_settings).patch(instance::update_org_settings),
        )
        .route(
            "/v1/allowlist_identifiers",
            get(identifiers::list_allow).post(identifiers::create_allow),
        )
        .route(
            "/v1/allowlist_identifiers/{identifier_id}",
            delete(identifiers::delete_allow),
        )
        .route(
            "/v1/blocklist_identifiers",
            get(identifiers::list_block).post(identifiers::create_block),
        )
        .route(
            "/v1/blocklist_identifiers/{identifier_id}",
            delete(identifiers::delete_block),
        )
        .route(
            "/v1/sessions/{session_id}/tokens",
            post(tokens::create_session_token),
        )
        .route(
            "/v1/sessions/{session_id}/tokens/{template_name}",
            post(tokens::create_from_template),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    // The Frontend API's JWKS is public: verifiers such as Hasura fetch it
    // without credentials.
    let public = Router::new().route("/.well-known/jwks.json", get(jwks));
    let api = v1.merge(public).with_state(state.clone());

    control.exempt_from_rate_limit(JWKS_ROUTE);
    let users = Router::new()
        .route("/__emulator/users", post(add_user))
        .route(
            "/__emulator/sessions/{session_id}/organization",
            post(crate::org_sessions::set_active),
        )
        .route("/__emulator/instance", get(instance::hidden))
        .with_state(state.clone());
    emulator_common::layer(api, control)
        .merge(users)
        .fallback(|| async { errors::not_found_route() })
        .layer(middleware::from_fn_with_state(state, retry_after_as_date))
}

/// Organizations, their roles and permissions (spec tags "Organizations",
/// "Organization Roles", "Organization Permissions", "Organization Memberships").
fn organization_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/organization_permissions",
            get(permissions::list).post(permissions::create),
        )
        .route(
            "/v1/organization_permissions/{permission_id}",
            get(permissions::get)
                .patch(permissions::update)
                .delete(permissions::delete),
        )
        .route(
            "/v1/organization_roles",
            get(roles::list).post(roles::create),
        )
        .route(
            "/v1/organization_roles/{organization_role_id}",
            get(roles::get).patch(roles::update).delete(roles::delete),
        )
        .route(
            "/v1/organization_roles/{organization_role_id}/permissions/{permission_id}",
            post(roles::assign_permission).delete(roles::remove_permission),
        )
        .route(
            "/v1/organizations",
            get(organizations::list).post(organizations::create),
        )
        .route(
            "/v1/organizations/{organization_id}",
            get(organizations::get)
                .patch(organizations::update)
                .delete(organizations::delete),
        )
        .route(
            "/v1/organizations/{organization_id}/memberships",
            get(organizations::list_members).post(organizations::add_member),
        )
}

/// With the knob on, a `Retry-After: N` becomes the IMF-fixdate N seconds
/// from now: the other form RFC 9110 §10.2.3 allows, so tests can show a
/// client honouring both.
async fn retry_after_as_date(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !state.0.retry_after_dates.load(Ordering::Relaxed) {
        return resp;
    }
    let secs = resp
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if let Some(secs) = secs {
        let at = SystemTime::now() + Duration::from_secs(secs);
        if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(at)) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return errors::clerk_key_invalid().into_response();
    };
    let Some(token) = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return errors::authorization_header_format_invalid().into_response();
    };
    if token != state.0.secret_key {
        return errors::clerk_key_invalid().into_response();
    }
    next.run(req).await
}

async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.0.key.jwks())
}

/// Only the primary domain: the emulator is its own Frontend API.
pub fn domain_json(state: &AppState) -> Value {
    let fapi = state.frontend_api_url();
    json!({
        "object": "domain",
        "id": state.0.domain_id,
        "name": fapi.trim_start_matches("http://"),
        "is_satellite": false,
        "frontend_api_url": fapi,
        "accounts_portal_url": fapi,
        "proxy_url": null,
        "development_origin": "",
        "cname_targets": null,
    })
}

/// Test-only: adds (or replaces) a user and returns its session.
async fn add_user(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let new: NewUser = serde_json::from_slice(&body).map_err(|_| errors::request_body_invalid())?;
    let (session_id, user_id) = state.store().upsert_user(new);
    Ok(Json(
        json!({ "session_id": session_id, "user_id": user_id }),
    ))
}
