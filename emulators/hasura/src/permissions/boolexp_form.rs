//! Permission boolean expressions as graphql-engine parses, stores and checks them.
//!
//! Parsing and storing mirror `FromJSON`/`ToJSON (GBoolExp b a)` in
//! server/src-lib/Hasura/RQL/IR/BoolExp.hs (hasura/graphql-engine, commit
//! 0017d0caec0b868d43d12df23d6f94874bd3783a): every key is a connective (`$and`/`_and`,
//! `$or`/`_or`, `$not`/`_not`, `$exists`/`_exists`) or a field whose value (`ColExp`) is
//! raw JSON kept verbatim; an object is the conjunction of its keys and is written back as
//! a plain object when their keys are unique, as `{"_and": [...]}` otherwise. `_exists`
//! is `{"_table", "_where"}` with the table a `QualifiedObject` (`"t"` or
//! `{"schema"?, "name"}`), written back as `{"schema", "name"}`.
//!
//! Checking mirrors `parseBoolExpOperations` in
//! server/src-lib/Hasura/Backends/Postgres/DDL/BoolExp.hs (same repository, commit
//! 313859722a787ce29c4d01fb7229124c033a47da, unchanged on master): a column's value is
//! either a plain value (`_eq`) or an object of operators, each in a `_` or `$` spelling.

use serde_json::{Map, Value};

use super::{expected, perr, ParseErr};

enum Exp {
    And(Vec<Exp>),
    Or(Vec<Exp>),
    Not(Box<Exp>),
    Exists(Value, Box<Exp>),
    Field(String, Value),
}

/// The connective a key spells, if any.
pub fn connective(key: &str) -> Option<&'static str> {
    match key {
        "$and" | "_and" => Some("_and"),
        "$or" | "_or" => Some("_or"),
        "$not" | "_not" => Some("_not"),
        "$exists" | "_exists" => Some("_exists"),
        _ => None,
    }
}

/// Postgres column operators, `_` spelling; each is also accepted with `$`.
const OPERATORS: &[&str] = &[
    "_cast",
    "_eq",
    "_ne",
    "_neq",
    "_in",
    "_nin",
    "_gt",
    "_lt",
    "_gte",
    "_lte",
    "_like",
    "_nlike",
    "_ilike",
    "_nilike",
    "_similar",
    "_nsimilar",
    "_regex",
    "_iregex",
    "_nregex",
    "_niregex",
    "_is_null",
    "_contains",
    "_contained_in",
    "_has_key",
    "_has_keys_any",
    "_has_keys_all",
    "_st_contains",
    "_st_crosses",
    "_st_equals",
    "_st_overlaps",
    "_st_touches",
    "_st_within",
    "_st_intersects",
    "_st_3d_intersects",
    "_st_d_within",
    "_st_3d_d_within",
    "_ceq",
    "_cne",
    "_cneq",
    "_cgt",
    "_clt",
    "_cgte",
    "_clte",
    "_ancestor",
    "_ancestor_any",
    "_descendant",
    "_descendant_any",
    "_matches",
    "_matches_any",
    "_matches_fulltext",
];

/// The operator (in its `_` spelling) a key names, if any.
pub fn operator(key: &str) -> Option<&'static str> {
    let bare = key.strip_prefix('$').or_else(|| key.strip_prefix('_'))?;
    OPERATORS.iter().copied().find(|o| &o[1..] == bare)
}

/// `toJSON . parseJSON`: the form graphql-engine stores and exports. `path` is the JSON
/// path suffix of `v` below the permission object, for aeson-style errors.
pub fn stored_form(v: &Value, path: &str) -> Result<Value, ParseErr> {
    Ok(encode(&parse(v, path)?))
}

fn parse(v: &Value, path: &str) -> Result<Exp, ParseErr> {
    let Value::Object(o) = v else {
        return Err(perr(path, expected("boolean expression", v)));
    };
    let parts = o
        .iter()
        .map(|(k, v)| parse_entry(k, v, &format!("{path}.{k}")));
    Ok(Exp::And(parts.collect::<Result<_, _>>()?))
}

