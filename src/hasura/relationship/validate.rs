//! Configuration checks of a relationship, each pointed at its attribute: names,
//! exactly one join, and a join whose shape fits the type.
use crate::framework::{AttrPath, Diagnostics, Invalid, Value};

use super::super::ident::{check_graphql_name, check_name, check_name_attrs, exactly_one};
use super::super::table::keyed::TableKeyed;
use super::Model;

fn name_error(diags: &mut Diagnostics, path: AttrPath, what: &str, v: &str) {
    if let Err(e) = check_name(v) {
        diags.add_attr_error(path, "Invalid name", format!("{what} {e}."));
    }
}

/// A GraphQL name (it becomes a field of the table's type) that
/// introspection does not own.
pub(super) fn check_relationship_name(s: &str) -> Result<(), Invalid> {
    check_graphql_name(s)?;
    if s.starts_with("__") {
        return Err(format!(
            "is {s:?}; names starting with `__` are reserved for GraphQL introspection"
        )
        .into());
    }
    Ok(())
}

impl Model {
    pub(super) fn check(&self, diags: &mut Diagnostics) {
        self.check_table_names(diags);
        let fk = &self.foreign_key_constraint_on;
        let manual = &self.manual_configuration;
        exactly_one(
            diags,
            [("foreign_key_constraint_on", !fk.is_null()), ("manual_configuration", !manual.is_null())],
            ("Missing join", "Set exactly one of `foreign_key_constraint_on` (a foreign key's columns) and `manual_configuration` (a column mapping)."),
            ("Conflicting joins", "`foreign_key_constraint_on` and `manual_configuration` are both set; set exactly one."),
        );
        let needs_remote = self.kind.as_deref() == Some("array") || !manual.is_null();
        if needs_remote && self.remote_table.is_null() {
            let why = if manual.is_null() {
                "An `array` relationship follows a foreign key of the remote table that references this table: set `remote_table` (and `foreign_key_constraint_on` to the remote table's referencing columns)."
            } else {
                "`manual_configuration` maps this table's columns to `remote_table`'s: set `remote_table`."
            };
            diags.add_attr_error(AttrPath::attr("remote_table"), "Missing remote table", why);
        }
        if self.remote_table.is_null() && !self.remote_schema.is_null() {
            diags.add_attr_error(
                AttrPath::attr("remote_schema"),
                "Schema without table",
                "`remote_schema` is the schema of `remote_table`, which is not set.",
            );
        }
        let remote = [
            ("remote_table", &self.remote_table),
            ("remote_schema", &self.remote_schema),
        ];
        check_name_attrs(diags, remote);
        self.check_columns(diags, AttrPath::attr("foreign_key_constraint_on"), fk);
        if let Some(map) = manual.known() {
            let at = AttrPath::attr("manual_configuration");
            if map.is_empty() {
                diags.add_attr_error(
                    at.clone(),
                    "Empty column mapping",
                    "`manual_configuration` needs at least one `local_column = \"remote_column\"` pair.",
                );
            }
            // At the attribute, not the key: Terraform quotes the attribute's line.
            for (l, r) in map {
                name_error(
                    diags,
                    at.clone(),
                    &format!("The `manual_configuration` key {l:?}"),
                    l,
                );
                if let Value::Known(r) = r {
                    name_error(
                        diags,
                        at.clone(),
                        &format!("The `manual_configuration` value for {l:?}"),
                        r,
                    );
                }
            }
        }
    }

    fn check_columns(&self, diags: &mut Diagnostics, path: AttrPath, cols: &super::Names) {
        let Some(list) = cols.known() else { return };
        if list.is_empty() {
            diags.add_attr_error(
                path.clone(),
                "No foreign-key columns",
                "`foreign_key_constraint_on` needs the foreign key's column(s).",
            );
        }
        let mut seen = Vec::new();
        for (i, c) in list.iter().enumerate() {
            let Some(c) = c.as_deref() else { continue };
            name_error(diags, path.index(i), &format!("`columns[{i}]`"), c);
            if seen.contains(&c) {
                diags.add_attr_error(
                    path.index(i),
                    "Duplicate column",
                    format!("`columns[{i}]` repeats {c:?}."),
                );
            }
            seen.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::framework::Known;

    fn errors(m: &Model) -> Vec<(String, String)> {
        let mut d = Diagnostics::new();
        m.check(&mut d);
        d.0.into_iter()
            .map(|d| (d.path.map(|p| p.to_string()).unwrap_or_default(), d.summary))
            .collect()
    }

    #[test]
    fn checks_point_at_the_attribute() {
        let mut m = Model {
            table: "posts".into(),
            name: "bad-name".into(),
            kind: "array".into(),
            foreign_key_constraint_on: Known(vec!["a".into(), "a".into()]),
            manual_configuration: Known(BTreeMap::new()),
            remote_schema: "public".into(),
            ..Default::default()
        };
        assert_eq!(
            errors(&m),
            [
                ("manual_configuration", "Conflicting joins"),
                ("remote_table", "Missing remote table"),
                ("remote_schema", "Schema without table"),
                ("foreign_key_constraint_on[1]", "Duplicate column"),
                ("manual_configuration", "Empty column mapping"),
            ]
            .map(|(a, s)| (a.to_string(), s.to_string()))
        );
        m.name = "author".into();
        m.kind = "object".into();
        m.remote_schema = Value::Null;
        m.manual_configuration = Value::Null;
        m.foreign_key_constraint_on = Value::Null;
        assert_eq!(
            errors(&m),
            [(
                "foreign_key_constraint_on".to_string(),
                "Missing join".to_string()
            )]
        );
        m.foreign_key_constraint_on = Known(vec!["author_id".into()]);
        assert!(errors(&m).is_empty());
    }

    #[test]
    fn relationship_names() {
        crate::framework::assert_checks(
            check_relationship_name,
            &["author", "_a1", "Posts"],
            &["bad-name", "", "1st", "__typename", "a b"],
        );
    }
}
