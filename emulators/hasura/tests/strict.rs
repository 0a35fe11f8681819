//! The emulator refuses what graphql-engine refuses, with its code, path
//! and message, and accepts what it accepts: table configuration names,
//! `validate_input`, read-only mode, and `resource_version` conflicts.

mod support;

use serde_json::{json, Value};

use support::Emu;

async fn setup(read_only: bool) -> Emu {
    Emu::start_with(|cfg| cfg.read_only = read_only).await
}

impl Emu {
    async fn sql_ro(&self, sql: &str, read_only: bool) -> (u16, Value) {
        self.query(json!({"type": "run_sql", "args": {"sql": sql, "read_only": read_only}}))
            .await
    }

    async fn track(&self, configuration: Value) -> (u16, Value) {
        self.meta_raw(json!({"type": "pg_track_table", "args": {
            "source": "default", "table": {"schema": "public", "name": "items"},
            "configuration": configuration}}))
            .await
    }

    async fn untrack(&self) {
        let (s, v) = self
            .meta_raw(json!({"type": "pg_untrack_table", "args": {"table": "items"}}))
            .await;
        assert_eq!(s, 200, "{v}");
    }

    async fn table(&self) -> Value {
        self.emu.metadata().await["sources"][0]["tables"][0].clone()
    }
}

fn parse_failed(v: &Value, command: &str, path: &str, message: &str) {
    assert_eq!(v["code"], "parse-failed", "{v}");
    assert_eq!(v["path"], path, "{v}");
    let error = v["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(&format!("Error when parsing command {command}.")),
        "{v}"
    );
    assert!(
        error.ends_with(&format!("Internal error message: {message}")),
        "{v}"
    );
}

