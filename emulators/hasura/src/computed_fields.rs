//! Computed fields: `add_computed_field` / `drop_computed_field`, their export under the
//! table's `computed_fields`, their consistency against the SQL functions of the
//! database, and how `/v1/graphql` selects a scalar one.
//!
//! Sources (graphql-engine):
//! - `server/src-lib/Hasura/RQL/DDL/ComputedField.hs`: `{source?, table, name,
//!   definition, comment?}`; add checks the table is tracked, then *inserts* into the
//!   table's map (replacing a field of that name) and rebuilds; drop answers the field's
//!   absence with 400 `not-exists` (`computed field "n" does not exist`), refuses
//!   dependent permissions unless `cascade` (then drops them).
//! - `server/src-lib/Hasura/Backends/Postgres/Types/ComputedField.hs`: the definition
//!   `{function, table_argument?, session_argument?}`.
//! - `server/src-lib/Hasura/Backends/Postgres/DDL/ComputedField.hs`
//!   (`buildComputedFieldInfo`): name a GraphQL name, function not VOLATILE, a scalar
//!   return of a BASE type or a set of a tracked table, the table argument (first, or
//!   named) of the table's row type, the session argument JSON; reported together as
//!   400 `not-supported` "the computed field "n" cannot be added to table "t" because ...".
//! - `server/src-lib/Hasura/Function/API.hs` (`handleMultipleFunctions`): "no such
//!   function exists: "f"", or "function "f" is overloaded...".
//! - `server/src-lib/Hasura/RQL/DDL/Schema/Cache/Fields.hs` (`noColumnConflicts`): "field
//!   definition conflicts with postgres column".
//! - `server/src-lib/Hasura/RQL/Types/Common.hs` (`Comment`): absent/null is automatic and
//!   left out of the export, `""` is an explicit empty comment and kept.
use std::collections::HashMap;

use serde_json::{json, Map, Value};
use tokio_postgres::GenericClient;

pub use crate::pg_functions::{load_functions, Functions, PgType};

use crate::dependents::{self, Dependent};
use crate::errors::{parse_failed, QErr};
use crate::metadata::{Catalog, Inconsistency, ObjId, QualifiedTable, Source, TableMeta};
use crate::permissions::{bool_exp_columns, PermType, Permission};
use crate::table_config::is_graphql_name;

const KEY: &str = "computed_fields";

/// A computed field as the metadata holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedField {
    pub name: String,
    pub function: QualifiedTable,
    pub table_argument: Option<String>,
    pub session_argument: Option<String>,
    /// `None`: automatic (left out of the export); `Some("")` is kept.
    pub comment: Option<String>,
}

impl ComputedField {
    pub fn to_export(&self) -> Value {
        let mut def = Map::new();
        def.insert("function".into(), self.function.to_json());
        if let Some(s) = &self.session_argument {
            def.insert("session_argument".into(), json!(s));
        }
        if let Some(t) = &self.table_argument {
            def.insert("table_argument".into(), json!(t));
        }
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("definition".into(), Value::Object(def));
        if let Some(c) = &self.comment {
            m.insert("comment".into(), json!(c));
        }
        Value::Object(m)
    }

    /// `FromJSON (AddComputedField b)` (without `source` and `table`), at `base`.
    fn parse(cmd: &str, o: &Map<String, Value>, base: &str) -> Result<ComputedField, QErr> {
        let text = |v: Option<&Value>, key: &str, owner: &str| -> Result<Option<String>, QErr> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(parse_failed(
                    cmd,
                    &format!("{owner}.{key}"),
                    "parsing Text failed, expected String",
                )),
            }
        };
        let name = match text(o.get("name"), "name", base)? {
            Some(n) if n.is_empty() => {
                return Err(parse_failed(
                    cmd,
                    &format!("{base}.name"),
                    "empty string not allowed",
                ))
            }
            Some(n) => n,
            None => return Err(parse_failed(cmd, base, "key \"name\" not found")),
        };
        let dbase = format!("{base}.definition");
        let def = match o.get("definition") {
            Some(Value::Object(d)) => d,
            Some(_) => {
                return Err(parse_failed(
                    cmd,
                    &dbase,
                    "parsing ComputedFieldDefinition failed, expected Object",
                ))
            }
            None => return Err(parse_failed(cmd, base, "key \"definition\" not found")),
        };
        let function = match def.get("function") {
            Some(f) => QualifiedTable::parse(f)
                .map_err(|m| parse_failed(cmd, &format!("{dbase}.function"), m))?,
            None => return Err(parse_failed(cmd, &dbase, "key \"function\" not found")),
        };
        let comment = match o.get("comment") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(parse_failed(
                    cmd,
                    &format!("{base}.comment"),
                    format!(
                        "parsing Comment failed, expected String or Null, but encountered {}",
                        kind(other)
                    ),
                ))
            }
        };
        Ok(ComputedField {
            name,
            function,
            table_argument: text(def.get("table_argument"), "table_argument", &dbase)?,
            session_argument: text(def.get("session_argument"), "session_argument", &dbase)?,
            comment,
        })
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// The computed fields of a table, as stored.
pub fn of(tm: &TableMeta) -> Vec<ComputedField> {
    match tm.extra.get(KEY) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| ComputedField::parse("replace_metadata", v.as_object()?, "$").ok())
            .collect(),
        _ => vec![],
    }
}

