//! Plan-time validation of `HASURA_GRAPHQL_JWT_SECRET(S)` by the rules the
//! engine applies at boot (`Hasura.Server.Auth.JWT`): a value it rejects
//! keeps the project from starting, so it must never be sent.
use serde_json::Value;

/// Why the engine would refuse a JWT config. Never quotes the value: it may
/// hold an HMAC secret.
pub use crate::framework::Invalid;

pub const JWT_SECRET: &str = "HASURA_GRAPHQL_JWT_SECRET";
pub const JWT_SECRETS: &str = "HASURA_GRAPHQL_JWT_SECRETS";

const TYPES: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "Ed25519", "ES256", "ES384", "ES512",
];

/// The engine decodes an asymmetric `key` as a PEM public key or X.509
/// certificate of the algorithm's family; anything else is fatal at boot
/// ("Invalid JWK: Could not decode PEM", hasura/graphql-engine#1288).
fn check_public_key(ty: &str, key: &str) -> Result<(), Invalid> {
    use x509_parser::oid_registry::{
        Oid, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION, OID_SIG_ED25519,
    };
    use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo};
    use x509_parser::public_key::RSAPublicKey;

    let want: (Oid<'static>, &str) = if ty.starts_with("RS") {
        (OID_PKCS1_RSAENCRYPTION, "an RSA")
    } else if ty.starts_with("ES") {
        (OID_KEY_TYPE_EC_PUBLIC_KEY, "an EC")
    } else {
        (OID_SIG_ED25519, "an Ed25519")
    };
    let bad = |why: &str| {
        Invalid(format!("an {ty} `key` must be {} public key (`-----BEGIN PUBLIC KEY-----`) or X.509 certificate in PEM form; {why}", want.1))
    };
    let (_, pem) = x509_parser::pem::parse_x509_pem(key.as_bytes())
        .map_err(|_| bad("it could not be decoded as PEM"))?;
    let spki_check = |spki: &SubjectPublicKeyInfo| -> Result<(), Invalid> {
        spki.parsed()
            .map_err(|_| bad("its public key could not be parsed"))?;
        if spki.algorithm.algorithm != want.0 {
            return Err(bad("it holds a key of another algorithm"));
        }
        Ok(())
    };
    match pem.label.as_str() {
        "PUBLIC KEY" => {
            let (_, spki) = SubjectPublicKeyInfo::from_der(&pem.contents)
                .map_err(|_| bad("the PUBLIC KEY block is not a valid public key"))?;
            spki_check(&spki)
        }
        "CERTIFICATE" => {
            let (_, cert) = x509_parser::parse_x509_certificate(&pem.contents)
                .map_err(|_| bad("the CERTIFICATE block is not a valid X.509 certificate"))?;
            spki_check(cert.public_key())
        }
        "RSA PUBLIC KEY" if want.0 == OID_PKCS1_RSAENCRYPTION => RSAPublicKey::from_der(&pem.contents)
            .map(drop)
            .map_err(|_| bad("the RSA PUBLIC KEY block is not a valid PKCS#1 key")),
        label if label.contains("PRIVATE") => Err(bad(
            "it is a private key: the engine needs only the public key, and a private key must never be stored in the project's env",
        )),
        label => Err(bad(&format!("a {label:?} block is neither"))),
    }
}

