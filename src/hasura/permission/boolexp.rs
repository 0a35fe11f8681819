//! Hasura boolean expressions (`filter`, `check`): the operators a
//! permission's JSON may use, and the form graphql-engine stores it in. The
//! JSON is the user's own, so its keys are read by name here, and only here.
use serde::Deserialize;
use serde_json::Value as J;

use crate::framework::json_string::JsonForm;
use crate::framework::{AttrPath, Diagnostics, Value};

use super::boolexp_form;

/// The column operators graphql-engine's Postgres permission parser accepts,
/// each also spelled with `$` (`$eq`): `parseOperation` in
/// server/src-lib/Hasura/Backends/Postgres/DDL/BoolExp.hs (hasura/graphql-engine,
/// commit 313859722a787ce29c4d01fb7229124c033a47da and today's master alike).
/// Anything else under a column is refused with "Unknown operator: <op>".
pub(super) const OPERATORS: &[&str] = &[
    "_cast",
    "_eq",
    "_ne",
    "_neq",
    "_in",
    "_nin",
    "_gt",
    "_lt",
    "_gte",
    "_lte",
    "_like",
    "_nlike",
    "_ilike",
    "_nilike",
    "_similar",
    "_nsimilar",
    "_regex",
    "_iregex",
    "_nregex",
    "_niregex",
    "_is_null",
    "_contains",
    "_contained_in",
    "_has_key",
    "_has_keys_any",
    "_has_keys_all",
    "_st_contains",
    "_st_crosses",
    "_st_equals",
    "_st_overlaps",
    "_st_touches",
    "_st_within",
    "_st_intersects",
    "_st_3d_intersects",
    "_st_d_within",
    "_st_3d_d_within",
    "_ceq",
    "_cne",
    "_cneq",
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
];

/// The connectives of `FromJSON (GBoolExp b a)` (Hasura.RQL.IR.BoolExp).
const CONNECTIVES: &[&str] = &["_and", "_or", "_not", "_exists"];

/// `_eq` for `_eq` and `$eq`; `None` for any other key.
fn spelled(key: &str, names: &'static [&'static str]) -> Option<&'static str> {
    let bare = key.strip_prefix('$').or_else(|| key.strip_prefix('_'))?;
    names.iter().copied().find(|n| &n[1..] == bare)
}

pub(super) fn operator(key: &str) -> Option<&'static str> {
    spelled(key, OPERATORS)
}

pub(super) fn connective(key: &str) -> Option<&'static str> {
    spelled(key, CONNECTIVES)
}

/// Rejects misspelt operators (`{"id": {"_eqq": 1}}`), which Hasura would
/// otherwise refuse only at apply time. Column names may start with `_`, so
/// only a `_`/`$` key whose value is not itself an object is flagged.
/// Invalid JSON is left to the attribute's `JsonObject` validator.
pub(super) fn check_operators(attr: &'static str, exp: &Value<String>, diags: &mut Diagnostics) {
    let Some(Ok(json)) = exp.as_deref().map(serde_json::from_str::<J>) else {
        return;
    };
    let mut bad = Vec::new();
    unknown_in_exp(&json, &mut bad);
    for op in bad {
        diags.add_attr_error(
            AttrPath::attr(attr),
            "Unknown boolean-expression operator",
            format!(
                "`{attr}` uses {op:?}, which is not a Hasura comparison operator. Valid operators are {}, each also spelled with `$` (`$eq`); combine expressions with `_and`, `_or`, `_not`, `_exists`.",
                OPERATORS.join(", ")
            ),
        );
    }
}

/// A boolean expression: every key is a connective or a field.
fn unknown_in_exp(exp: &J, bad: &mut Vec<String>) {
    let Some(obj) = exp.as_object() else { return };
    for (key, val) in obj {
        unknown_in_entry(key, val, bad);
    }
}

