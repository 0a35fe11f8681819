//! What every null-value scenario shares: the config head, Terraform's
//! diagnostics read back one per string, and checks on stored objects.
use serde_json::Value as J;

use crate::support::{required_providers, TfOutput};

pub const MISSING: &str = "Missing value for required attribute";
pub const JWT_KEY: &str = "HASURA_GRAPHQL_JWT_SECRET";
pub const JWK_URL: &str = "https://example.clerk.accounts.dev/.well-known/jwks.json";

pub fn head() -> String {
    format!(
        "{}\nprovider \"hasura\" {{}}\nprovider \"clerk\" {{}}\n\n",
        required_providers()
    )
}

/// Error diagnostics as Terraform printed them, one string each: the box
/// drawing stripped and whitespace runs collapsed (Terraform wraps text at
/// 78 columns, and 1.0 and 1.11 frame diagnostics alike but not identically).
pub fn errors(out: &TfOutput) -> Vec<String> {
    let mut all = Vec::new();
    let mut cur: Option<Vec<&str>> = None;
    let flush = |cur: &mut Option<Vec<&str>>, all: &mut Vec<String>| {
        if let Some(words) = cur.take() {
            all.push(words.join(" "));
        }
    };
    let combined = out.combined();
    for line in combined.lines() {
        let l = line.trim_start_matches(|c: char| "│╷╵".contains(c) || c.is_whitespace());
        if l.starts_with("Error: ") || l.starts_with("Warning: ") {
            flush(&mut cur, &mut all);
            if l.starts_with("Error: ") {
                cur = Some(Vec::new());
            }
        }
        if let Some(words) = cur.as_mut() {
            words.extend(l.split_whitespace());
        }
        if line.trim_start().starts_with('╵') {
            flush(&mut cur, &mut all);
        }
    }
    flush(&mut cur, &mut all);
    all
}

/// Whether `errs` holds the null diagnostic for `shown` on the block at `addr`.
pub fn refused(errs: &[String], addr: &str, shown: &str) -> bool {
    errs.iter().any(|e| {
        e.starts_with(&format!("Error: {MISSING}"))
            && e.contains(&format!("with {addr},"))
            && e.contains(&format!("`{shown}` is required, but its value is null"))
    })
}

pub fn assert_refused(out: &TfOutput, addr: &str, shown: &str, what: &str) {
    assert!(!out.success(), "{what} succeeded:\n{}", out.combined());
    assert!(
        refused(&errors(out), addr, shown),
        "{what}: no {MISSING:?} diagnostic for `{shown}` on {addr}:\n{}",
        out.combined()
    );
    assert!(
        !out.combined().contains("Apply complete"),
        "{what}: {}",
        out.combined()
    );
}

pub fn requests(c: &emulator_common::Control) -> J {
    c.counters()["requests"].clone()
}

/// Every string in `v` that is empty, by JSON path: where config had null,
/// the emulator must hold nothing rather than `""`.
fn empty_strings(v: &J, path: &str, out: &mut Vec<String>) {
    match v {
        J::String(s) if s.is_empty() => out.push(path.to_string()),
        J::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| empty_strings(x, &format!("{path}[{i}]"), out)),
        J::Object(o) => o
            .iter()
            .for_each(|(k, x)| empty_strings(x, &format!("{path}.{k}"), out)),
        _ => {}
    }
}

pub fn assert_no_empty_strings(v: &J, what: &str) {
    let mut found = Vec::new();
    empty_strings(v, what, &mut found);
    assert!(
        found.is_empty(),
        "empty values where config had null: {found:?} in {v}"
    );
}

/// Null (absent) in a stored object: not `""`, `0`, `false`-for-unset or `[]`.
pub fn assert_unset(obj: &J, key: &str, what: &str) {
    assert!(
        obj.get(key).is_none_or(J::is_null),
        "{what}.{key} should be unset (config had null), got {}: {obj}",
        obj[key]
    );
}
