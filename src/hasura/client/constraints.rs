//! Foreign keys and indexes as PostgreSQL's catalog shows them (`pg_constraint`,
//! `pg_index`), read through `run_sql`, and the one `run_sql` that must run
//! outside a transaction block (`CREATE INDEX CONCURRENTLY`).
//!
//! These reads always go to the server (no snapshot): a refresh reads one
//! object, and an apply needs the object as it is now.
use std::future::Future;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::hasura::ident::quote_literal;
use crate::http::Idempotency;

use super::{Engine, HasuraError, TableRef};

/// A foreign-key constraint as `pg_constraint` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CatalogForeignKey {
    pub table: String,
    pub columns: Vec<String>,
    pub references_schema: String,
    pub references_table: String,
    pub references_columns: Vec<String>,
    /// `confdeltype`: `a` no action, `r` restrict, `c` cascade, `n` set null, `d` set default.
    pub on_delete: String,
    /// `confupdtype`, same letters.
    pub on_update: String,
}

/// An index as `pg_index` describes it, with PostgreSQL's own rendering of
/// its key expressions and predicate (`pg_get_indexdef`, `pg_get_expr`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CatalogIndex {
    pub table: String,
    /// `indisvalid`: false after a failed (or still running) `CONCURRENTLY` build.
    pub valid: bool,
    pub unique: bool,
    pub method: String,
    pub keys: Vec<IndexKey>,
    #[serde(rename = "where")]
    pub predicate: Option<String>,
    /// `pg_get_indexdef(oid)`: the whole `CREATE INDEX` statement.
    pub definition: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct IndexKey {
    /// The column name when the key is a plain column; `None` for an expression.
    pub column: Option<String>,
    /// `pg_get_indexdef(oid, n, true)`: the key as PostgreSQL prints it.
    pub text: String,
}

fn lit(s: &str) -> Result<String, HasuraError> {
    quote_literal(s).map_err(|e| HasuraError::other(e.to_string()))
}

/// The key columns of `con` (`conkey` or `confkey`) in key order, as a JSON array.
fn key_columns(keys: &str, rel: &str) -> String {
    format!(
        "(SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.{keys}) WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON a.attrelid = con.{rel} AND a.attnum = k.attnum)"
    )
}

/// One foreign key as JSON, over `con` (its `pg_constraint` row), `c` its
/// table and `rc`/`rn` the referenced table and schema.
fn fk_json() -> String {
    format!(
        "json_build_object('table', c.relname, 'columns', {}, 'references_schema', rn.nspname, 'references_table', rc.relname, 'references_columns', {}, 'on_delete', con.confdeltype::text, 'on_update', con.confupdtype::text)",
        key_columns("conkey", "conrelid"),
        key_columns("confkey", "confrelid")
    )
}

const FK_FROM: &str = "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
 WHERE con.contype = 'f'";

/// One index as JSON, over `i` (the index's `pg_class` row), `x` its
/// `pg_index` row, `t` its table and `am` its access method. Only key
/// columns (`indnkeyatts`), not `INCLUDE` columns.
const INDEX_JSON: &str = "json_build_object('table', t.relname, 'valid', x.indisvalid, 'unique', x.indisunique, 'method', am.amname,
 'keys', COALESCE((SELECT json_agg(json_build_object('column', (SELECT a.attname FROM pg_attribute a WHERE k.attnum <> 0 AND a.attrelid = x.indrelid AND a.attnum = k.attnum), 'text', pg_get_indexdef(x.indexrelid, k.ord::int, true)) ORDER BY k.ord)
   FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) WHERE k.ord <= x.indnkeyatts), '[]'::json),
 'where', pg_get_expr(x.indpred, x.indrelid, true), 'definition', pg_get_indexdef(x.indexrelid))";

const INDEX_FROM: &str = "FROM pg_class i JOIN pg_namespace n ON n.oid = i.relnamespace JOIN pg_index x ON x.indexrelid = i.oid
 JOIN pg_class t ON t.oid = x.indrelid JOIN pg_am am ON am.oid = i.relam WHERE i.relkind IN ('i', 'I')";

impl Engine {
    /// The foreign key `name` of table `t`; `None` when it (or the table) does not exist.
    pub async fn foreign_key(
        &self,
        cancel: &CancellationToken,
        t: TableRef<'_>,
        name: &str,
    ) -> Result<Option<CatalogForeignKey>, HasuraError> {
        let sql = format!(
            "SELECT COALESCE((SELECT {} {FK_FROM} AND n.nspname = {} AND c.relname = {} AND con.conname = {}), 'null'::json)",
            fk_json(),
            lit(t.schema)?,
            lit(t.name)?,
            lit(name)?
        );
        decode(self.query_json(cancel, t.source, &sql).await?)
    }

    /// Every foreign key of the tables of `schema` (for adoption): `(name, key)`.
    pub async fn foreign_keys_in(
        &self,
        cancel: &CancellationToken,
        source: &str,
        schema: &str,
    ) -> Result<Vec<(String, CatalogForeignKey)>, HasuraError> {
        let sql = format!(
            "SELECT COALESCE((SELECT json_agg(json_build_array(con.conname, {}) ORDER BY c.relname, con.conname) {FK_FROM} AND n.nspname = {}), '[]'::json)",
            fk_json(),
            lit(schema)?
        );
        decode(self.query_json(cancel, source, &sql).await?)
    }

