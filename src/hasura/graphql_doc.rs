//! GraphQL executable documents (the queries of `hasura_query_collection`)
//! and schema documents (the SDL of `hasura_remote_schema_permission`):
//! checked at plan time with a real parser and compared by meaning.
use graphql_parser::query::{Definition, Document, OperationDefinition, Selection, SelectionSet};
use graphql_parser::schema::{self as sdl, TypeDefinition};

use crate::framework::{Invalid, SameText};

use super::ident::is_graphql_name;

/// Why a GraphQL document is not what an attribute takes: the parser's
/// message, or what the document lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(super) struct DocError(pub String);

impl DocError {
    /// The parser's message, without its trailing newline.
    fn parser(e: impl std::fmt::Display) -> Self {
        DocError(e.to_string().trim().to_string())
    }
}

impl From<graphql_parser::schema::ParseError> for DocError {
    fn from(e: graphql_parser::schema::ParseError) -> Self {
        DocError::parser(e)
    }
}

/// The parser's message when `s` is not an executable document Hasura would
/// accept (`G.parseExecutableDoc`).
pub(super) fn check(s: &str) -> Result<(), DocError> {
    let doc = graphql_parser::parse_query::<String>(s);
    some_definition(doc.map(|d| d.definitions), "the document has no operation")
}

/// Executable documents compared by meaning ([`same`]), for plan-time
/// semantic equality.
pub(super) struct SameDocument;
impl SameText for SameDocument {
    fn same(a: &str, b: &str) -> bool {
        same(a, b)
    }
}

/// Schema documents compared by meaning ([`same_sdl`]).
pub(super) struct SameSdl;
impl SameText for SameSdl {
    fn same(a: &str, b: &str) -> bool {
        same_sdl(a, b)
    }
}

/// The parser's message, or `empty` when the document defines nothing.
fn some_definition<D, E: std::fmt::Display>(
    definitions: Result<Vec<D>, E>,
    empty: &str,
) -> Result<(), DocError> {
    match definitions {
        Err(e) => Err(DocError::parser(e)),
        Ok(d) if d.is_empty() => Err(DocError(empty.into())),
        Ok(_) => Ok(()),
    }
}

/// Refuses `s` unless it is a GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`,
/// graphql-parser-hs `mkName`), saying `why` it must be one.
pub(super) fn check_name(s: &str, why: &str) -> Result<(), Invalid> {
    match is_graphql_name(s) {
        true => Ok(()),
        false => Err(Invalid(why.into())),
    }
}

/// One layout for documents that differ only in whitespace, commas or the
/// order of a field's arguments (Hasura keeps arguments in a map); `None`
/// when `s` does not parse.
pub(super) fn normal(s: &str) -> Option<String> {
    let mut doc: Document<'_, String> = graphql_parser::parse_query::<String>(s).ok()?;
    for d in &mut doc.definitions {
        match d {
            Definition::Operation(OperationDefinition::SelectionSet(s)) => sort_args(s),
            Definition::Operation(OperationDefinition::Query(q)) => sort_args(&mut q.selection_set),
            Definition::Operation(OperationDefinition::Mutation(m)) => {
                sort_args(&mut m.selection_set)
            }
            Definition::Operation(OperationDefinition::Subscription(s)) => {
                sort_args(&mut s.selection_set)
            }
            Definition::Fragment(f) => sort_args(&mut f.selection_set),
        }
    }
    Some(doc.to_string())
}

