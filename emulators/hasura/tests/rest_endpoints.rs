//! RESTified endpoints answer as graphql-engine does: `create_rest_endpoint`
//! / `drop_rest_endpoint` refusals (`Hasura/RQL/DDL/Endpoint.hs`,
//! `resolveEndpoint` and the url checks of `Hasura/RQL/DDL/Schema/Cache.hs`),
//! the export shape, and `/api/rest/<url>` (`Hasura/Server/Rest.hs`).

mod support;

use serde_json::{json, Value};

use support::Emu;

type Harness = Emu;

impl Emu {
    /// `/api/rest/<path>`: status and body.
    async fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        admin: bool,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/rest/{path}", self.emu.endpoint()));
        if admin {
            req = req.header("x-hasura-admin-secret", &self.emu.config.admin_secret);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        (resp.status().as_u16(), resp.json().await.expect("json"))
    }
}

fn endpoint(name: &str, url: &str, methods: Value, query: &str) -> Value {
    json!({"type": "create_rest_endpoint", "args": {
        "name": name, "url": url, "methods": methods,
        "definition": {"query": {"collection_name": "app", "query_name": query}},
    }})
}

async fn setup() -> Harness {
    let h = Harness::start().await;
    let (s, v) = h
        .post(
            "/v2/query",
            json!({"type": "run_sql", "args": {"sql": "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, active boolean NOT NULL DEFAULT true); INSERT INTO users VALUES (1, 'ada', true), (2, 'bob', false);"}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    h.ok_raw(json!({"type": "pg_track_table", "args": {"table": "users"}}))
        .await;
    h.ok_raw(json!({"type": "create_query_collection", "args": {"name": "app", "definition": {"queries": [
        {"name": "by_id", "query": "query by_id($id: Int!) { users(where: {id: {_eq: $id}}) { id name } }"},
        {"name": "by_name", "query": "query by_name($name: String, $active: Boolean) { users(where: {name: {_eq: $name}, active: {_eq: $active}}) { id } }"},
        {"name": "watch", "query": "subscription watch { users { id } }"},
        {"name": "two", "query": "query a { users { id } } query b { users { name } }"},
    ]}}}))
    .await;
    h
}

#[tokio::test]
async fn endpoints_are_refused_and_stored_as_graphql_engine_does() {
    let h = setup().await;
    h.ok_raw(endpoint("user", "users/:id", json!(["GET"]), "by_id"))
        .await;
    let mut other = endpoint("m", "m", json!(["GET"]), "by_id");
    other["args"]["definition"]["query"]["collection_name"] = json!("gone");
    let get = || json!(["GET"]);
    let refusals = [
        (
            endpoint("user", "other", get(), "by_id"),
            "already-exists",
            "Endpoint with name: user already exists",
        ),
        (
            endpoint("m", "m", json!(["OPTIONS"]), "by_id"),
            "parse-failed",
            "Method OPTIONS not supported.",
        ),
        (
            endpoint("m", "m", json!([]), "by_id"),
            "parse-failed",
            "parsing NonEmpty failed, unexpected empty list",
        ),
        (
            endpoint("", "m", get(), "by_id"),
            "parse-failed",
            "empty string not allowed",
        ),
        (
            endpoint("m", "m", get(), "nope"),
            "invalid-configuration",
            "Inconsistent object: in endpoint m: query with name nope does not exist in collection app",
        ),
        (
            other,
            "invalid-configuration",
            "in endpoint m: collection with name gone does not exist",
        ),
        (
            endpoint("m", "watch", get(), "watch"),
            "invalid-configuration",
            "query with name watch is a subscription",
        ),
        (
            endpoint("m", "two", get(), "two"),
            "invalid-configuration",
            "query with name two has multiple definitions.",
        ),
        (
            endpoint("m", "a/:x/:x", get(), "by_id"),
            "invalid-configuration",
            "Duplicate variables found in endpoint path: a/:x/:x",
        ),
        (
            endpoint("m", "a//b", get(), "by_id"),
            "invalid-configuration",
            "Empty segments or unnamed variables are not allowed: a//b",
        ),
        // `users/me` overlaps `users/:id` for GET; the group's first endpoint by
        // name ("me" < "user") carries the inconsistency, so it is the new one's.
        (
            endpoint("me", "users/me", json!(["GET", "POST"]), "by_name"),
            "invalid-configuration",
            "Ambiguous URL paths: users/me, users/:id",
        ),
        // Attributed to the existing endpoint: a generic refusal.
        (
            endpoint("zz", "users/me", get(), "by_name"),
            "unexpected",
            "cannot continue due to new inconsistent metadata",
        ),
    ];
    for (body, code, message) in refusals {
        h.refused_raw(body, code, message).await;
    }
    // Another method on an overlapping path is fine.
    h.ok_raw(endpoint("me", "users/me", json!(["POST"]), "by_name"))
        .await;
    let mut commented = endpoint("named", "named", json!(["GET", "POST"]), "by_name");
    commented["args"]["comment"] = json!("by name");
    h.ok_raw(commented).await;

    let x = h
        .ok_raw(json!({"type": "export_metadata", "args": {}}))
        .await;
    assert_eq!(
        x["rest_endpoints"],
        json!([
            {"name": "named", "url": "named", "methods": ["GET", "POST"], "definition": {"query": {"collection_name": "app", "query_name": "by_name"}}, "comment": "by name"},
            {"name": "user", "url": "users/:id", "methods": ["GET"], "definition": {"query": {"collection_name": "app", "query_name": "by_id"}}, "comment": null},
            {"name": "me", "url": "users/me", "methods": ["POST"], "definition": {"query": {"collection_name": "app", "query_name": "by_name"}}, "comment": null},
        ])
    );

    // Dropping what an endpoint runs leaves it inconsistent: refused
    // (`withNewInconsistentObjsCheck` in `runDropQueryFromCollection` and
    // `runDropCollection`); changing the query in one bulk with the endpoint
    // dropped and re-created around it is fine.
    h.refused_raw(
        json!({"type": "drop_query_from_collection", "args": {"collection_name": "app", "query_name": "by_name"}}),
        "unexpected",
        "cannot continue due to new inconsistent metadata",
    )
    .await;
    h.refused_raw(
        json!({"type": "drop_query_collection", "args": {"collection": "app", "cascade": true}}),
        "unexpected",
        "cannot continue due to new inconsistent metadata",
    )
    .await;
    let mut named = endpoint("named", "named", json!(["GET", "POST"]), "by_name");
    named["args"]["comment"] = json!("by name");
    h.ok_raw(json!({"type": "bulk", "args": [
        {"type": "drop_rest_endpoint", "args": {"name": "me"}},
        {"type": "drop_rest_endpoint", "args": {"name": "named"}},
        {"type": "drop_query_from_collection", "args": {"collection_name": "app", "query_name": "by_name"}},
        {"type": "add_query_to_collection", "args": {"collection_name": "app", "query_name": "by_name", "query": "query by_name($name: String) { users(where: {name: {_eq: $name}}) { id name } }"}},
        endpoint("me", "users/me", json!(["POST"]), "by_name"),
        named,
    ]}))
    .await;
    h.ok_raw(json!({"type": "drop_rest_endpoint", "args": {"name": "me"}}))
        .await;
    h.refused_raw(
        json!({"type": "drop_rest_endpoint", "args": {"name": "me"}}),
        "not-exists",
        "endpoint with name: me does not exist",
    )
    .await;
    // Drop and create of one name in one bulk: how the provider updates.
    h.ok_raw(json!({"type": "bulk", "args": [
        {"type": "drop_rest_endpoint", "args": {"name": "user"}},
        endpoint("user", "people/:id", json!(["GET"]), "by_id"),
    ]}))
    .await;
    let x = h
        .ok_raw(json!({"type": "export_metadata", "args": {}}))
        .await;
    assert_eq!(x["rest_endpoints"][1]["url"], "people/:id", "{x}");
}

#[tokio::test]
async fn rest_calls_run_the_stored_query() {
    use reqwest::Method;
    let h = setup().await;
    h.ok_raw(endpoint(
        "user",
        "users/:id",
        json!(["GET", "POST"]),
        "by_id",
    ))
    .await;
    h.ok_raw(endpoint(
        "named",
        "named",
        json!(["GET", "POST"]),
        "by_name",
    ))
    .await;

    let (s, v) = h.rest(Method::GET, "users/1", None, true).await;
    assert_eq!(
        (s, v.clone()),
        (200, json!({"data": {"users": [{"id": 1, "name": "ada"}]}})),
        "{v}"
    );
    // Query string values are typed by their variable; a bare key is `true`.
    let (s, v) = h
        .rest(Method::GET, "named?name=bob&active=false", None, true)
        .await;
    assert_eq!(
        (s, v.clone()),
        (200, json!({"data": {"users": [{"id": 2}]}})),
        "{v}"
    );
    let (s, v) = h
        .rest(Method::GET, "named?name=ada&active", None, true)
        .await;
    assert_eq!(
        (s, v.clone()),
        (200, json!({"data": {"users": [{"id": 1}]}})),
        "{v}"
    );
    // JSON body values pass as they are; url params win over the body.
    let (s, v) = h
        .rest(
            Method::POST,
            "named",
            Some(json!({"name": "bob", "active": false})),
            true,
        )
        .await;
    assert_eq!(
        (s, v.clone()),
        (200, json!({"data": {"users": [{"id": 2}]}})),
        "{v}"
    );
    let (s, v) = h
        .rest(Method::POST, "users/2", Some(json!({"id": 1})), true)
        .await;
    assert_eq!(v["data"]["users"][0]["id"], 2, "{s} {v}");

    let (s, v) = h.rest(Method::GET, "users/1?extra=1", None, true).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], "bad-request");
    assert_eq!(v["error"], "Unexpected variable extra");
    let (s, v) = h.rest(Method::DELETE, "users/1", None, true).await;
    assert_eq!(s, 405, "{v}");
    assert_eq!(v["error"], "Allowed methods: GET, POST");
    let (s, v) = h.rest(Method::GET, "nothing/here", None, true).await;
    assert_eq!(s, 404, "{v}");
    assert_eq!(v["error"], "Endpoint not found");
    // Same authentication as /v1/graphql, in the metadata API's error shape.
    let (s, v) = h.rest(Method::GET, "users/1", None, false).await;
    assert_eq!(s, 401, "{v}");
    assert_eq!(v["code"], "access-denied");
    // A GraphQL failure (here a text where an Int is needed) is a 400.
    let (s, v) = h.rest(Method::GET, "users/abc", None, true).await;
    assert_eq!(s, 400, "{v}");
    assert!(v.get("error").is_some(), "{v}");
}
