//! Every example in `examples/` is valid HCL for this build's schemas: `terraform
//! validate` with the providers loaded from this build, so a renamed attribute or a
//! validator that refuses what an example shows fails here, not in a user's hands.
mod support;

use std::path::{Path, PathBuf};

use support::{required_providers, terraform_binaries, Workdir};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Example folders: one per resource and data source, plus the whole-setup examples.
fn example_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for provider in ["clerk", "hasura"] {
        for kind in ["resources", "data-sources"] {
            let Ok(rd) = std::fs::read_dir(root().join(provider).join(kind)) else {
                continue;
            };
            dirs.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
    }
    for whole in [
        "hasura-environments",
        "clerk-hasura",
        "clerk-hasura-organizations",
    ] {
        dirs.push(root().join(whole));
    }
    dirs.sort();
    dirs
}

fn tf_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_validates() {
    // Validation does not depend on the core's version beyond syntax both support;
    // the newest core is enough.
    let tf = terraform_binaries()
        .into_iter()
        .next()
        .expect("a terraform binary");
    let mut failures = Vec::new();
    let dirs = example_dirs();
    assert!(dirs.len() >= 15, "examples found: {dirs:?}");
    for dir in dirs {
        let wd = Workdir::new(&tf);
        let files = tf_files(&dir);
        let declares = files.iter().any(|(_, c)| c.contains("required_providers"));
        for (name, contents) in &files {
            wd.write(name, contents);
        }
        if !declares {
            wd.write(
                "providers.tf",
                &format!(
                    "{}\nprovider \"clerk\" {{}}\nprovider \"hasura\" {{}}\n",
                    required_providers()
                ),
            );
        }
        let out = wd.validate();
        if !out.success() {
            failures.push(format!("{}:\n{}", dir.display(), out.combined()));
        }
    }
    assert!(
        failures.is_empty(),
        "examples that do not validate:\n{}",
        failures.join("\n")
    );
}
