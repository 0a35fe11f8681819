//! The metadata document: typed where the emulator acts on it (sources, tracked tables,
//! table configuration, permissions), opaque-but-preserved everywhere else, and
//! serialised with Hasura's export ordering and default-omission rules.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::{json, Map, Value};

use crate::permissions::{bool_exp_columns, canonical, ParseErr, PermDef, PermType};

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
pub struct ColumnConfig {
    pub custom_name: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableConfig {
    pub custom_name: Option<String>,
    /// Root field -> normalised value (`"name"` or `{"comment","name"}`).
    pub custom_root_fields: BTreeMap<String, Value>,
    pub column_config: BTreeMap<String, ColumnConfig>,
    pub comment: Option<String>,
}

/// `TableCustomRootFields` (graphql-engine `server/src-lib/Hasura/Table/Cache.hs`):
/// every key its `FromJSON` reads; any other key is ignored, as there.
const ROOT_FIELDS: [&str; 11] = [
    "select",
    "select_by_pk",
    "select_aggregate",
    "select_stream",
    "insert",
    "insert_one",
    "update",
    "update_by_pk",
    "update_many",
    "delete",
    "delete_by_pk",
];

/// graphql-parser-hs `Language.GraphQL.Draft.Syntax.mkName`: `[_A-Za-z][_0-9A-Za-z]*`.
pub fn is_graphql_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `FromJSON Name` (`parseName`): "<text> is not valid GraphQL name".
fn graphql_name(path: &str, v: Option<&Value>) -> Result<Option<String>, ParseErr> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_graphql_name(s) => Ok(Some(s.clone())),
        Some(Value::String(s)) => Err(ParseErr {
            path: path.to_string(),
            msg: format!("{s} is not valid GraphQL name"),
        }),
        Some(_) => Err(ParseErr {
            path: path.to_string(),
            msg: "parsing Name failed, expected String".into(),
        }),
    }
}

impl TableConfig {
    pub fn is_empty(&self) -> bool {
        self.custom_name.is_none()
            && self.custom_root_fields.is_empty()
            && self
                .column_config
                .values()
                .all(|c| c == &ColumnConfig::default())
            && self.comment.is_none()
    }

