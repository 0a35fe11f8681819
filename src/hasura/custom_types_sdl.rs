//! The GraphQL SDL of `hasura_custom_types` (the `scalar`, `enum`, `input`
//! and `type` declarations users keep in the Hasura CLI's `actions.graphql`)
//! to and from the entries of Hasura's custom types document
//! (`Hasura/RQL/Types/CustomTypes.hs`), checked at plan time with a real
//! parser and compared by meaning.
use std::collections::BTreeSet;

use graphql_parser::schema::{self as gql, Definition, TypeDefinition};
use serde_json::{json, Map, Value};

use super::client::custom_types::TypeDef;
use super::graphql_doc::DocError;

/// The declared types, in the SDL's order, or why the SDL is not a set of
/// custom types Hasura takes.
pub(super) fn parse(sdl: &str) -> Result<Vec<TypeDef>, DocError> {
    let doc = gql::parse_schema::<String>(sdl)?;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for d in doc.definitions {
        let t = match d {
            Definition::TypeDefinition(t) => t,
            other => {
                return Err(DocError(format!(
                "only `scalar`, `enum`, `input` and `type` declarations are custom types, not `{}`",
                first_word(&other.to_string())
            )))
            }
        };
        let def = match t {
            TypeDefinition::Scalar(s) => TypeDef {
                kind: "scalars",
                entry: described(json!({"name": s.name}), s.description),
            },
            TypeDefinition::Enum(e) => {
                let mut values = Vec::new();
                let mut names = BTreeSet::new();
                for v in e.values {
                    if !names.insert(v.name.clone()) {
                        return Err(DocError(format!(
                            "enum {} declares the value {} twice",
                            e.name, v.name
                        )));
                    }
                    let mut entry = described(json!({"value": v.name}), v.description);
                    if v.directives.iter().any(|d| d.name == "deprecated") {
                        entry["is_deprecated"] = json!(true);
                    }
                    values.push(entry);
                }
                if values.is_empty() {
                    return Err(DocError(format!("enum {} has no values", e.name)));
                }
                TypeDef {
                    kind: "enums",
                    entry: described(json!({"name": e.name, "values": values}), e.description),
                }
            }
            TypeDefinition::InputObject(i) => {
                let fields = fields(
                    &i.name,
                    i.fields
                        .into_iter()
                        .map(|f| (f.name, f.value_type, f.description, false)),
                )?;
                TypeDef {
                    kind: "input_objects",
                    entry: described(json!({"name": i.name, "fields": fields}), i.description),
                }
            }
            TypeDefinition::Object(o) => {
                if !o.implements_interfaces.is_empty() {
                    return Err(DocError(format!(
                        "type {} implements an interface; Hasura's custom object types cannot",
                        o.name
                    )));
                }
                let fields = fields(
                    &o.name,
                    o.fields
                        .into_iter()
                        .map(|f| (f.name, f.field_type, f.description, !f.arguments.is_empty())),
                )?;
                TypeDef {
                    kind: "objects",
                    entry: described(json!({"name": o.name, "fields": fields}), o.description),
                }
            }
            TypeDefinition::Interface(i) => {
                return Err(DocError(format!(
                    "interface {} is not a custom type Hasura takes (scalar, enum, input or type)",
                    i.name
                )))
            }
            TypeDefinition::Union(u) => {
                return Err(DocError(format!(
                    "union {} is not a custom type Hasura takes (scalar, enum, input or type)",
                    u.name
                )))
            }
        };
        let name = def.name().to_string();
        if name.starts_with("__") {
            return Err(DocError(format!(
                "the type name {name} starts with `__`, which GraphQL reserves"
            )));
        }
        if !seen.insert(name.clone()) {
            return Err(DocError(format!("the type {name} is declared twice")));
        }
        out.push(def);
    }
    if out.is_empty() {
        return Err(DocError("declares no type".into()));
    }
    Ok(out)
}

fn first_word(s: &str) -> String {
    s.split_whitespace().next().unwrap_or_default().to_string()
}

fn described(mut entry: Value, description: Option<String>) -> Value {
    if let Some(d) = description {
        entry["description"] = json!(d);
    }
    entry
}

type FieldParts<'a> = (String, gql::Type<'a, String>, Option<String>, bool);

