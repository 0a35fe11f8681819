//! A relationship's `using` as Hasura takes it in `pg_create_<type>_relationship` and
//! gives it back in `export_metadata` (graphql-engine
//! `server/src-lib/Hasura/RQL/Types/Relationships/Local.hs`: `ObjRelUsingChoice` is a
//! column, a list of columns, or `{table, column|columns}`; `ArrRelUsingFKeyOn` is
//! `{table, column|columns}`; `RelManualTableConfig` is `{remote_table, column_mapping,
//! insertion_order}`). Compared in this parsed form, so the spellings Hasura accepts
//! (a bare table name, one column as a string or a one-element list) never diff.
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value as J};

/// A table as `{schema, name}`; a bare name is in `public` (graphql-engine's
/// `QualifiedObject`, also the `_table` of an `_exists` boolean expression).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(from = "TableName")]
pub(crate) struct Table {
    pub schema: String,
    pub name: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TableName {
    Bare(String),
    Qualified {
        #[serde(default)]
        schema: Option<String>,
        name: String,
    },
}

impl From<TableName> for Table {
    fn from(t: TableName) -> Table {
        let (schema, name) = match t {
            TableName::Bare(name) => (None, name),
            TableName::Qualified { schema, name } => (schema, name),
        };
        Table {
            schema: schema.unwrap_or_else(|| "public".into()),
            name,
        }
    }
}

impl Table {
    fn to_json(&self) -> J {
        json!({"schema": self.schema, "name": self.name})
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Using {
    /// Object relationship on this table's own foreign-key column(s).
    SameTable(Vec<String>),
    /// The remote table's foreign-key column(s) referencing this table.
    RemoteTable(Table, Vec<String>),
    /// `remote_table` and `column_mapping` (this table's column -> the remote one).
    Manual(Table, BTreeMap<String, String>),
}

/// One column or a non-empty list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    fn list(self) -> Option<Vec<String>> {
        match self {
            Columns::One(c) => Some(vec![c]),
            Columns::Many(cs) => (!cs.is_empty()).then_some(cs),
        }
    }
}

/// `using` as written: exactly one of the two keys.
#[derive(Deserialize)]
struct RawUsing {
    foreign_key_constraint_on: Option<FkOn>,
    manual_configuration: Option<Manual>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FkOn {
    Remote {
        table: Table,
        column: Option<Columns>,
        columns: Option<Columns>,
    },
    Same(Columns),
}

#[derive(Deserialize)]
struct Manual {
    remote_table: Table,
    column_mapping: BTreeMap<String, String>,
}

fn one_or_many(key: &str, cols: &[String]) -> (String, J) {
    match cols {
        [one] => (key.to_string(), json!(one)),
        many => (format!("{key}s"), json!(many)),
    }
}

impl Using {
    /// A `using` object as exported (or as written in a command); `None` when it is in
    /// no form Hasura accepts.
    pub fn parse(object: bool, v: &J) -> Option<Using> {
        let raw = RawUsing::deserialize(v).ok()?;
        match (raw.foreign_key_constraint_on, raw.manual_configuration) {
            (
                Some(FkOn::Remote {
                    table,
                    column,
                    columns,
                }),
                None,
            ) => {
                let cols = match (column, columns) {
                    (Some(c), None) | (None, Some(c)) => c.list()?,
                    _ => return None,
                };
                Some(Using::RemoteTable(table, cols))
            }
            (Some(FkOn::Same(cols)), None) if object => Some(Using::SameTable(cols.list()?)),
            (None, Some(m)) => Some(Using::Manual(m.remote_table, m.column_mapping)),
            _ => None,
        }
    }

    /// The `using` argument of a create command.
    pub fn to_json(&self) -> J {
        match self {
            Using::SameTable(cols) => {
                let v = match cols.as_slice() {
                    [one] => json!(one),
                    many => json!(many),
                };
                json!({ "foreign_key_constraint_on": v })
            }
            Using::RemoteTable(t, cols) => {
                let (k, v) = one_or_many("column", cols);
                let mut fk = Map::new();
                fk.insert("table".into(), t.to_json());
                fk.insert(k, v);
                json!({ "foreign_key_constraint_on": J::Object(fk) })
            }
            Using::Manual(t, mapping) => json!({"manual_configuration": {
                "remote_table": t.to_json(),
                "column_mapping": mapping,
            }}),
        }
    }

    /// The table the relationship leads to, when its definition names it (a
    /// relationship on this table's own foreign key leads where the key points).
    pub fn remote(&self) -> Option<&Table> {
        match self {
            Using::SameTable(_) => None,
            Using::RemoteTable(t, _) | Using::Manual(t, _) => Some(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_hasura_accepts_parse_alike() {
        let a = Using::parse(true, &json!({"foreign_key_constraint_on": "author_id"})).unwrap();
        let b = Using::parse(true, &json!({"foreign_key_constraint_on": ["author_id"]})).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.to_json(),
            json!({"foreign_key_constraint_on": "author_id"})
        );
        // An array relationship has no same-table form.
        assert!(Using::parse(false, &json!({"foreign_key_constraint_on": "author_id"})).is_none());
        let r = Using::parse(
            false,
            &json!({"foreign_key_constraint_on": {"table": "posts", "columns": ["author_id"]}}),
        )
        .unwrap();
        assert_eq!(
            r,
            Using::parse(
                false,
                &json!({"foreign_key_constraint_on": {"column": "author_id", "table": {"name": "posts", "schema": "public"}}})
            )
            .unwrap()
        );
        let m = Using::parse(
            true,
            &json!({"manual_configuration": {"remote_table": {"name": "users", "schema": "public"}, "column_mapping": {"author_id": "id"}, "insertion_order": null}}),
        )
        .unwrap();
        assert_eq!(m.remote().unwrap().name, "users");
        assert_eq!(Using::parse(true, &m.to_json()), Some(m));
        assert!(Using::parse(true, &json!({})).is_none());
    }
}
