//! `/api/rest/<url>`: graphql-engine `Hasura/Server/Rest.hs`
//! (`runCustomEndpoint`, `resolveVar`) and the route in `Hasura/Server/App.hs`
//! (query-string values, then a JSON body's keys, as the request's arguments).
use std::collections::BTreeSet;

use axum::http::{HeaderMap, Method, StatusCode};
use graphql_parser::query::{Definition, OperationDefinition, Type, VariableDefinition};
use serde_json::{json, Map, Value};

use super::{list, params, resolve, segments};
use crate::errors::QErr;
use crate::state::{load_metadata, AppState};

/// `resolveVar`: a url or query-string value is typed by the variable it
/// binds (booleans and numbers parsed, the rest passed as text); a JSON body
/// value passes as is.
fn resolve_var(
    def: &VariableDefinition<'_, String>,
    given: &Given,
) -> Result<Option<Value>, String> {
    let text = match given {
        Given::Json(v) => return Ok(Some(v.clone())),
        Given::Text(t) => t,
    };
    if is_list(&def.var_type) {
        return Err(format!(
            "List variables are not currently supported in URL or Query parameters. (Variable {}, with value {text:?})",
            def.name
        ));
    }
    let (nullable, ty) = match &def.var_type {
        Type::NonNullType(t) => (false, named(t)),
        t => (true, named(t)),
    };
    if ty == "Boolean" && text.is_empty() {
        return Ok(Some(Value::Bool(true)));
    }
    if nullable && text.is_empty() {
        return Ok(None);
    }
    Ok(Some(match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Bool(_)) if ["Bool", "Boolean"].contains(&ty) => v,
        Ok(v @ Value::Number(_))
            if ["Int", "Float", "Number", "Double", "float8", "numeric"].contains(&ty) =>
        {
            v
        }
        _ => Value::String(text.clone()),
    }))
}

fn is_list(t: &Type<'_, String>) -> bool {
    match t {
        Type::ListType(_) => true,
        Type::NonNullType(t) => is_list(t),
        Type::NamedType(_) => false,
    }
}

fn named<'t>(t: &'t Type<'_, String>) -> &'t str {
    match t {
        Type::NamedType(n) => n,
        Type::NonNullType(t) | Type::ListType(t) => named(t),
    }
}

enum Given {
    Text(String),
    Json(Value),
}

