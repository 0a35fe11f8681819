//! Bad input refused before anything is applied, as a table: each case is a few
//! HCL attribute lines, the text its diagnostic must contain and the attribute
//! the diagnostic must name. A new resource's refusal test is then its cases.

use super::hasura::Env;
use super::{for_each_terraform, required_providers, Workdir};

/// (HCL lines, text the diagnostic must contain, attribute it must name).
pub type BadInput<'a> = (&'a str, &'a str, &'a str);

/// `main.tf` holding one `resource "<kind>" "<name>"` block (and its provider's
/// empty block): the `defaults` attribute lines, less those whose attribute one of
/// `lines` sets, then `lines`. `lines` may hold several attributes, one a line.
pub fn resource_tf(kind: &str, name: &str, defaults: &[&str], lines: &str) -> String {
    let key = |line: &str| line.split_whitespace().next().unwrap_or("").to_string();
    let set: Vec<String> = lines.lines().map(key).collect();
    let body: Vec<&str> = defaults
        .iter()
        .copied()
        .filter(|l| !set.contains(&key(l)))
        .chain([lines].into_iter().filter(|l| !l.is_empty()))
        .collect();
    let provider = kind.split('_').next().unwrap();
    format!(
        "{}\nprovider \"{provider}\" {{}}\nresource \"{kind}\" \"{name}\" {{\n  {}\n}}\n",
        required_providers(),
        body.join("\n  ")
    )
}

/// Every case, written as `main.tf` by `config`, fails `terraform validate` with an
/// error whose summary or detail contains its text and which Terraform points at the
/// source naming its attribute (the snippet it quotes holds the name: a diagnostic
/// Terraform could only place at the resource block fails the case, unless the case
/// leaves the attribute out and the detail names it). Every case is
/// run; the panic lists each one that missed.
pub fn assert_refused_at_validate(
    wd: &Workdir,
    cases: &[BadInput],
    config: impl Fn(&str) -> String,
) {
    let mut missed = Vec::new();
    for &(hcl, needle, attribute) in cases {
        wd.write("main.tf", &config(hcl));
        let out = wd.tf(&["validate", "-json"]);
        let report: serde_json::Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("validate -json printed no JSON ({e}): {}", out.combined()));
        let errors: Vec<&serde_json::Value> = report["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["severity"] == "error")
            .collect();
        let says = |d: &&serde_json::Value| {
            let text = format!("{} {}", d["summary"], d["detail"]);
            text.contains(needle)
        };
        // An attribute the case leaves out has no source: the text names it.
        let points = |d: &&serde_json::Value| {
            let code = d["snippet"]["code"].as_str().unwrap_or("");
            code.contains(attribute)
                || (!hcl.contains(attribute)
                    && d["detail"].as_str().unwrap_or("").contains(attribute))
        };
        let miss = if errors.is_empty() {
            "accepted"
        } else if !errors.iter().any(says) {
            "refused without the text"
        } else if !errors.iter().any(|d| says(d) && points(d)) {
            "refused, but not at the attribute"
        } else {
            continue;
        };
        missed.push(format!(
            "validate {miss} ({needle:?} at {attribute:?}): {hcl}\n{}",
            serde_json::to_string_pretty(&errors).unwrap_or_default()
        ));
    }
    assert!(missed.is_empty(), "{}", missed.join("\n\n"));
}

/// On each Terraform core, against a fresh Hasura emulator: every case is refused
/// at validate ([`assert_refused_at_validate`]), then `more` checks on the same
/// workdir what does not fit the table; and nothing at all reached the engine.
pub fn hasura_refusals(
    cases: &[BadInput],
    config: impl Fn(&str) -> String,
    more: impl Fn(&Env, &Workdir),
) {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        assert_refused_at_validate(&wd, cases, &config);
        more(&env, &wd);
        env.assert_nothing_written("after validate-only runs");
    });
}
