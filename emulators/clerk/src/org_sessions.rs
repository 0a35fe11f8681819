//! A session's active organization, as session tokens and template
//! shortcodes see it (`{{org.id}}`, `{{org.role}}`, `{{org.slug}}`,
//! `{{org.name}}`, `{{org.public_metadata}}`,
//! `{{org_membership.public_metadata}}`, `{{user.organizations}}`; and the
//! session token's `org_id`, `org_role`, `org_slug`, `org_permissions`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::errors::{self, ApiError};
use crate::fields::opt_string;
use crate::org_errors;
use crate::paging::parse_body;
use crate::state::{AppState, Store};

/// What a token minted for `session_id` knows of organizations.
pub struct OrgContext {
    /// `org` shortcode root: null without an active organization.
    pub org: Value,
    /// `org_membership` shortcode root.
    pub membership: Value,
    /// `user.organizations`: organization id -> role key.
    pub organizations: Value,
    /// Session-token claims (`org_id`, `org_role`, `org_slug`,
    /// `org_permissions`), empty without an active organization.
    pub claims: Map<String, Value>,
}

pub fn context(store: &Store, session_id: &str, user_id: &str) -> OrgContext {
    let orgs = &store.orgs;
    let organizations: Map<String, Value> = orgs
        .memberships
        .iter()
        .filter(|m| m.user_id == user_id)
        .map(|m| (m.organization_id.clone(), json!(m.role)))
        .collect();
    let active = orgs.active.get(session_id).and_then(|org_id| {
        let o = orgs.organizations.iter().find(|o| &o.id == org_id)?;
        let m = orgs
            .memberships
            .iter()
            .find(|m| &m.organization_id == org_id && m.user_id == user_id)?;
        Some((o, m))
    });
    let mut claims = Map::new();
    let (org, membership) = match active {
        None => (Value::Null, Value::Null),
        Some((o, m)) => {
            claims.insert("org_id".into(), json!(o.id));
            claims.insert("org_role".into(), json!(m.role));
            claims.insert("org_slug".into(), json!(o.slug));
            claims.insert(
                "org_permissions".into(),
                json!(orgs.role_permission_keys(&m.role)),
            );
            (
                json!({
                    "id": o.id,
                    "role": m.role,
                    "name": o.name,
                    "slug": o.slug,
                    "public_metadata": o.public_metadata,
                    "image_url": "",
                    "has_image": false,
                }),
                json!({ "public_metadata": {} }),
            )
        }
    };
    OrgContext {
        org,
        membership,
        organizations: Value::Object(organizations),
        claims,
    }
}

/// Test-only (`/__emulator/sessions/{session_id}/organization`): makes an
/// organization the session's active one, as `setActive` does from the
/// frontend; `{"organization_id": null}` clears it. The user must be a member.
pub async fn set_active(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b = parse_body(&body)?;
    let mut errs = Vec::new();
    let org = opt_string(&b, "organization_id", &mut errs);
    if !errs.is_empty() {
        return Err(ApiError::form(errs));
    }
    let mut store = state.store();
    let user_id = store
        .sessions
        .get(&session_id)
        .cloned()
        .ok_or_else(|| errors::session_not_found(&session_id))?;
    match org {
        None => {
            store.orgs.active.remove(&session_id);
        }
        Some(id_or_slug) => {
            let o = store
                .orgs
                .organizations
                .iter()
                .find(|o| o.id == id_or_slug || o.slug == id_or_slug)
                .ok_or_else(org_errors::organization_not_found)?;
            let org_id = o.id.clone();
            if !store
                .orgs
                .memberships
                .iter()
                .any(|m| m.organization_id == org_id && m.user_id == user_id)
            {
                return Err(org_errors::not_a_member());
            }
            store.orgs.active.insert(session_id.clone(), org_id);
        }
    }
    Ok(Json(
        json!({ "session_id": session_id, "organization_id": store.orgs.active.get(&session_id) }),
    ))
}
