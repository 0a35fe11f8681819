//! A null for a required attribute is refused at validate, naming it,
//! before anything is sent: every one of both providers, and the secret a
//! null `hasura_env_var.value` would wipe.
use clerk_emulator::ClerkConfig;
use serde_json::json;

use crate::common::*;
use crate::schema_walk::{blocks, required_targets, Block, Target};
use crate::support::{self, for_each_terraform, Workdir};

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
