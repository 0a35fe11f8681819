//! The PostgreSQL catalog behind `hasura_table` reads and the plan-time column
//! check of `hasura_permission`, driven by real Terraform against the Hasura
//! emulator: a plan costs one `run_sql` whatever the number of resources, and
//! changes made between commands (out of band or by this provider) are seen.
mod support;

use support::hasura::Env;
use support::{for_each_terraform, required_providers, Workdir};

const TABLES: usize = 5;
const ROLES: usize = 8;

/// `TABLES` tables and `ROLES` select permissions on each, every permission
/// naming columns (so its plan checks them against the catalog).
fn config(extra_column_on_t0: bool) -> String {
    let mut s = format!("{}\nprovider \"hasura\" {{}}\n", required_providers());
    for t in 0..TABLES {
        let extra = if t == 0 && extra_column_on_t0 {
            "\n    { name = \"extra\", type = \"int\" },"
        } else {
            ""
        };
        s.push_str(&format!(
            r#"
resource "hasura_table" "t{t}" {{
  name = "t{t}"
  columns = [
    {{ name = "id", type = "text" }},
    {{ name = "name", type = "text" }},{extra}
  ]
  primary_key         = ["id"]
  deletion_protection = false
}}
"#
        ));
        for r in 0..ROLES {
            s.push_str(&format!(
                r#"
resource "hasura_permission" "t{t}_r{r}" {{
  table   = hasura_table.t{t}.name
  role    = "r{r}"
  action  = "select"
  columns = ["id", "name"]
  filter  = "{{}}"
}}
"#
            ));
        }
    }
    s
}

fn plan_exitcode(wd: &Workdir, when: &str, want: i32) -> String {
    let (code, out) = wd.plan_exitcode();
    assert_eq!(
        code,
        want,
        "plan {when}: expected exit {want}, got {code}:\n{}",
        out.combined()
    );
    out.stdout
}

#[test]
fn a_plan_costs_one_catalog_query_whatever_the_number_of_resources() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        // Tables and the permissions on them created in one apply: each
        // permission is re-planned in the apply walk after its table's
        // CREATE, by the same provider process.
        wd.write("main.tf", &config(false));
        wd.apply();

        env.emu().control.reset_counters();
        plan_exitcode(&wd, "after the apply", 0);
        let n = TABLES * (ROLES + 1);
        assert_eq!(
            env.ops("run_sql"),
            1,
            "a plan refreshing {n} resources should cost one run_sql: {}",
            env.emu().control.counters()
        );
        assert_eq!(env.ops("metadata:export_metadata"), 1);

        // Each command is a new provider process: a change made between
        // two commands is seen by the next one.
        env.sql("ALTER TABLE public.t3 ADD COLUMN sneaky integer");
        let out = plan_exitcode(&wd, "after a column was added out of band", 2);
        assert!(out.contains("sneaky"), "{out}");
        wd.apply();
        plan_exitcode(&wd, "after repairing the added column", 0);

        // A column added by this provider is in the catalog of the next plan.
        wd.write("main.tf", &config(true));
        wd.apply();
        env.emu().control.reset_counters();
        plan_exitcode(&wd, "after adding a column", 0);
        assert_eq!(env.ops("run_sql"), 1, "{}", env.emu().control.counters());
    });
}
