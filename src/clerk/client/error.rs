//! `ClerkError`: a failed Clerk call, and how Clerk's error answers are read.
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::framework::ApiError;
use crate::http::HttpError;

/// A failed Clerk call. Its text is worded for a Terraform user and never
/// echoes a response body Clerk did not structure.
#[derive(Debug, thiserror::Error)]
pub enum ClerkError {
    /// Clerk refused the request.
    #[error("{message}")]
    Api {
        status: StatusCode,
        /// Clerk's error code, e.g. `form_identifier_exists`.
        code: Option<String>,
        message: String,
        /// The request parameter Clerk blamed (`meta.param_name`), e.g. `lifetime`.
        param: Option<String>,
    },
    /// Clerk answered, but with a body this provider cannot read.
    #[error("{message}")]
    Unreadable { status: StatusCode, message: String },
    /// No usable answer: the request may or may not have been applied.
    #[error("{message}")]
    Transport { message: String },
    /// Terraform asked the provider to stop.
    #[error("{message}")]
    Cancelled { message: String },
    /// The client cannot be built from the provider's settings.
    #[error("{message}")]
    NotConfigured { message: String },
}

/// Request parameters are named like the resource's attributes, so a
/// parameter Clerk rejected becomes a diagnostic on that attribute.
impl ApiError for ClerkError {
    fn attribute(&self) -> Option<&str> {
        match self {
            ClerkError::Api { param, .. } => param.as_deref(),
            _ => None,
        }
    }
}

impl ClerkError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClerkError::Api { status, .. } | ClerkError::Unreadable { status, .. } => Some(*status),
            _ => None,
        }
    }
    pub fn code(&self) -> Option<&str> {
        match self {
            ClerkError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }
    /// Whether Clerk refused a create because its unique identifier (a
    /// template's name) is taken; see `IDENTIFIER_TAKEN`.
    pub fn is_identifier_taken(&self) -> bool {
        self.code().is_some_and(|c| IDENTIFIER_TAKEN.contains(&c))
    }
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
    /// True when the request may have been applied although no answer came back.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ClerkError::Transport { .. } => true,
            ClerkError::Api { status, .. } => status.is_server_error(),
            _ => false,
        }
    }
    pub fn is_cancelled(&self) -> bool {
        matches!(self, ClerkError::Cancelled { .. })
    }
    /// The user-facing text, for amending (see `settle::Ambiguous`).
    pub fn message_mut(&mut self) -> &mut String {
        match self {
            ClerkError::Api { message, .. }
            | ClerkError::Unreadable { message, .. }
            | ClerkError::Transport { message }
            | ClerkError::Cancelled { message }
            | ClerkError::NotConfigured { message } => message,
        }
    }

    pub(in crate::clerk) fn unreadable(
        status: StatusCode,
        method: &Method,
        path: &str,
        e: serde_json::Error,
    ) -> Self {
        ClerkError::Unreadable {
            status,
            message: format!(
                "Clerk answered {method} {path} with a body this provider cannot read: {e}"
            ),
        }
    }

    pub(in crate::clerk) fn from_http(e: HttpError, method: &Method, path: &str) -> Self {
        let path = path.split('?').next().unwrap_or(path);
        match e {
            HttpError::Status { status, body } => api_error(status, &body, method, path),
            HttpError::Transport(msg) => ClerkError::Transport {
                message: format!("Clerk API {method} {path} failed: {msg}"),
            },
            HttpError::Cancelled => ClerkError::Cancelled {
                message: format!("Clerk API {method} {path} was cancelled because Terraform asked the provider to stop"),
            },
        }
    }
}

/// Codes Clerk may answer when a create's unique identifier is taken. The
/// error catalog (`clerk-api-errors.json`) declares only three errors in
/// jwt_templates.go (`JWTTemplateNotFound`, `JWTTemplateReservedClaim`,
/// `SessionTokenTemplateNotDeletable`), none for a taken name, and the spec
/// lists 400 and 422 for CreateJWTTemplate: so a taken name comes from a
/// generic entry. forms.go `FormIdentifierExists` (422, meta param) is the one
/// reported for templates; forms.go `FormAlreadyExists` (422) and the 400
/// `duplicate_record` other collections use (allowlist_identifiers.go,
/// blocklist_identifiers.go, oauth_application.go) are read the same way, so
/// a create that met itself is adopted whichever one Clerk sends.
pub const IDENTIFIER_TAKEN: &[&str] = &[
    "form_identifier_exists",
    "form_already_exists",
    "duplicate_record",
];

/// Template request parameters, named exactly like `clerk_jwt_template`'s attributes.
const TEMPLATE_PARAMS: &[&str] = &[
    "name",
    "claims",
    "lifetime",
    "allowed_clock_skew",
    "custom_signing_key",
    "signing_algorithm",
    "signing_key",
];

/// Parameters of the organization, role, permission and domain operations,
/// named like their resources' attributes.
const ORGANIZATION_PARAMS: &[&str] = &[
    "key",
    "description",
    "permissions",
    "slug",
    "created_by",
    "max_allowed_memberships",
    "public_metadata",
    "private_metadata",
    "is_satellite",
    "proxy_url",
];

