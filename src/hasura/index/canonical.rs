//! Whether two spellings of an index's expressions and predicate are the
//! same index to PostgreSQL. Asked at plan time only when the configured
//! text differs from the state's (after an import the state holds
//! PostgreSQL's rendering, e.g. `lower((email)::text)`, and the configuration
//! the user's `lower(email)`): both are built on a temporary copy of the
//! table, dropped at commit, and PostgreSQL's renderings compared.
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::super::client::{Engine, HasuraError};
use super::super::ident::{qualified, quote_ident};
use super::super::table::keyed::TableKeyed;
use super::sql::METHODS;
use super::Model;

#[derive(Deserialize, PartialEq, Debug)]
struct Rendered {
    keys: Vec<String>,
    #[serde(rename = "where")]
    predicate: Option<String>,
}

/// The key list and predicate of `m` for a probe index: expressions
/// parenthesised, columns quoted (as `create_sql` writes them).
fn keys_and_predicate(m: &Model) -> Option<(String, String)> {
    let keys: Vec<String> = match (m.columns.known(), m.expressions.known()) {
        (Some(cols), _) => cols
            .iter()
            .map(|c| quote_ident(c.as_deref()?).ok())
            .collect::<Option<_>>()?,
        (None, Some(exprs)) => exprs
            .iter()
            .map(|e| Some(format!("({})", e.as_deref()?)))
            .collect::<Option<_>>()?,
        (None, None) => return None,
    };
    let pred = match &m.predicate {
        crate::framework::Value::Known(p) => format!(" WHERE ({p})"),
        crate::framework::Value::Null => String::new(),
        crate::framework::Value::Unknown => return None,
    };
    Some((keys.join(", "), pred))
}

fn rendered_json(index: &str) -> String {
    format!(
        "json_build_object('keys', (SELECT json_agg(pg_get_indexdef(x.indexrelid, k.ord::int, true) ORDER BY k.ord)
 FROM pg_index x, unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) WHERE x.indexrelid = 'pg_temp.{index}'::regclass AND k.ord <= x.indnkeyatts),
 'where', (SELECT pg_get_expr(indpred, indrelid, true) FROM pg_index WHERE indexrelid = 'pg_temp.{index}'::regclass))"
    )
}

/// Whether `a` and `b` (same table and method) render the same. `None`
/// when it cannot be told (a part unknown, or PostgreSQL refused a probe):
/// the caller then treats the change as real.
pub(super) async fn same_rendering(
    engine: &Engine,
    cancel: &CancellationToken,
    a: &Model,
    b: &Model,
) -> Option<bool> {
    let method = a.method.str_or("btree");
    if !METHODS.contains(&method) {
        return None;
    }
    let table = qualified(a.schema(), a.table.as_deref()?).ok()?;
    let (ka, pa) = keys_and_predicate(a)?;
    let (kb, pb) = keys_and_predicate(b)?;
    let sql = format!(
        "CREATE TEMP TABLE \"tf_hasura_ix_probe\" (LIKE {table}) ON COMMIT DROP;
 CREATE INDEX \"tf_hasura_ix_a\" ON pg_temp.\"tf_hasura_ix_probe\" USING {method} ({ka}){pa};
 CREATE INDEX \"tf_hasura_ix_b\" ON pg_temp.\"tf_hasura_ix_probe\" USING {method} ({kb}){pb};
 SELECT json_build_array({}, {})",
        rendered_json("tf_hasura_ix_a"),
        rendered_json("tf_hasura_ix_b")
    );
    let rows = match engine.run_sql_temporary(cancel, a.source(), &sql).await {
        Ok(r) => r,
        Err(e) => {
            log_refused(&e);
            return None;
        }
    };
    let cell = rows.get(1)?.first()?;
    let [ra, rb]: [Rendered; 2] = serde_json::from_str(cell).ok()?;
    Some(ra == rb)
}

fn log_refused(e: &HasuraError) {
    tracing::debug!(error = %e, "index probe refused; the change is planned as a replacement");
}
