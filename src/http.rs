//! The one HTTP client each provider process uses: pooled keep-alive
//! connections over rustls, bounded timeouts, and retries with backoff and
//! jitter for faults that a retry can fix. Request bodies and auth headers
//! are never logged.
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter, so parallel applies spread out.
    fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let cap = exp.min(self.max_delay);
        let ms = rand::rng().random_range(cap.as_millis() as u64 / 2..=cap.as_millis() as u64);
        Duration::from_millis(ms)
    }
}

/// Whether repeating the request is harmless if the first attempt landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    Idempotent,
    /// A create: only repeat when the server certainly did not act on it
    /// (connection refused, 429, 503). Otherwise the caller must check.
    Unsafe,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The server answered with a non-success status.
    #[error("HTTP {status}")]
    Status { status: StatusCode, body: String },
    /// No usable answer, and the request may or may not have been applied.
    #[error("{0}")]
    Transport(String),
    #[error("operation cancelled (Terraform asked the provider to stop)")]
    Cancelled,
}

impl HttpError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The HTTP client could not be built (TLS backend, resolver setup).
#[derive(Debug, thiserror::Error)]
#[error("cannot build HTTP client: {0}")]
pub struct BuildError(String);

/// A credential that cannot travel in an HTTP header; names the setting,
/// never the value.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{setting} contains characters that cannot be sent in an HTTP header")]
pub struct BadHeader {
    pub setting: &'static str,
}

/// A header value holding a secret from the setting `setting`: marked
/// sensitive so it is never logged.
pub fn secret_header(setting: &'static str, value: &str) -> Result<HeaderValue, BadHeader> {
    let mut v = HeaderValue::from_str(value).map_err(|_| BadHeader { setting })?;
    v.set_sensitive(true);
    Ok(v)
}

/// An endpoint URL this provider will not talk to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("{url:?} is not a valid URL: {reason}")]
    Invalid { url: String, reason: String },
    #[error("{url:?} uses plain http:// to a non-loopback host; use https:// (plain HTTP is only accepted for 127.0.0.1, ::1 or localhost)")]
    PlainHttp { url: String },
    #[error("{url:?} has unsupported scheme {scheme:?}; use https://")]
    Scheme { url: String, scheme: String },
}

/// Diagnostics take their detail as a `String`.
impl From<EndpointError> for String {
    fn from(e: EndpointError) -> String {
        e.to_string()
    }
}

impl From<BuildError> for String {
    fn from(e: BuildError) -> String {
        e.to_string()
    }
}

impl From<BadHeader> for String {
    fn from(e: BadHeader) -> String {
        e.to_string()
    }
}

pub struct Response {
    pub status: StatusCode,
    pub body: bytes::Bytes,
}

#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    retry: RetryPolicy,
}

impl HttpClient {
    pub fn new(
        user_agent: &str,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, BuildError> {
        let inner = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(60))
            .https_only(false)
            .build()
            .map_err(|e| BuildError(e.to_string()))?;
        Ok(HttpClient { inner, retry })
    }

    /// Sends a request, retrying transient faults. `headers` may hold secrets:
    /// mark them sensitive; they are never logged.
    pub async fn send(
        &self,
        cancel: &CancellationToken,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<&serde_json::Value>,
        idem: Idempotency,
    ) -> Result<Response, HttpError> {
        let mut attempt = 0;
        loop {
            let mut req = self
                .inner
                .request(method.clone(), url)
                .headers(headers.clone());
            if let Some(b) = body {
                req = req.json(b);
            }
            tracing::debug!(%method, url = %redact_query(url), attempt, "HTTP request");
            let res = tokio::select! {
                r = req.send() => r,
                _ = cancel.cancelled() => return Err(HttpError::Cancelled),
            };
            let (retry_after, err) = match res {
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = parse_retry_after(resp.headers().get(RETRY_AFTER));
                    let body = tokio::select! {
                        b = resp.bytes() => b,
                        _ = cancel.cancelled() => return Err(HttpError::Cancelled),
                    };
                    match body {
                        Ok(body) if status.is_success() => {
                            tracing::debug!(%method, url = %redact_query(url), status = status.as_u16(), "HTTP response");
                            return Ok(Response { status, body });
                        }
                        Ok(body) => {
                            let err = HttpError::Status {
                                status,
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            let retryable = match status.as_u16() {
                                429 | 503 => true,
                                500 | 502 | 504 => idem == Idempotency::Idempotent,
                                _ => false,
                            };
                            if !retryable {
                                return Err(err);
                            }
                            (retry_after, err)
                        }
                        // The body was cut off: the server acted, the answer is lost.
                        Err(e) => {
                            let err = HttpError::Transport(format!(
                                "response interrupted: {}",
                                describe(e)
                            ));
                            if idem == Idempotency::Unsafe {
                                return Err(err);
                            }
                            (None, err)
                        }
                    }
                }
                Err(e) => {
                    let connect = e.is_connect();
                    let err = HttpError::Transport(describe(e));
                    // Only a refused connection proves the request never arrived.
                    if idem == Idempotency::Unsafe && !connect {
                        return Err(err);
                    }
                    (None, err)
                }
            };
            if attempt >= self.retry.max_retries {
                return Err(err);
            }
            let wait = retry_after.map_or_else(
                || self.retry.delay(attempt),
                |d| d.min(self.retry.max_delay * 3),
            );
            tracing::info!(%method, url = %redact_query(url), attempt, wait_ms = wait.as_millis() as u64, error = %err, "transient failure; retrying");
            tokio::select! {
                _ = tokio::time::sleep(wait) => {},
                _ = cancel.cancelled() => return Err(HttpError::Cancelled),
            }
            attempt += 1;
        }
    }
}

