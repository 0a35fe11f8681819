//! Typed members of a JSON request body, answering Clerk's form errors
//! (forms.go) for a member of the wrong type, and the `{data, total_count}`
//! lists of the newer collections (whose spec declares no bare-array form).

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::errors::{self, json_type, ApiError, ErrorEntry};
use crate::org_errors;
use crate::paging::Page;

pub type Body = Map<String, Value>;

fn wrong_type(name: &str, v: &Value, expected: &str) -> ErrorEntry {
    errors::form_param_wrong_type(name, json_type(v), expected)
}

/// Absent or null reads as `None`.
pub fn opt_string(b: &Body, name: &str, errs: &mut Vec<ErrorEntry>) -> Option<String> {
    match b.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            errs.push(wrong_type(name, v, "string"));
            None
        }
    }
}

/// Whether the member is present with a null value (a request to clear it).
pub fn is_null(b: &Body, name: &str) -> bool {
    matches!(b.get(name), Some(Value::Null))
}

pub fn req_string(b: &Body, name: &str, errs: &mut Vec<ErrorEntry>) -> String {
    if !b.contains_key(name) || is_null(b, name) {
        errs.push(errors::form_param_missing(name));
        return String::new();
    }
    opt_string(b, name, errs).unwrap_or_default()
}

pub fn opt_bool(b: &Body, name: &str, errs: &mut Vec<ErrorEntry>) -> Option<bool> {
    match b.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(x)) => Some(*x),
        Some(v) => {
            errs.push(wrong_type(name, v, "boolean"));
            None
        }
    }
}

pub fn opt_int(b: &Body, name: &str, errs: &mut Vec<ErrorEntry>) -> Option<i64> {
    match b.get(name) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) => Some(n),
            None => {
                errs.push(wrong_type(name, v, "integer"));
                None
            }
        },
    }
}

/// Metadata members: objects (forms.go `FormMetadataInvalidType` otherwise).
pub fn opt_object(b: &Body, name: &str, errs: &mut Vec<ErrorEntry>) -> Option<Value> {
    match b.get(name) {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(v) => {
            errs.push(wrong_type(name, v, "object"));
            None
        }
    }
}

pub fn opt_strings(b: &Body, name: &str, errs: &mut Vec<ErrorEntry>) -> Option<Vec<String>> {
    match b.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => Some(
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        ),
        Some(v) => {
            errs.push(wrong_type(name, v, "array of strings"));
            None
        }
    }
}

/// Members outside the operation's schema, for schemas with
/// `additionalProperties: false`.
pub fn only(b: &Body, allowed: &[&str], errs: &mut Vec<ErrorEntry>) {
    for k in b.keys() {
        if !allowed.contains(&k.as_str()) {
            errs.push(org_errors::unknown_parameter(k));
        }
    }
}

/// The `query` parameter of the list operations: exact match on the id,
/// partial (case-insensitive) on the given fields.
pub fn query_param(query: &[(String, String)]) -> Option<String> {
    query
        .iter()
        .find(|(k, _)| k == "query")
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

pub fn matches(q: &str, id: &str, fields: &[&str]) -> bool {
    let lower = q.to_lowercase();
    id == q || fields.iter().any(|f| f.to_lowercase().contains(&lower))
}

/// A list operation with `query` search and paging: the items `search_keys`
/// matches (id exactly, the other fields partially), in the iterator's order,
/// as `{data, total_count}`.
pub fn search<'a, T: 'a>(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    items: impl Iterator<Item = &'a T>,
    search_keys: impl Fn(&T) -> (&str, [&str; 2]),
    to_json: impl Fn(&T) -> Value,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| errors::malformed_request_parameters())?;
    let page = Page::parse(&query)?;
    let q = query_param(&query);
    let items = items
        .filter(|t| {
            let (id, fields) = search_keys(t);
            q.as_deref().is_none_or(|q| matches(q, id, &fields))
        })
        .map(to_json)
        .collect();
    Ok(paged(&page, items))
}

/// One page of `items` as `{data, total_count}`.
pub fn paged(page: &Page, items: Vec<Value>) -> Response {
    let total = items.len();
    let data: Vec<Value> = items
        .into_iter()
        .skip(page.offset)
        .take(page.limit)
        .collect();
    Json(json!({ "data": data, "total_count": total })).into_response()
}