/// Stores the table's computed fields sorted by name (`listToMaybeOrdPairSort`).
fn store(tm: &mut TableMeta, mut fields: Vec<ComputedField>) {
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    tm.extra.insert(
        KEY.into(),
        Value::Array(fields.iter().map(ComputedField::to_export).collect()),
    );
}

/// `runAddComputedField` on the tracked table `tm` of `source`; the caller rebuilds and
/// checks the new field's consistency.
pub fn add(
    tm: &mut TableMeta,
    source: &str,
    cmd: &str,
    o: &Map<String, Value>,
) -> Result<ObjId, QErr> {
    let cf = ComputedField::parse(cmd, o, "$.args")?;
    let id = ObjId::ComputedField(source.into(), tm.table.clone(), cf.name.clone());
    let mut fields = of(tm);
    fields.retain(|f| f.name != cf.name);
    fields.push(cf);
    store(tm, fields);
    Ok(id)
}

/// `runDropComputedField` on table `table` of `src`.
pub fn drop(
    src: &mut Source,
    table: &QualifiedTable,
    cmd: &str,
    o: &Map<String, Value>,
) -> Result<(), QErr> {
    let name = match o.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(parse_failed(
                cmd,
                "$.args.name",
                "parsing Text failed, expected String",
            ))
        }
        None => return Err(parse_failed(cmd, "$.args", "key \"name\" not found")),
    };
    let cascade = match o.get("cascade") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(parse_failed(
                cmd,
                "$.args.cascade",
                "parsing Bool failed, expected Boolean",
            ))
        }
    };
    let source = src.name.clone();
    let Some(tm) = src.tables.get_mut(table) else {
        return Err(QErr::bad(
            "not-exists",
            "$.args.table",
            format!("table \"{table}\" does not exist in source: {source}"),
        ));
    };
    let mut fields = of(tm);
    if !fields.iter().any(|f| f.name == name) {
        return Err(QErr::bad(
            "not-exists",
            "$.args.name",
            format!("computed field \"{name}\" does not exist"),
        ));
    }
    // Permissions of the table that name the field (`getDependentObjs`).
    let mut deps = Vec::new();
    for t in PermType::ALL {
        for pd in tm.perms(t) {
            let listed = matches!(&pd.permission, Permission::Select { computed_fields, .. } if computed_fields.contains(&name));
            let filtered = pd
                .permission
                .bool_exps()
                .into_iter()
                .any(|e| bool_exp_columns(e).contains(&name));
            if listed || filtered {
                deps.push(Dependent::Permission(table.clone(), pd.role.clone(), t));
            }
        }
    }
    if !deps.is_empty() && !cascade {
        return Err(dependents::dependency_error(&source, &deps));
    }
    fields.retain(|f| f.name != name);
    store(tm, fields);
    dependents::purge(src, &deps);
    Ok(())
}

/// `"f"` for a public function, `"s.f"` otherwise, as Hasura quotes it.
fn shown(f: &QualifiedTable) -> String {
    format!("\"{f}\"")
}

/// How a consistent computed field is called.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub field: ComputedField,
    /// Input position of the row argument and (with its type) of the session argument.
    pub table_position: usize,
    pub session: Option<(usize, PgType)>,
    pub arg_count: usize,
    /// `Some(table)` for a set-returning (table) computed field.
    pub returns_table: Option<QualifiedTable>,
}

