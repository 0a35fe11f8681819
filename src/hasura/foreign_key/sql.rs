//! What a `hasura_foreign_key` pastes into SQL, and the checks before it:
//! identifiers (always quoted), the referential actions (from a fixed list)
//! and PostgreSQL's default constraint name.

use crate::framework::{AttrPath, Diagnostics, Value};

use super::super::client::constraints::CatalogForeignKey;
use super::super::ident::{check_name, qualified, quote_ident, ListRule, MAX_IDENT_BYTES};
use super::Model;

/// The actions in the schema's spelling, with `pg_constraint`'s letter.
pub(super) const ACTIONS: &[(&str, &str)] = &[
    ("no action", "a"),
    ("restrict", "r"),
    ("cascade", "c"),
    ("set null", "n"),
    ("set default", "d"),
];

pub(super) const ACTION_NAMES: &[&str] = &[
    "no action",
    "restrict",
    "cascade",
    "set null",
    "set default",
];

/// The schema's spelling of a `confdeltype`/`confupdtype` letter.
pub(super) fn action_name(letter: &str) -> String {
    ACTIONS
        .iter()
        .find(|(_, l)| *l == letter)
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| format!("unknown ({letter})"))
}

/// The SQL of an action: only ever one of [`ACTIONS`], so nothing of the
/// user's text reaches SQL.
fn action_sql(v: &Value<String>) -> Result<&'static str, Diagnostics> {
    let s = v.str_or("no action");
    Ok(match s {
        "no action" => "NO ACTION",
        "restrict" => "RESTRICT",
        "cascade" => "CASCADE",
        "set null" => "SET NULL",
        "set default" => "SET DEFAULT",
        _ => {
            return Err(Diagnostics::error(
                "Invalid referential action",
                format!("{s:?} is not one of no action, restrict, cascade, set null, set default."),
            ))
        }
    })
}

