//! Actions and custom types answer as graphql-engine does (`Hasura/RQL/DDL/Action.hs`,
//! `Hasura/RQL/DDL/CustomTypes.hs`, export shape of `Metadata/Serialization.hs`), and an
//! action field of `/v1/graphql` reaches its handler with Hasura's payload
//! (`Hasura/GraphQL/Execute/Action.hs`).

mod support;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use support::Emu as Harness;

fn types() -> Value {
    json!({
        "objects": [{"name": "LoginResponse", "fields": [
            {"name": "accessToken", "type": "String!"},
            {"name": "userId", "type": "Int"}
        ]}],
        "input_objects": [{"name": "Creds", "fields": [{"name": "username", "type": "String!"}]}],
        "scalars": [{"name": "Email"}]
    })
}

fn login(handler: &str) -> Value {
    json!({"name": "login", "definition": {
        "handler": handler, "output_type": "LoginResponse",
        "arguments": [{"name": "username", "type": "String!"}, {"name": "email", "type": "Email"}],
        "forward_client_headers": true,
        "headers": [{"name": "X-Secret", "value": "s3cret"}]
    }})
}

#[tokio::test]
async fn metadata_commands_are_refused_and_stored_as_hasura_does() {
    let h = Harness::start().await;
    // Custom types: duplicate names and unknown field types are constraint violations.
    let (s, v) = h
        .meta("set_custom_types", json!({"scalars": [{"name": "A"}], "enums": [{"name": "A", "values": [{"value": "X"}]}]}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("constraint-violation")),
        "{v}"
    );
    assert_eq!(
        v["error"],
        "validation for the given custom types failed because duplicate type names: \"A\""
    );
    let (s, v) = h
        .meta(
            "set_custom_types",
            json!({"objects": [{"name": "O", "fields": [{"name": "f", "type": "Nope"}]}]}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("constraint-violation")),
        "{v}"
    );
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("the type \"Nope\" for field \"f\""),
        "{v}"
    );

    // An action needs its argument types (checked first), its output object type, and
    // its handler's env vars.
    let (_, v) = h
        .meta("create_action", login("https://h.example.com/login"))
        .await;
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("the type: \"Email\" is not defined"),
        "{v}"
    );
    let mut no_args = login("https://h.example.com/login");
    no_args["definition"]
        .as_object_mut()
        .unwrap()
        .remove("arguments");
    let (s, v) = h.meta("create_action", no_args).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("invalid-configuration")),
        "{v}"
    );
    assert_eq!(v["error"], "Inconsistent object: the type: \"LoginResponse\" is not an object type defined in custom types");
    h.ok("set_custom_types", types()).await;
    let (s, v) = h.meta("create_action", login("{{NOPE}}/login")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("invalid-configuration")),
        "{v}"
    );
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("Value for environment variables not found: NOPE"),
        "{v}"
    );
    let mut bad_arg = login("https://h.example.com/login");
    bad_arg["definition"]["arguments"] = json!([{"name": "c", "type": "LoginResponse"}]);
    let (_, v) = h.meta("create_action", bad_arg).await;
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("is not a scalar/enum/input_object"),
        "{v}"
    );
    let mut bad_type = login("https://h.example.com/login");
    bad_type["definition"]["type"] = json!("subscription");
    let (s, v) = h.meta("create_action", bad_type).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("parse-failed")), "{v}");

    h.ok("create_action", login("https://h.example.com/login"))
        .await;
    let (s, v) = h
        .meta("create_action", login("https://h.example.com/login"))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("already-exists")),
        "{v}"
    );
    assert_eq!(v["error"], "action with name \"login\" already exists");
    let mut other = login("https://h.example.com/x");
    other["name"] = json!("other");
    let (s, v) = h.meta("update_action", other).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");
    assert_eq!(v["error"], "action with name \"other\" does not exist");

    // Permissions.
    h.ok(
        "create_action_permission",
        json!({"action": "login", "role": "user"}),
    )
    .await;
    let (s, v) = h
        .meta(
            "create_action_permission",
            json!({"action": "login", "role": "user"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("already-exists")),
        "{v}"
    );
    assert_eq!(
        v["error"],
        "permission for role \"user\" is already defined on \"login\""
    );
    let (s, v) = h
        .meta(
            "drop_action_permission",
            json!({"action": "login", "role": "nobody"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");
    assert_eq!(
        v["error"],
        "permission for role: \"nobody\" is not defined on \"login\""
    );

    // Export shape: defaults left out, permissions kept by update_action.
    let mut updated = login("https://h.example.com/v2/login");
    updated["definition"]["timeout"] = json!(10);
    h.ok("update_action", updated).await;
    let x = h.export().await;
    assert_eq!(
        x["actions"],
        json!([{"name": "login", "definition": {
            "handler": "https://h.example.com/v2/login", "output_type": "LoginResponse",
            "forward_client_headers": true,
            "headers": [{"name": "X-Secret", "value": "s3cret"}],
            "arguments": [{"name": "username", "type": "String!"}, {"name": "email", "type": "Email"}],
            "type": "mutation", "kind": "synchronous", "timeout": 10
        }, "permissions": [{"role": "user"}]}])
    );
    assert_eq!(x["custom_types"]["scalars"], json!([{"name": "Email"}]));
    assert!(x["custom_types"].get("enums").is_none(), "{x}");

    // A type still used by an action cannot go.
    let (s, v) = h
        .meta("set_custom_types", json!({"scalars": [{"name": "Email"}]}))
        .await;
    assert_eq!((s, v["code"].as_str()), (400, Some("unexpected")), "{v}");
    assert_eq!(
        v["error"],
        "cannot continue due to new inconsistent metadata"
    );

    h.ok("drop_action", json!({"name": "login", "clear_data": true}))
        .await;
    let (s, v) = h.meta("drop_action", json!({"name": "login"})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not-exists")), "{v}");
    h.ok("set_custom_types", json!({})).await;
    assert!(h.export().await.get("custom_types").is_none());
}

type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

/// A handler answering by the username: `alice` logs in, `bob` is refused
/// (400), `extra` answers a field the type lacks.
async fn handler(seen: Seen) -> String {
    let app = Router::new().route(
        "/login",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push((headers, body.clone()));
                match body["input"]["username"].as_str() {
                    Some("alice") => (
                        StatusCode::OK,
                        Json(json!({"accessToken": "tok-1", "userId": 7})),
                    ),
                    Some("bob") => (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"message": "wrong password", "code": "bad-login"})),
                    ),
                    _ => (
                        StatusCode::OK,
                        Json(json!({"accessToken": "t", "surprise": 1})),
                    ),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn an_action_field_calls_its_handler_with_the_session() {
    let h = Harness::start().await;
    let seen: Seen = Arc::default();
    let url = handler(seen.clone()).await;
    h.set_env("ACTIONS_BASE_URL", &url).await;
    h.ok("set_custom_types", types()).await;
    h.ok("create_action", login("{{ACTIONS_BASE_URL}}/login"))
        .await;
    let q = "mutation($u: String!) { login(username: $u) { token: accessToken __typename } }";
    let user = [
        ("x-hasura-role", "user"),
        ("x-hasura-user-id", "42"),
        ("x-client", "c1"),
    ];

    // Without an action permission the role does not see the field.
    let v = h.gql_admin(&user, q, json!({"u": "alice"})).await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "validation-failed",
        "{v}"
    );
    assert!(seen.lock().unwrap().is_empty());

    h.ok(
        "create_action_permission",
        json!({"action": "login", "role": "user"}),
    )
    .await;
    let v = h.gql_admin(&user, q, json!({"u": "alice"})).await;
    assert_eq!(
        v,
        json!({"data": {"login": {"token": "tok-1", "__typename": "LoginResponse"}}})
    );
    let (headers, body) = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(body["action"], json!({"name": "login"}));
    assert_eq!(body["input"], json!({"username": "alice"}));
    assert_eq!(body["session_variables"]["x-hasura-role"], "user");
    assert_eq!(body["session_variables"]["x-hasura-user-id"], "42");
    assert_eq!(body["request_query"], q);
    assert_eq!(headers["x-secret"], "s3cret");
    assert_eq!(headers["x-client"], "c1", "client headers are forwarded");
    assert!(
        headers.get("x-hasura-user-id").is_none(),
        "session variables are not forwarded as headers"
    );

    // A 4xx answer is the field's error, with the handler's message and code.
    let v = h.gql_admin(&user, q, json!({"u": "bob"})).await;
    assert_eq!(v["errors"][0]["message"], "wrong password", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["code"], "bad-login", "{v}");
    // An answer that does not fit the output type.
    let v = h.gql_admin(&user, q, json!({"u": "eve"})).await;
    assert_eq!(
        v["errors"][0]["message"], "unexpected fields in webhook response: surprise",
        "{v}"
    );
    // Arguments are checked before the call.
    let before = seen.lock().unwrap().len();
    let v = h
        .gql_admin(&user, "mutation { login { accessToken } }", json!({}))
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "validation-failed",
        "{v}"
    );
    let v = h
        .gql_admin(
            &user,
            "mutation { login(username: \"alice\") { nope } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "validation-failed",
        "{v}"
    );
    assert_eq!(seen.lock().unwrap().len(), before);
}
