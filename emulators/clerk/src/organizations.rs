//! `/v1/organizations` (ListOrganizations, CreateOrganization,
//! GetOrganization, UpdateOrganization, DeleteOrganization) and the
//! memberships the demo's session tokens need (CreateOrganizationMembership,
//! ListOrganizationMemberships).

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use crate::errors::{self, ApiError, ErrorEntry};
use crate::fields::{self, opt_bool, opt_int, opt_object, opt_string, req_string, Body};
use crate::ids;
use crate::org_errors;
use crate::org_store::{Membership, OrgStore, Organization};
use crate::paging::{parse_body, Page};
use crate::state::{AppState, Store};

/// `name`: "May not contain URLs or HTML. Max length: 256".
fn name_errors(name: &str, errs: &mut Vec<ErrorEntry>) {
    if name.trim().is_empty() {
        errs.push(errors::form_param_not_empty("name"));
    } else if name.chars().count() > 256 {
        errs.push(org_errors::organization_name_invalid(
            name,
            "it is longer than 256 characters",
        ));
    } else if name.contains("://") || (name.contains('<') && name.contains('>')) {
        errs.push(org_errors::organization_name_invalid(
            name,
            "it may not contain URLs or HTML",
        ));
    }
}

/// `slug`: "Can contain only lowercase alphanumeric characters and the dash".
fn slug_errors(slug: &str, errs: &mut Vec<ErrorEntry>) {
    let ok = !slug.is_empty()
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        errs.push(org_errors::format_invalid(
            "slug",
            "slug can contain only lowercase alphanumeric characters and the dash \"-\".".into(),
        ));
    }
}

fn max_errors(max: Option<i64>, errs: &mut Vec<ErrorEntry>) {
    if max.is_some_and(|m| m < 0) {
        errs.push(errors::form_param_value_invalid("max_allowed_memberships"));
    }
}

fn slug_taken(store: &OrgStore, slug: &str, except: Option<&str>) -> Result<(), ApiError> {
    if store
        .organizations
        .iter()
        .any(|o| o.slug == slug && Some(o.id.as_str()) != except)
    {
        return Err(org_errors::identifier_exists(
            "slug",
            "This slug is already taken. Please try another one.".into(),
        ));
    }
    Ok(())
}

/// A slug from the name when none is given: lowercase words joined by
/// dashes, made unique with a suffix.
fn slug_from(store: &OrgStore, name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-').to_string();
    if !s.is_empty() && store.organizations.iter().all(|o| o.slug != s) {
        return s;
    }
    let suffix = ids::random_base62(8).to_ascii_lowercase();
    if s.is_empty() {
        suffix
    } else {
        format!("{s}-{suffix}")
    }
}

fn find(store: &OrgStore, id_or_slug: &str) -> Result<usize, ApiError> {
    store
        .organizations
        .iter()
        .position(|o| o.id == id_or_slug || o.slug == id_or_slug)
        .ok_or_else(org_errors::organization_not_found)
}

/// Newest first; `query` matches the id exactly or the name or slug partially.
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let store = state.store();
    fields::search(
        query,
        store.orgs.organizations.iter().rev(),
        |o| (&o.id, [&o.name, &o.slug]),
        |o| store.orgs.org_json(o),
    )
}

