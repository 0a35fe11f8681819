//! Clerk-looking identifiers: a type prefix and 27 base62 characters (KSUID length).

use rand::distr::{Alphanumeric, SampleString};

pub fn random_base62(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base62(27))
}

pub fn trace_id() -> String {
    let mut s = random_base62(32);
    s.make_ascii_lowercase();
    s
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
