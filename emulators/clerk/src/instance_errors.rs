//! Error answers of the instance-level operations (instance settings,
//! restrictions, organization settings, allow/block lists), each taken from
//! Clerk's error catalog (`clerk-api-errors.json`, name and file beside it).

use axum::http::StatusCode;
use serde_json::json;

use crate::errors::{ApiError, ErrorEntry};

fn one(status: StatusCode, code: &'static str, message: &str, long: String) -> ApiError {
    ApiError {
        status,
        errors: vec![ErrorEntry {
            message: message.to_string(),
            long_message: long,
            code,
            meta: None,
        }],
    }
}

fn param(code: &'static str, message: &str, long: String, param: &str) -> ErrorEntry {
    ErrorEntry {
        message: message.to_string(),
        long_message: long,
        code,
        meta: Some(json!({ "param_name": param })),
    }
}

/// Catalog `FormUnknownParameter` (forms.go, 422): the request bodies of
/// these operations have `additionalProperties: false`.
pub fn form_param_unknown(name: &str) -> ErrorEntry {
    param(
        "form_param_unknown",
        "is unknown",
        format!("{name} is not a valid parameter for this request."),
        name,
    )
}

/// Catalog `FormInvalidOrigin` (forms.go, 422).
pub fn form_invalid_origin(name: &str) -> ErrorEntry {
    param(
        "form_invalid_origin",
        "is invalid",
        format!("{name} must be a valid origin such as my-app://localhost, chrome-extension://mnhbilbfebpbokpjjamapdecdgieldho, or capacitor://localhost:3000"),
        name,
    )
}

/// Catalog `FormInvalidEmailAddress` (forms.go, 422).
pub fn form_invalid_email_address(name: &str) -> ErrorEntry {
    param(
        "form_param_format_invalid",
        "is invalid",
        format!("{name} must be a valid email address."),
        name,
    )
}

/// Catalog `FormInvalidIdentifier` (forms.go, 422).
pub fn form_invalid_identifier(name: &str) -> ErrorEntry {
    param(
        "form_param_format_invalid",
        "is invalid",
        format!("{name} must be either a valid email address, a valid phone number according to E.164 international standard or a valid web3 wallet."),
        name,
    )
}

/// Catalog `DuplicateAllowlistIdentifier` / `DuplicateBlocklistIdentifier`
/// (allowlist_identifiers.go / blocklist_identifiers.go, 400 `duplicate_record`).
pub fn duplicate_identifier(list: &str, identifier: &str) -> ApiError {
    one(
        StatusCode::BAD_REQUEST,
        "duplicate_record",
        &format!("duplicate {list} identifier"),
        format!("the identifier {identifier} already exists"),
    )
}

/// Catalog `AllowlistIdentifierNotFound` / `BlocklistIdentifierNotFound` (404).
pub fn identifier_not_found(id: &str) -> ApiError {
    one(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "Identifier not found",
        format!("No identifier was found with id {id}"),
    )
}

/// Catalog `OrganizationRoleNotFound` (organizations.go, 404, meta `param_name`).
pub fn organization_role_not_found(name: &str) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        errors: vec![param(
            "resource_not_found",
            "not found",
            "Organization role not found".to_string(),
            name,
        )],
    }
}
