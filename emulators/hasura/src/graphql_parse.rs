//! Turns a GraphQL request (document, operation name, variables) into root fields with
//! JSON arguments and a selection tree, using a real GraphQL parser.

use std::collections::HashMap;

use graphql_parser::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
    Value as GValue, VariableDefinition,
};
use serde_json::{Map, Number, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Query,
    Mutation,
    Subscription,
}

#[derive(Debug, Clone)]
pub struct Sel {
    pub key: String,
    pub name: String,
    /// Arguments with variables substituted; `/v1/graphql` rejects what it can't honour.
    pub args: Map<String, Value>,
    pub children: Vec<Sel>,
}

#[derive(Debug, Clone)]
pub struct RootField {
    pub key: String,
    pub name: String,
    pub args: Map<String, Value>,
    pub children: Vec<Sel>,
}

#[derive(Debug)]
pub struct Operation {
    pub kind: OpKind,
    pub fields: Vec<RootField>,
}

pub fn parse(
    query: &str,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> Result<Operation, String> {
    let doc: Document<'static, String> = graphql_parser::parse_query::<String>(query)
        .map_err(|e| format!("not a valid graphql query: {e}"))?
        .into_static();
    let fragments: HashMap<String, FragmentDefinition<'static, String>> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.clone(), f.clone())),
            _ => None,
        })
        .collect();
    let ops: Vec<&OperationDefinition<String>> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Operation(o) => Some(o),
            _ => None,
        })
        .collect();
    let name_of = |o: &OperationDefinition<String>| -> Option<String> {
        match o {
            OperationDefinition::Query(q) => q.name.clone(),
            OperationDefinition::Mutation(m) => m.name.clone(),
            OperationDefinition::Subscription(s) => s.name.clone(),
            OperationDefinition::SelectionSet(_) => None,
        }
    };
    let op = match operation_name {
        Some(n) => ops
            .iter()
            .find(|o| name_of(o).as_deref() == Some(n))
            .ok_or_else(|| format!("operation with name {n:?} not found"))?,
        None if ops.len() == 1 => &ops[0],
        None => return Err("exactly one operation has to be present in the document when operationName is not specified".into()),
    };
    let (kind, var_defs, selection): (
        OpKind,
        &[VariableDefinition<String>],
        &SelectionSet<String>,
    ) = match op {
        OperationDefinition::Query(q) => (OpKind::Query, &q.variable_definitions, &q.selection_set),
        OperationDefinition::Mutation(m) => {
            (OpKind::Mutation, &m.variable_definitions, &m.selection_set)
        }
        OperationDefinition::Subscription(s) => (
            OpKind::Subscription,
            &s.variable_definitions,
            &s.selection_set,
        ),
        OperationDefinition::SelectionSet(s) => (OpKind::Query, &[], s),
    };
    let mut vars = Map::new();
    for vd in var_defs {
        let v = match variables.get(&vd.name) {
            Some(v) => v.clone(),
            None => match &vd.default_value {
                Some(d) => to_json(d, &Map::new())?,
                None => {
                    if matches!(vd.var_type, graphql_parser::query::Type::NonNullType(_)) {
                        return Err(format!(
                            "expecting a value for non-nullable variable: \"{}\"",
                            vd.name
                        ));
                    }
                    Value::Null
                }
            },
        };
        vars.insert(vd.name.clone(), v);
    }
    let mut fields = Vec::new();
    for s in flatten(selection, &fragments)? {
        let Selection::Field(f) = s else { continue };
        fields.push(RootField {
            key: f.alias.clone().unwrap_or_else(|| f.name.clone()),
            name: f.name.clone(),
            args: field_args(f, &vars)?,
            children: sels(&f.selection_set, &fragments, &vars)?,
        });
    }
    Ok(Operation { kind, fields })
}

fn field_args(
    f: &graphql_parser::query::Field<'static, String>,
    vars: &Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    // @include/@skip would silently change the answer if ignored.
    if let Some(d) = f.directives.first() {
        return Err(format!(
            "directive '{}' is not supported by the emulator",
            d.name
        ));
    }
    let mut args = Map::new();
    for (k, v) in &f.arguments {
        args.insert(k.clone(), to_json(v, vars)?);
    }
    Ok(args)
}

/// Inlines fragment spreads and inline fragments (the types here are all concrete).
fn flatten<'a>(
    set: &'a SelectionSet<'static, String>,
    fragments: &'a HashMap<String, FragmentDefinition<'static, String>>,
) -> Result<Vec<&'a Selection<'static, String>>, String> {
    let mut out = Vec::new();
    for s in &set.items {
        match s {
            Selection::Field(_) => out.push(s),
            Selection::InlineFragment(i) => {
                out.extend(flatten(&i.selection_set, fragments)?);
            }
            Selection::FragmentSpread(fs) => {
                let f = fragments
                    .get(&fs.fragment_name)
                    .ok_or_else(|| format!("fragment \"{}\" not found", fs.fragment_name))?;
                out.extend(flatten(&f.selection_set, fragments)?);
            }
        }
    }
    Ok(out)
}

fn sels(
    set: &SelectionSet<'static, String>,
    fragments: &HashMap<String, FragmentDefinition<'static, String>>,
    vars: &Map<String, Value>,
) -> Result<Vec<Sel>, String> {
    flatten(set, fragments)?
        .into_iter()
        .filter_map(|s| match s {
            Selection::Field(f) => Some(f),
            _ => None,
        })
        .map(|f| {
            Ok(Sel {
                key: f.alias.clone().unwrap_or_else(|| f.name.clone()),
                name: f.name.clone(),
                args: field_args(f, vars)?,
                children: sels(&f.selection_set, fragments, vars)?,
            })
        })
        .collect()
}

fn to_json(v: &GValue<String>, vars: &Map<String, Value>) -> Result<Value, String> {
    Ok(match v {
        GValue::Variable(n) => vars
            .get(n)
            .cloned()
            .ok_or_else(|| format!("unbound variable: \"{n}\""))?,
        GValue::Int(i) => Value::Number(Number::from(
            i.as_i64().ok_or("integer literal out of range")?,
        )),
        GValue::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        GValue::String(s) => Value::String(s.clone()),
        GValue::Boolean(b) => Value::Bool(*b),
        GValue::Null => Value::Null,
        GValue::Enum(e) => Value::String(e.clone()),
        GValue::List(l) => Value::Array(
            l.iter()
                .map(|x| to_json(x, vars))
                .collect::<Result<_, _>>()?,
        ),
        GValue::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), to_json(x, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Keeps only the selected fields (under their aliases); scalars pass through whole.
pub fn project(v: &Value, sel: &[Sel], typename: &str) -> Value {
    if sel.is_empty() {
        return v.clone();
    }
    match v {
        Value::Object(o) => Value::Object(
            sel.iter()
                .map(|s| {
                    let val = if s.name == "__typename" {
                        Value::String(typename.to_string())
                    } else {
                        project(o.get(&s.name).unwrap_or(&Value::Null), &s.children, &s.name)
                    };
                    (s.key.clone(), val)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| project(x, sel, typename)).collect()),
        other => other.clone(),
    }
}
