//! Error answers of the organization, role, permission and domain
//! operations, each from Clerk's error catalog (`clerk-api-errors.json`;
//! the Go file it names is cited beside each).

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

fn with_param(mut e: ApiError, param: &str) -> ApiError {
    e.errors[0].meta = Some(json!({ "param_name": param }));
    e
}

pub fn param_entry(code: &'static str, message: &str, long: String, param: &str) -> ErrorEntry {
    ErrorEntry {
        message: message.to_string(),
        long_message: long,
        code,
        meta: Some(json!({ "param_name": param })),
    }
}

/// organizations.go `OrganizationPermissionNotFound`.
pub fn permission_not_found() -> ApiError {
    one(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "not found",
        "Organization permission not found".into(),
    )
}

/// organizations.go `OrganizationRoleNotFound` (meta: the parameter).
pub fn role_not_found(param: &str) -> ApiError {
    with_param(
        one(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            "not found",
            "Organization role not found".into(),
        ),
        param,
    )
}

/// organizations.go `OrganizationNotFound`.
pub fn organization_not_found() -> ApiError {
    one(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "not found",
        "Given organization not found.".into(),
    )
}

/// organizations.go `NotAMemberInOrganization`.
pub fn not_a_member() -> ApiError {
    one(
        StatusCode::FORBIDDEN,
        "not_a_member_in_organization",
        "not a member",
        "Current user is not a member of the organization. Only organization members can perform this action.".into(),
    )
}

/// organizations.go `OrganizationCreatorNotFound`.
pub fn organization_creator_not_found(user_id: &str) -> ApiError {
    one(
        StatusCode::BAD_REQUEST,
        "organization_creator_not_found",
        "creator not found",
        format!("No users found with id {user_id}."),
    )
}

/// organizations.go `OrganizationNotEnabledInInstance` (`bapi: true`):
/// CreateOrganization on an instance whose organization settings are off.
pub fn organization_not_enabled_in_instance() -> ApiError {
    one(
        StatusCode::FORBIDDEN,
        "organization_not_enabled_in_instance",
        "access denied",
        "The organizations feature is not enabled for this instance. You can enable it at https://dashboard.clerk.com.".into(),
    )
}

/// organizations.go `OrganizationSlugsDisabled` (`bapi: true`): a slug sent
/// while the settings have `slug_disabled` (the spec: "should only be
/// included when slugs are enabled").
pub fn organization_slugs_disabled() -> ApiError {
    one(
        StatusCode::FORBIDDEN,
        "organization_slugs_disabled",
        "organization slugs not enabled",
        "This instance does not have slugs enabled for organizations.".into(),
    )
}

/// organizations.go `OrganizationSystemPermissionNotModifiable`.
pub fn system_permission_not_modifiable() -> ApiError {
    one(
        StatusCode::FORBIDDEN,
        "organization_system_permission_not_modifiable",
        "organization system permission cannot be modified",
        "This organization permission cannot be modified because it is a system permission.".into(),
    )
}

/// organizations.go `OrganizationRolePermissionAssociationExists` (the 409 of
/// AssignPermissionToOrganizationRole).
pub fn role_permission_association_exists() -> ApiError {
    one(
        StatusCode::CONFLICT,
        "organization_role_permission_association_exists",
        "permission already assigned to role",
        "This organization permission is already associated to this organization role.".into(),
    )
}

/// organizations.go `OrganizationRolePermissionAssociationNotFound`.
pub fn role_permission_association_not_found() -> ApiError {
    one(
        StatusCode::NOT_FOUND,
        "organization_role_permission_association_not_found",
        "permission not assigned to role",
        "This organization permission is not associated with the organization role.".into(),
    )
}

/// organizations.go `OrganizationRoleUsedAsCreatorRole`.
pub fn role_used_as_creator_role() -> ApiError {
    one(
        StatusCode::UNPROCESSABLE_ENTITY,
        "organization_role_default_creator_role",
        "role is used as the creator role",
        "The organization role cannot be deleted as it is currently used as the creator role."
            .into(),
    )
}

