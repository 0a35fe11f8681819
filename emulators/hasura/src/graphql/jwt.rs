//! `HASURA_GRAPHQL_JWT_SECRET`: parsing with Hasura's rules, signature verification
//! (static HMAC/RSA/EC/Ed key, or a JWKS fetched from `jwk_url`), the registered-claim
//! checks of the `jose` library Hasura uses, and extraction of the Hasura claims.
//!
//! Error texts follow Hasura's `"Could not verify JWT: " <> show JWTError`.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde_json::{Map, Value};

use super::GqlErr;

pub const DEFAULT_NAMESPACE: &str = "https://hasura.io/jwt/claims";

pub struct JwtConfig {
    key: KeySource,
    audience: Option<Vec<String>>,
    issuer: Option<String>,
    claims: ClaimsSpec,
    /// Seconds of leeway on exp/nbf/iat; jose's default (Hasura's when unset) is 0.
    allowed_skew: f64,
    pub header: TokenHeader,
}

enum KeySource {
    Static(DecodingKey),
    Url(String),
}

enum ClaimsSpec {
    Namespace { at: Namespace, stringified: bool },
    Map(Map<String, Value>),
}

enum Namespace {
    Key(String),
    Path(Vec<PathSeg>),
}

#[derive(Debug, Clone)]
enum PathSeg {
    Key(String),
    Index(usize),
}

pub enum TokenHeader {
    Authorization,
    Cookie(String),
}

fn invalid_jwk(msg: impl std::fmt::Display) -> String {
    format!("Invalid JWK: {msg}")
}

impl JwtConfig {
    /// Hasura's `FromJSON JWTConfig`; an error here would stop a real Hasura from booting.
    pub fn parse(raw: &str) -> Result<JwtConfig, String> {
        let v: Value = serde_json::from_str(raw).map_err(|e| format!("Error in $: {e}"))?;
        let Value::Object(o) = v else {
            return Err("Error in $: parsing JWTConfig failed, expected Object".into());
        };
        let text = |k: &str| -> Result<Option<String>, String> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!(
                    "Error in $.{k}: parsing Text failed, expected String"
                )),
            }
        };
        let at = match (text("claims_namespace_path")?, text("claims_namespace")?) {
            (None, None) => Namespace::Key(DEFAULT_NAMESPACE.into()),
            (Some(p), None) => Namespace::Path(
                parse_json_path(&p)
                    .map_err(|e| format!("invalid JSON path claims_namespace_path error: {e}"))?,
            ),
            (None, Some(ns)) => Namespace::Key(ns),
            (Some(_), Some(_)) => {
                return Err("claims_namespace and claims_namespace_path both cannot be set".into())
            }
        };
        let stringified = match text("claims_format")?.as_deref() {
            None | Some("json") => false,
            Some("stringified_json") => true,
            Some(other) => {
                return Err(format!(
                    "Error in $.claims_format: unknown claims_format {other:?}"
                ))
            }
        };
        let claims = match o.get("claims_map") {
            None | Some(Value::Null) => ClaimsSpec::Namespace { at, stringified },
            Some(Value::Object(m)) => {
                for k in ["x-hasura-allowed-roles", "x-hasura-default-role"] {
                    if !m.contains_key(k) {
                        return Err(format!("{k} is expected but not found"));
                    }
                }
                for (k, v) in m {
                    if let Some(p) = v.get("path") {
                        let p = p.as_str().ok_or("claims_map path must be a string")?;
                        parse_json_path(p).map_err(|e| format!("claims_map.{k}: {e}"))?;
                    }
                }
                ClaimsSpec::Map(m.clone())
            }
            Some(_) => return Err("Error in $.claims_map: expected Object".into()),
        };
        let key = match (text("key")?, text("jwk_url")?) {
            (None, None) => return Err("key and jwk_url both cannot be empty".into()),
            (Some(_), Some(_)) => return Err("key, jwk_url both cannot be present".into()),
            (Some(raw_key), None) => {
                let typ = text("type")?.ok_or("key \"type\" not found")?;
                KeySource::Static(parse_key(&typ, &raw_key)?)
            }
            (None, Some(url)) => KeySource::Url(url),
        };
        let audience = match o.get("audience") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(vec![s.clone()]),
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|x| x.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("Error in $.audience: expected String or [String]")?,
            ),
            Some(_) => return Err("Error in $.audience: expected String or [String]".into()),
        };
        let allowed_skew = match o.get("allowed_skew") {
            None | Some(Value::Null) => 0.0,
            Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
            Some(_) => return Err("Error in $.allowed_skew: expected Number".into()),
        };
        let header = match o.get("header") {
            None | Some(Value::Null) => TokenHeader::Authorization,
            Some(h) => {
                let typ = h.get("type").and_then(Value::as_str).unwrap_or_default();
                if typ.eq_ignore_ascii_case("authorization") {
                    TokenHeader::Authorization
                } else if typ.eq_ignore_ascii_case("cookie") {
                    let name = h
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or("key \"name\" not found")?;
                    TokenHeader::Cookie(name.to_string())
                } else {
                    return Err("expected 'type' is 'Authorization' or 'Cookie'".into());
                }
            }
        };
        Ok(JwtConfig {
            key,
            audience,
            issuer: text("issuer")?,
            claims,
            allowed_skew,
            header,
        })
    }
}

