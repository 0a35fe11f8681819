//! `hasura_relationship` driven by real Terraform against the Hasura emulator, on every
//! core in TERRAFORM_BINARIES: object and array relationships on a foreign key and a
//! manual mapping, a permission that follows one (enforced through GraphQL for two
//! users), rename and comment changes in place, import, out-of-band change and delete
//! shown in plan, destroy; and the same writes converging through 5xx, lost answers
//! and `resource_version` conflicts.
mod support;

use emulator_common::{FaultConfig, FaultKind};
use serde_json::{json, Value};
use support::hasura::Env;
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

const SCHEMA_SQL: &str = "CREATE TABLE public.users (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.posts (id int PRIMARY KEY, author_id text NOT NULL REFERENCES public.users(id), title text NOT NULL);
INSERT INTO public.users VALUES ('alice', 'Alice'), ('bob', 'Bob');
INSERT INTO public.posts VALUES (1, 'alice', 'A1'), (2, 'alice', 'A2'), (3, 'bob', 'B1');";

/// The blog: two tracked tables, three relationships and two permissions, the one on
/// `posts` following the object relationship `author_rel` (named by reference, so
/// Terraform orders it after the relationship).
fn config(author_rel: &str, posts_comment: &str) -> String {
    format!(
        r#"{}
provider "hasura" {{}}

resource "hasura_tracked_table" "users" {{
  name = "users"
}}

resource "hasura_tracked_table" "posts" {{
  name = "posts"
}}

resource "hasura_relationship" "author" {{
  table = hasura_tracked_table.posts.name
  name  = "{author_rel}"
  type  = "object"
  foreign_key_constraint_on = ["author_id"]
  # The remote table is the foreign key's, which Terraform cannot see: without
  # this, destroy could untrack users while the relationship still leads there.
  depends_on = [hasura_tracked_table.users]
}}

resource "hasura_relationship" "posts" {{
  table   = hasura_tracked_table.users.name
  name    = "posts"
  type    = "array"
  comment = "{posts_comment}"
  remote_table              = hasura_tracked_table.posts.name
  foreign_key_constraint_on = ["author_id"]
}}

resource "hasura_relationship" "writer" {{
  table = hasura_tracked_table.posts.name
  name  = "writer"
  type  = "object"
  remote_table         = hasura_tracked_table.users.name
  manual_configuration = {{ author_id = "id" }}
}}

resource "hasura_permission" "posts_user" {{
  table   = hasura_tracked_table.posts.name
  role    = "user"
  action  = "select"
  columns = ["id", "title", "author_id"]
  filter  = jsonencode({{ (hasura_relationship.author.name) = {{ id = {{ _eq = "X-Hasura-User-Id" }} }} }})
}}

resource "hasura_permission" "users_user" {{
  table   = hasura_tracked_table.users.name
  role    = "user"
  action  = "select"
  columns = ["id", "name"]
  filter  = jsonencode({{}})
}}
"#,
        required_providers()
    )
}

/// A GraphQL query as role `user` for `user_id` (admin secret plus session headers,
/// as Hasura documents testing permissions).
fn gql(env: &Env, user_id: &str, query: &str) -> Value {
    let session = [("x-hasura-role", "user"), ("x-hasura-user-id", user_id)];
    env.graphql(&session, query, true)
}

fn table<'a>(md: &'a Value, name: &str) -> &'a Value {
    md["sources"][0]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == name)
        .unwrap_or_else(|| panic!("table {name} not tracked: {md}"))
}

