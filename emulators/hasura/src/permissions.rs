//! Typed role permissions, parsed with Hasura's defaults and serialised with its export
//! rules. Kept typed (not raw JSON) so a later `/v1/graphql` endpoint can ask
//! "which columns / which filter does role R have for select on table T".

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

mod boolexp_form;
pub use boolexp_form::{connective, operator, problem as bool_exp_problem, Field, Table, Tables};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PermType {
    Insert,
    Select,
    Update,
    Delete,
}

impl PermType {
    pub const ALL: [PermType; 4] = [
        PermType::Insert,
        PermType::Select,
        PermType::Update,
        PermType::Delete,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PermType::Insert => "insert",
            PermType::Select => "select",
            PermType::Update => "update",
            PermType::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<PermType> {
        PermType::ALL.into_iter().find(|p| p.code() == s)
    }

    /// Key of the per-table list in exported metadata, e.g. `select_permissions`.
    pub fn list_key(self) -> String {
        format!("{}_permissions", self.code())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnSpec {
    Star,
    Cols(Vec<String>),
}

impl ColumnSpec {
    fn to_json(&self) -> Value {
        match self {
            ColumnSpec::Star => json!("*"),
            ColumnSpec::Cols(c) => json!(c),
        }
    }

    pub fn listed(&self) -> &[String] {
        match self {
            ColumnSpec::Star => &[],
            ColumnSpec::Cols(c) => c,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Permission {
    Insert {
        check: Value,
        set: Option<Map<String, Value>>,
        columns: Option<ColumnSpec>,
        backend_only: bool,
        validate_input: Option<Value>,
    },
    Select {
        columns: ColumnSpec,
        computed_fields: Vec<String>,
        filter: Value,
        limit: Option<i64>,
        allow_aggregations: bool,
        query_root_fields: Option<Vec<String>>,
        subscription_root_fields: Option<Vec<String>>,
    },
    Update {
        columns: ColumnSpec,
        set: Option<Map<String, Value>>,
        filter: Value,
        check: Option<Value>,
        backend_only: bool,
        validate_input: Option<Value>,
    },
    Delete {
        filter: Value,
        backend_only: bool,
        validate_input: Option<Value>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PermDef {
    pub role: String,
    pub permission: Permission,
    pub comment: Option<String>,
}

/// A parse failure: JSON path suffix below the permission object, and aeson-style text.
#[derive(Debug)]
pub struct ParseErr {
    pub path: String,
    pub msg: String,
}

fn perr(path: &str, msg: impl Into<String>) -> ParseErr {
    ParseErr {
        path: path.to_string(),
        msg: msg.into(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

fn expected(what: &str, v: &Value) -> String {
    format!(
        "parsing {what} failed, expected {}, but encountered {}",
        match what {
            "Bool" => "Boolean",
            "Int" => "Number",
            "Text" => "String",
            "[a]" => "Array",
            _ => "Object",
        },
        type_name(v)
    )
}

/// aeson's `Map` is ordered by key, so every free-form JSON Hasura stores (bool
/// expressions, presets) comes back with sorted keys.
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn opt<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a Value> {
    o.get(k).filter(|v| !v.is_null())
}

fn req<'a>(o: &'a Map<String, Value>, k: &str) -> Result<&'a Value, ParseErr> {
    o.get(k)
        .ok_or_else(|| perr("", format!("key \"{k}\" not found")))
}

/// Stored the way graphql-engine re-serialises it (`$or` comes back as `_or`).
fn bool_exp(v: &Value, path: &str) -> Result<Value, ParseErr> {
    Ok(canonical(&boolexp_form::stored_form(v, path)?))
}

fn col_spec(v: &Value, path: &str) -> Result<ColumnSpec, ParseErr> {
    match v {
        Value::String(s) if s == "*" => Ok(ColumnSpec::Star),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| perr(&format!("{path}[{i}]"), expected("Text", c)))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ColumnSpec::Cols),
        other => Err(perr(path, expected("[a]", other))),
    }
}

fn bool_field(o: &Map<String, Value>, k: &str) -> Result<bool, ParseErr> {
    match opt(o, k) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(perr(&format!(".{k}"), expected("Bool", other))),
    }
}

fn set_field(o: &Map<String, Value>) -> Result<Option<Map<String, Value>>, ParseErr> {
    match opt(o, "set") {
        None => Ok(None),
        Some(Value::Object(m)) => match canonical(&Value::Object(m.clone())) {
            Value::Object(m) => Ok(Some(m)),
            _ => unreachable!(),
        },
        Some(other) => Err(perr(".set", expected("HashMap", other))),
    }
}

/// Parsed and stored with Hasura's defaults filled in (see `validate_input.rs`).
fn validate_input(o: &Map<String, Value>) -> Result<Option<Value>, ParseErr> {
    crate::validate_input::parse(o)
}

const QUERY_ROOT_FIELDS: [&str; 3] = ["select", "select_by_pk", "select_aggregate"];
const SUBSCRIPTION_ROOT_FIELDS: [&str; 4] = [
    "select",
    "select_by_pk",
    "select_aggregate",
    "select_stream",
];

/// Hasura keeps root-field lists in a HashSet, so order and duplicates are not kept; we
/// emit them in declaration order.
fn root_fields(
    o: &Map<String, Value>,
    key: &str,
    allowed: &[&str],
) -> Result<Option<Vec<String>>, ParseErr> {
    let Some(v) = opt(o, key) else {
        return Ok(None);
    };
    let Value::Array(a) = v else {
        return Err(perr(&format!(".{key}"), expected("[a]", v)));
    };
    let mut seen = BTreeSet::new();
    for (i, f) in a.iter().enumerate() {
        let s = f.as_str().filter(|s| allowed.contains(s)).ok_or_else(|| {
            perr(
                &format!(".{key}[{i}]"),
                format!(
                    "Invalid root field {f}; expected one of {}",
                    allowed.join(", ")
                ),
            )
        })?;
        seen.insert(s.to_string());
    }
    Ok(Some(
        allowed
            .iter()
            .filter(|f| seen.contains(**f))
            .map(|f| f.to_string())
            .collect(),
    ))
}

impl Permission {
    pub fn parse(ptype: PermType, v: &Value) -> Result<Permission, ParseErr> {
        let Value::Object(o) = v else {
            return Err(perr("", expected("Object", v)));
        };
        let o = &o.clone();
        Ok(match ptype {
            PermType::Insert => Permission::Insert {
                check: bool_exp(req(o, "check")?, ".check")?,
                set: set_field(o)?,
                columns: opt(o, "columns")
                    .map(|c| col_spec(c, ".columns"))
                    .transpose()?,
                backend_only: bool_field(o, "backend_only")?,
                validate_input: validate_input(o)?,
            },
            PermType::Select => Permission::Select {
                columns: col_spec(req(o, "columns")?, ".columns")?,
                computed_fields: match opt(o, "computed_fields") {
                    None => vec![],
                    Some(c) => match col_spec(c, ".computed_fields")? {
                        ColumnSpec::Cols(c) => c,
                        ColumnSpec::Star => {
                            return Err(perr(".computed_fields", expected("[a]", c)))
                        }
                    },
                },
                filter: bool_exp(req(o, "filter")?, ".filter")?,
                limit: match opt(o, "limit") {
                    None => None,
                    Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => n.as_i64(),
                    Some(other) => {
                        return Err(perr(
                            ".limit",
                            if other.is_number() {
                                "unexpected negative value".to_string()
                            } else {
                                expected("Int", other)
                            },
                        ))
                    }
                },
                allow_aggregations: bool_field(o, "allow_aggregations")?,
                query_root_fields: root_fields(o, "query_root_fields", &QUERY_ROOT_FIELDS)?,
                subscription_root_fields: root_fields(
                    o,
                    "subscription_root_fields",
                    &SUBSCRIPTION_ROOT_FIELDS,
                )?,
            },
            PermType::Update => Permission::Update {
                columns: col_spec(req(o, "columns")?, ".columns")?,
                set: set_field(o)?,
                filter: bool_exp(req(o, "filter")?, ".filter")?,
                check: opt(o, "check").map(|c| bool_exp(c, ".check")).transpose()?,
                backend_only: bool_field(o, "backend_only")?,
                validate_input: validate_input(o)?,
            },
            PermType::Delete => Permission::Delete {
                filter: bool_exp(req(o, "filter")?, ".filter")?,
                backend_only: bool_field(o, "backend_only")?,
                validate_input: validate_input(o)?,
            },
        })
    }

    pub fn perm_type(&self) -> PermType {
        match self {
            Permission::Insert { .. } => PermType::Insert,
            Permission::Select { .. } => PermType::Select,
            Permission::Update { .. } => PermType::Update,
            Permission::Delete { .. } => PermType::Delete,
        }
    }

    /// Export form: Hasura's `*PermToOrdJSON` key order, defaults omitted.
    pub fn to_export(&self) -> Value {
        let mut m = Map::new();
        let set_pair = |m: &mut Map<String, Value>, set: &Option<Map<String, Value>>| {
            if let Some(s) = set.as_ref().filter(|s| !s.is_empty()) {
                m.insert("set".into(), Value::Object(s.clone()));
            }
        };
        match self {
            Permission::Insert {
                check,
                set,
                columns,
                backend_only,
                validate_input,
            } => {
                m.insert("check".into(), check.clone());
                set_pair(&mut m, set);
                if let Some(c) = columns {
                    m.insert("columns".into(), c.to_json());
                }
                if *backend_only {
                    m.insert("backend_only".into(), json!(true));
                }
                if let Some(v) = validate_input {
                    m.insert("validate_input".into(), v.clone());
                }
            }
            Permission::Select {
                columns,
                computed_fields,
                filter,
                limit,
                allow_aggregations,
                query_root_fields,
                subscription_root_fields,
            } => {
                m.insert("columns".into(), columns.to_json());
                if !computed_fields.is_empty() {
                    m.insert("computed_fields".into(), json!(computed_fields));
                }
                m.insert("filter".into(), filter.clone());
                if let Some(l) = limit {
                    m.insert("limit".into(), json!(l));
                }
                if *allow_aggregations {
                    m.insert("allow_aggregations".into(), json!(true));
                }
                if let Some(q) = query_root_fields {
                    m.insert("query_root_fields".into(), json!(q));
                }
                if let Some(s) = subscription_root_fields {
                    m.insert("subscription_root_fields".into(), json!(s));
                }
            }
            Permission::Update {
                columns,
                set,
                filter,
                check,
                backend_only,
                validate_input,
            } => {
                m.insert("columns".into(), columns.to_json());
                m.insert("filter".into(), filter.clone());
                // Always present, `null` when absent: Hasura's serialiser writes it that way.
                m.insert("check".into(), check.clone().unwrap_or(Value::Null));
                set_pair(&mut m, set);
                if *backend_only {
                    m.insert("backend_only".into(), json!(true));
                }
                if let Some(v) = validate_input {
                    m.insert("validate_input".into(), v.clone());
                }
            }
            Permission::Delete {
                filter,
                backend_only,
                validate_input,
            } => {
                m.insert("filter".into(), filter.clone());
                if *backend_only {
                    m.insert("backend_only".into(), json!(true));
                }
                if let Some(v) = validate_input {
                    m.insert("validate_input".into(), v.clone());
                }
            }
        }
        Value::Object(m)
    }

    /// Internal form (error `internal` / inconsistent object definitions): defaults filled in.
    pub fn to_internal(&self) -> Value {
        let mut v = self.to_export();
        let m = v.as_object_mut().expect("object");
        match self {
            Permission::Insert { .. } => {
                m.entry("set").or_insert(json!({}));
                m.entry("backend_only").or_insert(json!(false));
            }
            Permission::Select { .. } => {
                m.entry("computed_fields").or_insert(json!([]));
                m.entry("allow_aggregations").or_insert(json!(false));
            }
            Permission::Update { .. } => {
                m.entry("set").or_insert(json!({}));
                m.entry("backend_only").or_insert(json!(false));
            }
            Permission::Delete { .. } => {
                m.entry("backend_only").or_insert(json!(false));
            }
        }
        canonical(&v)
    }

    /// Columns named explicitly (column lists and presets); `*` names none.
    pub fn referenced_columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Permission::Insert { set, columns, .. } => {
                if let Some(c) = columns {
                    out.extend(c.listed().iter().cloned());
                }
                if let Some(s) = set {
                    out.extend(s.keys().cloned());
                }
            }
            Permission::Select { columns, .. } => out.extend(columns.listed().iter().cloned()),
            Permission::Update { columns, set, .. } => {
                out.extend(columns.listed().iter().cloned());
                if let Some(s) = set {
                    out.extend(s.keys().cloned());
                }
            }
            Permission::Delete { .. } => {}
        }
        out
    }

    /// The boolean expressions that are evaluated against this table's rows.
    /// graphql-engine's select-permission build (its EnableAggregateRootField
    /// test: 400 `invalid-configuration`): `select_aggregate` may only be a
    /// root field of a permission that allows aggregations.
    pub fn aggregate_problem(&self) -> Option<String> {
        let Permission::Select {
            allow_aggregations: false,
            query_root_fields,
            subscription_root_fields,
            ..
        } = self
        else {
            return None;
        };
        let lists = [query_root_fields, subscription_root_fields];
        lists
            .into_iter()
            .flatten()
            .any(|l| l.iter().any(|f| f == "select_aggregate"))
            .then(|| "The \"select_aggregate\" root field can only be enabled in the query_root_fields or  the subscription_root_fields when \"allow_aggregations\" is set to true".to_string())
    }

    pub fn bool_exps(&self) -> Vec<&Value> {
        match self {
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

    /// Drops every reference to `column`; false when the permission can't survive without
    /// it. Hasura drops the whole permission on a cascaded column drop, so callers use
    /// this only to decide *whether* the permission depends on the column.
    pub fn depends_on_column(&self, column: &str) -> bool {
        self.referenced_columns().iter().any(|c| c == column)
            || self
                .bool_exps()
                .iter()
                .any(|e| bool_exp_columns(e).iter().any(|c| c == column))
    }
}

/// Column (or relationship) names a bool expression refers to at its top level, looking
/// through `_and`/`_or`/`_not`. Names under a relationship or `_exists` belong to another
/// table and are not returned.
pub fn bool_exp_columns(e: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_columns(e, &mut out);
    out
}

fn collect_columns(e: &Value, out: &mut Vec<String>) {
    match e {
        Value::Object(m) => {
            for (k, v) in m {
                match k.as_str() {
                    "_and" | "$and" | "_or" | "$or" => {
                        if let Value::Array(a) = v {
                            a.iter().for_each(|x| collect_columns(x, out));
                        }
                    }
                    "_not" | "$not" => collect_columns(v, out),
                    "_exists" | "$exists" => {}
                    col => out.push(col.to_string()),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_columns(x, out)),
        _ => {}
    }
}

impl PermDef {
    pub fn to_export(&self) -> Value {
        let mut m = Map::new();
        m.insert("role".into(), json!(self.role));
        m.insert("permission".into(), self.permission.to_export());
        if let Some(c) = &self.comment {
            m.insert("comment".into(), json!(c));
        }
        Value::Object(m)
    }

    pub fn parse(ptype: PermType, v: &Value) -> Result<PermDef, ParseErr> {
        let Value::Object(o) = v else {
            return Err(perr("", expected("PermDef", v)));
        };
        let role = match req(o, "role")? {
            Value::String(s) => s.clone(),
            other => return Err(perr(".role", expected("Text", other))),
        };
        let permission = Permission::parse(ptype, req(o, "permission")?).map_err(|e| ParseErr {
            path: format!(".permission{}", e.path),
            msg: e.msg,
        })?;
        let comment = match opt(o, "comment") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => return Err(perr(".comment", expected("Text", other))),
        };
        Ok(PermDef {
            role,
            permission,
            comment,
        })
    }
}
