//! Adoption with Terraform's own path (issue 16, part 1): objects made out of
//! band, one `import` block each, `terraform plan -generate-config-out`, and
//! the apply that follows changes nothing remotely and leaves an empty plan.
//! Every resource type of both providers is covered; Terraform >= 1.5 only
//! (import blocks), so on older cores the scenario says it was skipped.
mod support;

use std::collections::BTreeSet;

use clerk_emulator::ClerkConfig;
use reqwest::Method;
use serde_json::json;
use support::{for_each_terraform, required_providers};
use terraform_providers::framework::Provider;

const JWT_SECRET: &str = r#"{"jwk_url":"https://clerk.example.com/.well-known/jwks.json"}"#;

/// (address, import id) of one object of every resource type.
fn imports(template_id: &str, redirect_id: &str, org: &[(&str, &str)]) -> Vec<(String, String)> {
    [
        ("hasura_table.posts", "default.public.posts"),
        ("hasura_tracked_table.orders", "default.public.orders"),
        (
            "hasura_permission.posts_user_select",
            "default.public.posts.user.select",
        ),
        (
            "hasura_relationship.posts_order",
            "default.public.posts.order",
        ),
        (
            "hasura_foreign_key.posts_order",
            "default.public.posts.posts_order_id_fkey",
        ),
        (
            "hasura_index.posts_author",
            "default.public.posts.posts_author_idx",
        ),
        ("hasura_env_var.jwt", "HASURA_GRAPHQL_JWT_SECRET"),
        ("hasura_env_vars.app", "APP_MODE,APP_REGION"),
        ("hasura_cron_trigger.nightly", "nightly-report"),
        ("hasura_query_collection.app", "app-queries"),
        ("hasura_allow_list.app", "app-queries"),
        ("hasura_rest_endpoint.posts", "posts"),
        (
            "hasura_event_trigger.post_published",
            "default.post_published",
        ),
        ("hasura_inherited_role.editor", "editor"),
        ("hasura_remote_schema.payments", "payments"),
        (
            "hasura_remote_schema_permission.payments_user",
            "payments/user",
        ),
        ("hasura_custom_types.auth", "auth:LoginResponse,Email"),
        ("hasura_action.login", "login"),
        ("hasura_action_permission.login_user", "login/user"),
        ("hasura_source.default", "default"),
        (
            "hasura_computed_field.posts_label",
            "default.public.posts.label",
        ),
        ("clerk_jwt_template.hasura", template_id),
        ("clerk_redirect_url.web", redirect_id),
        ("clerk_instance_settings.this", "instance"),
        ("clerk_instance_restrictions.this", "instance"),
        ("clerk_organization_settings.this", "instance"),
        ("clerk_allowlist_identifier.alice", "alice@example.com"),
        ("clerk_blocklist_identifier.spam", "*@spam.example"),
    ]
    .into_iter()
    .chain(org.iter().copied())
    .map(|(a, i)| (a.to_string(), i.to_string()))
    .collect()
}