/// Checks the value of `key` if it is one of the JWT variables; `Ok` for any other key.
/// Messages never quote the value (it may hold an HMAC secret).
pub fn validate_env(key: &str, value: &str) -> Result<(), Invalid> {
    match key {
        JWT_SECRET => {
            let v: Value = serde_json::from_str(value)
                .map_err(|e| format!("{JWT_SECRET} must be a JSON object: {}", json_error(&e)))?;
            validate_config(&v)
        }
        JWT_SECRETS => {
            let v: Value = serde_json::from_str(value).map_err(|e| {
                format!(
                    "{JWT_SECRETS} must be a JSON array of JWT configs: {}",
                    json_error(&e)
                )
            })?;
            let Value::Array(items) = v else {
                return Err(
                    format!("{JWT_SECRETS} must be a JSON array of JWT config objects").into(),
                );
            };
            if items.is_empty() {
                return Err(format!("{JWT_SECRETS} must list at least one JWT config").into());
            }
            for (i, c) in items.iter().enumerate() {
                validate_config(c).map_err(|e| Invalid(format!("entry {i}: {e}")))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// serde's message names line/column only, never the input text.
fn json_error(e: &serde_json::Error) -> String {
    format!(
        "invalid JSON at line {} column {} ({:?})",
        e.line(),
        e.column(),
        e.classify()
    )
}

pub fn validate_config(v: &Value) -> Result<(), Invalid> {
    let Value::Object(o) = v else {
        return Err("the JWT config must be a JSON object".into());
    };
    const KNOWN: &[&str] = &[
        "type",
        "key",
        "jwk_url",
        "claims_namespace",
        "claims_namespace_path",
        "claims_format",
        "audience",
        "issuer",
        "claims_map",
        "allowed_skew",
        "header",
    ];
    if let Some(k) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!(
            "unknown field {k:?}; allowed fields are {}",
            KNOWN.join(", ")
        )
        .into());
    }
    let string = |k: &str| -> Result<Option<&str>, Invalid> {
        match o.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("`{k}` must be a string").into()),
        }
    };
    match (string("key")?, string("jwk_url")?) {
        (None, None) => {
            return Err(
                "set exactly one of `key` (with `type`) or `jwk_url`; both are missing".into(),
            )
        }
        (Some(_), Some(_)) => return Err("set exactly one of `key` or `jwk_url`, not both".into()),
        (Some(key), None) => {
            let Some(ty) = string("type")? else {
                return Err("`type` is required when `key` is set".into());
            };
            if !TYPES.contains(&ty) {
                return Err(format!(
                    "`type` {ty:?} is not supported; use one of {}",
                    TYPES.join(", ")
                )
                .into());
            }
            if let Some(bits) = ty.strip_prefix("HS").and_then(|b| b.parse::<usize>().ok()) {
                if key.len() < bits / 8 {
                    return Err(format!(
                        "an {ty} `key` must be at least {} characters long (it has {})",
                        bits / 8,
                        key.len()
                    )
                    .into());
                }
            } else {
                check_public_key(ty, key)?;
            }
        }
        (None, Some(url)) => {
            let u =
                url::Url::parse(url).map_err(|e| format!("`jwk_url` is not a valid URL: {e}"))?;
            if !matches!(u.scheme(), "http" | "https") {
                return Err("`jwk_url` must be an http(s) URL".into());
            }
            if o.contains_key("type") {
                return Err(
                    "`type` only applies with `key`; remove it when using `jwk_url`".into(),
                );
            }
        }
    }
    if o.contains_key("claims_namespace") && o.contains_key("claims_namespace_path") {
        return Err("set only one of `claims_namespace` or `claims_namespace_path`".into());
    }
    string("claims_namespace")?;
    if let Some(p) = string("claims_namespace_path")? {
        if !p.starts_with('$') {
            return Err("`claims_namespace_path` must be a JSON path starting with `$`".into());
        }
    }
    if let Some(f) = string("claims_format")? {
        if !matches!(f, "json" | "stringified_json") {
            return Err(format!(
                "`claims_format` must be \"json\" or \"stringified_json\", got {f:?}"
            )
            .into());
        }
    }
    string("issuer")?;
    match o.get("audience") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {}
        Some(_) => return Err("`audience` must be a string or a list of strings".into()),
    }
    match o.get("allowed_skew") {
        None => {}
        Some(Value::Number(n)) if n.as_u64().is_some() => {}
        Some(_) => return Err("`allowed_skew` must be a whole number of seconds".into()),
    }
    if let Some(m) = o.get("claims_map") {
        if !m.is_object() {
            return Err("`claims_map` must be an object".into());
        }
    }
    if let Some(h) = o.get("header") {
        let ok = match h.get("type").and_then(Value::as_str) {
            Some("Authorization") => h.as_object().is_some_and(|m| m.len() == 1),
            Some("Cookie") | Some("CustomHeader") => h.get("name").is_some_and(Value::is_string),
            _ => false,
        };
        if !ok {
            return Err("`header` must be {\"type\":\"Authorization\"}, {\"type\":\"Cookie\",\"name\":...} or {\"type\":\"CustomHeader\",\"name\":...}".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: &str) -> Result<(), Invalid> {
        validate_env(JWT_SECRET, v)
    }

    #[test]
    fn accepts_valid_configs() {
        assert!(
            check(r#"{"jwk_url":"https://example.clerk.accounts.dev/.well-known/jwks.json"}"#)
                .is_ok()
        );
        assert!(check(&format!(r#"{{"type":"HS256","key":"{}"}}"#, "k".repeat(32))).is_ok());
        assert!(check(&format!(
            r#"{{"type":"HS512","key":"{}","claims_namespace_path":"$.hasura"}}"#,
            "k".repeat(64)
        ))
        .is_ok());
        for (ty, pem) in [
            ("RS256", RSA_SPKI),
            ("RS512", RSA_PKCS1),
            ("ES256", EC_SPKI),
            ("ES256", EC_CERT),
            ("Ed25519", ED25519_SPKI),
        ] {
            let v = serde_json::json!({"type": ty, "key": pem, "audience": ["a", "b"]});
            assert_eq!(check(&v.to_string()), Ok(()), "{ty} with {pem}");
        }
        assert!(check(r#"{"jwk_url":"https://x/jwks","header":{"type":"Cookie","name":"session"},"claims_format":"stringified_json"}"#).is_ok());
        assert!(validate_env(JWT_SECRETS, r#"[{"jwk_url":"https://x/jwks"}]"#).is_ok());
        assert!(validate_env("OTHER", "not json").is_ok());
    }

    const RSA_SPKI: &str = include_str!("testdata/rsa_spki.pem");
    const RSA_PKCS1: &str = include_str!("testdata/rsa_pkcs1.pem");
    const EC_SPKI: &str = include_str!("testdata/ec_p256_spki.pem");
    const EC_CERT: &str = include_str!("testdata/ec_p256_cert.pem");
    const ED25519_SPKI: &str = include_str!("testdata/ed25519_spki.pem");

    #[test]
    fn asymmetric_keys_must_parse_and_match_the_algorithm() {
        let key =
            |ty: &str, pem: &str| check(&serde_json::json!({"type": ty, "key": pem}).to_string());
        let truncated = &RSA_SPKI[..RSA_SPKI.len() / 2];
        let corrupted = RSA_SPKI.replacen("MII", "M!I", 1);
        let garbled_der = "-----BEGIN PUBLIC KEY-----\nYWJjZGVm\n-----END PUBLIC KEY-----\n";
        let private = "-----BEGIN PRIVATE KEY-----\nYWJjZGVm\n-----END PRIVATE KEY-----\n";
        for (ty, pem, needle) in [
            ("RS256", "abc", "could not be decoded as PEM"),
            ("RS256", truncated, "could not be decoded as PEM"),
            ("RS256", corrupted.as_str(), "could not be decoded as PEM"),
            ("RS256", garbled_der, "not a valid public key"),
            ("RS256", EC_SPKI, "another algorithm"),
            ("ES256", RSA_SPKI, "another algorithm"),
            ("ES384", ED25519_SPKI, "another algorithm"),
            ("Ed25519", EC_CERT, "another algorithm"),
            ("ES256", RSA_PKCS1, "neither"),
            ("RS256", private, "private key"),
        ] {
            let err = key(ty, pem)
                .expect_err(&format!("{ty} with {pem:?} should be refused"))
                .0;
            assert!(
                err.contains(needle),
                "{ty}: {err:?} should mention {needle:?}"
            );
            assert!(err.contains(ty), "{err:?} should name the algorithm");
        }
    }

    #[test]
    fn rejects_what_the_engine_rejects() {
        let secret = "short-secret-value";
        for (v, needle) in [
            ("{}".to_string(), "both are missing"),
            (
                r#"{"jwk_url":"https://x","key":"k","type":"HS256"}"#.to_string(),
                "not both",
            ),
            (
                format!(r#"{{"key":"{}"}}"#, "k".repeat(32)),
                "`type` is required",
            ),
            (
                format!(r#"{{"type":"HS256","key":"{secret}"}}"#),
                "at least 32",
            ),
            (
                format!(r#"{{"type":"HS999","key":"{}"}}"#, "k".repeat(64)),
                "not supported",
            ),
            (r#"{"type":"RS256","key":"abc"}"#.to_string(), "PEM"),
            (
                r#"{"jwk_url":"https://x","claims_namespace":"a","claims_namespace_path":"$.a"}"#
                    .to_string(),
                "only one of",
            ),
            (
                r#"{"jwk_url":"https://x","claims_format":"xml"}"#.to_string(),
                "claims_format",
            ),
            (
                r#"{"jwk_url":"https://x","header":{"type":"Cookie"}}"#.to_string(),
                "header",
            ),
            (r#"{"jwk_url":"notaurl"}"#.to_string(), "jwk_url"),
            (
                r#"{"jwk_url":"https://x","extra":1}"#.to_string(),
                "unknown field",
            ),
            (format!(r#"{{"type":"HS256","key":"{secret}""#), "JSON"),
            ("[]".to_string(), "object"),
        ] {
            let e = check(&v).expect_err(&v).0;
            assert!(e.contains(needle), "{v}: {e}");
            assert!(!e.contains(secret), "secret leaked: {e}");
        }
        assert!(validate_env(JWT_SECRETS, "[]").is_err());
        assert!(validate_env(JWT_SECRETS, r#"[{"jwk_url":"https://x"},{}]"#)
            .unwrap_err()
            .to_string()
            .contains("entry 1"));
    }
}
