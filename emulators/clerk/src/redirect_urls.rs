//! `/v1/redirect_urls` (operations ListRedirectURLs, CreateRedirectURL,
//! GetRedirectURL, DeleteRedirectURL of the Backend API spec 2025-11-10):
//! create and delete only, there is no update.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use crate::errors::{self, ApiError};
use crate::ids;
use crate::paging::{parse_body, Page};
use crate::state::{AppState, RedirectUrl};

pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| errors::malformed_request_parameters())?;
    let page = Page::parse(&query)?;
    Ok(page.respond(&state.store().redirect_urls, RedirectUrl::to_json))
}

/// The spec requires `url`, "prefixed with `https://` or a custom scheme";
/// the error catalog's `InvalidRedirectURL` (422 `invalid_redirect_url`,
/// redirect_urls.go) is the answer to a value that is not a URL. The spec
/// documents no error for a URL that is already listed, so none is modelled.
pub async fn create(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let body = parse_body(&body)?;
    let url = match body.get("url") {
        None | Some(Value::Null) => {
            return Err(ApiError::form(vec![errors::form_param_missing("url")]))
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(ApiError::form(vec![errors::form_param_wrong_type(
                "url",
                errors::json_type(other),
                "string",
            )]))
        }
    };
    if !is_redirect_url(&url) {
        return Err(errors::invalid_redirect_url());
    }
    let now = ids::now_millis();
    let r = RedirectUrl {
        id: ids::new_id("ru"),
        url,
        created_at: now,
        updated_at: now,
    };
    let out = r.to_json();
    state.store().redirect_urls.push(r);
    Ok(Json(out))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store();
    let r = store
        .redirect_urls
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| errors::redirect_url_not_found("id", &id))?;
    Ok(Json(r.to_json()))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store();
    let Some(idx) = store.redirect_urls.iter().position(|r| r.id == id) else {
        return Err(errors::redirect_url_not_found("id", &id));
    };
    store.redirect_urls.remove(idx);
    Ok(Json(
        json!({ "object": "redirect_url", "id": id, "deleted": true }),
    ))
}

/// `scheme:rest` with an RFC 3986 scheme and something after it, no spaces.
fn is_redirect_url(u: &str) -> bool {
    let Some((scheme, rest)) = u.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.trim_start_matches('/').is_empty()
        && !u.chars().any(char::is_whitespace)
}
