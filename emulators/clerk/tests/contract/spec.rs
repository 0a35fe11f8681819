//! The Backend API spec and the emulator's route table, side by side.
use serde_json::Value;

/// A copy of /work/shared/reference/clerk-bapi-openapi-2025-11-10.yml
/// (complete: 0.7 MB), kept in the repo so the test runs on a clean clone.
pub fn load() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/contract/clerk-bapi-openapi-2025-11-10.yml"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_norway::from_str(&text).expect("spec parses")
}

/// `/organizations/{organization_id}` and `/organizations/{id}` are the same
/// operation: parameter names do not matter.
pub fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every (METHOD, path) routes.rs registers, read from its source so that a
/// new route cannot escape this test.
pub fn emulator_routes() -> Vec<(String, String)> {
    let src = include_str!("../../src/routes.rs");
    let mut out = Vec::new();
    for (at, _) in src.match_indices(".route(") {
        let rest = src[at + ".route(".len()..].trim_start();
        let path = if let Some(lit) = rest.strip_prefix('"') {
            lit[..lit.find('"').unwrap()].to_string()
        } else {
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            constant(src, &ident)
        };
        let args = balanced(rest);
        for m in ["get", "post", "patch", "put", "delete"] {
            let needle = format!("{m}(");
            let called = args.match_indices(&needle).any(|(i, _)| {
                i == 0 || !args[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if called {
                out.push((m.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(out.len() > 20, "route table not understood: {out:?}");
    out
}

fn constant(src: &str, ident: &str) -> String {
    let decl = format!("const {ident}: &str = \"");
    let start = src.find(&decl).unwrap_or_else(|| panic!("no {decl}")) + decl.len();
    src[start..start + src[start..].find('"').unwrap()].to_string()
}

/// The text up to the parenthesis that closes `.route(`.
fn balanced(s: &str) -> &str {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[..i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced .route(")
}

/// The spec path (as written in the spec) whose shape is `path`'s.
pub fn spec_path(spec: &Value, path: &str) -> Option<String> {
    let want = shape(path);
    spec["paths"]
        .as_object()?
        .keys()
        .find(|k| shape(k) == want)
        .cloned()
}

/// The template among `templates` a concrete request path falls under,
/// literal segments winning over parameters.
pub fn template_of<'t>(templates: &'t [String], path: &str) -> Option<&'t String> {
    let path = path.split('?').next().unwrap_or(path);
    let segs: Vec<&str> = path.split('/').collect();
    templates
        .iter()
        .filter(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            ts.len() == segs.len()
                && ts
                    .iter()
                    .zip(&segs)
                    .all(|(t, s)| t.starts_with('{') || t == s)
        })
        .max_by_key(|t| t.split('/').filter(|s| !s.starts_with('{')).count())
}
