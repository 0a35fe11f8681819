//! `POST /v1/graphql` as a role: Hasura's documented impersonation, the admin
//! secret plus `x-hasura-role` and `x-hasura-*` session-variable headers
//! (docs/docs/auth/roles-variables.mdx, "Testing permissions" in
//! docs/docs/auth/quickstart.mdx, hasura/graphql-engine).
//!
//! graphql-engine answers every `/v1/graphql` failure with HTTP 200 and a
//! GraphQL `errors` list: the route is `spockAction GH.encodeGQErr allMod200`
//! (server/src-lib/Hasura/Server/App.hs), `allMod200` setting `qeStatus` to
//! 200. So an HTTP error status here is a transport or gateway failure, and
//! `errors` under 200 is the query's own answer, returned to the caller.
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::error::from_http;
use super::{Engine, HasuraError};

const PATH: &str = "/v1/graphql";

/// One operation and the session it runs in.
pub struct GraphqlRequest<'a> {
    pub role: &'a str,
    /// Session variables by header name (`x-hasura-user-id`); the caller
    /// checks the names.
    pub session_variables: &'a [(String, String)],
    pub query: &'a str,
    pub variables: Option<Map<String, Value>>,
    pub operation_name: Option<&'a str>,
}

/// Hasura's answer: `data` and `errors` as sent (either may be absent).
#[derive(Debug, Default, Deserialize)]
pub struct GraphqlAnswer {
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub errors: Option<Vec<Value>>,
}

impl GraphqlAnswer {
    /// `extensions.code` of each error (empty text when absent).
    pub fn error_codes(&self) -> Vec<String> {
        self.errors
            .iter()
            .flatten()
            .map(|e| text_at(e, &["extensions", "code"]))
            .collect()
    }

    pub fn error_messages(&self) -> Vec<String> {
        self.errors
            .iter()
            .flatten()
            .map(|e| text_at(e, &["message"]))
            .collect()
    }

    /// The admin secret itself was refused: graphql-engine's
    /// `throw401 AccessDenied` for a wrong or missing secret
    /// (server/src-lib/Hasura/Server/Auth.hs, "invalid
    /// x-hasura-admin-secret/x-hasura-access-key"), turned into HTTP 200 at
    /// path `$` by `allMod200`. That is the provider's configuration failing,
    /// not the query.
    fn auth_refusal(&self) -> Option<String> {
        self.errors.iter().flatten().find_map(|e| {
            let refused = text_at(e, &["extensions", "code"]) == "access-denied"
                && text_at(e, &["extensions", "path"]) == "$"
                && text_at(e, &["message"]).contains("x-hasura-admin-secret");
            refused.then(|| text_at(e, &["message"]))
        })
    }
}

fn text_at(v: &Value, path: &[&str]) -> String {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[derive(Serialize)]
struct Body<'a> {
    query: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    variables: Option<&'a Map<String, Value>>,
    #[serde(rename = "operationName", skip_serializing_if = "Option::is_none")]
    operation_name: Option<&'a str>,
}

impl Engine {
    /// Runs one operation as `req.role`. Sent as unsafe: re-sent only when
    /// Hasura certainly did not act on it, since a mutation may have landed.
    pub async fn graphql_as(
        &self,
        cancel: &CancellationToken,
        req: &GraphqlRequest<'_>,
    ) -> Result<GraphqlAnswer, HasuraError> {
        let what = "GraphQL query";
        let mut headers = self.headers.clone();
        let role = HeaderValue::from_str(req.role)
            .map_err(|_| HasuraError::other("`role` is not a valid HTTP header value."))?;
        headers.insert(HeaderName::from_static("x-hasura-role"), role);
        for (name, value) in req.session_variables {
            let bad = || {
                HasuraError::other(format!(
                    "Session variable `{name}` is not a valid HTTP header name and value."
                ))
            };
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let mut v = HeaderValue::from_str(value).map_err(|_| bad())?;
            // Session variables can identify users: keep them out of debug logs.
            v.set_sensitive(true);
            headers.insert(n, v);
        }
        let body = serde_json::to_value(Body {
            query: req.query,
            variables: req.variables.as_ref(),
            operation_name: req.operation_name,
        })
        .map_err(|e| HasuraError::other(format!("Cannot encode the GraphQL request: {e}")))?;
        let url = format!("{}{PATH}", self.base);
        let resp = self
            .http
            .send(
                cancel,
                Method::POST,
                &url,
                &headers,
                Some(&body),
                Idempotency::Unsafe,
            )
            .await
            .map_err(|e| from_http(e, PATH, what))?;
        let answer: GraphqlAnswer = serde_json::from_slice(&resp.body).map_err(|e| {
            HasuraError::transport(format!(
                "Hasura answered the {what} on {PATH} with a body this provider cannot read (is this a batch, or not Hasura?): {e}"
            ))
        })?;
        if let Some(message) = answer.auth_refusal() {
            return Err(HasuraError::Api {
                status: None,
                code: Some("access-denied".into()),
                message: format!(
                    "Hasura refused the admin secret on {PATH}: {message}. Check `admin_secret` (or HASURA_GRAPHQL_ADMIN_SECRET): impersonating a role needs the admin secret."
                ),
            });
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(v: Value) -> GraphqlAnswer {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_refused_admin_secret_is_an_error_but_a_refused_query_is_not() {
        let secret = answer(
            json!({"errors": [{"message": "invalid x-hasura-admin-secret/x-hasura-access-key", "extensions": {"path": "$", "code": "access-denied"}}]}),
        );
        assert!(secret.auth_refusal().is_some());
        let check = answer(
            json!({"errors": [{"message": "check constraint of an insert/update permission has failed", "extensions": {"path": "$.selectionSet.insert_users_one.args.object", "code": "permission-error"}}]}),
        );
        assert!(check.auth_refusal().is_none());
        assert_eq!(check.error_codes(), vec!["permission-error"]);
        assert_eq!(
            check.error_messages(),
            vec!["check constraint of an insert/update permission has failed"]
        );
        let ok = answer(json!({"data": {"users": []}}));
        assert!(ok.errors.is_none() && ok.error_codes().is_empty());
    }
}