/// Each user reads exactly their own posts, directly and nested under `users`, with the
/// author followed through the object relationship `rel`.
fn assert_each_sees_own_posts(env: &Env, rel: &str) {
    for (user, titles) in [("alice", json!(["A1", "A2"])), ("bob", json!(["B1"]))] {
        let q = format!("query {{ posts(order_by: {{id: asc}}) {{ title {rel} {{ name }} }} }}");
        let v = gql(env, user, &q);
        let posts = v["data"]["posts"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"));
        let got: Vec<&Value> = posts.iter().map(|p| &p["title"]).collect();
        assert_eq!(json!(got), titles, "{user}: {v}");
        let name = if user == "alice" { "Alice" } else { "Bob" };
        assert!(posts.iter().all(|p| p[rel]["name"] == name), "{user}: {v}");

        let v = gql(
            env,
            user,
            "query { users(order_by: {id: asc}) { id posts(order_by: {id: asc}) { title } } }",
        );
        let users = v["data"]["users"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"));
        assert_eq!(users.len(), 2, "{v}");
        for u in users {
            let own = u["id"] == user;
            let expect = if own { titles.clone() } else { json!([]) };
            let got: Vec<&Value> = u["posts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| &p["title"])
                .collect();
            assert_eq!(json!(got), expect, "{user} reading {}: {v}", u["id"]);
        }
    }
}

#[test]
fn relationships_apply_rename_in_place_import_drift_and_destroy() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql(SCHEMA_SQL);
        let wd = env.workdir(tf);
        wd.write("main.tf", &config("author", "c1"));
        wd.apply();
        assert_no_changes(&wd, "after the first apply");

        let md = env.metadata();
        assert_eq!(
            table(&md, "posts")["object_relationships"],
            json!([
                {"name": "author", "using": {"foreign_key_constraint_on": "author_id"}},
                {"name": "writer", "using": {"manual_configuration": {"column_mapping": {"author_id": "id"}, "insertion_order": null, "remote_table": {"name": "users", "schema": "public"}}}},
            ])
        );
        assert_eq!(
            table(&md, "users")["array_relationships"],
            json!([{"name": "posts", "using": {"foreign_key_constraint_on": {"table": {"name": "posts", "schema": "public"}, "column": "author_id"}}, "comment": "c1"}])
        );
        assert_eq!(
            wd.resource_values("hasura_relationship.posts")["id"],
            "default.public.users.posts"
        );
        assert_each_sees_own_posts(&env, "author");
        // The manual relationship reads the same row.
        let v = gql(&env, "bob", "query { posts { writer { id } } }");
        assert_eq!(
            v["data"]["posts"],
            json!([{"writer": {"id": "bob"}}]),
            "{v}"
        );

        // Rename in place: the permission that uses it is rewritten by Hasura in the
        // same step (a drop would be refused while the permission uses it), and the
        // relationship answers under its new name right after.
        wd.write("main.tf", &config("owner", "c1"));
        let plan = assert_changes(
            &wd,
            "renaming the relationship",
            &["hasura_relationship.author will be updated in-place"],
        );
        assert!(
            !plan.combined().contains("must be replaced"),
            "{}",
            plan.combined()
        );
        wd.apply();
        assert_each_sees_own_posts(&env, "owner");
        let md = env.metadata();
        let perm = &table(&md, "posts")["select_permissions"][0]["permission"]["filter"];
        assert_eq!(*perm, json!({"owner": {"id": {"_eq": "X-Hasura-User-Id"}}}));
        assert_no_changes(&wd, "after the rename");

        // A comment change, in place.
        wd.write("main.tf", &config("owner", "c2"));
        wd.apply();
        assert_eq!(
            table(&env.metadata(), "users")["array_relationships"][0]["comment"],
            "c2"
        );
        assert_no_changes(&wd, "after the comment change");

        // Out of band: a comment changed, then a relationship dropped.
        env.meta(json!({"type": "pg_set_relationship_comment", "args": {"table": "users", "relationship": "posts", "comment": "oob"}}));
        assert_changes(&wd, "a comment changed out of band", &["\"oob\" -> \"c2\""]);
        env.meta(json!({"type": "pg_drop_relationship", "args": {"table": "posts", "relationship": "writer"}}));
        assert_changes(
            &wd,
            "a relationship dropped out of band",
            &["hasura_relationship.writer will be created"],
        );
        wd.apply();
        assert_no_changes(&wd, "after repairing the drift");

        // Import: forget one, import it by id, nothing to change.
        wd.tf(&["state", "rm", "hasura_relationship.posts"])
            .assert_success("state rm");
        wd.import("hasura_relationship.posts", "default.public.users.posts")
            .assert_success("import");
        assert_no_changes(&wd, "after import");

        // A join change drops and re-creates; Hasura refuses that while a permission
        // follows the relationship, and the error says what to do.
        let manual_owner = config("owner", "c2").replace(
            "  foreign_key_constraint_on = [\"author_id\"]\n  # The remote",
            "  remote_table         = \"users\"\n  manual_configuration = { author_id = \"id\" }\n  # The remote",
        );
        assert_ne!(manual_owner, config("owner", "c2"));
        wd.write("main.tf", &manual_owner);
        let out = wd.try_apply();
        out.assert_failure_contains("dependency-error");
        // Terraform wraps the detail: compare with the whitespace collapsed.
        let text = out
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for want in [
            "cannot drop due to the following dependent objects : permission posts.user.select",
            "change those permissions' `filter`/`check`",
        ] {
            assert!(text.contains(want), "{want:?} in:\n{text}");
        }
        assert_eq!(
            table(&env.metadata(), "posts")["object_relationships"][0]["using"],
            json!({"foreign_key_constraint_on": "author_id"}),
            "nothing half-applied"
        );
        wd.write("main.tf", &config("owner", "c2"));
        assert_no_changes(&wd, "after the refused join change");

        // A type change drops and re-creates in one bulk.
        wd.write(
            "main.tf",
            &config("owner", "c2").replace(
                "name  = \"writer\"\n  type  = \"object\"",
                "name  = \"writer\"\n  type  = \"array\"",
            ),
        );
        wd.apply();
        assert!(table(&env.metadata(), "posts")["array_relationships"][0]["name"] == "writer");
        assert_no_changes(&wd, "after the type change");

        wd.destroy();
        let md = env.metadata();
        assert!(
            md["sources"][0]["tables"].as_array().unwrap().is_empty(),
            "{md}"
        );
    });
}