fn parse_key(typ: &str, raw: &str) -> Result<DecodingKey, String> {
    match typ {
        "HS256" | "HS384" | "HS512" => {
            let bits: usize = typ[2..].parse().unwrap_or(256);
            // Hasura's parseHmacKey: the secret's UTF-8 bytes, at least bits/8 of them.
            if raw.len() < bits / 8 {
                return Err(invalid_jwk(format!(
                    "Key size too small; should be atleast {} characters",
                    bits / 8
                )));
            }
            Ok(DecodingKey::from_secret(raw.as_bytes()))
        }
        "RS256" | "RS384" | "RS512" => DecodingKey::from_rsa_pem(raw.as_bytes())
            .map_err(|e| invalid_jwk(format!("Could not decode PEM: {e}"))),
        "ES256" | "ES384" => DecodingKey::from_ec_pem(raw.as_bytes())
            .map_err(|e| invalid_jwk(format!("Could not decode PEM: {e}"))),
        "Ed25519" => DecodingKey::from_ed_pem(raw.as_bytes())
            .map_err(|e| invalid_jwk(format!("Could not decode PEM: {e}"))),
        other => Err(invalid_jwk(format!("Key type: {other} is not supported"))),
    }
}

/// `$`, `$.a.b`, `$['a.b']`, `$["a"]`, `$.a[0]`: the JSON paths Hasura's config takes.
fn parse_json_path(p: &str) -> Result<Vec<PathSeg>, String> {
    let rest = p.strip_prefix('$').ok_or("JSON path must start with $")?;
    let b = rest.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j == start {
                    return Err(format!("empty key in JSON path {p:?}"));
                }
                out.push(PathSeg::Key(rest[start..j].to_string()));
                i = j;
            }
            b'[' => {
                let close = rest[i..]
                    .find(']')
                    .map(|x| x + i)
                    .ok_or_else(|| format!("unclosed [ in JSON path {p:?}"))?;
                let inner = &rest[i + 1..close];
                let quoted = (inner.starts_with('\'') && inner.ends_with('\''))
                    || (inner.starts_with('"') && inner.ends_with('"'));
                if quoted && inner.len() >= 2 {
                    out.push(PathSeg::Key(inner[1..inner.len() - 1].to_string()));
                } else {
                    let n = inner
                        .parse()
                        .map_err(|_| format!("bad index {inner:?} in JSON path {p:?}"))?;
                    out.push(PathSeg::Index(n));
                }
                i = close + 1;
            }
            _ => return Err(format!("unexpected character in JSON path {p:?}")),
        }
    }
    Ok(out)
}

