//! The SQL a `hasura_table` sends: CREATE and ALTER statements built from
//! the model, and the checks on what of the configuration is pasted into them.
use std::collections::{BTreeMap, HashSet};

use crate::framework::Value::Known;
use crate::framework::{AttrPath, Diagnostics, Invalid};

use super::super::client::catalog::{CatalogColumn, CatalogTable};
use super::super::ident::{check_default_expr, check_name, quote_ident, quote_literal, NulByte};
use super::readback::catalog_pk;
use super::{Column, Model};

/// A check of a string pasted into DDL: `Err` says why it is refused.
type StrRule = fn(&str) -> Result<(), Invalid>;

/// Words that may follow a type's name in PostgreSQL's type syntax
/// (`double precision`, `character varying`, `timestamp with time zone`,
/// `interval day to second`, `integer array`). Anything else after the name
/// would be a column constraint (`REFERENCES`, `DEFAULT`, `NOT NULL`,
/// `COLLATE`, `GENERATED`...), which is not a type and must not reach DDL.
const TYPE_WORDS: &[&str] = &[
    "array",
    "char",
    "character",
    "day",
    "hour",
    "minute",
    "month",
    "precision",
    "second",
    "time",
    "to",
    "varying",
    "with",
    "without",
    "year",
    "zone",
];

/// Column types are pasted into DDL: allow only a type, i.e. a name
/// (possibly schema-qualified), the words of the type syntax, one modifier
/// list `( ... )` of names and numbers, and array brackets.
pub(super) fn check_type(t: &str) -> Result<(), Invalid> {
    if t.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(c) = t.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '(' | ')' | ',' | '[' | ']' | '.'))
    }) {
        return Err(format!("contains {c:?}; a type name may only contain letters, digits, spaces, `_`, `.`, `,`, `(`, `)`, `[` and `]`").into());
    }
    let spaced = t
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace(',', " , ")
        .replace('[', " [ ")
        .replace(']', " ] ");
    let (mut in_parens, mut in_brackets, mut first) = (false, false, true);
    for tok in spaced.split_whitespace() {
        match tok {
            "(" if in_parens || in_brackets || first => return Err("has a `(` where a type has none".into()),
            "(" => in_parens = true,
            ")" if !in_parens => return Err("has an unbalanced `)`".into()),
            ")" => in_parens = false,
            "," if !in_parens => return Err("has a `,` outside a type's modifiers, e.g. `numeric(10, 2)`: one column has one type".into()),
            "," => {}
            "[" if in_parens || in_brackets || first => return Err("has a `[` where a type has none".into()),
            "[" => in_brackets = true,
            "]" if !in_brackets => return Err("has an unbalanced `]`".into()),
            "]" => in_brackets = false,
            w if in_brackets && !w.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(format!("has `{w}` in array brackets, where only a size goes, e.g. `integer[3]`").into())
            }
            w if first || in_parens || in_brackets || TYPE_WORDS.contains(&w.to_ascii_lowercase().as_str()) => {}
            w => return Err(format!("has `{w}` after the type's name, which is not part of a type (a constraint such as `NOT NULL`, `DEFAULT` or `REFERENCES` goes in its own attribute or resource)").into()),
        }
        first = false;
    }
    if in_parens {
        return Err("has an unbalanced `(`".into());
    }
    if in_brackets {
        return Err("has an unbalanced `[`".into());
    }
    Ok(())
}

/// The configured columns and primary key, checked where known: names,
/// types and defaults as they will be pasted into DDL, duplicates, and
/// primary-key columns that must exist and cannot be nullable.
pub(super) fn validate_columns(config: &Model, diags: &mut Diagnostics) {
    let mut names = HashSet::new();
    let cols = config.columns.known();
    if let Some(items) = cols {
        for (i, c) in items.iter().enumerate() {
            let p = AttrPath::attr("columns").index(i);
            if let Some(n) = c.name.as_deref() {
                if let Err(e) = check_name(n) {
                    diags.add_attr_error(
                        p.child("name"),
                        "Invalid column name",
                        format!("`columns[{i}].name` {e}."),
                    );
                }
                if !names.insert(n.to_string()) {
                    diags.add_attr_error(
                        p.child("name"),
                        "Duplicate column",
                        format!("Column {n:?} is listed twice in `columns`."),
                    );
                }
            }
            let checks: [(_, _, StrRule, _); 2] = [
                ("type", "Invalid column type", check_type, &c.ty),
                (
                    "default",
                    "Invalid default expression",
                    check_default_expr,
                    &c.default,
                ),
            ];
            for (attr, summary, check, v) in checks {
                if let Some(Err(e)) = v.as_deref().map(check) {
                    diags.add_attr_error(
                        p.child(attr),
                        summary,
                        format!("`columns[{i}].{attr}` {e}."),
                    );
                }
            }
        }
    }
    let all_known = cols.is_some_and(|items| items.iter().all(|c| c.name.as_deref().is_some()));
    for (i, k) in config.primary_key.elements().iter().enumerate() {
        let Some(k) = k.as_deref() else { continue };
        if all_known && !names.contains(k) {
            diags.add_attr_error(
                AttrPath::attr("primary_key").index(i),
                "Unknown primary-key column",
                format!("`primary_key` names {k:?}, which is not in `columns`."),
            );
        }
        for (j, c) in config.columns.elements().iter().enumerate() {
            if c.name.as_deref() == Some(k) && c.nullable == Known(true) {
                diags.add_attr_error(AttrPath::attr("columns").index(j).child("nullable"), "Nullable primary key", format!("Column {k:?} is in `primary_key`, so it cannot be nullable; remove `nullable = true`."));
            }
        }
    }
}

