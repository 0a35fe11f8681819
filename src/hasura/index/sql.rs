//! What a `hasura_index` pastes into SQL and the checks before it:
//! identifiers always quoted, the method from a fixed list, and the two
//! places where SQL text is the point (`expressions`, `where`) checked to be
//! single expressions.

use crate::framework::Value::Known;
use crate::framework::{AttrPath, Diagnostics, Invalid, Value};

use super::super::client::constraints::CatalogIndex;
use super::super::ident::{
    check_default_expr, check_name, exactly_one, qualified, quote_ident, ListRule,
};
use super::super::table::keyed::TableKeyed;
use super::Model;

pub(super) const METHODS: &[&str] = &["btree", "hash", "gist", "gin", "spgist", "brin"];

/// An index expression or predicate is pasted into DDL: one expression, no
/// `;`, no comments, balanced parentheses outside quotes.
pub(super) fn check_expr(s: &str) -> Result<(), Invalid> {
    check_default_expr(s).map_err(|e| {
        Invalid(
            e.0.replace("leave `default` unset for no default", "leave it out")
                .replace("in defaults", "here")
                .replace("a default must be", "this must be"),
        )
    })
}

fn strings(v: &Value<Vec<Value<String>>>) -> Option<Vec<&str>> {
    v.known()?.iter().map(Value::as_deref).collect()
}

/// Keys (`columns` xor `expressions`), their texts, the method and `unique`.
pub(super) fn validate_keys(config: &Model, diags: &mut Diagnostics) {
    let keys = [
        ("columns", !config.columns.is_null()),
        ("expressions", !config.expressions.is_null()),
    ];
    exactly_one(
        diags,
        keys,
        ("Missing index keys", "Set `columns` (column names) or `expressions` (SQL expressions such as `lower(email)`)."),
        ("Conflicting index keys", "Set either `columns` or `expressions`, not both (a plain column can be written as an expression)."),
    );
    let rule = |check, invalid, unique| ListRule {
        empty: ("No index keys", "hold at least one element"),
        check,
        invalid,
        unique,
    };
    rule(check_name, "Invalid column name", true).apply("columns", &config.columns, diags);
    let expressions = rule(check_expr, "Invalid index expression", false);
    expressions.apply("expressions", &config.expressions, diags);
    if let Some(Err(e)) = config.predicate.as_deref().map(check_expr) {
        diags.add_attr_error(
            AttrPath::attr("where"),
            "Invalid index predicate",
            format!("`where` {e}."),
        );
    }
    // PostgreSQL: "access method \"hash\" does not support unique indexes"
    // (only btree has `amcanunique` among the built-in methods).
    if config.unique == Known(true) && config.method.as_deref().is_some_and(|m| m != "btree") {
        diags.add_attr_error(
            AttrPath::attr("unique"),
            "Unique index needs btree",
            format!(
                "PostgreSQL builds unique indexes only with `btree`; `method` is {:?}.",
                config.method.str_or("")
            ),
        );
    }
}

fn ident_err(e: impl std::fmt::Display) -> Diagnostics {
    Diagnostics::error("Invalid identifier", e.to_string())
}

/// `"schema"."name"` of the index.
pub(super) fn index_sql(m: &Model) -> Result<String, Diagnostics> {
    qualified(m.schema(), m.name.str_or("")).map_err(ident_err)
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] "name" ON "schema"."table" USING method (keys) [WHERE ..]`.
pub(super) fn create_sql(m: &Model) -> Result<String, Diagnostics> {
    let keys = match (strings(&m.columns), strings(&m.expressions)) {
        (Some(cols), _) => {
            let q: Result<Vec<_>, _> = cols.iter().map(|c| quote_ident(c)).collect();
            q.map_err(ident_err)?
        }
        (None, Some(exprs)) => exprs.iter().map(|e| format!("({e})")).collect(),
        (None, None) => {
            return Err(Diagnostics::error(
                "Missing index keys",
                "Set `columns` or `expressions`.",
            ))
        }
    };
    let method = m.method.str_or("btree");
    if !METHODS.contains(&method) {
        return Err(Diagnostics::attr_error(
            AttrPath::attr("method"),
            "Invalid index method",
            format!("{method:?} is not one of {}.", METHODS.join(", ")),
        ));
    }
    let mut sql = format!(
        "CREATE {}INDEX {}{} ON {} USING {method} ({})",
        if m.unique == Known(true) {
            "UNIQUE "
        } else {
            ""
        },
        if m.concurrent() { "CONCURRENTLY " } else { "" },
        quote_ident(m.name.str_or("")).map_err(ident_err)?,
        qualified(m.schema(), m.table.str_or("")).map_err(ident_err)?,
        keys.join(", ")
    );
    if let Some(p) = m.predicate.as_deref() {
        sql.push_str(&format!(" WHERE ({p})"));
    }
    Ok(sql)
}

/// Whether `idx` is the index `m` plans, as far as it can be told without
/// PostgreSQL's rendering of `m`'s expressions: table, uniqueness, method,
/// the key count and plain-column keys, and whether there is a predicate.
pub(super) fn has_planned_shape(idx: &CatalogIndex, m: &Model) -> bool {
    let keys_match = match (strings(&m.columns), strings(&m.expressions)) {
        (Some(cols), _) => {
            idx.keys.len() == cols.len()
                && idx
                    .keys
                    .iter()
                    .zip(&cols)
                    .all(|(k, c)| k.column.as_deref() == Some(*c))
        }
        (None, Some(exprs)) => idx.keys.len() == exprs.len(),
        _ => false,
    };
    keys_match
        && idx.table == m.table.str_or("")
        && idx.unique == (m.unique == Known(true))
        && idx.method == m.method.str_or("btree")
        && idx.predicate.is_some() == m.predicate.is_known()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn sql_quotes_identifiers_and_wraps_expressions() {
        let m = Model {
            expressions: Known(vec![Known("lower(email)".into())]),
            unique: Known(true),
            method: Known("btree".into()),
            predicate: Known("deleted_at IS NULL".into()),
            concurrently: Known(true),
            ..Model::keyed(
                "default".into(),
                "public".into(),
                "users".into(),
                "a\"b".into(),
            )
        };
        assert_eq!(
            create_sql(&m).unwrap(),
            r#"CREATE UNIQUE INDEX CONCURRENTLY "a""b" ON "public"."users" USING btree ((lower(email))) WHERE (deleted_at IS NULL)"#
        );
        let mut c = m.clone();
        c.expressions = Value::Null;
        c.columns = Known(vec![Known("x\"y".into())]);
        c.predicate = Value::Null;
        c.concurrently = Known(false);
        c.unique = Known(false);
        assert_eq!(
            create_sql(&c).unwrap(),
            r#"CREATE INDEX "a""b" ON "public"."users" USING btree ("x""y")"#
        );
        c.method = Known("btree; drop table x".into());
        assert!(create_sql(&c).is_err());
    }

    #[test]
    fn expressions_are_single_expressions() {
        assert_checks(
            check_expr,
            &["lower(email)", "(data->>'k')"],
            &["1); drop table x; --", "a /* c */", ""],
        );
    }
}