#[tokio::test]
async fn table_configuration_names_are_checked_as_graphql_engine_does() {
    let h = setup(false).await;
    let (s, v) = h
        .sql_ro(
            "CREATE TABLE public.items (id int PRIMARY KEY, title text)",
            false,
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // Every root field `TableCustomRootFields` reads, `update_many` included;
    // an unknown key is ignored (Hasura/Table/Cache.hs, FromJSON).
    let (s, v) = h
        .track(json!({"custom_root_fields": {"update_many": "updateItemsMany", "select_stream": "itemsStream", "not_a_root_field": "x"}}))
        .await;
    assert_eq!(s, 200, "{v}");
    let roots = h.table().await["configuration"]["custom_root_fields"].clone();
    assert_eq!(
        roots,
        json!({"select_stream": "itemsStream", "update_many": "updateItemsMany"})
    );
    h.untrack().await;

    // A custom name that is not a GraphQL name: `parseName` refuses it.
    let (s, v) = h.track(json!({"custom_name": "my items"})).await;
    assert_eq!(s, 400, "{v}");
    parse_failed(
        &v,
        "pg_track_table",
        "$.args.configuration.custom_name",
        "my items is not valid GraphQL name",
    );
    let (s, v) = h
        .track(json!({"column_config": {"title": {"custom_name": "1title"}}}))
        .await;
    assert_eq!(s, 400, "{v}");
    parse_failed(
        &v,
        "pg_track_table",
        "$.args.configuration.column_config.title.custom_name",
        "1title is not valid GraphQL name",
    );
    let (s, v) = h
        .track(json!({"custom_root_fields": {"select": {"name": "all-items"}}}))
        .await;
    assert_eq!(s, 400, "{v}");
    parse_failed(
        &v,
        "pg_track_table",
        "$.args.configuration.custom_root_fields.select.name",
        "all-items is not valid GraphQL name",
    );
    let (s, v) = h
        .track(json!({"custom_root_fields": {"select": "same", "insert": "same"}}))
        .await;
    assert_eq!(s, 400, "{v}");
    parse_failed(
        &v,
        "pg_track_table",
        "$.args.configuration.custom_root_fields",
        "the following custom root field names are duplicated: same",
    );

    // A bad name given as a plain string is no custom name (`G.mkName`).
    let (s, v) = h
        .track(json!({"custom_root_fields": {"select": "all items"}, "custom_name": "things"}))
        .await;
    assert_eq!(s, 200, "{v}");
    let cfg = h.table().await["configuration"].clone();
    assert_eq!(cfg["custom_root_fields"], json!({}), "{cfg}");
    h.emu.stop().await;
}

#[tokio::test]
async fn validate_input_is_stored_with_its_defaults() {
    let h = setup(false).await;
    h.sql_ro("CREATE TABLE public.items (id int PRIMARY KEY)", false)
        .await;
    let (s, v) = h.track(json!({})).await;
    assert_eq!(s, 200, "{v}");
    let create = |vi: Value| {
        json!({"type": "pg_create_insert_permission", "args": {"table": "items", "role": "w",
            "permission": {"check": {}, "validate_input": vi}}})
    };
    let (s, v) = h
        .meta_raw(create(
            json!({"type": "http", "definition": {"url": "http://x/v", "unknown": 1}}),
        ))
        .await;
    assert_eq!(s, 200, "{v}");
    let perm = h.table().await["insert_permissions"][0]["permission"].clone();
    assert_eq!(
        perm["validate_input"],
        json!({"type": "http", "definition": {"url": "http://x/v", "headers": [], "timeout": 10, "forward_client_headers": false}}),
        "{perm}"
    );
    // A role is any non-empty text (`NonEmptyText`), not a GraphQL name.
    let (s, v) = h
        .meta_raw(json!({"type": "pg_create_select_permission", "args": {"table": "items", "role": "team-lead.eu",
            "permission": {"columns": "*", "filter": {}}}}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h
        .meta_raw(
            json!({"type": "pg_create_select_permission", "args": {"table": "items", "role": "",
            "permission": {"columns": "*", "filter": {}}}}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    parse_failed(
        &v,
        "pg_create_select_permission",
        "$.args.role",
        "empty string not allowed",
    );
    // graphql-engine's EnableAggregateRootField test: `select_aggregate` as a
    // root field needs `allow_aggregations`.
    let aggregate = |allow: bool| {
        json!({"type": "pg_create_select_permission", "args": {"table": "items", "role": "counter",
            "permission": {"columns": "*", "filter": {}, "allow_aggregations": allow,
                "query_root_fields": ["select", "select_aggregate"]}}})
    };
    let (s, v) = h.meta_raw(aggregate(false)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("invalid-configuration")),
        "{v}"
    );
    assert!(
        v["error"].as_str().unwrap_or_default().contains(
            "The \"select_aggregate\" root field can only be enabled in the query_root_fields"
        ),
        "{v}"
    );
    let (s, v) = h.meta_raw(aggregate(true)).await;
    assert_eq!(s, 200, "{v}");

    let (s, v) = h
        .meta_raw(create(
            json!({"type": "grpc", "definition": {"url": "http://x/v"}}),
        ))
        .await;
    assert_eq!(s, 400, "{v}");
    parse_failed(
        &v,
        "pg_create_insert_permission",
        "$.args.permission.validate_input",
        "expecting only 'http' for 'type' but got grpc",
    );
    h.emu.stop().await;
}

#[tokio::test]
async fn read_only_mode_refuses_writes_with_hasuras_errors() {
    let h = setup(true).await;
    // Reads still work.
    let (s, v) = h
        .meta_raw(json!({"type": "export_metadata", "version": 2, "args": {}}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h.sql_ro("SELECT 1 AS one", true).await;
    assert_eq!(s, 200, "{v}");

    // Hasura/Server/API/V2Query.hs: run_sql that is not read_only.
    let (s, v) = h.sql_ro("CREATE TABLE public.items (id int)", false).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v,
        json!({"path": "$", "error": "Cannot run write queries when read-only mode is enabled", "code": "not-supported"})
    );
    // Hasura/Server/API/Metadata.hs: any metadata write, bulk included.
    let (s, v) = h
        .meta_raw(json!({"type": "bulk", "args": [{"type": "clear_metadata", "args": {}}]}))
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v,
        json!({"path": "$", "error": "metadata cannot be modified in read-only mode", "code": "not-supported"})
    );
    h.emu.stop().await;
}

#[tokio::test]
async fn a_write_that_loses_a_race_is_a_409_conflict() {
    let h = setup(false).await;
    let rv = h.emu.resource_version().await;
    h.emu.conflict_next(1);
    let (s, v) = h
        .meta_raw(json!({"type": "clear_metadata", "args": {}}))
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(
        v,
        json!({"path": "$", "error": format!("metadata resource version referenced ({rv}) did not match current version"), "code": "conflict"})
    );
    assert_eq!(h.emu.resource_version().await, rv, "nothing was stored");
    let (s, v) = h
        .meta_raw(json!({"type": "clear_metadata", "args": {}}))
        .await;
    assert_eq!(s, 200, "{v}");
    h.emu.stop().await;
}

#[tokio::test]
async fn untracking_a_table_others_depend_on_needs_cascade() {
    let h = setup(false).await;
    let (s, v) = h
        .sql_ro(
            "CREATE TABLE public.author (id int PRIMARY KEY);
             CREATE TABLE public.article (id int PRIMARY KEY, author_id int REFERENCES public.author(id))",
            false,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for t in ["author", "article"] {
        let (s, v) = h
            .meta_raw(json!({"type": "pg_track_table", "args": {"table": t}}))
            .await;
        assert_eq!(s, 200, "{v}");
    }
    // A permission of article with an `_exists` on author, and a
    // relationship of author to article.
    let (s, v) = h
        .meta_raw(json!({"type": "pg_create_select_permission", "args": {"table": "article", "role": "user",
            "permission": {"columns": "*", "filter": {"_exists": {"_table": {"schema": "public", "name": "author"}, "_where": {"id": {"_eq": 1}}}}}}}))
        .await;
    assert_eq!(s, 200, "{v}");
    let mut md = h.emu.metadata().await;
    for t in md["sources"][0]["tables"].as_array_mut().unwrap() {
        if t["table"]["name"] == "author" {
            t["array_relationships"] = json!([{"name": "articles", "using": {"foreign_key_constraint_on": {"column": "author_id", "table": {"schema": "public", "name": "article"}}}}]);
        }
    }
    let (s, v) = h
        .meta_raw(json!({"type": "replace_metadata", "args": md}))
        .await;
    assert_eq!(s, 200, "{v}");

    let untrack = |t: &str, cascade: bool| json!({"type": "pg_untrack_table", "args": {"table": t, "cascade": cascade}});
    let (s, v) = h.meta_raw(untrack("author", false)).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v,
        json!({"path": "$.args", "error": "cannot drop due to the following dependent objects : permission article.user.select in source \"default\"", "code": "dependency-error"})
    );
    let (s, v) = h.meta_raw(untrack("article", false)).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["error"],
        "cannot drop due to the following dependent objects : relationship author.articles in source \"default\""
    );

    // With cascade the dependents go too.
    let (s, v) = h.meta_raw(untrack("author", true)).await;
    assert_eq!(s, 200, "{v}");
    let md = h.emu.metadata().await;
    let tables = md["sources"][0]["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 1, "{md}");
    assert!(tables[0].get("select_permissions").is_none(), "{md}");
    h.emu.stop().await;
}

#[tokio::test]
async fn a_column_a_preset_uses_cannot_change_type() {
    let h = setup(false).await;
    h.sql_ro(
        "CREATE TABLE public.items (id int PRIMARY KEY, owner text, title text)",
        false,
    )
    .await;
    let (s, v) = h.track(json!({})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h
        .meta_raw(json!({"type": "pg_create_insert_permission", "args": {"table": "items", "role": "user",
            "permission": {"check": {}, "columns": ["title"], "set": {"owner": "X-Hasura-User-Id"}}}}))
        .await;
    assert_eq!(s, 200, "{v}");

    let (s, v) = h
        .sql_ro(
            "ALTER TABLE public.items ALTER COLUMN owner TYPE varchar(20)",
            false,
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v,
        json!({"path": "$.args", "error": "cannot change type of column \"owner\" in table \"items\" because of the following dependencies : permission items.user.insert in source \"default\"", "code": "dependency-error"})
    );
    // Rolled back: still text. A column no preset uses may change.
    let (_, v) = h
        .sql_ro("SELECT data_type FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'owner'", true)
        .await;
    assert_eq!(v["result"][1][0], "text", "{v}");
    let (s, v) = h
        .sql_ro(
            "ALTER TABLE public.items ALTER COLUMN title TYPE varchar(20)",
            false,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    h.emu.stop().await;
}
