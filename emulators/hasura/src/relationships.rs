//! Local (table to table) relationships: parsed as graphql-engine parses them, stored in
//! the table's `object_relationships` / `array_relationships` in the exported shape, and
//! resolved against the database's foreign keys the way its schema cache builds them.
//!
//! Sources (hasura/graphql-engine):
//! - shape: `server/src-lib/Hasura/RQL/Types/Relationships/Local.hs` (`RelDef`,
//!   `RelUsing`, `ObjRelUsingChoice`, `ArrRelUsingFKeyOn`, `RelManualTableConfig` whose
//!   `insertion_order` is `optionalFieldOrIncludedNull'`, so it is exported as `null`);
//! - export: `Hasura/RQL/Types/Metadata/Serialization.hs` (`relDefToOrdJSON`: `name`,
//!   `using`, then `comment` when set; lists sorted by name, omitted when empty);
//! - resolution: `Hasura/RQL/DDL/Relationship.hs` (`defaultBuildObjectRelationshipInfo`,
//!   `defaultBuildArrayRelationshipInfo`, `mkFkeyRel`, `getRequiredFkey`: exactly one
//!   foreign key whose column set is the given one, "no foreign constraint exists on the
//!   given column(s)" / "more than one foreign key constraint exists on the given
//!   column(s)");
//! - dependencies: `Hasura/RQL/DDL/Schema/Cache/Dependencies.hs` (`resolveDependency`:
//!   "table \"t\" is not tracked", "table \"t\" has no field named \"c\"").

mod commands;
pub mod paths;

use serde_json::{json, Map, Value};
use tokio_postgres::GenericClient;

use crate::errors::QErr;
use crate::metadata::{Catalog, Inconsistency, ObjId, QualifiedTable, Source, TableMeta};
use crate::permissions::canonical;

pub use commands::{exec, handles};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelKind {
    Object,
    Array,
}

impl RelKind {
    pub const ALL: [RelKind; 2] = [RelKind::Object, RelKind::Array];

    pub fn list_key(self) -> &'static str {
        match self {
            RelKind::Object => "object_relationships",
            RelKind::Array => "array_relationships",
        }
    }

    /// `MTORel`'s metadata object type (`moiTypeName`).
    fn object_type(self) -> &'static str {
        match self {
            RelKind::Object => "object_relation",
            RelKind::Array => "array_relation",
        }
    }
}

/// A foreign key of the database: `columns[i]` references `ref_columns[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    pub table: QualifiedTable,
    pub name: String,
    pub ref_table: QualifiedTable,
    pub columns: Vec<String>,
    pub ref_columns: Vec<String>,
}

/// Every foreign key of the user's schemas (graphql-engine reads them with each
/// schema cache build: `fetchTableMetadata`).
pub async fn load_foreign_keys(db: &impl GenericClient) -> Result<Vec<ForeignKey>, QErr> {
    let rows = db
        .query(
            "SELECT n.nspname::text, c.relname::text, k.conname::text,
                    rn.nspname::text, rc.relname::text,
                    array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                            JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                           ORDER BY u.i),
                    array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                            JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                           ORDER BY u.i)
               FROM pg_catalog.pg_constraint k
               JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_catalog.pg_class rc ON rc.oid = k.confrelid
               JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
              WHERE k.contype = 'f'
              ORDER BY 1, 2, 3",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ForeignKey {
            table: QualifiedTable {
                schema: r.get(0),
                name: r.get(1),
            },
            name: r.get(2),
            ref_table: QualifiedTable {
                schema: r.get(3),
                name: r.get(4),
            },
            columns: r.get(5),
            ref_columns: r.get(6),
        })
        .collect())
}

/// How a relationship joins: `foreign_key_constraint_on` or `manual_configuration`.
#[derive(Debug, Clone, PartialEq)]
pub enum Using {
    /// Object relationship on this table's column(s).
    SameTable(Vec<String>),
    /// The remote table's column(s) referencing this table (array relationships, and
    /// object relationships written `{"table", "column"}`).
    RemoteTable(QualifiedTable, Vec<String>),
    /// `remote_table` and `column_mapping` (local column -> remote column).
    Manual(QualifiedTable, Vec<(String, String)>, Option<String>),
}

/// A relationship as stored in the metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Rel {
    pub kind: RelKind,
    pub name: String,
    pub using: Using,
    pub comment: Option<String>,
}

