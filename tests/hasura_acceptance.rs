//! The Hasura provider driven by real Terraform against the Hasura emulator
//! (metadata API, `run_sql` on a real throwaway PostgreSQL, Cloud env API),
//! on every core in TERRAFORM_BINARIES.
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use support::hasura::Env;
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

const JWK_URL: &str = "https://example.clerk.accounts.dev/.well-known/jwks.json";

fn select_permission(md: &Value, table: &str, role: &str) -> Option<Value> {
    md["sources"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "default")?["tables"]
        .as_array()?
        .iter()
        .find(|t| t["table"]["name"] == table)?["select_permissions"]
        .as_array()?
        .iter()
        .find(|p| p["role"] == role)
        .cloned()
}

fn seed_config(filter_user: &str, extra: &str) -> String {
    format!(
        r#"{}
provider "hasura" {{}}

resource "hasura_table" "users" {{
  name = "users"
  columns = [
    {{ name = "id", type = "text" }},
    {{ name = "name", type = "text" }},
    {{ name = "last_seen", type = "timestamp", default = "now()" }},
  ]
  primary_key = ["id"]
}}

resource "hasura_permission" "user_select" {{
  table   = hasura_table.users.name
  role    = "user"
  action  = "select"
  columns = ["id", "name"]
  filter  = jsonencode({{ id = {{ _eq = "{filter_user}" }} }})
}}

resource "hasura_env_var" "jwt" {{
  key   = "HASURA_GRAPHQL_JWT_SECRET"
  value = jsonencode({{ jwk_url = "{JWK_URL}" }})
}}
{extra}"#,
        required_providers()
    )
}

