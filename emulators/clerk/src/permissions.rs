//! `/v1/organization_permissions` (ListOrganizationPermissions,
//! CreateOrganizationPermission, GetOrganizationPermission,
//! UpdateOrganizationPermission, DeleteOrganizationPermission).

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use crate::errors::{self, ApiError, ErrorEntry};
use crate::fields::{self, opt_string, req_string};
use crate::ids;
use crate::org_errors;
use crate::org_store::{OrgStore, Permission};
use crate::paging::parse_body;
use crate::state::AppState;

/// The spec's rule for `key`: "org:feature:action" where feature and action
/// are lowercase letters, digits or underscores, never `org:sys_`.
pub fn key_error(key: &str) -> Option<ErrorEntry> {
    let segment = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let parts: Vec<&str> = key.split(':').collect();
    if parts.len() != 3 || parts[0] != "org" || !segment(parts[1]) || !segment(parts[2]) {
        return Some(org_errors::format_invalid("key", "key must have the format \"org:feature:action\" where feature and action consist of lowercase letters, digits, or underscores.".into()));
    }
    if key.starts_with("org:sys_") {
        return Some(org_errors::format_invalid(
            "key",
            "key cannot begin with \"org:sys_\" as that prefix is reserved for system permissions."
                .into(),
        ));
    }
    None
}

fn find(store: &OrgStore, id: &str) -> Result<usize, ApiError> {
    store
        .permissions
        .iter()
        .position(|p| p.id == id)
        .ok_or_else(org_errors::permission_not_found)
}

fn key_taken(store: &OrgStore, key: &str, except: Option<&str>) -> Result<(), ApiError> {
    if store
        .permissions
        .iter()
        .any(|p| p.key == key && Some(p.id.as_str()) != except)
    {
        return Err(org_errors::identifier_exists(
            "key",
            format!("A permission with key '{key}' already exists."),
        ));
    }
    Ok(())
}

/// `query` (exact id, partial name or key) and `limit`/`offset`; always
/// `{data, total_count}` (the `Permissions` response).
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    fields::search(
        query,
        state.store().orgs.permissions.iter(),
        |p| (&p.id, [&p.name, &p.key]),
        Permission::to_json,
    )
}

/// `name` and `key` required, `description` optional.
pub async fn create(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let b = parse_body(&body)?;
    let mut errs = Vec::new();
    let name = req_string(&b, "name", &mut errs);
    let key = req_string(&b, "key", &mut errs);
    let description = opt_string(&b, "description", &mut errs).unwrap_or_default();
    if errs.is_empty() && name.trim().is_empty() {
        errs.push(errors::form_param_not_empty("name"));
    }
    if errs.is_empty() {
        errs.extend(key_error(&key));
    }
    if !errs.is_empty() {
        return Err(ApiError::form(errs));
    }
    let mut store = state.store();
    key_taken(&store.orgs, &key, None)?;
    let now = ids::now_millis();
    let p = Permission {
        id: ids::new_id("perm"),
        name,
        key,
        description,
        system: false,
        created_at: now,
        updated_at: now,
    };
    let out = p.to_json();
    store.orgs.permissions.push(p);
    Ok(Json(out))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store();
    let i = find(&store.orgs, &id)?;
    Ok(Json(store.orgs.permissions[i].to_json()))
}

/// Any of `name`, `key`, `description`; system permissions are refused (403).
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b = parse_body(&body)?;
    let mut errs = Vec::new();
    let name = opt_string(&b, "name", &mut errs);
    let key = opt_string(&b, "key", &mut errs);
    let description = opt_string(&b, "description", &mut errs);
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        errs.push(errors::form_param_not_empty("name"));
    }
    if let Some(k) = &key {
        errs.extend(key_error(k));
    }
    let mut store = state.store();
    let i = find(&store.orgs, &id)?;
    if store.orgs.permissions[i].system {
        return Err(org_errors::system_permission_not_modifiable());
    }
    if !errs.is_empty() {
        return Err(ApiError::form(errs));
    }
    if let Some(k) = &key {
        key_taken(&store.orgs, k, Some(&id))?;
    }
    let p = &mut store.orgs.permissions[i];
    if let Some(n) = name {
        p.name = n;
    }
    if let Some(k) = key {
        p.key = k;
    }
    if let Some(d) = description {
        p.description = d;
    }
    p.updated_at = ids::now_millis();
    Ok(Json(p.to_json()))
}

/// Removes it from every role too; system permissions are refused (403).
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store();
    let i = find(&store.orgs, &id)?;
    if store.orgs.permissions[i].system {
        return Err(org_errors::system_permission_not_modifiable());
    }
    store.orgs.permissions.remove(i);
    let affected: Vec<usize> = (0..store.orgs.roles.len())
        .filter(|&r| store.orgs.roles[r].permissions.contains(&id))
        .collect();
    for r in affected {
        store.orgs.roles[r].permissions.retain(|p| *p != id);
        store.orgs.record(r);
    }
    Ok(Json(
        json!({ "object": "permission", "id": id, "deleted": true }),
    ))
}
