//! Query collections and the allow list answer as graphql-engine's
//! `Hasura/RQL/DDL/QueryCollection.hs` does: codes, paths and messages, the
//! cascade rule, the export shape, and the 200 answer to a duplicate entry.

mod support;

use serde_json::{json, Value};

use support::Emu as Harness;

fn create(name: &str, queries: Value) -> Value {
    json!({"type": "create_query_collection", "args": {"name": name, "definition": {"queries": queries}}})
}

#[tokio::test]
async fn collections_and_allow_list_answer_as_graphql_engine() {
    let h = Harness::start().await;
    let q = "query q { users { id } }";
    h.ok_raw(create("app", json!([{"name": "q", "query": q}])))
        .await;
    h.refused_raw(
        create("app", json!([])),
        "already-exists",
        "query collection with name \"app\" already exists",
    )
    .await;
    h.refused_raw(
        create(
            "dup",
            json!([{"name": "a", "query": q}, {"name": "a", "query": q}]),
        ),
        "not-supported",
        "found duplicate query names \"a\"",
    )
    .await;
    h.refused_raw(
        create(
            "bad",
            json!([{"name": "a", "query": "query { users { id }"}]),
        ),
        "parse-failed",
        "",
    )
    .await;
    h.refused_raw(
        json!({"type": "add_query_to_collection", "args": {"collection_name": "app", "query_name": "q", "query": q}}),
        "already-exists",
        "query with name \"q\" already exists in collection \"app\"",
    )
    .await;
    h.refused_raw(
        json!({"type": "drop_query_from_collection", "args": {"collection_name": "app", "query_name": "nope"}}),
        "not-found",
        "query with name \"nope\" not found in collection \"app\"",
    )
    .await;
    h.refused_raw(
        json!({"type": "drop_query_collection", "args": {"collection": "nope", "cascade": false}}),
        "not-exists",
        "query collection with name \"nope\" does not exist",
    )
    .await;
    h.refused_raw(
        json!({"type": "drop_query_collection", "args": {"collection": "app"}}),
        "parse-failed",
        "key \"cascade\" not found",
    )
    .await;

    // Scopes: roles forbidden with global, required and unique otherwise.
    h.refused_raw(
        json!({"type": "add_collection_to_allowlist", "args": {"collection": "app", "scope": {"global": true, "roles": ["user"]}}}),
        "parse-failed",
        "roles are not allowed when global is true",
    )
    .await;
    h.refused_raw(
        json!({"type": "add_collection_to_allowlist", "args": {"collection": "app", "scope": {"global": false, "roles": ["user", "user"]}}}),
        "parse-failed",
        "duplicate roles are not allowed",
    )
    .await;
    h.refused_raw(
        json!({"type": "update_scope_of_collection_in_allowlist", "args": {"collection": "app", "scope": {"global": true}}}),
        "not-found",
        "collection \"app\" doesn't exist in the allowlist",
    )
    .await;
    h.ok_raw(json!({"type": "add_collection_to_allowlist", "args": {"collection": "app", "scope": {"global": false, "roles": ["user"]}}}))
        .await;
    // A second add is answered 200, scope ignored (`metadataAllowlistInsert`).
    let v = h
        .ok_raw(json!({"type": "add_collection_to_allowlist", "args": {"collection": "app"}}))
        .await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("already exists in the allowlist"),
        "{v}"
    );
    let x = h.export().await;
    assert_eq!(
        x["query_collections"],
        json!([{"name": "app", "definition": {"queries": [{"name": "q", "query": q}]}}])
    );
    assert_eq!(
        x["allowlist"],
        json!([{"collection": "app", "scope": {"global": false, "roles": ["user"]}}])
    );

    // In the allow list: no drop without cascade; cascade drops the entry too.
    h.refused_raw(
        json!({"type": "drop_query_collection", "args": {"collection": "app", "cascade": false}}),
        "dependency-error",
        "is present in the allowlist; cannot proceed to drop",
    )
    .await;
    h.ok_raw(
        json!({"type": "drop_query_collection", "args": {"collection": "app", "cascade": true}}),
    )
    .await;
    let x = h.export().await;
    assert!(x.get("query_collections").is_none(), "{x}");
    assert!(x.get("allowlist").is_none(), "{x}");
}