/// `name` required; `created_by` must be a user of the instance, who becomes
/// a member with the creator role.
pub async fn create(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let b = parse_body(&body)?;
    let mut errs = Vec::new();
    let name = req_string(&b, "name", &mut errs);
    let created_by = opt_string(&b, "created_by", &mut errs);
    let slug = opt_string(&b, "slug", &mut errs);
    let max = opt_int(&b, "max_allowed_memberships", &mut errs);
    let public_metadata = opt_object(&b, "public_metadata", &mut errs);
    let private_metadata = opt_object(&b, "private_metadata", &mut errs);
    let _ = opt_string(&b, "created_at", &mut errs);
    let _ = opt_string(&b, "role_set_key", &mut errs);
    if errs.is_empty() {
        name_errors(&name, &mut errs);
        if let Some(s) = &slug {
            slug_errors(s, &mut errs);
        }
        max_errors(max, &mut errs);
    }
    if !errs.is_empty() {
        return Err(ApiError::form(errs));
    }
    let mut store = state.store();
    if !store.org_settings.enabled {
        return Err(org_errors::organization_not_enabled_in_instance());
    }
    if slug.is_some() && store.org_settings.slug_disabled {
        return Err(org_errors::organization_slugs_disabled());
    }
    if let Some(u) = &created_by {
        if !store.users.contains_key(u) {
            return Err(org_errors::organization_creator_not_found(u));
        }
    }
    let slug = match slug {
        Some(s) => {
            slug_taken(&store.orgs, &s, None)?;
            s
        }
        None => slug_from(&store.orgs, &name),
    };
    let now = ids::now_millis();
    let o = Organization {
        id: ids::new_id("org"),
        name,
        slug,
        // Without one, the instance's organization settings decide.
        max_allowed_memberships: max.unwrap_or(store.org_settings.max_allowed_memberships),
        admin_delete_enabled: true,
        public_metadata: public_metadata.unwrap_or_else(|| json!({})),
        private_metadata: private_metadata.unwrap_or_else(|| json!({})),
        created_by: created_by.clone(),
        created_at: now,
        updated_at: now,
    };
    if let Some(u) = created_by {
        let role = store.org_settings.creator_role.clone();
        store.orgs.memberships.push(Membership {
            organization_id: o.id.clone(),
            user_id: u,
            role,
        });
    }
    let out = store.orgs.org_json(&o);
    store.orgs.organizations.push(o);
    Ok(Json(out))
}

/// By id or slug.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store();
    let i = find(&store.orgs, &id)?;
    Ok(Json(store.orgs.org_json(&store.orgs.organizations[i])))
}

/// `additionalProperties: false`; metadata members replace the whole
/// object (the merge is MergeOrganizationMetadata's job).
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: Body = parse_body(&body)?;
    let mut errs = Vec::new();
    fields::only(
        &b,
        &[
            "public_metadata",
            "private_metadata",
            "name",
            "slug",
            "max_allowed_memberships",
            "admin_delete_enabled",
            "created_at",
            "role_set_key",
        ],
        &mut errs,
    );
    let name = opt_string(&b, "name", &mut errs);
    let slug = opt_string(&b, "slug", &mut errs);
    let max = opt_int(&b, "max_allowed_memberships", &mut errs);
    let admin_delete = opt_bool(&b, "admin_delete_enabled", &mut errs);
    let public_metadata = opt_object(&b, "public_metadata", &mut errs);
    let private_metadata = opt_object(&b, "private_metadata", &mut errs);
    if let Some(n) = &name {
        name_errors(n, &mut errs);
    }
    if let Some(s) = &slug {
        slug_errors(s, &mut errs);
    }
    max_errors(max, &mut errs);
    let mut store = state.store();
    // Only the id addresses an update ("The ID of the organization to update").
    let i = store
        .orgs
        .organizations
        .iter()
        .position(|o| o.id == id)
        .ok_or_else(org_errors::organization_not_found)?;
    if !errs.is_empty() {
        return Err(ApiError::form(errs));
    }
    if let Some(s) = &slug {
        slug_taken(&store.orgs, s, Some(&id))?;
    }
    let o = &mut store.orgs.organizations[i];
    if let Some(n) = name {
        o.name = n;
    }
    if let Some(s) = slug {
        o.slug = s;
    }
    if let Some(m) = max {
        o.max_allowed_memberships = m;
    }
    if let Some(a) = admin_delete {
        o.admin_delete_enabled = a;
    }
    if let Some(m) = public_metadata {
        o.public_metadata = m;
    }
    if let Some(m) = private_metadata {
        o.private_metadata = m;
    }
    o.updated_at = ids::now_millis();
    let o = o.clone();
    Ok(Json(store.orgs.org_json(&o)))
}