fn fields<'a>(
    owner: &str,
    list: impl Iterator<Item = FieldParts<'a>>,
) -> Result<Vec<Value>, DocError> {
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for (name, ty, description, has_args) in list {
        if has_args {
            return Err(DocError(format!("the field {owner}.{name} has arguments; fields of Hasura's custom object types cannot")));
        }
        if !names.insert(name.clone()) {
            return Err(DocError(format!("{owner} declares the field {name} twice")));
        }
        out.push(described(
            json!({"name": name, "type": ty.to_string()}),
            description,
        ));
    }
    if out.is_empty() {
        return Err(DocError(format!("{owner} has no fields")));
    }
    Ok(out)
}

/// An entry without what its absence means anyway (null descriptions,
/// `is_deprecated: false`, empty relationships), for comparing.
fn normal(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, v)| {
                    !(v.is_null()
                        || (k.as_str() == "is_deprecated" && **v == json!(false))
                        || (k.as_str() == "relationships"
                            && v.as_array().is_some_and(Vec::is_empty)))
                })
                .map(|(k, v)| (k.clone(), normal(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normal).collect()),
        other => other.clone(),
    }
}

/// The same declaration (kind, name, fields in order, descriptions).
pub(super) fn same_type(a: &TypeDef, b: &TypeDef) -> bool {
    a.kind == b.kind && normal(&a.entry) == normal(&b.entry)
}

/// The same set of declarations, whatever their order and layout.
pub(super) fn same_types(a: &[TypeDef], b: &[TypeDef]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|x| b.iter().any(|y| x.name() == y.name() && same_type(x, y)))
}

/// Same meaning: the same declarations, or equal text when either does not parse.
pub(super) fn same(a: &str, b: &str) -> bool {
    match (parse(a), parse(b)) {
        (Ok(x), Ok(y)) => same_types(&x, &y),
        _ => a == b,
    }
}

/// SDL for `types` (one declaration per type, in the given order).
pub(super) fn render(types: &[TypeDef]) -> String {
    let mut out = String::new();
    for t in types {
        let e = &t.entry;
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&description(e, ""));
        let name = t.name();
        let body = |key: &str, line: &dyn Fn(&Value) -> String| -> String {
            e[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| format!("{}  {}\n", description(f, "  "), line(f)))
                .collect()
        };
        let field = |f: &Value| format!("{}: {}", s(&f["name"]), s(&f["type"]));
        match t.kind {
            "scalars" => out.push_str(&format!("scalar {name}\n")),
            "enums" => out.push_str(&format!(
                "enum {name} {{\n{}}}\n",
                body("values", &|v| {
                    let dep = if v["is_deprecated"] == json!(true) {
                        " @deprecated"
                    } else {
                        ""
                    };
                    format!("{}{dep}", s(&v["value"]))
                })
            )),
            "input_objects" => {
                out.push_str(&format!("input {name} {{\n{}}}\n", body("fields", &field)))
            }
            _ => out.push_str(&format!("type {name} {{\n{}}}\n", body("fields", &field))),
        }
    }
    out
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn description(e: &Value, indent: &str) -> String {
    match e["description"].as_str() {
        Some(d) => format!("{indent}\"\"\"{}\"\"\"\n", d.replace("\"\"\"", "\\\"\"\"")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        """Who logged in"""
        type LoginResponse { accessToken: String!  userId: Int! }
        input Credentials { username: String!, password: String! }
        enum Role { ADMIN USER OLD @deprecated }
        scalar Email
    "#;

    #[test]
    fn round_trip_and_meaning() {
        let types = parse(SDL).unwrap();
        assert_eq!(types.len(), 4);
        assert_eq!(types[0].entry["description"], "Who logged in");
        assert_eq!(
            types[0].entry["fields"][0],
            json!({"name": "accessToken", "type": "String!"})
        );
        assert_eq!(
            types[2].entry["values"][2],
            json!({"value": "OLD", "is_deprecated": true})
        );
        let again = parse(&render(&types)).unwrap();
        assert!(same_types(&types, &again), "{}", render(&types));
        assert!(same(SDL, "scalar Email\nenum Role { ADMIN, USER, OLD @deprecated }\ninput Credentials { username: String! password: String! }\n\"\"\"Who logged in\"\"\"\ntype LoginResponse { accessToken: String! userId: Int! }"));
        assert!(!same(SDL, "scalar Email"));
    }

    #[test]
    fn refusals() {
        for bad in [
            "type T { a: Int",
            "",
            "type T { a(x: Int): Int }",
            "union U = A | B",
            "schema { query: Q }",
            "type T { a: Int } type T { b: Int }",
            "enum E { A A }",
            "type T { a: Int a: String }",
            "type T implements I { a: Int }",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