/// `buildComputedFieldInfo` for `cf` on `tm`: the call, or the reason it is inconsistent
/// (without the "Inconsistent object: in table ...: in computed field ...: " prefix).
pub fn resolve(
    cf: &ComputedField,
    tm: &TableMeta,
    src: &Source,
    functions: &Functions,
) -> Result<Resolved, String> {
    let qf = &cf.function;
    let defs = functions
        .get(&(qf.schema.clone(), qf.name.clone()))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let f = match defs {
        [f] => f,
        [] => return Err(format!("no such function exists: {}", shown(qf))),
        _ => {
            return Err(format!(
                "function {} is overloaded. Overloaded functions are not supported",
                shown(qf)
            ))
        }
    };
    let table = &tm.table;
    let mut errors: Vec<String> = Vec::new();
    if !is_graphql_name(&cf.name) {
        errors.push(format!("\"{}\" is not valid GraphQL name", cf.name));
    }
    if f.volatility == "v" {
        errors.push(format!(
            "the function {} is of type VOLATILE; cannot be added as a computed field",
            shown(qf)
        ));
    }
    let ret = QualifiedTable {
        schema: f.returns.schema.clone(),
        name: f.returns.name.clone(),
    };
    let returns_table = if f.returns_set && f.returns.kind == "c" {
        if !src.tables.contains_key(&ret) {
            errors.push(format!(
                "the function {} returning set of table \"{ret}\" is not tracked or not found in database",
                shown(qf)
            ));
        }
        Some(ret)
    } else {
        if f.returns.kind != "b" {
            errors.push(format!(
                "the function {} returning type {} is not a BASE type",
                shown(qf),
                f.returns.name
            ));
        }
        None
    };
    let check_table_arg = |what: String, ty: &PgType, errors: &mut Vec<String>| {
        if ty.kind != "c" {
            errors.push(format!("{what} is not COMPOSITE type"));
        }
        let t = QualifiedTable {
            schema: ty.schema.clone(),
            name: ty.name.clone(),
        };
        if &t != table {
            errors.push(format!(
                "{what} of type \"{t}\" is not the table to which the computed field is being added"
            ));
        }
    };
    let position = |arg: &str| f.args.iter().position(|(n, _)| n.as_deref() == Some(arg));
    let not_input = |arg: &str| {
        format!(
            "\"{arg}\" is not an input argument of the function {}",
            shown(qf)
        )
    };
    let table_position = match &cf.table_argument {
        Some(arg) => match position(arg) {
            Some(i) => {
                let what = format!("\"{arg}\" argument of the function {}", shown(qf));
                check_table_arg(what, &f.args[i].1, &mut errors);
                i
            }
            // `refute`: nothing after this is checked.
            None => {
                errors.push(not_input(arg));
                return Err(reasons(cf, table, errors));
            }
        },
        None => {
            match f.args.first() {
                None => errors.push(format!("the function {} has no input arguments", shown(qf))),
                Some((_, ty)) => check_table_arg(
                    format!("first argument of the function {}", shown(qf)),
                    ty,
                    &mut errors,
                ),
            }
            0
        }
    };
    let session = match &cf.session_argument {
        None => None,
        Some(arg) => match position(arg) {
            Some(i) => {
                let ty = &f.args[i].1;
                if !(ty.schema == "pg_catalog" && matches!(ty.name.as_str(), "json" | "jsonb")) {
                    errors.push(format!(
                        "\"{arg}\" argument of the function {} is not of type JSON",
                        shown(qf)
                    ));
                }
                Some((i, ty.clone()))
            }
            None => {
                errors.push(not_input(arg));
                return Err(reasons(cf, table, errors));
            }
        },
    };
    if !errors.is_empty() {
        return Err(reasons(cf, table, errors));
    }
    Ok(Resolved {
        field: cf.clone(),
        table_position,
        session,
        arg_count: f.args.len(),
        returns_table,
    })
}

/// `showErrors` with `makeReasonMessage` (`Hasura/Server/Utils.hs`).
fn reasons(cf: &ComputedField, table: &QualifiedTable, errors: Vec<String>) -> String {
    let why = match errors.as_slice() {
        [one] => format!("because {one}"),
        many => format!(
            "for the following reasons:\n{}",
            many.iter()
                .map(|e| format!("  • {e}\n"))
                .collect::<String>()
        ),
    };
    format!(
        "the computed field \"{}\" cannot be added to table \"{table}\" {why}",
        cf.name
    )
}

