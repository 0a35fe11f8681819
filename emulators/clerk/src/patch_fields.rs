//! Reading the members of a PATCH body whose schema is
//! `additionalProperties: false` with nullable members (UpdateInstance,
//! UpdateInstanceRestrictions, UpdateInstanceOrganizationSettings): a
//! member that is absent or `null` leaves the setting as it is, an unknown
//! one is refused (`form_param_unknown`), a wrongly typed one is refused
//! like Clerk's other form errors. Every error is collected, as Clerk
//! reports form errors together.

use serde_json::{Map, Value};

use crate::errors::{self, ErrorEntry};
use crate::instance_errors;

pub struct Fields<'a> {
    body: &'a Map<String, Value>,
    pub errors: Vec<ErrorEntry>,
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a Map<String, Value>, allowed: &[&str]) -> Self {
        let errors = body
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| instance_errors::form_param_unknown(k))
            .collect();
        Fields { body, errors }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.body.get(name).filter(|v| !v.is_null())
    }

    fn wrong(&mut self, name: &str, v: &Value, expected: &str) {
        self.errors.push(errors::form_param_wrong_type(
            name,
            errors::json_type(v),
            expected,
        ));
    }

    pub fn bool(&mut self, name: &str) -> Option<bool> {
        let v = self.get(name)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong(name, v, "boolean");
                None
            }
        }
    }

    pub fn string(&mut self, name: &str) -> Option<String> {
        let v = self.get(name)?;
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.wrong(name, v, "string");
                None
            }
        }
    }

    pub fn int(&mut self, name: &str) -> Option<i64> {
        let v = self.get(name)?;
        match v.as_i64() {
            Some(n) => Some(n),
            None => {
                self.wrong(name, v, "integer");
                None
            }
        }
    }

    pub fn strings(&mut self, name: &str) -> Option<Vec<String>> {
        let v = self.get(name)?;
        let items: Option<Vec<String>> = v
            .as_array()
            .and_then(|a| a.iter().map(|i| i.as_str().map(str::to_string)).collect());
        if items.is_none() {
            self.wrong(name, v, "array of strings");
        }
        items
    }
}
