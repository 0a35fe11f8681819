//! A template's custom private key, read the way the signer needs it: the
//! key family and curve an algorithm signs with (RFC 7518 §3.3-3.5, RFC 8037).
//! Errors name the problem, never the key.

/// What kind of private key `alg` needs, or `None` for HMAC (any secret).
fn family(alg: &str) -> Option<(&'static rcgen::SignatureAlgorithm, &'static str)> {
    match alg {
        "ES256" => Some((&rcgen::PKCS_ECDSA_P256_SHA256, "an EC P-256")),
        "ES384" => Some((&rcgen::PKCS_ECDSA_P384_SHA384, "an EC P-384")),
        "ES512" => Some((&rcgen::PKCS_ECDSA_P521_SHA512, "an EC P-521")),
        "EdDSA" => Some((&rcgen::PKCS_ED25519, "an Ed25519")),
        // rcgen reads every RSA key as PKCS_RSA_SHA256, whatever it signs with.
        a if a.starts_with("RS") || a.starts_with("PS") => {
            Some((&rcgen::PKCS_RSA_SHA256, "an RSA"))
        }
        _ => None,
    }
}

/// Why a signing key does not serve its algorithm; never quotes the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("`signing_key` is not a PEM private key (PKCS#8 `BEGIN PRIVATE KEY`, PKCS#1 `BEGIN RSA PRIVATE KEY` or SEC1 `BEGIN EC PRIVATE KEY`); {alg} needs {kind} private key.")]
    NotPem { alg: String, kind: &'static str },
    #[error("`signing_algorithm` {alg:?} needs {kind} private key; `signing_key` holds another kind of key.")]
    OtherKind { alg: String, kind: &'static str },
}

/// The key pair of an asymmetric `alg`'s PEM private key (PKCS#8, PKCS#1 or
/// SEC1); `Ok(None)` for HMAC algorithms, whose key is any secret.
pub fn parse(alg: &str, pem: &str) -> Result<Option<rcgen::KeyPair>, KeyError> {
    let Some((want, kind)) = family(alg) else {
        return Ok(None);
    };
    let pair = rcgen::KeyPair::from_pem(pem).map_err(|_| KeyError::NotPem {
        alg: alg.to_string(),
        kind,
    })?;
    if pair.algorithm() != want {
        let alg = alg.to_string();
        return Err(KeyError::OtherKind { alg, kind });
    }
    Ok(Some(pair))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_fit_the_algorithm() {
        let rsa = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .unwrap()
            .serialize_pem();
        let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
            .unwrap()
            .serialize_pem();
        for alg in ["RS256", "RS512", "PS256", "PS512"] {
            assert!(parse(alg, &rsa).unwrap().is_some(), "{alg}");
        }
        assert!(parse("ES384", &p384).unwrap().is_some());
        assert!(parse("HS256", "any secret").unwrap().is_none());
        for (alg, key, needle) in [
            ("ES256", &p384, "needs an EC P-256"),
            ("PS256", &p384, "needs an RSA"),
            ("EdDSA", &rsa, "needs an Ed25519"),
            (
                "ES512",
                &"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".to_string(),
                "is not a PEM private key",
            ),
        ] {
            let e = parse(alg, key).map(|_| ()).unwrap_err().to_string();
            assert!(e.contains(needle), "{alg}: {e}");
            assert!(!e.contains("AAAA") && !e.contains(key.as_str()));
        }
    }
}