fn parse_entry(key: &str, v: &Value, path: &str) -> Result<Exp, ParseErr> {
    let list = |v: &Value| match v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| parse(x, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>(),
        other => Err(perr(path, expected("[a]", other))),
    };
    Ok(match connective(key) {
        Some("_and") => Exp::And(list(v)?),
        Some("_or") => Exp::Or(list(v)?),
        Some("_not") => Exp::Not(Box::new(parse(v, path)?)),
        Some(_) => {
            let Value::Object(o) = v else {
                return Err(perr(path, expected("_exists", v)));
            };
            let field = |k: &str| {
                o.get(k)
                    .ok_or_else(|| perr(path, format!("key \"{k}\" not found")))
            };
            let table = table(field("_table")?, &format!("{path}._table"))?;
            let cond = parse(field("_where")?, &format!("{path}._where"))?;
            Exp::Exists(table, Box::new(cond))
        }
        None => Exp::Field(key.to_string(), v.clone()),
    })
}

fn table(v: &Value, path: &str) -> Result<Value, ParseErr> {
    let text = |v: &Value, p: &str| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| perr(p, expected("Text", v)))
    };
    let (schema, name) = match v {
        Value::String(n) => ("public".to_string(), n.clone()),
        Value::Object(o) => (
            match o.get("schema") {
                None | Some(Value::Null) => "public".to_string(),
                Some(s) => text(s, &format!("{path}.schema"))?,
            },
            text(
                o.get("name")
                    .ok_or_else(|| perr(path, "key \"name\" not found"))?,
                &format!("{path}.name"),
            )?,
        ),
        _ => return Err(perr(path, "expecting a string/object for QualifiedObject")),
    };
    let mut m = Map::new();
    m.insert("schema".into(), Value::String(schema));
    m.insert("name".into(), Value::String(name));
    Ok(Value::Object(m))
}

fn encode(e: &Exp) -> Value {
    if let Exp::And(parts) = e {
        let kvs: Vec<(String, Value)> = parts.iter().map(key_value).collect();
        let m: Map<String, Value> = kvs.iter().cloned().collect();
        if m.len() == kvs.len() {
            return Value::Object(m);
        }
    }
    Value::Object([key_value(e)].into_iter().collect())
}

fn key_value(e: &Exp) -> (String, Value) {
    let list = |es: &[Exp]| Value::Array(es.iter().map(encode).collect());
    match e {
        Exp::And(es) => ("_and".into(), list(es)),
        Exp::Or(es) => ("_or".into(), list(es)),
        Exp::Not(e) => ("_not".into(), encode(e)),
        Exp::Exists(t, w) => {
            let m: Map<String, Value> = [
                ("_table".to_string(), t.clone()),
                ("_where".to_string(), encode(w)),
            ]
            .into_iter()
            .collect();
            ("_exists".into(), Value::Object(m))
        }
        Exp::Field(k, v) => (k.clone(), v.clone()),
    }
}

/// What a name is on a table, as graphql-engine's schema cache knows it.
pub enum Field {
    /// A column, with its `format_type`.
    Column(String),
    /// A relationship to the tracked table `(schema, name)`: the value under it is a
    /// boolean expression on that table (`annColExp`'s `FIRelationship` case).
    Relationship(String, String),
    /// A computed field, or a relationship that does not resolve.
    Other,
    Missing,
}

/// A `(schema, name)` table; `None` stands for the permission's own (root) table.
pub type Table = Option<(String, String)>;

/// The tracked tables a permission's expression may name.
pub trait Tables {
    fn field(&self, table: &Table, name: &str) -> Field;
    fn tracked(&self, schema: &str, name: &str) -> bool;
}

