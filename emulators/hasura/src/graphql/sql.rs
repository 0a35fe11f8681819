//! SQL text building blocks. Every value travels as a bound text parameter and is cast
//! in SQL to the column's type (`($1::text)::integer`), so user input is never spliced
//! into the statement and one Rust type (Option<String>) covers every column type.

use serde_json::Value;
use tokio_postgres::types::ToSql;

use super::schema::Column;
use super::GqlErr;

#[derive(Default)]
pub struct Params {
    values: Vec<Option<String>>,
    /// Row aliases handed out for nested subqueries (relationships, `_exists`).
    aliases: usize,
}

impl Params {
    /// A row alias no other part of the statement uses.
    pub fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("_r{}", self.aliases)
    }

    /// A text parameter placeholder.
    pub fn text(&mut self, v: Option<String>) -> String {
        self.values.push(v);
        format!("(${}::text)", self.values.len())
    }

    /// A parameter cast to `pg_type` (a `format_type` spelling from the catalog).
    pub fn typed(&mut self, v: Option<String>, pg_type: &str) -> String {
        format!("({}::{pg_type})", self.text(v))
    }

    pub fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|v| v as &(dyn ToSql + Sync))
            .collect()
    }
}

/// PostgreSQL quoted identifier.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Text form of a GraphQL input value for `col`, after the type check Hasura's schema
/// would do (an Int column takes an integer, a String column a string, ...).
pub fn input_text(v: &Value, col: &Column, path: &str) -> Result<String, GqlErr> {
    let scalar = col.scalar.as_str();
    let mismatch = |want: &str| {
        GqlErr::validation(
            path,
            format!("expected {want} for type '{scalar}', but found {}", kind(v)),
        )
    };
    match (scalar, v) {
        (_, Value::Null) => Err(GqlErr::validation(
            path,
            format!("unexpected null value for type '{scalar}'"),
        )),
        // Any JSON value, a string included, is stored as that JSON value.
        ("json" | "jsonb", other) => Ok(other.to_string()),
        ("String", Value::String(s)) => Ok(s.clone()),
        ("String", _) => Err(mismatch("a string")),
        ("Int" | "smallint", Value::Number(n)) if n.is_i64() => Ok(n.to_string()),
        ("Int" | "smallint", _) => Err(mismatch("an integer")),
        ("Boolean", Value::Bool(b)) => Ok(b.to_string()),
        ("Boolean", _) => Err(mismatch("a boolean")),
        ("Float", Value::Number(n)) => Ok(n.to_string()),
        ("Float", _) => Err(mismatch("a number")),
        // bigint/numeric/uuid/timestamps/...: Hasura's custom scalars take strings (and
        // numbers for the numeric ones); PostgreSQL's cast does the real parsing.
        (_, Value::String(s)) => Ok(s.clone()),
        (_, Value::Number(n)) => Ok(n.to_string()),
        (_, Value::Bool(b)) => Ok(b.to_string()),
        _ => Err(mismatch("a scalar")),
    }
}

/// Text form of a value stored in metadata (permission expressions, presets): no GraphQL
/// typing there, PostgreSQL's cast decides.
pub fn metadata_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Hasura's mapping of PostgreSQL errors during GraphQL execution.
pub fn pg_error(e: &tokio_postgres::Error) -> GqlErr {
    let Some(db) = e.as_db_error() else {
        return GqlErr::new("unexpected", "$", format!("database query error: {e}"));
    };
    let code = db.code().code();
    let msg = db.message();
    let constraint = |prefix: &str| {
        GqlErr::new(
            "constraint-violation",
            "$",
            format!("{prefix} violation. {msg}"),
        )
    };
    match code {
        "23505" => constraint("Uniqueness"),
        "23503" => constraint("Foreign key"),
        "23502" => constraint("Not-NULL"),
        "23514" => constraint("Check constraint"),
        "23P01" => constraint("Exclusion"),
        c if c.starts_with("23") => constraint("Integrity constraint"),
        c if c.starts_with("22") => GqlErr::new("data-exception", "$", msg),
        "42501" => GqlErr::new("permission-denied", "$", msg),
        _ => GqlErr::new("unexpected", "$", format!("database query error: {msg}")),
    }
}