#[test]
fn apply_drift_repair_atomic_update_and_protected_destroy() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        wd.write("main.tf", &seed_config("X-Hasura-User-Id", ""));
        wd.apply();
        assert_no_changes(&wd, "after the first apply");
        assert!(select_permission(&env.metadata(), "users", "user").is_some());
        assert!(env.env_vars().contains_key("HASURA_GRAPHQL_JWT_SECRET"));
        let id = wd.resource_values("hasura_permission.user_select")["id"].clone();
        assert_eq!(id, "default.public.users.user.select");

        // Columns added and dropped by SQL. An added column shows as drift, but
        // `deletion_protection` (on by default) keeps the apply from dropping it
        // and its data: the plan warns, the apply fails without changing anything.
        env.sql("ALTER TABLE public.users ADD COLUMN extra integer");
        env.sql("INSERT INTO public.users (id, name, extra) VALUES ('keep', 'K', 7)");
        let drift = assert_changes(
            &wd,
            "after a column was added by SQL",
            &["extra", "columns"],
        );
        assert!(
            drift.combined().contains("protected from losing columns"),
            "the plan should warn that the drop will be refused:\n{}",
            drift.combined()
        );
        wd.try_apply()
            .assert_failure_contains("deletion_protection")
            .assert_failure_contains("\"extra\"");
        let v = env.sql("SELECT extra FROM public.users WHERE id = 'keep'");
        assert_eq!(
            v["result"][1][0], "7",
            "the out-of-band column and its data survive"
        );
        env.sql("DELETE FROM public.users WHERE id = 'keep'");
        env.sql("ALTER TABLE public.users DROP COLUMN extra");
        assert_no_changes(&wd, "after the added column was removed out of band");
        env.sql("ALTER TABLE public.users DROP COLUMN last_seen");
        assert_changes(&wd, "after a column was dropped by SQL", &["last_seen"]);
        wd.apply();
        assert_no_changes(&wd, "after repairing a dropped column");

        // Permission filter changed through the metadata API.
        env.meta(json!({"type": "bulk", "args": [
            {"type": "pg_drop_select_permission", "args": {"table": "users", "role": "user"}},
            {"type": "pg_create_select_permission", "args": {"table": "users", "role": "user", "permission": {"columns": ["id", "name"], "filter": {"id": {"_eq": "someone-else"}}}}},
        ]}));
        assert_changes(
            &wd,
            "after the filter changed out of band",
            &["filter", "someone-else"],
        );
        wd.apply();
        assert_no_changes(&wd, "after repairing the filter");

        // Env var changed through the Cloud API.
        env.set_env_out_of_band(&[(
            "HASURA_GRAPHQL_JWT_SECRET",
            r#"{"jwk_url":"https://other.example/jwks.json"}"#,
        )]);
        assert_changes(
            &wd,
            "after the env var changed out of band",
            &["hasura_env_var.jwt", "value"],
        );
        wd.apply();
        assert!(env.env_vars()["HASURA_GRAPHQL_JWT_SECRET"].contains("example.clerk.accounts.dev"));
        assert_no_changes(&wd, "after repairing the env var");

        // Table untracked (which also drops its permissions).
        env.meta(json!({"type": "pg_untrack_table", "args": {"table": {"schema": "public", "name": "users"}, "cascade": true}}));
        assert_changes(
            &wd,
            "after the table was untracked",
            &["track", "hasura_permission.user_select"],
        );
        wd.apply();
        assert_no_changes(&wd, "after re-tracking");

        // A permission update is one atomic drop+create: a concurrent reader never sees it missing.
        let stop = Arc::new(AtomicBool::new(false));
        let (missing, reads) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let reader = {
            let (stop, missing, reads) = (stop.clone(), missing.clone(), reads.clone());
            let url = format!("{}/v1/metadata", env.emu().endpoint());
            let secret = env.emu().config.admin_secret.clone();
            env.rt.spawn(async move {
                let c = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let v: Value = c
                        .post(&url)
                        .header("x-hasura-admin-secret", &secret)
                        .json(&json!({"type": "export_metadata", "args": {}}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    reads.fetch_add(1, Ordering::Relaxed);
                    if select_permission(&v, "users", "user").is_none() {
                        missing.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        };
        wd.write("main.tf", &seed_config("X-Hasura-Editor-Id", ""));
        wd.apply();
        stop.store(true, Ordering::Relaxed);
        env.rt.block_on(reader).unwrap();
        assert!(reads.load(Ordering::Relaxed) > 0);
        assert_eq!(
            missing.load(Ordering::Relaxed),
            0,
            "the role was without its permission during the update"
        );
        let p = select_permission(&env.metadata(), "users", "user").unwrap();
        assert_eq!(
            p["permission"]["filter"],
            json!({"id": {"_eq": "X-Hasura-Editor-Id"}})
        );
        assert_no_changes(&wd, "after the permission update");

        // Destroying a protected table with rows is refused; the rows survive.
        env.sql("INSERT INTO public.users (id, name) VALUES ('u1', 'Ada')");
        wd.try_destroy()
            .assert_failure_contains("deletion_protection");
        assert_eq!(env.count_rows("public.users"), 1);
    });
}

#[test]
fn import_of_every_resource_then_empty_plan() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.users (id text PRIMARY KEY, name text, last_seen timestamp DEFAULT now())");
        env.sql("CREATE TABLE public.orders (id serial PRIMARY KEY, total numeric(10,2))");
        env.meta(json!({"type": "pg_track_table", "args": {"table": "users"}}));
        env.meta(json!({"type": "pg_track_table", "args": {"table": "orders", "configuration": {"custom_name": "order"}}}));
        env.meta(json!({"type": "pg_create_select_permission", "args": {"table": "users", "role": "user", "permission": {"columns": ["name", "id"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}}}}));
        env.set_env_out_of_band(&[(
            "HASURA_GRAPHQL_JWT_SECRET",
            &json!({"jwk_url": JWK_URL}).to_string(),
        )]);
        let wd = env.workdir(tf);
        let tracked = r#"
resource "hasura_tracked_table" "orders" {
  name        = "orders"
  custom_name = "order"
}
"#;
        wd.write("main.tf", &seed_config("X-Hasura-User-Id", tracked));
        for (addr, id) in [
            ("hasura_table.users", "default.public.users"),
            (
                "hasura_permission.user_select",
                "default.public.users.user.select",
            ),
            ("hasura_env_var.jwt", "HASURA_GRAPHQL_JWT_SECRET"),
            ("hasura_tracked_table.orders", "default.public.orders"),
        ] {
            wd.import(addr, id)
                .assert_success(&format!("import {addr} {id}"));
            assert_eq!(
                wd.resource_values(addr)["id"],
                id,
                "the id in state is the import id"
            );
        }
        assert_no_changes(&wd, "after importing everything");
        wd.apply();
        assert_no_changes(&wd, "after a re-apply");
    });
}

