//! Permissions that spell out Hasura's defaults, or expose no root field at
//! all, apply and then plan empty, and so does an import of each: what the
//! server exports (defaults left out or filled in, `[]` kept) never diffs
//! against what the configuration says. Real Terraform, every core in
//! TERRAFORM_BINARIES, against the Hasura emulator.
mod support;

use serde_json::{json, Value};
use support::hasura::Env;
use support::{assert_no_changes, for_each_terraform, required_providers};

/// Every resource of the configuration and its import id.
const IMPORTS: &[(&str, &str)] = &[
    ("hasura_tracked_table.items", "default.public.items"),
    (
        "hasura_permission.hidden",
        "default.public.items.viewer.select",
    ),
    (
        "hasura_permission.plain",
        "default.public.items.lister.select",
    ),
    (
        "hasura_permission.insert",
        "default.public.items.writer.insert",
    ),
    (
        "hasura_permission.update",
        "default.public.items.writer.update",
    ),
    (
        "hasura_permission.delete",
        "default.public.items.writer.delete",
    ),
];

fn config() -> String {
    format!(
        r#"{}
provider "hasura" {{}}

resource "hasura_tracked_table" "items" {{
  name = "items"
  custom_root_fields = {{
    update_many = "updateItemsMany"
    select      = "allItems"
  }}
}}

# Reachable through relationships only: no query or subscription root field.
resource "hasura_permission" "hidden" {{
  table                    = hasura_tracked_table.items.name
  role                     = "viewer"
  action                   = "select"
  columns                  = ["*"]
  filter                   = jsonencode({{}})
  query_root_fields        = []
  subscription_root_fields = []
  allow_aggregations       = false
  computed_fields          = []
  comment                  = ""
}}

# Nothing spelled out: the same defaults, left to Hasura.
resource "hasura_permission" "plain" {{
  table   = hasura_tracked_table.items.name
  role    = "lister"
  action  = "select"
  columns = ["id"]
  filter  = jsonencode({{}})
}}

resource "hasura_permission" "insert" {{
  table        = hasura_tracked_table.items.name
  role         = "writer"
  action       = "insert"
  columns      = ["title"]
  check        = jsonencode({{}})
  set          = {{}}
  backend_only = false
  validate_input = jsonencode({{
    type       = "http"
    definition = {{ url = "http://127.0.0.1:9/validate" }}
  }})
}}

resource "hasura_permission" "update" {{
  table        = hasura_tracked_table.items.name
  role         = "writer"
  action       = "update"
  columns      = ["title"]
  filter       = jsonencode({{}})
  set          = {{}}
  backend_only = false
  validate_input = jsonencode({{
    type = "http"
    definition = {{
      url                    = "http://127.0.0.1:9/validate"
      headers                = []
      timeout                = 10
      forward_client_headers = false
    }}
  }})
}}

resource "hasura_permission" "delete" {{
  table        = hasura_tracked_table.items.name
  role         = "writer"
  action       = "delete"
  filter       = jsonencode({{}})
  backend_only = false
}}
"#,
        required_providers()
    )
}

/// The exported permission entry of `role` and `action` on `items`.
fn exported(env: &Env, role: &str, action: &str) -> Value {
    let md = env.metadata();
    let tables = md["sources"][0]["tables"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let items = tables
        .iter()
        .find(|t| t["table"]["name"] == "items")
        .unwrap_or_else(|| panic!("items is not tracked: {md}"));
    items[format!("{action}_permissions")]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["role"] == role).cloned())
        .unwrap_or_else(|| panic!("no {action} permission for {role}: {items}"))
}

#[test]
fn spelled_out_defaults_and_empty_root_field_lists_plan_empty() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.items (id int PRIMARY KEY, title text)");
        let wd = env.workdir(tf);
        wd.write("main.tf", &config());
        wd.apply();
        assert_no_changes(&wd, "after applying spelled-out defaults");

        // `[]` reached Hasura as `[]` (no root field), not as "all of them".
        let hidden = exported(&env, "viewer", "select");
        assert_eq!(
            hidden["permission"]["query_root_fields"],
            json!([]),
            "{hidden}"
        );
        assert_eq!(
            hidden["permission"]["subscription_root_fields"],
            json!([]),
            "{hidden}"
        );
        assert_eq!(hidden["comment"], json!(""), "{hidden}");
        // Hasura writes the webhook's defaults back out.
        let insert = exported(&env, "writer", "insert");
        assert_eq!(
            insert["permission"]["validate_input"]["definition"]["timeout"],
            json!(10),
            "{insert}"
        );
        let md = env.metadata();
        assert!(md.to_string().contains("updateItemsMany"), "{md}");

        // Refreshed from scratch: import every resource into an empty state.
        let fresh = env.workdir(tf);
        fresh.write("main.tf", &config());
        for (addr, id) in IMPORTS {
            fresh
                .import(addr, id)
                .assert_success(&format!("import {addr} {id}"));
        }
        assert_no_changes(&fresh, "after importing spelled-out defaults");
        assert_no_changes(&wd, "in the first workdir after the import");
        wd.destroy();
    });
}