/// The inconsistent computed fields of one table.
pub fn inconsistencies(src: &Source, tm: &TableMeta, catalog: &Catalog) -> Vec<Inconsistency> {
    let columns = catalog.get(&tm.table);
    let relationships = relationship_names(tm);
    let mut out = Vec::new();
    for cf in of(tm) {
        let reason = match resolve(&cf, tm, src, &catalog.functions) {
            Err(why) => format!(
                "Inconsistent object: in table \"{}\": in computed field \"{}\": {why}",
                tm.table, cf.name
            ),
            Ok(_) if relationships.contains(&cf.name) => format!(
                "Inconsistent object: conflicting definitions for field \"{}\"",
                cf.name
            ),
            Ok(_) if columns.is_some_and(|c| c.contains(&cf.name)) => {
                "Inconsistent object: field definition conflicts with postgres column".to_string()
            }
            Ok(_) => continue,
        };
        out.push(Inconsistency {
            id: ObjId::ComputedField(src.name.clone(), tm.table.clone(), cf.name.clone()),
            json: json!({
                "definition": {
                    "comment": cf.comment,
                    "definition": cf.to_export()["definition"],
                    "name": cf.name,
                    "source": src.name,
                    "table": tm.table.to_json(),
                },
                "name": format!("computed_field {} in table {} in source {}", cf.name, tm.table, src.name),
                "reason": reason,
                "type": "computed_field",
            }),
        });
    }
    out
}

fn relationship_names(tm: &TableMeta) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["object_relationships", "array_relationships"] {
        if let Some(Value::Array(a)) = tm.extra.get(key) {
            out.extend(
                a.iter()
                    .filter_map(|r| r.get("name").and_then(Value::as_str))
                    .map(str::to_string),
            );
        }
    }
    out
}

/// Why a select permission's `computed_fields` cannot be used (`buildSelPermInfo`):
/// a name that is no consistent computed field of the table, or a table-returning one.
pub fn permission_problem(
    permission: &Permission,
    src: &Source,
    tm: &TableMeta,
    catalog: &Catalog,
) -> Option<String> {
    let Permission::Select {
        computed_fields, ..
    } = permission
    else {
        return None;
    };
    let fields = of(tm);
    for name in computed_fields {
        let resolved = fields
            .iter()
            .find(|f| &f.name == name)
            .and_then(|f| resolve(f, tm, src, &catalog.functions).ok());
        match resolved {
            None => return Some(format!("computed field \"{name}\" does not exist")),
            Some(Resolved {
                returns_table: Some(t),
                ..
            }) => {
                return Some(format!(
                    "select permissions on computed field \"{name}\" are auto-derived from the permissions on its returning table \"{t}\" and cannot be specified manually"
                ))
            }
            Some(_) => {}
        }
    }
    None
}

/// `run_sql`'s metadata check (graphql-engine `Hasura/Backends/Postgres/DDL/RunSQL.hs`,
/// `withMetadataCheck` then `checkNewInconsistentMeta`): SQL that leaves a computed
/// field inconsistent (its function dropped or changed) is refused, 400 `unexpected`
/// "cannot continue due to new inconsistent metadata", and rolled back.
pub fn check_new_inconsistencies(
    md: &crate::metadata::Metadata,
    before: &Catalog,
    after: &Catalog,
) -> Result<(), QErr> {
    let of_catalog = |catalog: &Catalog| -> Vec<Inconsistency> {
        md.sources
            .values()
            .flat_map(|src| {
                src.tables
                    .values()
                    .filter(|tm| catalog.contains_key(&tm.table))
                    .flat_map(move |tm| inconsistencies(src, tm, catalog))
            })
            .collect()
    };
    let old: Vec<ObjId> = of_catalog(before).into_iter().map(|i| i.id).collect();
    let fresh: Vec<Value> = of_catalog(after)
        .into_iter()
        .filter(|i| !old.contains(&i.id))
        .map(|i| i.json)
        .collect();
    if fresh.is_empty() {
        return Ok(());
    }
    Err(QErr::bad(
        "unexpected",
        "$.args",
        "cannot continue due to new inconsistent metadata",
    )
    .with_internal(Value::Array(fresh)))
}

/// The scalar computed fields of a table `/v1/graphql` can select, by name.
pub async fn for_graphql(
    db: &impl GenericClient,
    src: &Source,
) -> Result<HashMap<QualifiedTable, Vec<Resolved>>, tokio_postgres::Error> {
    let mut out: HashMap<QualifiedTable, Vec<Resolved>> = HashMap::new();
    if src.tables.values().all(|tm| of(tm).is_empty()) {
        return Ok(out);
    }
    let functions = load_functions(db).await?;
    for (qt, tm) in &src.tables {
        for cf in of(tm) {
            if let Ok(r) = resolve(&cf, tm, src, &functions) {
                out.entry(qt.clone()).or_default().push(r);
            }
        }
    }
    Ok(out)
}
