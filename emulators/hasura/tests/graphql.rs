//! `/v1/graphql` end to end: Clerk-emulator tokens verified against its JWKS (configured
//! through the Cloud env API), role permissions on a real PostgreSQL, and the errors
//! Hasura gives for everything that must fail.

use std::time::{SystemTime, UNIX_EPOCH};

mod support;

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use serde_json::{json, Value};

use support::{Emu, With};

const HS_KEY: &str = "an-hs256-secret-that-is-long-enough-0123456789";

/// The Hasura emulator and the Clerk emulator whose tokens it verifies (`h.extra`).
type H = With<ClerkEmulator>;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn hasura_claims(user_id: &str) -> Value {
    json!({
        "x-hasura-allowed-roles": ["user"],
        "x-hasura-default-role": "user",
        "x-hasura-user-id": user_id,
    })
}

/// An HS256 token with arbitrary claims, for the cases Clerk will not mint.
fn hs256(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(HS_KEY.as_bytes()),
    )
    .unwrap()
}

impl H {
    async fn start() -> H {
        let clerk = ClerkEmulator::start(ClerkConfig::default())
            .await
            .expect("clerk emulator");
        let h = With {
            base: Emu::start().await,
            extra: clerk,
        };
        h.sql_ok("CREATE TABLE users (id text PRIMARY KEY, name text, last_seen timestamp DEFAULT now());
               INSERT INTO users (id, name) VALUES ('user_alice', 'Alice'), ('user_bob', 'Bob');")
            .await;
        h.ok_raw(
            json!({"type": "pg_track_table", "args": {"source": "default", "table": "users"}}),
        )
        .await;
        let own = json!({"id": {"_eq": "X-Hasura-User-Id"}});
        h.ok_raw(
            json!({"type": "pg_create_select_permission", "args": {"table": "users", "role": "user",
            "permission": {"columns": ["id", "name"], "filter": own}}}),
        )
        .await;
        h.ok_raw(
            json!({"type": "pg_create_insert_permission", "args": {"table": "users", "role": "user",
            "permission": {"columns": ["id", "name"], "check": own}}}),
        )
        .await;
        h.ok_raw(
            json!({"type": "pg_create_update_permission", "args": {"table": "users", "role": "user",
            "permission": {"columns": ["name"], "filter": own, "check": own}}}),
        )
        .await;
        let jwks = format!("{}/.well-known/jwks.json", h.extra.frontend_api_url());
        h.set_jwt_secret(json!({ "jwk_url": jwks })).await;
        let (s, v) = h
            .clerk_api(
                "/jwt_templates",
                json!({"name": "hasura", "claims": {
                    "https://hasura.io/jwt/claims": {
                        "x-hasura-allowed-roles": ["user"],
                        "x-hasura-default-role": "user",
                        "x-hasura-user-id": "{{user.id}}"
                    }
                }}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        h
    }

    /// What the Terraform provider does: read the hash, then update with it.
    async fn set_jwt_secret(&self, cfg: Value) {
        self.set_env("HASURA_GRAPHQL_JWT_SECRET", &cfg.to_string())
            .await;
    }

    async fn clerk_api(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.extra.api_url()))
            .bearer_auth(self.extra.secret_key())
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    async fn token(&self, session: &str) -> String {
        let (s, v) = self
            .clerk_api(&format!("/sessions/{session}/tokens/hasura"), json!({}))
            .await;
        assert_eq!(s, 200, "{v}");
        v["jwt"].as_str().unwrap().to_string()
    }

    async fn as_token(&self, token: &str, query: &str, variables: Value) -> Value {
        let bearer = format!("Bearer {token}");
        self.gql(&[("Authorization", &bearer)], query, variables)
            .await
    }

    async fn as_admin(&self, query: &str, variables: Value) -> Value {
        self.gql_admin(&[], query, variables).await
    }
}

#[track_caller]
fn assert_error(v: &Value, code: &str, message: &str) {
    assert_eq!(v["errors"][0]["extensions"]["code"], code, "{v}");
    assert_eq!(v["errors"][0]["message"], message, "{v}");
    assert!(v.get("data").is_none(), "{v}");
}

const USERS: &str = "query { users { id name } }";

#[tokio::test]
async fn clerk_tokens_see_only_their_own_row() {
    let h = H::start().await;
    let alice = h.token("sess_alice").await;
    let bob = h.token("sess_bob").await;

    let v = h.as_token(&alice, USERS, json!({})).await;
    assert_eq!(
        v,
        json!({"data": {"users": [{"id": "user_alice", "name": "Alice"}]}})
    );
    let v = h.as_token(&bob, USERS, json!({})).await;
    assert_eq!(
        v,
        json!({"data": {"users": [{"id": "user_bob", "name": "Bob"}]}})
    );
    // A where clause cannot widen the permission filter: it is AND-ed with it.
    let v = h
        .as_token(
            &alice,
            "query($id: String!) { users(where: {id: {_eq: $id}}) { id } }",
            json!({"id": "user_bob"}),
        )
        .await;
    assert_eq!(v, json!({"data": {"users": []}}));
    // The explicit role header naming an allowed role works; aliases and __typename too.
    let bearer = format!("Bearer {alice}");
    let v = h
        .gql(
            &[("Authorization", &bearer), ("X-Hasura-Role", "user")],
            "{ me: users { who: id __typename } __typename }",
            json!({}),
        )
        .await;
    assert_eq!(
        v,
        json!({"data": {"me": [{"who": "user_alice", "__typename": "users"}], "__typename": "query_root"}})
    );

    let v = h
        .as_admin(
            "query { users(order_by: {id: asc}) { id name } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["data"]["users"],
        json!([{"id": "user_alice", "name": "Alice"}, {"id": "user_bob", "name": "Bob"}])
    );

    let v = h.gql(&[], USERS, json!({})).await;
    assert_error(
        &v,
        "invalid-headers",
        "Missing Authorization header in JWT authentication mode",
    );
    assert_eq!(v["errors"][0]["extensions"]["path"], "$");
    let ops = &h.emu.control.counters()["ops"];
    assert_eq!(ops["graphql:query"], 5, "{ops}");
}

#[tokio::test]
async fn bad_tokens_and_roles_are_rejected() {
    let h = H::start().await;
    let alice = h.token("sess_alice").await;
    let bob = h.token("sess_bob").await;

    // Bob's claims under Alice's signature.
    let a: Vec<&str> = alice.split('.').collect();
    let b: Vec<&str> = bob.split('.').collect();
    let forged = format!("{}.{}.{}", a[0], b[1], a[2]);
    let v = h.as_token(&forged, USERS, json!({})).await;
    assert_error(
        &v,
        "invalid-jwt",
        "Could not verify JWT: JWSError JWSInvalidSignature",
    );

    // An HS256 token where only the RSA JWKS is configured finds no usable key.
    let now = now();
    let hs = hs256(json!({"sub": "x", "exp": now + 60,
        "https://hasura.io/jwt/claims": hasura_claims("user_alice")}));
    let v = h.as_token(&hs, USERS, json!({})).await;
    assert_error(
        &v,
        "invalid-jwt",
        "Could not verify JWT: JWSError NoUsableKeys",
    );

    let v = h.as_token("not-a-jwt", USERS, json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "invalid-jwt", "{v}");

    let v = h
        .gql(
            &[("Authorization", &format!("Token {alice}"))],
            USERS,
            json!({}),
        )
        .await;
    assert_error(&v, "invalid-headers", "Malformed Authorization header");

    let bearer = format!("Bearer {alice}");
    let v = h
        .gql(
            &[("Authorization", &bearer), ("x-hasura-role", "admin")],
            USERS,
            json!({}),
        )
        .await;
    assert_error(
        &v,
        "access-denied",
        "Your requested role is not in allowed roles",
    );

    let v = h
        .gql(&[("x-hasura-admin-secret", "wrong")], USERS, json!({}))
        .await;
    assert_error(
        &v,
        "access-denied",
        "invalid x-hasura-admin-secret/x-hasura-access-key",
    );

    // A token without the Hasura namespace.
    let (s, _) = h
        .clerk_api(
            "/jwt_templates",
            json!({"name": "plain", "claims": {"role": "x"}}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, plain) = h
        .clerk_api("/sessions/sess_alice/tokens/plain", json!({}))
        .await;
    let v = h
        .as_token(plain["jwt"].as_str().unwrap(), USERS, json!({}))
        .await;
    assert_error(
        &v,
        "jwt-invalid-claims",
        "claims key: 'https://hasura.io/jwt/claims' not found",
    );

    // Admin secret + a role without permissions: the root field does not exist for it.
    let secret = h.emu.config.admin_secret.clone();
    let v = h
        .gql(
            &[
                ("x-hasura-admin-secret", &secret),
                ("x-hasura-role", "viewer"),
            ],
            USERS,
            json!({}),
        )
        .await;
    assert_error(
        &v,
        "validation-failed",
        "field 'users' not found in type: 'query_root'",
    );
    assert_eq!(v["errors"][0]["extensions"]["path"], "$.selectionSet.users");
}

#[tokio::test]
async fn static_keys_hs256_and_rs256_with_issuer_audience_and_expiry() {
    let h = H::start().await;
    h.set_jwt_secret(
        json!({"type": "HS256", "key": HS_KEY, "issuer": "https://issuer.test",
        "audience": ["hasura-demo"], "claims_namespace_path": "$.hasura"}),
    )
    .await;
    let now = now();
    let claims = |extra: Value| {
        let mut c = json!({"sub": "user_bob", "iss": "https://issuer.test", "aud": "hasura-demo",
            "iat": now, "exp": now + 60, "hasura": hasura_claims("user_bob")});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        hs256(c)
    };
    let v = h.as_token(&claims(json!({})), USERS, json!({})).await;
    assert_eq!(
        v,
        json!({"data": {"users": [{"id": "user_bob", "name": "Bob"}]}})
    );

    let cases = [
        (json!({"exp": now - 10}), "JWTExpired"),
        (json!({"nbf": now + 600}), "JWTNotYetValid"),
        (json!({"iat": now + 600}), "JWTIssuedAtFuture"),
        (json!({"iss": "https://evil.test"}), "JWTNotInIssuer"),
        (json!({"aud": ["other"]}), "JWTNotInAudience"),
    ];
    for (extra, err) in cases {
        let v = h.as_token(&claims(extra), USERS, json!({})).await;
        assert_error(&v, "invalid-jwt", &format!("Could not verify JWT: {err}"));
    }
    // allowed_skew tolerates a token that expired within the window.
    h.set_jwt_secret(json!({"type": "HS256", "key": HS_KEY, "allowed_skew": 60,
        "claims_namespace_path": "$.hasura"}))
        .await;
    let v = h
        .as_token(&claims(json!({"exp": now - 10})), USERS, json!({}))
        .await;
    assert_eq!(v["data"]["users"][0]["id"], "user_bob", "{v}");

    // Clerk can sign with the same shared secret through a custom signing key.
    h.set_jwt_secret(json!({"type": "HS256", "key": HS_KEY}))
        .await;
    let (s, v) = h
        .clerk_api(
            "/jwt_templates",
            json!({"name": "hasura-hs", "custom_signing_key": true, "signing_algorithm": "HS256",
                "signing_key": HS_KEY,
                "claims": {"https://hasura.io/jwt/claims": {
                    "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user",
                    "x-hasura-user-id": "{{user.id}}"}}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, t) = h
        .clerk_api("/sessions/sess_alice/tokens/hasura-hs", json!({}))
        .await;
    let v = h
        .as_token(t["jwt"].as_str().unwrap(), USERS, json!({}))
        .await;
    assert_eq!(
        v,
        json!({"data": {"users": [{"id": "user_alice", "name": "Alice"}]}})
    );
    // The RS256 instance-key token no longer verifies once the secret changed.
    let rs = h.token("sess_alice").await;
    let v = h.as_token(&rs, USERS, json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "invalid-jwt", "{v}");

    // RS256 with a PEM public key: Clerk signs with the matching private key.
    let (private_pem, public_pem) = rsa_pem_pair();
    h.set_jwt_secret(json!({"type": "RS256", "key": public_pem}))
        .await;
    let (s, v) = h
        .clerk_api(
            "/jwt_templates",
            json!({"name": "hasura-rs", "custom_signing_key": true, "signing_algorithm": "RS256",
                "signing_key": private_pem,
                "claims": {"https://hasura.io/jwt/claims": {
                    "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user",
                    "x-hasura-user-id": "{{user.id}}"}}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, t) = h
        .clerk_api("/sessions/sess_bob/tokens/hasura-rs", json!({}))
        .await;
    let v = h
        .as_token(t["jwt"].as_str().unwrap(), USERS, json!({}))
        .await;
    assert_eq!(
        v,
        json!({"data": {"users": [{"id": "user_bob", "name": "Bob"}]}})
    );
    // Clerk's instance key is a different RSA key: bad signature, not a usable-key miss.
    let v = h.as_token(&rs, USERS, json!({})).await;
    assert_error(
        &v,
        "invalid-jwt",
        "Could not verify JWT: JWSError JWSInvalidSignature",
    );

    // A malformed secret stops a real Hasura from booting: nothing of the engine answers.
    h.set_jwt_secret(json!({"type": "HS256", "key": "short"}))
        .await;
    let r = h
        .http
        .post(format!("{}/v1/graphql", h.emu.endpoint()))
        .bearer_auth(&rs)
        .json(&json!({"query": USERS}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// (PKCS#8 private key PEM, SubjectPublicKeyInfo public key PEM).
fn rsa_pem_pair() -> (String, String) {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
    let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let private: Pkcs8V1Der = kp.as_der().unwrap();
    let public: PublicKeyX509Der = kp.public_key().as_der().unwrap();
    (
        pem("PRIVATE KEY", private.as_ref()),
        pem("PUBLIC KEY", public.as_ref()),
    )
}

#[tokio::test]
async fn mutations_apply_insert_and_update_permissions() {
    let h = H::start().await;
    let alice = h.token("sess_alice").await;

    let v = h
        .as_token(
            &alice,
            "mutation($o: users_insert_input!) { insert_users_one(object: $o) { id name } }",
            json!({"o": {"id": "user_alice", "name": "dup"}}),
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "constraint-violation",
        "{v}"
    );
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Uniqueness violation. duplicate key value"));

    // The check is evaluated on the inserted row: someone else's id fails.
    let v = h
        .as_token(
            &alice,
            "mutation { insert_users(objects: [{id: \"user_mallory\", name: \"M\"}]) { affected_rows } }",
            json!({}),
        )
        .await;
    assert_error(
        &v,
        "permission-error",
        "check constraint of an insert/update permission has failed",
    );
    // A column outside the insert permission is not part of the input type.
    let v = h
        .as_token(
            &alice,
            "mutation { insert_users(objects: [{id: \"x\", last_seen: \"2020-01-01\"}]) { affected_rows } }",
            json!({}),
        )
        .await;
    assert_error(
        &v,
        "validation-failed",
        "field 'last_seen' not found in type: 'users_insert_input'",
    );

    // Update: only rows passing the filter are touched; the id column is not updatable.
    let v = h
        .as_token(
            &alice,
            "mutation { update_users(where: {}, _set: {name: \"Alicia\"}) { affected_rows returning { id name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v,
        json!({"data": {"update_users": {"affected_rows": 1, "returning": [{"id": "user_alice", "name": "Alicia"}]}}})
    );
    let v = h
        .as_token(
            &alice,
            "mutation { update_users(where: {id: {_eq: \"user_bob\"}}, _set: {name: \"pwned\"}) { affected_rows } }",
            json!({}),
        )
        .await;
    assert_eq!(v, json!({"data": {"update_users": {"affected_rows": 0}}}));
    let v = h
        .as_token(
            &alice,
            "mutation { update_users(where: {}, _set: {id: \"user_bob2\"}) { affected_rows } }",
            json!({}),
        )
        .await;
    assert_error(
        &v,
        "validation-failed",
        "field 'id' not found in type: 'users_set_input'",
    );

    // Admin inserts anything; a failing field rolls back the whole request.
    let v = h
        .as_admin(
            "mutation { a: insert_users(objects: [{id: \"user_carol\", name: \"Carol\"}]) { affected_rows }
                        b: insert_users(objects: [{id: \"user_carol\", name: \"again\"}]) { affected_rows } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "constraint-violation",
        "{v}"
    );
    let v = h
        .as_admin(
            "mutation { insert_users_one(object: {id: \"user_carol\", name: \"Carol\"}) { id name last_seen } }",
            json!({}),
        )
        .await;
    let row = &v["data"]["insert_users_one"];
    assert_eq!(row["id"], "user_carol", "{v}");
    // timestamp without time zone comes back as an ISO string, as from Hasura.
    assert!(row["last_seen"].as_str().unwrap().contains('T'), "{v}");
    let v = h
        .as_admin(
            "query { users(order_by: {id: asc}) { id name } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["data"]["users"],
        json!([{"id": "user_alice", "name": "Alicia"}, {"id": "user_bob", "name": "Bob"}, {"id": "user_carol", "name": "Carol"}])
    );
    let ops = &h.emu.control.counters()["ops"];
    assert_eq!(ops["graphql:mutation"], 8, "{ops}");
}

#[tokio::test]
async fn queries_filters_types_and_bound_values() {
    let h = H::start().await;
    let alice = h.token("sess_alice").await;

    // A column outside the select permission does not exist for the role.
    let v = h
        .as_token(&alice, "query { users { id last_seen } }", json!({}))
        .await;
    assert_error(
        &v,
        "validation-failed",
        "field 'last_seen' not found in type: 'users'",
    );
    assert_eq!(
        v["errors"][0]["extensions"]["path"],
        "$.selectionSet.users.selectionSet.last_seen"
    );
    let v = h
        .as_token(
            &alice,
            "query { users(where: {last_seen: {_is_null: false}}) { id } }",
            json!({}),
        )
        .await;
    assert_error(
        &v,
        "validation-failed",
        "field 'last_seen' not found in type: 'users_bool_exp'",
    );

    // Values are bound parameters: SQL in a variable is just a string.
    let evil = "x' OR '1'='1";
    let v = h
        .as_admin(
            "query($id: String!) { users(where: {id: {_eq: $id}}) { id } }",
            json!({"id": evil}),
        )
        .await;
    assert_eq!(v, json!({"data": {"users": []}}));
    let drop = "Robert'); DROP TABLE users; --";
    let v = h
        .as_admin(
            "mutation($n: String!) { insert_users(objects: [{id: \"user_bobby\", name: $n}]) { returning { name } } }",
            json!({"n": drop}),
        )
        .await;
    assert_eq!(
        v,
        json!({"data": {"insert_users": {"returning": [{"name": drop}]}}})
    );
    let v = h
        .as_admin(
            "query($p: String!) { users(where: {name: {_like: $p}}) { id } }",
            json!({"p": "%DROP TABLE%"}),
        )
        .await;
    assert_eq!(v, json!({"data": {"users": [{"id": "user_bobby"}]}}));

    // Boolean operators, order_by, limit and offset.
    let v = h
        .as_admin(
            "{ users(where: {_or: [{id: {_in: [\"user_alice\", \"user_bob\"]}}, {name: {_ilike: \"robert%\"}}],
                            _not: {id: {_eq: \"user_alice\"}}},
                     order_by: [{name: desc}], limit: 1, offset: 1) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(v, json!({"data": {"users": [{"id": "user_bob"}]}}));

    // Typed values from PostgreSQL.
    h.sql_ok("CREATE TABLE things (id serial PRIMARY KEY, n int, big bigint, ok boolean, doc jsonb, at timestamptz, price numeric);
           INSERT INTO things (n, big, ok, doc, at, price) VALUES (7, 9007199254740993, true, '{\"a\": [1, \"b\"]}', '2024-05-06T07:08:09Z', 1.50);")
        .await;
    h.ok_raw(json!({"type": "pg_track_table", "args": {"table": {"schema": "public", "name": "things"}}}))
        .await;
    let v = h
        .as_admin(
            "{ things(where: {n: {_gte: 7}, doc: {_contains: {a: [1]}}}) { id n ok doc at price } }",
            json!({}),
        )
        .await;
    let mut row = v["data"]["things"][0].clone();
    // The offset depends on the server's TimeZone; the shape is PostgreSQL's ISO form.
    let at = row.as_object_mut().unwrap().remove("at").unwrap();
    assert!(at.as_str().unwrap().starts_with("2024-05-06T"), "{v}");
    assert_eq!(
        row,
        json!({"id": 1, "n": 7, "ok": true, "doc": {"a": [1, "b"]}, "price": 1.50})
    );
    let v = h
        .as_admin("{ things(where: {n: {_eq: \"7\"}}) { id } }", json!({}))
        .await;
    assert_error(
        &v,
        "validation-failed",
        "expected an integer for type 'Int', but found a string",
    );

    // Outside the subset: explicit errors, never a guess.
    let v = h
        .as_admin("{ users_aggregate { aggregate { count } } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "not-supported", "{v}");
    let v = h
        .as_admin("{ users(distinct_on: [name]) { id } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "not-supported", "{v}");
    let v = h.as_admin("{ users(bogus: 1) { id } }", json!({})).await;
    assert_error(
        &v,
        "validation-failed",
        "'users' has no argument named 'bogus'",
    );
    let v = h
        .as_admin("{ users(where: {id: {_foo: 1}}) { id } }", json!({}))
        .await;
    assert_error(
        &v,
        "validation-failed",
        "field '_foo' not found in type: 'String_comparison_exp'",
    );
}

#[tokio::test]
async fn no_jwt_secret_means_admin_only() {
    let h = Emu::start().await;
    let v = h
        .gql(
            &[("Authorization", "Bearer whatever")],
            "{ __typename }",
            Value::Null,
        )
        .await;
    assert_error(
        &v,
        "access-denied",
        "x-hasura-admin-secret/x-hasura-access-key required, but not found",
    );
    h.emu.stop().await;
}

#[tokio::test]
async fn schema_names_customisation_and_session_variables() {
    let h = H::start().await;
    h.sql_ok("CREATE SCHEMA shop;
           CREATE TABLE shop.items (id int PRIMARY KEY, owner text, title text);
           INSERT INTO shop.items VALUES (1, 'user_alice', 'a1'), (2, 'user_bob', 'b2'), (3, 'user_bob', 'b3'), (4, 'user_bob', 'b4');")
        .await;
    let table = json!({"schema": "shop", "name": "items"});
    h.ok_raw(json!({"type": "pg_track_table", "args": {"table": table}}))
        .await;
    // Own rows, plus the ids listed in an array-valued session variable.
    h.ok_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": table, "role": "user",
        "permission": {"columns": "*", "filter": {"_or": [
            {"owner": {"_eq": "X-HASURA-USER-ID"}},
            {"id": {"_in": "x-hasura-allowed-ids"}}
        ]}}}}),
    )
    .await;
    h.set_jwt_secret(json!({"type": "HS256", "key": HS_KEY}))
        .await;
    let exp = now() + 60;
    let mut claims = hasura_claims("user_alice");
    claims["x-hasura-allowed-ids"] = json!([2, 3]);
    let alice = hs256(json!({"exp": exp, "https://hasura.io/jwt/claims": claims}));

    let v = h
        .as_token(
            &alice,
            "{ shop_items(order_by: {id: asc}) { id title } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v,
        json!({"data": {"shop_items": [{"id": 1, "title": "a1"}, {"id": 2, "title": "b2"}, {"id": 3, "title": "b3"}]}})
    );
    // A permission naming a session variable the token lacks fails loudly.
    let bare =
        hs256(json!({"exp": exp, "https://hasura.io/jwt/claims": hasura_claims("user_alice")}));
    let v = h.as_token(&bare, "{ shop_items { id } }", json!({})).await;
    assert_error(
        &v,
        "not-found",
        "missing session variable: \"x-hasura-allowed-ids\"",
    );

    h.ok_raw(
        json!({"type": "pg_set_table_customization", "args": {"table": table, "configuration": {
            "custom_name": "Item",
            "custom_root_fields": {"select": "allItems"},
            "column_config": {"title": {"custom_name": "label"}}
        }}}),
    )
    .await;
    let v = h
        .as_token(
            &alice,
            "{ allItems(where: {label: {_neq: \"b2\"}}, order_by: {label: desc}) { id label __typename } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v,
        json!({"data": {"allItems": [
            {"id": 3, "label": "b3", "__typename": "Item"},
            {"id": 1, "label": "a1", "__typename": "Item"}
        ]}})
    );
    let v = h.as_token(&alice, "{ shop_items { id } }", json!({})).await;
    assert_error(
        &v,
        "validation-failed",
        "field 'shop_items' not found in type: 'query_root'",
    );
    // Insert root fields follow custom_name; the role has no insert permission.
    let v = h
        .as_admin(
            "mutation { insert_Item_one(object: {id: 5, owner: \"x\", label: \"e5\"}) { id label } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v,
        json!({"data": {"insert_Item_one": {"id": 5, "label": "e5"}}})
    );
    let v = h
        .as_token(
            &alice,
            "mutation { insert_Item_one(object: {id: 6}) { id } }",
            json!({}),
        )
        .await;
    assert_error(
        &v,
        "validation-failed",
        "field 'insert_Item_one' not found in type: 'mutation_root'",
    );
}

/// A filter stored from `$`-spelt connectives, a plain value (`_eq`) and the `_ne` /
/// `_cneq` aliases evaluates as graphql-engine evaluates it.
#[tokio::test]
async fn filters_in_every_spelling_hasura_accepts_evaluate() {
    let h = H::start().await;
    let (alice, bob) = (h.token("sess_alice").await, h.token("sess_bob").await);
    h.ok_raw(
        json!({"type": "pg_drop_select_permission", "args": {"table": "users", "role": "user"}}),
    )
    .await;
    h.ok_raw(
        json!({"type": "pg_create_select_permission", "args": {"table": "users", "role": "user",
        "permission": {"columns": ["id", "name"], "filter": {
            "$or": [{"id": "X-Hasura-User-Id"}, {"$not": {"name": {"$ne": "Bob"}}}],
            "$and": [{"name": {"_neq": "Nobody", "$cneq": "id", "_is_null": false}}]
        }}}}),
    )
    .await;
    let query = "query { users(order_by: {id: asc}) { id } }";
    // Alice: her own row, and Bob's (name = Bob).
    assert_eq!(
        h.as_token(&alice, query, json!({})).await,
        json!({"data": {"users": [{"id": "user_alice"}, {"id": "user_bob"}]}})
    );
    // Bob: his own row only (Alice's name is not Bob).
    assert_eq!(
        h.as_token(&bob, query, json!({})).await,
        json!({"data": {"users": [{"id": "user_bob"}]}})
    );
}