/// `GQLName`'s rule: a key that is not a GraphQL name binds nothing.
fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f == '_' || f.is_ascii_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |x: u8| (x as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request to `/api/rest/<path>`.
pub struct RestRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn fail(status: StatusCode, code: &'static str, error: impl Into<String>) -> QErr {
    QErr::new(status, code, "$", error)
}

/// `runCustomEndpoint`: match the path and method (`matchPath`: every
/// endpoint whose segments match, literal or parameter alike; none is 404
/// "Endpoint not found", a path without the method is 405 "Allowed methods:
/// ...", two matches are 500 "Multiple endpoints match request"), bind the
/// query-string, body and url values to the query's variables (url params
/// win; an unknown name is 400 "Unexpected variable X"), then run it as
/// `/v1/graphql` would with the request's headers (same auth and session,
/// allow list included). Errors use the metadata API's body (`encodeQErr`),
/// not GraphQL's, with their HTTP status.
pub async fn serve(st: &AppState, req: RestRequest<'_>) -> Result<Value, QErr> {
    let (md, _) = load_metadata(&st.db).await?;
    let wanted: Vec<String> = req.path.split('/').map(percent_decode).collect();
    let mut found = Vec::new();
    let mut allowed = BTreeSet::new();
    for e in list(&md) {
        let url = e["url"].as_str().unwrap_or_default();
        let segs = segments(url);
        if segs.len() != wanted.len()
            || !segs
                .iter()
                .zip(&wanted)
                .all(|(s, w)| s.is_none_or(|s| s == w))
        {
            continue;
        }
        let methods: Vec<&str> = e["methods"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if methods.contains(&req.method.as_str()) {
            let bound: Vec<(String, String)> = params(url)
                .into_iter()
                .map(str::to_string)
                .zip(
                    segs.iter()
                        .zip(&wanted)
                        .filter(|(s, _)| s.is_none())
                        .map(|(_, w)| w.clone()),
                )
                .collect();
            found.push((e.clone(), bound));
        } else {
            allowed.extend(methods.into_iter().map(str::to_string));
        }
    }
    let (ep, bound) = match found.len() {
        0 if allowed.is_empty() => {
            return Err(fail(
                StatusCode::NOT_FOUND,
                "not-found",
                "Endpoint not found",
            ))
        }
        0 => {
            let list: Vec<String> = allowed.into_iter().collect();
            return Err(fail(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                format!("Allowed methods: {}", list.join(", ")),
            ));
        }
        1 => found.remove(0),
        _ => {
            return Err(fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unexpected",
                "Multiple endpoints match request",
            ))
        }
    };
    let query = resolve(&md, &ep).map_err(|_| {
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected",
            "A stored query should contain exactly one definition",
        )
    })?;
    let doc = graphql_parser::parse_query::<String>(&query).map_err(|e| {
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected",
            e.to_string(),
        )
    })?;
    let defs: Vec<VariableDefinition<'_, String>> = match doc.definitions.first() {
        Some(Definition::Operation(OperationDefinition::Query(q))) => {
            q.variable_definitions.clone()
        }
        Some(Definition::Operation(OperationDefinition::Mutation(m))) => {
            m.variable_definitions.clone()
        }
        _ => Vec::new(),
    };
    // Query string, then the body's keys (App.hs: `allParams`), then url
    // params; a later value of the same name wins (`HashMap.fromList`).
    let mut given: Vec<(String, Given)> = req
        .query
        .into_iter()
        .map(|(k, v)| (k, Given::Text(v)))
        .collect();
    if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(req.body) {
        given.extend(o.into_iter().map(|(k, v)| (k, Given::Json(v))));
    }
    given.extend(bound.into_iter().map(|(k, v)| (k, Given::Text(v))));
    let mut values: Vec<(String, Given)> = Vec::new();
    for (k, v) in given.into_iter().filter(|(k, _)| is_name(k)) {
        values.retain(|(n, _)| *n != k);
        values.push((k, v));
    }
    let mut variables = Map::new();
    for (k, v) in &values {
        let Some(def) = defs.iter().find(|d| d.name == *k) else {
            return Err(QErr::bad(
                "bad-request",
                "$",
                format!("Unexpected variable {k}"),
            ));
        };
        if let Some(v) = resolve_var(def, v).map_err(|e| QErr::bad("bad-request", "$", e))? {
            variables.insert(k.clone(), v);
        }
    }
    let gql = json!({"query": query, "variables": variables});
    crate::graphql::execute(st, req.headers, &gql)
        .await
        .map_err(|e| {
            // Hasura's statuses: `throw401` for authentication, `throw500` for
            // `unexpected`, 400 for the rest (`Hasura/Base/Error.hs`).
            let status = match e.code {
                "access-denied" => StatusCode::UNAUTHORIZED,
                "unexpected" => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            QErr::new(status, e.code, &e.path, e.message)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use graphql_parser::query::{Definition, OperationDefinition};

    #[test]
    fn url_values_are_typed_by_their_variable() {
        let doc = graphql_parser::parse_query::<String>(
            "query Q($id: Int!, $on: Boolean, $name: String, $ids: [Int!]) { x }",
        )
        .unwrap();
        let Definition::Operation(OperationDefinition::Query(q)) = &doc.definitions[0] else {
            panic!()
        };
        let d = &q.variable_definitions;
        let t = |s: &str| Given::Text(s.into());
        assert_eq!(resolve_var(&d[0], &t("7")).unwrap(), Some(json!(7)));
        assert_eq!(resolve_var(&d[1], &t("")).unwrap(), Some(json!(true)));
        assert_eq!(resolve_var(&d[2], &t("")).unwrap(), None);
        assert_eq!(resolve_var(&d[2], &t("12")).unwrap(), Some(json!("12")));
        assert!(resolve_var(&d[3], &t("1")).is_err());
    }
}
