//! `/v1/allowlist_identifiers` (ListAllowlistIdentifiers,
//! CreateAllowlistIdentifier, DeleteAllowlistIdentifier) and
//! `/v1/blocklist_identifiers` (ListBlocklistIdentifiers,
//! CreateBlocklistIdentifier, DeleteBlocklistIdentifier) of the Backend API
//! spec 2025-11-10. Neither list has an update: identifiers are created and
//! deleted.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::errors::{self, ApiError};
use crate::ids;
use crate::instance::is_email;
use crate::instance_errors;
use crate::paging::{parse_body, Page};
use crate::patch_fields::Fields;
use crate::state::AppState;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum List {
    Allow,
    Block,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            List::Allow => "allowlist",
            List::Block => "blocklist",
        }
    }
}

/// An `AllowlistIdentifier` or `BlocklistIdentifier` (both
/// `additionalProperties: false`; only the allow-list has `invitation_id`).
pub struct Identifier {
    pub id: String,
    pub identifier: String,
    pub identifier_type: &'static str,
    pub invitation_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Identifier {
    fn to_json(&self, list: List, instance_id: &str) -> Value {
        let mut m = Map::new();
        m.insert(
            "object".into(),
            json!(format!("{}_identifier", list.name())),
        );
        m.insert("id".into(), json!(self.id));
        if let Some(inv) = &self.invitation_id {
            m.insert("invitation_id".into(), json!(inv));
        }
        m.insert("identifier".into(), json!(self.identifier));
        m.insert("identifier_type".into(), json!(self.identifier_type));
        m.insert("instance_id".into(), json!(instance_id));
        m.insert("created_at".into(), json!(self.created_at));
        m.insert("updated_at".into(), json!(self.updated_at));
        Value::Object(m)
    }
}

fn entries(store: &mut crate::state::Store, list: List) -> &mut Vec<Identifier> {
    match list {
        List::Allow => &mut store.allowlist,
        List::Block => &mut store.blocklist,
    }
}

/// ListAllowlistIdentifiers takes `Paginated`/`LimitParameter`/`OffsetParameter`
/// (a bare array unless `paginated=true`); ListBlocklistIdentifiers takes no
/// parameters and always answers `BlocklistIdentifiers` (`{data, total_count}`).
async fn list(
    state: AppState,
    list: List,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let instance_id = state.0.instance_id.clone();
    let mut store = state.store();
    let items = entries(&mut store, list);
    let to_json = |i: &Identifier| i.to_json(list, &instance_id);
    match list {
        List::Allow => {
            let Query(query) = query.map_err(|_| errors::malformed_request_parameters())?;
            Ok(Page::parse(&query)?.respond(items, to_json))
        }
        List::Block => {
            let all = Page {
                paginated: true,
                limit: usize::MAX,
                offset: 0,
            };
            Ok(all.respond(items, to_json))
        }
    }
}

/// The type of an identifier, or `None` when it is none of the kinds the
/// create operations document ("an email address, a phone number, or a web3
/// wallet"; `BlocklistIdentifier.identifier` also names "email domain",
/// written `*@example.com` and typed `email_address`).
pub fn identifier_type(s: &str) -> Option<&'static str> {
    if let Some(domain) = s.strip_prefix("*@") {
        return is_email(&format!("x@{domain}")).then_some("email_address");
    }
    if is_email(s) {
        return Some("email_address");
    }
    // E.164: `+`, then up to 15 digits, the first not 0
    // (catalog `FormInvalidPhoneNumber`).
    if let Some(digits) = s.strip_prefix('+') {
        let ok = (2..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        return ok.then_some("phone_number");
    }
    // `0x` and 40 hexadecimal characters (catalog `FormInvalidWeb3EthWalletAddress`).
    if let Some(hex) = s.strip_prefix("0x") {
        let ok = hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit());
        return ok.then_some("web3_wallet");
    }
    None
}

async fn create(state: AppState, list: List, body: Bytes) -> Result<Json<Value>, ApiError> {
    let body = parse_body(&body)?;
    let allowed: &[&str] = match list {
        List::Allow => &["identifier", "notify"],
        List::Block => &["identifier"],
    };
    let mut f = Fields::new(&body, allowed);
    let identifier = f.string("identifier");
    let notify = if list == List::Allow {
        f.bool("notify").unwrap_or(false)
    } else {
        false
    };
    let kind = match &identifier {
        None if f.errors.is_empty() => {
            f.errors.push(errors::form_param_missing("identifier"));
            None
        }
        None => None,
        Some(i) => {
            let kind = identifier_type(i);
            if kind.is_none() {
                f.errors
                    .push(instance_errors::form_invalid_identifier("identifier"));
            }
            kind
        }
    };
    if !f.errors.is_empty() {
        return Err(ApiError::form(f.errors));
    }
    let (identifier, kind) = (identifier.unwrap_or_default(), kind.unwrap_or_default());
    let instance_id = state.0.instance_id.clone();
    let mut store = state.store();
    let items = entries(&mut store, list);
    if items.iter().any(|i| i.identifier == identifier) {
        return Err(instance_errors::duplicate_identifier(
            list.name(),
            &identifier,
        ));
    }
    let now = ids::now_millis();
    // `notify`: "an invitation to join the application ... only works for
    // email address and phone number identifiers".
    let invites = notify && kind != "web3_wallet";
    let entry = Identifier {
        id: ids::new_id(match list {
            List::Allow => "alid",
            List::Block => "blid",
        }),
        identifier,
        identifier_type: kind,
        invitation_id: invites.then(|| ids::new_id("inv")),
        created_at: now,
        updated_at: now,
    };
    let out = entry.to_json(list, &instance_id);
    items.push(entry);
    Ok(Json(out))
}

async fn delete(state: AppState, list: List, id: String) -> Result<Json<Value>, ApiError> {
    let mut store = state.store();
    let items = entries(&mut store, list);
    let Some(idx) = items.iter().position(|i| i.id == id) else {
        return Err(instance_errors::identifier_not_found(&id));
    };
    items.remove(idx);
    Ok(Json(json!({
        "object": format!("{}_identifier", list.name()),
        "id": id,
        "deleted": true,
    })))
}

pub async fn list_allow(
    State(s): State<AppState>,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    list(s, List::Allow, q).await
}

pub async fn list_block(
    State(s): State<AppState>,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    list(s, List::Block, q).await
}

pub async fn create_allow(State(s): State<AppState>, b: Bytes) -> Result<Json<Value>, ApiError> {
    create(s, List::Allow, b).await
}

pub async fn create_block(State(s): State<AppState>, b: Bytes) -> Result<Json<Value>, ApiError> {
    create(s, List::Block, b).await
}

pub async fn delete_allow(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    delete(s, List::Allow, id).await
}

pub async fn delete_block(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    delete(s, List::Block, id).await
}