fn columns_json(key_one: &str, cols: &[String]) -> (String, Value) {
    match cols {
        [one] => (key_one.to_string(), json!(one)),
        many => (format!("{key_one}s"), json!(many)),
    }
}

impl Using {
    /// `ToJSON (RelUsing b a)` in the exported form.
    pub fn to_json(&self) -> Value {
        match self {
            Using::SameTable(cols) => {
                let v = match cols.as_slice() {
                    [one] => json!(one),
                    many => json!(many),
                };
                json!({ "foreign_key_constraint_on": v })
            }
            Using::RemoteTable(t, cols) => {
                let (k, v) = columns_json("column", cols);
                let mut m = Map::new();
                m.insert("table".into(), t.to_json());
                m.insert(k, v);
                json!({ "foreign_key_constraint_on": Value::Object(m) })
            }
            Using::Manual(t, mapping, order) => {
                let cm: Map<String, Value> =
                    mapping.iter().map(|(l, r)| (l.clone(), json!(r))).collect();
                json!({"manual_configuration": canonical(&json!({
                    "column_mapping": cm,
                    "insertion_order": order,
                    "remote_table": t.to_json(),
                }))})
            }
        }
    }
}

impl Rel {
    pub fn to_export(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("using".into(), self.using.to_json());
        if let Some(c) = &self.comment {
            m.insert("comment".into(), json!(c));
        }
        Value::Object(m)
    }
}

/// The relationships of a table, as stored in its exported entry.
pub fn relationships(tm: &TableMeta) -> Vec<Rel> {
    let mut out = Vec::new();
    for kind in RelKind::ALL {
        let Some(Value::Array(items)) = tm.extra.get(kind.list_key()) else {
            continue;
        };
        for item in items {
            let name = item.get("name").and_then(Value::as_str);
            let using = item
                .get("using")
                .and_then(|u| commands::parse_using(kind, u, "").ok());
            if let (Some(name), Some(using)) = (name, using) {
                out.push(Rel {
                    kind,
                    name: name.to_string(),
                    using,
                    comment: item
                        .get("comment")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                });
            }
        }
    }
    out
}

/// Rewrites the relationships of a table read from a document (`replace_metadata`) in
/// the form graphql-engine stores and exports them; lists it cannot parse are kept as
/// given.
pub fn normalize(tm: &mut TableMeta) {
    let parsed = relationships(tm);
    let given: usize = RelKind::ALL
        .iter()
        .filter_map(|k| tm.extra.get(k.list_key()).and_then(Value::as_array))
        .map(Vec::len)
        .sum();
    if parsed.len() != given {
        return;
    }
    for rel in parsed {
        let name = rel.name.clone();
        put(tm, &name, Some(rel));
    }
}

pub fn find(tm: &TableMeta, name: &str) -> Option<Rel> {
    relationships(tm).into_iter().find(|r| r.name == name)
}

/// Replaces (or, `rel` being `None`, removes) relationship `name` of `tm`, keeping each
/// list sorted by name as graphql-engine exports it.
pub fn put(tm: &mut TableMeta, name: &str, rel: Option<Rel>) {
    for kind in RelKind::ALL {
        let key = kind.list_key();
        let mut list: Vec<Value> = match tm.extra.get(key) {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        list.retain(|r| r.get("name").and_then(Value::as_str) != Some(name));
        if let Some(r) = rel.as_ref().filter(|r| r.kind == kind) {
            list.push(r.to_export());
        }
        list.sort_by(|a, b| {
            let n = |v: &Value| {
                v.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            n(a).cmp(&n(b))
        });
        if list.is_empty() {
            tm.extra.remove(key);
        } else {
            tm.extra.insert(key.to_string(), Value::Array(list));
        }
    }
}

/// Where a relationship leads: the remote table and the joined column pairs
/// (local column, remote column).
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub remote: QualifiedTable,
    pub mapping: Vec<(String, String)>,
}

/// Why a relationship is inconsistent: a build error (reported in the relationship's
/// context) or a missing dependency (reported bare).
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Build(String),
    Dependency(String),
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a.dedup();
    b.dedup();
    a == b
}

/// `getRequiredFkey` over `candidates`.
fn required_fkey<'a>(
    cols: &[String],
    candidates: impl Iterator<Item = &'a ForeignKey>,
) -> Result<&'a ForeignKey, Problem> {
    let found: Vec<&ForeignKey> = candidates.filter(|k| same_set(&k.columns, cols)).collect();
    match found.as_slice() {
        [k] => Ok(k),
        [] => Err(Problem::Build(
            "no foreign constraint exists on the given column(s)".into(),
        )),
        _ => Err(Problem::Build(
            "more than one foreign key constraint exists on the given column(s)".into(),
        )),
    }
}

