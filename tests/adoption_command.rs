//! The adoption command (issue 16, part 1): an emulator project seeded out
//! of band with objects of every adoptable kind plus ones no resource
//! expresses; `terraform-adopt` writes the import blocks,
//! `terraform plan -generate-config-out` the configuration, and the apply
//! only imports: nothing created, changed or dropped, then an empty plan.
//! Terraform >= 1.5 only (import blocks); older cores say "skipped".
mod support;

use clerk_emulator::ClerkConfig;
use reqwest::Method;
use serde_json::{json, Value};
use support::{for_each_terraform, required_providers};

const ADOPT: &str = env!("CARGO_BIN_EXE_terraform-adopt");

/// What a team clicked together: 4 tracked tables (one customised), 11
/// permissions for 2 roles, 2 JWT templates, 3 redirect URLs (20 objects),
/// env vars, a relationship, and a remote relationship no resource expresses.
fn seed(hasura: &support::hasura::Env, clerk: &support::clerk::Env) -> Vec<(String, String)> {
    hasura.sql(
        "CREATE TABLE users (id text PRIMARY KEY, name text);
         CREATE TABLE posts (id serial PRIMARY KEY, author_id text NOT NULL REFERENCES users(id), title text);
         CREATE TABLE comments (id serial PRIMARY KEY, post_id int NOT NULL REFERENCES posts(id), author_id text NOT NULL, body text);
         CREATE SCHEMA shop;
         CREATE TABLE shop.orders (id int PRIMARY KEY, user_id text, total numeric);
         CREATE INDEX posts_title_idx ON posts (lower(title));
         INSERT INTO users VALUES ('alice', 'Alice'); INSERT INTO posts (author_id, title) VALUES ('alice', 'hi');",
    );
    let table = |schema: &str, name: &str| json!({"schema": schema, "name": name});
    for (schema, name) in [
        ("public", "users"),
        ("public", "posts"),
        ("public", "comments"),
        ("shop", "orders"),
    ] {
        hasura.meta(json!({"type": "pg_track_table", "args": {"source": "default", "table": table(schema, name)}}));
    }
    hasura.meta(json!({"type": "pg_set_table_customization", "args": {"source": "default", "table": table("shop", "orders"), "configuration": {"custom_name": "shop_orders"}}}));
    let own = json!({"author_id": {"_eq": "X-Hasura-User-Id"}});
    let perms = [
        (
            "public",
            "users",
            "user",
            "select",
            json!({"columns": ["id", "name"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}}),
        ),
        (
            "public",
            "users",
            "user",
            "update",
            json!({"columns": ["name"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}, "check": {}}),
        ),
        (
            "public",
            "posts",
            "user",
            "select",
            json!({"columns": ["id", "title", "author_id"], "filter": own}),
        ),
        (
            "public",
            "posts",
            "user",
            "insert",
            json!({"columns": ["title"], "check": own, "set": {"author_id": "X-Hasura-User-Id"}}),
        ),
        (
            "public",
            "posts",
            "user",
            "update",
            json!({"columns": ["title"], "filter": own, "check": own}),
        ),
        ("public", "posts", "user", "delete", json!({"filter": own})),
        (
            "public",
            "posts",
            "anonymous",
            "select",
            json!({"columns": ["id", "title"], "filter": {}, "limit": 5}),
        ),
        (
            "public",
            "comments",
            "user",
            "select",
            json!({"columns": ["id", "body"], "filter": {}}),
        ),
        (
            "public",
            "comments",
            "user",
            "insert",
            json!({"columns": ["post_id", "body"], "check": own, "set": {"author_id": "X-Hasura-User-Id"}}),
        ),
        (
            "public",
            "comments",
            "user",
            "delete",
            json!({"filter": own}),
        ),
        (
            "shop",
            "orders",
            "user",
            "select",
            json!({"columns": ["id", "total"], "filter": {"user_id": {"_eq": "X-Hasura-User-Id"}}}),
        ),
    ];
    for (schema, name, role, action, permission) in perms {
        hasura.meta(json!({"type": format!("pg_create_{action}_permission"), "args": {"source": "default", "table": table(schema, name), "role": role, "permission": permission}}));
    }
    // A relationship, put in the way the Hasura CLI applies metadata.
    let mut md = hasura.metadata();
    for t in md["sources"][0]["tables"].as_array_mut().unwrap() {
        if t["table"]["name"] == "comments" {
            t["object_relationships"] =
                json!([{"name": "post", "using": {"foreign_key_constraint_on": "post_id"}}]);
            t["remote_relationships"] = json!([{"name": "profile", "definition": {"to_source": {"source": "default", "table": "users", "relationship_type": "object", "field_mapping": {"author_id": "id"}}}}]);
        }
    }
    hasura.meta(json!({"type": "replace_metadata", "args": md}));
    hasura.set_env_out_of_band(&[
        ("APP_MODE", "production"),
        ("APP_API_KEY", "s3cr3t-never-printed"),
    ]);

    let mut clerk_ids = Vec::new();
    for name in ["hasura", "supabase"] {
        let (s, t) = clerk.api(Method::POST, "/jwt_templates", Some(json!({"name": name, "claims": {"role": "authenticated", "user_id": "{{user.id}}"}, "lifetime": 300})));
        assert_eq!(s, 200, "{t}");
        clerk_ids.push((
            "/jwt_templates".to_string(),
            t["id"].as_str().unwrap().to_string(),
        ));
    }
    for url in [
        "https://app.example.com/callback",
        "https://admin.example.com/",
        "myapp://oauth",
    ] {
        let (s, r) = clerk.api(Method::POST, "/redirect_urls", Some(json!({"url": url})));
        assert_eq!(s, 200, "{r}");
        clerk_ids.push((
            "/redirect_urls".to_string(),
            r["id"].as_str().unwrap().to_string(),
        ));
    }
    clerk_ids
}

