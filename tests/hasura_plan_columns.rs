//! The plan-time column check of `hasura_permission` against what the same
//! plan does to the table, driven by real Terraform against the Hasura
//! emulator: a column added and granted in one apply is accepted, a typo or
//! a column the plan drops is refused before anything is applied.
mod support;

use support::hasura::Env;
use support::{assert_no_changes, for_each_terraform, required_providers, TfOutput};

/// The table's columns, in PostgreSQL's order.
fn columns(env: &Env, table: &str) -> Vec<String> {
    let v = env.sql(&format!(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('public.{table}') AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    ));
    v["result"]
        .as_array()
        .into_iter()
        .flatten()
        .skip(1)
        .filter_map(|r| r[0].as_str().map(str::to_string))
        .collect()
}

/// The columns role `user`'s select permission on `users` grants, sorted.
fn granted(env: &Env) -> Option<Vec<String>> {
    let md = env.metadata();
    let perm = md["sources"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "default")?["tables"]
        .as_array()?
        .iter()
        .find(|t| t["table"]["name"] == "users")?["select_permissions"]
        .as_array()?
        .iter()
        .find(|p| p["role"] == "user")?
        .clone();
    let mut cols: Vec<String> = perm["permission"]["columns"]
        .as_array()?
        .iter()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    cols.sort();
    Some(cols)
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
            columns(&env, "users").is_empty(),
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
        assert_eq!(columns(&env, "users"), ["id", "name", "old", "nickname"]);
        assert_eq!(
            granted(&env).as_deref(),
            Some(&["id".to_string(), "name".into(), "nickname".into()][..])
        );
        assert_no_changes(&wd, "after adding and granting a column in one apply");

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
        assert_eq!(columns(&env, "users"), ["id", "name", "old", "nickname"]);
        assert_eq!(
            granted(&env).as_deref(),
            Some(&["id".to_string(), "name".into(), "nickname".into()][..])
        );
        wd.write(
            "main.tf",
            &config(
                &["id", "name", "old", "nickname"],
                &["id", "name", "nickname"],
            ),
        );
        assert_no_changes(&wd, "back at the applied configuration");

        // Dropping a column and granting what remains, in one apply.
        wd.write(
            "main.tf",
            &config(&["id", "name", "nickname"], &["id", "nickname"]),
        );
        wd.apply();
        assert_eq!(columns(&env, "users"), ["id", "name", "nickname"]);
        assert_no_changes(&wd, "after dropping a column");
        wd.destroy();
    });
}