/// PostgreSQL's name for an unnamed foreign key: `ChooseConstraintName(relname,
/// ChooseForeignKeyConstraintNameAddition(columns), "fkey")`, i.e.
/// `makeObjectName` (`src/backend/commands/indexcmds.c`): the table name and
/// the `_`-joined columns, the longer of the two shortened until the whole
/// fits in 63 bytes, cut on a character boundary.
pub fn default_name(table: &str, columns: &[&str]) -> String {
    let label = "fkey";
    let mut addition = String::new();
    for c in columns {
        if !addition.is_empty() {
            addition.push('_');
        }
        addition.push_str(c);
        if addition.len() > MAX_IDENT_BYTES {
            break;
        }
    }
    let overhead = label.len() + 1 + usize::from(!addition.is_empty());
    let avail = MAX_IDENT_BYTES - overhead;
    let (mut n1, mut n2) = (table.len(), addition.len());
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let clip = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    let mut out = clip(table, n1);
    if !addition.is_empty() {
        out.push('_');
        out.push_str(&clip(&addition, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

fn known_names(v: &Value<Vec<Value<String>>>) -> Option<Vec<&str>> {
    v.known()?.iter().map(Value::as_deref).collect()
}

/// Column lists: not empty, valid names, no repeats, and as many on each side.
pub(super) fn validate_columns(config: &Model, diags: &mut Diagnostics) {
    let rule = ListRule {
        empty: ("No columns", "name at least one column"),
        check: check_name,
        invalid: "Invalid column name",
        unique: true,
    };
    rule.apply("columns", &config.columns, diags);
    rule.apply("references_columns", &config.references_columns, diags);
    if let (Some(a), Some(b)) = (config.columns.known(), config.references_columns.known()) {
        if a.len() != b.len() && !a.is_empty() && !b.is_empty() {
            diags.add_attr_error(
                AttrPath::attr("references_columns"),
                "Column count mismatch",
                format!(
                    "`columns` lists {} column(s) but `references_columns` lists {}: each local column pairs with the referenced column at the same position.",
                    a.len(),
                    b.len()
                ),
            );
        }
    }
}

fn quoted_list(cols: &[&str]) -> Result<String, Diagnostics> {
    let q: Result<Vec<_>, _> = cols.iter().map(|c| quote_ident(c)).collect();
    q.map(|v| v.join(", "))
        .map_err(|e| Diagnostics::error("Invalid column name", e.to_string()))
}

fn ident_err(e: impl std::fmt::Display) -> Diagnostics {
    Diagnostics::error("Invalid identifier", e.to_string())
}

/// `"schema"."table"` of the constrained table.
pub(super) fn table_sql(m: &Model) -> Result<String, Diagnostics> {
    qualified(m.schema.str_or("public"), m.table.str_or("")).map_err(ident_err)
}

/// `ALTER TABLE .. ADD CONSTRAINT "name" FOREIGN KEY (..) REFERENCES .. (..) ON DELETE .. ON UPDATE ..`.
pub(super) fn add_sql(m: &Model) -> Result<String, Diagnostics> {
    let cols = known_names(&m.columns).unwrap_or_default();
    let refs = known_names(&m.references_columns).unwrap_or_default();
    let target = qualified(
        m.references_schema.str_or(m.schema.str_or("public")),
        m.references_table.str_or(""),
    )
    .map_err(ident_err)?;
    Ok(format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {target} ({}) ON DELETE {} ON UPDATE {}",
        table_sql(m)?,
        quote_ident(m.name.str_or("")).map_err(ident_err)?,
        quoted_list(&cols)?,
        quoted_list(&refs)?,
        action_sql(&m.on_delete)?,
        action_sql(&m.on_update)?,
    ))
}

/// `ALTER TABLE IF EXISTS .. DROP CONSTRAINT IF EXISTS "name"`: dropping what is gone is fine.
pub(super) fn drop_sql(m: &Model) -> Result<String, Diagnostics> {
    Ok(format!(
        "ALTER TABLE IF EXISTS {} DROP CONSTRAINT IF EXISTS {}",
        table_sql(m)?,
        quote_ident(m.name.str_or("")).map_err(ident_err)?
    ))
}

/// What turns `old`'s constraint into `new`'s, as one `run_sql` (one
/// transaction): a rename alone is `RENAME CONSTRAINT`; PostgreSQL has no
/// ALTER for the actions, so a changed action drops and re-adds the
/// constraint, atomically.
pub(super) fn update_sql(old: &Model, new: &Model) -> Result<String, Diagnostics> {
    if old.on_delete == new.on_delete && old.on_update == new.on_update {
        return Ok(format!(
            "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
            table_sql(new)?,
            quote_ident(old.name.str_or("")).map_err(ident_err)?,
            quote_ident(new.name.str_or("")).map_err(ident_err)?
        ));
    }
    Ok(format!(
        "ALTER TABLE {} DROP CONSTRAINT {};\n{};",
        table_sql(old)?,
        quote_ident(old.name.str_or("")).map_err(ident_err)?,
        add_sql(new)?
    ))
}

/// Whether the catalog shows exactly the constraint `m` describes.
pub(super) fn matches(cat: &CatalogForeignKey, m: &Model) -> bool {
    fn strs(v: &Value<Vec<Value<String>>>) -> Vec<&str> {
        known_names(v).unwrap_or_default()
    }
    cat.table == m.table.str_or("")
        && cat.columns == strs(&m.columns)
        && cat.references_schema == m.references_schema.str_or(m.schema.str_or("public"))
        && cat.references_table == m.references_table.str_or("")
        && cat.references_columns == strs(&m.references_columns)
        && action_name(&cat.on_delete) == m.on_delete.str_or("no action")
        && action_name(&cat.on_update) == m.on_update.str_or("no action")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Value::Known;

    #[test]
    fn default_names_follow_postgres() {
        assert_eq!(default_name("orders", &["user_id"]), "orders_user_id_fkey");
        assert_eq!(default_name("t", &["a", "b"]), "t_a_b_fkey");
        let long = default_name(&"t".repeat(40), &[&"c".repeat(40)]);
        assert_eq!(long.len(), 63);
        assert_eq!(long, format!("{}_{}_fkey", "t".repeat(29), "c".repeat(28)));
        let uni = default_name(&"é".repeat(40), &["x"]);
        assert!(uni.len() <= 63 && uni.ends_with("_x_fkey"));
    }

    #[test]
    fn sql_quotes_every_identifier() {
        let m = Model {
            columns: Known(vec![Known("c\"; drop".into())]),
            references_table: Known("r".into()),
            references_columns: Known(vec![Known("id".into())]),
            on_delete: Known("cascade".into()),
            on_update: Known("no action".into()),
            ..Model::keyed("default".into(), "public".into(), "a\"b".into(), "n".into())
        };
        assert_eq!(
            add_sql(&m).unwrap(),
            r#"ALTER TABLE "public"."a""b" ADD CONSTRAINT "n" FOREIGN KEY ("c""; drop") REFERENCES "public"."r" ("id") ON DELETE CASCADE ON UPDATE NO ACTION"#
        );
        let mut bad = m.clone();
        bad.on_delete = Known("cascade; drop table x".into());
        assert!(add_sql(&bad).is_err());
        let mut renamed = m.clone();
        renamed.name = Known("n2".into());
        assert_eq!(
            update_sql(&m, &renamed).unwrap(),
            r#"ALTER TABLE "public"."a""b" RENAME CONSTRAINT "n" TO "n2""#
        );
        renamed.on_delete = Known("restrict".into());
        let s = update_sql(&m, &renamed).unwrap();
        assert!(
            s.starts_with(r#"ALTER TABLE "public"."a""b" DROP CONSTRAINT "n";"#),
            "{s}"
        );
        assert!(s.contains(r#"ADD CONSTRAINT "n2""#) && s.contains("ON DELETE RESTRICT"));
    }
}
