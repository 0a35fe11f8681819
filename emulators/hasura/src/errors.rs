//! Hasura's error body `{"error","path","code"[,"internal"]}` and its HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct QErr {
    pub status: StatusCode,
    pub path: String,
    pub error: String,
    pub code: &'static str,
    /// Boxed: keeps `Result<_, QErr>` small.
    pub internal: Option<Box<Value>>,
}

impl QErr {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        path: &str,
        error: impl Into<String>,
    ) -> Self {
        QErr {
            status,
            path: path.to_string(),
            error: error.into(),
            code,
            internal: None,
        }
    }

    pub fn bad(code: &'static str, path: &str, error: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, path, error)
    }

    pub fn with_internal(mut self, internal: Value) -> Self {
        self.internal = Some(Box::new(internal));
        self
    }

    pub fn unexpected(error: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected",
            "$",
            error.to_string(),
        )
    }

    pub fn conflict(referenced: i64) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "conflict",
            "$",
            format!(
                "metadata resource version referenced ({referenced}) did not match current version"
            ),
        )
    }

    /// Hasura reports sub-command errors of `bulk` at `$.args[i].<original path without $>`.
    pub fn in_bulk(mut self, index: usize) -> Self {
        let rest = self
            .path
            .strip_prefix('$')
            .unwrap_or(&self.path)
            .to_string();
        self.path = format!("$.args[{index}]{rest}");
        self
    }

    pub fn body(&self) -> Value {
        // Hasura puts `internal` first when present; aeson order of the rest is error, path, code.
        let mut m = serde_json::Map::new();
        if let Some(i) = &self.internal {
            m.insert("internal".into(), (**i).clone());
        }
        m.insert("path".into(), json!(self.path));
        m.insert("error".into(), json!(self.error));
        m.insert("code".into(), json!(self.code));
        Value::Object(m)
    }
}

impl IntoResponse for QErr {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<tokio_postgres::Error> for QErr {
    fn from(e: tokio_postgres::Error) -> Self {
        QErr::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "postgres-error",
            "$",
            format!("database query error: {e}"),
        )
    }
}

/// Mirrors Hasura's message for a request it could not decode into a command.
pub fn parse_failed(command: &str, path: &str, msg: impl std::fmt::Display) -> QErr {
    QErr::bad(
        "parse-failed",
        path,
        format!(
            "Error when parsing command {command}.\nSee our documentation at https://hasura.io/docs/latest/graphql/core/api-reference/metadata-api/index.html#metadata-apis.\nInternal error message: {msg}"
        ),
    )
}

/// `withObject what`: `v` as an object, or aeson's refusal at `path`.
pub fn object<'v>(
    cmd: &str,
    v: &'v serde_json::Value,
    path: &str,
    what: &str,
) -> Result<&'v serde_json::Map<String, serde_json::Value>, QErr> {
    v.as_object()
        .ok_or_else(|| parse_failed(cmd, path, format!("parsing {what} failed, expected Object")))
}
