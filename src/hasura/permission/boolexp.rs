//! Hasura boolean expressions (`filter`, `check`): the operators a
//! permission's JSON may use. The JSON is the user's own, so its keys are
//! read by name here, and only here.
use serde_json::Value as J;

use crate::framework::{AttrPath, Diagnostics, Value};

/// Comparison operators of Hasura's PostgreSQL boolean expressions.
const OPERATORS: &[&str] = &[
    "_eq",
    "_neq",
    "_in",
    "_nin",
    "_gt",
    "_lt",
    "_gte",
    "_lte",
    "_is_null",
    "_like",
    "_nlike",
    "_ilike",
    "_nilike",
    "_similar",
    "_nsimilar",
    "_regex",
    "_nregex",
    "_iregex",
    "_niregex",
    "_contains",
    "_contained_in",
    "_has_key",
    "_has_keys_any",
    "_has_keys_all",
    "_ceq",
    "_cne",
    "_cgt",
    "_clt",
    "_cgte",
    "_clte",
    "_ancestor",
    "_ancestor_any",
    "_descendant",
    "_descendant_any",
    "_matches",
    "_matches_any",
    "_matches_fulltext",
    "_cast",
];

/// Rejects misspelt operators (`{"id": {"_eqq": 1}}`), which Hasura would
/// otherwise refuse only at apply time. Column names may start with `_`, so
/// only a `_` key whose value is not itself a comparison object is flagged.
/// Invalid JSON is left to the attribute's `JsonObject` validator.
pub(super) fn check_operators(attr: &'static str, exp: &Value<String>, diags: &mut Diagnostics) {
    let Some(Ok(json)) = exp.as_deref().map(serde_json::from_str::<J>) else {
        return;
    };
    let mut bad = Vec::new();
    unknown_operators(&json, &mut bad);
    for op in bad {
        diags.add_attr_error(
            AttrPath::attr(attr),
            "Unknown boolean-expression operator",
            format!("`{attr}` uses {op:?}, which is not a Hasura comparison operator (e.g. `_eq`, `_neq`, `_in`, `_gt`, `_is_null`, `_like`; combine with `_and`, `_or`, `_not`)."),
        );
    }
}

fn unknown_operators(exp: &J, bad: &mut Vec<String>) {
    let Some(obj) = exp.as_object() else { return };
    for (key, val) in obj {
        match key.as_str() {
            "_and" | "_or" => val
                .as_array()
                .into_iter()
                .flatten()
                .for_each(|e| unknown_operators(e, bad)),
            "_not" => unknown_operators(val, bad),
            "_exists" => unknown_operators(val.get("_where").unwrap_or(&J::Null), bad),
            // A column (or relationship): its keys are operators, or a nested expression.
            _ => {
                let Some(cmp) = val.as_object() else { continue };
                for (op, arg) in cmp {
                    let known = OPERATORS.contains(&op.as_str())
                        || op.starts_with("_st_")
                        || matches!(op.as_str(), "_and" | "_or" | "_not" | "_exists");
                    if op.starts_with('_') && !known && !arg.is_object() {
                        bad.push(op.clone());
                    }
                }
                // Operator arguments (e.g. jsonb `_contains`) are data, not expressions.
                if !OPERATORS.contains(&key.as_str()) {
                    unknown_operators(val, bad);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn misspelt_operators_are_caught() {
        let mut bad = Vec::new();
        unknown_operators(
            &json!({"id": {"_evil": 1}, "_and": [{"n": {"_eqq": 2}}]}),
            &mut bad,
        );
        assert_eq!(bad, vec!["_evil", "_eqq"]);
        let mut ok = Vec::new();
        unknown_operators(
            &json!({"id": {"_eq": "X-Hasura-User-Id"}, "_or": [{"_id": {"_in": [1]}}, {"author": {"_id": {"_eq": 1}}}], "geom": {"_st_within": {}}}),
            &mut ok,
        );
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn each_unknown_operator_is_one_error_at_the_attribute() {
        let mut diags = Diagnostics::new();
        check_operators(
            "filter",
            &r#"{"id": {"_evil": 1, "_eqq": 2}}"#.into(),
            &mut diags,
        );
        assert_eq!(diags.0.len(), 2);
        assert_eq!(diags.0[0].path, Some(AttrPath::attr("filter")));
        assert!(diags.0[0]
            .detail
            .starts_with("`filter` uses \"_evil\", which"));
        let mut none = Diagnostics::new();
        check_operators("check", &"{".into(), &mut none);
        check_operators("check", &Value::Unknown, &mut none);
        assert!(none.is_empty());
    }
}
