//! Clerk's `ClerkErrors` body: `{"errors":[{message,long_message,code,meta}],"clerk_trace_id"}`,
//! with codes and messages taken from Clerk's error catalog.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::ids;

#[derive(Debug, Clone)]
pub struct ErrorEntry {
    pub message: String,
    pub long_message: String,
    pub code: &'static str,
    pub meta: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<ErrorEntry>,
}

impl ApiError {
    fn one(status: StatusCode, code: &'static str, message: &str, long_message: String) -> Self {
        ApiError {
            status,
            errors: vec![ErrorEntry {
                message: message.to_string(),
                long_message,
                code,
                meta: None,
            }],
        }
    }

    /// A 422 carrying every form error found, as Clerk reports them together.
    pub fn form(errors: Vec<ErrorEntry>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        }
    }

    pub fn body(&self) -> Value {
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("message".into(), json!(e.message));
                m.insert("long_message".into(), json!(e.long_message));
                m.insert("code".into(), json!(e.code));
                if let Some(meta) = &e.meta {
                    m.insert("meta".into(), meta.clone());
                }
                Value::Object(m)
            })
            .collect();
        json!({ "errors": errors, "clerk_trace_id": ids::trace_id() })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let trace = body["clerk_trace_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut resp = (self.status, Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&trace) {
            resp.headers_mut().insert("clerk-trace-id", v);
        }
        resp
    }
}

fn param_entry(code: &'static str, message: &str, long_message: String, param: &str) -> ErrorEntry {
    ErrorEntry {
        message: message.to_string(),
        long_message,
        code,
        meta: Some(json!({ "param_name": param })),
    }
}

// --- authentication (auth.go) ---

pub fn clerk_key_invalid() -> ApiError {
    let msg = "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.";
    ApiError::one(
        StatusCode::UNAUTHORIZED,
        "clerk_key_invalid",
        msg,
        msg.to_string(),
    )
}

pub fn authorization_header_format_invalid() -> ApiError {
    ApiError::one(
        StatusCode::UNAUTHORIZED,
        "authorization_header_format_invalid",
        "Invalid Authorization header format",
        "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'".to_string(),
    )
}

// --- requests.go / internal.go ---

pub fn request_body_invalid() -> ApiError {
    ApiError::one(
        StatusCode::BAD_REQUEST,
        "request_body_invalid",
        "Request body invalid",
        "The request body is invalid. Please consult the API documentation for more information."
            .to_string(),
    )
}

pub fn malformed_request_parameters() -> ApiError {
    ApiError::one(
        StatusCode::BAD_REQUEST,
        "malformed_request_parameters",
        "Malformed request parameters",
        "The request parameters are malformed and could not be parsed".to_string(),
    )
}

pub fn too_many_requests_body(retry_after_secs: u64) -> (StatusCode, Value) {
    let mut e = ApiError::one(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "Too many requests",
        "Too many requests, retry later".to_string(),
    );
    e.errors[0].meta = Some(json!({ "resets_in": retry_after_secs }));
    (e.status, e.body())
}

/// An injected 5xx as Clerk answers it: the catalog's `InternalServerError`
/// (500 `internal_clerk_error`) and `ServiceUnavailable` (503
/// `service_unavailable`), both `bapi: true`. Clerk has no 502 of its own: that
/// one is its edge's HTML page.
pub fn server_error_body(status: StatusCode) -> Option<Value> {
    let (code, message, long) = match status.as_u16() {
        500 => (
            "internal_clerk_error",
            "Oops, an unexpected error occurred",
            "There was an internal error on our servers. We've been notified and are working on fixing it.",
        ),
        503 => ("service_unavailable", "Service unavailable", "Service unavailable"),
        _ => return None,
    };
    Some(ApiError::one(status, code, message, long.to_string()).body())
}

pub fn not_found_route() -> ApiError {
    ApiError::one(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "not found",
        "Resource not found".to_string(),
    )
}

// --- not found (jwt_templates.go, sessions.go) ---

pub fn jwt_template_not_found(attribute: &str, value: &str) -> ApiError {
    ApiError::one(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "JWT template not found",
        format!("No JWT template exists with {attribute}: {value}"),
    )
}

pub fn session_not_found(session_id: &str) -> ApiError {
    ApiError::one(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "Session not found",
        format!("No session was found with id {session_id}"),
    )
}

