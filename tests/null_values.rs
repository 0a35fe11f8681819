//! Null is not a value. `x = null`, an unset variable with `default = null`,
//! or what `terraform plan -generate-config-out` writes for a sensitive
//! attribute it cannot read all reach a provider as a null: for a required
//! attribute that must be refused at validate, naming the attribute, before
//! anything is sent (a null sent as `""` wipes a secret); for an optional one
//! it must never be sent as an empty value. Real Terraform, every core in
//! TERRAFORM_BINARIES.
mod support;

use clerk_emulator::ClerkConfig;
use serde_json::{json, Value as J};
use support::{for_each_terraform, required_providers, TfOutput, Workdir};
use terraform_providers::framework::{AttrType, Attribute, Mode, Nesting, Provider, Type};

const MISSING: &str = "Missing value for required attribute";
const JWT_KEY: &str = "HASURA_GRAPHQL_JWT_SECRET";
const JWK_URL: &str = "https://example.clerk.accounts.dev/.well-known/jwks.json";

/// Sample values the generic ones below would get wrong because a validator
/// refuses them, keyed by `<type>.<attribute>[.<nested attribute>]`. A new
/// required attribute with such a validator fails the "otherwise valid"
/// check of [`every_required_null_is_refused_at_validate`] until it is added.
const SAMPLES: &[(&str, &str)] = &[
    ("clerk_jwt_template.claims", r#"jsonencode({ role = "x" })"#),
    ("hasura_permission.action", r#""delete""#),
];

/// Optional attributes a block needs to pass its cross-attribute checks with
/// the samples (a delete permission needs a `filter`).
const EXTRA: &[(&str, &str)] = &[("hasura_permission", "filter = jsonencode({})")];

/// A resource or data source type of either provider.
struct Block {
    data: bool,
    ty: &'static str,
    attrs: Vec<Attribute>,
}

impl Block {
    fn addr(&self, name: &str) -> String {
        let prefix = if self.data { "data." } else { "" };
        format!("{prefix}{}.{name}", self.ty)
    }

    /// The block in HCL, with `null` at `target` (attribute names from the
    /// block down), every other required attribute at a sample value.
    fn hcl(&self, name: &str, target: Option<&[&'static str]>) -> String {
        let kw = if self.data { "data" } else { "resource" };
        let extra = EXTRA
            .iter()
            .filter(|(t, _)| *t == self.ty)
            .map(|(_, l)| format!("{l}\n"))
            .collect::<String>();
        format!(
            "{kw} \"{}\" \"{name}\" {{\n{}{extra}}}\n",
            self.ty,
            body(self.ty, &self.attrs, target)
        )
    }
}

fn blocks() -> Vec<Block> {
    fn of(p: &impl Provider, out: &mut Vec<Block>) {
        for r in p.resources() {
            out.push(Block {
                data: false,
                ty: r.type_name(),
                attrs: r.schema().attributes.clone(),
            });
        }
        for d in p.data_sources() {
            out.push(Block {
                data: true,
                ty: d.type_name(),
                attrs: d.schema().attributes.clone(),
            });
        }
    }
    let mut out = Vec::new();
    of(&terraform_providers::hasura::HasuraProvider, &mut out);
    of(&terraform_providers::clerk::ClerkProvider, &mut out);
    out
}

/// One required attribute: its names from the block down, and its path as
/// the diagnostic prints it (`columns[0].name`: the samples put one element
/// in a list, under key `k` in a map).
struct Target {
    names: Vec<&'static str>,
    shown: String,
}

impl Target {
    fn block_name(&self) -> String {
        format!("null_{}", self.names.join("_"))
    }
}

fn required_targets(attrs: &[Attribute], names: &[&'static str], shown: &str) -> Vec<Target> {
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.mode != Mode::Computed) {
        let mut n = names.to_vec();
        n.push(a.name);
        let s = match shown {
            "" => a.name.to_string(),
            _ => format!("{shown}.{}", a.name),
        };
        if a.mode == Mode::Required {
            out.push(Target {
                names: n.clone(),
                shown: s.clone(),
            });
        }
        if let AttrType::Nested(nesting, inner) = &a.ty {
            // Set elements have no path of their own: the framework reports
            // against the set.
            let elem = match nesting {
                Nesting::Single | Nesting::Set => s,
                Nesting::List => format!("{s}[0]"),
                Nesting::Map => format!("{s}[\"k\"]"),
            };
            out.extend(required_targets(inner, &n, &elem));
        }
    }
    out
}

/// HCL attribute lines for one object: the required attributes at sample
/// values, `null` at `target`, and the optional attributes leading to it.
fn body(key: &str, attrs: &[Attribute], target: Option<&[&'static str]>) -> String {
    let mut out = String::new();
    for a in attrs {
        let rest = target
            .and_then(|t| t.split_first())
            .filter(|(head, _)| **head == a.name)
            .map(|(_, rest)| rest);
        if a.mode != Mode::Required && rest.is_none() {
            continue;
        }
        let key = format!("{key}.{}", a.name);
        let v = match rest {
            Some([]) => "null".to_string(),
            _ => value(&key, a, rest),
        };
        out.push_str(&format!("{} = {v}\n", a.name));
    }
    out
}

fn value(key: &str, a: &Attribute, target: Option<&[&'static str]>) -> String {
    match &a.ty {
        AttrType::Plain(t) => sample(key, t),
        AttrType::Nested(nesting, inner) => {
            let obj = format!("{{\n{}}}", body(key, inner, target));
            match nesting {
                Nesting::Single => obj,
                Nesting::List | Nesting::Set => format!("[{obj}]"),
                Nesting::Map => format!("{{ k = {obj} }}"),
            }
        }
    }
}

fn sample(key: &str, t: &Type) -> String {
    if let Some((_, v)) = SAMPLES.iter().find(|(k, _)| *k == key) {
        return v.to_string();
    }
    match t {
        Type::String | Type::Dynamic => "\"x\"".into(),
        Type::Number => "1".into(),
        Type::Bool => "true".into(),
        Type::List(e) | Type::Set(e) => format!("[{}]", sample(key, e)),
        Type::Map(e) => format!("{{ k = {} }}", sample(key, e)),
        Type::Object(fields) => {
            let f: Vec<String> = fields
                .iter()
                .map(|(n, t)| format!("{n} = {}", sample(&format!("{key}.{n}"), t)))
                .collect();
            format!("{{ {} }}", f.join(", "))
        }
        Type::Tuple(ts) => {
            let e: Vec<String> = ts.iter().map(|t| sample(key, t)).collect();
            format!("[{}]", e.join(", "))
        }
    }
}

fn head() -> String {
    format!(
        "{}\nprovider \"hasura\" {{}}\nprovider \"clerk\" {{}}\n\n",
        required_providers()
    )
}

/// Error diagnostics as Terraform printed them, one string each: the box
/// drawing stripped and whitespace runs collapsed (Terraform wraps text at
/// 78 columns, and 1.0 and 1.11 frame diagnostics alike but not identically).
fn errors(out: &TfOutput) -> Vec<String> {
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

/// Whether `out` holds the null diagnostic for `shown` on the block at `addr`.
fn refused(errs: &[String], addr: &str, shown: &str) -> bool {
    errs.iter().any(|e| {
        e.starts_with(&format!("Error: {MISSING}"))
            && e.contains(&format!("with {addr},"))
            && e.contains(&format!("`{shown}` is required, but its value is null"))
    })
}

fn assert_refused(out: &TfOutput, addr: &str, shown: &str, what: &str) {
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

fn requests(c: &emulator_common::Control) -> J {
    c.counters()["requests"].clone()
}

#[test]
fn every_required_null_is_refused_at_validate() {
    let blocks = blocks();
    let cases: Vec<(&Block, Target)> = blocks
        .iter()
        .flat_map(|b| {
            required_targets(&b.attrs, &[], "")
                .into_iter()
                .map(move |t| (b, t))
        })
        .collect();
    let listed: Vec<String> = cases
        .iter()
        .map(|(b, t)| format!("{}.{}", b.ty, t.shown))
        .collect();
    // The walk must see what the schemas are known to require, nested ones too.
    for known in [
        "hasura_env_var.key",
        "hasura_env_var.value",
        "hasura_env_vars.vars",
        "hasura_table.columns",
        "hasura_table.columns[0].name",
        "hasura_table.columns[0].type",
        "hasura_permission.action",
        "clerk_jwt_template.claims",
    ] {
        assert!(
            listed.iter().any(|l| l == known),
            "{known} not in {listed:?}"
        );
    }
    eprintln!("required attributes: {listed:?}");

    let with_required: Vec<&Block> = blocks
        .iter()
        .filter(|b| cases.iter().any(|(c, _)| c.ty == b.ty && c.data == b.data))
        .collect();
    let valid: String = with_required.iter().map(|b| b.hcl("ok", None)).collect();
    let nulls: String = cases
        .iter()
        .map(|(b, t)| b.hcl(&t.block_name(), Some(&t.names)))
        .collect();

    for_each_terraform(|tf| {
        let hasura = support::hasura::Env::start();
        let clerk = support::clerk::Env::start(ClerkConfig::default());
        let mut wd = hasura.workdir(tf);
        wd.env("CLERK_SECRET_KEY", clerk.emu().secret_key())
            .env("CLERK_API_URL", &clerk.emu().api_url());

        wd.write("main.tf", &format!("{}{valid}", head()));
        wd.validate()
            .assert_success("validate with every required attribute at its sample value (add a sample to SAMPLES or EXTRA if a validator refuses it)");

        // The valid blocks stay in: a null elsewhere must not be blamed on them.
        wd.write("main.tf", &format!("{}{valid}{nulls}", head()));
        hasura.reset_counters();
        clerk.emu().control.reset_counters();
        let runs = [
            ("validate", wd.validate()),
            ("plan", wd.tf(&["plan", "-input=false"])),
            ("apply", wd.try_apply()),
        ];
        for (what, out) in &runs {
            assert!(!out.success(), "{what} succeeded:\n{}", out.combined());
            let errs = errors(out);
            let missing: Vec<&String> = cases
                .iter()
                .zip(&listed)
                .filter(|((b, t), _)| !refused(&errs, &b.addr(&t.block_name()), &t.shown))
                .map(|(_, l)| l)
                .collect();
            assert!(
                missing.is_empty(),
                "{what}: no {MISSING:?} diagnostic for {missing:?}:\n{}",
                out.combined()
            );
            for b in &with_required {
                let ok = format!("with {},", b.addr("ok"));
                assert!(
                    !errs.iter().any(|e| e.contains(&ok)),
                    "{what}: the valid {} was refused:\n{}",
                    b.addr("ok"),
                    out.combined()
                );
            }
        }
        assert_eq!(
            requests(&hasura.emu().control),
            json!({}),
            "nothing may reach the Hasura emulator"
        );
        assert_eq!(
            requests(&clerk.emu().control),
            json!({}),
            "nothing may reach the Clerk emulator"
        );
        assert!(wd.resource_addresses().is_empty());
    });
}

fn env_var_config(value: &str, extra: &str) -> String {
    format!(
        "{}{extra}\nresource \"hasura_env_var\" \"jwt\" {{\n  key   = \"{JWT_KEY}\"\n  value = {value}\n}}\n",
        head()
    )
}

const UNSET_VARIABLE: &str =
    "variable \"jwt_secret\" {\n  type      = string\n  default   = null\n  sensitive = true\n}\n";

/// `plan` and `apply` in `wd` are refused for a null `hasura_env_var.jwt.value`,
/// and the secret set out of band is not written. With the resource in state
/// the core refreshes it first (a variable is unknown to its validate walk,
/// so the null only shows once the plan evaluates the config); without, not
/// even a read may reach the emulator.
fn assert_secret_kept(env: &support::hasura::Env, wd: &Workdir, jwt: &str, when: &str) {
    let in_state = !wd.resource_addresses().is_empty();
    env.reset_counters();
    let plan = wd.tf(&["plan", "-input=false"]);
    assert_refused(
        &plan,
        "hasura_env_var.jwt",
        "value",
        &format!("plan {when}"),
    );
    let apply = wd.try_apply();
    assert_refused(
        &apply,
        "hasura_env_var.jwt",
        "value",
        &format!("apply {when}"),
    );
    assert!(
        errors(&apply)
            .iter()
            .any(|e| e.contains("Set it to the real value")),
        "the diagnostic says what to do:\n{}",
        apply.combined()
    );
    assert_eq!(
        env.env_vars().get(JWT_KEY).map(String::as_str),
        Some(jwt),
        "{when}: the secret must be intact"
    );
    assert_eq!(env.writes(), (0, 0, 0), "{when}: nothing may be written");
    if !in_state {
        assert_eq!(
            requests(&env.emu().control),
            json!({}),
            "{when}: nothing may reach the emulator"
        );
    }
}

#[test]
fn a_null_env_var_value_never_wipes_the_secret() {
    for_each_terraform(|tf| {
        let env = support::hasura::Env::start();
        let jwt = json!({ "jwk_url": JWK_URL }).to_string();
        env.set_env_out_of_band(&[(JWT_KEY, &jwt)]);

        // Not in state yet: a literal null, and an unset variable.
        let wd = env.workdir(tf);
        wd.write("main.tf", &env_var_config("null", ""));
        assert_secret_kept(&env, &wd, &jwt, "with a literal null");
        wd.write("main.tf", &env_var_config("var.jwt_secret", UNSET_VARIABLE));
        assert_secret_kept(&env, &wd, &jwt, "with an unset variable");
        assert!(wd.resource_addresses().is_empty());

        // Managed: imported while the variable was set, then the variable
        // goes missing (a forgotten tfvars file). An update would send "".
        wd.write("terraform.tfvars", &format!("jwt_secret = {jwt:?}\n"));
        wd.import("hasura_env_var.jwt", JWT_KEY)
            .assert_success("import hasura_env_var.jwt");
        assert_eq!(wd.resource_values("hasura_env_var.jwt")["id"], JWT_KEY);
        wd.remove("terraform.tfvars");
        assert_secret_kept(&env, &wd, &jwt, "once the variable is unset");
        wd.write("main.tf", &env_var_config("null", ""));
        assert_secret_kept(&env, &wd, &jwt, "with a literal null over state");
        assert_eq!(wd.resource_addresses(), ["hasura_env_var.jwt"]);
    });
}

#[test]
fn generated_config_with_a_sensitive_null_is_refused_until_filled_in() {
    for_each_terraform(|tf| {
        if support::terraform_version_tuple(tf) < (1, 5, 0) {
            eprintln!("import blocks and -generate-config-out need Terraform >= 1.5: skipped");
            return;
        }
        let env = support::hasura::Env::start();
        let jwt = json!({ "jwk_url": JWK_URL }).to_string();
        env.set_env_out_of_band(&[(JWT_KEY, &jwt)]);
        let wd = env.workdir(tf);
        wd.write(
            "main.tf",
            &format!(
                "{}import {{\n  to = hasura_env_var.jwt\n  id = \"{JWT_KEY}\"\n}}\n",
                head()
            ),
        );
        let gen = wd.tf(&["plan", "-input=false", "-generate-config-out=generated.tf"]);
        let generated = std::fs::read_to_string(wd.path().join("generated.tf"))
            .unwrap_or_else(|e| panic!("no generated.tf ({e}):\n{}", gen.combined()));
        assert!(
            generated.contains(JWT_KEY) && !generated.contains("jwk_url"),
            "the key, not the sensitive value, is generated:\n{generated}"
        );
        assert_eq!(env.env_vars()[JWT_KEY], jwt);

        env.reset_counters();
        let plan = wd.tf(&["plan", "-input=false"]);
        assert_refused(
            &plan,
            "hasura_env_var.jwt",
            "value",
            "plan of the generated config",
        );
        assert!(
            errors(&plan).iter().any(|e| e
                .contains("`terraform plan -generate-config-out` could not read")
                && e.contains("Set it to the real value")),
            "the diagnostic tells what to fill in:\n{}",
            plan.combined()
        );
        assert_secret_kept(&env, &wd, &jwt, "with the generated config");

        // Filled in, the import goes through and changes nothing.
        let filled: String = generated
            .lines()
            .map(|l| match l.trim_start().starts_with("value ") {
                true => format!("  value = {jwt:?}\n"),
                false => format!("{l}\n"),
            })
            .collect();
        wd.write("generated.tf", &filled);
        env.reset_counters();
        wd.apply();
        assert_eq!(env.writes(), (0, 0, 0), "{}", env.emu().control.counters());
        assert_eq!(env.env_vars()[JWT_KEY], jwt);
        support::assert_no_changes(&wd, "after importing the filled-in config");
    });
}
