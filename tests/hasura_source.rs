//! `hasura_source` on every core against the Hasura emulator, where a second
//! source is a second real database: a source added in the same apply as a
//! table and a permission in it, the data really in that database, an empty
//! re-plan, pool settings, a read replica and a root field prefix changed in
//! place, import, out-of-band change and drop shown in plan, the URL kept out
//! of every output, bad input refused at validate, an env var the engine
//! lacks refused at apply, destroy; the `default` source managed but never
//! dropped; and every per-table resource landing in the named source.
mod support;

use serde_json::{json, Value};
use support::hasura::Env;
use support::refusals::{hasura_refusals, resource_tf};
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

const PASSWORD: &str = "source-pw-canary-8d21";

fn config(url: &str, max_connections: i64, isolation: &str) -> String {
    // The in-place update also adds a read replica (the same database).
    let replicas = match max_connections {
        10 => String::new(),
        _ => format!("\n  read_replicas   = [{{ database_url = \"{url}\" }}]\n  root_fields_prefix = \"an_\""),
    };
    format!(
        r#"{req}
provider "hasura" {{}}

resource "hasura_source" "analytics" {{
  name            = "analytics"
  database_url    = "{url}"
  max_connections = {max_connections}
  isolation_level = "{isolation}"{replicas}
}}

resource "hasura_table" "events" {{
  source = hasura_source.analytics.name
  name   = "events"
  columns = [
    {{ name = "id", type = "serial" }},
    {{ name = "kind", type = "text" }},
  ]
  primary_key         = ["id"]
  deletion_protection = false
}}

resource "hasura_permission" "events_user" {{
  source  = hasura_source.analytics.name
  table   = hasura_table.events.name
  role    = "user"
  action  = "select"
  columns = ["id", "kind"]
  filter  = jsonencode({{ kind = {{ _neq = "internal" }} }})
}}
"#,
        req = required_providers()
    )
}

fn source(env: &Env, name: &str) -> Option<Value> {
    env.metadata()["sources"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == name)
        .cloned()
}

/// `query` as role `user` (admin secret plus the role header).
fn gql_user(env: &Env, query: &str) -> Value {
    let body = json!({ "query": query });
    env.post_with("/v1/graphql", body, &[("x-hasura-role", "user")])
        .1
}

#[test]
fn lifecycle_in_a_second_database() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let url = env.create_database("analytics", PASSWORD);
        let wd = env.workdir(tf);
        wd.write("main.tf", &config(&url, 10, "read-committed"));
        let out = wd.apply();
        assert!(
            !out.combined().contains(PASSWORD),
            "the database URL leaked into the apply output"
        );

        // Hasura's export: the URL as given, every pool setting written out.
        let src = source(&env, "analytics").expect("source added");
        assert_eq!(
            src["configuration"],
            json!({"connection_info": {
                "database_url": url,
                "isolation_level": "read-committed",
                "pool_settings": {"connection_lifetime": 600, "idle_timeout": 180, "max_connections": 10, "retries": 1},
                "use_prepared_statements": false
            }})
        );
        assert_eq!(
            src["tables"][0]["table"],
            json!({"name": "events", "schema": "public"})
        );
        assert_eq!(src["tables"][0]["select_permissions"][0]["role"], "user");

        // The table is in the second database, not the engine's own.
        env.sql_on(
            "analytics",
            "INSERT INTO events (kind) VALUES ('signup'), ('internal')",
        );
        let v = env.sql("SELECT to_regclass('public.events') IS NULL");
        assert_eq!(v["result"][1][0], "t", "{v}");
        assert_eq!(
            gql_user(&env, "{ events { kind } }"),
            json!({"data": {"events": [{"kind": "signup"}]}})
        );
        assert_no_changes(&wd, "right after create");
        assert!(
            !wd.tf(&["plan", "-no-color"]).combined().contains(PASSWORD),
            "the database URL leaked into a plan"
        );

        // Pool settings and isolation change in place: no drop, tables kept.
        env.reset_counters();
        wd.write("main.tf", &config(&url, 20, "serializable"));
        assert_changes(
            &wd,
            "after changing pool settings",
            &[
                "updated in-place",
                "max_connections",
                "serializable",
                "read_replicas",
            ],
        );
        wd.apply();
        assert_eq!(env.ops("metadata:pg_drop_source"), 0);
        let info = &source(&env, "analytics").unwrap()["configuration"]["connection_info"];
        assert_eq!(info["pool_settings"]["max_connections"], 20);
        assert_eq!(info["isolation_level"], "serializable");
        assert_eq!(
            source(&env, "analytics").unwrap()["configuration"]["read_replicas"],
            json!([{"database_url": url, "isolation_level": "read-committed", "use_prepared_statements": false}])
        );
        assert_eq!(
            source(&env, "analytics").unwrap()["tables"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        assert_eq!(
            gql_user(&env, "{ an_events { kind } }"),
            json!({"data": {"an_events": [{"kind": "signup"}]}}),
            "root fields carry the prefix"
        );
        assert_no_changes(&wd, "after the update");

        // Changed out of band: the plan shows it and puts it back.
        env.meta(json!({"type": "pg_add_source", "args": {
            "name": "analytics", "replace_configuration": true,
            "configuration": {"connection_info": {"database_url": url, "isolation_level": "serializable",
                "pool_settings": {"max_connections": 3}}}
        }}));
        assert_changes(
            &wd,
            "after an out-of-band pool change",
            &["hasura_source.analytics", "max_connections"],
        );
        wd.apply();
        assert_no_changes(&wd, "after putting it back");

        // Import by name into a fresh state entry: an empty plan.
        wd.tf(&["state", "rm", "hasura_source.analytics"])
            .assert_success("state rm");
        wd.import("hasura_source.analytics", "analytics")
            .assert_success("import");
        assert_no_changes(&wd, "after import");

        // Dropped out of band (its table and permission with it): all are
        // planned back.
        env.meta(json!({"type": "pg_drop_source", "args": {"name": "analytics"}}));
        assert_changes(
            &wd,
            "after an out-of-band drop",
            &["hasura_source.analytics", "will be created"],
        );
        wd.apply();
        assert_eq!(
            gql_user(&env, "{ an_events { kind } }"),
            json!({"data": {"an_events": [{"kind": "signup"}]}}),
            "the data stayed in the database"
        );
        assert_no_changes(&wd, "after re-adding");

        // An env var the engine lacks: refused at apply, nothing stored.
        let mut bad = config(&url, 20, "serializable");
        bad.push_str(
            "\nresource \"hasura_source\" \"orphan\" {\n  name                  = \"orphan\"\n  database_url_from_env = \"NO_SUCH_DB_URL\"\n}\n",
        );
        wd.write("main.tf", &bad);
        wd.try_apply()
            .assert_failure_contains("NO_SUCH_DB_URL")
            .assert_failure_contains("database_url_from_env");
        assert!(source(&env, "orphan").is_none());

        wd.write("main.tf", &config(&url, 20, "serializable"));
        let out = wd.destroy();
        assert!(!out.combined().contains(PASSWORD));
        assert!(source(&env, "analytics").is_none());
        assert!(source(&env, "default").is_some());
    });
}

