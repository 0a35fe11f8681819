//! `/v1/jwt_templates`: list (bare or paginated), create, read, full-body
//! PATCH update and delete, validated the way Clerk validates them.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::errors::{self, json_type, ApiError, ErrorEntry};
use crate::ids;
use crate::jwks::{CustomKey, CUSTOM_ALGORITHMS};
use crate::paging::{parse_body, Page};
use crate::state::{AppState, Store, Template};

pub const LIFETIME_MIN: i64 = 30;
pub const LIFETIME_MAX: i64 = 315_360_000;
pub const LIFETIME_DEFAULT: i64 = 60;
pub const SKEW_MAX: i64 = 300;
pub const SKEW_DEFAULT: i64 = 5;

/// Claims every token gets (`azp exp iat iss jti nbf sub`) plus the
/// session-bound ones; a template may not set any of them.
pub const RESERVED_CLAIMS: &[&str] = &[
    "azp", "exp", "iat", "iss", "jti", "nbf", "sub", "sid", "v", "pla", "fea", "fva", "sts",
];

pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| errors::malformed_request_parameters())?;
    let page = Page::parse(&query)?;
    let store = state.store();
    Ok(page.respond(&store.templates, Template::to_json))
}

pub async fn create(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let body = parse_body(&body)?;
    let mut store = state.store();
    let p = TemplateParams::validate(&body, None)?;
    plan_allows(&store, &p)?;
    if store.templates.iter().any(|t| t.name == p.name) {
        return Err(ApiError::form(vec![errors::form_identifier_exists(
            "name", &p.name,
        )]));
    }
    let now = ids::now_millis();
    let t = Template {
        id: ids::new_id("jtmp"),
        name: p.name,
        claims: p.claims,
        lifetime: p.lifetime,
        allowed_clock_skew: p.allowed_clock_skew,
        custom_signing_key: p.custom_signing_key,
        signing_algorithm: p.signing_algorithm,
        signing_key: p.signing_key,
        created_at: now,
        updated_at: now,
    };
    let out = t.to_json();
    store.templates.push(t);
    Ok(Json(out))
}

pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store();
    let t = store
        .template(&id)
        .ok_or_else(|| errors::jwt_template_not_found("id", &id))?;
    Ok(Json(t.to_json()))
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store();
    let Some(idx) = store.templates.iter().position(|t| t.id == id) else {
        return Err(errors::jwt_template_not_found("id", &id));
    };
    let body = parse_body(&body)?;
    let p = TemplateParams::validate(&body, Some(&store.templates[idx]))?;
    plan_allows(&store, &p)?;
    if store
        .templates
        .iter()
        .any(|t| t.name == p.name && t.id != id)
    {
        return Err(ApiError::form(vec![errors::form_identifier_exists(
            "name", &p.name,
        )]));
    }
    let t = &mut store.templates[idx];
    t.name = p.name;
    t.claims = p.claims;
    t.lifetime = p.lifetime;
    t.allowed_clock_skew = p.allowed_clock_skew;
    t.custom_signing_key = p.custom_signing_key;
    t.signing_algorithm = p.signing_algorithm;
    t.signing_key = p.signing_key;
    // Strictly increasing, so a client can tell an update happened even
    // within the same millisecond.
    t.updated_at = ids::now_millis().max(t.updated_at + 1);
    Ok(Json(t.to_json()))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut store = state.store();
    let Some(idx) = store.templates.iter().position(|t| t.id == id) else {
        return Err(errors::jwt_template_not_found("id", &id));
    };
    // DeleteJWTTemplate's 403 (`AuthorizationInvalid`): the instance's
    // session-token template cannot be deleted.
    if store.session_token_templates.contains(&id) {
        return Err(errors::session_token_template_not_deletable());
    }
    store.templates.remove(idx);
    Ok(Json(
        json!({ "object": "jwt_template", "id": id, "deleted": true }),
    ))
}

/// CreateJWTTemplate / UpdateJWTTemplate answer 402 (`PaymentRequired`) for
/// an option the instance's plan lacks; checked after the body is valid.
fn plan_allows(store: &Store, p: &TemplateParams) -> Result<(), ApiError> {
    if p.custom_signing_key && store.custom_signing_key_needs_upgrade {
        return Err(errors::unsupported_subscription_plan_features(&[
            "custom_signing_key",
        ]));
    }
    Ok(())
}

struct TemplateParams {
    name: String,
    claims: Value,
    lifetime: i64,
    allowed_clock_skew: i64,
    custom_signing_key: bool,
    signing_algorithm: String,
    signing_key: Option<String>,
}

