//! The GraphQL view of the tracked tables: type and root-field names (with Hasura's
//! customisations), columns with their PostgreSQL types, and what a role may see.

use std::collections::HashMap;

use serde_json::Value;
use tokio_postgres::Transaction;

use super::auth::{Role, Session};
use super::GqlErr;
use crate::metadata::{Metadata, QualifiedTable, TableMeta};
use crate::permissions::{ColumnSpec, PermType, Permission};

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// GraphQL field name (`column_config.custom_name`, else the column name).
    pub field: String,
    /// `format_type` spelling, used for casts.
    pub pg_type: String,
    /// GraphQL scalar name as Hasura would derive it (`Int`, `String`, `timestamp`, ...).
    pub scalar: String,
}

pub struct Table {
    pub qt: QualifiedTable,
    pub meta: TableMeta,
    /// Base name: the GraphQL object type and the select root field.
    pub type_name: String,
    pub columns: Vec<Column>,
    /// Select grants of the inherited roles, by role (`roles.rs`).
    pub grants: HashMap<String, crate::inherited_roles::Grants>,
    /// Consistent computed fields.
    pub computed: Vec<crate::computed_fields::Resolved>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    Select,
    SelectByPk,
    SelectAggregate,
    SelectStream,
    Insert,
    InsertOne,
    Update,
    UpdateByPk,
    UpdateMany,
    Delete,
    DeleteByPk,
}

impl RootKind {
    const ALL: [RootKind; 11] = [
        RootKind::Select,
        RootKind::SelectByPk,
        RootKind::SelectAggregate,
        RootKind::SelectStream,
        RootKind::Insert,
        RootKind::InsertOne,
        RootKind::Update,
        RootKind::UpdateByPk,
        RootKind::UpdateMany,
        RootKind::Delete,
        RootKind::DeleteByPk,
    ];

    /// Key in `custom_root_fields`.
    fn code(self) -> &'static str {
        match self {
            RootKind::Select => "select",
            RootKind::SelectByPk => "select_by_pk",
            RootKind::SelectAggregate => "select_aggregate",
            RootKind::SelectStream => "select_stream",
            RootKind::Insert => "insert",
            RootKind::InsertOne => "insert_one",
            RootKind::Update => "update",
            RootKind::UpdateByPk => "update_by_pk",
            RootKind::UpdateMany => "update_many",
            RootKind::Delete => "delete",
            RootKind::DeleteByPk => "delete_by_pk",
        }
    }

    fn default_name(self, base: &str) -> String {
        match self {
            RootKind::Select => base.to_string(),
            RootKind::SelectByPk => format!("{base}_by_pk"),
            RootKind::SelectAggregate => format!("{base}_aggregate"),
            RootKind::SelectStream => format!("{base}_stream"),
            RootKind::Insert => format!("insert_{base}"),
            RootKind::InsertOne => format!("insert_{base}_one"),
            RootKind::Update => format!("update_{base}"),
            RootKind::UpdateByPk => format!("update_{base}_by_pk"),
            RootKind::UpdateMany => format!("update_{base}_many"),
            RootKind::Delete => format!("delete_{base}"),
            RootKind::DeleteByPk => format!("delete_{base}_by_pk"),
        }
    }

    pub fn is_mutation(self) -> bool {
        !matches!(
            self,
            RootKind::Select
                | RootKind::SelectByPk
                | RootKind::SelectAggregate
                | RootKind::SelectStream
        )
    }
}

/// Hasura's scalar for a PostgreSQL type (by `typname`).
fn scalar_of(typname: &str) -> String {
    match typname {
        "int4" => "Int",
        "int2" => "smallint",
        "int8" => "bigint",
        "float4" => "Float",
        "bool" => "Boolean",
        "text" | "varchar" | "name" | "citext" => "String",
        other => other,
    }
    .to_string()
}

