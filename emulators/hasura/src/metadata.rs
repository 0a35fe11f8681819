//! The metadata document: typed where the emulator acts on it (sources, tracked tables,
//! table configuration, permissions), opaque-but-preserved everywhere else, and
//! serialised with Hasura's export ordering and default-omission rules.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::{json, Map, Value};

use crate::permissions::{
    bool_exp_problem, canonical, Field, ParseErr, PermDef, PermType, Table, Tables,
};
use crate::sources::Catalogs;
pub use crate::table_config::{ColumnConfig, TableConfig};

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedTable {
    // Field order matters: Hasura sorts tables by (schema, name).
    pub schema: String,
    pub name: String,
}

impl QualifiedTable {
    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "schema": self.schema})
    }

    /// Hasura's `TableName`: a bare string means schema `public`.
    pub fn parse(v: &Value) -> Result<QualifiedTable, String> {
        match v {
            Value::String(s) => Ok(QualifiedTable {
                schema: "public".into(),
                name: s.clone(),
            }),
            Value::Object(o) => {
                let name = match o.get("name") {
                    Some(Value::String(s)) => s.clone(),
                    Some(_) => return Err("parsing Text failed, expected String".into()),
                    None => return Err("key \"name\" not found".into()),
                };
                let schema = match o.get("schema") {
                    None | Some(Value::Null) => "public".to_string(),
                    Some(Value::String(s)) => s.clone(),
                    Some(_) => return Err("parsing Text failed, expected String".into()),
                };
                Ok(QualifiedTable { schema, name })
            }
            other => Err(format!(
                "parsing TableName failed, expected String or Object, but encountered {}",
                match other {
                    Value::Null => "Null",
                    Value::Bool(_) => "Boolean",
                    Value::Number(_) => "Number",
                    _ => "Array",
                }
            )),
        }
    }
}

/// Hasura prints public tables without their schema.
impl fmt::Display for QualifiedTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.schema == "public" {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}.{}", self.schema, self.name)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableMeta {
    pub table: QualifiedTable,
    pub is_enum: bool,
    pub configuration: TableConfig,
    /// Role -> permission, one map per permission type (BTreeMap: export sorts by role).
    pub permissions: BTreeMap<PermType, BTreeMap<String, PermDef>>,
    /// Relationships, event triggers, ... kept verbatim.
    pub extra: Map<String, Value>,
}

/// Position of every key in Hasura's `tableMetaToOrdJSON`.
const TABLE_KEY_ORDER: [&str; 14] = [
    "table",
    "is_enum",
    "configuration",
    "object_relationships",
    "array_relationships",
    "computed_fields",
    "remote_relationships",
    "insert_permissions",
    "select_permissions",
    "update_permissions",
    "delete_permissions",
    "event_triggers",
    "apollo_federation_config",
    "logical_model",
];

impl TableMeta {
    pub fn new(table: QualifiedTable) -> Self {
        TableMeta {
            table,
            ..Default::default()
        }
    }

    pub fn perms(&self, t: PermType) -> impl Iterator<Item = &PermDef> {
        self.permissions
            .get(&t)
            .into_iter()
            .flat_map(|m| m.values())
    }

    pub fn perm(&self, t: PermType, role: &str) -> Option<&PermDef> {
        self.permissions.get(&t).and_then(|m| m.get(role))
    }