fn column_def(c: &Column, in_pk: bool) -> Result<String, Diagnostics> {
    let mut s = format!(
        "{} {}",
        quote_ident(c.name.str_or(""))
            .map_err(|e| Diagnostics::error("Invalid column name", e.to_string()))?,
        c.ty.str_or("")
    );
    if c.nullable == Known(false) && !in_pk {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = c.default.as_deref() {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if c.unique == Known(true) {
        s.push_str(" UNIQUE");
    }
    Ok(s)
}

fn pk_clause(pk: &[&str]) -> Result<String, Diagnostics> {
    let cols: Result<Vec<_>, _> = pk.iter().map(|c| quote_ident(c)).collect();
    Ok(format!(
        "PRIMARY KEY ({})",
        cols.map_err(|e| Diagnostics::error("Invalid primary key column", e.to_string()))?
            .join(", ")
    ))
}

fn comment_literal(comment: &str) -> Result<String, Diagnostics> {
    quote_literal(comment).map_err(|e| {
        Diagnostics::attr_error(AttrPath::attr("comment"), "Invalid comment", e.to_string())
    })
}

/// `CREATE TABLE` of `m` (qualified name `q`), and its comment if any.
pub(super) fn create_sql(q: &str, m: &Model) -> Result<String, Diagnostics> {
    let pk = m.pk();
    let mut defs = Vec::new();
    for c in m.columns() {
        defs.push(column_def(
            c,
            c.name.as_deref().is_some_and(|n| pk.contains(&n)),
        )?);
    }
    if !pk.is_empty() {
        defs.push(pk_clause(&pk)?);
    }
    let mut sql = format!("CREATE TABLE {q} ({});", defs.join(", "));
    if let Some(c) = m.comment.as_deref() {
        sql.push_str(&format!(
            "\nCOMMENT ON TABLE {q} IS {};",
            comment_literal(c)?
        ));
    }
    Ok(sql)
}

fn by_name(columns: &[Column]) -> BTreeMap<&str, &Column> {
    columns
        .iter()
        .filter_map(|c| Some((c.name.as_deref()?, c)))
        .collect()
}

/// What turns the table `cat` (which `old` described) into `new`.
pub(super) fn alter_statements(
    q: &str,
    old: &Model,
    new: &Model,
    cat: &CatalogTable,
) -> Result<Vec<String>, Diagnostics> {
    let err = |e: NulByte| Diagnostics::error("Invalid identifier", e.to_string());
    let mut out = Vec::new();
    let old_cols = by_name(old.columns());
    let new_cols = by_name(new.columns());
    let cat_cols: BTreeMap<&str, &CatalogColumn> =
        cat.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let new_pk = new.pk();
    let pk_changed = old.pk() != new_pk || catalog_pk(cat) != new_pk;
    if pk_changed {
        if let Some(p) = &cat.primary_key {
            out.push(format!(
                "ALTER TABLE {q} DROP CONSTRAINT {}",
                quote_ident(&p.name).map_err(err)?
            ));
        }
    }
    for (n, c) in &new_cols {
        if let (Some(o), Some(cc)) = (old_cols.get(n), cat_cols.get(n)) {
            if o.unique == Known(true) && c.unique != Known(true) {
                if let Some(con) = &cc.unique {
                    out.push(format!(
                        "ALTER TABLE {q} DROP CONSTRAINT {}",
                        quote_ident(con).map_err(err)?
                    ));
                }
            }
        }
    }
    for n in old_cols.keys().filter(|n| !new_cols.contains_key(*n)) {
        if cat_cols.contains_key(n) {
            out.push(format!(
                "ALTER TABLE {q} DROP COLUMN {}",
                quote_ident(n).map_err(err)?
            ));
        }
    }
    // Columns present in the table but unknown to the prior state (added out of band) are dropped too.
    for n in cat_cols
        .keys()
        .filter(|n| !new_cols.contains_key(*n) && !old_cols.contains_key(*n))
    {
        out.push(format!(
            "ALTER TABLE {q} DROP COLUMN {}",
            quote_ident(n).map_err(err)?
        ));
    }
    for c in new.columns() {
        let n = c.name.str_or("");
        let qc = quote_ident(n).map_err(err)?;
        let in_pk = new_pk.contains(&n);
        let Some(o) = old_cols.get(n).filter(|_| cat_cols.contains_key(n)) else {
            out.push(format!(
                "ALTER TABLE {q} ADD COLUMN {}",
                column_def(c, in_pk)?
            ));
            continue;
        };
        let ty = c.ty.str_or("");
        if o.ty.as_deref() != Some(ty) {
            out.push(format!(
                "ALTER TABLE {q} ALTER COLUMN {qc} TYPE {ty} USING {qc}::{ty}"
            ));
        }
        if o.default != c.default {
            match c.default.as_deref() {
                Some(d) => out.push(format!("ALTER TABLE {q} ALTER COLUMN {qc} SET DEFAULT {d}")),
                None => out.push(format!("ALTER TABLE {q} ALTER COLUMN {qc} DROP DEFAULT")),
            }
        }
        if o.nullable != c.nullable && !in_pk {
            let verb = if c.nullable == Known(false) {
                "SET"
            } else {
                "DROP"
            };
            out.push(format!("ALTER TABLE {q} ALTER COLUMN {qc} {verb} NOT NULL"));
        }
        if o.unique != Known(true) && c.unique == Known(true) {
            out.push(format!("ALTER TABLE {q} ADD UNIQUE ({qc})"));
        }
    }
    if pk_changed && !new_pk.is_empty() {
        out.push(format!("ALTER TABLE {q} ADD {}", pk_clause(&new_pk)?));
    }
    if old.comment != new.comment {
        let lit = match new.comment.as_deref() {
            Some(c) => comment_literal(c)?,
            None => "NULL".into(),
        };
        out.push(format!("COMMENT ON TABLE {q} IS {lit}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::col;
    use super::*;
    use crate::framework::assert_checks;
    use crate::hasura::client::catalog::CatalogPk;

    #[test]
    fn types_are_checked() {
        assert_checks(
            check_type,
            &[
                "varchar(20)",
                "timestamp with time zone",
                "integer[]",
                "integer[][]",
                "int[3]",
                "numeric(10, 2)",
                "timestamp(3) with time zone",
                "time(6) without time zone",
                "double precision",
                "character varying(20)",
                "bit varying(5)",
                "interval day to second",
                "public.mood",
                "geometry(Point, 4326)",
                "integer ARRAY",
            ],
            &[
                "text; drop table x",
                "text\"",
                "numeric(1",
                "text -- x",
                "integer REFERENCES other(id) ON DELETE CASCADE",
                "int DEFAULT pg_backend_pid()",
                "int, extra int",
                "text COLLATE C",
                "text NOT NULL",
                "int UNIQUE",
                "int GENERATED ALWAYS AS IDENTITY",
                "numeric(10, (2))",
                "int[x]",
                "(int)",
                "int)",
                "int]",
            ],
        );
    }

    #[test]
    fn alter_plan() {
        let text = |n: &str, not_null: bool| CatalogColumn {
            name: n.into(),
            ty: "text".into(),
            not_null,
            default: None,
            unique: None,
        };
        let cat = CatalogTable {
            comment: None,
            columns: vec![text("id", true), text("old", false), text("sneaky", false)],
            primary_key: Some(CatalogPk {
                name: "t_pkey".into(),
                columns: vec!["id".into()],
            }),
        };
        let old = Model {
            columns: Known(vec![col("id", "text"), col("old", "text")]),
            primary_key: Known(vec!["id".into()]),
            ..Default::default()
        };
        let mut n = col("n", "int");
        n.default = "0".into();
        n.nullable = Known(false);
        let new = Model {
            columns: Known(vec![col("id", "text"), n]),
            primary_key: Known(vec!["id".into()]),
            comment: "it's".into(),
            ..Default::default()
        };
        let s = alter_statements("\"public\".\"t\"", &old, &new, &cat).unwrap();
        assert_eq!(
            s,
            [
                "ALTER TABLE \"public\".\"t\" DROP COLUMN \"old\"",
                "ALTER TABLE \"public\".\"t\" DROP COLUMN \"sneaky\"",
                "ALTER TABLE \"public\".\"t\" ADD COLUMN \"n\" int NOT NULL DEFAULT 0",
                "COMMENT ON TABLE \"public\".\"t\" IS 'it''s'",
            ]
        );
    }
}
