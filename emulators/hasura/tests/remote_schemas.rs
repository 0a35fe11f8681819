//! Remote schemas answer as graphql-engine does: the codes and messages of
//! `Hasura/RemoteSchema/MetadataAPI/{Core,Permission}.hs`, `validateRemoteSchemaDef`
//! (`SchemaCache/Types.hs`), `execRemoteGQ` (`GraphQL/RemoteServer.hs`) and the
//! role-schema checks of `SchemaCache/Permission.hs`; the export shape of
//! `remoteSchemasToOrdJSONList`; and `/v1/graphql` forwarding a remote root field to the
//! server with the configured and session headers, limited by the role's permission.

mod support;

use hasura_emulator::TinyRemote;
use serde_json::{json, Value};

use support::{Emu, With};

/// The emulator and the remote GraphQL server its schemas point at (`h.extra`).
type Harness = With<TinyRemote>;

impl Harness {
    async fn start() -> Harness {
        With {
            base: Emu::start().await,
            extra: TinyRemote::start().await.expect("remote server"),
        }
    }

    async fn refused(&self, typ: &str, args: Value) -> (String, String) {
        let (s, v) = self.meta(typ, args).await;
        assert_eq!(s, 400, "{v}");
        (
            v["code"].as_str().unwrap_or_default().to_string(),
            v["error"].as_str().unwrap_or_default().to_string(),
        )
    }

    fn schema(&self, name: &str) -> Value {
        json!({"name": name, "definition": {"url": self.extra.url(), "timeout_seconds": 10}})
    }
}

#[tokio::test]
async fn remote_schemas_are_refused_and_stored_as_hasura_does() {
    let h = Harness::start().await;
    let mut def = h.schema("pay");
    def["definition"]["headers"] = json!([{"name": "X-Api-Key", "value": "k1"}]);
    def["definition"]["forward_client_headers"] = json!(false);
    def["comment"] = json!("payments");
    let (s, v) = h.meta("add_remote_schema", def.clone()).await;
    assert_eq!(s, 200, "{v}");
    // Introspected once, as the admin.
    assert_eq!(h.extra.seen().len(), 1);
    assert_eq!(h.extra.seen()[0].0["x-api-key"], "k1");

    // The export: `forward_client_headers` only when true, the rest as given.
    assert_eq!(
        h.export().await["remote_schemas"],
        json!([{"name": "pay", "definition": {"url": h.extra.url(), "timeout_seconds": 10, "headers": [{"name": "X-Api-Key", "value": "k1"}]}, "comment": "payments"}])
    );

    assert_eq!(
        h.refused("add_remote_schema", def).await,
        (
            "already-exists".into(),
            "remote schema with name \"pay\" already exists".into()
        )
    );
    let dead = json!({"name": "dead", "definition": {"url": "http://127.0.0.1:1/graphql"}});
    assert_eq!(
        h.refused("add_remote_schema", dead).await,
        (
            "remote-schema-error".into(),
            "HTTP exception occurred while sending the request to \"http://127.0.0.1:1/graphql\""
                .into()
        )
    );
    let tpl = json!({"name": "t", "definition": {"url": "{{NOPE_URL}}/graphql"}});
    assert_eq!(
        h.refused("add_remote_schema", tpl).await,
        (
            "unexpected".into(),
            "Value for environment variables not found: NOPE_URL".into()
        )
    );
    let from_env = json!({"name": "e", "definition": {"url_from_env": "NOPE_URL"}});
    assert_eq!(
        h.refused("add_remote_schema", from_env).await,
        (
            "invalid-params".into(),
            "environment variable 'NOPE_URL' not set".into()
        )
    );
    let header_env = json!({"name": "he", "definition": {"url": h.extra.url(), "headers": [{"name": "A", "value_from_env": "NOPE_KEY"}]}});
    assert_eq!(
        h.refused("add_remote_schema", header_env).await,
        (
            "not-found".into(),
            "environment variable 'NOPE_KEY' not set".into()
        )
    );
    let both = json!({"name": "b", "definition": {"url": h.extra.url(), "url_from_env": "X"}});
    assert_eq!(
        h.refused("add_remote_schema", both).await,
        (
            "invalid-params".into(),
            "both `url` and `url_from_env` can't be present".into()
        )
    );
    let neither = json!({"name": "n", "definition": {}});
    assert_eq!(
        h.refused("add_remote_schema", neither).await,
        (
            "invalid-params".into(),
            "both `url` and `url_from_env` can't be empty".into()
        )
    );
    let reserved = json!({"name": "r", "definition": {"url": h.extra.url(), "customization": {"field_names": [{"parent_type": "Query", "mapping": {"__typename": "t"}}]}}});
    assert_eq!(
        h.refused("add_remote_schema", reserved).await,
        (
            "invalid-params".into(),
            "attempt to customize reserved field name \"__typename\"".into()
        )
    );
    let (code, _) = h
        .refused(
            "add_remote_schema",
            json!({"name": "", "definition": {"url": h.extra.url()}}),
        )
        .await;
    assert_eq!(code, "parse-failed");

    assert_eq!(
        h.refused("update_remote_schema", h.schema("ghost")).await,
        (
            "not-exists".into(),
            "remote schema with name \"ghost\" doesn't exist".into()
        )
    );
    assert_eq!(
        h.refused("remove_remote_schema", json!({"name": "ghost"}))
            .await,
        ("not-exists".into(), "no such remote schema".into())
    );
    // Nothing refused was stored.
    assert_eq!(
        h.export().await["remote_schemas"].as_array().unwrap().len(),
        1
    );

    // Customisation is stored in Hasura's shape (`mapping` always present).
    let mut custom = h.schema("pay");
    custom["definition"]["customization"] =
        json!({"root_fields_namespace": "pay", "type_names": {"prefix": "Pay_"}});
    custom["definition"]["forward_client_headers"] = json!(true);
    let (s, v) = h.meta("update_remote_schema", custom).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        h.export().await["remote_schemas"][0]["definition"],
        json!({"url": h.extra.url(), "timeout_seconds": 10, "customization": {"root_fields_namespace": "pay", "type_names": {"prefix": "Pay_", "mapping": {}}}, "forward_client_headers": true})
    );
    let (s, v) = h.meta("remove_remote_schema", json!({"name": "pay"})).await;
    assert_eq!(s, 200, "{v}");
    assert!(h.export().await.get("remote_schemas").is_none());
    h.extra.stop().await;
}

