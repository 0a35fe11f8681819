//! `/v1/organization_roles` (ListOrganizationRoles, CreateOrganizationRole,
//! GetOrganizationRole, UpdateOrganizationRole, DeleteOrganizationRole,
//! AssignPermissionToOrganizationRole, RemovePermissionFromOrganizationRole).

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use crate::errors::{self, ApiError, ErrorEntry};
use crate::fields::{self, opt_bool, opt_string, opt_strings, req_string};
use crate::ids;
use crate::org_errors;
use crate::org_store::{OrgStore, Role, CUSTOM_ROLES_MAX};
use crate::paging::parse_body;
use crate::state::AppState;

/// The spec's rule for a role `key`: "Must start with 'org:' and contain
/// only lowercase alphanumeric characters and underscores."
pub fn key_error(key: &str) -> Option<ErrorEntry> {
    let ok = key.strip_prefix("org:").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    });
    (!ok).then(|| org_errors::format_invalid("key", "key must start with 'org:' and contain only lowercase alphanumeric characters and underscores.".into()))
}

fn find(store: &OrgStore, id: &str) -> Result<usize, ApiError> {
    store
        .roles
        .iter()
        .position(|r| r.id == id)
        .ok_or_else(|| org_errors::role_not_found("organization_role_id"))
}

fn key_taken(store: &OrgStore, key: &str, except: Option<&str>) -> Result<(), ApiError> {
    if store
        .roles
        .iter()
        .any(|r| r.key == key && Some(r.id.as_str()) != except)
    {
        return Err(org_errors::identifier_exists(
            "key",
            format!("A role with key '{key}' already exists."),
        ));
    }
    Ok(())
}

/// Permission ids named in a body must exist (the operations' 404).
fn known_permissions(store: &OrgStore, ids: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if store.permission(id).is_none() {
            return Err(org_errors::permission_not_found());
        }
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// Newest first ("ordered by descending creation date"), `query` matching
/// the id exactly or the name or key partially.
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let store = state.store();
    fields::search(
        query,
        store.orgs.roles.iter().rev(),
        |r| (&r.id, [&r.name, &r.key]),
        |r| store.orgs.role_json(r),
    )
}

/// `name` and `key` required; `permissions` are permission ids
/// (`additionalProperties: false`).
pub async fn create(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let b = parse_body(&body)?;
    let mut errs = Vec::new();
    fields::only(
        &b,
        &[
            "name",
            "key",
            "description",
            "permissions",
            "include_in_initial_role_set",
        ],
        &mut errs,
    );
    let name = req_string(&b, "name", &mut errs);
    let key = req_string(&b, "key", &mut errs);
    let description = opt_string(&b, "description", &mut errs);
    let permissions = opt_strings(&b, "permissions", &mut errs).unwrap_or_default();
    let _ = opt_bool(&b, "include_in_initial_role_set", &mut errs);
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
    if store.orgs.roles.len() >= CUSTOM_ROLES_MAX + 2 {
        return Err(org_errors::instance_roles_quota_exceeded(CUSTOM_ROLES_MAX));
    }
    key_taken(&store.orgs, &key, None)?;
    let permissions = known_permissions(&store.orgs, &permissions)?;
    let now = ids::now_millis();
    store.orgs.roles.push(Role {
        id: ids::new_id("role"),
        name,
        key,
        description,
        permissions,
        created_at: now,
        updated_at: now,
    });
    let i = store.orgs.roles.len() - 1;
    store.orgs.record(i);
    Ok(Json(store.orgs.role_json(&store.orgs.roles[i])))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store();
    let i = find(&store.orgs, &id)?;
    Ok(Json(store.orgs.role_json(&store.orgs.roles[i])))
}

/// Any of `name`, `key`, `description`, `permissions` (replacing the set).
/// A new key of the creator or domain default role cascades to the
/// organization settings, as the operation's description says.
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
    let clear_description = fields::is_null(&b, "description");
    let permissions = opt_strings(&b, "permissions", &mut errs);
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        errs.push(errors::form_param_not_empty("name"));
    }
    if let Some(k) = &key {
        errs.extend(key_error(k));
    }
    if !errs.is_empty() {
        return Err(ApiError::form(errs));
    }
    let mut store = state.store();
    let i = find(&store.orgs, &id)?;
    if let Some(k) = &key {
        key_taken(&store.orgs, k, Some(&id))?;
    }
    let permissions = match permissions {
        Some(p) => Some(known_permissions(&store.orgs, &p)?),
        None => None,
    };
    let old_key = store.orgs.roles[i].key.clone();
    if let Some(k) = &key {
        if store.org_settings.creator_role == old_key {
            store.org_settings.creator_role = k.clone();
        }
        if store.org_settings.domains_default_role == old_key {
            store.org_settings.domains_default_role = k.clone();
        }
        for m in store
            .orgs
            .memberships
            .iter_mut()
            .filter(|m| m.role == old_key)
        {
            m.role = k.clone();
        }
    }
    let changed_permissions = permissions.is_some();
    let r = &mut store.orgs.roles[i];
    if let Some(n) = name {
        r.name = n;
    }
    if let Some(k) = key {
        r.key = k;
    }
    if description.is_some() || clear_description {
        r.description = description;
    }
    if let Some(p) = permissions {
        r.permissions = p;
    }
    r.updated_at = ids::now_millis();
    if changed_permissions {
        store.orgs.record(i);
    }
    Ok(Json(store.orgs.role_json(&store.orgs.roles[i])))
}

/// Refused while the role is the creator role, the domain default role or
/// held by a member (the operation's description; 422 each).
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store();
    let i = find(&store.orgs, &id)?;
    let key = store.orgs.roles[i].key.clone();
    if store.org_settings.creator_role == key {
        return Err(org_errors::role_used_as_creator_role());
    }
    if store.org_settings.domains_default_role == key {
        return Err(org_errors::role_used_as_domain_default_role());
    }
    if store.orgs.memberships.iter().any(|m| m.role == key) {
        return Err(org_errors::role_assigned_to_members());
    }
    store.orgs.roles.remove(i);
    Ok(Json(json!({ "object": "role", "id": id, "deleted": true })))
}

/// 409 when the permission is already the role's.
pub async fn assign_permission(
    State(state): State<AppState>,
    Path((id, permission_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store();
    let i = find(&store.orgs, &id)?;
    if store.orgs.permission(&permission_id).is_none() {
        return Err(org_errors::permission_not_found());
    }
    let r = &mut store.orgs.roles[i];
    if r.permissions.contains(&permission_id) {
        return Err(org_errors::role_permission_association_exists());
    }
    r.permissions.push(permission_id);
    r.updated_at = ids::now_millis();
    store.orgs.record(i);
    Ok(Json(store.orgs.role_json(&store.orgs.roles[i])))
}

/// 404 `organization_role_permission_association_not_found` when the
/// permission is not the role's.
pub async fn remove_permission(
    State(state): State<AppState>,
    Path((id, permission_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store();
    let i = find(&store.orgs, &id)?;
    if store.orgs.permission(&permission_id).is_none() {
        return Err(org_errors::permission_not_found());
    }
    let r = &mut store.orgs.roles[i];
    let Some(at) = r.permissions.iter().position(|p| *p == permission_id) else {
        return Err(org_errors::role_permission_association_not_found());
    };
    r.permissions.remove(at);
    r.updated_at = ids::now_millis();
    store.orgs.record(i);
    Ok(Json(store.orgs.role_json(&store.orgs.roles[i])))
}
