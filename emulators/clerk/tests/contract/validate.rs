//! A small OpenAPI 3.0 schema checker: enough of the vocabulary the Clerk
//! spec uses to tell whether an answer has the documented shape.
use serde_json::Value;

/// `#/components/...` into the spec.
pub fn resolve<'s>(spec: &'s Value, mut schema: &'s Value) -> &'s Value {
    while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        schema = spec
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    schema
}

pub struct Validator<'a> {
    pub spec: &'a Value,
}

impl Validator<'_> {
    /// `#/components/...` into the spec.
    pub fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        resolve(self.spec, schema)
    }

    /// Appends one line per violation, each naming the JSON path.
    pub fn check(&self, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if v.is_null() && self.admits_null(schema) {
            return;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(v) {
                out.push(format!("{at}: {v} not in enum {allowed:?}"));
            }
        }
        if let Some(ty) = schema.get("type") {
            let types: Vec<&str> = match ty {
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                t => t.as_str().into_iter().collect(),
            };
            if !types.iter().any(|t| has_type(v, t)) {
                out.push(format!("{at}: expected {}, got {v}", types.join("|")));
                return;
            }
        }
        if let Some(obj) = v.as_object() {
            self.check_object(schema, obj, at, out);
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
            for (i, item) in arr.iter().enumerate() {
                self.check(items, item, &format!("{at}[{i}]"), out);
            }
        }
        for branch in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.check(branch, v, at, out);
        }
        // `oneOf` is checked like `anyOf`: the spec's alternatives overlap
        // (no discriminators, optional members everywhere), so a correct
        // answer routinely matches several of them.
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                self.check_any(key, branches, v, at, out);
            }
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        obj: &serde_json::Map<String, Value>,
        at: &str,
        out: &mut Vec<String>,
    ) {
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !obj.contains_key(req) {
                out.push(format!("{at}: missing required member `{req}`"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        let extra = schema.get("additionalProperties");
        for (k, val) in obj {
            let path = format!("{at}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(s) => self.check(s, val, &path, out),
                None => match extra {
                    Some(Value::Bool(false)) => out.push(format!(
                        "{path}: member not in schema (additionalProperties: false)"
                    )),
                    Some(s @ Value::Object(_)) => self.check(s, val, &path, out),
                    _ => {}
                },
            }
        }
    }

    fn check_any(&self, key: &str, branches: &[Value], v: &Value, at: &str, out: &mut Vec<String>) {
        let mut best: Option<Vec<String>> = None;
        for b in branches {
            let mut errs = Vec::new();
            self.check(b, v, at, &mut errs);
            if errs.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|e| errs.len() < e.len()) {
                best = Some(errs);
            }
        }
        out.push(format!(
            "{at}: matches none of the {} {key} alternatives; closest:",
            branches.len()
        ));
        out.extend(
            best.unwrap_or_default()
                .into_iter()
                .map(|e| format!("    {e}")),
        );
    }

    fn admits_null(&self, schema: &Value) -> bool {
        let schema = self.resolve(schema);
        if schema.get("nullable") == Some(&Value::Bool(true)) {
            return true;
        }
        match schema.get("type") {
            Some(Value::Array(a)) => return a.iter().any(|t| t == "null"),
            Some(t) => return t == "null",
            None => {}
        }
        let any = |k: &str| {
            schema
                .get(k)
                .and_then(Value::as_array)
                .is_some_and(|bs| bs.iter().any(|b| self.admits_null(b)))
        };
        let all = schema
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|bs| bs.iter().all(|b| self.admits_null(b)));
        any("oneOf") || any("anyOf") || all
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        other => panic!("unknown schema type {other}"),
    }
}
