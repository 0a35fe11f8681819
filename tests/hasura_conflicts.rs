//! Hasura with several replicas answers 409 `conflict` ("metadata resource
//! version referenced (N) did not match current version") to a metadata
//! write that raced another replica's, whether or not it sent a
//! `resource_version`. Writes sent outside `bulk` (tracking a table, its
//! customisation, untracking) are re-read and sent again like those inside
//! one, so the apply succeeds. Real Terraform against the Hasura emulator
//! answering the next writes with that conflict.
mod support;

use serde_json::json;
use support::hasura::Env;
use support::{assert_no_changes, for_each_terraform, required_providers};

fn config(custom_name: &str) -> String {
    format!(
        r#"{}
provider "hasura" {{}}

resource "hasura_tracked_table" "items" {{
  name        = "items"
  custom_name = "{custom_name}"
}}
"#,
        required_providers()
    )
}

#[test]
fn metadata_writes_outside_bulk_that_lose_a_race_are_retried() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.items (id int PRIMARY KEY)");
        let wd = env.workdir(tf);
        wd.write("main.tf", &config("Things"));

        // pg_track_table.
        env.reset_counters();
        env.emu().conflict_next(2);
        wd.apply();
        assert_eq!(env.ops("metadata:conflict"), 2);
        assert_no_changes(&wd, "after a create that lost two races");

        // pg_set_table_customization.
        wd.write("main.tf", &config("Stuff"));
        env.reset_counters();
        env.emu().conflict_next(3);
        wd.apply();
        assert_eq!(env.ops("metadata:conflict"), 3);
        let md = env.metadata();
        let items = &md["sources"][0]["tables"][0];
        assert_eq!(
            items["configuration"]["custom_name"],
            json!("Stuff"),
            "{md}"
        );
        assert_no_changes(&wd, "after an update that lost three races");

        // pg_untrack_table.
        env.reset_counters();
        env.emu().conflict_next(1);
        wd.destroy();
        assert_eq!(env.ops("metadata:conflict"), 1);
        let md = env.metadata();
        assert_eq!(md["sources"][0]["tables"], json!([]), "{md}");
    });
}