fn follow<'a>(v: &'a Value, path: &[PathSeg]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| match seg {
        PathSeg::Key(k) => cur.get(k),
        PathSeg::Index(n) => cur.get(*n),
    })
}

/// A verification failure; Display gives jose's `show` of the error.
#[derive(Debug)]
pub struct JwtError(pub String);

impl JwtError {
    fn new(s: &str) -> Self {
        JwtError(s.to_string())
    }

    pub fn into_gql(self) -> GqlErr {
        GqlErr::new(
            "invalid-jwt",
            "$",
            format!("Could not verify JWT: {}", self.0),
        )
    }
}

struct CachedJwk {
    kid: Option<String>,
    alg: Option<String>,
    key: DecodingKey,
}

struct CacheEntry {
    keys: Vec<CachedJwk>,
    fetched: Instant,
    /// From Cache-Control max-age / no-cache; `None`: keep until a token names an unknown kid.
    expires: Option<Instant>,
}

/// JWKS per URL. The config is re-read from the env store on every request, so a changed
/// `jwk_url` simply selects another entry.
pub struct JwksCache {
    http: reqwest::Client,
    entries: tokio::sync::Mutex<HashMap<String, CacheEntry>>,
}

/// Refetching on every unknown `kid` would let any caller make us hammer the JWKS host.
const MIN_REFETCH: Duration = Duration::from_secs(1);

impl Default for JwksCache {
    fn default() -> Self {
        JwksCache {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("reqwest client"),
            entries: Default::default(),
        }
    }
}

impl JwksCache {
    async fn keys_for(
        &self,
        url: &str,
        kid: Option<&str>,
    ) -> Vec<(Option<String>, Option<String>, DecodingKey)> {
        let mut entries = self.entries.lock().await;
        let now = Instant::now();
        let stale = match entries.get(url) {
            None => true,
            Some(e) => {
                let expired = e.expires.is_some_and(|t| now >= t);
                let unknown_kid =
                    kid.is_some_and(|k| !e.keys.iter().any(|c| c.kid.as_deref() == Some(k)));
                (expired || unknown_kid) && now.duration_since(e.fetched) >= MIN_REFETCH
            }
        };
        if stale {
            match self.fetch(url).await {
                Ok(entry) => {
                    entries.insert(url.to_string(), entry);
                }
                Err(e) => {
                    // Hasura logs and keeps the previous key set.
                    tracing::warn!(url, error = %e, "fetching JWKS failed");
                    if let Some(old) = entries.get_mut(url) {
                        old.fetched = now;
                    }
                }
            }
        }
        entries
            .get(url)
            .map(|e| {
                e.keys
                    .iter()
                    .map(|c| (c.kid.clone(), c.alg.clone(), c.key.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn fetch(&self, url: &str) -> Result<CacheEntry, String> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("Error fetching JWK: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!(
                "Non-2xx response on fetching JWK from: {url} ({})",
                resp.status()
            ));
        }
        let expires = cache_expiry(resp.headers());
        let body: Value = resp
            .json()
            .await
            .map_err(|e| format!("Error parsing JWK from url: {url}: {e}"))?;
        let list = body
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("Error parsing JWK from url: {url}: no \"keys\" array"))?;
        let keys = list
            .iter()
            .filter_map(|k| {
                let key = jwk_key(k)?;
                Some(CachedJwk {
                    kid: k.get("kid").and_then(Value::as_str).map(str::to_string),
                    alg: k.get("alg").and_then(Value::as_str).map(str::to_string),
                    key,
                })
            })
            .collect();
        Ok(CacheEntry {
            keys,
            fetched: Instant::now(),
            expires,
        })
    }
}

fn cache_expiry(h: &reqwest::header::HeaderMap) -> Option<Instant> {
    let cc = h.get("cache-control")?.to_str().ok()?.to_ascii_lowercase();
    if ["no-cache", "no-store", "must-revalidate"]
        .iter()
        .any(|d| cc.contains(d))
    {
        return Some(Instant::now());
    }
    cc.split(',').find_map(|d| {
        let (k, v) = d.trim().split_once('=')?;
        matches!(k, "max-age" | "s-maxage")
            .then(|| v.trim().parse::<u64>().ok())
            .flatten()
            .map(|s| Instant::now() + Duration::from_secs(s))
    })
}

fn jwk_key(k: &Value) -> Option<DecodingKey> {
    let s = |f: &str| k.get(f).and_then(Value::as_str);
    match s("kty")? {
        "RSA" => DecodingKey::from_rsa_components(s("n")?, s("e")?).ok(),
        "EC" => DecodingKey::from_ec_components(s("x")?, s("y")?).ok(),
        "OKP" => DecodingKey::from_ed_components(s("x")?).ok(),
        "oct" => URL_SAFE_NO_PAD
            .decode(s("k")?)
            .ok()
            .map(|b| DecodingKey::from_secret(&b)),
        _ => None,
    }
}

fn family(alg: Algorithm) -> AlgorithmFamily {
    use Algorithm::*;
    match alg {
        HS256 | HS384 | HS512 => AlgorithmFamily::Hmac,
        ES256 | ES384 => AlgorithmFamily::Ec,
        EdDSA => AlgorithmFamily::Ed,
        _ => AlgorithmFamily::Rsa,
    }
}

fn b64_json(part: &str) -> Result<Value, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::new("JWSError (JSONDecodeError \"Not valid base64url\")"))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| JwtError(format!("JWSError (JSONDecodeError \"{e}\")")))
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// NumericDate claims may be integers or floats; anything else is malformed.
fn numeric(payload: &Value, k: &str) -> Result<Option<f64>, JwtError> {
    match payload.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(JwtError(format!(
            "JWTClaimsSetDecodeError \"Error in $.{k}: expected NumericDate\""
        ))),
    }
}