    /// Every valid index of `schema` that no constraint owns (primary keys
    /// and UNIQUE constraints belong to the table): `(name, index)`, for adoption.
    pub async fn indexes_in(
        &self,
        cancel: &CancellationToken,
        source: &str,
        schema: &str,
    ) -> Result<Vec<(String, CatalogIndex)>, HasuraError> {
        let sql = format!(
            "SELECT COALESCE((SELECT json_agg(json_build_array(i.relname, {INDEX_JSON}) ORDER BY t.relname, i.relname) {INDEX_FROM} AND n.nspname = {} AND x.indisvalid
 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.contype IN ('p', 'u', 'x'))), '[]'::json)",
            lit(schema)?
        );
        decode(self.query_json(cancel, source, &sql).await?)
    }

    /// The index `name` of `schema`, whatever its table; `None` when absent.
    pub async fn index(
        &self,
        cancel: &CancellationToken,
        source: &str,
        schema: &str,
        name: &str,
    ) -> Result<Option<CatalogIndex>, HasuraError> {
        let sql = format!(
            "SELECT COALESCE((SELECT {INDEX_JSON} {INDEX_FROM} AND n.nspname = {} AND i.relname = {}), 'null'::json)",
            lit(schema)?,
            lit(name)?
        );
        decode(self.query_json(cancel, source, &sql).await?)
    }

    /// `run_sql` with `no_transaction: true`, for the statements PostgreSQL
    /// refuses inside a transaction block (`CREATE INDEX CONCURRENTLY`).
    ///
    /// graphql-engine's `runRunSQL` (`server/src-lib/Hasura/Backends/Postgres/DDL/RunSQL.hs`)
    /// runs every `run_sql` through `runTx`/`runTxWithCtx`, i.e. in a
    /// transaction; v2.45.3 added the optional `no_transaction` flag (release
    /// notes: "execute SQL statements outside transaction blocks ... Useful
    /// for operations like CREATE INDEX CONCURRENTLY"). An older server
    /// ignores the flag and PostgreSQL answers SQLSTATE 25001 (issue
    /// hasura/graphql-engine#10707 shows that answer), which
    /// [`is_in_transaction_block`] recognises. The statement changes no
    /// Hasura metadata, so the consistency check is off.
    pub async fn run_sql_outside_transaction(
        &self,
        cancel: &CancellationToken,
        source: &str,
        sql: &str,
    ) -> Result<(), HasuraError> {
        let _catalog_write = self.catalogs.write();
        let body = json!({"type": "run_sql", "args": {
            "source": source, "sql": sql, "no_transaction": true, "check_metadata_consistency": false,
        }});
        self.post::<serde_json::Value>(cancel, "/v2/query", "run_sql", &body, Idempotency::Unsafe)
            .await
            .map(drop)
    }
}

/// Whether PostgreSQL refused a statement because it ran inside a
/// transaction block (SQLSTATE 25001), as it does for `CREATE INDEX
/// CONCURRENTLY` on a Hasura that ignores `no_transaction`.
pub fn is_in_transaction_block(e: &HasuraError) -> bool {
    e.code_is("postgres-error")
        && e.message()
            .contains("cannot run inside a transaction block")
}

fn decode<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, HasuraError> {
    serde_json::from_value(v)
        .map_err(|e| HasuraError::other(format!("unexpected catalog row: {e}")))
}

/// Whether PostgreSQL aborted the statement's transaction to break a
/// deadlock (SQLSTATE 40P01). Terraform applies resources in parallel, and a
/// `CREATE INDEX CONCURRENTLY` waits for every transaction holding a lock on
/// its table, so a foreign key added to the same table meanwhile can
/// deadlock with it. The victim's transaction was rolled back: sending it
/// again is safe.
pub fn is_deadlock(e: &HasuraError) -> bool {
    e.code_is("postgres-error") && e.message().contains("deadlock detected")
}

/// How many times a statement chosen as a deadlock victim is sent again.
const DEADLOCK_RETRIES: u32 = 5;

/// Runs `send` again (after a short, growing pause) while PostgreSQL picks
/// it as a deadlock victim; any other outcome is returned as is.
pub async fn retrying_deadlocks<F, Fut>(
    cancel: &CancellationToken,
    mut send: F,
) -> Result<(), HasuraError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), HasuraError>>,
{
    let mut attempt = 0u32;
    loop {
        match send().await {
            Err(e) if is_deadlock(&e) && attempt < DEADLOCK_RETRIES => {
                attempt += 1;
                tracing::info!(
                    attempt,
                    "statement was a deadlock victim (rolled back); sending it again"
                );
                tokio::select! {
                    _ = cancel.cancelled() => return Err(e),
                    _ = tokio::time::sleep(Duration::from_millis(150 * u64::from(attempt))) => {}
                }
            }
            r => return r,
        }
    }
}
