//! Terraform's plan/apply contract, applied generically from the schema so a
//! resource author cannot break it: defaults, semantic equality, unknown
//! marking, plan modifiers, and reconciling apply results with the plan.
use crate::plugin::cty::{AttrPath, Value};

use super::diag::Diagnostics;
use super::planmod::PlanModRequest;
use super::schema::{AttrType, Attribute, Mode, Nesting};

/// Runs every attribute validator on known values, recursing into nested
/// attributes. Core refuses a required attribute left out, but not one set
/// to null (`x = null`, an unset variable, or what `terraform plan
/// -generate-config-out` writes for a sensitive value it cannot read):
/// that is refused here, before a null can reach an API as an empty value.
pub fn validate(attrs: &[Attribute], obj: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    for a in attrs {
        let v = obj.get(a.name);
        let p = path.child(a.name);
        if v.is_null() && a.mode == Mode::Required && !obj.is_null() && !obj.is_unknown() {
            diags.add_attr_error(
                p.clone(),
                "Missing value for required attribute",
                format!("`{p}` is required, but its value is null (`{} = null`, an unset variable, or a value `terraform plan -generate-config-out` could not read, such as a sensitive one). Set it to the real value.", a.name),
            );
        }
        if v.is_null() || v.is_unknown() {
            continue;
        }
        null_elements(v, &p, diags);
        if v.is_wholly_known() {
            for val in &a.validators {
                val.validate(v, &p, diags);
            }
        }
        if let AttrType::Nested(nesting, inner) = &a.ty {
            for_each_element(*nesting, v, &p, |elem, ep| {
                validate(inner, elem, &ep, diags)
            });
        }
    }
}

/// Core lets a list, set or map hold a null (`[null]`, an unset variable in a
/// list); no API here has a meaning for one, so it is refused where it stands.
fn null_elements(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    let mut refuse = |p: AttrPath| {
        diags.add_attr_error(
            p.clone(),
            "Null element",
            format!("`{p}` is null: an element of a list, set or map must have a value. Remove it or set one."),
        )
    };
    match v {
        Value::List(items) => items
            .iter()
            .enumerate()
            .filter(|(_, x)| x.is_null())
            .for_each(|(i, _)| refuse(path.index(i))),
        Value::Set(items) if items.iter().any(Value::is_null) => refuse(path.clone()),
        Value::Map(m) => m
            .iter()
            .filter(|(_, x)| x.is_null())
            .for_each(|(k, _)| refuse(path.key(k))),
        _ => {}
    }
}

fn for_each_element(
    nesting: Nesting,
    v: &Value,
    path: &AttrPath,
    mut f: impl FnMut(&Value, AttrPath),
) {
    match (nesting, v) {
        (Nesting::Single, _) => f(v, path.clone()),
        (Nesting::List, Value::List(items)) => items
            .iter()
            .enumerate()
            .for_each(|(i, x)| f(x, path.index(i))),
        // Set elements cannot be addressed by a path; report against the set.
        (Nesting::Set, Value::Set(items)) => items.iter().for_each(|x| f(x, path.clone())),
        (Nesting::Map, Value::Map(m)) => m.iter().for_each(|(k, x)| f(x, path.key(k))),
        _ => {}
    }
}

/// Where config leaves an attribute null and the schema has a default, plan the default.
pub fn apply_defaults(attrs: &[Attribute], config: &Value, planned: &mut Value) {
    let Value::Object(pm) = planned else { return };
    for a in attrs {
        let cv = config.get(a.name);
        if cv.is_null() {
            if let Some(d) = &a.default {
                pm.insert(a.name.to_string(), d.clone());
            }
            continue;
        }
        if let (AttrType::Nested(nesting, inner), Some(pv)) = (&a.ty, pm.get_mut(a.name)) {
            match (nesting, cv, pv) {
                (Nesting::Single, c, p) => apply_defaults(inner, c, p),
                (Nesting::List, Value::List(cs), Value::List(ps)) if cs.len() == ps.len() => cs
                    .iter()
                    .zip(ps.iter_mut())
                    .for_each(|(c, p)| apply_defaults(inner, c, p)),
                (Nesting::Map, Value::Map(cs), Value::Map(ps)) => {
                    for (k, p) in ps.iter_mut() {
                        if let Some(c) = cs.get(k) {
                            apply_defaults(inner, c, p);
                        }
                    }
                }
                (Nesting::Set, _, Value::Set(ps)) => {
                    // Set elements are matched to config by position only
                    // where core kept the order; defaults are element-local.
                    let cs = cv.elements().unwrap_or(&[]).to_vec();
                    ps.iter_mut()
                        .zip(cs.iter())
                        .for_each(|(p, c)| apply_defaults(inner, c, p));
                }
                _ => {}
            }
        }
    }
}

/// Keeps the prior form of values that changed only in presentation.
pub fn keep_equivalent_prior(
    attrs: &[Attribute],
    source: &Value,
    prior: &Value,
    target: &mut Value,
) {
    for a in attrs {
        let Some(eq) = a.semantic_eq else { continue };
        let (s, p) = (source.get(a.name), prior.get(a.name));
        if s.is_wholly_known()
            && !s.is_null()
            && p.is_wholly_known()
            && !p.is_null()
            && s != p
            && eq(s, p)
        {
            target.set(a.name, p.clone());
        }
    }
}