fn sort_args(s: &mut SelectionSet<'_, String>) {
    for i in &mut s.items {
        match i {
            Selection::Field(f) => {
                f.arguments.sort_by(|a, b| a.0.cmp(&b.0));
                sort_args(&mut f.selection_set);
            }
            Selection::InlineFragment(f) => sort_args(&mut f.selection_set),
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// The variable names of a document's only operation; `None` when it does
/// not parse or has another number of operations.
pub(super) fn variables(s: &str) -> Option<Vec<String>> {
    let doc = graphql_parser::parse_query::<String>(s).ok()?;
    let mut ops = doc.definitions.into_iter().filter_map(|d| match d {
        Definition::Operation(op) => Some(op),
        Definition::Fragment(_) => None,
    });
    let (Some(op), None) = (ops.next(), ops.next()) else {
        return None;
    };
    let defs = match op {
        OperationDefinition::SelectionSet(_) => Vec::new(),
        OperationDefinition::Query(q) => q.variable_definitions,
        OperationDefinition::Mutation(m) => m.variable_definitions,
        OperationDefinition::Subscription(s) => s.variable_definitions,
    };
    Some(defs.into_iter().map(|v| v.name).collect())
}

/// Same meaning: equal normal forms, or equal text when either does not parse.
pub(super) fn same(a: &str, b: &str) -> bool {
    match (normal(a), normal(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The parser's message when `s` is not a schema document Hasura would
/// accept (`G.SchemaDocument`'s parser).
pub(super) fn check_sdl(s: &str) -> Result<(), DocError> {
    let doc = graphql_parser::parse_schema::<String>(s);
    some_definition(doc.map(|d| d.definitions), "the document defines no types")
}

/// One layout for schema documents that differ only in layout or in the
/// order of types, fields, arguments, enum values or union members, none of
/// which changes what a role may see; `None` when `s` does not parse.
pub(super) fn normal_sdl(s: &str) -> Option<String> {
    let doc = graphql_parser::parse_schema::<String>(s).ok()?;
    let mut defs: Vec<String> = doc
        .definitions
        .into_iter()
        .map(|mut d| {
            if let sdl::Definition::TypeDefinition(t) = &mut d {
                sort_type(t);
            }
            d.to_string()
        })
        .collect();
    defs.sort();
    Some(defs.join("\n"))
}

fn sort_type(t: &mut TypeDefinition<'_, String>) {
    let by_name =
        |a: &sdl::InputValue<'_, String>, b: &sdl::InputValue<'_, String>| a.name.cmp(&b.name);
    match t {
        TypeDefinition::Object(o) => {
            o.implements_interfaces.sort();
            o.fields.sort_by(|a, b| a.name.cmp(&b.name));
            for f in &mut o.fields {
                f.arguments.sort_by(by_name);
            }
        }
        TypeDefinition::Interface(i) => {
            i.fields.sort_by(|a, b| a.name.cmp(&b.name));
            for f in &mut i.fields {
                f.arguments.sort_by(by_name);
            }
        }
        TypeDefinition::InputObject(i) => i.fields.sort_by(by_name),
        TypeDefinition::Enum(e) => e.values.sort_by(|a, b| a.name.cmp(&b.name)),
        TypeDefinition::Union(u) => u.types.sort(),
        TypeDefinition::Scalar(_) => {}
    }
}

/// Same schema: equal normal forms, or equal text when either does not parse.
pub(super) fn same_sdl(a: &str, b: &str) -> bool {
    match (normal_sdl(a), normal_sdl(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn meaning_not_text() {
        assert!(same(
            "query Q { users(limit: 1, offset: 2) { id name } }",
            "query Q {\n  users(offset: 2, limit: 1) {\n    id,\n    name\n  }\n}\n"
        ));
        assert!(!same(
            "query Q { users { id name } }",
            "query Q { users { name id } }"
        ));
        assert_checks(
            check,
            &["{ users { id } }"],
            &["query { users { id }", "", "type T { a: Int }"],
        );
        assert_eq!(
            variables("query Q($id: Int!, $n: String) { u }"),
            Some(vec!["id".to_string(), "n".to_string()])
        );
        assert_eq!(variables("{ u }"), Some(vec![]));
        assert_eq!(variables("query A { u } query B { u }"), None);
    }

    #[test]
    fn schemas_by_meaning() {
        assert!(same_sdl(
            "type Query { hello: String  user(id: ID!, x: Int): User }\ntype User { id: ID! name: String }",
            "type User {\n  name: String\n  id: ID!\n}\n\ntype Query {\n  user(x: Int, id: ID!): User\n  hello: String\n}\n"
        ));
        assert!(!same_sdl(
            "type Query { hello: String }",
            "type Query { hello: String! }"
        ));
        assert_checks(
            check_sdl,
            &["type Query { hello: String }"],
            &["type Query { hello: String", "", "query { hello }"],
        );
    }
}
