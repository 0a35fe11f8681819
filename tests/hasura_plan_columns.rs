//! The plan-time column check of `hasura_permission` against what the same
//! plan does to the table, driven by real Terraform against the Hasura
//! emulator: a column added and granted in one apply is accepted, a typo or
//! a column the plan drops is refused before anything is applied.
mod support;

use std::path::Path;

use hasura_emulator::{HasuraConfig, HasuraEmulator, TempPostgres};
use serde_json::{json, Value};
use support::{for_each_terraform, required_providers, TfOutput, Workdir};

// A minimal copy of the Hasura `Env` of tests/hasura_catalog.rs: the shared
// one is moving into tests/support; switch to it once it is there.
/// One PostgreSQL and one emulator per scenario, on their own runtime.
struct Env {
    rt: tokio::runtime::Runtime,
    emu: Option<HasuraEmulator>,
    _pg: TempPostgres,
}

impl Env {
    fn start() -> Env {
        let pg = TempPostgres::start().expect("start temporary PostgreSQL");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emu = rt
            .block_on(HasuraEmulator::start(HasuraConfig::new(pg.url())))
            .expect("start hasura emulator");
        Env {
            rt,
            emu: Some(emu),
            _pg: pg,
        }
    }
    fn emu(&self) -> &HasuraEmulator {
        self.emu.as_ref().unwrap()
    }
    fn workdir(&self, tf: &Path) -> Workdir {
        let mut wd = Workdir::new(tf);
        let c = &self.emu().config;
        wd.env("HASURA_GRAPHQL_ENDPOINT", &self.emu().endpoint())
            .env("HASURA_GRAPHQL_ADMIN_SECRET", &c.admin_secret);
        wd
    }
    /// The table's columns, in PostgreSQL's order.
    fn columns(&self, table: &str) -> Vec<String> {
        let url = format!("{}/v2/query", self.emu().endpoint());
        let secret = self.emu().config.admin_secret.clone();
        let sql = format!(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('public.{table}') AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        );
        let body = json!({"type": "run_sql", "args": {"source": "default", "sql": sql, "read_only": true}});
        let v: Value = self.rt.block_on(async move {
            reqwest::Client::new()
                .post(url)
                .header("x-hasura-admin-secret", secret)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        v["result"]
            .as_array()
            .unwrap_or_else(|| panic!("run_sql {sql}: {v}"))
            .iter()
            .skip(1)
            .filter_map(|r| r[0].as_str().map(str::to_string))
            .collect()
    }
    /// The columns the role's select permission on `users` grants, sorted.
    fn granted(&self, role: &str) -> Option<Vec<String>> {
        let md = self.rt.block_on(self.emu().metadata());
        let perm = md["sources"]
            .as_array()?
            .iter()
            .find(|s| s["name"] == "default")?["tables"]
            .as_array()?
            .iter()
            .find(|t| t["table"]["name"] == "users")?["select_permissions"]
            .as_array()?
            .iter()
            .find(|p| p["role"] == role)?
            .clone();
        let mut cols: Vec<String> = perm["permission"]["columns"]
            .as_array()?
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
        cols.sort();
        Some(cols)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(e) = self.emu.take() {
            self.rt.block_on(e.stop());
        }
    }
}

/// Table `users` with `columns`, and role `user`'s select permission on it
/// naming `granted`, one per line so Terraform's snippet shows the element a
/// diagnostic points at.
fn config(columns: &[&str], granted: &[&str]) -> String {
    let columns: String = columns
        .iter()
        .map(|c| format!("    {{ name = \"{c}\", type = \"text\" }},\n"))
        .collect();
    let granted: String = granted.iter().map(|c| format!("    \"{c}\",\n")).collect();
    format!(
        r#"{}
provider "hasura" {{}}

resource "hasura_table" "users" {{
  name = "users"
  columns = [
{columns}  ]
  primary_key         = ["id"]
  deletion_protection = false
}}

resource "hasura_permission" "user_select" {{
  table  = hasura_table.users.name
  role   = "user"
  action = "select"
  columns = [
{granted}  ]
  filter = "{{}}"
}}
"#,
        required_providers()
    )
}

fn plan_exitcode(wd: &Workdir, when: &str, want: i32) -> TfOutput {
    let (code, out) = wd.plan_exitcode();
    assert_eq!(
        code,
        want,
        "plan {when}: expected exit {want}, got {code}:\n{}",
        out.combined()
    );
    out
}

/// The plan failed with "Unknown column" quoting the line of `element` in
/// `columns`, and no other error.
fn assert_unknown_column(out: &TfOutput, element: &str, when: &str) {
    let text = out.combined();
    assert!(!out.success(), "{when}: the command succeeded:\n{text}");
    let blocks: Vec<&str> = text.split("Error: ").skip(1).collect();
    assert_eq!(blocks.len(), 1, "{when}: expected one error:\n{text}");
    let block = blocks[0];
    assert!(block.starts_with("Unknown column"), "{when}:\n{text}");
    // Terraform quotes the config line the attribute path leads to.
    let quoted = format!("\"{element}\",");
    assert!(
        block.lines().any(
            |l| l.trim_start().split_once(": ").is_some_and(|(n, rest)| {
                n.chars().all(|c| c.is_ascii_digit()) && rest.trim() == quoted
            })
        ),
        "{when}: the error does not point at the `{element}` element of `columns`:\n{text}"
    );
}

#[test]
fn a_column_is_added_and_granted_in_one_apply_and_typos_are_still_refused_at_plan() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);

