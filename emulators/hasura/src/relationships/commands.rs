//! `pg_create_object_relationship`, `pg_create_array_relationship`,
//! `pg_drop_relationship`, `pg_rename_relationship`, `pg_set_relationship_comment`.
//!
//! Sources (hasura/graphql-engine): `Hasura/RQL/DDL/Relationship.hs`
//! (`execCreateRelationship`: 400 `already-exists` "field with name \"r\" already exists
//! in table \"t\""; `execDropRel`: `askRelType` 400 `not-exists` "relationship \"r\" does
//! not exist", dependent permissions reported unless `cascade`, then purged;
//! `runSetRelComment`), `Hasura/RQL/DDL/Relationship/Rename.hs` (`renameRelP2`: 400
//! `already-exists` "cannot rename relationship \"a\" to \"b\" in table \"t\" as a
//! column/relationship with the name already exists"; the permissions using it are
//! rewritten, `renameRelationshipInMetadata`), and the JSON of
//! `Hasura/RQL/Types/Relationships/Local.hs` (parse errors as aeson words them).
use serde_json::{Map, Value};

use super::paths;
use super::{find, put, Rel, RelKind, Using};
use crate::dependents::{dependency_error, purge, Dependent};
use crate::errors::{parse_failed, QErr};
use crate::metadata::{Catalog, Metadata, ObjId, QualifiedTable};
use crate::metadata_api::{args_obj, bool_arg, comment_arg, source_name, table_arg, table_missing};
use crate::permissions::{PermType, Permission};

/// The commands (without their `pg_` prefix) this module runs.
pub fn handles(base: &str) -> bool {
    matches!(
        base,
        "create_object_relationship"
            | "create_array_relationship"
            | "drop_relationship"
            | "rename_relationship"
            | "set_relationship_comment"
    )
}

/// Runs one of them on `md`; the object whose consistency the caller then checks
/// (`buildSchemaCacheFor`), if any (a drop has none: `withNewInconsistentObjsCheck`
/// finds nothing new after removing objects).
pub fn exec(
    md: &mut Metadata,
    catalog: &Catalog,
    cmd: &str,
    base: &str,
    args: &Value,
) -> Result<Option<ObjId>, QErr> {
    Ok(match base {
        "create_object_relationship" => Some(create(md, catalog, cmd, RelKind::Object, args)?),
        "create_array_relationship" => Some(create(md, catalog, cmd, RelKind::Array, args)?),
        "drop_relationship" => {
            drop(md, catalog, cmd, args)?;
            None
        }
        "rename_relationship" => Some(rename(md, catalog, cmd, args)?),
        _ => Some(set_comment(md, cmd, args)?),
    })
}

fn text(cmd: &str, o: &Map<String, Value>, k: &str) -> Result<String, QErr> {
    match o.get(k) {
        Some(Value::String(s)) if s.is_empty() => Err(parse_failed(
            cmd,
            &format!("$.args.{k}"),
            "empty string not allowed",
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(parse_failed(
            cmd,
            &format!("$.args.{k}"),
            "parsing Text failed, expected String",
        )),
        None => Err(parse_failed(
            cmd,
            "$.args",
            format!("key \"{k}\" not found"),
        )),
    }
}

/// One column or a non-empty list of them (`parseColumns`: "Expected string or array").
fn columns(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) if a.is_empty() => {
            Err("parsing NonEmpty failed, unexpected empty list".into())
        }
        Value::Array(a) => a
            .iter()
            .map(|c| {
                c.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "parsing Text failed, expected String".to_string())
            })
            .collect(),
        _ => Err("Expected string or array".into()),
    }
}

/// `{"table", "column"}` or `{"table", "columns"}`.
fn remote_columns(o: &Map<String, Value>) -> Result<(QualifiedTable, Vec<String>), String> {
    let table = QualifiedTable::parse(o.get("table").ok_or("key \"table\" not found")?)?;
    let cols = match (o.get("column"), o.get("columns")) {
        (Some(c), None) | (None, Some(c)) => columns(c)?,
        _ => return Err("expected exactly one of 'column' or 'columns'".into()),
    };
    Ok((table, cols))
}

