//! Custom types: `set_custom_types`, which replaces the ONE document of
//! `input_objects`, `objects`, `scalars` and `enums` kept under the
//! metadata's top-level `custom_types`.
//!
//! Sources (graphql-engine):
//! - validation: `server/src-lib/Hasura/RQL/DDL/CustomTypes.hs`
//!   (`validateCustomTypeDefinitions`, answered as `throw400
//!   ConstraintViolation` "validation for the given custom types failed
//!   because ..." with `showCustomTypeValidationError`: "duplicate type
//!   names: ...", "the type \"T\" for field \"f\" in  input object type
//!   \"I\" does not exist", "the input object \"I\" has duplicate fields:
//!   ...", "the type \"T\" for field \"f\" in  object type \"O\" does not
//!   exist", "the object \"O\" has duplicate fields: ...", "the object \"O\"
//!   can't have arguments"); the default scalars are `Int`, `Float`,
//!   `String`, `Boolean` and `ID`;
//! - dependents: `runSetCustomTypes` rebuilds the schema cache with
//!   `buildSchemaCacheFor MOCustomTypes`; an action whose types are gone
//!   becomes inconsistent, an object other than the command's own, so the
//!   write is refused with `unexpected` "cannot continue due to new
//!   inconsistent metadata";
//! - export shape: `customTypesToOrdJSON` in
//!   `Hasura/RQL/Types/Metadata/Serialization.hs` (each list only when not
//!   empty, the key only when something is declared).
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::actions;
use crate::errors::{parse_failed, QErr};
use crate::metadata::Metadata;

const KEY: &str = "custom_types";
const LISTS: [&str; 4] = ["input_objects", "objects", "scalars", "enums"];
const BUILTIN: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];
/// PostgreSQL scalars an action argument may use (`lookupPGScalar`; the
/// common ones of the default source).
const PG_SCALARS: [&str; 14] = [
    "uuid",
    "timestamptz",
    "timestamp",
    "date",
    "time",
    "timetz",
    "numeric",
    "bigint",
    "smallint",
    "json",
    "jsonb",
    "citext",
    "bpchar",
    "float8",
];

/// The current document (`{}` when nothing is declared).
pub fn document(md: &Metadata) -> Value {
    md.extra.get(KEY).cloned().unwrap_or_else(|| json!({}))
}

fn entries<'a>(types: &'a Value, list: &str) -> impl Iterator<Item = &'a Value> {
    types[list].as_array().into_iter().flatten()
}

fn named<'a>(types: &'a Value, list: &str, name: &str) -> Option<&'a Value> {
    entries(types, list).find(|t| t["name"] == name)
}

/// A custom object type of `types`.
pub fn object<'a>(types: &'a Value, name: &str) -> Option<&'a Value> {
    named(types, "objects", name)
}

/// A type an argument or input field may have.
pub fn is_input_type(types: &Value, name: &str) -> bool {
    BUILTIN.contains(&name)
        || PG_SCALARS.contains(&name)
        || ["scalars", "enums", "input_objects"]
            .iter()
            .any(|l| named(types, l, name).is_some())
}

fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn duplicates<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    names.into_iter().filter(|n| !seen.insert(*n)).collect()
}

/// The args' shape: four optional lists of objects, each with a `name`.
fn parse(cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = args.as_object().ok_or_else(|| {
        parse_failed(cmd, "$.args", "parsing CustomTypes failed, expected Object")
    })?;
    let mut doc = Map::new();
    for list in LISTS {
        let Some(v) = o.get(list).filter(|v| !v.is_null()) else {
            continue;
        };
        let items = v.as_array().ok_or_else(|| {
            parse_failed(
                cmd,
                &format!("$.args.{list}"),
                "parsing [a] failed, expected Array",
            )
        })?;
        for (i, t) in items.iter().enumerate() {
            let path = format!("$.args.{list}[{i}]");
            let to = t
                .as_object()
                .ok_or_else(|| parse_failed(cmd, &path, "expected Object"))?;
            if !matches!(to.get("name"), Some(Value::String(_))) {
                return Err(parse_failed(cmd, &path, "key \"name\" not found"));
            }
            let inner = if list == "enums" { "values" } else { "fields" };
            if list != "scalars" && !matches!(to.get(inner), Some(Value::Array(a)) if !a.is_empty())
            {
                return Err(parse_failed(
                    cmd,
                    &path,
                    format!("key \"{inner}\" not found"),
                ));
            }
        }
        if !items.is_empty() {
            doc.insert(list.into(), v.clone());
        }
    }
    Ok(Value::Object(doc))
}