        // A table and its permission created together: a typo is caught at
        // plan time, against the table's plan, before anything exists.
        wd.write("main.tf", &config(&["id", "name"], &["id", "nmae"]));
        let out = wd.try_apply();
        assert_unknown_column(&out, "nmae", "creating with a typo");
        assert!(
            env.columns("users").is_empty(),
            "the table was created although the plan failed"
        );

        wd.write("main.tf", &config(&["id", "name", "old"], &["id", "name"]));
        wd.apply();

        // (a) One apply adds `nickname` and grants it.
        wd.write(
            "main.tf",
            &config(
                &["id", "name", "old", "nickname"],
                &["id", "name", "nickname"],
            ),
        );
        wd.apply();
        assert_eq!(env.columns("users"), ["id", "name", "old", "nickname"]);
        assert_eq!(
            env.granted("user").as_deref(),
            Some(&["id".to_string(), "name".into(), "nickname".into()][..])
        );
        plan_exitcode(&wd, "after adding and granting a column in one apply", 0);

        // (b) A typo on an unchanged table: refused at plan, nothing applied.
        wd.write(
            "main.tf",
            &config(&["id", "name", "old", "nickname"], &["id", "nickame"]),
        );
        let out = wd.try_apply();
        assert_unknown_column(&out, "nickame", "a typo on an unchanged table");
        let (_, out) = wd.plan_exitcode();
        assert_unknown_column(&out, "nickame", "plan with a typo");

        // (c) Granting a column the same plan drops from the table: refused
        // at plan, although the column exists right now.
        wd.write(
            "main.tf",
            &config(&["id", "name", "nickname"], &["id", "old"]),
        );
        let out = wd.try_apply();
        assert_unknown_column(&out, "old", "granting a column the plan drops");
        // Terraform wraps the detail text.
        let words = out
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            words.contains("will have no such column once this plan is applied"),
            "{}",
            out.combined()
        );

        // Nothing of (b) or (c) was applied.
        assert_eq!(env.columns("users"), ["id", "name", "old", "nickname"]);
        assert_eq!(
            env.granted("user").as_deref(),
            Some(&["id".to_string(), "name".into(), "nickname".into()][..])
        );
        wd.write(
            "main.tf",
            &config(
                &["id", "name", "old", "nickname"],
                &["id", "name", "nickname"],
            ),
        );
        plan_exitcode(&wd, "back at the applied configuration", 0);

        // Dropping a column and granting what remains, in one apply.
        wd.write(
            "main.tf",
            &config(&["id", "name", "nickname"], &["id", "nickname"]),
        );
        wd.apply();
        assert_eq!(env.columns("users"), ["id", "name", "nickname"]);
        plan_exitcode(&wd, "after dropping a column", 0);
        wd.destroy();
    });
}