/// `FromJSON (RelUsing b a)` for an object (`ObjRelUsingChoice`) or array
/// (`ArrRelUsingFKeyOn`) relationship; `Err` holds (path suffix, aeson message).
pub fn parse_using(kind: RelKind, v: &Value, path: &str) -> Result<Using, (String, String)> {
    let at = |p: &str, m: String| (format!("{path}{p}"), m);
    let Value::Object(o) = v else {
        return Err(at("", "using should be an object".into()));
    };
    let frag = "one of foreign_key_constraint_on/manual_configuration should be present";
    match (
        o.get("foreign_key_constraint_on"),
        o.get("manual_configuration"),
    ) {
        (None, None) => Err(at("", format!("atleast {frag}"))),
        (Some(_), Some(_)) => Err(at("", format!("only {frag}"))),
        (Some(fk), None) => {
            let p = ".foreign_key_constraint_on";
            match (kind, fk) {
                (RelKind::Object, Value::Object(o)) | (RelKind::Array, Value::Object(o)) => {
                    let (t, c) = remote_columns(o).map_err(|m| at(p, m))?;
                    Ok(Using::RemoteTable(t, c))
                }
                (RelKind::Object, other) => {
                    Ok(Using::SameTable(columns(other).map_err(|m| at(p, m))?))
                }
                (RelKind::Array, _) => Err(at(p, "Expecting object { table, columns }.".into())),
            }
        }
        (None, Some(m)) => {
            let p = ".manual_configuration";
            let Value::Object(m) = m else {
                return Err(at(
                    p,
                    "parsing RelManualTableConfig failed, expected Object".into(),
                ));
            };
            let table = QualifiedTable::parse(
                m.get("remote_table")
                    .ok_or_else(|| at(p, "key \"remote_table\" not found".into()))?,
            )
            .map_err(|e| at(&format!("{p}.remote_table"), e))?;
            let Some(Value::Object(cm)) = m.get("column_mapping") else {
                return Err(match m.get("column_mapping") {
                    None => at(p, "key \"column_mapping\" not found".into()),
                    Some(_) => at(
                        &format!("{p}.column_mapping"),
                        "parsing HashMap failed, expected Object".into(),
                    ),
                });
            };
            let mut mapping = Vec::new();
            for (l, r) in cm {
                let r = r.as_str().ok_or_else(|| {
                    at(
                        &format!("{p}.column_mapping.{l}"),
                        "parsing Text failed, expected String".into(),
                    )
                })?;
                mapping.push((l.clone(), r.to_string()));
            }
            mapping.sort();
            let order = match m.get("insertion_order") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s == "before_parent" || s == "after_parent" => {
                    Some(s.clone())
                }
                Some(_) => {
                    return Err(at(
                        &format!("{p}.insertion_order"),
                        "expected one of before_parent, after_parent".into(),
                    ))
                }
            };
            Ok(Using::Manual(table, mapping, order))
        }
    }
}

fn rel_missing(name: &str) -> QErr {
    QErr::bad(
        "not-exists",
        "$.args",
        format!("relationship \"{name}\" does not exist"),
    )
}

/// `askTableCoreInfo` and `askRelType`.
fn existing(md: &Metadata, source: &str, table: &QualifiedTable, name: &str) -> Result<Rel, QErr> {
    let src = md.sources.get(source).ok_or_else(|| {
        QErr::bad(
            "not-exists",
            "$.args",
            format!("source with name \"{source}\" does not exist"),
        )
    })?;
    let tm = src
        .tables
        .get(table)
        .ok_or_else(|| table_missing(table, source))?;
    find(tm, name).ok_or_else(|| rel_missing(name))
}

/// The fields (columns, relationships, computed fields) of a tracked table.
fn has_field(md: &Metadata, catalog: &Catalog, source: &str, t: &QualifiedTable, f: &str) -> bool {
    let tm = md.sources.get(source).and_then(|s| s.tables.get(t));
    catalog.get(t).is_some_and(|c| c.iter().any(|x| x == f))
        || tm.is_some_and(|tm| tm.relationship_like_names().iter().any(|x| x == f))
}

pub fn create(
    md: &mut Metadata,
    catalog: &Catalog,
    cmd: &str,
    kind: RelKind,
    args: &Value,
) -> Result<ObjId, QErr> {
    let o = args_obj(cmd, args)?;
    let table = table_arg(cmd, o)?;
    let source = source_name(cmd, o)?;
    let name = text(cmd, o, "name")?;
    let using = o
        .get("using")
        .ok_or_else(|| parse_failed(cmd, "$.args", "key \"using\" not found"))?;
    let using =
        parse_using(kind, using, "$.args.using").map_err(|(p, m)| parse_failed(cmd, &p, m))?;
    let comment = comment_arg(cmd, o)?;
    let src = md.sources.get_mut(&source).ok_or_else(|| {
        QErr::bad(
            "not-exists",
            "$.args",
            format!("source with name \"{source}\" does not exist"),
        )
    })?;
    if !src.tables.contains_key(&table) {
        return Err(table_missing(&table, &source));
    }
    let taken = {
        let tm = &src.tables[&table];
        catalog.get(&table).is_some_and(|c| c.contains(&name))
            || tm.relationship_like_names().contains(&name)
    };
    if taken {
        return Err(QErr::bad(
            "already-exists",
            "$.args",
            format!("field with name \"{name}\" already exists in table \"{table}\""),
        ));
    }
    let tm = src.tables.get_mut(&table).expect("checked above");
    put(
        tm,
        &name,
        Some(Rel {
            kind,
            name: name.clone(),
            using,
            comment,
        }),
    );
    Ok(ObjId::Rel(source, table, name))
}

