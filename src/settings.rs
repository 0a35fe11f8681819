//! Pieces every provider block shares: settings that fall back to
//! environment variables, and the retry/timeout knobs of the HTTP client.
use std::time::Duration;

use crate::framework::{Attribute, IntBetween, Value};
use crate::http::RetryPolicy;

const DEFAULT_TIMEOUT_SECS: i64 = 30;

/// A provider attribute, falling back to its environment variable; empty counts as unset.
pub fn setting(attr: &Value<String>, env: &str) -> Option<String> {
    attr.known()
        .cloned()
        .or_else(|| std::env::var(env).ok())
        .filter(|s| !s.is_empty())
}

/// `max_retries` and `request_timeout`, as every provider block offers them.
pub fn retry_attributes() -> Vec<Attribute> {
    vec![
        Attribute::int("max_retries").optional().validate(IntBetween(0, 20)).describe(format!(
            "How many times a request failing with a transient error (429, 5xx, connection reset, timeout) is retried, with exponential backoff and jitter; `Retry-After` is honoured. Default {}.",
            RetryPolicy::default().max_retries
        )),
        Attribute::int("request_timeout").optional().validate(IntBetween(1, 600)).describe(format!(
            "Timeout of one HTTP request, in seconds. Default {DEFAULT_TIMEOUT_SECS}."
        )),
    ]
}

/// The retry policy and per-request timeout a configured provider block asks for.
pub fn retry_settings(
    max_retries: &Value<i64>,
    request_timeout: &Value<i64>,
) -> (RetryPolicy, Duration) {
    let retry = RetryPolicy {
        max_retries: max_retries
            .known()
            .map_or(RetryPolicy::default().max_retries, |n| *n as u32),
        ..RetryPolicy::default()
    };
    let secs = request_timeout.or(DEFAULT_TIMEOUT_SECS);
    (retry, Duration::from_secs(secs as u64))
}