/// Clerk's error answer: `{errors: [{code, message, long_message, meta}], clerk_trace_id}`.
/// Only the first error is reported. Members of an unexpected type read as
/// absent rather than making the whole answer unreadable.
#[derive(Default, Deserialize)]
struct ErrorBody {
    #[serde(default, deserialize_with = "lenient")]
    errors: Vec<ErrorEntry>,
    #[serde(default, deserialize_with = "lenient")]
    clerk_trace_id: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default, deserialize_with = "lenient")]
    code: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    message: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    long_message: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    meta: Option<ErrorMeta>,
}

#[derive(Deserialize)]
struct ErrorMeta {
    #[serde(default, deserialize_with = "lenient")]
    param_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    /// Catalog `UnsupportedSubscriptionPlanFeatures` (meta `UnsupportedFeatures`).
    #[serde(default, deserialize_with = "lenient")]
    unsupported_features: Vec<String>,
}

fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(d: D) -> Result<T, D::Error> {
    Ok(serde_json::from_value(serde_json::Value::deserialize(d)?).unwrap_or_default())
}

fn api_error(status: StatusCode, body: &str, method: &Method, path: &str) -> ClerkError {
    let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    let first = parsed.errors.into_iter().next();
    let (code, long, meta) = match first {
        Some(f) => (f.code, f.long_message.or(f.message), f.meta),
        None => (None, None, None),
    };
    let gated = meta
        .as_ref()
        .map(|m| m.unsupported_features.clone())
        .unwrap_or_default();
    // A plan-gated option that is an attribute is blamed like a parameter.
    let param = meta
        .and_then(|m| m.param_name.or(m.name))
        .or_else(|| gated.first().cloned())
        .filter(|p| {
            TEMPLATE_PARAMS.contains(&p.as_str()) || ORGANIZATION_PARAMS.contains(&p.as_str())
        });
    let trace = parsed
        .clerk_trace_id
        .map(|t| format!(" (clerk_trace_id {t})"))
        .unwrap_or_default();
    let what = match (&code, long) {
        (Some(c), Some(l)) => format!("{l} [{c}]"),
        (None, Some(l)) => l,
        // Unparsed bodies are not echoed: they could reflect request data.
        _ => "no error details in the response".to_string(),
    };
    let hint = hint(status, code.as_deref(), &gated, path);
    ClerkError::Api {
        message: format!(
            "Clerk API {method} {path} failed with HTTP {}: {what}{trace}.{hint}",
            status.as_u16()
        ),
        status,
        code,
        param,
    }
}

