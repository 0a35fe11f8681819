//! `hasura_foreign_key` and `hasura_index` driven by real Terraform against the
//! Hasura emulator (run_sql on a real PostgreSQL), on every core in
//! TERRAFORM_BINARIES: two tables referencing each other in one apply, in-place
//! changes, drift, import, an INVALID index left by a failed concurrent build,
//! PostgreSQL's refusals reported at the attribute, and lost run_sql answers.
mod support;

use emulator_common::{FaultConfig, FaultKind};
use serde_json::{json, Value};
use support::hasura::Env;
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers, Workdir};

fn tables() -> &'static str {
    r#"
resource "hasura_table" "authors" {
  name                = "authors"
  deletion_protection = false
  columns = [
    { name = "id", type = "integer", nullable = false },
    { name = "email", type = "varchar(200)" },
    { name = "best_book", type = "integer" },
  ]
  primary_key = ["id"]
}

resource "hasura_table" "books" {
  name                = "books"
  deletion_protection = false
  columns = [
    { name = "id", type = "integer", nullable = false },
    { name = "author_id", type = "integer" },
    { name = "title", type = "text" },
  ]
  primary_key = ["id"]
}
"#
}

/// Mutual foreign keys (books -> authors, authors -> books) and three indexes
/// (two built concurrently, one in a transaction).
fn config(on_delete: &str, index_name: &str, extra: &str) -> String {
    format!(
        r#"{}
provider "hasura" {{}}
{}
resource "hasura_foreign_key" "book_author" {{
  table              = hasura_table.books.name
  columns            = ["author_id"]
  references_table   = hasura_table.authors.name
  references_columns = ["id"]
  on_delete          = "{on_delete}"
}}

resource "hasura_foreign_key" "best_book" {{
  table              = hasura_table.authors.name
  name               = "authors_best_book_fk"
  columns            = ["best_book"]
  references_table   = hasura_table.books.name
  references_columns = ["id"]
  on_update          = "cascade"
}}

resource "hasura_index" "books_author" {{
  table   = hasura_table.books.name
  name    = "{index_name}"
  columns = ["author_id"]
}}

resource "hasura_index" "books_title_id" {{
  table        = hasura_table.books.name
  name         = "books_title_id_idx"
  columns      = ["title", "id"]
  method       = "btree"
  concurrently = false
}}

resource "hasura_index" "authors_email" {{
  table       = hasura_table.authors.name
  name        = "authors_email_lower"
  expressions = ["lower(email)"]
  unique      = true
  where       = "best_book is not null"
}}
{extra}"#,
        required_providers(),
        tables()
    )
}