impl dyn Tables + '_ {
    fn column(&self, table: &Table, name: &str) -> Option<String> {
        match self.field(table, name) {
            Field::Column(ty) => Some(ty),
            _ => None,
        }
    }
}

/// The first reason graphql-engine refuses a stored expression (`annBoolExp` in
/// server/src-lib/Hasura/RQL/DDL/Permission/Internal.hs): a field that is neither a
/// column nor a relationship / computed field (`askFieldInfo`: `"<f>" does not exist`),
/// an `_exists` on a table that is not tracked (`askFieldInfoMapSource`: `table "<t>"
/// does not exist`), or a comparison `parseBoolExpOperations` refuses. Relationship
/// paths are followed into the remote table.
pub fn problem(e: &Value, tables: &dyn Tables) -> Option<String> {
    problem_in(e, tables, &None)
}

fn problem_in(e: &Value, tables: &dyn Tables, current: &Table) -> Option<String> {
    let Value::Object(m) = e else { return None };
    m.iter().find_map(|(k, v)| match connective(k) {
        Some("_and" | "_or") => v
            .as_array()?
            .iter()
            .find_map(|x| problem_in(x, tables, current)),
        Some("_not") => problem_in(v, tables, current),
        Some(_) => {
            let (t, w) = (v.get("_table")?, v.get("_where")?);
            let (schema, name) = (t["schema"].as_str()?, t["name"].as_str()?);
            if !tables.tracked(schema, name) {
                let shown = if schema == "public" {
                    name.to_string()
                } else {
                    format!("{schema}.{name}")
                };
                return Some(format!("table \"{shown}\" does not exist"));
            }
            problem_in(w, tables, &Some((schema.to_string(), name.to_string())))
        }
        None => match tables.field(current, k) {
            Field::Column(ty) => {
                let ty = hasura_type(&ty);
                if ty == "json" {
                    return Some("JSON column can not be part of boolean expression".into());
                }
                Comparison { tables, current }.problem(k, &ty, v)
            }
            Field::Relationship(schema, name) => problem_in(v, tables, &Some((schema, name))),
            Field::Other => None,
            Field::Missing => Some(format!("\"{k}\" does not exist")),
        },
    })
}

/// `pgScalarTypeToText . textToPGScalarType` of a `format_type` name
/// (server/src-lib/Hasura/Backends/Postgres/SQL/Types.hs, `pgScalarTranslations`).
fn hasura_type(pg: &str) -> String {
    if let Some(elem) = pg.strip_suffix("[]") {
        return format!("{}[]", hasura_type(elem));
    }
    let lower = pg.to_ascii_lowercase();
    match lower.as_str() {
        "int2" => "smallint",
        "int" | "int4" => "integer",
        "int8" => "bigint",
        "float4" => "real",
        "double precision" => "float8",
        "decimal" => "numeric",
        "bool" => "boolean",
        "char" | "character" => "bpchar",
        "character varying" => "varchar",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "time with time zone" => "timetz",
        _ => return pg.to_string(),
    }
    .to_string()
}

const STRING_TYPES: &[&str] = &["varchar", "text", "citext", "bpchar"];
const GEO_TYPES: &[&str] = &["geometry", "geography"];

fn dquote_list(types: &[&str]) -> String {
    types
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `parseOperations` on a column of Hasura type `ty`: a plain value is `_eq`; an object
/// holds operators, each guarded by the column types it works on.
struct Comparison<'a> {
    tables: &'a dyn Tables,
    current: &'a Table,
}