#[test]
fn bad_relationships_are_refused_at_plan_with_the_attribute() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql(SCHEMA_SQL);
        let wd = env.workdir(tf);
        let base = format!("{}\nprovider \"hasura\" {{}}\n", required_providers());
        for (body, needles) in [
            (
                r#"resource "hasura_relationship" "r" {
  table = "posts"
  name  = "author"
  type  = "object"
}"#,
                vec!["Missing join"],
            ),
            (
                r#"resource "hasura_relationship" "r" {
  table = "users"
  name  = "posts"
  type  = "array"
  foreign_key_constraint_on = ["author_id"]
}"#,
                vec!["Missing remote table", "remote_table"],
            ),
            (
                r#"resource "hasura_relationship" "r" {
  table = "posts"
  name  = "not-a-name"
  type  = "object"
  foreign_key_constraint_on = ["author_id"]
}"#,
                vec!["Invalid relationship name"],
            ),
            (
                r#"resource "hasura_relationship" "r" {
  table = "posts"
  name  = "author"
  type  = "object"
  remote_table         = "nosuchtable"
  manual_configuration = { author_id = "id" }
}"#,
                vec!["Unknown remote table"],
            ),
            (
                r#"resource "hasura_relationship" "r" {
  table = "posts"
  name  = "author"
  type  = "object"
  remote_table         = "users"
  manual_configuration = { writer_id = "id" }
}"#,
                vec!["Unknown column", "writer_id"],
            ),
        ] {
            wd.write("main.tf", &format!("{base}{body}"));
            let out = wd.tf(&["plan", "-input=false", "-no-color"]);
            for n in &needles {
                out.assert_failure_contains(n);
            }
        }
        env.assert_nothing_written("bad relationships");

        // A permission's filter through a relationship that exists (made out of band):
        // the relationship's name and the remote table's columns are checked at plan.
        for t in ["users", "posts"] {
            env.meta(json!({"type": "pg_track_table", "args": {"table": t}}));
        }
        env.meta(json!({"type": "pg_create_object_relationship", "args": {"table": "posts", "name": "writer",
            "using": {"manual_configuration": {"remote_table": "users", "column_mapping": {"author_id": "id"}}}}}));
        env.reset_counters();
        let perm = |filter: &str| {
            format!(
                "{base}resource \"hasura_permission\" \"p\" {{\n  table   = \"posts\"\n  role    = \"user\"\n  action  = \"select\"\n  columns = [\"id\"]\n  filter  = jsonencode({filter})\n}}\n"
            )
        };
        for (filter, needle) in [
            (
                r#"{ writer = { nme = { _eq = "x" } } }"#,
                "\"nme\", which is neither a column of public.users",
            ),
            (
                r#"{ wrter = { name = { _eq = "x" } } }"#,
                "\"wrter\", which is neither a column of public.posts",
            ),
            (
                r#"{ _or = [{ writer = { _exists = { _table = "posts", _where = { titl = { _eq = 1 } } } } }] }"#,
                "\"titl\"",
            ),
        ] {
            wd.write("main.tf", &perm(filter));
            let out = wd.tf(&["plan", "-input=false"]);
            out.assert_failure_contains("Unknown column or relationship");
            out.assert_failure_contains(needle);
        }
        wd.write(
            "main.tf",
            &perm(r#"{ writer = { name = { _eq = "X-Hasura-User-Id" } } }"#),
        );
        wd.tf(&["plan", "-input=false"])
            .assert_success("a filter through a relationship");
        env.assert_nothing_written("plan-time filter checks");
    });
}

