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

/// A list or set with at least one element (terraform-plugin-framework's
/// `SizeAtLeast(1)`): the summary, and the detail saying what to write instead.
pub struct NotEmpty(pub &'static str, pub &'static str);

impl Validator for NotEmpty {
    fn validate(&self, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        if v.elements().is_some_and(<[Value]>::is_empty) {
            diags.add_attr_error(path.clone(), self.0, self.1);
        }
    }
}

/// A validator applied to every element of a list (at the element's index)
/// or of a set (at the set: core addresses a set's elements by value).
pub struct Each<V>(pub V);

impl<V: Validator> Validator for Each<V> {
    fn validate(&self, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        match v {
            Value::List(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, e)| self.0.validate(e, &path.index(i), diags)),
            Value::Set(items) => items.iter().for_each(|e| self.0.validate(e, path, diags)),
            _ => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &dyn Validator, value: &Value) -> Vec<(String, String)> {
        let mut diags = Diagnostics::default();
        v.validate(value, &AttrPath::attr("xs"), &mut diags);
        diags
            .0
            .iter()
            .map(|d| {
                (
                    d.path.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                    d.summary.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn not_empty_refuses_only_an_empty_collection() {
        let v = NotEmpty("Empty", "say so");
        assert_eq!(run(&v, &Value::List(vec![])).len(), 1);
        assert_eq!(run(&v, &Value::Set(vec![])).len(), 1);
        assert!(run(&v, &Value::List(vec![Value::string("a")])).is_empty());
        assert!(run(&v, &Value::string("")).is_empty());
    }

    #[test]
    fn each_checks_every_element_at_its_place() {
        let v = Each(OneOf(&["GET", "POST"]));
        let list = Value::List(vec![Value::string("GET"), Value::string("get")]);
        assert_eq!(
            run(&v, &list),
            vec![("xs[1]".to_string(), "Invalid value".to_string())]
        );
        let set = Value::Set(vec![Value::string("PUT"), Value::string("POST")]);
        assert_eq!(
            run(&v, &set),
            vec![("xs".to_string(), "Invalid value".to_string())]
        );
    }
}