/// Terraform wraps diagnostics at 78 columns: compare with single spaces.
fn flat(out: &support::TfOutput) -> String {
    out.combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// One cell of a query run out of band.
fn cell(env: &Env, sql: &str) -> String {
    env.sql(sql)["result"][1][0]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn fk_action(env: &Env, name: &str) -> String {
    cell(env, &format!("SELECT COALESCE((SELECT confdeltype::text FROM pg_constraint WHERE conname = '{name}'), 'none')"))
}

fn index_state(env: &Env, name: &str) -> String {
    cell(env, &format!("SELECT COALESCE((SELECT CASE WHEN x.indisvalid THEN 'valid' ELSE 'invalid' END FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE i.relname = '{name}'), 'none')"))
}

#[test]
fn foreign_keys_and_indexes_lifecycle() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        wd.write("main.tf", &config("cascade", "books_author_idx", ""));
        wd.apply();
        assert_no_changes(&wd, "after the first apply");
        assert_eq!(fk_action(&env, "books_author_id_fkey"), "c");
        assert_eq!(fk_action(&env, "authors_best_book_fk"), "a");
        assert_eq!(index_state(&env, "books_author_idx"), "valid");
        assert_eq!(index_state(&env, "authors_email_lower"), "valid");
        assert_eq!(index_state(&env, "books_title_id_idx"), "valid");
        let fk = wd.resource_values("hasura_foreign_key.book_author");
        assert_eq!(
            fk["name"], "books_author_id_fkey",
            "PostgreSQL's default name: {fk}"
        );
        assert_eq!(fk["id"], "default.public.books.books_author_id_fkey");
        assert_eq!(fk["references_schema"], "public");
        let ix = wd.resource_values("hasura_index.authors_email");
        assert_eq!(
            ix["expressions"],
            json!(["lower(email)"]),
            "the configured spelling is kept"
        );
        assert!(
            ix["definition"]
                .as_str()
                .unwrap()
                .contains("lower((email)::text)"),
            "definition is PostgreSQL's rendering: {ix}"
        );

        // In place: the action (drop + add in one transaction) and the index name.
        wd.write("main.tf", &config("set null", "books_author_ix", ""));
        let plan = assert_changes(
            &wd,
            "after changing on_delete and renaming",
            &["update in-place", "\"set null\"", "books_author_ix"],
        );
        assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
        wd.apply();
        assert_eq!(fk_action(&env, "books_author_id_fkey"), "n");
        assert_eq!(index_state(&env, "books_author_ix"), "valid");
        assert_eq!(index_state(&env, "books_author_idx"), "none");
        assert_no_changes(&wd, "after the in-place update");

        // Renaming a constraint, with an action change in the same apply:
        // one DROP + ADD under the new name, in one transaction.
        let renamed = config("set null", "books_author_ix", "")
            .replace("authors_best_book_fk", "authors_best_book_fk2")
            .replace(
                "on_update          = \"cascade\"",
                "on_update          = \"restrict\"",
            );
        wd.write("main.tf", &renamed);
        let plan = assert_changes(
            &wd,
            "after renaming a constraint",
            &["update in-place", "authors_best_book_fk2"],
        );
        assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
        wd.apply();
        assert_eq!(fk_action(&env, "authors_best_book_fk"), "none");
        assert_eq!(
            cell(&env, "SELECT confupdtype::text FROM pg_constraint WHERE conname = 'authors_best_book_fk2'"),
            "r"
        );
        assert_no_changes(&wd, "after the rename");
        // And back, a rename alone (RENAME CONSTRAINT).
        wd.write(
            "main.tf",
            &renamed.replace("authors_best_book_fk2", "authors_best_book_fk"),
        );
        wd.apply();
        assert_eq!(fk_action(&env, "authors_best_book_fk2"), "none");
        wd.write("main.tf", &config("set null", "books_author_ix", ""));
        wd.apply();
        assert_eq!(
            cell(&env, "SELECT confupdtype::text FROM pg_constraint WHERE conname = 'authors_best_book_fk'"),
            "c"
        );
        assert_no_changes(&wd, "after renaming back");

        // Out of band: an action changed, an index dropped, a constraint dropped.
        env.sql("ALTER TABLE books DROP CONSTRAINT books_author_id_fkey; ALTER TABLE books ADD CONSTRAINT books_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE RESTRICT");
        env.sql("DROP INDEX books_author_ix");
        env.sql("ALTER TABLE authors DROP CONSTRAINT authors_best_book_fk");
        assert_changes(
            &wd,
            "after out-of-band changes",
            &[
                "\"restrict\" -> \"set null\"",
                "hasura_index.books_author will be created",
                "hasura_foreign_key.best_book will be created",
            ],
        );
        wd.apply();
        assert_eq!(fk_action(&env, "books_author_id_fkey"), "n");
        assert_eq!(fk_action(&env, "authors_best_book_fk"), "a");
        assert_no_changes(&wd, "after repairing the drift");

        // Import every form, then an empty plan.
        for (addr, id) in [
            (
                "hasura_foreign_key.book_author",
                "default.public.books.books_author_id_fkey",
            ),
            (
                "hasura_foreign_key.best_book",
                "public.authors.authors_best_book_fk",
            ),
            (
                "hasura_index.books_author",
                "default.public.books.books_author_ix",
            ),
        ] {
            wd.tf(&["state", "rm", addr]).assert_success("state rm");
            wd.import(addr, id)
                .assert_success(&format!("import {addr} {id}"));
        }
        assert_no_changes(&wd, "after import");

        // An expression index imported: the state holds PostgreSQL's rendering
        // (`lower(email::text)`), the configuration `lower(email)`. The plan
        // records the configured spelling in place; the index is not rebuilt.
        let oid = |env: &Env| {
            cell(
                env,
                "SELECT 'public.authors_email_lower'::regclass::oid::text",
            )
        };
        let before = oid(&env);
        wd.tf(&["state", "rm", "hasura_index.authors_email"])
            .assert_success("state rm");
        wd.import(
            "hasura_index.authors_email",
            "default.public.authors.authors_email_lower",
        )
        .assert_success("import the expression index");
        let imported = wd.resource_values("hasura_index.authors_email");
        assert_eq!(
            imported["expressions"],
            json!(["lower(email::text)"]),
            "{imported}"
        );
        let plan = assert_changes(
            &wd,
            "after importing an expression index",
            &["update in-place", "lower(email)"],
        );
        assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
        wd.apply();
        assert_eq!(oid(&env), before, "the index was not rebuilt");
        assert_no_changes(&wd, "after recording the configured spelling");
        // A real change of the expression replaces it.
        wd.write(
            "main.tf",
            &config("set null", "books_author_ix", "").replace("lower(email)", "upper(email)"),
        );
        assert_changes(&wd, "after changing the expression", &["must be replaced"]);
        wd.write("main.tf", &config("set null", "books_author_ix", ""));
        wd.import("hasura_index.authors_email", "default.public.authors.nope")
            .assert_failure_contains("Cannot import non-existent index");

        // A failed build marked INVALID out of band: the plan builds it again.
        env.sql("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'public.books_author_ix'::regclass");
        assert_changes(
            &wd,
            "with an INVALID index",
            &["hasura_index.books_author will be created"],
        );
        wd.apply();
        assert_eq!(index_state(&env, "books_author_ix"), "valid");
        assert_no_changes(&wd, "after rebuilding the invalid index");

        // A unique index over duplicates: the concurrent build fails, the
        // error points at `unique`, and no INVALID index is left behind.
        env.sql("INSERT INTO authors (id, email) VALUES (1, 'a'); INSERT INTO books (id, author_id, title) VALUES (1, 1, 'same'), (2, 1, 'same')");
        let dup = r#"
resource "hasura_index" "titles" {
  table   = hasura_table.books.name
  name    = "books_title_key"
  columns = ["title"]
  unique  = true
}
"#;
        wd.write("main.tf", &config("set null", "books_author_ix", dup));
        let out = wd.try_apply();
        assert!(!out.success());
        let text = flat(&out);
        assert!(text.contains("could not create unique index"), "{text}");
        assert!(
            text.contains(": unique = true"),
            "the attribute's line is shown:\n{text}"
        );
        assert!(text.contains("was dropped again"), "{text}");
        assert_eq!(
            index_state(&env, "books_title_key"),
            "none",
            "nothing half-made"
        );
        env.sql("UPDATE books SET title = 'other' WHERE id = 2");
        wd.apply();
        assert_eq!(index_state(&env, "books_title_key"), "valid");
        assert_no_changes(&wd, "after the unique index was built");

        wd.destroy();
        assert_eq!(fk_action(&env, "books_author_id_fkey"), "none");
        assert_eq!(index_state(&env, "books_author_ix"), "none");
    });
}

