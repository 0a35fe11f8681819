//! A GraphQL schema reduced to what permission checks and forwarding need:
//! each type's kind, its fields (name -> type as printed, e.g. `[String!]!`),
//! and its enum values or union members. Built from a remote server's
//! introspection (graphql-engine `Hasura/GraphQL/RemoteServer.hs`,
//! `FromIntrospection`) or from a role's SDL (`Hasura/RemoteSchema/
//! SchemaCache/Permission.hs`, `partitionTypeSystemDefinitions`).
use std::collections::{BTreeMap, BTreeSet};

use graphql_parser::schema::{self as sdl, Definition, TypeDefinition};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl Kind {
    /// `ToTxt GraphQLType` in `Permission.hs`.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Scalar => "Scalar",
            Kind::Object => "Object",
            Kind::Interface => "Interface",
            Kind::Union => "Union",
            Kind::Enum => "Enum",
            Kind::InputObject => "Input object",
        }
    }

    fn from_introspection(k: &str) -> Option<Kind> {
        Some(match k {
            "SCALAR" => Kind::Scalar,
            "OBJECT" => Kind::Object,
            "INTERFACE" => Kind::Interface,
            "UNION" => Kind::Union,
            "ENUM" => Kind::Enum,
            "INPUT_OBJECT" => Kind::InputObject,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Ty {
    pub kind: Kind,
    /// Output fields (objects, interfaces) or input fields (input objects).
    pub fields: BTreeMap<String, String>,
    /// Enum values, or the member types of a union.
    pub members: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Types {
    pub query: String,
    pub mutation: Option<String>,
    pub types: BTreeMap<String, Ty>,
}

/// The named type inside list and non-null wrappers: `[User!]!` -> `User`.
pub fn base(t: &str) -> &str {
    t.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

impl Types {
    pub fn root(&self, mutation: bool) -> Option<&str> {
        if mutation {
            self.mutation.as_deref()
        } else {
            Some(self.query.as_str())
        }
    }

    pub fn fields_of(&self, ty: &str) -> Option<&BTreeMap<String, String>> {
        self.types.get(ty).map(|t| &t.fields)
    }

    /// The `data.__schema` of an introspection answer.
    pub fn from_introspection(v: &Value) -> Result<Types, String> {
        let schema = v
            .pointer("/data/__schema")
            .ok_or("Error in $: key \"data\" not found or has no \"__schema\"")?;
        let root_name = |k: &str| schema[k]["name"].as_str().map(str::to_string);
        let query = root_name("queryType")
            .ok_or("Error in $.data.__schema: key \"queryType\" not found")?;
        let mut types = BTreeMap::new();
        for t in schema["types"].as_array().into_iter().flatten() {
            let (Some(name), Some(kind)) = (
                t["name"].as_str(),
                t["kind"].as_str().and_then(Kind::from_introspection),
            ) else {
                return Err(format!(
                    "Error in $.data.__schema.types: unknown kind: {}",
                    t["kind"]
                ));
            };
            let mut fields = BTreeMap::new();
            for key in ["fields", "inputFields"] {
                for f in t[key].as_array().into_iter().flatten() {
                    if let Some(n) = f["name"].as_str() {
                        fields.insert(n.to_string(), type_ref(&f["type"]));
                    }
                }
            }
            let mut members = BTreeSet::new();
            for key in ["enumValues", "possibleTypes"] {
                if kind == Kind::Interface {
                    continue;
                }
                for m in t[key].as_array().into_iter().flatten() {
                    if let Some(n) = m["name"].as_str() {
                        members.insert(n.to_string());
                    }
                }
            }
            types.insert(
                name.to_string(),
                Ty {
                    kind,
                    fields,
                    members,
                },
            );
        }
        let mutation = root_name("mutationType").or_else(|| {
            // `addDefaultRoots`: an object named `Mutation` is the root when none is named.
            types
                .get("Mutation")
                .filter(|t| t.kind == Kind::Object)
                .map(|_| "Mutation".to_string())
        });
        Ok(Types {
            query,
            mutation,
            types,
        })
    }
}

/// `FromIntrospection G.GType`, printed as `G.showGT` does.
fn type_ref(v: &Value) -> String {
    match v["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&v["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&v["ofType"])),
        _ => v["name"].as_str().unwrap_or_default().to_string(),
    }
}

/// A role's schema document: its types (duplicates reported by name) and
/// its root type names (`validateSchemaDefinitions`: `Query` unless a
/// `schema { query: ... }` says otherwise).
pub struct Provided {
    pub types: Vec<(String, Ty)>,
    pub schema_definitions: usize,
    pub query: Option<String>,
    pub mutation: Option<String>,
}

pub fn from_sdl(doc: &sdl::Document<'_, String>) -> Provided {
    let mut out = Provided {
        types: Vec::new(),
        schema_definitions: 0,
        query: None,
        mutation: None,
    };
    let input_fields = |vals: &[sdl::InputValue<'_, String>]| {
        vals.iter()
            .map(|v| (v.name.clone(), v.value_type.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    for d in &doc.definitions {
        match d {
            Definition::SchemaDefinition(s) => {
                out.schema_definitions += 1;
                out.query = s.query.clone();
                out.mutation = s.mutation.clone();
            }
            Definition::TypeDefinition(t) => {
                let (name, ty) = match t {
                    TypeDefinition::Scalar(s) => (&s.name, ty(Kind::Scalar, BTreeMap::new(), [])),
                    TypeDefinition::Object(o) => {
                        (&o.name, ty(Kind::Object, output_fields(&o.fields), []))
                    }
                    TypeDefinition::Interface(i) => {
                        (&i.name, ty(Kind::Interface, output_fields(&i.fields), []))
                    }
                    TypeDefinition::Union(u) => (
                        &u.name,
                        ty(Kind::Union, BTreeMap::new(), u.types.iter().cloned()),
                    ),
                    TypeDefinition::Enum(e) => (
                        &e.name,
                        ty(
                            Kind::Enum,
                            BTreeMap::new(),
                            e.values.iter().map(|v| v.name.clone()),
                        ),
                    ),
                    TypeDefinition::InputObject(i) => {
                        (&i.name, ty(Kind::InputObject, input_fields(&i.fields), []))
                    }
                };
                out.types.push((name.clone(), ty));
            }
            Definition::TypeExtension(_) | Definition::DirectiveDefinition(_) => {}
        }
    }
    out
}

fn output_fields(fields: &[sdl::Field<'_, String>]) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|f| (f.name.clone(), f.field_type.to_string()))
        .collect()
}

fn ty(
    kind: Kind,
    fields: BTreeMap<String, String>,
    members: impl IntoIterator<Item = String>,
) -> Ty {
    Ty {
        kind,
        fields,
        members: members.into_iter().collect(),
    }
}

/// What a role sees: its document as `Types`, roots defaulted to `Query`
/// (`getSchemaDocIntrospection`).
impl From<Provided> for Types {
    fn from(p: Provided) -> Types {
        Types {
            query: p.query.unwrap_or_else(|| "Query".to_string()),
            mutation: p.mutation.or_else(|| {
                p.types
                    .iter()
                    .any(|(n, t)| n == "Mutation" && t.kind == Kind::Object)
                    .then(|| "Mutation".to_string())
            }),
            types: p.types.into_iter().collect(),
        }
    }
}
