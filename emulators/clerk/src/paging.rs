//! What every list and write endpoint shares: the `Paginated`, `LimitParameter`
//! and `OffsetParameter` query parameters of the spec (bare array unless
//! `paginated=true`, then `{data, total_count}`), and JSON request bodies.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::errors::{self, ApiError};

pub fn parse_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(errors::request_body_invalid()),
    }
}

pub struct Page {
    pub paginated: bool,
    pub limit: usize,
    pub offset: usize,
}

impl Page {
    pub fn parse(query: &[(String, String)]) -> Result<Page, ApiError> {
        let mut page = Page {
            paginated: false,
            limit: 10,
            offset: 0,
        };
        let mut errs = Vec::new();
        for (k, v) in query {
            match k.as_str() {
                // Go's strconv.ParseBool spellings.
                "paginated" => match v.as_str() {
                    "1" | "t" | "T" | "true" | "TRUE" | "True" => page.paginated = true,
                    "0" | "f" | "F" | "false" | "FALSE" | "False" => page.paginated = false,
                    _ => errs.push(errors::form_param_type_invalid("paginated", "boolean")),
                },
                "limit" => match v.parse::<i64>() {
                    Err(_) => errs.push(errors::form_param_type_invalid("limit", "integer")),
                    Ok(n) if n < 1 => errs.push(errors::form_param_value_invalid("limit")),
                    Ok(n) if n > 500 => errs.push(errors::form_param_value_too_large("limit", 500)),
                    Ok(n) => page.limit = n as usize,
                },
                "offset" => match v.parse::<i64>() {
                    Err(_) => errs.push(errors::form_param_type_invalid("offset", "integer")),
                    Ok(n) if n < 0 => errs.push(errors::form_param_value_invalid("offset")),
                    Ok(n) => page.offset = n as usize,
                },
                _ => {}
            }
        }
        if errs.is_empty() {
            Ok(page)
        } else {
            Err(ApiError::form(errs))
        }
    }

    /// One page of `items` in the list response's shape.
    pub fn respond<T>(&self, items: &[T], to_json: impl Fn(&T) -> Value) -> Response {
        let data: Vec<Value> = items
            .iter()
            .skip(self.offset)
            .take(self.limit)
            .map(to_json)
            .collect();
        if self.paginated {
            Json(json!({ "data": data, "total_count": items.len() })).into_response()
        } else {
            Json(Value::Array(data)).into_response()
        }
    }
}
