//! What a failed Hasura call is: refused by the API, lost in transport,
//! cancelled, or not possible with the provider's settings. Worded for a
//! Terraform user and never carrying secrets: request bodies are not echoed,
//! only Hasura's `error`/`path`/`code`.
use reqwest::StatusCode;
use serde::Deserialize;

use crate::framework::ApiError;
use crate::http::HttpError;
use crate::settle::Ambiguous;

use super::lenient::Lenient;

/// The provider setting an API lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    Endpoint,
    AdminSecret,
    CloudAccessToken,
    /// Set, but to a value known only at apply.
    NotYetKnown(&'static str),
}

impl Missing {
    fn message(self) -> String {
        match self {
            Missing::Endpoint | Missing::AdminSecret => {
                let setting = if self == Missing::Endpoint {
                    "endpoint"
                } else {
                    "admin_secret"
                };
                format!("This resource talks to the Hasura GraphQL Engine, but `{setting}` is not set. Set `endpoint` and `admin_secret` in the provider block (or HASURA_GRAPHQL_ENDPOINT and HASURA_GRAPHQL_ADMIN_SECRET).")
            }
            Missing::CloudAccessToken => "This resource uses the Hasura Cloud API, but `cloud_access_token` is not set. Set `cloud_access_token` (or HASURA_CLOUD_ACCESS_TOKEN) in the provider block.".into(),
            Missing::NotYetKnown(attr) => crate::settings::not_yet_known(attr),
        }
    }
}

/// Every variant's `message` is its `Display`: the text the user sees.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HasuraError {
    /// The engine or the Cloud API answered with an error: an HTTP status, or
    /// (GraphQL) `errors` under HTTP 200 with `status` `None`.
    #[error("{message}")]
    Api {
        status: Option<StatusCode>,
        code: Option<String>,
        message: String,
    },
    /// No usable answer (reset, timeout, a body cut off or unreadable): the
    /// request may or may not have been applied.
    #[error("{message}")]
    Transport { message: String },
    /// Terraform asked the provider to stop.
    #[error("{message}")]
    Cancelled { message: String },
    /// The provider block lacks a setting this API needs.
    #[error("{message}")]
    NotConfigured { missing: Missing, message: String },
    /// Anything else: an answer that does not say what this provider needs,
    /// a local failure.
    #[error("{message}")]
    Other { message: String },
}

/// Every variant's `message`, by reference or by mutable reference.
macro_rules! message_of {
    ($e:expr) => {
        match $e {
            HasuraError::Api { message, .. }
            | HasuraError::Transport { message }
            | HasuraError::Cancelled { message }
            | HasuraError::NotConfigured { message, .. }
            | HasuraError::Other { message } => message,
        }
    };
}

impl HasuraError {
    pub fn other(message: impl Into<String>) -> Self {
        HasuraError::Other {
            message: message.into(),
        }
    }
    pub fn transport(message: impl Into<String>) -> Self {
        HasuraError::Transport {
            message: message.into(),
        }
    }
    pub fn cancelled(message: impl Into<String>) -> Self {
        HasuraError::Cancelled {
            message: message.into(),
        }
    }
    pub fn not_configured(missing: Missing) -> Self {
        HasuraError::NotConfigured {
            missing,
            message: missing.message(),
        }
    }
    /// The user-facing text (same as `Display`).
    pub fn message(&self) -> &str {
        message_of!(self)
    }
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HasuraError::Api { status, .. } => *status,
            _ => None,
        }
    }
    /// Hasura's error code (`already-exists`, `not-exists`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            HasuraError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }
    pub fn code_is(&self, c: &str) -> bool {
        self.code() == Some(c)
    }
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT) || self.code_is("conflict")
    }
    pub fn is_cancelled(&self) -> bool {
        matches!(self, HasuraError::Cancelled { .. })
    }
    /// A refusal with this HTTP status.
    pub fn status_is(&self, status: u16) -> bool {
        self.status().is_some_and(|s| s.as_u16() == status)
    }
}

/// Whether a failed write may still have been applied: no answer at all
/// (reset, timeout, lost response, unreadable body) or a 5xx. The HTTP layer
/// does not retry these for unsafe requests, so the caller must look at the
/// server's state before re-sending or compensating. Cancellation is not
/// ambiguous in that sense: the user asked us to stop.
pub fn may_have_landed(e: &HasuraError) -> bool {
    match e {
        HasuraError::Api {
            status: Some(s), ..
        } => s.is_server_error(),
        // A GraphQL error without a code says nothing about what happened.
        HasuraError::Api {
            status: None, code, ..
        } => code.is_none(),
        HasuraError::Transport { .. } => true,
        // Unclassified: asking the server costs a read, a wrong guess a duplicate.
        HasuraError::Other { .. } => true,
        HasuraError::Cancelled { .. } | HasuraError::NotConfigured { .. } => false,
    }
}

impl Ambiguous for HasuraError {
    fn may_have_landed(&self) -> bool {
        may_have_landed(self)
    }
    fn message_mut(&mut self) -> &mut String {
        message_of!(self)
    }
    fn log_text(&self) -> Option<&str> {
        Some(self.message())
    }
}