impl Comparison<'_> {
    fn problem(&self, name: &str, ty: &str, v: &Value) -> Option<String> {
        let Value::Object(ops) = v else { return None };
        // `invalidTypeMessage`: the text starts with a space (the column is named by the path).
        let only = |expected: String| {
            Some(format!(
                " is of type \"{ty}\"; this operator works only on columns of type {expected}"
            ))
        };
        let guard = |types: &[&str]| {
            if types.contains(&ty) {
                None
            } else {
                only(dquote_list(types))
            }
        };
        ops.iter()
            .find_map(|(op, arg)| match operator(op).unwrap_or_default() {
                "" => Some(format!("Unknown operator: {op}")),
                "_cast" => {
                    let Value::Object(casts) = arg else {
                        return None;
                    };
                    casts.iter().find_map(|(target, cmp)| {
                        let target = hasura_type(target);
                        let valid = matches!(
                            (ty, target.as_str()),
                            ("geometry", "geography")
                                | ("geography", "geometry")
                                | ("jsonb", "text")
                        );
                        if !valid {
                            return Some(format!(
                                "cannot cast column of type \"{ty}\" to type \"{target}\""
                            ));
                        }
                        self.problem(&format!("{name}::{target}"), &target, cmp)
                    })
                }
                "_like" | "_nlike" | "_ilike" | "_nilike" | "_similar" | "_nsimilar" | "_regex"
                | "_iregex" | "_nregex" | "_niregex" => guard(STRING_TYPES),
                "_contains" | "_contained_in" => {
                    if ty == "jsonb" || ty.ends_with("[]") {
                        None
                    } else {
                        only("an array or JSONB".into())
                    }
                }
                "_has_key" | "_has_keys_any" | "_has_keys_all" => guard(&["jsonb"]),
                "_st_intersects" | "_st_d_within" => guard(GEO_TYPES),
                o if o.starts_with("_st_") => guard(&["geometry"]),
                "_ancestor" | "_ancestor_any" | "_descendant" | "_descendant_any" | "_matches"
                | "_matches_any" | "_matches_fulltext" => guard(&["ltree"]),
                "_ceq" | "_cne" | "_cneq" | "_cgt" | "_clt" | "_cgte" | "_clte" => {
                    self.rhs_column_problem((name, ty), arg)
                }
                _ => None,
            })
    }

    /// `decodeAndValidateRhsCol`: `"col"` or `["col"]` on the current table, `["$", "col"]`
    /// on the root table, a column of the same type.
    fn rhs_column_problem(&self, (lhs, ty): (&str, &str), arg: &Value) -> Option<String> {
        let rhs = match arg {
            Value::String(s) => (self.current, s),
            Value::Array(path) => match path.as_slice() {
                [] => return Some("path cannot be empty".into()),
                [Value::String(c)] => (self.current, c),
                [Value::String(root), Value::String(c)] if root == "$" => (&None, c),
                _ => {
                    return Some(
                        "Relationship references are not supported in column comparison RHS".into(),
                    )
                }
            },
            _ => {
                return Some("a boolean expression JSON must be either a string or an array".into())
            }
        };
        let (table, rhs) = rhs;
        let Some(other) = self.tables.column(table, rhs) else {
            return Some(format!("column \"{rhs}\" does not exist"));
        };
        let other = hasura_type(&other);
        (other != ty).then(|| {
        format!("incompatible column types: \"{lhs}\" has type \"{ty}\", but \"{rhs}\" has type \"{other}\"")
    })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form(v: Value) -> Value {
        stored_form(&v, ".filter").unwrap()
    }

    #[test]
    fn stored_like_graphql_engine() {
        assert_eq!(
            form(json!({"$or": [{"id": {"$eq": 1}}], "$not": {"a": 1}})),
            json!({"_or": [{"id": {"$eq": 1}}], "_not": {"a": 1}})
        );
        assert_eq!(
            form(json!({"$and": [{"a": 1}], "_and": [{"b": 1}]})),
            json!({"_and": [{"_and": [{"a": 1}]}, {"_and": [{"b": 1}]}]})
        );
        assert_eq!(
            form(json!({"$exists": {"_table": "t", "_where": {"$or": []}}})),
            json!({"_exists": {"_table": {"schema": "public", "name": "t"}, "_where": {"_or": []}}})
        );
        let e = stored_form(&json!({"_or": {}}), ".filter").unwrap_err();
        assert_eq!(e.path, ".filter._or");
        let e = stored_form(&json!({"_exists": {"_table": "t"}}), ".check").unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.msg.as_str()),
            (".check._exists", "key \"_where\" not found")
        );
    }

    #[test]
    fn problems_named_as_graphql_engine_names_them() {
        struct T;
        impl Tables for T {
            fn field(&self, table: &Table, name: &str) -> Field {
                let ty = match (table.as_ref().map(|t| t.1.as_str()), name) {
                    (None, "id" | "n") | (Some("t"), "tid") => "integer",
                    (None, "name") => "character varying",
                    (None, "doc") => "jsonb",
                    (None, "j") => "json",
                    (None, "author") => return Field::Other,
                    _ => return Field::Missing,
                };
                Field::Column(ty.into())
            }
            fn tracked(&self, schema: &str, name: &str) -> bool {
                (schema, name) == ("public", "t")
            }
        }
        let p = |v: Value| problem(&stored_form(&v, "").unwrap(), &T);
        assert_eq!(
            p(
                json!({"id": {"_ne": 1, "$cneq": "n", "_is_null": false}, "n": 3, "author": {"x": 1}})
            ),
            None
        );
        assert_eq!(
            p(json!({"_or": [{"id": {"_eqq": 1}}]})).as_deref(),
            Some("Unknown operator: _eqq")
        );
        assert_eq!(
            p(json!({"$not": {"idd": {"_eq": 1}}})).as_deref(),
            Some("\"idd\" does not exist")
        );
        assert_eq!(
            p(json!({"doc": {"_cast": {"text": {"_likee": "1"}}}})).as_deref(),
            Some("Unknown operator: _likee")
        );
        assert_eq!(p(json!({"doc": {"_cast": {"text": {"_like": "1"}}}})), None);
        assert_eq!(
            p(json!({"id": {"_like": "1"}})).as_deref(),
            Some(" is of type \"integer\"; this operator works only on columns of type \"varchar\", \"text\", \"citext\", \"bpchar\"")
        );
        assert_eq!(
            p(json!({"name": {"$ilike": "a%"}, "doc": {"_has_key": "k"}})),
            None
        );
        assert_eq!(
            p(json!({"name": {"_contains": "a"}})).as_deref(),
            Some(" is of type \"varchar\"; this operator works only on columns of type an array or JSONB")
        );
        assert_eq!(
            p(json!({"j": {"_eq": "a"}})).as_deref(),
            Some("JSON column can not be part of boolean expression")
        );
        assert_eq!(p(json!({"id": {"_ceq": "n", "$cgt": ["$", "n"]}})), None);
        let exists = |w: Value| json!({"_exists": {"_table": "t", "_where": w}});
        assert_eq!(p(exists(json!({"tid": {"_ceq": ["$", "id"]}}))), None);
        assert_eq!(
            p(exists(json!({"id": {"_eq": 1}}))).as_deref(),
            Some("\"id\" does not exist")
        );
        assert_eq!(
            p(exists(json!({"tid": {"_ceq": "id"}}))).as_deref(),
            Some("column \"id\" does not exist")
        );
        assert_eq!(
            p(json!({"_exists": {"_table": {"schema": "s", "name": "u"}, "_where": {}}}))
                .as_deref(),
            Some("table \"s.u\" does not exist")
        );
        assert_eq!(
            p(json!({"id": {"_ceq": "ghost"}})).as_deref(),
            Some("column \"ghost\" does not exist")
        );
        assert_eq!(
            p(json!({"id": {"_cne": "name"}})).as_deref(),
            Some("incompatible column types: \"id\" has type \"integer\", but \"name\" has type \"varchar\"")
        );
        assert_eq!(
            p(json!({"id": {"_cast": {"text": {"_eq": "1"}}}})).as_deref(),
            Some("cannot cast column of type \"integer\" to type \"text\"")
        );
    }
}