/// organizations.go `OrganizationRoleUsedAsDomainDefaultRole`.
pub fn role_used_as_domain_default_role() -> ApiError {
    one(
        StatusCode::UNPROCESSABLE_ENTITY,
        "organization_role_domain_default_role",
        "role is used as the domain default role",
        "The organization role cannot be deleted as it is currently used as the default domain role.".into(),
    )
}

/// organizations.go `OrganizationRoleAssignedToMembers`.
pub fn role_assigned_to_members() -> ApiError {
    one(
        StatusCode::UNPROCESSABLE_ENTITY,
        "organization_role_assigned_members",
        "role is assigned to organization members",
        "The organization role is currently assigned to one or more organization members.".into(),
    )
}

/// organizations.go `OrganizationInstanceRolesQuotaExceeded`.
pub fn instance_roles_quota_exceeded(max: usize) -> ApiError {
    one(
        StatusCode::FORBIDDEN,
        "organization_instance_roles_quota_exceeded",
        "organization roles for instance quota exceeded",
        format!("You have reached your limit of {max} organization roles per instance."),
    )
}

/// organizations.go `OrganizationNameInvalid` (form_param_value_invalid, meta `name`).
pub fn organization_name_invalid(name: &str, why: &str) -> ErrorEntry {
    param_entry(
        "form_param_value_invalid",
        "invalid organization name",
        format!("The organization name {name:?} is invalid: {why}"),
        "name",
    )
}

/// domains.go `DomainNotFound`.
pub fn domain_not_found(id: &str) -> ApiError {
    one(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "Domain not found",
        format!("No domain was found with {id}"),
    )
}

/// domains.go `DomainUpdateForbidden`: what a development instance answers
/// for a `proxy_url` ("Can only be updated for production instances").
pub fn domain_update_forbidden() -> ApiError {
    one(
        StatusCode::BAD_REQUEST,
        "domain_update_forbidden",
        "Domain update was forbidden",
        "Domain can be only updated for production instances".into(),
    )
}

/// domains.go `OperationNotAllowedOnPrimaryDomain` (DeleteDomain's 403).
pub fn operation_not_allowed_on_primary_domain() -> ApiError {
    one(
        StatusCode::FORBIDDEN,
        "operation_not_allowed_on_primary_domain",
        "operation not allowed",
        "This operation is not allowed on a primary domain. Try again with a satellite domain of the instance.".into(),
    )
}

/// domains.go `PrimaryDomainAlreadyExists` (meta `is_satellite`).
pub fn primary_domain_already_exists() -> ApiError {
    with_param(
        one(
            StatusCode::UNPROCESSABLE_ENTITY,
            "primary_domain_already_exists",
            "primary domain already exists",
            "Currently, only a single primary domain is supported and the current instance already has one. All new domains need to be set a satellites.".into(),
        ),
        "is_satellite",
    )
}

/// forms.go `FormIdentifierExists`: a unique value (key, slug, domain name) taken.
pub fn identifier_exists(param: &str, long: String) -> ApiError {
    ApiError::form(vec![param_entry(
        "form_identifier_exists",
        "already exists",
        long,
        param,
    )])
}

/// forms.go `FormInvalidParameterFormat`.
pub fn format_invalid(param: &str, long: String) -> ErrorEntry {
    param_entry("form_param_format_invalid", "is invalid", long, param)
}

/// forms.go `FormUnknownParameter`: a member the operation's schema
/// (`additionalProperties: false`) does not have.
pub fn unknown_parameter(param: &str) -> ErrorEntry {
    param_entry(
        "form_param_unknown",
        "is unknown",
        format!("{param} is not a valid parameter for this request."),
        param,
    )
}

/// forms.go `FormMissingResource`: an id in the body names nothing.
pub fn missing_resource(param: &str) -> ErrorEntry {
    param_entry(
        "form_resource_not_found",
        "is missing",
        format!("The resource associated with the supplied {param} was not found."),
        param,
    )
}
