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

fn assert_no_empty_strings(v: &J, what: &str) {
    let mut found = Vec::new();
    empty_strings(v, what, &mut found);
    assert!(
        found.is_empty(),
        "empty values where config had null: {found:?} in {v}"
    );
}

/// Null (absent) in a stored object: not `""`, `0`, `false`-for-unset or `[]`.
fn assert_unset(obj: &J, key: &str, what: &str) {
    assert!(
        obj.get(key).is_none_or(J::is_null),
        "{what}.{key} should be unset (config had null), got {}: {obj}",
        obj[key]
    );
}

#[test]
fn hasura_env_vars_null_values_are_refused_and_optional_nulls_mean_unset() {
    for_each_terraform(|tf| {
        let env = support::hasura::Env::start();
        env.set_env_out_of_band(&[("UNMANAGED", "dashboard")]);
        let wd = env.workdir(tf);
        let all = |vars: &str, extra: &str| {
            format!(
                "{}{extra}\nresource \"hasura_env_vars\" \"all\" {{\n  vars       = {vars}\n  exclusive  = null\n  project_id = null\n}}\n",
                head()
            )
        };

        // A null map value is no value: refused, naming the key, nothing sent.
        for (cfg, runs) in [
            (
                all("{ A = \"1\", B = null }", ""),
                vec!["validate", "plan", "apply"],
            ),
            (
                all(
                    "{ A = \"1\", B = var.b }",
                    "variable \"b\" {\n  type    = string\n  default = null\n}\n",
                ),
                vec!["plan", "apply"],
            ),
        ] {
            wd.write("main.tf", &cfg);
            env.reset_counters();
            for run in runs {
                let out = match run {
                    "validate" => wd.validate(),
                    "plan" => wd.tf(&["plan", "-input=false"]),
                    _ => wd.try_apply(),
                };
                assert!(!out.success(), "{run} succeeded:\n{}", out.combined());
                assert!(
                    errors(&out)
                        .iter()
                        .any(|e| e.contains("with hasura_env_vars.all,")
                            && e.contains(r#"`vars["B"]` is null"#)),
                    "{run}: the null value of B is refused by name:\n{}",
                    out.combined()
                );
            }
            assert_eq!(
                requests(&env.emu().control),
                json!({}),
                "nothing may be sent"
            );
            assert_eq!(env.env_vars().keys().collect::<Vec<_>>(), ["UNMANAGED"]);
        }

        // Null `exclusive` and `project_id` mean unset: not exclusive (the
        // dashboard's key stays), the provider's project (id `default`, not
        // `""` or `/KEY`).
        let single = "resource \"hasura_env_var\" \"one\" {\n  key        = \"ONE\"\n  value      = \"1\"\n  project_id = null\n}\n";
        wd.write("main.tf", &all("{ A = \"1\" }", single));
        wd.apply();
        let vars = env.env_vars();
        assert_eq!(
            vars,
            [("A", "1"), ("ONE", "1"), ("UNMANAGED", "dashboard")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into()
        );
        let state = wd.resource_values("hasura_env_vars.all");
        assert_eq!(
            (&state["id"], &state["exclusive"]),
            (&json!("default"), &json!(false))
        );
        assert_unset(&state, "project_id", "hasura_env_vars.all");
        let one = wd.resource_values("hasura_env_var.one");
        assert_eq!(one["id"], "ONE");
        assert_unset(&one, "project_id", "hasura_env_var.one");
        support::assert_no_changes(&wd, "after applying optional nulls");
    });
}

/// The metadata entry of table `public.<name>` in source `default`.
fn table_metadata(env: &support::hasura::Env, name: &str) -> J {
    let md = env.metadata();
    md["sources"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "default"))
        .and_then(|s| s["tables"].as_array())
        .and_then(|t| t.iter().find(|t| t["table"]["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not tracked: {md}"))
}

/// One SQL answer, `"t"`/`"f"` for a boolean.
fn sql_one(env: &support::hasura::Env, sql: &str) -> String {
    env.sql(sql)["result"][1][0]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn hasura_optional_nulls(custom_name: &str, comment: &str) -> String {
    format!(
        r#"{}
resource "hasura_table" "things" {{
  name                = "things"
  source              = null
  schema              = null
  comment             = null
  primary_key         = null
  track               = null
  deletion_protection = null
  columns = [
    {{ name = "id", type = "int", default = null, nullable = null, unique = null }},
    {{ name = "title", type = "text", default = null }},
  ]
}}

resource "hasura_permission" "read" {{
  table                    = hasura_table.things.name
  role                     = "user"
  action                   = "select"
  source                   = null
  schema                   = null
  columns                  = ["*"]
  filter                   = jsonencode({{}})
  check                    = null
  set                      = null
  limit                    = null
  allow_aggregations       = null
  computed_fields          = null
  query_root_fields        = null
  subscription_root_fields = null
  backend_only             = null
  validate_input           = null
  comment                  = null
}}

resource "hasura_tracked_table" "others" {{
  name               = "others"
  source             = null
  schema             = null
  custom_name        = {custom_name}
  custom_root_fields = null
  comment            = {comment}
  column_config = {{
    title = {{ custom_name = null, comment = "the title" }}
  }}
}}
"#,
        head()
    )
}

/// `hasura_tracked_table.others` in metadata has no custom name or comment.
fn assert_others_uncustomised(env: &support::hasura::Env, when: &str) {
    let others = table_metadata(env, "others");
    assert_no_empty_strings(&others, "others");
    let cfg = &others["configuration"];
    assert_unset(cfg, "custom_name", &format!("others.configuration {when}"));
    assert_unset(cfg, "comment", &format!("others.configuration {when}"));
    let title = &cfg["column_config"]["title"];
    assert_unset(title, "custom_name", &format!("column_config.title {when}"));
    assert_eq!(title["comment"], "the title", "{cfg}");
}

#[test]
fn hasura_optional_nulls_are_not_sent_as_empty_values() {
    for_each_terraform(|tf| {
        let env = support::hasura::Env::start();
        env.sql("CREATE TABLE public.others (id int PRIMARY KEY, title text)");
        let wd = env.workdir(tf);
        wd.write("main.tf", &hasura_optional_nulls("null", "null"));
        wd.apply();

        // hasura_table: no comment, no column defaults, no primary key.
        assert_eq!(
            sql_one(
                &env,
                "SELECT obj_description('public.things'::regclass, 'pg_class') IS NULL"
            ),
            "t",
            "a null comment is no comment"
        );
        assert_eq!(
            sql_one(&env, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'things' AND column_default IS NOT NULL"),
            "0",
            "a null default is no default"
        );
        assert_eq!(
            sql_one(
                &env,
                "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.things'::regclass"
            ),
            "0",
            "a null primary_key and unique are no constraints"
        );
        let things = table_metadata(&env, "things");
        assert_no_empty_strings(&things, "things");

        // hasura_permission: the optional nulls of a select are absent, not
        // zero, false or empty (`query_root_fields = []` would hide the table).
        let perm = things["select_permissions"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["role"] == "user"))
            .unwrap_or_else(|| panic!("no select permission: {things}"));
        assert_unset(perm, "comment", "select permission");
        let p = &perm["permission"];
        for key in ["limit", "query_root_fields", "subscription_root_fields"] {
            assert_unset(p, key, "select permission");
        }
        assert!(
            p.get("allow_aggregations")
                .is_none_or(|v| v.is_null() || v == false),
            "{p}"
        );
        assert!(
            p.get("computed_fields")
                .is_none_or(|v| v.is_null() || v == &json!([])),
            "{p}"
        );

        // hasura_tracked_table: no custom name, no comment, no root fields.
        assert_others_uncustomised(&env, "after create");
        support::assert_no_changes(&wd, "after applying optional nulls");

        // Set, then back to null: the update removes them instead of
        // sending "".
        wd.write("main.tf", &hasura_optional_nulls("\"Other\"", "\"c\""));
        wd.apply();
        let cfg = table_metadata(&env, "others")["configuration"].clone();
        assert_eq!(
            (&cfg["custom_name"], &cfg["comment"]),
            (&json!("Other"), &json!("c"))
        );
        wd.write("main.tf", &hasura_optional_nulls("null", "null"));
        wd.apply();
        assert_others_uncustomised(&env, "after setting them back to null");
        support::assert_no_changes(&wd, "after setting them back to null");
    });
}

fn clerk_template(optional: &str) -> String {
    format!(
        r#"{}
resource "clerk_jwt_template" "t" {{
  name   = "nulls"
  claims = jsonencode({{ role = "x" }})
{optional}}}

data "clerk_jwt_template" "by_name" {{
  id   = null
  name = clerk_jwt_template.t.name
}}

output "looked_up" {{
  value = data.clerk_jwt_template.by_name.id
}}
"#,
        head()
    )
}

const CLERK_NULLS: &str = "  lifetime           = null\n  allowed_clock_skew = null\n  custom_signing_key = null\n  signing_algorithm  = null\n  signing_key        = null\n";

/// The template holds Clerk's defaults, not zeros or empty strings.
fn assert_clerk_defaults(env: &support::clerk::Env, wd: &Workdir, when: &str) {
    let t = env.template("nulls");
    assert_no_empty_strings(&t, "template");
    assert_eq!(
        (
            &t["lifetime"],
            &t["allowed_clock_skew"],
            &t["custom_signing_key"],
            &t["signing_algorithm"]
        ),
        (&json!(60), &json!(5), &json!(false), &json!("RS256")),
        "{when}: {t}"
    );
    let state = wd.resource_values("clerk_jwt_template.t");
    assert_unset(&state, "signing_key", &format!("state {when}"));
    assert_eq!(wd.output("looked_up"), t["id"], "{when}: found by name");
}

#[test]
fn clerk_optional_nulls_are_not_sent_as_empty_values() {
    for_each_terraform(|tf| {
        let env = support::clerk::Env::start(ClerkConfig::default());
        let wd = env.workdir(tf);
        wd.write("main.tf", &clerk_template(CLERK_NULLS));
        wd.apply();
        assert_clerk_defaults(&env, &wd, "after create");
        support::assert_no_changes(&wd, "after applying optional nulls");

        // Set, then back to null: the defaults, not 0 or "".
        let custom = "  lifetime           = 300\n  allowed_clock_skew = 10\n  custom_signing_key = true\n  signing_algorithm  = \"HS256\"\n  signing_key        = \"0123456789abcdef0123456789abcdef\"\n";
        wd.write("main.tf", &clerk_template(custom));
        wd.apply();
        let t = env.template("nulls");
        assert_eq!(
            (&t["lifetime"], &t["signing_algorithm"]),
            (&json!(300), &json!("HS256"))
        );
        wd.write("main.tf", &clerk_template(CLERK_NULLS));
        wd.apply();
        assert_clerk_defaults(&env, &wd, "after setting them back to null");
        support::assert_no_changes(&wd, "after setting them back to null");
    });
}