/// The permissions of `source` whose expressions traverse relationship `name` of `table`.
fn dependent_permissions(
    md: &Metadata,
    catalog: &Catalog,
    source: &str,
    table: &QualifiedTable,
    name: &str,
) -> Vec<Dependent> {
    let Some(src) = md.sources.get(source) else {
        return vec![];
    };
    let mut out = Vec::new();
    for (t, tm) in &src.tables {
        for pt in PermType::ALL {
            for pd in tm.perms(pt) {
                let uses = pd
                    .permission
                    .bool_exps()
                    .into_iter()
                    .any(|e| paths::uses(src, catalog, t, e, (table, name)));
                if uses {
                    out.push(Dependent::Permission(t.clone(), pd.role.clone(), pt));
                }
            }
        }
    }
    out
}

pub fn drop(md: &mut Metadata, catalog: &Catalog, cmd: &str, args: &Value) -> Result<(), QErr> {
    let o = args_obj(cmd, args)?;
    let table = table_arg(cmd, o)?;
    let source = source_name(cmd, o)?;
    let name = text(cmd, o, "relationship")?;
    let cascade = bool_arg(cmd, o, "cascade")?;
    existing(md, &source, &table, &name)?;
    let deps = dependent_permissions(md, catalog, &source, &table, &name);
    if !deps.is_empty() && !cascade {
        return Err(dependency_error(&source, &deps));
    }
    let src = md.sources.get_mut(&source).expect("checked by existing");
    purge(src, &deps);
    if let Some(tm) = src.tables.get_mut(&table) {
        put(tm, &name, None);
    }
    Ok(())
}

fn bool_exps_mut(p: &mut Permission) -> Vec<&mut Value> {
    match p {
        Permission::Insert { check, .. } => vec![check],
        Permission::Select { filter, .. } | Permission::Delete { filter, .. } => vec![filter],
        Permission::Update { filter, check, .. } => {
            let mut v = vec![filter];
            if let Some(c) = check {
                v.push(c);
            }
            v
        }
    }
}

pub fn rename(
    md: &mut Metadata,
    catalog: &Catalog,
    cmd: &str,
    args: &Value,
) -> Result<ObjId, QErr> {
    let o = args_obj(cmd, args)?;
    let table = table_arg(cmd, o)?;
    let source = source_name(cmd, o)?;
    let name = text(cmd, o, "name")?;
    let new_name = text(cmd, o, "new_name")?;
    let rel = existing(md, &source, &table, &name)?;
    if has_field(md, catalog, &source, &table, &new_name) {
        return Err(QErr::bad(
            "already-exists",
            "$.args",
            format!("cannot rename relationship \"{name}\" to \"{new_name}\" in table \"{table}\" as a column/relationship with the name already exists"),
        ));
    }
    // Rewritten while the old name still resolves, then renamed.
    let snapshot = md.sources[&source].clone();
    let src = md.sources.get_mut(&source).expect("checked by existing");
    for (t, tm) in src.tables.iter_mut() {
        for perms in tm.permissions.values_mut() {
            for pd in perms.values_mut() {
                for e in bool_exps_mut(&mut pd.permission) {
                    *e = paths::rename(&snapshot, catalog, t, e, (&table, &name, &new_name));
                }
            }
        }
    }
    let tm = src.tables.get_mut(&table).expect("checked by existing");
    put(tm, &name, None);
    put(
        tm,
        &new_name,
        Some(Rel {
            name: new_name.clone(),
            ..rel
        }),
    );
    Ok(ObjId::Rel(source, table, new_name))
}

pub fn set_comment(md: &mut Metadata, cmd: &str, args: &Value) -> Result<ObjId, QErr> {
    let o = args_obj(cmd, args)?;
    let table = table_arg(cmd, o)?;
    let source = source_name(cmd, o)?;
    let name = text(cmd, o, "relationship")?;
    let comment = comment_arg(cmd, o)?;
    let rel = existing(md, &source, &table, &name)?;
    let tm = md
        .sources
        .get_mut(&source)
        .and_then(|s| s.tables.get_mut(&table))
        .expect("checked by existing");
    put(tm, &name, Some(Rel { comment, ..rel }));
    Ok(ObjId::Rel(source, table, name))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn using_parses_like_graphql_engine() {
        let p = |k, v: Value| parse_using(k, &v, "$.args.using");
        assert_eq!(
            p(
                RelKind::Object,
                json!({"foreign_key_constraint_on": ["a", "b"]})
            ),
            Ok(Using::SameTable(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            p(RelKind::Array, json!({"foreign_key_constraint_on": "a"})),
            Err((
                "$.args.using.foreign_key_constraint_on".into(),
                "Expecting object { table, columns }.".into()
            ))
        );
        assert_eq!(
            p(RelKind::Object, json!({})).unwrap_err().1,
            "atleast one of foreign_key_constraint_on/manual_configuration should be present"
        );
        assert_eq!(
            p(
                RelKind::Array,
                json!({"foreign_key_constraint_on": {"table": "t", "column": "a", "columns": ["a"]}})
            )
            .unwrap_err()
            .1,
            "expected exactly one of 'column' or 'columns'"
        );
        let m = p(
            RelKind::Object,
            json!({"manual_configuration": {"remote_table": "users", "column_mapping": {"b": "y", "a": "x"}}}),
        )
        .unwrap();
        assert!(matches!(m, Using::Manual(_, ref cm, None) if cm[0].0 == "a"));
    }
}