/// A present, non-null field; `Err` records a type error.
fn field<'a, T>(
    body: &'a Map<String, Value>,
    name: &str,
    expected: &str,
    get: impl Fn(&'a Value) -> Option<T>,
    errs: &mut Vec<ErrorEntry>,
) -> Option<T> {
    match body.get(name) {
        None | Some(Value::Null) => None,
        Some(v) => match get(v) {
            Some(x) => Some(x),
            None => {
                errs.push(errors::form_param_wrong_type(name, json_type(v), expected));
                None
            }
        },
    }
}

fn ranged(
    value: Option<i64>,
    name: &str,
    min: i64,
    max: i64,
    errs: &mut Vec<ErrorEntry>,
) -> Option<i64> {
    match value {
        Some(v) if v < min => {
            errs.push(errors::form_param_value_invalid(name));
            None
        }
        Some(v) if v > max => {
            errs.push(errors::form_param_value_too_large(name, max));
            None
        }
        other => other,
    }
}

impl TemplateParams {
    /// Create and PATCH share the body schema (name and claims required).
    /// On PATCH, optional fields left out keep their current value.
    fn validate(
        body: &Map<String, Value>,
        existing: Option<&Template>,
    ) -> Result<TemplateParams, ApiError> {
        let mut errs = Vec::new();

        let name = field(body, "name", "string", Value::as_str, &mut errs);
        if name.is_none() && matches!(body.get("name"), None | Some(Value::Null)) {
            errs.push(errors::form_param_missing("name"));
        }
        if name.is_some_and(|n| n.trim().is_empty()) {
            errs.push(errors::form_param_not_empty("name"));
        }
        let claims = field(body, "claims", "object", Value::as_object, &mut errs);
        if claims.is_none() && matches!(body.get("claims"), None | Some(Value::Null)) {
            errs.push(errors::form_param_missing("claims"));
        }
        let lifetime = field(body, "lifetime", "integer", Value::as_i64, &mut errs);
        let lifetime = ranged(lifetime, "lifetime", LIFETIME_MIN, LIFETIME_MAX, &mut errs);
        let skew = field(
            body,
            "allowed_clock_skew",
            "integer",
            Value::as_i64,
            &mut errs,
        );
        let skew = ranged(skew, "allowed_clock_skew", 0, SKEW_MAX, &mut errs);
        let custom = field(
            body,
            "custom_signing_key",
            "boolean",
            Value::as_bool,
            &mut errs,
        );
        let alg = field(
            body,
            "signing_algorithm",
            "string",
            Value::as_str,
            &mut errs,
        );
        let key = field(body, "signing_key", "string", Value::as_str, &mut errs);

        let custom = custom.unwrap_or(existing.is_some_and(|t| t.custom_signing_key));
        let existing_custom = existing.filter(|t| t.custom_signing_key);
        let (signing_algorithm, signing_key) = if custom {
            let alg = alg
                .map(str::to_string)
                .or_else(|| existing_custom.map(|t| t.signing_algorithm.clone()));
            let key = key
                .map(str::to_string)
                .or_else(|| existing_custom.and_then(|t| t.signing_key.clone()));
            if alg.is_none() {
                errs.push(errors::form_conditional_param_missing(
                    "signing_algorithm",
                    "custom_signing_key",
                    "true",
                ));
            }
            if key.is_none() {
                errs.push(errors::form_conditional_param_missing(
                    "signing_key",
                    "custom_signing_key",
                    "true",
                ));
            }
            match (&alg, &key) {
                (Some(a), _) if !CUSTOM_ALGORITHMS.contains(&a.as_str()) => {
                    errs.push(errors::form_param_value_not_allowed(
                        "signing_algorithm",
                        a,
                        CUSTOM_ALGORITHMS,
                    ));
                }
                (Some(a), Some(k)) if CustomKey::parse(a, k).is_none() || k.is_empty() => {
                    errs.push(errors::form_param_value_invalid("signing_key"));
                }
                _ => {}
            }
            (alg.unwrap_or_default(), key)
        } else {
            // Without a custom key the instance key signs, whatever was sent.
            ("RS256".to_string(), None)
        };

        if !errs.is_empty() {
            return Err(ApiError::form(errs));
        }
        let (Some(name), Some(claims)) = (name, claims) else {
            return Err(ApiError::form(vec![errors::form_param_missing("name")]));
        };
        if let Some(reserved) = claims
            .keys()
            .find(|k| RESERVED_CLAIMS.contains(&k.as_str()))
        {
            return Err(errors::reserved_claim(reserved));
        }
        Ok(TemplateParams {
            name: name.to_string(),
            claims: Value::Object(claims.clone()),
            lifetime: lifetime
                .or(existing.map(|t| t.lifetime))
                .unwrap_or(LIFETIME_DEFAULT),
            allowed_clock_skew: skew
                .or(existing.map(|t| t.allowed_clock_skew))
                .unwrap_or(SKEW_DEFAULT),
            custom_signing_key: custom,
            signing_algorithm,
            signing_key,
        })
    }
}