/// `Retry-After` is delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A
/// date is read in all three forms RFC 9110 §5.6.7 obliges recipients to
/// accept (IMF-fixdate, RFC 850, asctime) and becomes the time left until it;
/// a date already past means "retry now".
fn parse_retry_after(h: Option<&HeaderValue>) -> Option<Duration> {
    retry_after_at(h?.to_str().ok()?, std::time::SystemTime::now())
}

fn retry_after_at(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        // Beyond what a Duration holds is "very long": the caller caps it.
        return (secs >= 0.0 && secs.is_finite())
            .then(|| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// reqwest errors name the URL; we keep the message but never headers.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut msg = format!("{kind}: {e}");
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// Plain `http://` is only acceptable to a loopback host (local emulators);
/// anything else must be TLS so credentials never cross a network in clear.
pub fn check_endpoint(url: &str) -> Result<url::Url, EndpointError> {
    let u = url::Url::parse(url).map_err(|e| EndpointError::Invalid {
        url: url.into(),
        reason: e.to_string(),
    })?;
    match u.scheme() {
        "https" => Ok(u),
        "http" if is_loopback(&u) => Ok(u),
        "http" => Err(EndpointError::PlainHttp { url: url.into() }),
        s => Err(EndpointError::Scheme {
            url: url.into(),
            scheme: s.into(),
        }),
    }
}

pub fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn plain_http_only_for_loopback() {
        assert_checks(
            check_endpoint,
            &[
                "http://127.0.0.1:1234/v1",
                "http://localhost/v1",
                "http://[::1]:80/",
                "https://api.clerk.com/v1",
            ],
            &["http://api.clerk.com/v1", "http://10.0.0.1/v1", "ftp://x"],
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        use std::time::{SystemTime, UNIX_EPOCH};
        // 1994-11-06T08:49:37Z, the example date of RFC 9110 §5.6.7.
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let at = |v: &str| retry_after_at(v, now);
        assert_eq!(at("120"), Some(Duration::from_secs(120)));
        assert_eq!(at(" 0 "), Some(Duration::ZERO));
        assert_eq!(at("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(at("-1"), None);
        assert_eq!(at("NaN"), None);
        // Too large for a Duration (from_secs_f64 would panic): capped later.
        assert_eq!(at("99999999999999999999"), Some(Duration::MAX));
        assert_eq!(at("1e300"), Some(Duration::MAX));
        // IMF-fixdate, and the two obsolete forms a recipient must accept.
        let later = Some(Duration::from_secs(3));
        assert_eq!(at("Sun, 06 Nov 1994 08:49:40 GMT"), later);
        assert_eq!(at("Sunday, 06-Nov-94 08:49:40 GMT"), later);
        assert_eq!(at("Sun Nov  6 08:49:40 1994"), later);
        // A date already past: retry at once rather than not at all.
        assert_eq!(at("Sun, 06 Nov 1994 08:49:00 GMT"), Some(Duration::ZERO));
        assert_eq!(at("Sun, 06 Nov 1994 25:00:00 GMT"), None);
        assert_eq!(at("tomorrow"), None);
        assert_eq!(at(""), None);
        let header = HeaderValue::from_str(&httpdate::fmt_http_date(
            SystemTime::now() + Duration::from_secs(30),
        ))
        .unwrap();
        let wait = parse_retry_after(Some(&header)).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        assert!(p.delay(0) <= Duration::from_millis(100));
        assert!(p.delay(10) <= Duration::from_secs(1));
        assert!(p.delay(10) >= Duration::from_millis(500));
    }
}
