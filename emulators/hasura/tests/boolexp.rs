//! Permission boolean expressions: stored in graphql-engine's re-serialised form and
//! refused where graphql-engine refuses them, with its codes and messages.

mod support;

use serde_json::{json, Value};

use support::Emu;

async fn setup() -> Emu {
    let h = Emu::start().await;
    let (s, v) = h
        .sql("CREATE TABLE public.author (id serial PRIMARY KEY, name text NOT NULL, owner_id text, doc jsonb, raw json);")
        .await;
    assert_eq!(s, 200, "{v}");
    h.ok("pg_track_table", json!({"table": "author"})).await;
    h
}

impl Emu {
    async fn create_select(&self, filter: Value) -> (u16, Value) {
        self.meta(
            "pg_create_select_permission",
            json!({"table": "author", "role": "user", "permission": {"columns": ["id"], "filter": filter}}),
        )
        .await
    }

    async fn exported_filter(&self) -> Value {
        self.export().await["sources"][0]["tables"][0]["select_permissions"][0]["permission"]
            ["filter"]
            .clone()
    }
}

#[tokio::test]
async fn filters_come_back_as_graphql_engine_writes_them() {
    let h = setup().await;
    let (s, v) = h
        .create_select(json!({
            "$or": [{"id": {"$eq": 1}}, {"$not": {"owner_id": {"_is_null": true}}}],
            "$and": [{"name": {"_ne": "x"}}],
            "$exists": {"_table": "author", "_where": {"id": {"_gt": 0}}},
            "owner_id": "X-Hasura-User-Id"
        }))
        .await;
    assert_eq!((s, v), (200, json!({"message": "success"})));
    // Connectives with `_`, `_table` as {schema, name}; a field's value verbatim (`$eq`).
    assert_eq!(
        h.exported_filter().await,
        json!({
            "_or": [{"id": {"$eq": 1}}, {"_not": {"owner_id": {"_is_null": true}}}],
            "_and": [{"name": {"_ne": "x"}}],
            "_exists": {"_table": {"schema": "public", "name": "author"}, "_where": {"id": {"_gt": 0}}},
            "owner_id": "X-Hasura-User-Id"
        })
    );
}

#[tokio::test]
async fn repeated_connectives_become_an_and() {
    let h = setup().await;
    let (s, _) = h
        .create_select(json!({"$or": [{"id": {"_eq": 1}}], "_or": [{"id": {"_eq": 2}}]}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        h.exported_filter().await,
        json!({"_and": [{"_or": [{"id": {"_eq": 1}}]}, {"_or": [{"id": {"_eq": 2}}]}]})
    );
}

#[tokio::test]
async fn every_operator_spelling_hasura_accepts_is_accepted() {
    let h = setup().await;
    let (s, v) = h
        .create_select(json!({
            "id": {"_ne": 1, "$neq": 2, "_cne": "id", "$cneq": "id", "$in": [1], "_nin": [2]},
            "name": {"$like": "a%", "_niregex": "b", "_is_null": false},
            "doc": {"$contains": {}, "_has_key": "k"}
        }))
        .await;
    assert_eq!((s, v), (200, json!({"message": "success"})));
}

#[tokio::test]
async fn unknown_operators_and_fields_are_refused_as_graphql_engine_does() {
    let h = setup().await;
    for (filter, problem) in [
        (json!({"id": {"_eqq": 1}}), "Unknown operator: _eqq"),
        (json!({"_or": [{"name": {"$likee": "a"}}]}), "Unknown operator: $likee"),
        (json!({"$not": {"ghost": {"_eq": 1}}}), "\"ghost\" does not exist"),
        // `_exists` names a tracked table; its `_where` is on that table.
        (json!({"$exists": {"_table": "nope", "_where": {}}}), "table \"nope\" does not exist"),
        (
            json!({"_exists": {"_table": "author", "_where": {"ghost": {"_eq": 1}}}}),
            "\"ghost\" does not exist",
        ),
        // Operators against the column's type (`guardType`, `validateRhsCol`, ...).
        (
            json!({"id": {"_like": "1%"}}),
            " is of type \"integer\"; this operator works only on columns of type \"varchar\", \"text\", \"citext\", \"bpchar\"",
        ),
        (
            json!({"name": {"$has_key": "k"}}),
            " is of type \"text\"; this operator works only on columns of type \"jsonb\"",
        ),
        (
            json!({"owner_id": {"_contains": "k"}}),
            " is of type \"text\"; this operator works only on columns of type an array or JSONB",
        ),
        (json!({"raw": {"_is_null": true}}), "JSON column can not be part of boolean expression"),
        (
            json!({"id": {"_ceq": "name"}}),
            "incompatible column types: \"id\" has type \"integer\", but \"name\" has type \"text\"",
        ),
        (json!({"id": {"_cne": "nope"}}), "column \"nope\" does not exist"),
        (
            json!({"name": {"_cast": {"geometry": {"_eq": "x"}}}}),
            "cannot cast column of type \"text\" to type \"geometry\"",
        ),
    ] {
        let (s, v) = h.create_select(filter.clone()).await;
        assert_eq!(s, 400, "{filter}: {v}");
        assert_eq!(v["code"], "invalid-configuration", "{v}");
        assert_eq!(v["path"], "$.args");
        assert_eq!(
            v["error"],
            format!("Inconsistent object: in table \"author\": in permission for role \"user\": {problem}")
        );
        assert_eq!(v["internal"][0]["type"], "select_permission");
    }
    // Nothing was stored.
    assert_eq!(h.exported_filter().await, Value::Null);
}

#[tokio::test]
async fn malformed_connectives_are_parse_failures() {
    let h = setup().await;
    for (filter, path, error) in [
        (
            json!({"_or": {"id": {"_eq": 1}}}),
            "$.args.permission.filter._or",
            "parsing [a] failed, expected Array, but encountered Object",
        ),
        (
            json!({"$not": [1]}),
            "$.args.permission.filter.$not",
            "parsing boolean expression failed, expected Object, but encountered Array",
        ),
        (
            json!({"_exists": {"_table": "author"}}),
            "$.args.permission.filter._exists",
            "key \"_where\" not found",
        ),
    ] {
        let (s, v) = h.create_select(filter).await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(v["code"], "parse-failed", "{v}");
        assert_eq!(v["path"], path, "{v}");
        let text = v["error"].as_str().unwrap_or_default();
        assert!(
            text.starts_with("Error when parsing command pg_create_select_permission.")
                && text.ends_with(&format!("Internal error message: {error}")),
            "{v}"
        );
    }
}
