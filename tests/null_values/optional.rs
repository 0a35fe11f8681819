//! An optional attribute left null is unset: never sent as `""`, `0`,
//! `false` or `[]`, on create and when a set value goes back to null.
use clerk_emulator::ClerkConfig;
use serde_json::{json, Value as J};

use crate::common::*;
use crate::support::{self, for_each_terraform, Workdir};

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
