//! `run_sql` on `/v2/query`. Hasura returns every cell as text and SQL NULL
//! as the string "NULL", so reads aggregate into one JSON cell and parse it.
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::lenient::Lenient;
use super::{Engine, HasuraError};

const PATH: &str = "/v2/query";

/// The rows of a statement, header row first, every cell as text.
pub type Rows = Vec<Vec<String>>;

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
    ) -> Result<Rows, HasuraError> {
        let _catalog_write = (!opts.read_only).then(|| self.catalogs.write());
        self.send_sql(cancel, json!({"source": source, "sql": sql}), opts)
            .await
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
    ) -> Result<Rows, HasuraError> {
        let opts = SqlOptions {
            read_only: false,
            check_metadata_consistency: Some(false),
        };
        self.send_sql(cancel, json!({"source": source, "sql": sql}), opts)
            .await
    }

    /// `args` holds `source` and `sql`; `opts` adds to them.
    async fn send_sql(
        &self,
        cancel: &CancellationToken,
        mut args: Value,
        opts: SqlOptions,
    ) -> Result<Rows, HasuraError> {
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
        /// `result` is absent for statements that return no rows.
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            result: Lenient<Rows>,
        }
        let v: Result<Answer, _> = self
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
        Ok(v?.result.0.unwrap_or_default())
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