/// The table's columns, or the `resolveTable` error for a table that is not tracked.
fn tracked_columns<'a>(
    src: &Source,
    catalog: &'a Catalog,
    t: &QualifiedTable,
) -> Result<&'a [String], Problem> {
    match (src.tables.contains_key(t), catalog.get(t)) {
        (true, Some(cols)) => Ok(cols),
        _ => Err(Problem::Dependency(format!("table \"{t}\" is not tracked"))),
    }
}

fn has_column(cols: &[String], t: &QualifiedTable, c: &str) -> Result<(), Problem> {
    if cols.iter().any(|x| x == c) {
        Ok(())
    } else {
        Err(Problem::Dependency(format!(
            "table \"{t}\" has no field named \"{c}\""
        )))
    }
}

/// Resolves relationship `rel` of `table` the way the schema cache builds it.
pub fn resolve(
    src: &Source,
    catalog: &Catalog,
    table: &QualifiedTable,
    rel: &Rel,
) -> Result<Resolved, Problem> {
    let fks = &catalog.foreign_keys;
    let local = tracked_columns(src, catalog, table)?;
    match &rel.using {
        Using::SameTable(cols) => {
            let k = required_fkey(cols, fks.iter().filter(|k| &k.table == table))?;
            tracked_columns(src, catalog, &k.ref_table)?;
            for c in cols {
                has_column(local, table, c)?;
            }
            Ok(Resolved {
                remote: k.ref_table.clone(),
                mapping: k
                    .columns
                    .iter()
                    .cloned()
                    .zip(k.ref_columns.clone())
                    .collect(),
            })
        }
        Using::RemoteTable(remote, cols) => {
            if !catalog.contains_key(remote) {
                return Err(Problem::Build(format!(
                    "table \"{remote}\" does not exist in source: {}",
                    src.name
                )));
            }
            let candidates = fks
                .iter()
                .filter(|k| &k.table == remote && &k.ref_table == table);
            let k = required_fkey(cols, candidates)?;
            let rcols = tracked_columns(src, catalog, remote)?;
            for c in cols {
                has_column(rcols, remote, c)?;
            }
            Ok(Resolved {
                remote: remote.clone(),
                mapping: k
                    .ref_columns
                    .iter()
                    .cloned()
                    .zip(k.columns.clone())
                    .collect(),
            })
        }
        Using::Manual(remote, mapping, _) => {
            for (l, _) in mapping {
                has_column(local, table, l)?;
            }
            let rcols = tracked_columns(src, catalog, remote)?;
            for (_, r) in mapping {
                has_column(rcols, remote, r)?;
            }
            Ok(Resolved {
                remote: remote.clone(),
                mapping: mapping.clone(),
            })
        }
    }
}

/// The relationships of one source that do not resolve, as `get_inconsistent_metadata`
/// lists them.
pub fn inconsistencies(src: &Source, catalog: &Catalog, out: &mut Vec<Inconsistency>) {
    for (t, tm) in &src.tables {
        if !catalog.contains_key(t) {
            continue;
        }
        for rel in relationships(tm) {
            let Err(problem) = resolve(src, catalog, t, &rel) else {
                continue;
            };
            let reason = match problem {
                Problem::Build(p) => {
                    format!("in table \"{t}\": in relationship \"{}\": {p}", rel.name)
                }
                Problem::Dependency(p) => p,
            };
            out.push(inconsistency(&src.name, t, &rel, &reason));
        }
    }
}

pub fn inconsistency(
    source: &str,
    table: &QualifiedTable,
    rel: &Rel,
    reason: &str,
) -> Inconsistency {
    let mut def = rel.to_export();
    def["source"] = json!(source);
    def["table"] = table.to_json();
    Inconsistency {
        id: ObjId::Rel(source.into(), table.clone(), rel.name.clone()),
        json: json!({
            "definition": def,
            "name": format!("{} {} in table {table} in source {source}", rel.kind.object_type(), rel.name),
            "reason": format!("Inconsistent object: {reason}"),
            "type": rel.kind.object_type(),
        }),
    }
}

