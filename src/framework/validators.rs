//! Attribute validators: small values composed onto schema attributes. They
//! only see known, non-null values; unknowns are checked again at apply.
use crate::plugin::cty::{AttrPath, Value};

use super::diag::Diagnostics;

pub trait Validator: Send + Sync {
    fn validate(&self, value: &Value, path: &AttrPath, diags: &mut Diagnostics);
}

/// Any closure over (value, path, diags) is a validator.
impl<F: Fn(&Value, &AttrPath, &mut Diagnostics) + Send + Sync> Validator for F {
    fn validate(&self, value: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        self(value, path, diags)
    }
}

/// Why a value is refused, worded to complete the sentence "`<attribute>`
/// ...". Never quotes a value that may be secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl From<String> for Invalid {
    fn from(s: String) -> Self {
        Invalid(s)
    }
}

impl From<&str> for Invalid {
    fn from(s: &str) -> Self {
        Invalid(s.into())
    }
}

/// A check on a string attribute, as a validator: the summary and the check.
pub struct StrCheck(pub &'static str, pub fn(&str) -> Result<(), Invalid>);

impl Validator for StrCheck {
    fn validate(&self, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        if let Some(s) = v.as_str() {
            if let Err(e) = (self.1)(s) {
                diags.add_attr_error(path.clone(), self.0, format!("`{path}` {e}."));
            }
        }
    }
}

/// An integer within `[min, max]`.
pub struct IntBetween(pub i64, pub i64);

impl Validator for IntBetween {
    fn validate(&self, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        match v.as_i64() {
            Some(n) if (self.0..=self.1).contains(&n) => {}
            Some(n) => diags.add_attr_error(
                path.clone(),
                "Value out of range",
                format!(
                    "`{path}` must be between {} and {} (inclusive), got {n}.",
                    self.0, self.1
                ),
            ),
            None => diags.add_attr_error(
                path.clone(),
                "Value must be a whole number",
                format!(
                    "`{path}` must be a whole number between {} and {}.",
                    self.0, self.1
                ),
            ),
        }
    }
}

/// A string whose length in characters is within `[min, max]`.
pub struct StringLen(pub usize, pub usize);

impl Validator for StringLen {
    fn validate(&self, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        if let Some(s) = v.as_str() {
            let n = s.chars().count();
            if n < self.0 || n > self.1 {
                diags.add_attr_error(
                    path.clone(),
                    "Invalid string length",
                    format!(
                        "`{path}` must be {} to {} characters long, got {n}.",
                        self.0, self.1
                    ),
                );
            }
        }
    }
}

/// A string from a fixed set.
pub struct OneOf(pub &'static [&'static str]);

impl Validator for OneOf {
    fn validate(&self, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        if let Some(s) = v.as_str() {
            if !self.0.contains(&s) {
                diags.add_attr_error(
                    path.clone(),
                    "Invalid value",
                    format!(
                        "`{path}` must be one of {}, got {s:?}.",
                        quoted_list(self.0)
                    ),
                );
            }
        }
    }
}

/// A string holding a JSON object (not an array, scalar or invalid JSON).
pub struct JsonObject;

impl Validator for JsonObject {
    fn validate(&self, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        if let Some(s) = v.as_str() {
            match serde_json::from_str::<serde_json::Value>(s) {
                Ok(serde_json::Value::Object(_)) => {}
                Ok(other) => diags.add_attr_error(
                    path.clone(),
                    "JSON object expected",
                    format!(
                        "`{path}` must be a JSON object (use jsonencode({{...}})), got a JSON {}.",
                        json_kind(&other)
                    ),
                ),
                Err(e) => diags.add_attr_error(
                    path.clone(),
                    "Invalid JSON",
                    format!("`{path}` is not valid JSON: {e}."),
                ),
            }
        }
    }
}

pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

pub fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Test support for `StrCheck` functions: `check` accepts every input of
/// `ok` and refuses every one of `bad`; a failure names the input.
#[cfg(test)]
pub fn assert_checks<T, E: std::fmt::Debug>(
    check: impl Fn(&str) -> Result<T, E>,
    ok: &[&str],
    bad: &[&str],
) {
    for s in ok {
        if let Err(e) = check(s) {
            panic!("{s:?} was refused: {e:?}");
        }
    }
    for s in bad {
        assert!(check(s).is_err(), "{s:?} was accepted");
    }
}