/// Verifies signature and registered claims; returns the payload.
pub async fn verify(cfg: &JwtConfig, token: &str, cache: &JwksCache) -> Result<Value, JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError(format!(
            "JWSError (CompactDecodeError Invalid number of parts: Expected 3 parts; got {})",
            parts.len()
        )));
    }
    let header = b64_json(parts[0])?;
    let payload = b64_json(parts[1])?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|a| a.parse::<Algorithm>().ok())
        // `none` and unknown algorithms never verify.
        .ok_or_else(|| JwtError::new("JWSError (AlgorithmNotImplemented)"))?;
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates: Vec<DecodingKey> = match &cfg.key {
        KeySource::Static(k) => vec![k.clone()],
        KeySource::Url(url) => cache
            .keys_for(url, kid)
            .await
            .into_iter()
            // jose only tries keys whose kid (and alg, if the JWK states one) fit the token.
            .filter(|(k_kid, k_alg, _)| {
                (kid.is_none() || k_kid.is_none() || k_kid.as_deref() == kid)
                    && k_alg
                        .as_deref()
                        .is_none_or(|a| a.parse::<Algorithm>().ok() == Some(alg))
            })
            .map(|(_, _, k)| k)
            .collect(),
    };
    let usable: Vec<&DecodingKey> = candidates
        .iter()
        .filter(|k| k.family() == family(alg))
        .collect();
    if usable.is_empty() {
        return Err(JwtError::new("JWSError NoUsableKeys"));
    }
    let message = format!("{}.{}", parts[0], parts[1]);
    let ok = usable.iter().any(|k| {
        jsonwebtoken::crypto::verify(parts[2], message.as_bytes(), k, alg).unwrap_or(false)
    });
    if !ok {
        return Err(JwtError::new("JWSError JWSInvalidSignature"));
    }
    check_claims(cfg, &payload, now_secs())?;
    Ok(payload)
}