impl Table {
    pub fn column_by_name(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn root_name(&self, kind: RootKind) -> String {
        match self.meta.configuration.custom_root_fields.get(kind.code()) {
            Some(Value::String(n)) => n.clone(),
            Some(Value::Object(o)) => match o.get("name") {
                Some(Value::String(n)) => n.clone(),
                _ => kind.default_name(&self.type_name),
            },
            _ => kind.default_name(&self.type_name),
        }
    }

    pub fn perm(&self, session: &Session, t: PermType) -> Option<&Permission> {
        match &session.role {
            Role::Admin => None,
            Role::Named(r) => self.meta.perm(t, r).map(|p| &p.permission),
        }
    }

    /// Whether the role's schema has this root field at all (admin: always).
    pub fn exposes(&self, session: &Session, kind: RootKind) -> bool {
        let Role::Named(role) = &session.role else {
            return true;
        };
        let has = |t: PermType| self.meta.perm(t, role).is_some();
        let select = self
            .meta
            .perm(PermType::Select, role)
            .map(|p| &p.permission);
        let root_ok = |code: &str| match select {
            Some(Permission::Select {
                query_root_fields: Some(list),
                ..
            }) => list.iter().any(|f| f == code),
            Some(_) => true,
            None => false,
        };
        match kind {
            RootKind::Select => root_ok("select"),
            RootKind::SelectByPk => root_ok("select_by_pk"),
            RootKind::SelectAggregate => {
                root_ok("select_aggregate")
                    && matches!(
                        select,
                        Some(Permission::Select {
                            allow_aggregations: true,
                            ..
                        })
                    )
            }
            RootKind::SelectStream => select.is_some(),
            RootKind::Insert => has(PermType::Insert),
            // Returning the inserted object needs read access to it.
            RootKind::InsertOne => has(PermType::Insert) && select.is_some(),
            // Hasura types update/delete `where` from the select permission's columns.
            RootKind::Update | RootKind::UpdateByPk | RootKind::UpdateMany => {
                has(PermType::Update) && select.is_some()
            }
            RootKind::Delete | RootKind::DeleteByPk => has(PermType::Delete) && select.is_some(),
        }
    }

    /// Columns the role may read (admin: all).
    pub fn selectable(&self, session: &Session) -> Vec<&Column> {
        match self.perm(session, PermType::Select) {
            None if session.role == Role::Admin => self.columns.iter().collect(),
            Some(Permission::Select { columns, .. }) => self.pick(columns),
            _ => vec![],
        }
    }

    pub fn pick(&self, spec: &ColumnSpec) -> Vec<&Column> {
        match spec {
            ColumnSpec::Star => self.columns.iter().collect(),
            ColumnSpec::Cols(names) => self
                .columns
                .iter()
                .filter(|c| names.contains(&c.name))
                .collect(),
        }
    }
}

pub struct Schema {
    pub tables: Vec<Table>,
    /// Each table's relationships that resolve (`relations.rs`).
    pub relations: super::relations::Relations,
}

impl Schema {
    /// Tracked tables of `source`, with their live columns read on `tx`, a
    /// transaction on that source's database.
    pub async fn load(tx: &Transaction<'_>, md: &Metadata, source: &str) -> Result<Schema, GqlErr> {
        let Some(mut src) = md.sources.get(source).cloned() else {
            return Ok(Schema {
                tables: vec![],
                relations: Default::default(),
            });
        };
        // Inherited roles' permissions, as Hasura resolves them (`inherited_roles.rs`).
        let mut grants = crate::inherited_roles::resolve(md, &mut src);
        let mut computed = crate::computed_fields::for_graphql(tx, &src).await?;
        let src = &src;
        let schemas: Vec<String> = src.tables.keys().map(|t| t.schema.clone()).collect();
        let names: Vec<String> = src.tables.keys().map(|t| t.name.clone()).collect();
        let rows = tx
            .query(
                "SELECT n.nspname::text, c.relname::text, a.attname::text,
                        format_type(a.atttypid, a.atttypmod), t.typname::text
                   FROM pg_catalog.pg_attribute a
                   JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                  WHERE a.attnum > 0 AND NOT a.attisdropped
                    AND (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                  ORDER BY n.nspname, c.relname, a.attnum",
                &[&schemas, &names],
            )
            .await?;
        let mut cols: HashMap<QualifiedTable, Vec<Column>> = HashMap::new();
        for r in rows {
            let qt = QualifiedTable {
                schema: r.get(0),
                name: r.get(1),
            };
            let name: String = r.get(2);
            let field = src
                .tables
                .get(&qt)
                .and_then(|tm| tm.configuration.column_config.get(&name))
                .and_then(|c| c.custom_name.clone())
                .unwrap_or_else(|| name.clone());
            cols.entry(qt).or_default().push(Column {
                name,
                field,
                pg_type: r.get(3),
                scalar: scalar_of(r.get::<_, &str>(4)),
            });
        }
        let tables = src
            .tables
            .iter()
            // A tracked table that is gone is inconsistent metadata: not in the schema.
            .filter_map(|(qt, tm)| {
                let columns = cols.remove(qt)?;
                let type_name = tm.configuration.custom_name.clone().unwrap_or_else(|| {
                    if qt.schema == "public" {
                        qt.name.clone()
                    } else {
                        format!("{}_{}", qt.schema, qt.name)
                    }
                });
                let grants = tm
                    .permissions
                    .values()
                    .flat_map(|m| m.keys())
                    .filter_map(|role| {
                        let g = grants.remove(&(qt.clone(), role.clone()))?;
                        Some((role.clone(), g))
                    })
                    .collect();
                Some(Table {
                    qt: qt.clone(),
                    meta: tm.clone(),
                    type_name,
                    columns,
                    grants,
                    computed: computed.remove(qt).unwrap_or_default(),
                })
            })
            .collect::<Vec<Table>>();
        let relations = super::relations::load(tx, src, &tables).await?;
        Ok(Schema { tables, relations })
    }

    /// The table and kind a root field name denotes, whoever asks.
    pub fn root(&self, name: &str) -> Option<(&Table, RootKind)> {
        self.tables.iter().find_map(|t| {
            RootKind::ALL
                .into_iter()
                .find(|k| t.root_name(*k) == name)
                .map(|k| (t, k))
        })
    }
}
