//! The `hasura_action_sdl` data source: one action's signature read from the
//! GraphQL SDL users keep for the Hasura CLI (`actions.graphql`: `type
//! Mutation { login(username: String!): LoginResponse }`), as the `type`,
//! `arguments`, `output_type` and `comment` of a `hasura_action`. Pure: it
//! reads nothing remote, so its values are known at plan and the action's
//! plan diff stays attribute by attribute.
use std::collections::BTreeMap;

use async_trait::async_trait;
use graphql_parser::schema::{self as gql, Definition, TypeDefinition, TypeExtension};
use serde::{Deserialize, Serialize};

use super::graphql_doc::DocError;
use crate::framework::{
    AttrPath, Attribute, Ctx, DataSource, Diagnostics, Invalid, Known, Null, Schema, StrCheck,
    Type, Value,
};

pub struct ActionSdlDataSource;

#[derive(Serialize, Deserialize)]
pub struct Model {
    sdl: Value<String>,
    name: Value<String>,
    #[serde(rename = "type")]
    typ: Value<String>,
    arguments: Value<BTreeMap<String, String>>,
    output_type: Value<String>,
    comment: Value<String>,
}

/// The action's root field: (`mutation` or `query`, the field).
type Found<'a> = (&'static str, gql::Field<'a, String>);

/// The fields of `type`/`extend type` `Mutation` and `Query`.
fn root_fields(sdl: &str) -> Result<Vec<Found<'_>>, DocError> {
    let doc = gql::parse_schema::<String>(sdl)?;
    let mut out = Vec::new();
    for d in doc.definitions {
        let (name, fields) = match d {
            Definition::TypeDefinition(TypeDefinition::Object(o)) => (o.name, o.fields),
            Definition::TypeExtension(TypeExtension::Object(o)) => (o.name, o.fields),
            _ => continue,
        };
        let root = match name.as_str() {
            "Mutation" | "mutation_root" => "mutation",
            "Query" | "query_root" => "query",
            _ => continue,
        };
        out.extend(fields.into_iter().map(|f| (root, f)));
    }
    if out.is_empty() {
        return Err(DocError("declares no action: expected `type Mutation { ... }` or `type Query { ... }` (or `extend type ...`)".into()));
    }
    Ok(out)
}

fn check_sdl(s: &str) -> Result<(), Invalid> {
    root_fields(s)
        .map(drop)
        .map_err(|e| Invalid(format!("is not GraphQL SDL of actions: {e}")))
}

fn find<'a>(sdl: &'a str, name: &str) -> Result<Found<'a>, DocError> {
    let fields = root_fields(sdl)?;
    let names: Vec<String> = fields.iter().map(|(_, f)| f.name.clone()).collect();
    fields
        .into_iter()
        .find(|(_, f)| f.name == name)
        .ok_or_else(|| {
            DocError(format!(
                "declares no action {name:?}; it declares {}",
                names.join(", ")
            ))
        })
}

#[async_trait]
impl DataSource for ActionSdlDataSource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_action_sdl"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "One action's signature read from GraphQL SDL, e.g. the Hasura CLI's `actions.graphql`: `type Mutation { login(username: String!): LoginResponse }`. Its outputs feed a `hasura_action` (`type`, `arguments`, `output_type`, `comment`), so an SDL kept beside the handler's code stays the source of truth while the action's plan shows each attribute. Reads nothing remote: the values are known at plan.",
            vec![
                Attribute::string("sdl").required().validate(StrCheck("Invalid SDL", check_sdl)).describe("GraphQL SDL with `type Mutation` / `type Query` (or `extend type`) declaring actions as fields, e.g. `type Mutation { login(username: String!): LoginResponse }`. Other declarations (the custom types) are ignored: give them to `hasura_custom_types`."),
                Attribute::string("name").required().describe("The action (field) to read, e.g. `login`."),
                Attribute::string("type").computed().describe("`mutation` or `query`: where the field is declared."),
                Attribute::typed("arguments", Type::map(Type::String)).computed().describe("The field's arguments, name -> GraphQL type (e.g. `String!`); empty when it has none."),
                Attribute::string("output_type").computed().describe("The field's type, e.g. `LoginResponse` or `[Post!]!`."),
                Attribute::string("comment").computed().describe("The field's description (`\"\"\"...\"\"\"` before it), or null."),
            ],
        )
    }

    fn validate(&self, c: &Model, diags: &mut Diagnostics) {
        if let (Some(sdl), Some(name)) = (c.sdl.as_deref(), c.name.as_deref()) {
            if check_sdl(sdl).is_ok() {
                if let Err(e) = find(sdl, name) {
                    diags.add_attr_error(
                        AttrPath::attr("name"),
                        "Unknown action",
                        format!("The SDL {e}."),
                    );
                }
            }
        }
    }

    async fn read(&self, _ctx: &Ctx, c: Model) -> Result<Model, Diagnostics> {
        let (sdl, name) = (c.sdl.str_or(""), c.name.str_or(""));
        let (root, f) = find(sdl, name).map_err(|e| {
            Diagnostics::attr_error(
                AttrPath::attr("name"),
                "Unknown action",
                format!("The SDL {e}."),
            )
        })?;
        let arguments = f
            .arguments
            .iter()
            .map(|a| (a.name.clone(), a.value_type.to_string()))
            .collect();
        Ok(Model {
            typ: Known(root.to_string()),
            arguments: Known(arguments),
            output_type: Known(f.field_type.to_string()),
            comment: f.description.clone().map_or(Null, Known),
            ..c
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn fields_of_mutation_and_query() {
        let sdl = "type Mutation {\n  \"\"\"Logs in\"\"\"\n  login(username: String!, tags: [String!]): LoginResponse\n}\nextend type Query { me: [User!]! }\ntype LoginResponse { t: String }";
        let (root, f) = find(sdl, "login").unwrap();
        assert_eq!(
            (root, f.field_type.to_string()),
            ("mutation", "LoginResponse".to_string())
        );
        assert_eq!(f.arguments[1].value_type.to_string(), "[String!]");
        assert_eq!(f.description.as_deref(), Some("Logs in"));
        let (root, f) = find(sdl, "me").unwrap();
        assert_eq!(
            (root, f.field_type.to_string()),
            ("query", "[User!]!".to_string())
        );
        assert!(find(sdl, "nope").unwrap_err().0.contains("login, me"));
        assert_checks(
            check_sdl,
            &[],
            &["type T { a: Int }", "type Mutation { a: Int"],
        );
    }
}