pub fn reserved_claim(claim: &str) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        errors: vec![param_entry(
            "jwt_template_reserved_claim",
            "reserved claim used",
            format!("You can't use the reserved claim: '{claim}'"),
            "claims",
        )],
    }
}

/// Catalog `SessionTokenTemplateNotDeletable` (jwt_templates.go, 403): the
/// spec's `AuthorizationInvalid` answer of DeleteJWTTemplate.
pub fn session_token_template_not_deletable() -> ApiError {
    ApiError::one(
        StatusCode::FORBIDDEN,
        "session_token_jwt_template",
        "session token template cannot be deleted",
        "This template cannot be deleted because it's a session token template".to_string(),
    )
}

/// Catalog `UnsupportedSubscriptionPlanFeatures` (pricing.go, 402, meta
/// `UnsupportedFeatures`): the spec's `PaymentRequired` answer of
/// CreateJWTTemplate and UpdateJWTTemplate.
pub fn unsupported_subscription_plan_features(features: &[&str]) -> ApiError {
    let mut e = ApiError::one(
        StatusCode::PAYMENT_REQUIRED,
        "unsupported_subscription_plan_features",
        "Unsupported plan features",
        "Some features are not supported in your current plan. Upgrade your subscription to unlock them.".to_string(),
    );
    e.errors[0].meta = Some(json!({ "unsupported_features": features }));
    e
}

pub fn redirect_url_not_found(attribute: &str, value: &str) -> ApiError {
    // Catalog `RedirectURLNotFound` (redirect_urls.go).
    ApiError::one(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "Redirect url not found",
        format!("No RedirectURL exists with {attribute}: {value}"),
    )
}

pub fn invalid_redirect_url() -> ApiError {
    // Catalog `InvalidRedirectURL` (redirect_urls.go).
    ApiError::one(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_redirect_url",
        "Redirect url invalid",
        "The provided redirect url is not in a valid format".to_string(),
    )
}

/// The JSON type name Clerk's form errors use for a received value.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

// --- form errors (forms.go) ---

pub fn form_param_missing(param: &str) -> ErrorEntry {
    param_entry(
        "form_param_missing",
        "is missing",
        format!("{param} must be included."),
        param,
    )
}

pub fn form_param_not_empty(param: &str) -> ErrorEntry {
    param_entry(
        "form_param_value_invalid",
        "is invalid",
        format!("{param} is invalid. Must be not empty"),
        param,
    )
}

/// Catalog `FailedToParseRequestBody`: a JSON value of the wrong type.
pub fn form_param_wrong_type(param: &str, received: &str, expected: &str) -> ErrorEntry {
    param_entry(
        "form_param_value_invalid",
        "is invalid",
        format!("{param} is invalid. Received {received}, must be of type {expected}."),
        param,
    )
}

/// Catalog `FormInvalidTypeParameter`: a query parameter that does not parse.
pub fn form_param_type_invalid(param: &str, param_type: &str) -> ErrorEntry {
    param_entry(
        "form_param_type_invalid",
        "is invalid",
        format!("`{param}` must be a `{param_type}`."),
        param,
    )
}

/// Catalog `FormValidationFailed`.
pub fn form_param_value_invalid(param: &str) -> ErrorEntry {
    param_entry(
        "form_param_value_invalid",
        "is invalid",
        format!("{param} is invalid"),
        param,
    )
}

pub fn form_param_value_not_allowed(param: &str, value: &str, allowed: &[&str]) -> ErrorEntry {
    param_entry(
        "form_param_value_invalid",
        "is invalid",
        format!(
            "{value} does not match the allowed values for parameter {param}. Allowed values: {}",
            allowed.join(", ")
        ),
        param,
    )
}

pub fn form_param_value_too_large(param: &str, max: i64) -> ErrorEntry {
    param_entry(
        "form_param_value_too_large",
        "Value too large",
        format!("The value of {param} can't be greater than {max}"),
        param,
    )
}

pub fn form_conditional_param_missing(param: &str, condition: &str, value: &str) -> ErrorEntry {
    param_entry(
        "form_conditional_param_missing",
        "is missing",
        format!("`{param}` is required when `{condition}` is `{value}`."),
        param,
    )
}

pub fn form_identifier_exists(param: &str, value: &str) -> ErrorEntry {
    param_entry(
        "form_identifier_exists",
        "already exists",
        format!("A JWT template with {param} '{value}' already exists."),
        param,
    )
}
