//! `POST /v1/sessions/{session_id}/tokens/{template_name}`: mints a JWT from a
//! template, resolving Clerk's `{{...}}` shortcodes against the session's user.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::errors::{self, ApiError};
use crate::ids;
use crate::jwks::{encode_jwt, CustomKey};
use crate::org_sessions::{self, OrgContext};
use crate::state::{AppState, User};
use crate::templates::{LIFETIME_MAX, LIFETIME_MIN};

pub async fn create_from_template(
    State(state): State<AppState>,
    Path((session_id, template_name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let expires_in = parse_expires_in(&body)?;
    let (user, template_claims, lifetime, skew, custom, orgs) = {
        let store = state.store();
        let user = store
            .sessions
            .get(&session_id)
            .and_then(|uid| store.users.get(uid))
            .cloned()
            .ok_or_else(|| errors::session_not_found(&session_id))?;
        let orgs = org_sessions::context(&store, &session_id, &user.id);
        let t = store
            .templates
            .iter()
            .find(|t| t.name == template_name)
            .ok_or_else(|| errors::jwt_template_not_found("name", &template_name))?;
        let custom = t
            .custom_signing_key
            .then(|| (t.signing_algorithm.clone(), t.signing_key.clone()));
        (
            user,
            t.claims.clone(),
            t.lifetime,
            t.allowed_clock_skew,
            custom,
            orgs,
        )
    };

    let ctx = user_context(&user, &orgs);
    let mut payload = match resolve(&template_claims, &ctx) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let iat = ids::now_millis() / 1000;
    payload.insert("exp".into(), json!(iat + expires_in.unwrap_or(lifetime)));
    payload.insert("iat".into(), json!(iat));
    payload.insert("iss".into(), json!(state.frontend_api_url()));
    payload.insert(
        "jti".into(),
        json!(ids::random_base62(20).to_ascii_lowercase()),
    );
    payload.insert("nbf".into(), json!(iat - skew));
    payload.insert("sub".into(), json!(user.id));
    let payload = Value::Object(payload);

    let jwt = match custom {
        None => {
            let header = json!({"alg": "RS256", "kid": state.0.key.kid, "typ": "JWT"});
            encode_jwt(&header, &payload, |m| state.0.key.sign_rs256(m))
        }
        Some((alg, key)) => {
            let key = key
                .as_deref()
                .and_then(|k| CustomKey::parse(&alg, k))
                .ok_or_else(internal_error)?;
            let header = json!({"alg": alg, "typ": "JWT"});
            encode_jwt(&header, &payload, |m| key.sign(&alg, m))
        }
    }
    .map_err(|_| internal_error())?;
    Ok(Json(json!({ "object": "token", "jwt": jwt })))
}

fn internal_error() -> ApiError {
    ApiError {
        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        errors: vec![errors::ErrorEntry {
            message: "Oops, an unexpected error occurred".into(),
            long_message: "There was an internal error on our servers. We've been notified and are working on fixing it.".into(),
            code: "internal_clerk_error",
            meta: None,
        }],
    }
}

fn parse_expires_in(body: &[u8]) -> Result<Option<i64>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) else {
        return Err(errors::request_body_invalid());
    };
    match m.get("expires_in_seconds") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            None => Err(ApiError::form(vec![errors::form_param_wrong_type(
                "expires_in_seconds",
                if v.is_number() {
                    "number"
                } else {
                    "non-number"
                },
                "integer",
            )])),
            Some(n) if n < LIFETIME_MIN => {
                Err(ApiError::form(vec![errors::form_param_value_invalid(
                    "expires_in_seconds",
                )]))
            }
            Some(n) if n > LIFETIME_MAX => {
                Err(ApiError::form(vec![errors::form_param_value_too_large(
                    "expires_in_seconds",
                    LIFETIME_MAX,
                )]))
            }
            Some(n) => Ok(Some(n)),
        },
    }
}

/// CreateSessionToken (`POST /v1/sessions/{session_id}/tokens`): the
/// session token itself, with the active organization's `org_id`,
/// `org_role`, `org_slug` and `org_permissions` (60 s unless
/// `expires_in_seconds` says otherwise).
pub async fn create_session_token(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let expires_in = parse_expires_in(&body)?;
    let (user_id, orgs) = {
        let store = state.store();
        let user_id = store
            .sessions
            .get(&session_id)
            .cloned()
            .ok_or_else(|| errors::session_not_found(&session_id))?;
        let orgs = org_sessions::context(&store, &session_id, &user_id);
        (user_id, orgs)
    };
    let iat = ids::now_millis() / 1000;
    let mut payload = orgs.claims;
    payload.insert("exp".into(), json!(iat + expires_in.unwrap_or(60)));
    payload.insert("iat".into(), json!(iat));
    payload.insert("iss".into(), json!(state.frontend_api_url()));
    payload.insert(
        "jti".into(),
        json!(ids::random_base62(20).to_ascii_lowercase()),
    );
    payload.insert("nbf".into(), json!(iat - 5));
    payload.insert("sid".into(), json!(session_id));
    payload.insert("sub".into(), json!(user_id));
    let header = json!({"alg": "RS256", "kid": state.0.key.kid, "typ": "JWT"});
    let jwt = encode_jwt(&header, &Value::Object(payload), |m| {
        state.0.key.sign_rs256(m)
    })
    .map_err(|_| internal_error())?;
    Ok(Json(json!({ "object": "token", "jwt": jwt })))
}

