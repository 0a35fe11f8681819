//! The instance signing key (a real RSA key, so tokens verify against the
//! published JWKS) and JWS signing for templates with custom keys.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

/// Algorithms a custom signing key may use. Clerk documents no allow-list;
/// these are the ones the emulator can actually mint with.
pub const CUSTOM_ALGORITHMS: &[&str] = &["HS256", "HS384", "HS512", "RS256", "RS384", "RS512"];

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

/// A template's own key, checked when the template is saved so that minting
/// cannot fail later.
pub enum CustomKey {
    Hmac(Box<hmac::Key>),
    Rsa(RsaKeyPair),
}

impl CustomKey {
    /// `None` when `key` is unusable for `alg`.
    pub fn parse(alg: &str, key: &str) -> Option<CustomKey> {
        match alg {
            "HS256" | "HS384" | "HS512" => {
                let algorithm = match alg {
                    "HS256" => hmac::HMAC_SHA256,
                    "HS384" => hmac::HMAC_SHA384,
                    _ => hmac::HMAC_SHA512,
                };
                Some(CustomKey::Hmac(Box::new(hmac::Key::new(
                    algorithm,
                    key.as_bytes(),
                ))))
            }
            "RS256" | "RS384" | "RS512" => parse_rsa_pem(key).map(CustomKey::Rsa),
            _ => None,
        }
    }

    pub fn sign(&self, alg: &str, signing_input: &[u8]) -> anyhow::Result<Vec<u8>> {
        match self {
            CustomKey::Hmac(k) => Ok(hmac::sign(k, signing_input).as_ref().to_vec()),
            CustomKey::Rsa(kp) => rsa_sign(kp, alg, signing_input),
        }
    }
}

fn rsa_sign(key_pair: &RsaKeyPair, alg: &str, msg: &[u8]) -> anyhow::Result<Vec<u8>> {
    let padding: &'static dyn signature::RsaEncoding = match alg {
        "RS384" => &signature::RSA_PKCS1_SHA384,
        "RS512" => &signature::RSA_PKCS1_SHA512,
        _ => &signature::RSA_PKCS1_SHA256,
    };
    let mut sig = vec![0u8; key_pair.public_modulus_len()];
    key_pair
        .sign(padding, &SystemRandom::new(), msg, &mut sig)
        .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
    Ok(sig)
}

/// PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM.
fn parse_rsa_pem(pem: &str) -> Option<RsaKeyPair> {
    let pkcs1 = pem.contains("BEGIN RSA PRIVATE KEY");
    let b64: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(b64).ok()?;
    if pkcs1 {
        RsaKeyPair::from_der(&der).ok()
    } else {
        RsaKeyPair::from_pkcs8(&der).ok()
    }
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
