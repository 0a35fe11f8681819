//! `/v1/domains` (ListDomains, AddDomain, UpdateDomain, DeleteDomain): the
//! primary domain (the emulator's own address, fixed) and satellites.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::errors::{ApiError, ErrorEntry};
use crate::fields::{self, opt_bool, opt_string, req_string};
use crate::ids;
use crate::org_errors;
use crate::org_store::SatelliteDomain;
use crate::routes::domain_json;
use crate::state::{AppState, Store};

/// The whole list, primary first: ListDomains has no paging parameters and
/// answers `Domains` (`{data, total_count}`).
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let mut data = vec![domain_json(&state)];
    data.extend(
        state
            .store()
            .orgs
            .domains
            .iter()
            .map(SatelliteDomain::to_json),
    );
    let n = data.len();
    Json(json!({ "data": data, "total_count": n }))
}

/// "For development instances, can contain the port, i.e `myhostname:3000`.
/// For production instances, must be a valid FQDN ... Cannot contain
/// protocol scheme."
fn name_error(name: &str, production: bool) -> Option<ErrorEntry> {
    let (host, port) = match name.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (name, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let host_ok = host.split('.').all(label_ok) && (host.contains('.') || !production);
    let port_ok = match port {
        None => true,
        Some(p) => !production && p.parse::<u16>().is_ok_and(|n| n > 0),
    };
    (!(host_ok && port_ok) || name.len() > 253).then(|| {
        let why = if production {
            "name must be a valid FQDN, such as mysite.com, without a protocol scheme."
        } else {
            "name must be a host name, optionally with a port (myhostname:3000), without a protocol scheme."
        };
        org_errors::format_invalid("name", why.into())
    })
}

/// Only production instances may use a proxy; there it must be an https URL
/// (domains.go `InvalidProxyConfiguration` otherwise).
fn proxy_error(proxy: &str, production: bool) -> Option<ApiError> {
    if !production {
        return Some(org_errors::domain_update_forbidden());
    }
    let ok = proxy
        .strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    (!ok).then(|| ApiError {
        status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        errors: vec![org_errors::param_entry(
            "invalid_proxy_configuration",
            "",
            "Clerk Frontend API cannot be accessed through the proxy URL. Make sure your proxy is configured correctly.".into(),
            "proxy_url",
        )],
    })
}

fn name_taken(
    state: &AppState,
    store: &Store,
    name: &str,
    except: Option<&str>,
) -> Result<(), ApiError> {
    let primary = domain_json(state);
    let taken = primary["name"] == name
        || store
            .orgs
            .domains
            .iter()
            .any(|d| d.name == name && Some(d.id.as_str()) != except);
    if taken {
        return Err(org_errors::identifier_exists(
            "name",
            format!("The domain {name} is already in use."),
        ));
    }
    Ok(())
}

/// `name` and `is_satellite` (only `true`) required; `proxy_url` optional.
pub async fn add(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let b = crate::paging::parse_body(&body)?;
    let mut errs = Vec::new();
    let name = req_string(&b, "name", &mut errs);
    let satellite = opt_bool(&b, "is_satellite", &mut errs);
    let proxy = opt_string(&b, "proxy_url", &mut errs);
    if satellite.is_none() && errs.is_empty() {
        errs.push(crate::errors::form_param_missing("is_satellite"));
    }
    let production = state.store().orgs.production;
    if errs.is_empty() {
        errs.extend(name_error(&name, production));
    }
    if !errs.is_empty() {
        return Err(ApiError::form(errs));
    }
    if satellite == Some(false) {
        return Err(org_errors::primary_domain_already_exists());
    }
    if let Some(e) = proxy.as_deref().and_then(|p| proxy_error(p, production)) {
        return Err(e);
    }
    let mut store = state.store();
    name_taken(&state, &store, &name, None)?;
    let d = SatelliteDomain {
        id: ids::new_id("dmn"),
        name,
        proxy_url: proxy,
    };
    let out = d.to_json();
    store.orgs.domains.push(d);
    Ok(Json(out))
}

/// `name`, `proxy_url` (null switches back to DNS) and `is_secondary`
/// (`additionalProperties: false`). The primary domain is the emulator's
/// own address and answers `domain_update_forbidden` to any change.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b = crate::paging::parse_body(&body)?;
    let mut errs = Vec::new();
    fields::only(&b, &["name", "proxy_url", "is_secondary"], &mut errs);
    let name = opt_string(&b, "name", &mut errs);
    let proxy = opt_string(&b, "proxy_url", &mut errs);
    let clear_proxy = fields::is_null(&b, "proxy_url");
    let _ = opt_bool(&b, "is_secondary", &mut errs);
    if id == state.0.domain_id {
        return Err(org_errors::domain_update_forbidden());
    }
    let production = {
        let store = state.store();
        if !store.orgs.domains.iter().any(|d| d.id == id) {
            return Err(org_errors::domain_not_found(&id));
        }
        store.orgs.production
    };
    if let Some(n) = &name {
        errs.extend(name_error(n, production));
    }
    if !errs.is_empty() {
        return Err(ApiError::form(errs));
    }
    if let Some(e) = proxy.as_deref().and_then(|p| proxy_error(p, production)) {
        return Err(e);
    }
    let mut store = state.store();
    if let Some(n) = &name {
        name_taken(&state, &store, n, Some(&id))?;
    }
    let d = store
        .orgs
        .domains
        .iter_mut()
        .find(|d| d.id == id)
        .ok_or_else(|| org_errors::domain_not_found(&id))?;
    if let Some(n) = name {
        d.name = n;
    }
    if proxy.is_some() || clear_proxy {
        d.proxy_url = proxy;
    }
    Ok(Json(d.to_json()))
}

/// Satellites only: the primary answers 403.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if id == state.0.domain_id {
        return Err(org_errors::operation_not_allowed_on_primary_domain());
    }
    let mut store = state.store();
    let Some(i) = store.orgs.domains.iter().position(|d| d.id == id) else {
        return Err(org_errors::domain_not_found(&id));
    };
    store.orgs.domains.remove(i);
    Ok(Json(
        json!({ "object": "domain", "id": id, "deleted": true }),
    ))
}
