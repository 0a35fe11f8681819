//! `run_sql` that changes the type of a column a permission preset (`set`)
//! uses is refused, as graphql-engine refuses it.
//!
//! Source: graphql-engine `server/src-lib/Hasura/RQL/DDL/Schema/Table.hs`
//! (`processTableChanges`, altered columns): when a column's type changes,
//! its dependents with reason `DROnType` (a permission's presets, from
//! `procSetObj` in `Hasura/RQL/DDL/Permission/Internal.hs`) make it
//! `throw400 DependencyError` "cannot change type of column \"c\" in table
//! \"t\" because of the following dependencies : <reportSchemaObjs>".
use std::collections::HashMap;

use tokio_postgres::GenericClient;

use crate::errors::QErr;
use crate::metadata::{Metadata, QualifiedTable};
use crate::permissions::{PermType, Permission};

/// `format_type` of every user column, by table and column.
pub type Types = HashMap<(QualifiedTable, String), String>;

pub async fn load(db: &impl GenericClient) -> Result<Types, QErr> {
    let rows = db
        .query(
            "SELECT n.nspname::text, c.relname::text, a.attname::text,
                    format_type(a.atttypid, a.atttypmod)
               FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE a.attnum > 0 AND NOT a.attisdropped
                AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
                AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let t = QualifiedTable {
                schema: r.get(0),
                name: r.get(1),
            };
            ((t, r.get::<_, String>(2)), r.get::<_, String>(3))
        })
        .collect())
}

fn preset_columns(p: &Permission) -> Vec<&String> {
    match p {
        Permission::Insert { set: Some(s), .. } | Permission::Update { set: Some(s), .. } => {
            s.keys().collect()
        }
        _ => vec![],
    }
}

/// The first column of `source` whose type changed while a permission
/// preset uses it, as Hasura's error.
pub fn check(md: &Metadata, source: &str, before: &Types, after: &Types) -> Result<(), QErr> {
    let Some(src) = md.sources.get(source) else {
        return Ok(());
    };
    for (t, tm) in &src.tables {
        let mut changed: Vec<(&String, Vec<String>)> = Vec::new();
        for pt in PermType::ALL {
            for pd in tm.perms(pt) {
                for c in preset_columns(&pd.permission) {
                    let key = (t.clone(), c.clone());
                    let (Some(old), Some(new)) = (before.get(&key), after.get(&key)) else {
                        continue;
                    };
                    if old == new {
                        continue;
                    }
                    let dep = format!(
                        "permission {t}.{}.{} in source \"{source}\"",
                        pd.role,
                        pt.code()
                    );
                    match changed.iter_mut().find(|(col, _)| *col == c) {
                        Some((_, deps)) => deps.push(dep),
                        None => changed.push((c, vec![dep])),
                    }
                }
            }
        }
        if let Some((col, mut deps)) = changed.into_iter().next() {
            deps.sort();
            return Err(QErr::bad(
                "dependency-error",
                "$.args",
                format!(
                    "cannot change type of column \"{col}\" in table \"{t}\" because of the following dependencies : {}",
                    deps.join(", ")
                ),
            ));
        }
    }
    Ok(())
}