/// What the user can do about a refusal, by status and catalog code.
fn hint(status: StatusCode, code: Option<&str>, gated: &[String], path: &str) -> String {
    let template = path.starts_with("/jwt_templates");
    let text = match (status.as_u16(), code) {
        (401, _) => " Check `secret_key` (or CLERK_SECRET_KEY): Clerk rejected it.",
        (429, _) => " Clerk's rate limit was still exceeded after retries; try again later or lower -parallelism.",
        (_, Some(c)) if IDENTIFIER_TAKEN.contains(&c) && template => " A template with this name already exists; import it with `terraform import` instead of creating it.",
        (_, Some(c)) if IDENTIFIER_TAKEN.contains(&c) => " It already exists; import it with `terraform import` instead of creating it.",
        // Create/UpdateJWTTemplate `PaymentRequired`; catalog
        // `UnsupportedSubscriptionPlanFeatures` (pricing.go).
        (402, _) if !gated.is_empty() => {
            let list = gated.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
            return format!(" The instance's Clerk plan does not include {list}: upgrade the plan in the Clerk dashboard, or stop using it in this template.");
        }
        (402, _) => " The instance's Clerk plan does not include an option this template uses (e.g. a custom signing key): upgrade the plan in the Clerk dashboard, or remove the option.",
        (403, Some("organization_not_enabled_in_instance")) => " Enable organizations first, e.g. with `clerk_organization_settings { enabled = true }`, and make the organization depend on it (`depends_on`) so it is applied before.",
        (403, Some("organization_slugs_disabled")) => " The instance's organization settings disable slugs: leave `slug` unset, or enable slugs (`clerk_organization_settings`).",
        // DeleteJWTTemplate `AuthorizationInvalid`; catalog
        // `SessionTokenTemplateNotDeletable` (jwt_templates.go).
        (403, Some("session_token_jwt_template")) => " It is the instance's session-token template, which Clerk never deletes: to stop managing it, remove it from the state (`terraform state rm <address>`) instead of destroying it.",
        (403, _) => " Clerk refused this operation for the instance (HTTP 403, catalog `InvalidAuthorization` or a feature not enabled); check the secret key's instance and its plan and settings in the Clerk dashboard.",
        _ => "",
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, body: &str) -> ClerkError {
        let status = StatusCode::from_u16(status).unwrap();
        let e = HttpError::Status {
            status,
            body: body.into(),
        };
        ClerkError::from_http(e, &Method::POST, "/jwt_templates?x=1")
    }

    /// What a refusal is read into: its catalog code, the attribute it
    /// blames and the whole message.
    fn assert_read(e: &ClerkError, code: &str, attribute: &str, text: &str) {
        assert_eq!(e.code(), Some(code));
        assert_eq!(e.attribute(), Some(attribute));
        assert_eq!(e.to_string(), text);
    }

    #[test]
    fn error_answers_are_read_into_code_param_and_text() {
        let e = refused(
            422,
            r#"{"errors":[{"code":"form_param_invalid","message":"short","long_message":"lifetime is too short","meta":{"param_name":"lifetime"}}],"clerk_trace_id":"t1"}"#,
        );
        assert_read(
            &e,
            "form_param_invalid",
            "lifetime",
            "Clerk API POST /jwt_templates failed with HTTP 422: lifetime is too short [form_param_invalid] (clerk_trace_id t1).",
        );
        let other_param = refused(
            422,
            r#"{"errors":[{"message":"bad","meta":{"name":"password"}}]}"#,
        );
        assert_eq!(other_param.attribute(), None, "not an attribute");
        assert_eq!(
            other_param.to_string(),
            "Clerk API POST /jwt_templates failed with HTTP 422: bad."
        );
    }

    #[test]
    fn plan_and_permission_refusals_say_what_to_do() {
        let gated = refused(
            402,
            r#"{"errors":[{"code":"unsupported_subscription_plan_features","message":"Unsupported plan features","long_message":"Some features are not supported in your current plan. Upgrade your subscription to unlock them.","meta":{"unsupported_features":["custom_signing_key"]}}]}"#,
        );
        assert_read(
            &gated,
            "unsupported_subscription_plan_features",
            "custom_signing_key",
            "Clerk API POST /jwt_templates failed with HTTP 402: Some features are not supported in your current plan. Upgrade your subscription to unlock them. [unsupported_subscription_plan_features]. The instance's Clerk plan does not include `custom_signing_key`: upgrade the plan in the Clerk dashboard, or stop using it in this template.",
        );
        let unnamed = refused(
            402,
            r#"{"errors":[{"code":"x","message":"Payment required"}]}"#,
        );
        assert_eq!(unnamed.attribute(), None);
        assert!(unnamed
            .to_string()
            .contains("does not include an option this template uses"));

        let session = refused(
            403,
            r#"{"errors":[{"code":"session_token_jwt_template","message":"session token template cannot be deleted","long_message":"This template cannot be deleted because it's a session token template"}]}"#,
        );
        assert!(session.to_string().ends_with("This template cannot be deleted because it's a session token template [session_token_jwt_template]. It is the instance's session-token template, which Clerk never deletes: to stop managing it, remove it from the state (`terraform state rm <address>`) instead of destroying it."), "{session}");
        let forbidden = refused(
            403,
            r#"{"errors":[{"code":"authorization_invalid","message":"Unauthorized request","long_message":"You are not authorized to perform this request"}]}"#,
        );
        assert!(forbidden
            .to_string()
            .contains("[authorization_invalid]. Clerk refused this operation"));
        for code in IDENTIFIER_TAKEN {
            let body = format!(r#"{{"errors":[{{"code":"{code}","message":"taken"}}]}}"#);
            let e = refused(422, &body);
            assert!(e.is_identifier_taken(), "{code}");
            assert!(e.to_string().contains("import it with `terraform import`"));
        }
        assert!(
            !refused(422, r#"{"errors":[{"code":"form_param_value_invalid"}]}"#)
                .is_identifier_taken()
        );
        let url = ClerkError::from_http(
            HttpError::Status {
                status: StatusCode::BAD_REQUEST,
                body: r#"{"errors":[{"code":"duplicate_record","message":"taken"}]}"#.into(),
            },
            &Method::POST,
            "/redirect_urls",
        );
        assert!(url.to_string().ends_with("taken [duplicate_record]. It already exists; import it with `terraform import` instead of creating it."), "{url}");
    }

    #[test]
    fn unreadable_error_bodies_are_not_echoed() {
        for body in [
            "<html>secret</html>",
            r#"{"errors":{"x":1}}"#,
            r#"{"errors":[7]}"#,
            "",
        ] {
            let e = refused(401, body);
            assert_eq!(e.to_string(), "Clerk API POST /jwt_templates failed with HTTP 401: no error details in the response. Check `secret_key` (or CLERK_SECRET_KEY): Clerk rejected it.");
            assert!(!e.is_ambiguous());
        }
        assert!(refused(502, "").is_ambiguous());
        assert!(refused(404, "").is_not_found());
    }

    #[test]
    fn cancellation_is_its_own_kind() {
        let e = ClerkError::from_http(HttpError::Cancelled, &Method::GET, "/jwks");
        assert!(e.is_cancelled() && !e.is_ambiguous());
        assert_eq!(
            e.to_string(),
            "Clerk API GET /jwks was cancelled because Terraform asked the provider to stop"
        );
    }
}
