//! The instance signing key (a real RSA key, so tokens verify against the
//! published JWKS) and JWS signing for templates with custom keys.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

/// Algorithms a custom signing key may use. The spec gives `signing_algorithm`
/// no enum (CreateJWTTemplate / UpdateJWTTemplate: "The custom signing
/// algorithm to use when minting JWTs", `type: string`) and the error catalog
/// has no algorithm-specific entry, so the emulator takes every JWS signature
/// algorithm of RFC 7518 §3.1 apart from `none`, the set the provider accepts.
pub const CUSTOM_ALGORITHMS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256",
    "PS384", "PS512", "EdDSA",
];

pub struct InstanceKey {
    /// Clerk uses the instance id as the `kid` of the instance key.
    pub kid: String,
    key_pair: RsaKeyPair,
    jwk: Value,
}

impl InstanceKey {
    pub fn generate(kid: String) -> anyhow::Result<Self> {
        let key_pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
        let public = key_pair.public_key();
        let jwk = json!({
            "use": "sig",
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        });
        Ok(InstanceKey { kid, key_pair, jwk })
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk.clone()] })
    }

    pub fn sign_rs256(&self, signing_input: &[u8]) -> anyhow::Result<Vec<u8>> {
        rsa_sign(&self.key_pair, "RS256", signing_input)
    }
}

/// A template's own key, checked against its algorithm when the template is
/// saved so that minting cannot fail later.
pub enum CustomKey {
    Hmac(Box<hmac::Key>),
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl CustomKey {
    /// `None` when `key` is unusable for `alg`: an RSA key for RS*/PS*, a key
    /// on the algorithm's own curve for ES* (RFC 7518 §3.4: P-256, P-384,
    /// P-521), an Ed25519 key for EdDSA (RFC 8037).
    pub fn parse(alg: &str, key: &str) -> Option<CustomKey> {
        let hmac_alg = match alg {
            "HS256" => Some(hmac::HMAC_SHA256),
            "HS384" => Some(hmac::HMAC_SHA384),
            "HS512" => Some(hmac::HMAC_SHA512),
            _ => None,
        };
        if let Some(h) = hmac_alg {
            return Some(CustomKey::Hmac(Box::new(hmac::Key::new(h, key.as_bytes()))));
        }
        let (label, der) = parse_pem(key)?;
        match alg {
            "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => match label.as_str() {
                "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der).ok(),
                "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der).ok(),
                _ => None,
            }
            .map(CustomKey::Rsa),
            "ES256" | "ES384" | "ES512" => {
                let curve = ec_signing(alg)?;
                match label.as_str() {
                    "EC PRIVATE KEY" => EcdsaKeyPair::from_private_key_der(curve, &der).ok(),
                    "PRIVATE KEY" => EcdsaKeyPair::from_pkcs8(curve, &der).ok(),
                    _ => None,
                }
                .map(CustomKey::Ec)
            }
            "EdDSA" if label == "PRIVATE KEY" => Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                .ok()
                .map(CustomKey::Ed),
            _ => None,
        }
    }

    pub fn sign(&self, alg: &str, signing_input: &[u8]) -> anyhow::Result<Vec<u8>> {
        match self {
            CustomKey::Hmac(k) => Ok(hmac::sign(k, signing_input).as_ref().to_vec()),
            CustomKey::Rsa(kp) => rsa_sign(kp, alg, signing_input),
            // JWS wants R || S (RFC 7518 §3.4), the FIXED encoding.
            CustomKey::Ec(kp) => kp
                .sign(&SystemRandom::new(), signing_input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| anyhow::anyhow!("ECDSA signing failed")),
            CustomKey::Ed(kp) => Ok(kp.sign(signing_input).as_ref().to_vec()),
        }
    }
}

fn ec_signing(alg: &str) -> Option<&'static signature::EcdsaSigningAlgorithm> {
    match alg {
        "ES256" => Some(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
        "ES384" => Some(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
        "ES512" => Some(&signature::ECDSA_P521_SHA512_FIXED_SIGNING),
        _ => None,
    }
}

fn rsa_sign(key_pair: &RsaKeyPair, alg: &str, msg: &[u8]) -> anyhow::Result<Vec<u8>> {
    let padding: &'static dyn signature::RsaEncoding = match alg {
        "RS384" => &signature::RSA_PKCS1_SHA384,
        "RS512" => &signature::RSA_PKCS1_SHA512,
        "PS256" => &signature::RSA_PSS_SHA256,
        "PS384" => &signature::RSA_PSS_SHA384,
        "PS512" => &signature::RSA_PSS_SHA512,
        _ => &signature::RSA_PKCS1_SHA256,
    };
    let mut sig = vec![0u8; key_pair.public_modulus_len()];
    key_pair
        .sign(padding, &SystemRandom::new(), msg, &mut sig)
        .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
    Ok(sig)
}

/// The label and DER contents of a single-block PEM (`-----BEGIN <label>-----`).
fn parse_pem(pem: &str) -> Option<(String, Vec<u8>)> {
    let label = pem
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("-----BEGIN "))?
        .strip_suffix("-----")?
        .to_string();
    let b64: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    Some((label, STANDARD.decode(b64).ok()?))
}

/// Compact JWS: `b64(header).b64(payload).b64(signature)`.
pub fn encode_jwt(
    header: &Value,
    payload: &Value,
    sign: impl FnOnce(&[u8]) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<String> {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload)?)
    );
    let sig = sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}
