//! A null element of a list or map attribute.
use crate::common::*;
use crate::support::{for_each_terraform, Workdir};

/// A null element of a list or map is no value either. Today only
/// `hasura_env_vars.vars` refuses one at validate; elsewhere the plan shows
/// `+ "select" = null` and the apply then fails with "Provider bug: value does
/// not fit its model" (nothing is sent as ""), and Terraform 1.0.3 crashes
/// planning a null element of `hasura_table.columns`. Refusing it at
/// validate, by name, keeps a half-written config from getting past plan.
#[test]
fn a_null_collection_element_is_refused_at_validate() {
    let cases = [
        // Refused today: the control that the check below can pass.
        (
            "hasura_env_vars.vars",
            r#"resource "hasura_env_vars" "vars" {
  vars = { A = null }
}
"#,
            r#"vars["A"]"#,
        ),
        (
            "hasura_tracked_table.roots",
            r#"resource "hasura_tracked_table" "roots" {
  name               = "others"
  custom_root_fields = { select = null, select_by_pk = "one" }
}
"#,
            r#"custom_root_fields["select"]"#,
        ),
        (
            "hasura_tracked_table.columns",
            r#"resource "hasura_tracked_table" "columns" {
  name          = "others"
  column_config = { title = null }
}
"#,
            r#"column_config["title"]"#,
        ),
        (
            "hasura_permission.set",
            r#"resource "hasura_permission" "set" {
  table  = "others"
  role   = "user"
  action = "insert"
  check  = jsonencode({})
  set    = { title = null, id = "1" }
}
"#,
            r#"set["title"]"#,
        ),
        (
            "hasura_permission.columns",
            r#"resource "hasura_permission" "columns" {
  table   = "others"
  role    = "user"
  action  = "select"
  filter  = jsonencode({})
  columns = ["id", null]
}
"#,
            "columns[1]",
        ),
        (
            "hasura_table.pk",
            r#"resource "hasura_table" "pk" {
  name        = "pk"
  columns     = [{ name = "id", type = "int" }]
  primary_key = [null]
}
"#,
            "primary_key[0]",
        ),
        (
            "hasura_table.column",
            r#"resource "hasura_table" "column" {
  name    = "column"
  columns = [{ name = "id", type = "int" }, null]
}
"#,
            "columns[1]",
        ),
    ];
    let config: String = cases.iter().map(|(_, hcl, _)| *hcl).collect();
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        wd.write("main.tf", &format!("{}{config}", head()));
        // `validate` only: on 1.0.3 a plan of `hasura_table.column` crashes
        // the core (a list holding a null object), which leaves the provider
        // running and this test waiting on its output.
        let out = wd.validate();
        let errs = errors(&out);
        let missing: Vec<String> = cases
            .iter()
            .filter(|(addr, _, path)| {
                !errs
                    .iter()
                    .any(|e| e.contains(&format!("with {addr},")) && e.contains(path))
            })
            .map(|(addr, _, path)| format!("{addr}: {path}"))
            .collect();
        assert!(
            !out.success() && missing.is_empty(),
            "validate: a null element is not refused for {missing:?}:\n{}",
            out.combined()
        );
    });
}
