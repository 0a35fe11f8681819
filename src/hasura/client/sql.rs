//! `run_sql` on `/v2/query`. Hasura returns every cell as text and SQL NULL
//! as the string "NULL", so reads aggregate into one JSON cell and parse it.
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;
use crate::settle::Ambiguous;

use super::{Engine, HasuraError};

const PATH: &str = "/v2/query";

/// Whether a failed write may still have been applied: no answer at all
/// (reset, timeout, lost response, unreadable body) or a 5xx. The HTTP layer
/// does not retry these for unsafe requests, so the caller must look at the
/// server's state before re-sending or compensating. Cancellation is not
/// ambiguous in that sense: the user asked us to stop.
pub fn may_have_landed(e: &HasuraError) -> bool {
    match e.status {
        Some(s) => s.is_server_error(),
        None => e.code.is_none(),
    }
}

impl Ambiguous for HasuraError {
    fn may_have_landed(&self) -> bool {
        may_have_landed(self)
    }
    fn message_mut(&mut self) -> &mut String {
        &mut self.message
    }
    fn log_text(&self) -> Option<&str> {
        Some(&self.message)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SqlOptions {
    pub read_only: bool,
    /// `Some(true)` makes Hasura re-sync tracked tables after DDL;
    /// `Some(false)` skips it (DDL on untracked or temporary tables).
    pub check_metadata_consistency: Option<bool>,
}

impl Engine {
    /// Runs `sql` (all statements in one transaction) and returns the rows of
    /// the last statement, header row first. Unless `read_only`, this
    /// process's catalog snapshots are dropped, however the call ends.
    pub async fn run_sql(
        &self,
        cancel: &CancellationToken,
        source: &str,
        sql: &str,
        opts: SqlOptions,
    ) -> Result<Vec<Vec<String>>, HasuraError> {
        let _catalog_write = (!opts.read_only).then(|| self.catalogs.write());
        self.send_sql(cancel, source, sql, opts).await
    }

    /// For statements whose only writes are temporary objects dropped at
    /// commit (`CREATE TEMP TABLE ... ON COMMIT DROP` probes): no table
    /// outlives the call, so the catalog snapshots stay valid and plans that
    /// probe do not cost another snapshot each.
    pub async fn run_sql_temporary(
        &self,
        cancel: &CancellationToken,
        source: &str,
        sql: &str,
    ) -> Result<Vec<Vec<String>>, HasuraError> {
        let opts = SqlOptions {
            read_only: false,
            check_metadata_consistency: Some(false),
        };
        self.send_sql(cancel, source, sql, opts).await
    }

    async fn send_sql(
        &self,
        cancel: &CancellationToken,
        source: &str,
        sql: &str,
        opts: SqlOptions,
    ) -> Result<Vec<Vec<String>>, HasuraError> {
        let mut args = json!({"source": source, "sql": sql});
        if opts.read_only {
            args["read_only"] = json!(true);
        }
        if let Some(c) = opts.check_metadata_consistency {
            args["check_metadata_consistency"] = json!(c);
        }
        let idem = if opts.read_only {
            Idempotency::Idempotent
        } else {
            Idempotency::Unsafe
        };
        let v = self
            .post(
                cancel,
                PATH,
                "run_sql",
                &json!({"type": "run_sql", "args": args}),
                idem,
            )
            .await;
        if !opts.read_only && opts.check_metadata_consistency != Some(false) {
            // DDL on a tracked table rewrites the metadata.
            self.invalidate().await;
        }
        let v = v?;
        match v.get("result") {
            Some(Value::Array(rows)) => Ok(rows
                .iter()
                .map(|r| {
                    r.as_array()
                        .map(|cells| {
                            cells
                                .iter()
                                .map(|c| c.as_str().unwrap_or_default().to_string())
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()),
            _ => Ok(Vec::new()),
        }
    }

    /// A read-only query whose single cell is JSON (`json_build_object`,
    /// `json_agg`...); wrap it in COALESCE so SQL NULL never reaches here.
    pub async fn query_json(
        &self,
        cancel: &CancellationToken,
        source: &str,
        sql: &str,
    ) -> Result<Value, HasuraError> {
        let rows = self
            .run_sql(
                cancel,
                source,
                sql,
                SqlOptions {
                    read_only: true,
                    check_metadata_consistency: None,
                },
            )
            .await?;
        let cell = rows
            .get(1)
            .and_then(|r| r.first())
            .ok_or_else(|| HasuraError::other("run_sql returned no rows for a catalog query"))?;
        serde_json::from_str(cell).map_err(|e| {
            HasuraError::other(format!(
                "run_sql returned a catalog row this provider cannot read: {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_back_failures_join_the_writes_error() {
        let e = HasuraError {
            status: Some(reqwest::StatusCode::BAD_GATEWAY),
            code: None,
            message: "Hasura run_sql (/v2/query) failed with HTTP 502".into(),
        };
        assert!(e.may_have_landed());
        let merged = e.with_read_back_failure(
            "checking whether the table is gone",
            HasuraError::other("timed out"),
        );
        assert_eq!(merged.message, "Hasura run_sql (/v2/query) failed with HTTP 502 (checking whether the table is gone also failed: timed out)");
        assert_eq!(merged.status, Some(reqwest::StatusCode::BAD_GATEWAY));
        let cancelled = HasuraError {
            status: None,
            code: Some("cancelled".into()),
            message: String::new(),
        };
        assert!(!cancelled.may_have_landed());
    }
}