/// jose's `verifyClaimsAt` with Hasura's settings: exp/nbf/iat with `allowed_skew`; `iss`
/// and `aud` only checked when both the config and the token carry them.
fn check_claims(cfg: &JwtConfig, payload: &Value, now: f64) -> Result<(), JwtError> {
    let skew = cfg.allowed_skew;
    if numeric(payload, "exp")?.is_some_and(|exp| now > exp + skew) {
        return Err(JwtError::new("JWTExpired"));
    }
    if numeric(payload, "nbf")?.is_some_and(|nbf| now < nbf - skew) {
        return Err(JwtError::new("JWTNotYetValid"));
    }
    if numeric(payload, "iat")?.is_some_and(|iat| now < iat - skew) {
        return Err(JwtError::new("JWTIssuedAtFuture"));
    }
    if let (Some(want), Some(got)) = (&cfg.issuer, payload.get("iss")) {
        if got.as_str() != Some(want.as_str()) {
            return Err(JwtError::new("JWTNotInIssuer"));
        }
    }
    if let (Some(want), Some(got)) = (&cfg.audience, payload.get("aud")) {
        let auds: Vec<&str> = match got {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !auds.iter().any(|a| want.iter().any(|w| w == a)) {
            return Err(JwtError::new("JWTNotInAudience"));
        }
    }
    Ok(())
}

/// The `x-hasura-*` claims (lower-cased names), located per the config.
pub fn hasura_claims(cfg: &JwtConfig, payload: &Value) -> Result<Map<String, Value>, GqlErr> {
    let invalid = |m: String| GqlErr::new("jwt-invalid-claims", "$", m);
    match &cfg.claims {
        ClaimsSpec::Namespace { at, stringified } => {
            let (found, location) = match at {
                Namespace::Key(k) => (payload.get(k), format!("claims_namespace {k}")),
                Namespace::Path(p) => (follow(payload, p), "claims_namespace_path".to_string()),
            };
            let Some(found) = found else {
                return Err(invalid(match at {
                    Namespace::Key(k) => format!("claims key: '{k}' not found"),
                    Namespace::Path(_) => "claims not found at claims_namespace_path".into(),
                }));
            };
            let obj = match (stringified, found) {
                (true, Value::String(s)) => match serde_json::from_str::<Value>(s) {
                    Ok(Value::Object(o)) => o,
                    _ => {
                        return Err(invalid(format!(
                            "expecting stringified json at: '{location}', but found: {s}"
                        )))
                    }
                },
                (true, _) => {
                    return Err(invalid(
                        "expecting a string when claims_format is stringified_json".into(),
                    ))
                }
                (false, Value::Object(o)) => o.clone(),
                (false, _) => {
                    return Err(invalid(
                        "expecting a json object when claims_format is json".into(),
                    ))
                }
            };
            Ok(obj
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .filter(|(k, _)| k.starts_with("x-hasura-"))
                .collect())
        }
        ClaimsSpec::Map(m) => {
            let mut out = Map::new();
            for (k, spec) in m {
                let value = match spec {
                    Value::Object(o) if o.contains_key("path") => {
                        let path = o
                            .get("path")
                            .and_then(Value::as_str)
                            .and_then(|p| parse_json_path(p).ok())
                            .unwrap_or_default();
                        match follow(payload, &path) {
                            Some(v) => v.clone(),
                            None => match o.get("default") {
                                Some(d) => d.clone(),
                                None if k.eq_ignore_ascii_case("x-hasura-allowed-roles")
                                    || k.eq_ignore_ascii_case("x-hasura-default-role") =>
                                {
                                    return Err(GqlErr::new(
                                        "jwt-missing-role-claims",
                                        "$",
                                        format!("JWT claim does not contain {k}"),
                                    ))
                                }
                                None => {
                                    return Err(invalid(format!(
                                        "JWT claim from claims_map, {k} not found"
                                    )))
                                }
                            },
                        }
                    }
                    literal => literal.clone(),
                };
                out.insert(k.to_ascii_lowercase(), value);
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(extra: Value) -> JwtConfig {
        let mut base = json!({"type": "HS256", "key": "0123456789abcdef0123456789abcdef"});
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        JwtConfig::parse(&base.to_string()).expect("config")
    }

    #[test]
    fn config_rules_match_hasura() {
        let err = |s: &str| JwtConfig::parse(s).err().expect("should fail");
        assert_eq!(err("{}"), "key and jwk_url both cannot be empty");
        assert_eq!(
            err(r#"{"type":"HS256","key":"short"}"#),
            "Invalid JWK: Key size too small; should be atleast 32 characters"
        );
        assert_eq!(
            err(r#"{"type":"PS256","key":"0123456789abcdef0123456789abcdef"}"#),
            "Invalid JWK: Key type: PS256 is not supported"
        );
        assert!(err(
            r#"{"jwk_url":"http://x","claims_namespace":"a","claims_namespace_path":"$"}"#
        )
        .contains("both cannot be set"));
        assert!(err(r#"{"jwk_url":"http://x","key":"k","type":"HS256"}"#)
            .contains("both cannot be present"));
    }

    #[test]
    fn registered_claims_with_skew() {
        let c = cfg(json!({"allowed_skew": 10, "issuer": "me", "audience": ["a", "b"]}));
        let ok = json!({"exp": 100, "nbf": 50, "iat": 50, "iss": "me", "aud": "b"});
        assert!(check_claims(&c, &ok, 105.0).is_ok());
        assert_eq!(check_claims(&c, &ok, 111.0).unwrap_err().0, "JWTExpired");
        assert_eq!(check_claims(&c, &ok, 39.0).unwrap_err().0, "JWTNotYetValid");
        let bad_iss = json!({"iss": "you"});
        assert_eq!(
            check_claims(&c, &bad_iss, 0.0).unwrap_err().0,
            "JWTNotInIssuer"
        );
        let bad_aud = json!({"aud": ["c"]});
        assert_eq!(
            check_claims(&c, &bad_aud, 0.0).unwrap_err().0,
            "JWTNotInAudience"
        );
        // Absent iss/aud in the token pass, as documented.
        assert!(check_claims(&c, &json!({}), 0.0).is_ok());
    }

    #[test]
    fn namespaces_paths_and_formats() {
        let payload = json!({"hasura": {"claims": {"X-Hasura-User-Id": "u1", "other": 1}},
                             "s": "{\"x-hasura-default-role\":\"user\"}"});
        let c = cfg(json!({"claims_namespace_path": "$.hasura.claims"}));
        assert_eq!(
            Value::Object(hasura_claims(&c, &payload).unwrap()),
            json!({"x-hasura-user-id": "u1"})
        );
        let c = cfg(json!({"claims_namespace": "s", "claims_format": "stringified_json"}));
        assert_eq!(
            hasura_claims(&c, &payload).unwrap()["x-hasura-default-role"],
            "user"
        );
        let c = cfg(json!({}));
        let e = hasura_claims(&c, &payload).unwrap_err();
        assert_eq!(e.code, "jwt-invalid-claims");
        assert_eq!(
            e.message,
            "claims key: 'https://hasura.io/jwt/claims' not found"
        );
        let c = cfg(json!({"claims_map": {
            "x-hasura-allowed-roles": ["user"],
            "x-hasura-default-role": "user",
            "x-hasura-user-id": {"path": "$['hasura'].claims.X-Hasura-User-Id"}
        }}));
        let m = hasura_claims(&c, &payload).unwrap();
        assert_eq!(m["x-hasura-user-id"], "u1");
        assert_eq!(m["x-hasura-allowed-roles"], json!(["user"]));
    }
}