/// Its memberships go with it.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store();
    let i = store
        .orgs
        .organizations
        .iter()
        .position(|o| o.id == id)
        .ok_or_else(org_errors::organization_not_found)?;
    let o = store.orgs.organizations.remove(i);
    store.orgs.memberships.retain(|m| m.organization_id != id);
    // "any user's active sessions that contain the deleted organization will be cleared"
    store.orgs.active.retain(|_, org| *org != id);
    Ok(Json(
        json!({ "object": "organization", "id": id, "slug": o.slug, "deleted": true }),
    ))
}

/// CreateOrganizationMembership: `user_id` and `role` (a role key) required.
pub async fn add_member(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b = parse_body(&body)?;
    let mut errs = Vec::new();
    let user_id = req_string(&b, "user_id", &mut errs);
    let role = req_string(&b, "role", &mut errs);
    if !errs.is_empty() {
        return Err(ApiError::form(errs));
    }
    let mut store = state.store();
    let i = find(&store.orgs, &id)?;
    let org_id = store.orgs.organizations[i].id.clone();
    if !store.users.contains_key(&user_id) {
        return Err(ApiError::form(vec![org_errors::missing_resource(
            "user_id",
        )]));
    }
    if !store.orgs.roles.iter().any(|r| r.key == role) {
        return Err(org_errors::role_not_found("role"));
    }
    if store
        .orgs
        .memberships
        .iter()
        .any(|m| m.organization_id == org_id && m.user_id == user_id)
    {
        return Err(ApiError {
            status: axum::http::StatusCode::BAD_REQUEST,
            errors: vec![ErrorEntry {
                message: "already a member".into(),
                long_message: format!("{user_id} is already a member of the organization."),
                code: "already_a_member_in_organization",
                meta: None,
            }],
        });
    }
    let m = Membership {
        organization_id: org_id,
        user_id,
        role,
    };
    let out = membership_json(&store, &m);
    store.orgs.memberships.push(m);
    Ok(Json(out))
}

/// ListOrganizationMemberships: `{data, total_count}`.
pub async fn list_members(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| errors::malformed_request_parameters())?;
    let page = Page::parse(&query)?;
    let store = state.store();
    let i = find(&store.orgs, &id)?;
    let org_id = &store.orgs.organizations[i].id;
    let items = store
        .orgs
        .memberships
        .iter()
        .filter(|m| &m.organization_id == org_id)
        .map(|m| membership_json(&store, m))
        .collect();
    Ok(fields::paged(&page, items))
}

/// The `OrganizationMembership` members the demo reads.
fn membership_json(store: &Store, m: &Membership) -> Value {
    let org = store
        .orgs
        .organizations
        .iter()
        .find(|o| o.id == m.organization_id)
        .map(|o| store.orgs.org_json(o));
    let user = store.users.get(&m.user_id);
    json!({
        "object": "organization_membership",
        "id": format!("orgmem_{}", m.user_id.trim_start_matches("user_")),
        "role": m.role,
        "permissions": store.orgs.role_permission_keys(&m.role),
        "public_metadata": {},
        "organization": org,
        "public_user_data": {
            "user_id": m.user_id,
            "first_name": user.and_then(|u| u.first_name.clone()),
            "last_name": user.and_then(|u| u.last_name.clone()),
            // Deprecated but still required by the spec's
            // `OrganizationMembershipPublicUserData` (CreateOrganizationMembership,
            // ListOrganizationMemberships); no user of the emulator has an image.
            "profile_image_url": "",
            "image_url": "",
            "has_image": false,
            "identifier": user.and_then(|u| u.email.clone()),
        },
        "created_at": 0,
        "updated_at": 0,
    })
}
