//! Relationship paths in permission boolean expressions: which relationships an
//! expression traverses (its schema dependencies, `getDependentObjs` in
//! graphql-engine `Hasura/RQL/Types/SchemaCacheTypes.hs`), and the rewrite
//! `pg_rename_relationship` applies to them (`updateFieldInBoolExp`,
//! `Hasura/RQL/DDL/Schema/Rename.hs`). Expressions are in the stored form
//! (connectives spelled `_and`, `_exists` tables `{schema, name}`).
use serde_json::{Map, Value};

use super::{find, resolve};
use crate::metadata::{Catalog, QualifiedTable, Source};
use crate::permissions::connective;

/// Calls `visit(table, relationship)` for every relationship `e` traverses, `e`
/// being evaluated on rows of `table`.
pub fn each_relationship(
    src: &Source,
    catalog: &Catalog,
    table: &QualifiedTable,
    e: &Value,
    visit: &mut dyn FnMut(&QualifiedTable, &str),
) {
    let Value::Object(m) = e else { return };
    for (k, v) in m {
        match connective(k) {
            Some("_and" | "_or") => {
                for x in v.as_array().into_iter().flatten() {
                    each_relationship(src, catalog, table, x, visit);
                }
            }
            Some("_not") => each_relationship(src, catalog, table, v, visit),
            Some(_) => {
                let target = v.get("_table").and_then(|t| QualifiedTable::parse(t).ok());
                if let (Some(t), Some(w)) = (target, v.get("_where")) {
                    each_relationship(src, catalog, &t, w, visit);
                }
            }
            None => {
                let Some(rel) = src.tables.get(table).and_then(|tm| find(tm, k)) else {
                    continue;
                };
                visit(table, k);
                if let Ok(r) = resolve(src, catalog, table, &rel) {
                    each_relationship(src, catalog, &r.remote, v, visit);
                }
            }
        }
    }
}

/// Whether `e`, on rows of `table`, traverses relationship `rel` of `owner`.
pub fn uses(
    src: &Source,
    catalog: &Catalog,
    table: &QualifiedTable,
    e: &Value,
    (owner, rel): (&QualifiedTable, &str),
) -> bool {
    let mut found = false;
    each_relationship(src, catalog, table, e, &mut |t, r| {
        found |= t == owner && r == rel;
    });
    found
}

/// `e` with relationship `old` of `owner` renamed to `new` wherever it is traversed.
pub fn rename(
    src: &Source,
    catalog: &Catalog,
    table: &QualifiedTable,
    e: &Value,
    (owner, old, new): (&QualifiedTable, &str, &str),
) -> Value {
    let Value::Object(m) = e else {
        return e.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let (k2, v2) = match connective(k) {
            Some("_and" | "_or") => (
                k.clone(),
                match v {
                    Value::Array(a) => Value::Array(
                        a.iter()
                            .map(|x| rename(src, catalog, table, x, (owner, old, new)))
                            .collect(),
                    ),
                    other => other.clone(),
                },
            ),
            Some("_not") => (k.clone(), rename(src, catalog, table, v, (owner, old, new))),
            Some(_) => {
                let target = v.get("_table").and_then(|t| QualifiedTable::parse(t).ok());
                let mut v = v.clone();
                if let (Some(t), Some(w)) = (target, v.get("_where").cloned()) {
                    v["_where"] = rename(src, catalog, &t, &w, (owner, old, new));
                }
                (k.clone(), v)
            }
            None => match src.tables.get(table).and_then(|tm| find(tm, k)) {
                Some(rel) => {
                    let inner = match resolve(src, catalog, table, &rel) {
                        Ok(r) => rename(src, catalog, &r.remote, v, (owner, old, new)),
                        Err(_) => v.clone(),
                    };
                    let key = if table == owner && k == old {
                        new.to_string()
                    } else {
                        k.clone()
                    };
                    (key, inner)
                }
                None => (k.clone(), v.clone()),
            },
        };
        out.insert(k2, v2);
    }
    Value::Object(out)
}
