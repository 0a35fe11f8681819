//! Docs cannot rot: every attribute of every schema has a line on its page,
//! and every resource has an example and an import script.
use std::path::Path;

use terraform_providers::framework::{AttrType, Attribute, Provider, Schema};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn page(provider: &str, kind: &str, type_name: &str) -> String {
    let short = type_name
        .strip_prefix(&format!("{provider}_"))
        .unwrap_or(type_name);
    let p = root()
        .join("docs")
        .join(provider)
        .join(kind)
        .join(format!("{short}.md"));
    std::fs::read_to_string(&p).unwrap_or_else(|_| panic!("missing docs page {}", p.display()))
}

fn attribute_names(attrs: &[Attribute], out: &mut Vec<String>) {
    for a in attrs {
        out.push(a.name.to_string());
        if let AttrType::Nested(_, inner) = &a.ty {
            attribute_names(inner, out);
        }
    }
}

fn check_schema(what: &str, schema: &Schema, text: &str, missing: &mut Vec<String>) {
    let mut names = Vec::new();
    attribute_names(&schema.attributes, &mut names);
    for n in names {
        if !text.contains(&format!("`{n}`")) {
            missing.push(format!("{what}: `{n}`"));
        }
    }
    fn undescribed(attrs: &[Attribute], what: &str, missing: &mut Vec<String>) {
        for a in attrs {
            if a.description.trim().is_empty() {
                missing.push(format!("{what}: `{}` has no schema description", a.name));
            }
            if let AttrType::Nested(_, inner) = &a.ty {
                undescribed(inner, what, missing);
            }
        }
    }
    undescribed(&schema.attributes, what, missing);
}

fn check_provider(name: &str, p: &dyn Provider) {
    let mut missing = Vec::new();
    let index = std::fs::read_to_string(root().join("docs").join(name).join("index.md"))
        .expect("provider index.md");
    check_schema(
        &format!("{name} provider"),
        &p.schema(),
        &index,
        &mut missing,
    );
    for r in p.resources() {
        let t = r.type_name();
        check_schema(t, &r.schema(), &page(name, "resources", t), &mut missing);
        let ex = root().join("examples").join(name).join("resources").join(t);
        for f in ["resource.tf", "import.sh"] {
            if !ex.join(f).exists() {
                missing.push(format!("{t}: examples/{name}/resources/{t}/{f}"));
            }
        }
        if !page(name, "resources", t).contains("## Import") {
            missing.push(format!("{t}: no Import section"));
        }
    }
    for d in p.data_sources() {
        let t = d.type_name();
        check_schema(
            &format!("data {t}"),
            &d.schema(),
            &page(name, "data-sources", t),
            &mut missing,
        );
        if !root()
            .join("examples")
            .join(name)
            .join("data-sources")
            .join(t)
            .join("data-source.tf")
            .exists()
        {
            missing.push(format!(
                "data {t}: examples/{name}/data-sources/{t}/data-source.tf"
            ));
        }
    }
    assert!(missing.is_empty(), "undocumented:\n{}", missing.join("\n"));
}

#[test]
fn clerk_docs_cover_every_attribute() {
    check_provider("clerk", &terraform_providers::clerk::ClerkProvider);
}
