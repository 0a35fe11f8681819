//! What depends on a tracked table from elsewhere in the metadata, so that
//! untracking it without `cascade` is refused and with `cascade` drops them.
//!
//! Source: graphql-engine `server/src-lib/Hasura/RQL/DDL/Schema/Table.hs`
//! (`unTrackExistingTableOrViewP2`: the table's indirect dependents, i.e.
//! objects of other tables, are reported unless `cascade`, then purged) and
//! `server/src-lib/Hasura/RQL/Types/SchemaCacheTypes.hs`
//! (`reportDependentObjectsExist`: 400 `dependency-error`, "cannot drop due to
//! the following dependent objects : " and the sorted, comma-separated
//! `reportSchemaObj` names, e.g. `relationship article.author in source
//! "default"`; `purgeDependentObject` drops permissions and relationships).
//! Dependents are found transitively (`getDependentObjs`): a relationship
//! to the table, and a permission using such a relationship or an `_exists`
//! on the table.
use serde_json::Value;

use crate::errors::QErr;
use crate::metadata::{Catalog, QualifiedTable, Source};
use crate::permissions::PermType;
use crate::relationships::{paths, put, relationships, resolve, Rel, Using};

#[derive(Debug, Clone, PartialEq)]
pub enum Dependent {
    Relationship(QualifiedTable, &'static str, String),
    Permission(QualifiedTable, String, PermType),
}

impl Dependent {
    /// `reportSchemaObj`, with its `inSource` suffix.
    fn report(&self, source: &str) -> String {
        match self {
            Dependent::Relationship(t, _, name) => {
                format!("relationship {t}.{name} in source \"{source}\"")
            }
            Dependent::Permission(t, role, pt) => {
                format!("permission {t}.{role}.{} in source \"{source}\"", pt.code())
            }
        }
    }
}

/// The table a relationship leads to: resolved through the foreign keys when it can
/// be, else as its `using` names it.
fn relationship_target(
    src: &Source,
    catalog: &Catalog,
    t: &QualifiedTable,
    rel: &Rel,
) -> Option<QualifiedTable> {
    match resolve(src, catalog, t, rel) {
        Ok(r) => Some(r.remote),
        Err(_) => match &rel.using {
            Using::RemoteTable(remote, _) | Using::Manual(remote, _, _) => Some(remote.clone()),
            Using::SameTable(_) => None,
        },
    }
}

/// Whether a boolean expression has an `_exists` on `table`, at any depth.
fn exists_on(e: &Value, table: &QualifiedTable) -> bool {
    match e {
        Value::Object(m) => m.iter().any(|(k, v)| {
            let here = matches!(k.as_str(), "_exists" | "$exists")
                && v.get("_table")
                    .and_then(|t| QualifiedTable::parse(t).ok())
                    .is_some_and(|t| &t == table);
            here || exists_on(v, table)
        }),
        Value::Array(a) => a.iter().any(|x| exists_on(x, table)),
        _ => false,
    }
}

/// The objects of other tables of `src` that depend on `table`.
pub fn dependents(src: &Source, catalog: &Catalog, table: &QualifiedTable) -> Vec<Dependent> {
    let mut out = Vec::new();
    let mut rels: Vec<(QualifiedTable, String)> = Vec::new();
    for (t, tm) in src.tables.iter().filter(|(t, _)| *t != table) {
        for rel in relationships(tm) {
            if relationship_target(src, catalog, t, &rel).as_ref() == Some(table) {
                out.push(Dependent::Relationship(
                    t.clone(),
                    rel.kind.list_key(),
                    rel.name.clone(),
                ));
                rels.push((t.clone(), rel.name));
            }
        }
    }
    for (t, tm) in src.tables.iter().filter(|(t, _)| *t != table) {
        for pt in PermType::ALL {
            for pd in tm.perms(pt) {
                let uses = pd.permission.bool_exps().into_iter().any(|e| {
                    exists_on(e, table)
                        || rels
                            .iter()
                            .any(|(owner, r)| paths::uses(src, catalog, t, e, (owner, r)))
                });
                if uses {
                    out.push(Dependent::Permission(t.clone(), pd.role.clone(), pt));
                }
            }
        }
    }
    out
}

/// `reportDependentObjectsExist`.
pub fn dependency_error(source: &str, deps: &[Dependent]) -> QErr {
    let mut names: Vec<String> = deps.iter().map(|d| d.report(source)).collect();
    names.sort();
    QErr::bad(
        "dependency-error",
        "$.args",
        format!(
            "cannot drop due to the following dependent objects : {}",
            names.join(", ")
        ),
    )
}

/// `purgeDependentObject`: drops each dependent from `src`.
pub fn purge(src: &mut Source, deps: &[Dependent]) {
    for d in deps {
        match d {
            Dependent::Relationship(t, _, name) => {
                if let Some(tm) = src.tables.get_mut(t) {
                    put(tm, name, None);
                }
            }
            Dependent::Permission(t, role, pt) => {
                let Some(tm) = src.tables.get_mut(t) else {
                    continue;
                };
                if let Some(m) = tm.permissions.get_mut(pt) {
                    m.remove(role);
                }
                tm.permissions.retain(|_, m| !m.is_empty());
            }
        }
    }
}
