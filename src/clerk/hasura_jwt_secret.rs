//! The `clerk_hasura_jwt_secret` data source: the `HASURA_GRAPHQL_JWT_SECRET`
//! that verifies tokens of a template with a custom signing key. Such tokens
//! are signed with the user's key, not the instance key, so Hasura's
//! `jwk_url` (the instance JWKS) cannot verify them; Hasura needs
//! `{"type": <alg>, "key": <HMAC secret or public key PEM>}` instead
//! (clerk-docs `hasura.mdx`; graphql-engine `Hasura.Server.Auth.JWT`).
//! Computed offline from the key: nothing is sent anywhere.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::validators::quoted_list;

use super::signing_key;
use crate::framework::{AttrPath, Attribute, Ctx, DataSource, Diagnostics, Schema, Value};

pub struct HasuraJwtSecretDataSource;

#[derive(Serialize, Deserialize)]
pub struct Model {
    signing_algorithm: Value<String>,
    signing_key: Value<String>,
    issuer: Value<String>,
    claims_namespace: Value<String>,
    r#type: Value<String>,
    public_key_pem: Value<String>,
    jwt_secret: Value<String>,
}

/// Clerk algorithm -> graphql-engine's JWT `type` (its parser takes HS256/384/512,
/// RS256/384/512, ES256/384/512 and Ed25519; EdDSA keys are Ed25519, RFC 8037).
const HASURA_TYPES: &[(&str, &str)] = &[
    ("HS256", "HS256"),
    ("HS384", "HS384"),
    ("HS512", "HS512"),
    ("RS256", "RS256"),
    ("RS384", "RS384"),
    ("RS512", "RS512"),
    ("ES256", "ES256"),
    ("ES384", "ES384"),
    ("ES512", "ES512"),
    ("EdDSA", "Ed25519"),
];

/// What Hasura gets for one template key. Errors name the problem, never the key.
#[derive(Debug, PartialEq)]
pub struct HasuraKey {
    pub r#type: &'static str,
    /// `key` of the JWT secret: the HMAC secret itself, or the public key PEM.
    pub key: String,
    pub public_key_pem: Option<String>,
}

pub fn hasura_key(alg: &str, signing_key: &str) -> Result<HasuraKey, (&'static str, String)> {
    let Some(&(_, ty)) = HASURA_TYPES.iter().find(|(a, _)| *a == alg) else {
        let supported: Vec<&str> = HASURA_TYPES.iter().map(|(a, _)| *a).collect();
        let why = if alg.starts_with("PS") {
            format!("Hasura cannot verify {alg} tokens: graphql-engine's JWT `type` has no RSASSA-PSS algorithm. Use one of {} in the template (RS256 takes the same RSA key).", quoted_list(&supported))
        } else {
            format!(
                "`signing_algorithm` must be one of {} for a Hasura JWT secret.",
                quoted_list(&supported)
            )
        };
        return Err(("signing_algorithm", why));
    };
    if let Some(bits) = alg.strip_prefix("HS").and_then(|b| b.parse::<usize>().ok()) {
        // graphql-engine refuses a shorter HMAC key at boot.
        if signing_key.len() < bits / 8 {
            return Err((
                "signing_key",
                format!(
                    "Hasura needs an {alg} secret of at least {} characters (this one has {}).",
                    bits / 8,
                    signing_key.len()
                ),
            ));
        }
        return Ok(HasuraKey {
            r#type: ty,
            key: signing_key.to_string(),
            public_key_pem: None,
        });
    }
    let pair = signing_key::parse(alg, signing_key)
        .map_err(|why| ("signing_key", why.to_string()))?
        .ok_or(("signing_algorithm", format!("{alg} has no public key.")))?;
    let pem = pair.public_key_pem();
    Ok(HasuraKey {
        r#type: ty,
        key: pem.clone(),
        public_key_pem: Some(pem),
    })
}