#[test]
fn bad_inputs_fail_before_anything_is_applied() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.users (id text PRIMARY KEY, name text)");
        env.meta(json!({"type": "pg_track_table", "args": {"table": "users"}}));
        let before = env.metadata();
        let wd = env.workdir(tf);
        let head = format!("{}\nprovider \"hasura\" {{}}\n", required_providers());
        for (body, needle) in [
            (
                r#"resource "hasura_table" "t" {
  name    = "bad\"name"
  columns = [{ name = "id", type = "text" }]
}"#,
                "name",
            ),
            (
                r#"resource "hasura_table" "t" {
  name    = "t"
  columns = [{ name = "id;drop", type = "text" }]
}"#,
                "columns[0].name",
            ),
            (
                r#"resource "hasura_table" "t" {
  name    = "t"
  columns = [{ name = "id", type = "text", default = "'x'; DROP TABLE users" }]
}"#,
                "default",
            ),
            (
                r#"resource "hasura_table" "t" {
  name    = "t"
  columns = [{ name = "id", type = "no_such_type" }]
}"#,
                "columns[0].type",
            ),
            (
                r#"resource "hasura_permission" "p" {
  table   = "users"
  role    = "user"
  action  = "select"
  columns = ["id", "nope"]
  filter  = "{}"
}"#,
                "nope",
            ),
            (
                r#"resource "hasura_permission" "p" {
  table   = "users"
  role    = "user"
  action  = "select"
  columns = ["id"]
  filter  = "{not json"
}"#,
                "filter",
            ),
            (
                r#"resource "hasura_permission" "p" {
  table  = "users"
  role   = "user"
  action = "insert"
  check  = "{}"
  limit  = 3
}"#,
                "limit",
            ),
            (
                r#"resource "hasura_env_var" "jwt" {
  key   = "HASURA_GRAPHQL_JWT_SECRET"
  value = jsonencode({ type = "HS256", key = "too-short-secret" })
}"#,
                "at least 32",
            ),
        ] {
            wd.write("main.tf", &format!("{head}{body}\n"));
            let out = wd.try_apply();
            out.assert_failure_contains(needle);
            assert!(
                // Terraform itself quotes the offending config line; the provider must not repeat the value.
                !out.combined()
                    .lines()
                    .any(|l| l.contains("too-short-secret") && !l.contains("key =")),
                "the secret leaked:\n{}",
                out.combined()
            );
            assert!(
                !out.combined().contains("Apply complete"),
                "{}",
                out.combined()
            );
        }
        assert_eq!(env.metadata(), before, "nothing may be applied");
        assert!(env.env_vars().is_empty());
        let tables = env.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
        assert_eq!(tables["result"][1][0], "1");
    });
}

#[test]
fn two_racing_applies_converge() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.users (id text PRIMARY KEY, name text)");
        env.meta(json!({"type": "pg_track_table", "args": {"table": "users"}}));
        let config = |role: &str, key: &str| {
            format!(
                r#"{}
provider "hasura" {{}}
resource "hasura_permission" "p" {{
  table   = "users"
  role    = "{role}"
  action  = "select"
  columns = ["*"]
  filter  = jsonencode({{ id = {{ _eq = "X-Hasura-User-Id" }} }})
}}
resource "hasura_env_var" "v" {{
  key   = "{key}"
  value = "{role}"
}}
"#,
                required_providers()
            )
        };
        let a = env.workdir(tf);
        let b = env.workdir(tf);
        a.write("main.tf", &config("reader", "VAR_A"));
        b.write("main.tf", &config("writer", "VAR_B"));
        std::thread::scope(|s| {
            let ha = s.spawn(|| a.try_apply());
            let hb = s.spawn(|| b.try_apply());
            ha.join().unwrap().assert_success("racing apply A");
            hb.join().unwrap().assert_success("racing apply B");
        });
        assert_no_changes(&a, "for A after the race");
        assert_no_changes(&b, "for B after the race");
        let md = env.metadata();
        assert!(
            select_permission(&md, "users", "reader").is_some()
                && select_permission(&md, "users", "writer").is_some()
        );
        let vars = env.env_vars();
        assert_eq!(
            (vars["VAR_A"].as_str(), vars["VAR_B"].as_str()),
            ("reader", "writer")
        );
    });
}

#[test]
fn env_changes_coalesce_and_reads_share_one_export() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        let vars = |vals: &[(&str, &str)]| {
            let mut s = format!("{}\nprovider \"hasura\" {{}}\n", required_providers());
            for (k, v) in vals {
                s.push_str(&format!("resource \"hasura_env_var\" \"{}\" {{\n  key   = \"{k}\"\n  value = \"{v}\"\n}}\n", k.to_lowercase()));
            }
            s
        };
        let ops = |name: &str| {
            env.emu().control.counters()["ops"][name]
                .as_u64()
                .unwrap_or(0)
        };
        wd.write("main.tf", &vars(&[("A", "1"), ("B", "2"), ("C", "3")]));
        wd.apply();
        assert_eq!(
            ops("cloud:updateTenantEnv"),
            1,
            "three new vars, one restart: {}",
            env.emu().control.counters()
        );
        wd.write("main.tf", &vars(&[("A", "10"), ("B", "20")]));
        wd.apply();
        assert_eq!(
            ops("cloud:updateTenantEnv"),
            2,
            "{}",
            env.emu().control.counters()
        );
        assert_eq!(
            ops("cloud:deleteTenantEnv"),
            1,
            "{}",
            env.emu().control.counters()
        );
        assert_no_changes(&wd, "after the env changes");
        let vars_now = env.env_vars();
        assert_eq!(vars_now.len(), 2);
        assert_eq!(vars_now["A"], "10");

        // Refreshing many metadata-backed resources costs one export per plan.
        env.sql("CREATE TABLE public.users (id text PRIMARY KEY, name text)");
        env.meta(json!({"type": "pg_track_table", "args": {"table": "users"}}));
        let mut cfg = format!("{}\nprovider \"hasura\" {{}}\n", required_providers());
        for role in ["r1", "r2", "r3", "r4"] {
            cfg.push_str(&format!("resource \"hasura_permission\" \"{role}\" {{\n  table   = \"users\"\n  role    = \"{role}\"\n  action  = \"select\"\n  columns = [\"*\"]\n  filter  = \"{{}}\"\n}}\n"));
        }
        wd.write("main.tf", &cfg);
        wd.apply();
        env.emu().control.reset_counters();
        assert_no_changes(&wd, "with four permissions");
        assert_eq!(
            ops("metadata:export_metadata"),
            1,
            "{}",
            env.emu().control.counters()
        );
    });
}

