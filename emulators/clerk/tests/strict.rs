//! Where the emulator refuses what the real Backend API refuses (issue 11):
//! every custom signing algorithm mints tokens that verify, keys of the wrong
//! family are refused, the session-token template cannot be deleted (403),
//! plan-gated options answer 402, and rate limits as Clerk documents them,
//! with `Retry-After` as seconds or, on request, as an HTTP date.

use std::time::{Duration, SystemTime};

mod support;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use clerk_emulator::{ClerkConfig, DEVELOPMENT_RATE_LIMIT};
use emulator_common::RateLimit;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{only_error, Clerk as T};

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
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

/// Checks a signature over a message with one public key.
type Verifier = Box<dyn Fn(&[u8], &[u8]) -> bool>;

fn verifier(alg: &'static dyn signature::VerificationAlgorithm, public: Vec<u8>) -> Verifier {
    Box::new(move |m, s| {
        signature::UnparsedPublicKey::new(alg, &public)
            .verify(m, s)
            .is_ok()
    })
}

/// A fresh private key for `alg` as PKCS#8 PEM, and a verifier of its signatures.
fn key_for(alg: &str) -> (String, Verifier) {
    let rng = SystemRandom::new();
    let ec = |signing: &'static signature::EcdsaSigningAlgorithm,
              verify: &'static signature::EcdsaVerificationAlgorithm| {
        let doc = EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
        let public = EcdsaKeyPair::from_pkcs8(signing, doc.as_ref())
            .unwrap()
            .public_key()
            .as_ref()
            .to_vec();
        let check = verifier(verify, public);
        (pem("PRIVATE KEY", doc.as_ref()), check)
    };
    let rsa = |verify: &'static signature::RsaParameters| {
        let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = kp.public_key().as_ref().to_vec();
        let der = kp.as_der().unwrap();
        let check = verifier(verify, public);
        (pem("PRIVATE KEY", der.as_ref()), check)
    };
    match alg {
        "ES256" => ec(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &signature::ECDSA_P256_SHA256_FIXED,
        ),
        "ES384" => ec(
            &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            &signature::ECDSA_P384_SHA384_FIXED,
        ),
        "ES512" => ec(
            &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
            &signature::ECDSA_P521_SHA512_FIXED,
        ),
        "PS256" => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => rsa(&signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => rsa(&signature::RSA_PSS_2048_8192_SHA512),
        "RS384" => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        "EdDSA" => {
            let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
            let public = Ed25519KeyPair::from_pkcs8(doc.as_ref())
                .unwrap()
                .public_key()
                .as_ref()
                .to_vec();
            let check = verifier(&signature::ED25519, public);
            (pem("PRIVATE KEY", doc.as_ref()), check)
        }
        other => panic!("no test key for {other}"),
    }
}

fn template(name: &str, alg: &str, key: &str) -> Value {
    json!({"name": name, "claims": {"uid": "{{user.id}}"}, "custom_signing_key": true,
        "signing_algorithm": alg, "signing_key": key})
}

