mod support;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use clerk_emulator::ClerkConfig;
use emulator_common::{FaultConfig, FaultKind, RateLimit};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{codes, Clerk as T};

impl T {
    async fn create(&self, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, "/jwt_templates", Some(body)).await
    }
}

fn assert_clerk_error(body: &Value, code: &str) {
    assert_eq!(codes(body), vec![code.to_string()], "{body}");
    let e = &body["errors"][0];
    assert!(e["message"].is_string() && e["long_message"].is_string());
    assert!(body["clerk_trace_id"].is_string());
}

#[tokio::test]
async fn auth_is_required_and_checked() {
    let t = T::start().await;
    let url = format!("{}/jwt_templates", t.emu.api_url());
    assert!(t.emu.secret_key().starts_with("sk_test_emulator"));

    let r = t.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_clerk_error(&r.json().await.unwrap(), "clerk_key_invalid");

    let r = t
        .http
        .get(&url)
        .bearer_auth("sk_test_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_clerk_error(&r.json().await.unwrap(), "clerk_key_invalid");

    let r = t
        .http
        .get(&url)
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_clerk_error(
        &r.json().await.unwrap(),
        "authorization_header_format_invalid",
    );

    for path in ["/jwks", "/domains", "/instance"] {
        let r = t
            .http
            .get(format!("{}{path}", t.emu.api_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    // The Frontend API JWKS is public.
    let r = t
        .http
        .get(format!(
            "{}/.well-known/jwks.json",
            t.emu.frontend_api_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let (s, _) = t.call(Method::GET, "/jwt_templates", None).await;
    assert_eq!(s, 200);
    t.emu.stop().await;
}

#[tokio::test]
async fn crud_round_trip() {
    let t = T::start().await;
    let claims = json!({"https://hasura.io/jwt/claims": {"x-hasura-user-id": "{{user.id}}",
        "x-hasura-default-role": "user", "x-hasura-allowed-roles": ["user"]}, "aud": "me"});
    let (s, created) = t.create(json!({"name": "hasura", "claims": claims})).await;
    assert_eq!(s, 200);
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "object",
            "id",
            "name",
            "claims",
            "lifetime",
            "allowed_clock_skew",
            "custom_signing_key",
            "signing_algorithm",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(created["object"], "jwt_template");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("jtmp_") && id.len() == 32, "{id}");
    assert_eq!(created["claims"], claims);
    assert_eq!(created["lifetime"], 60);
    assert_eq!(created["allowed_clock_skew"], 5);
    assert_eq!(created["custom_signing_key"], false);
    assert_eq!(created["signing_algorithm"], "RS256");
    // Unix milliseconds.
    assert!(created["created_at"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(created["created_at"], created["updated_at"]);

    let (s, got) = t
        .call(Method::GET, &format!("/jwt_templates/{id}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(got, created);
    assert_eq!(t.emu.templates(), vec![created.clone()]);

    let (s, updated) = t
        .call(
            Method::PATCH,
            &format!("/jwt_templates/{id}"),
            Some(
                json!({"name": "hasura2", "claims": {"role": "admin"}, "lifetime": 3600,
                "allowed_clock_skew": 10}),
            ),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(updated["id"], id);
    assert_eq!(updated["name"], "hasura2");
    assert_eq!(updated["claims"], json!({"role": "admin"}));
    assert_eq!(updated["lifetime"], 3600);
    assert_eq!(updated["allowed_clock_skew"], 10);
    assert_eq!(updated["created_at"], created["created_at"]);
    assert!(updated["updated_at"].as_i64() > created["updated_at"].as_i64());

    // PATCH still requires name and claims.
    let (s, body) = t
        .call(
            Method::PATCH,
            &format!("/jwt_templates/{id}"),
            Some(json!({"lifetime": 100})),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(codes(&body), ["form_param_missing", "form_param_missing"]);
    // Optional fields left out of a PATCH keep their values.
    let (s, kept) = t
        .call(
            Method::PATCH,
            &format!("/jwt_templates/{id}"),
            Some(json!({"name": "hasura2", "claims": {}})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(kept["lifetime"], 3600);

    let (s, deleted) = t
        .call(Method::DELETE, &format!("/jwt_templates/{id}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        deleted,
        json!({"object": "jwt_template", "id": id, "deleted": true})
    );
    assert!(t.emu.templates().is_empty());

    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"name": "x", "claims": {}}));
        let (s, err) = t
            .call(method.clone(), &format!("/jwt_templates/{id}"), body)
            .await;
        assert_eq!(s, 404, "{method}");
        assert_clerk_error(&err, "resource_not_found");
        assert_eq!(
            err["errors"][0]["long_message"],
            format!("No JWT template exists with id: {id}")
        );
    }
}

#[tokio::test]
async fn list_and_pagination() {
    let t = T::start().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let (s, b) = t
            .create(json!({"name": format!("t{i:02}"), "claims": {}}))
            .await;
        assert_eq!(s, 200);
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    let id_list = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };

    let (s, bare) = t.call(Method::GET, "/jwt_templates", None).await;
    assert_eq!(s, 200);
    assert_eq!(id_list(&bare), ids[..10]);

    let (_, page) = t
        .call(Method::GET, "/jwt_templates?paginated=true", None)
        .await;
    assert_eq!(page["total_count"], 12);
    assert_eq!(id_list(&page["data"]), ids[..10]);

    let (_, page) = t
        .call(
            Method::GET,
            "/jwt_templates?paginated=true&limit=5&offset=10",
            None,
        )
        .await;
    assert_eq!(page["total_count"], 12);
    assert_eq!(id_list(&page["data"]), ids[10..]);

    let (_, page) = t
        .call(
            Method::GET,
            "/jwt_templates?paginated=true&limit=500&offset=20",
            None,
        )
        .await;
    assert_eq!(page, json!({"data": [], "total_count": 12}));

    let (_, bare) = t
        .call(Method::GET, "/jwt_templates?limit=3&offset=1", None)
        .await;
    assert_eq!(id_list(&bare), ids[1..4]);

    for (query, code) in [
        ("limit=0", "form_param_value_invalid"),
        ("limit=501", "form_param_value_too_large"),
        ("limit=abc", "form_param_type_invalid"),
        ("offset=-1", "form_param_value_invalid"),
        ("offset=1.5", "form_param_type_invalid"),
        ("paginated=maybe", "form_param_type_invalid"),
    ] {
        let (s, body) = t
            .call(Method::GET, &format!("/jwt_templates?{query}"), None)
            .await;
        assert_eq!(s, 422, "{query}");
        assert_clerk_error(&body, code);
        assert!(body["errors"][0]["meta"]["param_name"].is_string());
    }
}

#[tokio::test]
async fn create_validation_errors() {
    let t = T::start().await;
    let (s, body) = t.create(json!({})).await;
    assert_eq!(s, 422);
    assert_eq!(codes(&body), ["form_param_missing", "form_param_missing"]);
    assert_eq!(body["errors"][0]["meta"]["param_name"], "name");
    assert_eq!(body["errors"][1]["meta"]["param_name"], "claims");
    assert_eq!(body["errors"][0]["long_message"], "name must be included.");

    let cases = [
        (
            json!({"name": "a", "claims": "{}"}),
            "form_param_value_invalid",
            "claims",
        ),
        (
            json!({"name": "a", "claims": []}),
            "form_param_value_invalid",
            "claims",
        ),
        (
            json!({"name": 5, "claims": {}}),
            "form_param_value_invalid",
            "name",
        ),
        (
            json!({"name": "", "claims": {}}),
            "form_param_value_invalid",
            "name",
        ),
        (
            json!({"name": "a", "claims": {}, "lifetime": 29}),
            "form_param_value_invalid",
            "lifetime",
        ),
        (
            json!({"name": "a", "claims": {}, "lifetime": 315360001}),
            "form_param_value_too_large",
            "lifetime",
        ),
        (
            json!({"name": "a", "claims": {}, "lifetime": "60"}),
            "form_param_value_invalid",
            "lifetime",
        ),
        (
            json!({"name": "a", "claims": {}, "allowed_clock_skew": -1}),
            "form_param_value_invalid",
            "allowed_clock_skew",
        ),
        (
            json!({"name": "a", "claims": {}, "allowed_clock_skew": 301}),
            "form_param_value_too_large",
            "allowed_clock_skew",
        ),
        (
            json!({"name": "a", "claims": {}, "custom_signing_key": true, "signing_algorithm": "HS256"}),
            "form_conditional_param_missing",
            "signing_key",
        ),
        (
            json!({"name": "a", "claims": {}, "custom_signing_key": true, "signing_key": "k"}),
            "form_conditional_param_missing",
            "signing_algorithm",
        ),
        (
            json!({"name": "a", "claims": {}, "custom_signing_key": true, "signing_algorithm": "XX1", "signing_key": "k"}),
            "form_param_value_invalid",
            "signing_algorithm",
        ),
        (
            json!({"name": "a", "claims": {}, "custom_signing_key": true, "signing_algorithm": "RS256", "signing_key": "not a pem"}),
            "form_param_value_invalid",
            "signing_key",
        ),
    ];
    for (body, code, param) in cases {
        let (s, err) = t.create(body.clone()).await;
        assert_eq!(s, 422, "{body}");
        assert_clerk_error(&err, code);
        assert_eq!(err["errors"][0]["meta"]["param_name"], param, "{body}");
    }

    // Bounds are inclusive and null means "use the default".
    let (s, ok) = t
        .create(
            json!({"name": "edges", "claims": {}, "lifetime": 315360000, "allowed_clock_skew": 0}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(ok["allowed_clock_skew"], 0);
    let (s, ok) = t
        .create(
            json!({"name": "nulls", "claims": {}, "lifetime": null, "allowed_clock_skew": null}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (ok["lifetime"].clone(), ok["allowed_clock_skew"].clone()),
        (json!(60), json!(5))
    );

    let r = t
        .http
        .post(format!("{}/jwt_templates", t.emu.api_url()))
        .bearer_auth(t.emu.secret_key())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_clerk_error(&r.json().await.unwrap(), "request_body_invalid");

    // Names are unique, on create and on rename.
    let (s, err) = t.create(json!({"name": "edges", "claims": {"a": 1}})).await;
    assert_eq!(s, 422);
    assert_clerk_error(&err, "form_identifier_exists");
    assert_eq!(err["errors"][0]["meta"]["param_name"], "name");
    let id = ok["id"].as_str().unwrap();
    let (s, err) = t
        .call(
            Method::PATCH,
            &format!("/jwt_templates/{id}"),
            Some(json!({"name": "edges", "claims": {}})),
        )
        .await;
    assert_eq!(s, 422);
    assert_clerk_error(&err, "form_identifier_exists");
    assert_eq!(t.emu.templates().len(), 2);
}

#[tokio::test]
async fn reserved_claims_are_rejected() {
    let t = T::start().await;
    for claim in clerk_emulator::RESERVED_CLAIMS {
        let (s, body) = t
            .create(json!({"name": format!("r_{claim}"), "claims": {"ok": 1, *claim: "x"}}))
            .await;
        assert_eq!(s, 400, "{claim}");
        assert_clerk_error(&body, "jwt_template_reserved_claim");
        assert_eq!(
            body["errors"][0]["long_message"],
            format!("You can't use the reserved claim: '{claim}'")
        );
    }
    // aud and nested keys named like reserved claims are fine.
    let (s, _) = t
        .create(json!({"name": "aud", "claims": {"aud": "x", "nested": {"sub": "y"}}}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.emu.templates().len(), 1);
}

#[tokio::test]
async fn custom_signing_key_is_write_only() {
    let t = T::start().await;
    let (s, created) = t
        .create(
            json!({"name": "hs", "claims": {"uid": "{{user.id}}"}, "custom_signing_key": true,
            "signing_algorithm": "HS256", "signing_key": "super-secret"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(created["custom_signing_key"], true);
    assert_eq!(created["signing_algorithm"], "HS256");
    assert!(created.get("signing_key").is_none());

    let (s, tok) = t
        .call(Method::POST, "/sessions/sess_bob/tokens/hs", None)
        .await;
    assert_eq!(s, 200);
    let jwt = tok["jwt"].as_str().unwrap();
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"super-secret");
    hmac::verify(
        &key,
        input.as_bytes(),
        &URL_SAFE_NO_PAD.decode(sig).unwrap(),
    )
    .unwrap();
    assert_eq!(decode_part(jwt, 0)["alg"], "HS256");
    assert_eq!(decode_part(jwt, 1)["uid"], "user_bob");

    // Turning the custom key off falls back to the instance key.
    let id = created["id"].as_str().unwrap();
    let (s, off) = t
        .call(
            Method::PATCH,
            &format!("/jwt_templates/{id}"),
            Some(json!({"name": "hs", "claims": {}, "custom_signing_key": false})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(off["signing_algorithm"], "RS256");
    assert_eq!(off["custom_signing_key"], false);
}

fn decode_part(jwt: &str, i: usize) -> Value {
    let part = jwt.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn minted_token_verifies_against_jwks() {
    let t = T::start().await;
    let claims = json!({
        "https://hasura.io/jwt/claims": {
            "x-hasura-allowed-roles": ["user"],
            "x-hasura-default-role": "user",
            "x-hasura-user-id": "{{user.id}}"
        },
        "email": "{{user.primary_email_address}}",
        "full": "{{user.first_name}} {{user.last_name}}",
        "nick": "{{user.public_metadata.nick || 'anon'}}",
        "aud": "hasura"
    });
    let (s, _) = t
        .create(
            json!({"name": "hasura", "claims": claims, "lifetime": 120, "allowed_clock_skew": 7}),
        )
        .await;
    assert_eq!(s, 200);

    let (s, tok) = t
        .call(Method::POST, "/sessions/sess_alice/tokens/hasura", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(tok["object"], "token");
    let jwt = tok["jwt"].as_str().unwrap();

    let jwks: Value = t
        .http
        .get(format!(
            "{}/.well-known/jwks.json",
            t.emu.frontend_api_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (s, bapi_jwks) = t.call(Method::GET, "/jwks", None).await;
    assert_eq!(s, 200);
    assert_eq!(jwks, bapi_jwks);
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["e"], "AQAB");
    assert_eq!(key["kid"], t.emu.instance_id());

    let header = decode_part(jwt, 0);
    assert_eq!(
        header,
        json!({"alg": "RS256", "kid": key["kid"], "typ": "JWT"})
    );
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.decode(v.as_str().unwrap()).unwrap();
    let public = RsaPublicKeyComponents {
        n: b64(&key["n"]),
        e: b64(&key["e"]),
    };
    public
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(sig).unwrap(),
        )
        .expect("signature verifies with the published JWKS");
    // A tampered payload does not.
    let forged = format!("{}x", input);
    assert!(public
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            forged.as_bytes(),
            &URL_SAFE_NO_PAD.decode(sig).unwrap()
        )
        .is_err());

    let p = decode_part(jwt, 1);
    assert_eq!(p["iss"], t.emu.frontend_api_url());
    assert_eq!(p["sub"], "user_alice");
    assert_eq!(
        p["https://hasura.io/jwt/claims"]["x-hasura-user-id"],
        "user_alice"
    );
    assert_eq!(
        p["https://hasura.io/jwt/claims"]["x-hasura-allowed-roles"],
        json!(["user"])
    );
    assert_eq!(p["email"], "alice@example.com");
    assert_eq!(p["full"], "Alice Anderson");
    assert_eq!(p["nick"], "anon");
    assert_eq!(p["aud"], "hasura");
    let iat = p["iat"].as_i64().unwrap();
    assert_eq!(p["exp"].as_i64().unwrap() - iat, 120);
    assert_eq!(iat - p["nbf"].as_i64().unwrap(), 7);
    assert!(p["jti"].is_string());

    // expires_in_seconds overrides the lifetime.
    let (s, tok) = t
        .call(
            Method::POST,
            "/sessions/sess_bob/tokens/hasura",
            Some(json!({"expires_in_seconds": 3600})),
        )
        .await;
    assert_eq!(s, 200);
    let p = decode_part(tok["jwt"].as_str().unwrap(), 1);
    assert_eq!(
        p["exp"].as_i64().unwrap() - p["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(p["full"], "Bob Brown");

    let (s, err) = t
        .call(Method::POST, "/sessions/sess_nobody/tokens/hasura", None)
        .await;
    assert_eq!(s, 404);
    assert_clerk_error(&err, "resource_not_found");
    let (s, err) = t
        .call(Method::POST, "/sessions/sess_alice/tokens/missing", None)
        .await;
    assert_eq!(s, 404);
    assert_clerk_error(&err, "resource_not_found");

    // Users added through the control route get a session.
    let added: Value = t
        .http
        .post(format!("{}/__emulator/users", t.emu.frontend_api_url()))
        .json(&json!({"id": "user_carol", "first_name": "Carol", "last_name": "Cole", "email": "c@example.com"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(added["session_id"], "sess_carol");
    let (s, tok) = t
        .call(Method::POST, "/sessions/sess_carol/tokens/hasura", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        decode_part(tok["jwt"].as_str().unwrap(), 1)["full"],
        "Carol Cole"
    );
}

#[tokio::test]
async fn domains_instance_and_keys() {
    let t = T::start().await;
    let (s, d) = t.call(Method::GET, "/domains", None).await;
    assert_eq!(s, 200);
    assert_eq!(d["total_count"], 1);
    let dom = &d["data"][0];
    assert_eq!(dom["object"], "domain");
    assert_eq!(dom["is_satellite"], false);
    assert_eq!(dom["frontend_api_url"], t.emu.frontend_api_url());
    assert!(dom["id"].as_str().unwrap().starts_with("dmn_"));
    assert!(dom["development_origin"].is_string());

    let (s, i) = t.call(Method::GET, "/instance", None).await;
    assert_eq!(s, 200);
    assert_eq!(i["environment_type"], "development");
    assert_eq!(i["id"], t.emu.instance_id());

    let pk = t.emu.publishable_key();
    let encoded = pk.strip_prefix("pk_test_").unwrap();
    let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
    let host = t.emu.frontend_api_url().replace("http://", "");
    assert_eq!(decoded, format!("{host}$"));
    assert!(t.emu.api_url().ends_with("/v1"));
}

#[tokio::test]
async fn rate_limit_gives_429_but_never_on_jwks() {
    let t = T::with(ClerkConfig {
        rate_limit: Some(RateLimit {
            requests: 5,
            window_secs: 10,
        }),
        ..Default::default()
    })
    .await;
    for _ in 0..5 {
        let (s, _) = t.call(Method::GET, "/jwt_templates", None).await;
        assert_eq!(s, 200);
    }
    let r = t
        .http
        .get(format!("{}/jwt_templates", t.emu.api_url()))
        .bearer_auth(t.emu.secret_key())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry));
    let body: Value = r.json().await.unwrap();
    assert_clerk_error(&body, "too_many_requests");
    assert_eq!(
        body["errors"][0]["long_message"],
        "Too many requests, retry later"
    );

    for _ in 0..20 {
        let (s, _) = t.call(Method::GET, "/jwks", None).await;
        assert_eq!(s, 200);
    }
    let counters = t.emu.control.counters();
    assert_eq!(counters["requests"]["GET /v1/jwt_templates"], 6);
    assert_eq!(counters["requests"]["GET /v1/jwks"], 20);
    assert_eq!(counters["rate_limited"], 1);

    t.emu.control.set_rate_limit(None);
    let (s, _) = t.call(Method::GET, "/jwt_templates", None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn faults_and_lost_responses() {
    let t = T::start().await;
    t.emu.control.set_faults(FaultConfig {
        error_rate: 1.0,
        kinds: vec![FaultKind::LostResponse],
        paths: Some(vec!["/v1/jwt_templates".into()]),
        ..Default::default()
    });
    let r = t
        .http
        .post(format!("{}/jwt_templates", t.emu.api_url()))
        .bearer_auth(t.emu.secret_key())
        .json(&json!({"name": "lost", "claims": {}}))
        .send()
        .await;
    assert!(r.is_err(), "{r:?}");
    // The create committed even though the client saw no response, so a
    // blind retry now collides on the name.
    assert_eq!(t.emu.templates().len(), 1);
    t.emu.control.set_faults(FaultConfig::default());
    let (s, err) = t.create(json!({"name": "lost", "claims": {}})).await;
    assert_eq!(s, 422);
    assert_clerk_error(&err, "form_identifier_exists");

    let r = t
        .http
        .put(format!("{}/__emulator/faults", t.emu.frontend_api_url()))
        .json(&json!({"error_rate": 1.0, "kinds": ["status503"], "paths": ["/v1/domains"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let (s, body) = t.call(Method::GET, "/domains", None).await;
    assert_eq!(s, 503);
    assert_clerk_error(&body, "service_unavailable");
    let (s, _) = t.call(Method::GET, "/jwt_templates", None).await;
    assert_eq!(s, 200);

    // A 500 is Clerk's `internal_clerk_error`; a 502 is not Clerk's at all
    // but its edge's HTML page.
    t.emu.control.set_faults(FaultConfig {
        error_rate: 1.0,
        kinds: vec![FaultKind::Status500],
        paths: Some(vec!["/v1/domains".into()]),
        ..Default::default()
    });
    let (s, body) = t.call(Method::GET, "/domains", None).await;
    assert_eq!(s, 500);
    assert_clerk_error(&body, "internal_clerk_error");
    t.emu.control.set_faults(FaultConfig {
        error_rate: 1.0,
        kinds: vec![FaultKind::Status502],
        paths: Some(vec!["/v1/domains".into()]),
        ..Default::default()
    });
    let r = t
        .http
        .get(format!("{}/domains", t.emu.api_url()))
        .bearer_auth(t.emu.secret_key())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["content-type"], "text/html");
    assert!(r.text().await.unwrap().contains("502 Bad Gateway"));
    t.emu.control.set_faults(FaultConfig::default());
}