/// The relationships, across `src`, whose definition no longer resolves against
/// `catalog` (a column, foreign key or table they use was dropped by SQL): Hasura's
/// schema diff reports them as dependents of the dropped objects.
pub fn broken_by_ddl(src: &Source, catalog: &Catalog) -> Vec<(QualifiedTable, String)> {
    let mut out = Vec::new();
    for (t, tm) in &src.tables {
        if !catalog.contains_key(t) {
            continue;
        }
        for rel in relationships(tm) {
            if resolve(src, catalog, t, &rel).is_err() {
                out.push((t.clone(), rel.name));
            }
        }
    }
    out
}

/// After DDL: drops the relationships that no longer resolve and returns their
/// `reportSchemaObj` names, the dependents Hasura's schema diff reports (and purges
/// with `cascade`). Permissions using them are then dependents of their own.
pub fn reconcile_ddl(src: &mut Source, catalog: &Catalog) -> Vec<String> {
    let broken = broken_by_ddl(src, catalog);
    let mut out = Vec::new();
    for (t, name) in broken {
        out.push(format!(
            "relationship {t}.{name} in source \"{}\"",
            src.name
        ));
        if let Some(tm) = src.tables.get_mut(&t) {
            put(tm, &name, None);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qt(n: &str) -> QualifiedTable {
        QualifiedTable {
            schema: "public".into(),
            name: n.into(),
        }
    }

    #[test]
    fn exported_shapes() {
        let obj = Using::SameTable(vec!["author_id".into()]);
        assert_eq!(
            obj.to_json(),
            json!({"foreign_key_constraint_on": "author_id"})
        );
        let arr = Using::RemoteTable(qt("posts"), vec!["author_id".into()]);
        assert_eq!(
            arr.to_json(),
            json!({"foreign_key_constraint_on": {"table": {"name": "posts", "schema": "public"}, "column": "author_id"}})
        );
        let manual = Using::Manual(qt("users"), vec![("author_id".into(), "id".into())], None);
        assert_eq!(
            serde_json::to_string(&manual.to_json()).unwrap(),
            r#"{"manual_configuration":{"column_mapping":{"author_id":"id"},"insertion_order":null,"remote_table":{"name":"users","schema":"public"}}}"#
        );
    }

    #[test]
    fn resolution_follows_foreign_keys() {
        let mut src = Source::default_postgres();
        let mut cat = Catalog::default();
        for (t, cols) in [("users", vec!["id"]), ("posts", vec!["id", "author_id"])] {
            src.tables.insert(qt(t), TableMeta::new(qt(t)));
            cat.insert(qt(t), cols.into_iter().map(String::from).collect());
        }
        cat.foreign_keys.push(ForeignKey {
            table: qt("posts"),
            name: "posts_author_id_fkey".into(),
            ref_table: qt("users"),
            columns: vec!["author_id".into()],
            ref_columns: vec!["id".into()],
        });
        let rel = |kind, using| Rel {
            kind,
            name: "r".into(),
            using,
            comment: None,
        };
        let author = rel(RelKind::Object, Using::SameTable(vec!["author_id".into()]));
        assert_eq!(
            resolve(&src, &cat, &qt("posts"), &author).unwrap(),
            Resolved {
                remote: qt("users"),
                mapping: vec![("author_id".into(), "id".into())]
            }
        );
        let posts = rel(
            RelKind::Array,
            Using::RemoteTable(qt("posts"), vec!["author_id".into()]),
        );
        assert_eq!(
            resolve(&src, &cat, &qt("users"), &posts).unwrap().mapping,
            vec![("id".to_string(), "author_id".to_string())]
        );
        let none = rel(RelKind::Object, Using::SameTable(vec!["id".into()]));
        assert_eq!(
            resolve(&src, &cat, &qt("posts"), &none),
            Err(Problem::Build(
                "no foreign constraint exists on the given column(s)".into()
            ))
        );
        let manual = rel(
            RelKind::Object,
            Using::Manual(qt("users"), vec![("writer".into(), "id".into())], None),
        );
        assert_eq!(
            resolve(&src, &cat, &qt("posts"), &manual),
            Err(Problem::Dependency(
                "table \"posts\" has no field named \"writer\"".into()
            ))
        );
        src.tables.remove(&qt("users"));
        assert_eq!(
            resolve(&src, &cat, &qt("posts"), &author),
            Err(Problem::Dependency("table \"users\" is not tracked".into()))
        );
    }
}