    /// Names a permission's bool expression may use besides columns.
    pub fn relationship_like_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for key in [
            "object_relationships",
            "array_relationships",
            "computed_fields",
            "remote_relationships",
        ] {
            if let Some(Value::Array(a)) = self.extra.get(key) {
                out.extend(
                    a.iter()
                        .filter_map(|r| r.get("name").and_then(Value::as_str))
                        .map(str::to_string),
                );
            }
        }
        out
    }

    pub fn to_export(&self) -> Value {
        let mut pairs: Vec<(String, Value)> = vec![("table".into(), self.table.to_json())];
        if self.is_enum {
            pairs.push(("is_enum".into(), json!(true)));
        }
        if !self.configuration.is_empty() {
            pairs.push(("configuration".into(), self.configuration.to_export()));
        }
        for t in PermType::ALL {
            let list: Vec<Value> = self.perms(t).map(PermDef::to_export).collect();
            if !list.is_empty() {
                pairs.push((t.list_key(), Value::Array(list)));
            }
        }
        for (k, v) in &self.extra {
            // Hasura omits empty lists entirely.
            if v.as_array().is_some_and(|a| a.is_empty()) || v.is_null() {
                continue;
            }
            pairs.push((k.clone(), v.clone()));
        }
        let rank = |k: &str| {
            TABLE_KEY_ORDER
                .iter()
                .position(|x| *x == k)
                .unwrap_or(TABLE_KEY_ORDER.len())
        };
        pairs.sort_by_key(|(k, _)| rank(k));
        Value::Object(pairs.into_iter().collect())
    }

    pub fn parse(v: &Value) -> Result<TableMeta, ParseErr> {
        let err = |path: String, msg: String| ParseErr { path, msg };
        let Value::Object(o) = v else {
            return Err(err(
                String::new(),
                "parsing TableMetadata failed, expected Object".into(),
            ));
        };
        let table = QualifiedTable::parse(o.get("table").unwrap_or(&Value::Null))
            .map_err(|m| err(".table".into(), m))?;
        let mut tm = TableMeta::new(table);
        tm.is_enum = o.get("is_enum").and_then(Value::as_bool).unwrap_or(false);
        if let Some(c) = o.get("configuration") {
            tm.configuration = TableConfig::parse(c).map_err(|e| ParseErr {
                path: format!(".configuration{}", e.path),
                msg: e.msg,
            })?;
        }
        for t in PermType::ALL {
            let key = t.list_key();
            let Some(list) = o.get(&key) else { continue };
            let Value::Array(list) = list else {
                return Err(err(format!(".{key}"), "expected Array".into()));
            };
            let map = tm.permissions.entry(t).or_default();
            for (i, p) in list.iter().enumerate() {
                let pd = PermDef::parse(t, p).map_err(|e| ParseErr {
                    path: format!(".{key}[{i}]{}", e.path),
                    msg: e.msg,
                })?;
                map.insert(pd.role.clone(), pd);
            }
        }
        tm.permissions.retain(|_, m| !m.is_empty());
        for (k, v) in o {
            let typed = matches!(k.as_str(), "table" | "is_enum" | "configuration")
                || k.ends_with("_permissions");
            if !typed {
                tm.extra.insert(k.clone(), v.clone());
            }
        }
        crate::relationships::normalize(&mut tm);
        Ok(tm)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    pub kind: String,
    pub tables: BTreeMap<QualifiedTable, TableMeta>,
    pub configuration: Value,
    pub extra: Map<String, Value>,
}

impl Source {
    pub fn default_postgres() -> Source {
        Source {
            name: "default".into(),
            kind: "postgres".into(),
            tables: BTreeMap::new(),
            configuration: json!({
                "connection_info": {
                    "database_url": {"from_env": "HASURA_GRAPHQL_DATABASE_URL"},
                    "isolation_level": "read-committed",
                    "pool_settings": {
                        "connection_lifetime": 600,
                        "idle_timeout": 180,
                        "max_connections": 50,
                        "retries": 1
                    },
                    "use_prepared_statements": true
                }
            }),
            extra: Map::new(),
        }
    }

    /// `sourceMetaToOrdJSON`: name, kind, tables, the source-level lists, configuration,
    /// then the optional settings.
    pub fn to_export(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("kind".into(), json!(self.kind));
        m.insert(
            "tables".into(),
            Value::Array(self.tables.values().map(TableMeta::to_export).collect()),
        );
        let before_config = [
            "functions",
            "native_queries",
            "stored_procedures",
            "logical_models",
        ];
        for k in before_config {
            if let Some(v) = self.extra.get(k).filter(|v| !is_empty_list(v)) {
                m.insert(k.into(), v.clone());
            }
        }
        m.insert("configuration".into(), self.configuration.clone());
        for (k, v) in &self.extra {
            if !before_config.contains(&k.as_str()) && !is_empty_list(v) {
                m.insert(k.clone(), v.clone());
            }
        }
        Value::Object(m)
    }

    pub fn parse(v: &Value) -> Result<Source, ParseErr> {
        let err = |path: &str, msg: &str| ParseErr {
            path: path.into(),
            msg: msg.into(),
        };
        let o = v
            .as_object()
            .ok_or_else(|| err("", "parsing SourceMetadata failed, expected Object"))?;
        let name = o
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| err("", "key \"name\" not found"))?
            .to_string();
        let kind = o
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("postgres")
            .to_string();
        let configuration = o
            .get("configuration")
            .cloned()
            .ok_or_else(|| err("", "key \"configuration\" not found"))?;
        let mut tables = BTreeMap::new();
        if let Some(list) = o.get("tables") {
            let list = list
                .as_array()
                .ok_or_else(|| err(".tables", "expected Array"))?;
            for (i, t) in list.iter().enumerate() {
                let tm = TableMeta::parse(t).map_err(|e| ParseErr {
                    path: format!(".tables[{i}]{}", e.path),
                    msg: e.msg,
                })?;
                tables.insert(tm.table.clone(), tm);
            }
        }
        let extra = o
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "name" | "kind" | "tables" | "configuration"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Source {
            name,
            kind,
            tables,
            configuration: canonical(&configuration),
            extra,
        })
    }
}

