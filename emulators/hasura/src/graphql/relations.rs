//! The relationships of the GraphQL schema: each tracked table's object and array
//! relationships that resolve (a broken one is inconsistent metadata and is left out
//! of the schema, as graphql-engine leaves it out), with where they lead.
use std::collections::HashMap;

use tokio_postgres::Transaction;

use super::schema::{Schema, Table};
use super::GqlErr;
use crate::metadata::{Catalog, QualifiedTable, Source};
use crate::relationships::{load_foreign_keys, relationships, resolve, RelKind};

#[derive(Debug, Clone)]
pub struct Relation {
    pub name: String,
    pub kind: RelKind,
    pub remote: QualifiedTable,
    /// (local column, remote column) pairs the join matches.
    pub mapping: Vec<(String, String)>,
}

pub type Relations = HashMap<QualifiedTable, Vec<Relation>>;

pub async fn load(
    tx: &Transaction<'_>,
    src: &Source,
    tables: &[Table],
) -> Result<Relations, GqlErr> {
    let mut catalog = Catalog::default();
    for t in tables {
        catalog.insert(
            t.qt.clone(),
            t.columns.iter().map(|c| c.name.clone()).collect(),
        );
    }
    catalog.foreign_keys = load_foreign_keys(tx)
        .await
        .map_err(|e| GqlErr::new("unexpected", "$", e.error))?;
    let mut out = Relations::new();
    for t in tables {
        for rel in relationships(&t.meta) {
            if let Ok(r) = resolve(src, &catalog, &t.qt, &rel) {
                out.entry(t.qt.clone()).or_default().push(Relation {
                    name: rel.name,
                    kind: rel.kind,
                    remote: r.remote,
                    mapping: r.mapping,
                });
            }
        }
    }
    Ok(out)
}

impl Schema {
    pub fn table(&self, qt: &QualifiedTable) -> Option<&Table> {
        self.tables.iter().find(|t| &t.qt == qt)
    }

    /// Relationship `name` of `t` and the table it leads to.
    pub fn relation(&self, t: &Table, name: &str) -> Option<(&Relation, &Table)> {
        let r = self.relations.get(&t.qt)?.iter().find(|r| r.name == name)?;
        Some((r, self.table(&r.remote)?))
    }
}