/// `validateCustomTypeDefinitions`' reasons.
fn problems(types: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let all: Vec<&str> = LISTS
        .iter()
        .flat_map(|l| entries(types, l))
        .filter_map(|t| t["name"].as_str())
        .collect();
    let dup = duplicates(all.iter().copied());
    if !dup.is_empty() {
        out.push(format!("duplicate type names: {}", quoted_list(dup)));
    }
    let field_names = |t: &Value| -> Vec<String> {
        t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["name"].as_str().map(str::to_string))
            .collect()
    };
    for (list, what) in [("input_objects", "input object"), ("objects", "object")] {
        for t in entries(types, list) {
            let name = t["name"].as_str().unwrap_or_default();
            let fields = field_names(t);
            let dup = duplicates(fields.iter().map(String::as_str));
            if !dup.is_empty() {
                out.push(format!(
                    "the {what} \"{name}\" has duplicate fields: {}",
                    quoted_list(dup)
                ));
            }
            for f in t["fields"].as_array().into_iter().flatten() {
                let fname = f["name"].as_str().unwrap_or_default();
                if list == "objects" && f.get("arguments").is_some_and(|a| !a.is_null()) {
                    out.push(format!("the object \"{name}\" can't have arguments"));
                }
                let base =
                    actions::base_type(f["type"].as_str().unwrap_or_default()).unwrap_or_default();
                let exists = is_input_type(types, base)
                    || (list == "objects" && object(types, base).is_some());
                if !exists {
                    out.push(format!(
                        "the type \"{base}\" for field \"{fname}\" in  {what} type \"{name}\" does not exist"
                    ));
                }
            }
        }
    }
    out
}

pub fn set(
    md: &mut Metadata,
    env: &BTreeMap<String, String>,
    cmd: &str,
    args: &Value,
) -> Result<Value, QErr> {
    let doc = parse(cmd, args)?;
    let reasons = problems(&doc);
    if !reasons.is_empty() {
        let msg = match reasons.as_slice() {
            [one] => format!("because {one}"),
            many => format!(
                "for the following reasons:\n{}",
                many.iter()
                    .map(|r| format!("  • {r}\n"))
                    .collect::<String>()
            ),
        };
        return Err(QErr::bad(
            "constraint-violation",
            "$.args",
            format!("validation for the given custom types failed {msg}"),
        ));
    }
    // Actions that resolved before and no longer would.
    let before = document(md);
    let broken: Vec<Value> = actions::list(md)
        .into_iter()
        .filter(|a| actions::resolve(&a["definition"], &before, env).is_ok())
        .filter_map(|a| {
            actions::resolve(&a["definition"], &doc, env).err().map(|reason| {
                json!({"definition": a, "name": format!("action {}", a["name"].as_str().unwrap_or_default()), "reason": format!("Inconsistent object: {reason}"), "type": "action"})
            })
        })
        .collect();
    if !broken.is_empty() {
        return Err(QErr::bad(
            "unexpected",
            "$.args",
            "cannot continue due to new inconsistent metadata",
        )
        .with_internal(Value::Array(broken)));
    }
    if doc.as_object().is_some_and(Map::is_empty) {
        md.extra.remove(KEY);
    } else {
        md.extra.insert(KEY.into(), doc);
    }
    Ok(json!({"message": "success"}))
}