fn unknown_in_entry(key: &str, val: &J, bad: &mut Vec<String>) {
    match connective(key) {
        Some("_and" | "_or") => val
            .as_array()
            .into_iter()
            .flatten()
            .for_each(|e| unknown_in_exp(e, bad)),
        Some("_not") => unknown_in_exp(val, bad),
        Some(_) => {
            // An `_exists`: its `_table` is a name, its `_where` a boolean expression.
            #[derive(Default, Deserialize)]
            struct Where {
                #[serde(default, rename = "_where")]
                filter: J,
            }
            unknown_in_exp(&Where::deserialize(val).unwrap_or_default().filter, bad)
        }
        None => unknown_in_field(val, bad),
    }
}

/// A field's value: comparisons on a column, or (a relationship) another
/// boolean expression. Operator arguments (jsonb `_contains`) are data.
fn unknown_in_field(val: &J, bad: &mut Vec<String>) {
    let Some(cmp) = val.as_object() else { return };
    for (key, arg) in cmp {
        match operator(key) {
            Some("_cast") => arg
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .for_each(|c| unknown_in_field(c, bad)),
            Some(_) => {}
            None if connective(key).is_some() => unknown_in_entry(key, arg, bad),
            None if key.starts_with(['_', '$']) && !arg.is_object() => bad.push(key.to_string()),
            None => unknown_in_field(arg, bad),
        }
    }
}

/// `filter`/`check` compared in the form graphql-engine stores them.
pub(crate) struct HasuraBoolExp;

impl JsonForm for HasuraBoolExp {
    fn normal(v: &J) -> Option<J> {
        boolexp_form::stored_form(v)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn unknown(e: J) -> Vec<String> {
        let mut bad = Vec::new();
        unknown_in_exp(&e, &mut bad);
        bad
    }

    #[test]
    fn misspelt_operators_are_caught() {
        assert_eq!(
            unknown(
                json!({"id": {"_evil": 1}, "_and": [{"n": {"_eqq": 2}}], "$or": [{"m": {"$eqq": 3}}]})
            ),
            vec!["_evil", "_eqq", "$eqq"]
        );
        let ok = unknown(json!({
            "id": {"_eq": "X-Hasura-User-Id"},
            "_or": [{"_id": {"_in": [1]}}, {"author": {"_id": {"_eq": 1}}}],
            "geom": {"_st_within": {}},
            "a": {"_ne": 1, "$neq": 2, "_cneq": "b", "$cne": "b", "_is_null": false},
            "$not": {"doc": {"_contains": {"_weird": 1}}},
            "$exists": {"_table": "t", "_where": {"x": {"$eq": 1}}},
            "g": {"_cast": {"geography": {"_st_d_within": {"distance": 1, "from": {}}}}},
            "rel": {"$or": [{"y": {"_gt": 1}}]}
        }));
        assert!(ok.is_empty(), "{ok:?}");
        assert_eq!(
            unknown(json!({"g": {"_cast": {"text": {"_likee": "x"}}}})),
            vec!["_likee"]
        );
    }

    #[test]
    fn every_operator_has_both_spellings() {
        for op in OPERATORS {
            assert_eq!(operator(op), Some(*op));
            assert_eq!(operator(&format!("${}", &op[1..])), Some(*op));
        }
        assert_eq!(operator("eq"), None);
        assert_eq!(connective("$exists"), Some("_exists"));
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
        assert!(diags.0[0].detail.contains("_ne, _neq"));
        let mut none = Diagnostics::new();
        check_operators("check", &"{".into(), &mut none);
        check_operators("check", &Value::Unknown, &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn filters_compare_in_the_stored_form() {
        let eq = |a: J, b: J| HasuraBoolExp::normal(&a) == HasuraBoolExp::normal(&b);
        assert!(eq(
            json!({"$or": [{"a": {"$eq": 1}}]}),
            json!({"_or": [{"a": {"$eq": 1}}]})
        ));
        assert!(eq(
            json!({"$exists": {"_table": "t", "_where": {}}}),
            json!({"_exists": {"_where": {}, "_table": {"name": "t", "schema": "public"}}})
        ));
        // Inside a column's comparison, `$eq` is kept as written.
        assert!(!eq(json!({"a": {"$eq": 1}}), json!({"a": {"_eq": 1}})));
        assert!(!eq(json!({"_or": [{"a": 1}]}), json!({"_or": [{"a": 2}]})));
    }
}