/// The `default` source can be imported and managed; destroying the resource
/// leaves it in Hasura.
#[test]
fn default_source_is_managed_but_never_dropped() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        let cfg = |max: i64| {
            format!(
                "{}\nprovider \"hasura\" {{}}\nresource \"hasura_source\" \"default\" {{\n  name                    = \"default\"\n  database_url_from_env   = \"HASURA_GRAPHQL_DATABASE_URL\"\n  use_prepared_statements = true\n  max_connections         = {max}\n}}\n",
                required_providers()
            )
        };
        wd.write("main.tf", &cfg(50));
        wd.import("hasura_source.default", "default")
            .assert_success("import");
        assert_no_changes(&wd, "after importing the default source");
        wd.write("main.tf", &cfg(30));
        wd.apply();
        assert_eq!(
            source(&env, "default").unwrap()["configuration"]["connection_info"]["pool_settings"]
                ["max_connections"],
            30
        );
        wd.destroy();
        assert!(source(&env, "default").is_some(), "default was dropped");
        assert_eq!(env.ops("metadata:pg_drop_source"), 0);
    });
}

#[test]
fn bad_input_is_refused_at_validate() {
    let cases = [
        (
            r#"database_url = "mysql://u:p@db/app""#,
            "postgres://",
            "database_url",
        ),
        (
            r#"database_url = "postgres:///app""#,
            "host",
            "database_url",
        ),
        (
            "database_url = \"postgres://db/app\"\n  database_url_from_env = \"DB\"",
            "exactly one",
            "database_url",
        ),
        ("", "exactly one", "database_url"),
        (
            r#"database_url_from_env = "not-a-name""#,
            "env var name",
            "database_url_from_env",
        ),
        (
            "database_url = \"postgres://db/app\"\n  isolation_level = \"dirty\"",
            "isolation_level",
            "isolation_level",
        ),
        (
            "database_url = \"postgres://db/app\"\n  max_connections = -1",
            "max_connections",
            "max_connections",
        ),
        (
            "database_url = \"postgres://db/app\"\n  read_replicas = []",
            "read_replicas",
            "read_replicas",
        ),
        (
            "database_url = \"postgres://db/app\"\n  read_replicas = [{}]",
            "read_replicas[0].database_url",
            "read_replicas",
        ),
        (
            "database_url = \"postgres://db/app\"\n  root_fields_prefix = \"1st_\"",
            "root_fields_prefix",
            "root_fields_prefix",
        ),
    ];
    hasura_refusals(
        &cases,
        |lines| resource_tf("hasura_source", "s", &[r#"name = "s""#], lines),
        |env, wd| {
            // A refused URL from a sensitive variable is never repeated in the
            // error (variables are only known at plan).
            let mut wd = env.workdir(wd.terraform());
            wd.env("TF_VAR_url", &format!("mysql://u:{PASSWORD}@db/app"));
            wd.write(
                "main.tf",
                &format!(
                    "{}\nprovider \"hasura\" {{}}\nvariable \"url\" {{\n  type      = string\n  sensitive = true\n}}\nresource \"hasura_source\" \"s\" {{\n  name         = \"s\"\n  database_url = var.url\n}}\n",
                    required_providers()
                ),
            );
            let out = wd.tf(&["plan", "-no-color", "-input=false"]);
            out.assert_failure_contains("Invalid database URL");
            assert!(!out.combined().contains(PASSWORD), "{}", out.combined());
        },
    );
}

/// Every per-table object names the source and lands in its database:
/// tables, a foreign key and an index (DDL through `run_sql` with `source`),
/// a table tracked from a migration, a relationship resolved through the
/// second database's foreign key, and an event trigger whose SQL trigger is
/// in that database; GraphQL follows the relationship there.
#[test]
fn per_table_objects_live_in_the_named_source() {
    let cfg = |req: &str| {
        format!(
            r#"{req}
provider "hasura" {{}}

resource "hasura_source" "shop" {{
  name                  = "shop"
  database_url_from_env = "SHOP_DATABASE_URL"
}}

resource "hasura_table" "customers" {{
  source              = hasura_source.shop.name
  name                = "customers"
  columns             = [{{ name = "id", type = "int" }}, {{ name = "name", type = "text" }}]
  primary_key         = ["id"]
  deletion_protection = false
}}

resource "hasura_table" "orders" {{
  source              = hasura_source.shop.name
  name                = "orders"
  columns             = [{{ name = "id", type = "int" }}, {{ name = "customer_id", type = "int" }}, {{ name = "kind", type = "text" }}]
  primary_key         = ["id"]
  deletion_protection = false
}}

resource "hasura_foreign_key" "order_customer" {{
  source             = hasura_source.shop.name
  table              = hasura_table.orders.name
  columns            = ["customer_id"]
  references_table   = hasura_table.customers.name
  references_columns = ["id"]
}}

resource "hasura_index" "order_kind" {{
  source  = hasura_source.shop.name
  table   = hasura_table.orders.name
  name    = "orders_kind_idx"
  columns = ["kind"]
}}

resource "hasura_relationship" "order_customer" {{
  source                    = hasura_source.shop.name
  table                     = hasura_table.orders.name
  name                      = "customer"
  type                      = "object"
  foreign_key_constraint_on = hasura_foreign_key.order_customer.columns
}}

resource "hasura_tracked_table" "audit" {{
  source = hasura_source.shop.name
  name   = "audit"
}}

resource "hasura_event_trigger" "order_placed" {{
  source  = hasura_source.shop.name
  table   = hasura_table.orders.name
  name    = "order_placed"
  insert  = true
  webhook = "https://hooks.example.com/orders"
}}
"#
        )
    };
    for_each_terraform(|tf| {
        let env = Env::start();
        let url = env.create_database("shop", PASSWORD);
        env.set_env_out_of_band(&[("SHOP_DATABASE_URL", &url)]);
        // A table a migration made, tracked by hasura_tracked_table: run
        // through a source that exists only for the migration.
        env.meta(json!({"type": "pg_add_source", "args": {"name": "migrate",
            "configuration": {"connection_info": {"database_url": url}}}}));
        env.sql_on(
            "migrate",
            "CREATE TABLE audit (id int PRIMARY KEY, note text)",
        );
        env.meta(json!({"type": "pg_drop_source", "args": {"name": "migrate"}}));
        // The env change has rolled out (the emulator's restart window).
        std::thread::sleep(std::time::Duration::from_millis(600));
        let wd = env.workdir(tf);
        wd.write("main.tf", &cfg(&required_providers()));
        wd.apply();
        assert_no_changes(&wd, "after creating everything in the second source");

        let src = source(&env, "shop").unwrap();
        let mut tracked: Vec<String> = src["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["table"]["name"].as_str().unwrap().to_string())
            .collect();
        tracked.sort();
        assert_eq!(tracked, ["audit", "customers", "orders"]);
        let default_tables = source(&env, "default").unwrap()["tables"].clone();
        assert_eq!(default_tables, json!([]), "nothing landed in default");

        // The DDL ran in the second database only.
        let v = env.sql_on(
            "shop",
            "SELECT (SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_id_fkey')::text
                 || '/' || (SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_kind_idx')::text
                 || '/' || (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'notify_hasura_order_placed_%')::text",
        );
        assert_eq!(v["result"][1][0], "1/1/1", "{v}");
        let v = env.sql("SELECT to_regclass('public.orders') IS NULL");
        assert_eq!(v["result"][1][0], "t", "{v}");

        env.sql_on(
            "shop",
            "INSERT INTO customers VALUES (1, 'Ada'); INSERT INTO orders VALUES (10, 1, 'book')",
        );
        let (_, v) = env.post(
            "/v1/graphql",
            json!({"query": "{ orders { id customer { name } } }"}),
        );
        assert_eq!(
            v,
            json!({"data": {"orders": [{"id": 10, "customer": {"name": "Ada"}}]}})
        );

        wd.destroy();
        assert!(source(&env, "shop").is_none());
    });
}
