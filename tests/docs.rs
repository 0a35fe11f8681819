//! Docs cannot rot: `docs/` is generated from the providers' schemas (every
//! attribute's markdown description), the examples in `examples/`, and the
//! hand-written notes in `templates/`. This test fails when a checked-in page
//! differs from what the schemas produce; `UPDATE_DOCS=1 cargo test --test docs`
//! rewrites them.
use std::fmt::Write;
use std::path::{Path, PathBuf};

use terraform_providers::framework::{AttrType, Attribute, Mode, Nesting, Provider, Schema};
use terraform_providers::plugin::cty::Type;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

fn type_name(t: &Type) -> String {
    match t {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn attr_type(a: &Attribute) -> String {
    match &a.ty {
        AttrType::Plain(t) => type_name(t),
        AttrType::Nested(n, _) => match n {
            Nesting::Single => "Attributes".into(),
            Nesting::List => "Attributes List".into(),
            Nesting::Set => "Attributes Set".into(),
            Nesting::Map => "Attributes Map".into(),
        },
    }
}

fn attr_line(a: &Attribute, out: &mut String) {
    let mut flags = vec![attr_type(a)];
    if a.sensitive {
        flags.push("Sensitive".into());
    }
    if a.write_only {
        flags.push("Write-only".into());
    }
    let desc = a.description.trim().replace('\n', " ");
    let nested = matches!(a.ty, AttrType::Nested(..))
        .then(|| {
            format!(
                " (see [below for nested schema](#nested-schema-for-{}))",
                a.name
            )
        })
        .unwrap_or_default();
    writeln!(out, "- `{}` ({}) {desc}{nested}", a.name, flags.join(", ")).unwrap();
}

fn schema_section(attrs: &[Attribute], out: &mut String, heading: &str) {
    type Group = (&'static str, fn(&Attribute) -> bool);
    let groups: [Group; 3] = [
        ("Required", |a| a.mode == Mode::Required),
        ("Optional", |a| {
            matches!(a.mode, Mode::Optional | Mode::OptionalComputed)
        }),
        ("Read-Only", |a| a.mode == Mode::Computed),
    ];
    for (title, pick) in groups {
        let picked: Vec<_> = attrs.iter().filter(|a| pick(a)).collect();
        if picked.is_empty() {
            continue;
        }
        writeln!(out, "\n{heading} {title}\n").unwrap();
        for a in picked {
            attr_line(a, out);
        }
    }
    for a in attrs {
        if let AttrType::Nested(_, inner) = &a.ty {
            writeln!(
                out,
                "\n<a id=\"nested-schema-for-{0}\"></a>\n{heading} Nested Schema for `{0}`",
                a.name
            )
            .unwrap();
            schema_section(inner, out, &format!("{heading}#"));
        }
    }
}

fn code_block(lang: &str, body: &str) -> String {
    format!("```{lang}\n{}\n```\n", body.trim_end())
}

fn first_sentence(text: &str) -> &str {
    let mut from = 0;
    while let Some(i) = text[from..].find(". ") {
        let end = from + i;
        if !(text[..end].ends_with("e.g") || text[..end].ends_with("i.e")) {
            return &text[..end];
        }
        from = end + 2;
    }
    text.trim_end_matches('.')
}

/// One page: header, description, example, schema, notes, import.
fn page(provider: &str, kind: &str, type_name: &str, schema: &Schema) -> String {
    let short = type_name
        .strip_prefix(&format!("{provider}_"))
        .unwrap_or(type_name);
    let (label, ex_dir, ex_file) = match kind {
        "resources" => ("Resource", "resources", "resource.tf"),
        _ => ("Data Source", "data-sources", "data-source.tf"),
    };
    let ex = root()
        .join("examples")
        .join(provider)
        .join(ex_dir)
        .join(type_name);
    let summary = first_sentence(&schema.description);
    let mut out = format!(
        "---\npage_title: \"{type_name} {label} - {provider}\"\ndescription: |-\n  {summary}.\n---\n\n# {type_name} ({label})\n\n{}\n",
        schema.description.trim()
    );
    if let Some(e) = read(&ex.join(ex_file)) {
        write!(out, "\n## Example Usage\n\n{}", code_block("terraform", &e)).unwrap();
    }
    out.push_str("\n## Schema\n");
    schema_section(&schema.attributes, &mut out, "###");
    if let Some(notes) = read(
        &root()
            .join("templates")
            .join(provider)
            .join(kind)
            .join(format!("{short}.md")),
    ) {
        write!(out, "\n{}", notes.trim_end()).unwrap();
        out.push('\n');
    }
    if let Some(i) = read(&ex.join("import.sh")) {
        write!(
            out,
            "\n## Import\n\nImport is supported using the following syntax:\n\n{}",
            code_block("shell", &i)
        )
        .unwrap();
    }
    out
}

fn index(provider: &str, p: &impl Provider) -> String {
    let schema = p.schema();
    let title = match provider {
        "clerk" => "Clerk",
        "hasura" => "Hasura",
        other => other,
    };
    let mut out = format!(
        "---\npage_title: \"Provider: {title}\"\ndescription: |-\n  {}\n---\n\n# {title} Provider\n\n{}\n",
        schema.description.trim(),
        schema.description.trim()
    );
    if let Some(e) = read(
        &root()
            .join("examples")
            .join(provider)
            .join("provider")
            .join("provider.tf"),
    ) {
        write!(out, "\n## Example Usage\n\n{}", code_block("terraform", &e)).unwrap();
    }
    out.push_str("\n## Schema\n");
    schema_section(&schema.attributes, &mut out, "###");
    if let Some(notes) = read(&root().join("templates").join(provider).join("index.md")) {
        write!(out, "\n{}", notes.trim_end()).unwrap();
        out.push('\n');
    }
    out
}

fn expected_pages(provider: &str, p: &impl Provider) -> Vec<(PathBuf, String)> {
    let dir = root().join("docs").join(provider);
    let mut pages = vec![(dir.join("index.md"), index(provider, p))];
    for r in p.resources() {
        let t = r.type_name();
        let short = t.strip_prefix(&format!("{provider}_")).unwrap_or(t);
        pages.push((
            dir.join("resources").join(format!("{short}.md")),
            page(provider, "resources", t, r.schema()),
        ));
    }
    for d in p.data_sources() {
        let t = d.type_name();
        let short = t.strip_prefix(&format!("{provider}_")).unwrap_or(t);
        pages.push((
            dir.join("data-sources").join(format!("{short}.md")),
            page(provider, "data-sources", t, d.schema()),
        ));
    }
    pages
}

fn check_provider(provider: &str, p: &impl Provider) {
    let mut problems = Vec::new();
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    for (path, want) in expected_pages(provider, p) {
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &want).unwrap();
        } else if read(&path).as_deref() != Some(want.as_str()) {
            problems.push(format!(
                "{} is missing or out of date",
                path.strip_prefix(root()).unwrap().display()
            ));
        }
    }
    let all = |s: &Schema| {
        fn walk(attrs: &[Attribute], out: &mut Vec<String>) {
            for a in attrs {
                if a.description.trim().is_empty() {
                    out.push(a.name.to_string());
                }
                if let AttrType::Nested(_, inner) = &a.ty {
                    walk(inner, out);
                }
            }
        }
        let mut v = Vec::new();
        walk(&s.attributes, &mut v);
        v
    };
    for r in p.resources() {
        let t = r.type_name();
        for n in all(r.schema()) {
            problems.push(format!("{t}.{n} has no description"));
        }
        let ex = root()
            .join("examples")
            .join(provider)
            .join("resources")
            .join(t);
        for f in ["resource.tf", "import.sh"] {
            if !ex.join(f).exists() {
                problems.push(format!("missing examples/{provider}/resources/{t}/{f}"));
            }
        }
    }
    for d in p.data_sources() {
        let t = d.type_name();
        for n in all(d.schema()) {
            problems.push(format!("data {t}.{n} has no description"));
        }
        if !root()
            .join("examples")
            .join(provider)
            .join("data-sources")
            .join(t)
            .join("data-source.tf")
            .exists()
        {
            problems.push(format!(
                "missing examples/{provider}/data-sources/{t}/data-source.tf"
            ));
        }
    }
    assert!(problems.is_empty(), "docs problems (run `UPDATE_DOCS=1 cargo test --test docs` after fixing examples/descriptions):\n{}", problems.join("\n"));
}

#[test]
fn clerk_docs_are_generated_from_the_schema() {
    check_provider("clerk", &terraform_providers::clerk::ClerkProvider);
}

#[test]
fn hasura_docs_are_generated_from_the_schema() {
    check_provider("hasura", &terraform_providers::hasura::HasuraProvider);
}