/// The JSON Hasura reads from `HASURA_GRAPHQL_JWT_SECRET`.
fn jwt_secret(k: &HasuraKey, issuer: Option<&str>, namespace: Option<&str>) -> String {
    let mut o = serde_json::Map::new();
    o.insert("type".into(), k.r#type.into());
    o.insert("key".into(), k.key.clone().into());
    if let Some(i) = issuer {
        o.insert("issuer".into(), i.into());
    }
    if let Some(n) = namespace {
        o.insert("claims_namespace".into(), n.into());
    }
    serde_json::Value::Object(o).to_string()
}

#[async_trait]
impl DataSource for HasuraJwtSecretDataSource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "clerk_hasura_jwt_secret"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "The `HASURA_GRAPHQL_JWT_SECRET` value for a `clerk_jwt_template` with `custom_signing_key = true`. Such tokens are signed with the template's own key, so Hasura cannot verify them through the instance JWKS (`jwk_url`); it needs `{\"type\", \"key\"}`: the shared secret for HS256/HS384/HS512, the public key for RS*/ES*/EdDSA (derived here from the private key, which never leaves the provider). Computed offline; nothing is sent to Clerk.",
            vec![
                Attribute::string("signing_algorithm").required().describe(
                    "The template's `signing_algorithm`: `HS256`, `HS384`, `HS512`, `RS256`, `RS384`, `RS512`, `ES256`, `ES384`, `ES512` or `EdDSA` (Hasura's `Ed25519`). Hasura has no PS256/PS384/PS512.",
                ),
                Attribute::string("signing_key").required().sensitive().describe(
                    "The template's `signing_key`: the HMAC secret, or the PEM private key (PKCS#8, PKCS#1 or SEC1). Sensitive. With an HMAC secret the secret itself is Hasura's key; with a private key only its public half is used.",
                ),
                Attribute::string("issuer").optional().describe(
                    "Optional `issuer` Hasura requires in tokens: the instance's Frontend API URL (`data.clerk_jwks.x.issuer`), which Clerk sets as `iss`.",
                ),
                Attribute::string("claims_namespace").optional().describe(
                    "Optional `claims_namespace`: the claim holding the Hasura claims when it is not `https://hasura.io/jwt/claims`.",
                ),
                Attribute::string("type").computed().describe(
                    "Hasura's JWT `type` for the algorithm (`EdDSA` becomes `Ed25519`).",
                ),
                Attribute::string("public_key_pem").computed().describe(
                    "The public key (`-----BEGIN PUBLIC KEY-----`) of an RS*/ES*/EdDSA private key; null for HS*.",
                ),
                Attribute::string("jwt_secret").computed().sensitive().describe(
                    "The JSON for `HASURA_GRAPHQL_JWT_SECRET`: `{\"type\", \"key\"}` plus `issuer` and `claims_namespace` when set. Sensitive, since for HS* it holds the shared secret.",
                ),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        let (Some(alg), Some(key)) = (
            config.signing_algorithm.as_deref(),
            config.signing_key.as_deref(),
        ) else {
            return;
        };
        if let Err((attr, why)) = hasura_key(alg, key) {
            diags.add_attr_error(AttrPath::attr(attr), "Unusable key for Hasura", why);
        }
    }

    async fn read(&self, _ctx: &Ctx, config: Model) -> Result<Model, Diagnostics> {
        let (alg, key) = (
            config.signing_algorithm.str_or(""),
            config.signing_key.str_or(""),
        );
        let k = hasura_key(alg, key).map_err(|(attr, why)| {
            Diagnostics::attr_error(AttrPath::attr(attr), "Unusable key for Hasura", why)
        })?;
        let secret = jwt_secret(
            &k,
            config.issuer.as_deref(),
            config.claims_namespace.as_deref(),
        );
        Ok(Model {
            r#type: k.r#type.to_string().into(),
            public_key_pem: k.public_key_pem.into(),
            jwt_secret: secret.into(),
            ..config
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The Hasura provider's own check (what `hasura_env_var` runs at plan):
    // the pairing is tested against exactly that code.
    use crate::hasura::jwt_secret::validate_env;

    fn pem_of(alg: &'static rcgen::SignatureAlgorithm) -> String {
        rcgen::KeyPair::generate_for(alg).unwrap().serialize_pem()
    }

    /// What Hasura's own validator (the `hasura_env_var` plan check) says.
    fn hasura_accepts(k: &HasuraKey) -> Result<(), String> {
        let json = jwt_secret(k, Some("https://clerk.example.com"), None);
        validate_env("HASURA_GRAPHQL_JWT_SECRET", &json).map_err(|e| e.to_string())
    }

    #[test]
    fn every_pairable_algorithm_yields_a_secret_hasura_accepts() {
        let keys = [
            ("RS256", pem_of(&rcgen::PKCS_RSA_SHA256)),
            ("RS512", pem_of(&rcgen::PKCS_RSA_SHA256)),
            ("ES256", pem_of(&rcgen::PKCS_ECDSA_P256_SHA256)),
            ("ES384", pem_of(&rcgen::PKCS_ECDSA_P384_SHA384)),
            ("ES512", pem_of(&rcgen::PKCS_ECDSA_P521_SHA512)),
            ("EdDSA", pem_of(&rcgen::PKCS_ED25519)),
            ("HS256", "0123456789abcdef0123456789abcdef".to_string()),
            ("HS512", "k".repeat(64)),
        ];
        for (alg, key) in keys {
            let k = hasura_key(alg, &key).unwrap_or_else(|e| panic!("{alg}: {e:?}"));
            hasura_accepts(&k).unwrap_or_else(|e| panic!("{alg}: Hasura refuses {e}"));
            if alg.starts_with("HS") {
                assert_eq!((k.key.as_str(), &k.public_key_pem), (key.as_str(), &None));
            } else {
                assert!(k.key.starts_with("-----BEGIN PUBLIC KEY-----"), "{alg}");
                assert!(!k.key.contains("PRIVATE"), "{alg}");
            }
        }
        assert_eq!(
            hasura_key("EdDSA", &pem_of(&rcgen::PKCS_ED25519))
                .unwrap()
                .r#type,
            "Ed25519"
        );
    }

    #[test]
    fn unpairable_inputs_are_refused_without_quoting_the_key() {
        let rsa = pem_of(&rcgen::PKCS_RSA_SHA256);
        let p256 = pem_of(&rcgen::PKCS_ECDSA_P256_SHA256);
        let cases = [
            ("PS256", rsa.as_str(), "signing_algorithm", "no RSASSA-PSS"),
            ("none", "x", "signing_algorithm", "must be one of"),
            ("ES384", p256.as_str(), "signing_key", "needs an EC P-384"),
            ("RS256", p256.as_str(), "signing_key", "needs an RSA"),
            ("EdDSA", rsa.as_str(), "signing_key", "needs an Ed25519"),
            ("RS256", "not-a-pem-secret", "signing_key", "is not a PEM"),
            (
                "RS256",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                "signing_key",
                "is not a PEM",
            ),
            ("HS256", "short-secret", "signing_key", "at least 32"),
        ];
        for (alg, key, attr, needle) in cases {
            let (a, why) = hasura_key(alg, key).unwrap_err();
            assert_eq!(a, attr, "{alg}");
            assert!(why.contains(needle), "{alg}: {why}");
            assert!(!why.contains(key), "{alg}: the key is quoted");
        }
    }

    #[test]
    fn the_secret_json_carries_issuer_and_namespace_when_set() {
        let k = hasura_key("HS256", &"s".repeat(32)).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&jwt_secret(&k, Some("https://i"), Some("ns"))).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "HS256", "key": "s".repeat(32), "issuer": "https://i", "claims_namespace": "ns"})
        );
        let bare: serde_json::Value = serde_json::from_str(&jwt_secret(&k, None, None)).unwrap();
        assert_eq!(bare.as_object().unwrap().len(), 2);
    }
}
