//! Pieces every provider block shares: settings that fall back to
//! environment variables, and the retry/timeout knobs of the HTTP client.
use std::time::Duration;

use crate::framework::{Attribute, IntBetween, Value};
use crate::http::RetryPolicy;

const DEFAULT_TIMEOUT_SECS: i64 = 30;

/// A provider attribute not known yet at plan (it comes from a resource
/// still to be applied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotYetKnown;

/// A provider attribute, falling back to its environment variable; empty
/// counts as unset. An unknown one never falls back: the environment could
/// name another host, which would get this configuration's credentials.
pub fn setting(attr: &Value<String>, env: &str) -> Result<Option<String>, NotYetKnown> {
    if attr.is_unknown() {
        return Err(NotYetKnown);
    }
    Ok(attr
        .known()
        .cloned()
        .or_else(|| std::env::var(env).ok())
        .filter(|s| !s.is_empty()))
}

/// What a provider says of a setting that is not known yet.
pub fn not_yet_known(attr: &str) -> String {
    format!("The provider's `{attr}` is not known until apply (it comes from a resource not created yet), so this provider cannot reach its API during this plan. Create what it depends on first (`terraform apply -target=...`), or set `{attr}` to a value known at plan.")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Known;

    #[test]
    fn an_unknown_setting_never_falls_back_to_the_environment() {
        let var = "TF_PROVIDERS_TEST_SETTING_FALLBACK";
        std::env::set_var(var, "from-env");
        assert_eq!(setting(&Value::Unknown, var), Err(NotYetKnown));
        assert_eq!(setting(&Value::Null, var), Ok(Some("from-env".into())));
        assert_eq!(setting(&Known("x".into()), var), Ok(Some("x".into())));
        assert_eq!(setting(&Known(String::new()), var), Ok(None));
        std::env::remove_var(var);
        assert_eq!(setting(&Value::Null, var), Ok(None));
    }
}