fn is_empty_list(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(|a| a.is_empty())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub sources: BTreeMap<String, Source>,
    /// Remote schemas, actions, allow lists, ... kept verbatim in their given order.
    pub extra: Map<String, Value>,
}

impl Default for Metadata {
    fn default() -> Self {
        let mut sources = BTreeMap::new();
        sources.insert("default".to_string(), Source::default_postgres());
        Metadata {
            sources,
            extra: Map::new(),
        }
    }
}

impl Metadata {
    pub fn to_export(&self) -> Value {
        let mut m = Map::new();
        m.insert("version".into(), json!(3));
        m.insert(
            "sources".into(),
            Value::Array(self.sources.values().map(Source::to_export).collect()),
        );
        for (k, v) in &self.extra {
            if !is_empty_list(v) && v != &json!({}) {
                m.insert(k.clone(), v.clone());
            }
        }
        Value::Object(m)
    }

    pub fn parse(v: &Value) -> Result<Metadata, ParseErr> {
        let err = |path: &str, msg: &str| ParseErr {
            path: path.into(),
            msg: msg.into(),
        };
        let o = v
            .as_object()
            .ok_or_else(|| err("", "parsing Metadata failed, expected Object"))?;
        match o.get("version") {
            Some(Value::Number(n)) if n.as_i64() == Some(3) => {}
            None => return Err(err("", "key \"version\" not found")),
            Some(other) => {
                return Err(err(
                    ".version",
                    &format!("unexpected metadata version {other}; only version 3 is supported"),
                ))
            }
        }
        let mut sources = BTreeMap::new();
        if let Some(list) = o.get("sources") {
            let list = list
                .as_array()
                .ok_or_else(|| err(".sources", "expected Array"))?;
            for (i, s) in list.iter().enumerate() {
                let src = Source::parse(s).map_err(|e| ParseErr {
                    path: format!(".sources[{i}]{}", e.path),
                    msg: e.msg,
                })?;
                sources.insert(src.name.clone(), src);
            }
        }
        let extra = o
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "version" | "sources"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Metadata { sources, extra })
    }
}

/// Columns of every user relation in the database, read fresh for each request the way
/// Hasura's schema cache rebuild introspects the source; a map of table to column names,
/// with each column's type (`format_type`) beside it for boolean-expression checks.
#[derive(Debug, Default)]
pub struct Catalog {
    columns: HashMap<QualifiedTable, Vec<String>>,
    pub types: HashMap<(QualifiedTable, String), String>,
    /// Foreign keys, which `foreign_key_constraint_on` relationships resolve through.
    pub foreign_keys: Vec<crate::relationships::ForeignKey>,
    /// User functions, for computed fields (`computed_fields.rs`).
    pub functions: crate::computed_fields::Functions,
}

impl std::ops::Deref for Catalog {
    type Target = HashMap<QualifiedTable, Vec<String>>;
    fn deref(&self) -> &Self::Target {
        &self.columns
    }
}

impl std::ops::DerefMut for Catalog {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.columns
    }
}

/// Identity of a metadata object, for "did *this* object become inconsistent".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjId {
    Table(String, QualifiedTable),
    Perm(String, QualifiedTable, String, PermType),
    /// A relationship (source, table, name).
    Rel(String, QualifiedTable, String),
    ComputedField(String, QualifiedTable, String),
    InheritedRole(String),
    /// A source whose database cannot be resolved or reached (`sources.rs`).
    Source(String),
}

#[derive(Debug, Clone)]
pub struct Inconsistency {
    pub id: ObjId,
    pub json: Value,
}

impl Inconsistency {
    /// `imReason` prefixes every reason with "Inconsistent object: ".
    pub fn reason(&self) -> &str {
        self.json["reason"].as_str().unwrap_or_default()
    }
}