#[test]
fn refusals_point_at_the_attribute_and_apply_nothing() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        // Plan-time refusals: nothing reaches the server.
        let bad = r#"
resource "hasura_foreign_key" "mismatch" {
  table              = "books"
  columns            = ["a", "b"]
  references_table   = "authors"
  references_columns = ["id"]
  on_delete          = "drop everything"
}

resource "hasura_index" "bad" {
  table       = "books"
  name        = "bad"
  columns     = ["a"]
  expressions = ["lower(a)); DROP TABLE victim; --"]
  method      = "hash"
  unique      = true
}
"#;
        wd.write(
            "main.tf",
            &format!("{}\nprovider \"hasura\" {{}}\n{bad}", required_providers()),
        );
        let out = wd.validate();
        let text = out.combined();
        assert!(!out.success(), "{text}");
        for needle in [
            "Column count mismatch",
            "references_columns",
            "on_delete",
            "Conflicting index keys",
            "Invalid index expression",
            "Unique index needs btree",
        ] {
            assert!(
                text.contains(needle),
                "validate should mention {needle:?}:\n{text}"
            );
        }
        env.assert_nothing_written("after validate");

        // Apply-time refusal: referenced columns without a unique constraint.
        let cfg = format!(
            r#"{}
provider "hasura" {{}}
{}
resource "hasura_foreign_key" "by_title" {{
  table              = hasura_table.authors.name
  columns            = ["email"]
  references_table   = hasura_table.books.name
  references_columns = ["title"]
}}
"#,
            required_providers(),
            tables()
        );
        let wd = env.workdir(tf);
        wd.write("main.tf", &cfg);
        let out = wd.try_apply();
        assert!(!out.success());
        let text = flat(&out);
        assert!(
            text.contains("no unique constraint matching given keys"),
            "{text}"
        );
        assert!(
            text.contains(": references_columns = [\"title\"]"),
            "the attribute's line is shown:\n{text}"
        );
        assert!(text.contains("Nothing was changed"), "{text}");
        assert_eq!(fk_action(&env, "authors_email_fkey"), "none");
        wd.destroy();
    });
}