pub fn null_write_only(attrs: &[Attribute], planned: &mut Value) {
    for a in attrs.iter().filter(|a| a.write_only) {
        planned.set(a.name, Value::Null);
    }
}

/// Computed attributes the config leaves null may change on apply: say so.
pub fn mark_computed_unknown(attrs: &[Attribute], config: &Value, planned: &mut Value) {
    let Value::Object(pm) = planned else { return };
    for a in attrs {
        let cv = config.get(a.name);
        if a.is_computed() && a.default.is_none() && cv.is_null() {
            pm.insert(a.name.to_string(), Value::Unknown);
            continue;
        }
        if let (AttrType::Nested(Nesting::List, inner), Value::List(cs), Some(Value::List(ps))) =
            (&a.ty, cv, pm.get_mut(a.name))
        {
            cs.iter()
                .zip(ps.iter_mut())
                .for_each(|(c, p)| mark_computed_unknown(inner, c, p));
        } else if let (AttrType::Nested(Nesting::Single, inner), Some(p)) =
            (&a.ty, pm.get_mut(a.name))
        {
            if !cv.is_null() {
                mark_computed_unknown(inner, cv, p);
            }
        }
    }
}

/// Runs top-level attribute plan modifiers; returns the attributes forcing replacement.
pub fn run_modifiers(
    attrs: &[Attribute],
    config: &Value,
    prior: Option<&Value>,
    planned: &mut Value,
) -> Vec<AttrPath> {
    let mut replace = Vec::new();
    for a in attrs.iter().filter(|a| !a.plan_modifiers.is_empty()) {
        let path = AttrPath::attr(a.name);
        let mut v = planned.get(a.name).clone();
        let mut rr = false;
        let req = PlanModRequest {
            path: &path,
            config: config.get(a.name),
            prior: prior.map(|p| p.get(a.name)),
        };
        for m in &a.plan_modifiers {
            m.modify(&req, &mut v, &mut rr);
        }
        planned.set(a.name, v);
        if rr {
            replace.push(path);
        }
    }
    replace
}

/// The state to report after apply: every value known in the plan exactly as
/// planned, every unknown filled from what the API returned (or null).
pub fn reconcile(planned: &Value, returned: &Value) -> Value {
    if planned.is_wholly_known() {
        return planned.clone();
    }
    match (planned, returned) {
        (Value::Unknown, r) => strip_unknowns(r),
        (Value::Object(pm), r) => Value::Object(
            pm.iter()
                .map(|(k, pv)| (k.clone(), reconcile(pv, r.get(k))))
                .collect(),
        ),
        (Value::List(ps), Value::List(rs)) if ps.len() == rs.len() => {
            Value::List(ps.iter().zip(rs).map(|(p, r)| reconcile(p, r)).collect())
        }
        (Value::Tuple(ps), Value::Tuple(rs)) if ps.len() == rs.len() => {
            Value::Tuple(ps.iter().zip(rs).map(|(p, r)| reconcile(p, r)).collect())
        }
        (Value::Map(pm), Value::Map(rm)) => Value::Map(
            pm.iter()
                .map(|(k, pv)| (k.clone(), reconcile(pv, rm.get(k).unwrap_or(&Value::Null))))
                .collect(),
        ),
        (_, r) => strip_unknowns(r),
    }
}

pub fn strip_unknowns(v: &Value) -> Value {
    match v {
        Value::Unknown => Value::Null,
        Value::List(a) => Value::List(a.iter().map(strip_unknowns).collect()),
        Value::Set(a) => Value::Set(a.iter().map(strip_unknowns).collect()),
        Value::Tuple(a) => Value::Tuple(a.iter().map(strip_unknowns).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, x)| (k.clone(), strip_unknowns(x)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), strip_unknowns(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Attribute, UseStateForUnknown};
    use std::collections::BTreeMap;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn reconcile_keeps_planned_and_fills_unknowns() {
        let planned = obj(&[("id", Value::Unknown), ("name", Value::string("a"))]);
        let returned = obj(&[("id", Value::string("x")), ("name", Value::string("A"))]);
        let r = reconcile(&planned, &returned);
        assert_eq!(r.get("id"), &Value::string("x"));
        assert_eq!(r.get("name"), &Value::string("a"));
        let r = reconcile(&planned, &obj(&[("id", Value::Unknown)]));
        assert_eq!(r.get("id"), &Value::Null);
    }

    #[test]
    fn defaults_and_unknowns() {
        let attrs = vec![
            Attribute::string("id").computed().plan(UseStateForUnknown),
            Attribute::int("lifetime").default(Value::int(60)),
            Attribute::string("name").required(),
        ];
        let config = obj(&[
            ("id", Value::Null),
            ("lifetime", Value::Null),
            ("name", Value::string("n")),
        ]);
        let mut planned = config.clone();
        apply_defaults(&attrs, &config, &mut planned);
        mark_computed_unknown(&attrs, &config, &mut planned);
        assert_eq!(planned.get("lifetime"), &Value::int(60));
        assert_eq!(planned.get("id"), &Value::Unknown);
        let prior = obj(&[
            ("id", Value::string("x")),
            ("lifetime", Value::int(60)),
            ("name", Value::string("m")),
        ]);
        run_modifiers(&attrs, &config, Some(&prior), &mut planned);
        assert_eq!(planned.get("id"), &Value::string("x"));
    }
}