fn ids(clerk: &support::clerk::Env, path: &str) -> Vec<String> {
    let (_, listed) = clerk.api(Method::GET, path, None);
    let items = listed.get("data").unwrap_or(&listed);
    let mut v: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn adoption_command_takes_a_seeded_project_to_an_empty_plan() {
    for_each_terraform(|tf| {
        if support::terraform_version_tuple(tf) < (1, 5, 0) {
            eprintln!("import blocks and -generate-config-out need Terraform >= 1.5: skipped");
            return;
        }
        let hasura = support::hasura::Env::start();
        let clerk = support::clerk::Env::start(ClerkConfig::default());
        let seeded = seed(&hasura, &clerk);

        let mut wd = hasura.workdir(tf);
        wd.env("CLERK_SECRET_KEY", clerk.emu().secret_key())
            .env("CLERK_API_URL", &clerk.emu().api_url());
        hasura.reset_counters();
        let run = wd.run(std::path::Path::new(ADOPT), &[]);
        assert!(run.success(), "terraform-adopt failed:\n{}", run.combined());
        assert!(
            !run.combined().contains("s3cr3t"),
            "a secret was printed:\n{}",
            run.combined()
        );
        let imports = std::fs::read_to_string(wd.path().join("imports.tf")).unwrap();
        assert!(
            !imports.contains("s3cr3t"),
            "a secret in imports.tf:\n{imports}"
        );
        // The env var comment shows a block too, commented out: count real ones.
        let blocks = imports.lines().filter(|l| *l == "import {").count();
        assert!(blocks >= 20, "{blocks} import blocks:\n{imports}");
        for want in [
            "to = hasura_tracked_table.public_users\n  id = \"default.public.users\"",
            "to = hasura_tracked_table.shop_orders\n  id = \"default.shop.orders\"",
            "to = hasura_permission.posts_anonymous_select\n  id = \"default.public.posts.anonymous.select\"",
            "to = hasura_permission.users_user_select\n",
            // Foreign keys and indexes of tracked tables, from the catalog.
            "to = hasura_foreign_key.comments_post_id_fkey\n  id = \"default.public.comments.comments_post_id_fkey\"",
            "to = hasura_foreign_key.posts_author_id_fkey\n",
            "to = hasura_index.posts_title_idx\n  id = \"default.public.posts.posts_title_idx\"",
            "to = hasura_permission.shop_orders_user_select\n",
            "to = clerk_jwt_template.hasura\n",
            "to = clerk_redirect_url.app_example_com_callback\n",
            "to = clerk_redirect_url.myapp_oauth\n",
            // Env vars: keys and the next step in a comment, never values.
            "#   id = \"APP_API_KEY,APP_MODE\"",
            "to = hasura_relationship.comments_post\n  id = \"default.public.comments.post\"",
            // Not expressible: listed, not dropped.
            "#   default.public.comments: remote_relationships: profile",
        ] {
            assert!(imports.contains(want), "{want:?} in:\n{imports}");
        }
        for (_, id) in &seeded {
            assert!(
                imports.contains(&format!("id = \"{id}\"")),
                "{id} in:\n{imports}"
            );
        }
        // Listing reads only: the metadata export, the Cloud env read, and
        // read-only run_sql on the catalog (foreign keys, indexes).
        let counters = hasura.emu().control.counters();
        let ops: Vec<&String> = counters["ops"].as_object().unwrap().keys().collect();
        assert!(
            ops.iter().all(|op| *op == "metadata:export_metadata"
                || *op == "run_sql"
                || op.starts_with("cloud:")),
            "the command did more than read: {counters}"
        );
        assert_eq!(
            hasura.writes(),
            (0, 0, 0),
            "the command wrote env vars: {counters}"
        );
        // Stable: a second run writes the same file.
        std::fs::rename(wd.path().join("imports.tf"), wd.path().join("first.tf.txt")).unwrap();
        assert!(wd.run(std::path::Path::new(ADOPT), &[]).success());
        assert_eq!(
            std::fs::read_to_string(wd.path().join("imports.tf")).unwrap(),
            imports,
            "two runs differ"
        );
        std::fs::remove_file(wd.path().join("first.tf.txt")).unwrap();

        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"hasura\" {{}}\nprovider \"clerk\" {{}}\n",
                required_providers()
            ),
        );
        let gen = wd.tf(&["plan", "-input=false", "-generate-config-out=generated.tf"]);
        let generated = std::fs::read_to_string(wd.path().join("generated.tf"))
            .unwrap_or_else(|e| panic!("no generated.tf ({e}):\n{}", gen.combined()));

        hasura.reset_counters();
        clerk.emu().control.reset_counters();
        let applied = wd.apply();
        let summary = format!("{blocks} imported, 0 added, 0 changed, 0 destroyed");
        assert!(
            applied.stdout.contains(&summary),
            "the apply only imports ({summary}):\n{}\n--- generated.tf ---\n{generated}",
            applied.stdout
        );
        // Nothing recreated or rewritten: no metadata write, no env write,
        // rows still there, the Clerk objects keep their ids.
        hasura.assert_nothing_written("while adopting");
        assert_eq!(hasura.count_rows("posts"), 1, "posts was not recreated");
        let mut want: Vec<String> = seeded
            .iter()
            .filter(|(p, _)| p == "/jwt_templates")
            .map(|(_, i)| i.clone())
            .collect();
        want.sort();
        assert_eq!(ids(&clerk, "/jwt_templates"), want);
        let mut want: Vec<String> = seeded
            .iter()
            .filter(|(p, _)| p == "/redirect_urls")
            .map(|(_, i)| i.clone())
            .collect();
        want.sort();
        assert_eq!(ids(&clerk, "/redirect_urls"), want);
        let md: Value = hasura.metadata();
        assert!(
            md.to_string().contains("\"post_id\""),
            "the relationship is still there: {md}"
        );
        support::assert_no_changes(&wd, &format!("after adopting with:\n{generated}"));
    });
}