/// Real Hasura (before v2.45.3, or without `no_transaction`) runs run_sql in a
/// transaction, where PostgreSQL refuses CREATE INDEX CONCURRENTLY.
#[test]
fn emulator_runs_concurrently_only_outside_a_transaction() {
    let env = Env::start();
    env.sql("CREATE TABLE t (a int)");
    let (status, body) = env.post(
        "/v2/query",
        json!({"type": "run_sql", "args": {"sql": "CREATE INDEX CONCURRENTLY t_a ON t (a)"}}),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "postgres-error");
    assert_eq!(body["internal"]["error"]["status_code"], "25001", "{body}");
    let (status, body) = env.post(
        "/v2/query",
        json!({"type": "run_sql", "args": {"sql": "CREATE INDEX CONCURRENTLY t_a ON t (a)", "no_transaction": true}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(index_state(&env, "t_a"), "valid");
}

fn faults_fired(env: &Env) -> u64 {
    env.emu().control.counters()["faults"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

/// Every third `run_sql` answer is lost after PostgreSQL committed it: the
/// provider must settle each write by reading the catalog back, neither
/// failing nor writing twice.
#[test]
fn lost_run_sql_answers_are_settled_by_reading_back() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd: Workdir = env.workdir(tf);
        let cfg = config("cascade", "books_author_idx", "").replace(
            "provider \"hasura\" {}",
            "provider \"hasura\" {\n  max_retries = 10\n}",
        );
        wd.write("main.tf", &cfg);
        env.emu().control.set_faults(FaultConfig {
            error_rate: 0.34,
            kinds: vec![FaultKind::LostResponse],
            seed: Some(7),
            paths: Some(vec!["/v2/query".into()]),
            ..Default::default()
        });
        wd.apply();
        let fired = faults_fired(&env);
        env.emu().control.set_faults(FaultConfig::default());
        assert!(fired > 0, "no fault fired: the scenario tested nothing");
        assert_no_changes(&wd, "after an apply with lost answers");
        assert_eq!(fk_action(&env, "books_author_id_fkey"), "c");
        assert_eq!(index_state(&env, "books_author_idx"), "valid");
        assert_eq!(
            cell(&env, "SELECT count(*)::text FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"),
            "2",
            "each foreign key exactly once"
        );

        // The update and destroy paths under the same faults.
        wd.write(
            "main.tf",
            &cfg.replace("\"cascade\"", "\"restrict\"")
                .replace("books_author_idx", "books_author_ix2"),
        );
        env.emu().control.set_faults(FaultConfig {
            error_rate: 0.34,
            kinds: vec![FaultKind::LostResponse],
            seed: Some(11),
            paths: Some(vec!["/v2/query".into()]),
            ..Default::default()
        });
        wd.apply();
        wd.destroy();
        env.emu().control.set_faults(FaultConfig::default());
        assert_eq!(fk_action(&env, "books_author_id_fkey"), "none");
        assert_eq!(index_state(&env, "books_author_ix2"), "none");
    });
}
