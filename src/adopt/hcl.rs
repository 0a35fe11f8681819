//! Resource addresses and `import` blocks: names sanitised to HCL
//! identifiers, made unique in a stable order, written sorted.
use std::collections::BTreeSet;

/// One object to adopt: its resource type, the name its address is derived
/// from, and the import id the resource accepts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Import {
    pub resource_type: &'static str,
    pub name: String,
    pub id: String,
}

/// `name` as an HCL identifier: lower case, `[a-z0-9_]`, runs of anything else
/// as one `_`, never empty and never starting with a digit.
pub fn identifier(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        None => "unnamed".to_string(),
        Some(c) if c.is_ascii_digit() => format!("_{out}"),
        Some(_) => out,
    }
}

/// Addresses for every import, sorted by type and id first so that the
/// suffixes given on a collision (`_2`, `_3`) depend only on what exists,
/// not on the order the APIs listed it.
pub fn addressed(mut imports: Vec<Import>) -> Vec<(String, Import)> {
    imports.sort_by(|a, b| (a.resource_type, &a.id).cmp(&(b.resource_type, &b.id)));
    imports.dedup_by(|a, b| a.resource_type == b.resource_type && a.id == b.id);
    let mut taken = BTreeSet::new();
    let mut out: Vec<(String, Import)> = imports
        .into_iter()
        .map(|i| {
            let base = format!("{}.{}", i.resource_type, identifier(&i.name));
            let mut address = base.clone();
            let mut n = 2;
            while !taken.insert(address.clone()) {
                address = format!("{base}_{n}");
                n += 1;
            }
            (address, i)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A string as an HCL quoted literal: JSON escapes plus `${` and `%{`
/// escaped, so an id is never read as a template.
pub fn quoted(s: &str) -> String {
    serde_json::to_string(s)
        .expect("a string serialises")
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// One `import` block.
pub fn block(address: &str, id: &str) -> String {
    format!("import {{\n  to = {address}\n  id = {}\n}}\n", quoted(id))
}

/// Lines as an HCL comment block (`# ` each).
pub fn comment(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| {
            if l.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imp(t: &'static str, name: &str, id: &str) -> Import {
        Import {
            resource_type: t,
            name: name.into(),
            id: id.into(),
        }
    }

    #[test]
    fn identifiers_are_hcl_names() {
        assert_eq!(identifier("users_user_select"), "users_user_select");
        assert_eq!(
            identifier("App.Example.com/cb?x=1"),
            "app_example_com_cb_x_1"
        );
        assert_eq!(identifier("9lives"), "_9lives");
        assert_eq!(identifier("--"), "unnamed");
        assert_eq!(identifier("Über"), "ber");
    }

    #[test]
    fn collisions_get_suffixes_that_do_not_depend_on_listing_order() {
        let a = vec![
            imp("clerk_jwt_template", "Hasura", "jtmp_2"),
            imp("clerk_jwt_template", "hasura", "jtmp_1"),
        ];
        let mut b = a.clone();
        b.reverse();
        let (a, b) = (addressed(a), addressed(b));
        assert_eq!(a, b);
        assert_eq!(a[0].0, "clerk_jwt_template.hasura");
        assert_eq!(a[0].1.id, "jtmp_1");
        assert_eq!(a[1].0, "clerk_jwt_template.hasura_2");
    }

    #[test]
    fn ids_are_never_templates() {
        assert_eq!(quoted("a${b}\"%{c}"), r#""a$${b}\"%%{c}""#);
    }
}