pub fn inconsistencies(md: &Metadata, catalogs: &Catalogs) -> Vec<Inconsistency> {
    let mut out = Vec::new();
    for src in md.sources.values() {
        // An unreachable source is one inconsistency; its tables are not checked.
        let catalog = match catalogs.of(src) {
            Ok(c) => c,
            Err(reason) => {
                out.push(crate::sources::inconsistency(src, reason));
                continue;
            }
        };
        for tm in src.tables.values() {
            let Some(columns) = catalog.get(&tm.table) else {
                out.push(Inconsistency {
                    id: ObjId::Table(src.name.clone(), tm.table.clone()),
                    json: json!({
                        "definition": tm.table.to_json(),
                        "name": format!("table {} in source {}", tm.table, src.name),
                        "reason": format!(
                            "Inconsistent object: no such table/view exists in source: \"{}\"",
                            tm.table
                        ),
                        "type": "table",
                    }),
                });
                continue;
            };
            let tables = PermTables {
                md: src,
                catalog,
                root: &tm.table,
            };
            for t in PermType::ALL {
                for pd in tm.perms(t) {
                    let problem = permission_problem(pd, columns, &tables).or_else(|| {
                        crate::computed_fields::permission_problem(&pd.permission, src, tm, catalog)
                    });
                    if let Some(problem) = problem {
                        out.push(perm_inconsistency(&src.name, &tm.table, pd, &problem));
                    }
                }
            }
            out.extend(crate::computed_fields::inconsistencies(src, tm, catalog));
        }
        crate::relationships::inconsistencies(src, catalog, &mut out);
    }
    out.extend(crate::inherited_roles::inconsistencies(md));
    out
}

/// The tables of one source as a permission's boolean expression sees them.
struct PermTables<'a> {
    md: &'a Source,
    catalog: &'a Catalog,
    root: &'a QualifiedTable,
}

impl Tables for PermTables<'_> {
    fn field(&self, table: &Table, name: &str) -> Field {
        let t = match table {
            None => self.root.clone(),
            Some((schema, name)) => QualifiedTable {
                schema: schema.clone(),
                name: name.clone(),
            },
        };
        if let Some(ty) = self.catalog.types.get(&(t.clone(), name.to_string())) {
            return Field::Column(ty.clone());
        }
        let Some(tm) = self.md.tables.get(&t) else {
            return Field::Missing;
        };
        if let Some(rel) = crate::relationships::find(tm, name) {
            // Followed when it resolves; a broken one is its own inconsistency.
            return match crate::relationships::resolve(self.md, self.catalog, &t, &rel) {
                Ok(r) => Field::Relationship(r.remote.schema, r.remote.name),
                Err(_) => Field::Other,
            };
        }
        match tm.relationship_like_names().iter().any(|n| n == name) {
            true => Field::Other,
            false => Field::Missing,
        }
    }

    fn tracked(&self, schema: &str, name: &str) -> bool {
        let t = QualifiedTable {
            schema: schema.into(),
            name: name.into(),
        };
        self.md.tables.contains_key(&t) && self.catalog.contains_key(&t)
    }
}

fn permission_problem(pd: &PermDef, columns: &[String], tables: &dyn Tables) -> Option<String> {
    if pd.role == "admin" {
        return Some("cannot define permission for admin role".into());
    }
    let known = |c: &str| columns.iter().any(|x| x == c);
    if let Some(c) = pd
        .permission
        .referenced_columns()
        .into_iter()
        .find(|c| !known(c))
    {
        return Some(format!("column \"{c}\" does not exist"));
    }
    if let Some(p) = pd.permission.aggregate_problem() {
        return Some(p);
    }
    pd.permission
        .bool_exps()
        .into_iter()
        .find_map(|e| bool_exp_problem(e, tables))
}

pub fn perm_inconsistency(
    source: &str,
    table: &QualifiedTable,
    pd: &PermDef,
    problem: &str,
) -> Inconsistency {
    let t = pd.permission.perm_type();
    Inconsistency {
        id: ObjId::Perm(source.into(), table.clone(), pd.role.clone(), t),
        json: json!({
            "definition": {
                "comment": pd.comment,
                "permission": pd.permission.to_internal(),
                "role": pd.role,
                "source": source,
                "table": table.to_json(),
            },
            "name": format!("{}_permission {} in table {} in source {}", t.code(), pd.role, table, source),
            "reason": format!(
                "Inconsistent object: in table \"{table}\": in permission for role \"{}\": {problem}",
                pd.role
            ),
            "type": format!("{}_permission", t.code()),
        }),
    }
}
