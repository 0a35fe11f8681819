//! `add_remote_schema_permissions`'s check that a role's schema document is a
//! subset of the remote server's schema (graphql-engine
//! `Hasura/RemoteSchema/SchemaCache/Permission.hs`, `validateRemoteSchema`
//! and `showRoleBasedSchemaValidationError`). The core checks: duplicate
//! type names, more than one schema definition, every type present upstream
//! with the same kind (built-in scalars aside), object and interface fields
//! present with the same type, input object fields present, enum values and
//! union members present upstream. All errors are collected and reported
//! together as `validation-failed`, as Hasura does with `MonadValidate`.
use std::collections::BTreeSet;

use super::types::{Kind, Provided, Types};
use crate::errors::QErr;

const BUILT_IN_SCALARS: [&str; 5] = ["ID", "Int", "Float", "Boolean", "String"];

/// `englishList "and"` of the quoted names.
fn english(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match q.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

pub fn validate(upstream: &Types, provided: &Provided) -> Result<(), QErr> {
    let mut errors: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    let dups: Vec<String> = provided
        .types
        .iter()
        .filter(|(n, _)| !seen.insert(n.clone()))
        .map(|(n, _)| n.clone())
        .collect();
    if !dups.is_empty() {
        // `refute`: reported alone.
        return Err(failed(vec![format!(
            "duplicate type names found: {}",
            english(&dups)
        )]));
    }
    if provided.schema_definitions > 1 {
        return Err(failed(vec!["multiple schema definitions found".into()]));
    }
    for (name, ty) in &provided.types {
        if ty.kind == Kind::Scalar && BUILT_IN_SCALARS.contains(&name.as_str()) {
            continue;
        }
        let Some(up) = upstream.types.get(name).filter(|u| u.kind == ty.kind) else {
            errors.push(format!(
                "\"{}\": \"{name}\" does not exist in the upstream remote schema",
                ty.kind.label()
            ));
            continue;
        };
        match ty.kind {
            Kind::Object | Kind::Interface => {
                for (f, t) in &ty.fields {
                    match up.fields.get(f) {
                        None => errors.push(format!(
                            "field \"{f}\" does not exist in the \"{}\": \"{name}\"",
                            ty.kind.label()
                        )),
                        Some(ut) if ut != t => errors.push(format!(
                            "expected type of \"{f}\"(\"{} field\") to be {ut} but received {t}",
                            ty.kind.label()
                        )),
                        Some(_) => {}
                    }
                }
            }
            Kind::InputObject => {
                for f in ty.fields.keys().filter(|f| !up.fields.contains_key(*f)) {
                    errors.push(format!(
                        "input argument \"{f}\" does not exist in the input object:\"{name}\""
                    ));
                }
            }
            Kind::Enum | Kind::Union => {
                let extra: Vec<String> = ty.members.difference(&up.members).cloned().collect();
                if !extra.is_empty() {
                    errors.push(if ty.kind == Kind::Enum {
                        format!("enum \"{name}\" contains the following enum values that do not exist in the corresponding upstream remote enum: {}", english(&extra))
                    } else {
                        format!("union \"{name}\" contains members which do not exist in the members of the remote schema union :{}", english(&extra))
                    });
                }
            }
            Kind::Scalar => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(failed(errors))
    }
}

/// `resolveRoleBasedRemoteSchema`'s `showErrors`.
fn failed(errors: Vec<String>) -> QErr {
    let reasons = match errors.as_slice() {
        [one] => format!("because {one}"),
        many => format!(
            "for the following reasons:\n{}",
            many.iter().map(|e| format!(" • {e}\n")).collect::<String>()
        ),
    };
    QErr::bad(
        "validation-failed",
        "$.args",
        format!("validation for the given role-based schema failed {reasons}"),
    )
}