#[tokio::test]
async fn permissions_are_checked_against_the_remote_schema() {
    let h = Harness::start().await;
    assert_eq!(h.meta("add_remote_schema", h.schema("pay")).await.0, 200);
    let perm = |role: &str, sdl: &str| json!({"remote_schema": "pay", "role": role, "definition": {"schema": sdl}});
    let hello = "type Query { hello: String }";
    assert_eq!(
        h.refused("add_remote_schema_permissions", perm("user", hello)).await,
        ("constraint-violation".into(), "remote schema permissions can only be added when remote schema permissions are enabled in the graphql-engine".into())
    );
    h.set_env("HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS", "true")
        .await;

    let (code, _) = h
        .refused(
            "add_remote_schema_permissions",
            perm("user", "type Query { hello: String"),
        )
        .await;
    assert_eq!(code, "parse-failed");
    assert_eq!(
        h.refused("add_remote_schema_permissions", perm("admin", hello))
            .await,
        (
            "constraint-violation".into(),
            "cannot define permission for admin role".into()
        )
    );
    assert_eq!(
        h.refused(
            "add_remote_schema_permissions",
            json!({"remote_schema": "ghost", "role": "user", "definition": {"schema": hello}})
        )
        .await,
        (
            "not-exists".into(),
            "remote schema \"ghost\" doesn't exist".into()
        )
    );
    assert_eq!(
        h.refused("add_remote_schema_permissions", perm("user", "type Query { hello: String wallet: Int }")).await,
        ("validation-failed".into(), "validation for the given role-based schema failed because field \"wallet\" does not exist in the \"Object\": \"Query\"".into())
    );
    assert_eq!(
        h.refused("add_remote_schema_permissions", perm("user", "type Query { hello: Int }\ntype Wallet { id: ID }")).await,
        ("validation-failed".into(), "validation for the given role-based schema failed for the following reasons:\n • expected type of \"hello\"(\"Object field\") to be String but received Int\n • \"Object\": \"Wallet\" does not exist in the upstream remote schema\n".into())
    );

    let (s, v) = h
        .meta("add_remote_schema_permissions", perm("user", "type Query {\n  hello: String\n  invoices: [Invoice!]!\n}\ntype Invoice { id: ID! }"))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = h
        .meta("add_remote_schema_permissions", perm("guest", hello))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        h.refused("add_remote_schema_permissions", perm("user", hello))
            .await,
        (
            "already-exists".into(),
            "permissions for role: \"user\" for remote schema:\"pay\" already exists".into()
        )
    );
    // Newest first; the document as the engine re-prints it.
    let perms = h.export().await["remote_schemas"][0]["permissions"].clone();
    assert_eq!(perms[0]["role"], "guest");
    assert_eq!(perms[1]["role"], "user");
    assert_eq!(
        perms[0]["definition"]["schema"],
        "type Query {\n  hello: String\n}\n"
    );

    // Updating keeps the permissions.
    let (s, v) = h.meta("update_remote_schema", h.schema("pay")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(h.export().await["remote_schemas"][0]["permissions"], perms);

    assert_eq!(
        h.refused(
            "drop_remote_schema_permissions",
            json!({"remote_schema": "pay", "role": "nobody"})
        )
        .await,
        (
            "not-exists".into(),
            "permissions for role: \"nobody\" for remote schema:\"pay\" doesn't exist".into()
        )
    );
    let (s, v) = h
        .meta(
            "drop_remote_schema_permissions",
            json!({"remote_schema": "pay", "role": "guest"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        h.export().await["remote_schemas"][0]["permissions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    h.extra.stop().await;
}

#[tokio::test]
async fn queries_are_forwarded_and_limited_by_the_role_permission() {
    let h = Harness::start().await;
    let mut def = h.schema("pay");
    def["definition"]["headers"] = json!([{"name": "X-Api-Key", "value": "k1"}]);
    def["definition"]["forward_client_headers"] = json!(true);
    assert_eq!(h.meta("add_remote_schema", def).await.0, 200);
    h.set_env("HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS", "true")
        .await;
    let perm = json!({"remote_schema": "pay", "role": "user", "definition": {"schema": "type Query { invoices: [Invoice!]! }\ntype Invoice { id: ID! amount: Int }"}});
    assert_eq!(h.meta("add_remote_schema_permissions", perm).await.0, 200);

    // The admin sees everything; the answer is the server's.
    let v = h
        .gql_admin(
            &[("x-client-token", "c1")],
            "{ hello first: invoices { id note } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        v,
        json!({"data": {"hello": "world", "first": [{"id": "1", "note": "first"}, {"id": "2", "note": "second"}]}})
    );
    let (headers, _) = h.extra.queries().pop().unwrap();
    assert_eq!(headers["x-api-key"], "k1");
    assert_eq!(headers["x-hasura-role"], "admin");
    assert_eq!(headers["x-client-token"], "c1", "forward_client_headers");
    assert!(!headers.contains_key("x-hasura-admin-secret"));

    // A role sees only its permission's schema.
    let user = [("x-hasura-role", "user"), ("x-hasura-user-id", "42")];
    let v = h
        .gql_admin(&user, "{ invoices { id amount } }", Value::Null)
        .await;
    assert_eq!(
        v["data"]["invoices"][1],
        json!({"id": "2", "amount": 25}),
        "{v}"
    );
    let (headers, _) = h.extra.queries().pop().unwrap();
    assert_eq!(headers["x-hasura-role"], "user");
    assert_eq!(headers["x-hasura-user-id"], "42");
    let v = h
        .gql_admin(&user, "{ invoices { id note } }", Value::Null)
        .await;
    assert_eq!(
        v["errors"][0],
        json!({"message": "field 'note' not found in type: 'Invoice'", "extensions": {"path": "$.selectionSet.invoices.selectionSet.note", "code": "validation-failed"}})
    );
    let v = h.gql_admin(&user, "{ secret }", Value::Null).await;
    assert_eq!(
        v["errors"][0]["message"],
        "field 'secret' not found in type: 'query_root'"
    );
    // A role without a permission has none of the remote root fields.
    let v = h
        .gql_admin(&[("x-hasura-role", "guest")], "{ hello }", Value::Null)
        .await;
    assert_eq!(
        v["errors"][0]["message"],
        "field 'hello' not found in type: 'query_root'"
    );
    let before = h.extra.queries().len();
    assert_eq!(before, 2, "refused queries never reach the server");
    h.extra.stop().await;
}