impl ApiError for HasuraError {
    fn summary(&self) -> String {
        match self {
            HasuraError::NotConfigured {
                missing: Missing::CloudAccessToken,
                ..
            } => "Hasura Cloud API not configured".into(),
            HasuraError::NotConfigured { .. } => "Hasura endpoint not configured".into(),
            HasuraError::Cancelled { .. } => "Operation cancelled".into(),
            _ => "Hasura request failed".into(),
        }
    }
}

/// An engine error body: `{error, path, code, internal?}`; `run_sql`
/// failures carry PostgreSQL's own message under `internal.error`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct EngineErrorBody {
    error: Lenient<String>,
    path: Lenient<String>,
    code: Lenient<String>,
    internal: Lenient<Internal>,
}

#[derive(Deserialize)]
struct Internal {
    #[serde(default)]
    error: Lenient<PgError>,
}

#[derive(Deserialize)]
#[serde(default)]
#[derive(Default)]
struct PgError {
    message: Lenient<String>,
    description: Lenient<String>,
    hint: Lenient<String>,
}

/// An engine call's failure; `what` names the operation, `path` the API.
pub(super) fn from_http(e: HttpError, path: &str, what: &str) -> HasuraError {
    match e {
        HttpError::Status { status, body } => {
            // Unparsed bodies are not echoed: they could reflect request data.
            let body: EngineErrorBody = serde_json::from_str(&body).unwrap_or_default();
            let code = body.code.0;
            let mut what_failed = match body.error.0 {
                Some(err) => match body.path.0 {
                    Some(p) if p != "$" => format!("{err} (at {p})"),
                    _ => err,
                },
                None => "no error details in the response".to_string(),
            };
            if let Some(pg) = body.internal.0.and_then(|i| i.error.0) {
                if let Some(m) = pg.message.0 {
                    what_failed.push_str(&format!(": PostgreSQL says: {m}"));
                }
                if let Some(d) = pg.description.0 {
                    what_failed.push_str(&format!(" ({d})"));
                }
                if let Some(h) = pg.hint.0 {
                    what_failed.push_str(&format!(" Hint: {h}"));
                }
            }
            let hint = match status.as_u16() {
                401 | 403 => " Check `admin_secret` (or HASURA_GRAPHQL_ADMIN_SECRET): Hasura rejected it.",
                404 => " Is this the project's base URL, and is the API enabled (HASURA_GRAPHQL_ENABLED_APIS must include `metadata`)?",
                409 => " The metadata was changed concurrently; re-run the plan.",
                429 => " Hasura's rate limit was still exceeded after retries; try again later or lower -parallelism.",
                _ => "",
            };
            let code_txt = code
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
            HasuraError::Api {
                status: Some(status),
                message: format!(
                    "Hasura {what} ({path}) failed with HTTP {}{code_txt}: {what_failed}.{hint}",
                    status.as_u16()
                ),
                code,
            }
        }
        HttpError::Transport(msg) => {
            HasuraError::transport(format!("Hasura {what} ({path}) failed: {msg}"))
        }
        HttpError::Cancelled => HasuraError::cancelled(format!(
            "Hasura {what} ({path}) was cancelled because Terraform asked the provider to stop"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_back_failures_join_the_writes_error() {
        let e = HasuraError::Api {
            status: Some(StatusCode::BAD_GATEWAY),
            code: None,
            message: "Hasura run_sql (/v2/query) failed with HTTP 502".into(),
        };
        assert!(e.may_have_landed());
        let merged = e.with_read_back_failure(
            "checking whether the table is gone",
            HasuraError::other("timed out"),
        );
        assert_eq!(merged.to_string(), "Hasura run_sql (/v2/query) failed with HTTP 502 (checking whether the table is gone also failed: timed out)");
        assert_eq!(merged.status(), Some(StatusCode::BAD_GATEWAY));
        assert!(!HasuraError::cancelled("").may_have_landed());
        assert!(!HasuraError::not_configured(Missing::Endpoint).may_have_landed());
    }

    #[test]
    fn engine_errors_keep_code_path_and_postgres_detail() {
        let status = |s: u16, body: &str| {
            from_http(
                HttpError::Status {
                    status: StatusCode::from_u16(s).unwrap(),
                    body: body.into(),
                },
                "/v2/query",
                "run_sql",
            )
        };
        let e = status(
            400,
            r#"{"error":"bad","path":"$.args","code":"postgres-error","internal":{"error":{"message":"m","description":"d","hint":"h"}}}"#,
        );
        assert!(e.code_is("postgres-error"));
        assert_eq!(e.to_string(), "Hasura run_sql (/v2/query) failed with HTTP 400 [postgres-error]: bad (at $.args): PostgreSQL says: m (d) Hint: h.");
        let e = status(409, "not json {secret}");
        assert!(e.is_conflict() && !e.to_string().contains("secret"));
        assert!(from_http(HttpError::Cancelled, "/p", "x").is_cancelled());
        assert!(from_http(HttpError::Transport("reset".into()), "/p", "x").may_have_landed());
    }
}
