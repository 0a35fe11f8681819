//! The `hasura_graphql_query` data source: one GraphQL operation run as a
//! role with session variables, through the admin secret, the way Hasura
//! documents testing permissions. Its answer is data to assert on (in
//! `terraform test`, `check` blocks or postconditions): a query Hasura
//! refuses fills `errors_json`; only transport and admin-secret failures
//! are diagnostics.
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::framework::{
    AttrPath, Attribute, Ctx, DataSource, Diagnostics, IntoDiags, Invalid, JsonObject, Schema,
    StrCheck, Type, Value,
};

use super::client::graphql::GraphqlRequest;
use super::client::HasuraClient;

pub struct GraphqlQueryDataSource;

#[derive(Serialize, Deserialize)]
pub struct Model {
    role: Value<String>,
    /// Values may be unknown at validate (e.g. `var.user_id` in `terraform test`).
    session_variables: Value<BTreeMap<String, Value<String>>>,
    query: Value<String>,
    variables: Value<String>,
    operation_name: Value<String>,
    data_json: Value<String>,
    errors_json: Value<String>,
    error_codes: Value<Vec<String>>,
    error_messages: Value<Vec<String>>,
}

/// Headers a session variable may not name: they are not session variables
/// but the role and the credentials, set by the provider.
const RESERVED: &[&str] = &[
    "x-hasura-role",
    "x-hasura-admin-secret",
    "x-hasura-access-key",
];

fn check_role(r: &str) -> Result<(), Invalid> {
    if r.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if !r.chars().all(|c| c.is_ascii_graphic()) {
        return Err("must be a role name: printable ASCII without spaces".into());
    }
    Ok(())
}

fn check_query(q: &str) -> Result<(), Invalid> {
    if q.trim().is_empty() {
        return Err("must hold a GraphQL operation".into());
    }
    Ok(())
}

/// Why `name = value` cannot be sent as a session variable, if it cannot.
fn check_session_variable(name: &str, value: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if !lower.starts_with("x-hasura-") || lower.len() == "x-hasura-".len() {
        return Some(format!(
            "session variable names start with `x-hasura-` (e.g. `x-hasura-user-id`), got `{name}`"
        ));
    }
    if RESERVED.contains(&lower.as_str()) {
        return Some(format!("`{name}` is not a session variable: set the role with `role`; the admin secret comes from the provider"));
    }
    if !lower
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Some(format!(
            "`{name}` must be letters, digits, `-` and `_` (it is sent as an HTTP header name)"
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Some(format!("the value of `{name}` must not contain control characters (it is sent as an HTTP header)"));
    }
    None
}

#[async_trait]
impl DataSource for GraphqlQueryDataSource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_graphql_query"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Runs one GraphQL operation against the project's `/v1/graphql` as a given role with given session variables, the way Hasura documents testing permissions: the provider's admin secret plus `x-hasura-role` and `x-hasura-*` headers. Meant for access-rule tests (`terraform test`, `check` blocks): the answer's `data` and `errors` are returned as attributes, so a query Hasura refuses is something to assert on, not a failed plan. Only a transport failure or a refused admin secret is an error. The admin secret never reaches the state or the logs. The operation runs on every plan and refresh: a mutation here is re-sent each time, so keep mutations to test projects.",
            vec![
                Attribute::string("role").required().validate(StrCheck("Invalid role", check_role)).describe("Role to run as, sent as `x-hasura-role`, e.g. `user`. `admin` runs without permission checks; a role without any permission sees an empty schema (`field '...' not found in type: 'query_root'`)."),
                Attribute::typed("session_variables", Type::map(Type::String)).optional().describe("Session variables sent as headers, by name: e.g. `{ \"x-hasura-user-id\" = \"alice\" }`. Names start with `x-hasura-` (any case) and may not be `x-hasura-role` or the admin secret's headers."),
                Attribute::string("query").required().validate(StrCheck("Invalid query", check_query)).describe("The GraphQL document: a query or a mutation, e.g. `query { users { id } }`."),
                Attribute::string("variables").optional().validate(JsonObject).describe("GraphQL variables as a JSON object: `jsonencode({ id = \"alice\" })`."),
                Attribute::string("operation_name").optional().describe("Which operation of `query` to run, when it holds several."),
                Attribute::string("data_json").computed().describe("The answer's `data` as JSON text (read it with `jsondecode`), or null when Hasura answered without data (a refused query)."),
                Attribute::string("errors_json").computed().describe("The answer's `errors` list as JSON text, each `{message, extensions: {path, code}}`, or null when there were none."),
                Attribute::typed("error_codes", Type::list(Type::String)).computed().describe("`extensions.code` of each error, in order (empty when none): e.g. `validation-failed` for a field the role cannot see, `permission-error` for a refused insert or update check, `constraint-violation` for a database constraint."),
                Attribute::typed("error_messages", Type::list(Type::String)).computed().describe("`message` of each error, in order (empty when none)."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        for (name, value) in config.session_variables.known().into_iter().flatten() {
            if let Some(why) = check_session_variable(name, value.str_or("")) {
                diags.add_attr_error(
                    AttrPath::attr("session_variables"),
                    "Invalid session variable",
                    format!("`session_variables`: {why}."),
                );
            }
        }
    }

    async fn read(&self, ctx: &Ctx, config: Model) -> Result<Model, Diagnostics> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client
            .engine()
            .map_err(|e| e.into_diags("Cannot run the GraphQL query"))?;
        let session_variables: Vec<(String, String)> = config
            .session_variables
            .known()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.str_or("").to_string()))
            .collect();
        // Validated as a JSON object when known; at read every input is known.
        let variables = match config.variables.as_deref().map(serde_json::from_str) {
            Some(Ok(Json::Object(m))) => Some(m),
            _ => None,
        };
        let answer = engine
            .graphql_as(
                &ctx.cancel,
                &GraphqlRequest {
                    role: config.role.str_or(""),
                    session_variables: &session_variables,
                    query: config.query.str_or(""),
                    variables,
                    operation_name: config.operation_name.as_deref(),
                },
            )
            .await
            .map_err(|e| e.into_diags("Cannot run the GraphQL query"))?;
        let error_codes = answer.error_codes();
        let error_messages = answer.error_messages();
        Ok(Model {
            data_json: answer
                .data
                .filter(|d| !d.is_null())
                .map(|d| d.to_string())
                .into(),
            errors_json: answer
                .errors
                .filter(|e| !e.is_empty())
                .map(|e| Json::Array(e).to_string())
                .into(),
            error_codes: error_codes.into(),
            error_messages: error_messages.into(),
            ..config
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_variable_names_are_checked() {
        assert!(check_session_variable("x-hasura-user-id", "alice").is_none());
        assert!(check_session_variable("X-Hasura-Org-Id", "7").is_none());
        assert!(check_session_variable("user-id", "alice").is_some());
        assert!(check_session_variable("x-hasura-", "a").is_some());
        assert!(check_session_variable("X-Hasura-Role", "admin").is_some());
        assert!(check_session_variable("x-hasura-admin-secret", "s").is_some());
        assert!(check_session_variable("x-hasura-user id", "a").is_some());
        assert!(check_session_variable("x-hasura-user-id", "a\nb").is_some());
    }
}