#[test]
fn every_resource_type_adopts_with_generated_config_and_plans_empty() {
    for_each_terraform(|tf| {
        if support::terraform_version_tuple(tf) < (1, 5, 0) {
            eprintln!("import blocks and -generate-config-out need Terraform >= 1.5: skipped");
            return;
        }
        let hasura = support::hasura::Env::start();
        let clerk = support::clerk::Env::start(ClerkConfig::default());

        // What already runs, made by hand (dashboard, migrations, CLI).
        hasura.sql("CREATE TABLE orders (id int PRIMARY KEY, total numeric); CREATE TABLE posts (id serial PRIMARY KEY, author_id text NOT NULL, title text DEFAULT 'untitled', published boolean NOT NULL DEFAULT false, order_id int REFERENCES orders (id) ON DELETE SET NULL); COMMENT ON TABLE posts IS 'Blog posts'; CREATE INDEX posts_author_idx ON posts (author_id); INSERT INTO posts (author_id) VALUES ('user_alice');");
        for t in ["posts", "orders"] {
            hasura.meta(json!({"type": "pg_track_table", "args": {"source": "default", "table": {"schema": "public", "name": t}}}));
        }
        hasura.meta(json!({"type": "pg_set_table_customization", "args": {"source": "default", "table": {"schema": "public", "name": "orders"}, "configuration": {"custom_name": "shop_orders"}}}));
        hasura.meta(json!({"type": "pg_create_select_permission", "args": {"source": "default", "table": {"schema": "public", "name": "posts"}, "role": "user", "permission": {"columns": ["id", "title"], "filter": {"author_id": {"_eq": "X-Hasura-User-Id"}}, "limit": 10}}}));
        hasura.meta(json!({"type": "pg_create_object_relationship", "args": {"source": "default", "table": {"schema": "public", "name": "posts"}, "name": "order", "using": {"manual_configuration": {"remote_table": {"schema": "public", "name": "orders"}, "column_mapping": {"id": "id"}}}}}));
        hasura.sql("CREATE FUNCTION post_label(p posts) RETURNS text STABLE LANGUAGE sql AS $$ SELECT p.title $$");
        hasura.meta(json!({"type": "add_computed_field", "args": {"source": "default", "table": {"schema": "public", "name": "posts"}, "name": "label", "definition": {"function": {"schema": "public", "name": "post_label"}}}}));
        hasura.meta(json!({"type": "add_inherited_role", "args": {"role_name": "editor", "role_set": ["user"]}}));
        hasura.set_env_out_of_band(&[
            ("HASURA_GRAPHQL_JWT_SECRET", JWT_SECRET),
            ("APP_MODE", "production"),
            ("APP_REGION", "eu"),
            ("HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS", "true"),
        ]);
        // The engine reads env vars once the project has restarted.
        std::thread::sleep(std::time::Duration::from_millis(800));
        hasura.meta(json!({"type": "pg_create_event_trigger", "args": {"table": "posts", "name": "post_published", "update": {"columns": ["published"]}, "delete": {"columns": "*"}, "webhook": "https://hooks.example.com/published", "headers": [{"name": "X-Region", "value_from_env": "APP_REGION"}], "retry_conf": {"num_retries": 3, "interval_sec": 30}}}));
        hasura.meta(json!({"type": "create_query_collection", "args": {"name": "app-queries", "comment": "the app's", "definition": {"queries": [{"name": "posts", "query": "query posts { posts { id title } }"}]}}}));
        hasura.meta(json!({"type": "create_rest_endpoint", "args": {"name": "posts", "url": "posts", "methods": ["GET"], "definition": {"query": {"collection_name": "app-queries", "query_name": "posts"}}, "comment": "the feed"}}));
        hasura.meta(json!({"type": "add_collection_to_allowlist", "args": {"collection": "app-queries", "scope": {"global": false, "roles": ["user"]}}}));
        let remote = hasura
            .rt
            .block_on(hasura_emulator::TinyRemote::start())
            .expect("remote GraphQL server");
        hasura.meta(json!({"type": "add_remote_schema", "args": {"name": "payments", "comment": "invoices", "definition": {"url": remote.url(), "timeout_seconds": 20, "headers": [{"name": "X-Region", "value_from_env": "APP_REGION"}], "customization": {"root_fields_namespace": "payments"}}}}));
        hasura.meta(json!({"type": "add_remote_schema_permissions", "args": {"remote_schema": "payments", "role": "user", "definition": {"schema": "type Query { hello: String }"}}}));
        hasura.meta(json!({"type": "set_custom_types", "args": {"objects": [{"name": "LoginResponse", "fields": [{"name": "accessToken", "type": "String!"}]}], "scalars": [{"name": "Email"}]}}));
        hasura.meta(json!({"type": "create_action", "args": {"name": "login", "definition": {"handler": "{{APP_REGION}}/login", "output_type": "LoginResponse", "arguments": [{"name": "email", "type": "Email"}], "timeout": 10}, "comment": "logs in"}}));
        hasura.meta(json!({"type": "create_action_permission", "args": {"action": "login", "role": "user"}}));
        hasura.meta(json!({"type": "create_cron_trigger", "args": {"name": "nightly-report", "webhook": "https://jobs.example.com/report", "schedule": "0 2 * * *", "include_in_metadata": true, "payload": {"scope": "all"}, "headers": [{"name": "Authorization", "value_from_env": "APP_REGION"}], "retry_conf": {"num_retries": 2}, "comment": "nightly"}}));
        let (s, t) = clerk.api(
            Method::POST,
            "/jwt_templates",
            Some(json!({"name": "hasura", "claims": {"https://hasura.io/jwt/claims": {"x-hasura-user-id": "{{user.id}}"}}, "lifetime": 120})),
        );
        assert_eq!(s, 200, "{t}");
        let (s, r) = clerk.api(
            Method::POST,
            "/redirect_urls",
            Some(json!({"url": "https://app.example.com/cb"})),
        );
        assert_eq!(s, 200, "{r}");
        for (list, identifier) in [
            ("allowlist", "alice@example.com"),
            ("blocklist", "*@spam.example"),
        ] {
            let (s, i) = clerk.api(
                Method::POST,
                &format!("/{list}_identifiers"),
                Some(json!({ "identifier": identifier })),
            );
            assert_eq!(s, 200, "{i}");
        }

        // Organizations, their roles and permissions, satellite domains
        // (imported by natural key).
        clerk.enable_organizations();
        for (path, body) in [
            (
                "/organization_permissions",
                json!({"key": "org:posts:edit", "name": "Edit posts"}),
            ),
            (
                "/organizations",
                json!({"name": "Acme", "slug": "acme", "created_by": "user_alice", "private_metadata": {"crm": 1}}),
            ),
            (
                "/domains",
                json!({"name": "docs.example.com", "is_satellite": true}),
            ),
        ] {
            let (s, b) = clerk.api(Method::POST, path, Some(body));
            assert_eq!(s, 200, "{b}");
        }
        let (_, perms) = clerk.api(Method::GET, "/organization_permissions?limit=500", None);
        let ids: Vec<&str> = perms["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["key"] == "org:posts:edit" || p["key"] == "org:sys_memberships:read")
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        let (s, b) = clerk.api(
            Method::POST,
            "/organization_roles",
            Some(json!({"name": "Editor", "key": "org:editor", "description": "Edits", "permissions": ids})),
        );
        assert_eq!(s, 200, "{b}");
        let org = [
            ("clerk_organization_permission.posts_edit", "org:posts:edit"),
            ("clerk_organization_role.editor", "org:editor"),
            ("clerk_organization.acme", "acme"),
            ("clerk_domain.docs", "docs.example.com"),
        ];
        let imports = imports(t["id"].as_str().unwrap(), r["id"].as_str().unwrap(), &org);
        // Every resource type of both providers is adopted here: a new type
        // must join this scenario.
        let types: BTreeSet<String> = imports
            .iter()
            .map(|(a, _)| a.split('.').next().unwrap().to_string())
            .collect();
        let all: BTreeSet<String> = terraform_providers::hasura::HasuraProvider
            .resources()
            .iter()
            .chain(terraform_providers::clerk::ClerkProvider.resources().iter())
            .map(|r| r.type_name().to_string())
            .collect();
        assert_eq!(types, all, "every resource type is adopted by this test");

        let mut wd = hasura.workdir(tf);
        wd.env("CLERK_SECRET_KEY", clerk.emu().secret_key())
            .env("CLERK_API_URL", &clerk.emu().api_url());
        let blocks: String = imports
            .iter()
            .map(|(to, id)| format!("import {{\n  to = {to}\n  id = {id:?}\n}}\n"))
            .collect();
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"hasura\" {{}}\nprovider \"clerk\" {{}}\n\n{blocks}",
                required_providers()
            ),
        );
        let gen = wd.tf(&["plan", "-input=false", "-generate-config-out=generated.tf"]);
        let generated = std::fs::read_to_string(wd.path().join("generated.tf"))
            .unwrap_or_else(|e| panic!("no generated.tf ({e}):\n{}", gen.combined()));
        for (to, _) in &imports {
            let (ty, name) = to.split_once('.').unwrap();
            assert!(
                generated.contains(&format!("resource \"{ty}\" \"{name}\"")),
                "{to} generated:\n{generated}"
            );
        }
        // JSON attributes come out as jsonencode(...), not escaped strings.
        assert!(generated.contains("jsonencode("), "{generated}");
        // Secrets Terraform cannot see are the only thing left to fill in:
        // the generated nulls are refused (tests/null_values.rs), never applied.
        let filled: String = generated
            .lines()
            .map(|l| {
                let t = l.trim_start();
                if t.starts_with("value ") && t.contains("null") {
                    format!("  value = {JWT_SECRET:?}\n")
                } else if t.starts_with("vars ") && t.contains("null") {
                    "  vars = { APP_MODE = \"production\", APP_REGION = \"eu\" }\n".to_string()
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        wd.write("generated.tf", &filled);

        hasura.reset_counters();
        clerk.emu().control.reset_counters();
        let applied = wd.apply();
        assert!(
            applied.stdout.contains(&format!(
                "{} imported, 0 added, 0 changed, 0 destroyed",
                imports.len()
            )),
            "the apply only imports:\n{}\n--- generated.tf ---\n{filled}",
            applied.stdout
        );
        // Nothing recreated or rewritten: no metadata write, no env write,
        // the row is still there, the Clerk objects keep their ids.
        hasura.assert_nothing_written("while adopting");
        assert_eq!(hasura.count_rows("posts"), 1, "posts was not recreated");
        assert_eq!(clerk.templates()[0]["id"], t["id"]);
        let (_, listed) = clerk.api(Method::GET, "/redirect_urls", None);
        assert_eq!(listed[0]["id"], r["id"]);
        support::assert_no_changes(&wd, &format!("after adopting with:\n{filled}"));
    });
}