#[test]
fn concurrent_permission_writes_share_bulks_and_errors_stay_with_their_resource() {
    const N: usize = 12;
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql("CREATE TABLE public.users (id text PRIMARY KEY, name text)");
        env.meta(json!({"type": "pg_track_table", "args": {"table": "users"}}));
        let wd = env.workdir(tf);
        let ops = |name: &str| {
            env.emu().control.counters()["ops"][name]
                .as_u64()
                .unwrap_or(0)
        };
        let writes = || {
            let c = env.emu().control.counters();
            c["ops"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(k, _)| {
                            k.starts_with("metadata:") && *k != "metadata:export_metadata"
                        })
                        .filter_map(|(_, v)| v.as_u64())
                        .sum::<u64>()
                })
                .unwrap_or(0)
        };
        let config = |filter: &str, bad: bool| {
            let mut s = format!("{}\nprovider \"hasura\" {{}}\n", required_providers());
            for i in 0..N {
                s.push_str(&format!("resource \"hasura_permission\" \"r{i}\" {{\n  table   = \"users\"\n  role    = \"r{i}\"\n  action  = \"select\"\n  columns = [\"id\", \"name\"]\n  filter  = jsonencode({filter})\n}}\n"));
            }
            if bad {
                // No table `nope` exists: Hasura rejects this one at apply time (an
                // unknown column would be refused at plan, before any write).
                s.push_str("resource \"hasura_permission\" \"bad\" {\n  table   = \"users\"\n  role    = \"bad\"\n  action  = \"select\"\n  columns = [\"id\"]\n  filter  = jsonencode({ _exists = { _table = \"nope\", _where = {} } })\n}\n");
            }
            s
        };
        let apply = || wd.tf(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]);
        let roles = |md: &Value| {
            (0..N)
                .filter(|i| select_permission(md, "users", &format!("r{i}")).is_some())
                .count()
        };

        // A bad permission applied together with valid ones fails alone.
        wd.write("main.tf", &config("{}", true));
        let out = apply();
        out.assert_failure_contains("nope");
        let text = out.combined();
        assert!(text.contains("with hasura_permission.bad"), "{text}");
        assert!(
            !text.contains("with hasura_permission.r"),
            "only the bad permission may fail:\n{text}"
        );
        let md = env.metadata();
        assert_eq!(roles(&md), N, "every valid permission lands");
        assert!(select_permission(&md, "users", "bad").is_none());
        let in_state = wd.resource_addresses();
        assert!(
            !in_state.iter().any(|a| a == "hasura_permission.bad"),
            "{in_state:?}"
        );
        assert_eq!(in_state.len(), N, "{in_state:?}");

        // N concurrent updates (drop + create each) share a few bulks.
        wd.write(
            "main.tf",
            &config("{ id = { _eq = \"X-Hasura-User-Id\" } }", false),
        );
        env.emu().control.reset_counters();
        apply().assert_success("update of every permission");
        let (bulks, all) = (ops("metadata:bulk"), writes());
        assert!(
            bulks >= 1 && all == bulks,
            "writes are bulks: {}",
            env.emu().control.counters()
        );
        assert!(
            all < N as u64,
            "{N} updates took {all} metadata writes: {}",
            env.emu().control.counters()
        );
        let md = env.metadata();
        assert_eq!(roles(&md), N);
        assert_eq!(
            select_permission(&md, "users", "r0").unwrap()["permission"]["filter"],
            json!({"id": {"_eq": "X-Hasura-User-Id"}})
        );
        assert_no_changes(&wd, "after the batched updates");

        // And so do N concurrent deletes.
        env.emu().control.reset_counters();
        wd.destroy();
        let all = writes();
        assert!(
            all < N as u64,
            "{N} deletes took {all} metadata writes: {}",
            env.emu().control.counters()
        );
        assert_eq!(roles(&env.metadata()), 0);
    });
}