#[tokio::test]
async fn every_custom_algorithm_mints_tokens_that_verify() {
    let t = T::with(ClerkConfig::default()).await;
    for alg in [
        "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA", "RS384",
    ] {
        let (key, verify) = key_for(alg);
        let name = format!("t-{alg}");
        let (s, created) = t
            .call(
                Method::POST,
                "/jwt_templates",
                Some(template(&name, alg, &key)),
            )
            .await;
        assert_eq!(s, 200, "{alg}: {created}");
        assert_eq!(created["signing_algorithm"], alg);
        assert!(created.get("signing_key").is_none(), "write-only");

        let (s, tok) = t
            .call(
                Method::POST,
                &format!("/sessions/sess_alice/tokens/{name}"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{alg}: {tok}");
        let jwt = tok["jwt"].as_str().unwrap();
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(input.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], alg);
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert!(
            verify(input.as_bytes(), &sig),
            "{alg}: signature does not verify"
        );
        let mut tampered = sig.clone();
        tampered[0] ^= 1;
        assert!(!verify(input.as_bytes(), &tampered), "{alg}");
    }
}

#[tokio::test]
async fn a_key_of_another_family_or_curve_is_refused() {
    let t = T::with(ClerkConfig::default()).await;
    let (p256, _) = key_for("ES256");
    let (ed, _) = key_for("EdDSA");
    let (rsa, _) = key_for("PS256");
    for (alg, key) in [
        ("ES384", &p256),
        ("ES256", &rsa),
        ("EdDSA", &p256),
        ("PS256", &ed),
        ("RS256", &p256),
    ] {
        let (s, err) = t
            .call(
                Method::POST,
                "/jwt_templates",
                Some(template("x", alg, key)),
            )
            .await;
        assert_eq!(s, 422, "{alg}: {err}");
        let e = only_error(&err);
        assert_eq!(e["code"], "form_param_value_invalid", "{alg}");
        assert_eq!(e["meta"]["param_name"], "signing_key", "{alg}");
    }
    assert!(t.emu.templates().is_empty());
}

#[tokio::test]
async fn the_session_token_template_cannot_be_deleted() {
    let t = T::with(ClerkConfig::default()).await;
    let (_, created) = t
        .call(
            Method::POST,
            "/jwt_templates",
            Some(json!({"name": "session", "claims": {}})),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    t.emu.mark_session_token_template(id);
    let (s, err) = t
        .call(Method::DELETE, &format!("/jwt_templates/{id}"), None)
        .await;
    // DeleteJWTTemplate 403; catalog SessionTokenTemplateNotDeletable.
    assert_eq!(s, StatusCode::FORBIDDEN);
    let e = only_error(&err);
    assert_eq!(e["code"], "session_token_jwt_template");
    assert_eq!(e["message"], "session token template cannot be deleted");
    assert_eq!(
        e["long_message"],
        "This template cannot be deleted because it's a session token template"
    );
    assert_eq!(t.emu.templates().len(), 1, "still there");
    // It can still be read and updated.
    let (s, _) = t
        .call(
            Method::PATCH,
            &format!("/jwt_templates/{id}"),
            Some(json!({"name": "session", "claims": {"a": 1}})),
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_plan_without_custom_keys_answers_402() {
    let t = T::with(ClerkConfig::default()).await;
    t.emu.set_custom_signing_key_needs_upgrade(true);
    let hs = template("hs", "HS256", "0123456789abcdef0123456789abcdef");
    let (s, err) = t
        .call(Method::POST, "/jwt_templates", Some(hs.clone()))
        .await;
    // CreateJWTTemplate 402; catalog UnsupportedSubscriptionPlanFeatures.
    assert_eq!(s, StatusCode::PAYMENT_REQUIRED);
    let e = only_error(&err);
    assert_eq!(e["code"], "unsupported_subscription_plan_features");
    assert_eq!(e["message"], "Unsupported plan features");
    assert_eq!(
        e["long_message"],
        "Some features are not supported in your current plan. Upgrade your subscription to unlock them."
    );
    assert_eq!(
        e["meta"]["unsupported_features"],
        json!(["custom_signing_key"])
    );
    assert!(t.emu.templates().is_empty());

    // The instance key is not gated; switching to a custom key on update is.
    let (s, plain) = t
        .call(
            Method::POST,
            "/jwt_templates",
            Some(json!({"name": "hs", "claims": {}})),
        )
        .await;
    assert_eq!(s, 200);
    let id = plain["id"].as_str().unwrap();
    let (s, err) = t
        .call(
            Method::PATCH,
            &format!("/jwt_templates/{id}"),
            Some(hs.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        only_error(&err)["code"],
        "unsupported_subscription_plan_features"
    );
    assert_eq!(t.emu.templates()[0]["custom_signing_key"], false);

    t.emu.set_custom_signing_key_needs_upgrade(false);
    let (s, _) = t
        .call(Method::PATCH, &format!("/jwt_templates/{id}"), Some(hs))
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn development_rate_limit_is_100_per_10_seconds() {
    let t = T::with(ClerkConfig {
        rate_limit: Some(DEVELOPMENT_RATE_LIMIT),
        ..Default::default()
    })
    .await;
    for i in 0..100 {
        let (s, _) = t.call(Method::GET, "/jwt_templates", None).await;
        assert_eq!(s, 200, "request {i}");
    }
    let (s, headers, err) = t
        .call_with_headers(Method::GET, "/jwt_templates", None)
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(only_error(&err)["code"], "too_many_requests");
    let secs: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&secs), "{secs}");
    // GET /v1/jwks is documented as never rate limited.
    let (s, _) = t.call(Method::GET, "/jwks", None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn retry_after_can_be_an_http_date() {
    let t = T::with(ClerkConfig {
        rate_limit: Some(RateLimit {
            requests: 1,
            window_secs: 10,
        }),
        ..Default::default()
    })
    .await;
    t.emu.set_retry_after_dates(true);
    let (s, _) = t.call(Method::GET, "/jwt_templates", None).await;
    assert_eq!(s, 200);
    let (s, headers, err) = t
        .call_with_headers(Method::GET, "/jwt_templates", None)
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(only_error(&err)["code"], "too_many_requests");
    let value = headers["retry-after"].to_str().unwrap();
    assert!(value.ends_with(" GMT"), "IMF-fixdate: {value}");
    let at = httpdate::parse_http_date(value).unwrap();
    let left = at
        .duration_since(SystemTime::now() - Duration::from_secs(1))
        .unwrap();
    assert!(left <= Duration::from_secs(11), "{value}");

    t.emu.set_retry_after_dates(false);
    let (_, headers, _) = t
        .call_with_headers(Method::GET, "/jwt_templates", None)
        .await;
    let secs: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&secs));
}