    pub fn parse(v: &Value) -> Result<TableConfig, ParseErr> {
        let err = |path: &str, msg: String| ParseErr {
            path: path.to_string(),
            msg,
        };
        let o = match v {
            Value::Null => return Ok(TableConfig::default()),
            Value::Object(o) => o,
            _ => {
                return Err(err(
                    "",
                    "parsing TableConfig failed, expected Object".into(),
                ))
            }
        };
        let text = |k: &str, v: Option<&Value>| -> Result<Option<String>, ParseErr> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(err(
                    &format!(".{k}"),
                    "parsing Text failed, expected String".into(),
                )),
            }
        };
        let mut cfg = TableConfig {
            custom_name: graphql_name(".custom_name", o.get("custom_name"))?,
            comment: text("comment", o.get("comment"))?,
            ..Default::default()
        };
        if let Some(Value::Object(crf)) = o.get("custom_root_fields") {
            // `FromJSON CustomRootField`: a string that is not a GraphQL name
            // is no custom name (`G.mkName` gives Nothing); the `name` of the
            // object form is parsed as a `Name` and refused.
            for k in ROOT_FIELDS {
                let Some(v) = crf.get(k) else { continue };
                let path = format!(".custom_root_fields.{k}");
                let norm = match v {
                    Value::Null => continue,
                    Value::String(s) if is_graphql_name(s) => json!(s),
                    Value::String(_) => continue,
                    Value::Object(f) => {
                        let name = graphql_name(&format!("{path}.name"), f.get("name"))?;
                        match (name, f.get("comment")) {
                            (None, None | Some(Value::Null)) => continue,
                            (Some(n), None | Some(Value::Null)) => json!(n),
                            (n, Some(c)) => json!({"comment": c, "name": n}),
                        }
                    }
                    _ => {
                        return Err(err(
                            &path,
                            "parsing CustomRootField failed, expected Object, String or Null"
                                .into(),
                        ))
                    }
                };
                cfg.custom_root_fields.insert(k.to_string(), norm);
            }
            let mut names: Vec<&str> = cfg
                .custom_root_fields
                .values()
                .filter_map(|v| v.as_str().or_else(|| v.get("name")?.as_str()))
                .collect();
            names.sort_unstable();
            let mut dups: Vec<&str> = names
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect();
            dups.dedup();
            if !dups.is_empty() {
                return Err(err(
                    ".custom_root_fields",
                    format!(
                        "the following custom root field names are duplicated: {}",
                        english_list(&dups)
                    ),
                ));
            }
        }
        // The deprecated map only fills in what column_config does not say.
        if let Some(Value::Object(ccn)) = o.get("custom_column_names") {
            for (col, name) in ccn {
                if let Value::String(n) = name {
                    cfg.column_config
                        .entry(col.clone())
                        .or_default()
                        .custom_name = Some(n.clone());
                }
            }
        }
        if let Some(Value::Object(cc)) = o.get("column_config") {
            for (col, c) in cc {
                let c = c.as_object().cloned().unwrap_or_default();
                let entry = ColumnConfig {
                    custom_name: graphql_name(
                        &format!(".column_config.{col}.custom_name"),
                        c.get("custom_name"),
                    )?,
                    comment: text("comment", c.get("comment"))?,
                };
                cfg.column_config.insert(col.clone(), entry);
            }
        }
        cfg.column_config
            .retain(|_, c| c != &ColumnConfig::default());
        Ok(cfg)
    }

    /// Hasura's `ToJSON TableConfig` (an aeson object, so keys sorted), including the
    /// legacy `custom_column_names` echo of every `column_config.*.custom_name`.
    pub fn to_export(&self) -> Value {
        let mut m = Map::new();
        let mut cc = Map::new();
        let mut ccn = Map::new();
        for (col, c) in &self.column_config {
            let mut e = Map::new();
            if let Some(cm) = &c.comment {
                e.insert("comment".into(), json!(cm));
            }
            if let Some(n) = &c.custom_name {
                e.insert("custom_name".into(), json!(n));
                ccn.insert(col.clone(), json!(n));
            }
            if !e.is_empty() {
                cc.insert(col.clone(), Value::Object(e));
            }
        }
        m.insert("column_config".into(), Value::Object(cc));
        if let Some(c) = &self.comment {
            m.insert("comment".into(), json!(c));
        }
        m.insert("custom_column_names".into(), Value::Object(ccn));
        if let Some(n) = &self.custom_name {
            m.insert("custom_name".into(), json!(n));
        }
        m.insert(
            "custom_root_fields".into(),
            Value::Object(
                self.custom_root_fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        );
        Value::Object(m)
    }
}

/// Hasura's `englishList "and"`: "a", "a and b", "a, b and c".
fn english_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
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
/// Hasura's schema cache rebuild introspects the source.
pub type Catalog = HashMap<QualifiedTable, Vec<String>>;

/// Identity of a metadata object, for "did *this* object become inconsistent".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjId {
    Table(String, QualifiedTable),
    Perm(String, QualifiedTable, String, PermType),
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

pub fn inconsistencies(md: &Metadata, catalog: &Catalog) -> Vec<Inconsistency> {
    let mut out = Vec::new();
    for src in md.sources.values() {
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
            let others = tm.relationship_like_names();
            for t in PermType::ALL {
                for pd in tm.perms(t) {
                    if let Some(problem) = permission_problem(pd, columns, &others) {
                        out.push(perm_inconsistency(&src.name, &tm.table, pd, &problem));
                    }
                }
            }
        }
    }
    out
}

fn permission_problem(pd: &PermDef, columns: &[String], others: &[String]) -> Option<String> {
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
    for e in pd.permission.bool_exps() {
        if let Some(c) = bool_exp_columns(e)
            .into_iter()
            .find(|c| !known(c) && !others.contains(c))
        {
            return Some(format!("\"{c}\" does not exist"));
        }
    }
    None
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