/// What shortcodes can reach: `user.*`, the session's active organization
/// (`org`, `org_membership`; null without one) and the session root.
fn user_context(u: &User, orgs: &OrgContext) -> Value {
    let full_name = match (&u.first_name, &u.last_name) {
        (None, None) => Value::Null,
        (f, l) => json!(format!(
            "{} {}",
            f.as_deref().unwrap_or(""),
            l.as_deref().unwrap_or("")
        )
        .trim()),
    };
    json!({
        "user": {
            "id": u.id,
            "external_id": null,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "full_name": full_name,
            "username": u.username,
            "created_at": u.created_at,
            "updated_at": u.updated_at,
            "primary_email_address": u.email,
            "primary_phone_number": null,
            "primary_web3_wallet": null,
            "email_verified": u.email.is_some(),
            "phone_number_verified": false,
            "image_url": "",
            "has_image": false,
            "two_factor_enabled": false,
            "organizations": orgs.organizations,
            "public_metadata": u.public_metadata,
            "unsafe_metadata": u.unsafe_metadata,
        },
        "org": orgs.org,
        "org_membership": orgs.membership,
        "session": { "actor": null },
    })
}

/// Static values are copied; strings holding shortcodes are resolved. A
/// string that is exactly one shortcode takes the typed value; anything
/// else interpolates into a string, where null renders as `"null"`.
pub fn resolve(v: &Value, ctx: &Value) -> Value {
    match v {
        Value::String(s) => resolve_string(s, ctx),
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve(x, ctx)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), resolve(x, ctx)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn resolve_string(s: &str, ctx: &Value) -> Value {
    let mut pieces: Vec<Result<&str, Value>> = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        if start > 0 {
            pieces.push(Ok(&rest[..start]));
        }
        pieces.push(Err(evaluate(&rest[start + 2..start + 2 + len], ctx)));
        rest = &rest[start + 2 + len + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Ok(rest));
    }
    match pieces.as_slice() {
        [] => Value::String(String::new()),
        [Err(v)] => v.clone(),
        _ if pieces.iter().all(Result::is_ok) => Value::String(s.to_string()),
        _ => Value::String(
            pieces
                .iter()
                .map(|p| match p {
                    Ok(text) => text.to_string(),
                    Err(Value::String(v)) => v.clone(),
                    Err(v) => v.to_string(),
                })
                .collect(),
        ),
    }
}

/// `a || b || 'literal' || 30`: the first truthy operand, else the last.
fn evaluate(expr: &str, ctx: &Value) -> Value {
    let operands: Vec<Value> = expr.split("||").map(|op| operand(op.trim(), ctx)).collect();
    operands
        .iter()
        .find(|v| truthy(v))
        .or(operands.last())
        .cloned()
        .unwrap_or(Value::Null)
}

fn operand(op: &str, ctx: &Value) -> Value {
    if op.len() >= 2 && op.starts_with('\'') && op.ends_with('\'') {
        return Value::String(op[1..op.len() - 1].to_string());
    }
    match op {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = op.parse::<i64>() {
        return json!(n);
    }
    if let Ok(n) = op.parse::<f64>() {
        return json!(n);
    }
    op.split('.')
        .try_fold(ctx, |v, key| v.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Value {
        json!({"user": {"id": "user_1", "first_name": "Ann", "last_name": null,
            "public_metadata": {"age": 0, "addresses": {"Home": "x"}}, "unsafe_metadata": {"age": 41}}})
    }

    #[test]
    fn typed_interpolated_and_fallbacks() {
        let c = ctx();
        assert_eq!(resolve(&json!("{{user.id}}"), &c), json!("user_1"));
        assert_eq!(resolve(&json!("{{ user.public_metadata }}"), &c)["age"], 0);
        assert_eq!(
            resolve(&json!("{{user.first_name}} {{user.last_name}}"), &c),
            json!("Ann null")
        );
        assert_eq!(resolve(&json!("{{user.nope}}"), &c), Value::Null);
        assert_eq!(
            resolve(
                &json!("{{user.public_metadata.age || user.unsafe_metadata.age || 30}}"),
                &c
            ),
            json!(41)
        );
        assert_eq!(
            resolve(&json!("{{user.last_name || 'Awesome User'}}"), &c),
            json!("Awesome User")
        );
        assert_eq!(
            resolve(&json!("{{user.last_name || false}}"), &c),
            json!(false)
        );
        assert_eq!(
            resolve(&json!("{{user.public_metadata.addresses.Home}}"), &c),
            json!("x")
        );
        assert_eq!(
            resolve(&json!({"a": ["{{user.id}}", 1, true], "b": "plain"}), &c),
            json!({"a": ["user_1", 1, true], "b": "plain"})
        );
    }
}