/// The relationship names of one list of a table, in export order.
fn names(md: &Value, t: &str, list: &str) -> Vec<String> {
    table(md, t)[list]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn relationship_writes_converge_through_faults() {
    for_each_terraform(|tf| {
        let env = Env::start();
        env.sql(SCHEMA_SQL);
        let wd = env.workdir(tf);
        wd.write("main.tf", &config("author", "c1"));
        // Lost answers and 5xx on metadata writes, then conflicts on top.
        env.emu().control.set_faults(FaultConfig {
            error_rate: 0.5,
            latency_ms: 0,
            kinds: vec![
                FaultKind::Status500,
                FaultKind::Status503,
                FaultKind::LostResponse,
            ],
            seed: Some(7),
            paths: Some(vec!["/v1/metadata".into()]),
        });
        env.emu().conflict_next(3);
        wd.apply();
        env.emu().control.set_faults(FaultConfig::default());
        assert_no_changes(&wd, "after an apply through faults");
        let md = env.metadata();
        assert_eq!(
            names(&md, "posts", "object_relationships"),
            ["author", "writer"]
        );
        assert_eq!(names(&md, "users", "array_relationships"), ["posts"]);
        assert_each_sees_own_posts(&env, "author");

        // A rename and a comment change through the same faults.
        wd.write("main.tf", &config("owner", "c2"));
        env.emu().control.set_faults(FaultConfig {
            error_rate: 0.5,
            latency_ms: 0,
            kinds: vec![FaultKind::LostResponse, FaultKind::Status502],
            seed: Some(11),
            paths: Some(vec!["/v1/metadata".into()]),
        });
        env.emu().conflict_next(2);
        wd.apply();
        env.emu().control.set_faults(FaultConfig::default());
        assert_no_changes(&wd, "after a rename through faults");
        let md = env.metadata();
        assert_eq!(
            names(&md, "posts", "object_relationships"),
            ["owner", "writer"]
        );
        wd.destroy();
    });
}
