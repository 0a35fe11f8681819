use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How often and how the emulator misbehaves. `paths` filters by request path
/// prefix (e.g. `"/v1/jwt_templates"`); `None` means every API route.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    /// Probability in `0..=1` that a request gets a fault.
    pub error_rate: f64,
    /// Added before every matching request, faulted or not.
    pub latency_ms: u64,
    /// Chosen uniformly when a fault fires; empty means all kinds.
    pub kinds: Vec<FaultKind>,
    /// Makes the fault sequence reproducible.
    pub seed: Option<u64>,
    pub paths: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    // serde's snake_case gives "status500"; the counter spelling is accepted too.
    #[serde(alias = "status_500")]
    Status500,
    #[serde(alias = "status_502")]
    Status502,
    #[serde(alias = "status_503")]
    Status503,
    /// 429 with `Retry-After: 1` and the API's rate-limit body.
    TooManyRequests,
    /// The connection is dropped before the handler runs and before any response.
    ConnectionReset,
    /// The handler runs (and commits), then the connection is dropped without
    /// a response: the case that makes non-idempotent retries dangerous.
    LostResponse,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
        FaultKind::TooManyRequests,
        FaultKind::ConnectionReset,
        FaultKind::LostResponse,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            FaultKind::Status500 => "status_500",
            FaultKind::Status502 => "status_502",
            FaultKind::Status503 => "status_503",
            FaultKind::TooManyRequests => "too_many_requests",
            FaultKind::ConnectionReset => "connection_reset",
            FaultKind::LostResponse => "lost_response",
        }
    }
}

/// At most `requests` per fixed window of `window_secs`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct RateLimit {
    pub requests: u32,
    pub window_secs: u64,
}

pub(crate) type RateLimitedBody = fn(u64) -> (StatusCode, Value);

/// The API's own body for an injected 5xx; `None`: the API has none for the
/// status, so the answer is a gateway's HTML page, as in front of the real one.
pub type ServerErrorBody = fn(StatusCode) -> Option<Value>;

/// Shared, runtime-adjustable behaviour of one emulator. Cheap to clone; all
/// clones see the same state.
#[derive(Clone)]
pub struct Control(Arc<Inner>);

struct Inner {
    rate_limited_body: RateLimitedBody,
    server_error: ServerErrorBody,
    state: Mutex<State>,
}

struct State {
    faults: FaultConfig,
    rng: StdRng,
    rate_limit: Option<RateLimit>,
    window: Option<(Instant, u32)>,
    exempt: BTreeSet<String>,
    requests: BTreeMap<String, u64>,
    ops: BTreeMap<String, u64>,
    fault_counts: BTreeMap<String, u64>,
    rate_limited: u64,
}

/// What the middleware should do with one request.
pub(crate) enum Decision {
    Pass,
    RateLimited(u64),
    Fault(FaultKind),
}

impl Control {
    /// `rate_limited_body` builds the API-specific 429 body for a given
    /// `Retry-After` (seconds).
    /// `server_error` answers an injected 5xx as the API would, or `None`
    /// where the API never does and a gateway's page stands in for it.
    pub fn new(
        rate_limited_body: fn(retry_after_secs: u64) -> (StatusCode, Value),
        server_error: ServerErrorBody,
    ) -> Self {
        Control(Arc::new(Inner {
            rate_limited_body,
            server_error,
            state: Mutex::new(State {
                faults: FaultConfig::default(),
                rng: StdRng::from_os_rng(),
                rate_limit: None,
                window: None,
                exempt: BTreeSet::new(),
                requests: BTreeMap::new(),
                ops: BTreeMap::new(),
                fault_counts: BTreeMap::new(),
                rate_limited: 0,
            }),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler must not wedge every later request.
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the fault configuration; a `seed` restarts the random sequence.
    pub fn set_faults(&self, f: FaultConfig) {
        let mut s = self.lock();
        s.rng = match f.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        s.faults = f;
    }

    pub fn faults(&self) -> FaultConfig {
        self.lock().faults.clone()
    }

    /// Sets or clears the rate limit; the window restarts either way.
    pub fn set_rate_limit(&self, r: Option<RateLimit>) {
        let mut s = self.lock();
        s.rate_limit = r;
        s.window = None;
    }

    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.lock().rate_limit
    }

    /// Exempts a route template (e.g. `"/v1/jwks"`, any method) from rate
    /// limiting, for APIs that document unlimited endpoints.
    pub fn exempt_from_rate_limit(&self, route_template: &str) {
        self.lock().exempt.insert(route_template.to_string());
    }

    /// Counts one logical operation, e.g. `"metadata:export_metadata"`.
    pub fn count(&self, label: &str) {
        *self.lock().ops.entry(label.to_string()).or_default() += 1;
    }

    /// `{"requests": {"GET /v1/x": n}, "ops": {..}, "faults": {"status_500": n}, "rate_limited": n}`
    pub fn counters(&self) -> Value {
        let s = self.lock();
        json!({
            "requests": s.requests,
            "ops": s.ops,
            "faults": s.fault_counts,
            "rate_limited": s.rate_limited,
        })
    }

    /// Number of requests seen for `"METHOD /route/template"`.
    pub fn requests(&self, key: &str) -> u64 {
        self.lock().requests.get(key).copied().unwrap_or(0)
    }

    pub fn reset_counters(&self) {
        let mut s = self.lock();
        s.requests.clear();
        s.ops.clear();
        s.fault_counts.clear();
        s.rate_limited = 0;
    }

    /// Counters, faults and the rate-limit window back to a fresh start; a
    /// configured rate limit stays configured.
    pub fn reset(&self) {
        self.reset_counters();
        self.set_faults(FaultConfig::default());
        self.lock().window = None;
    }

    pub(crate) fn rate_limited_response(&self, retry_after: u64) -> (StatusCode, Value) {
        (self.0.rate_limited_body)(retry_after)
    }

    pub(crate) fn server_error_body(&self, status: StatusCode) -> Option<Value> {
        (self.0.server_error)(status)
    }

    /// Counts the request and decides its fate. `route` is the matched
    /// template, `path` the concrete path (fault filters match on it).
    pub(crate) fn decide(&self, method: &str, route: &str, path: &str) -> (Decision, Duration) {
        let mut s = self.lock();
        *s.requests.entry(format!("{method} {route}")).or_default() += 1;

        if let Some(limit) = s.rate_limit {
            if !s.exempt.contains(route) {
                if let Some(retry) = take_slot(&mut s.window, limit, Instant::now()) {
                    s.rate_limited += 1;
                    return (Decision::RateLimited(retry), Duration::ZERO);
                }
            }
        }

        let applies = match &s.faults.paths {
            None => true,
            Some(prefixes) => prefixes.iter().any(|p| path.starts_with(p.as_str())),
        };
        if !applies {
            return (Decision::Pass, Duration::ZERO);
        }
        let latency = Duration::from_millis(s.faults.latency_ms);
        let rate = s.faults.error_rate.clamp(0.0, 1.0);
        if rate <= 0.0 {
            return (Decision::Pass, latency);
        }
        let roll: f64 = s.rng.random();
        if roll >= rate {
            return (Decision::Pass, latency);
        }
        let kind = if s.faults.kinds.is_empty() {
            FaultKind::ALL[s.rng.random_range(0..FaultKind::ALL.len())]
        } else {
            let n = s.faults.kinds.len();
            let i = s.rng.random_range(0..n);
            s.faults.kinds[i]
        };
        *s.fault_counts.entry(kind.label().to_string()).or_default() += 1;
        (Decision::Fault(kind), latency)
    }
}

/// Fixed window: returns `Some(retry_after_secs)` when the request is over
/// the limit, otherwise consumes a slot.
fn take_slot(window: &mut Option<(Instant, u32)>, limit: RateLimit, now: Instant) -> Option<u64> {
    let len = Duration::from_secs(limit.window_secs.max(1));
    let (start, used) = match *window {
        Some((start, used)) if now.duration_since(start) < len => (start, used),
        _ => (now, 0),
    };
    if used >= limit.requests {
        *window = Some((start, used));
        let left = len.saturating_sub(now.duration_since(start));
        // Whole seconds rounded up, so a client that waits exactly this long
        // lands in the next window.
        let secs = left.as_millis().div_ceil(1000) as u64;
        return Some(secs.max(1));
    }
    *window = Some((start, used + 1));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_limits_and_recovers() {
        let limit = RateLimit {
            requests: 2,
            window_secs: 10,
        };
        let t0 = Instant::now();
        let mut w = None;
        assert_eq!(take_slot(&mut w, limit, t0), None);
        assert_eq!(take_slot(&mut w, limit, t0), None);
        assert_eq!(take_slot(&mut w, limit, t0), Some(10));
        assert_eq!(
            take_slot(&mut w, limit, t0 + Duration::from_millis(9_500)),
            Some(1)
        );
        assert_eq!(take_slot(&mut w, limit, t0 + Duration::from_secs(10)), None);
    }

    #[test]
    fn seeded_faults_are_reproducible_and_near_rate() {
        let c = Control::new(|_| (StatusCode::TOO_MANY_REQUESTS, Value::Null), |_| None);
        let run = || {
            c.set_faults(FaultConfig {
                error_rate: 0.3,
                seed: Some(7),
                kinds: vec![FaultKind::Status503],
                ..Default::default()
            });
            (0..1000)
                .map(|_| matches!(c.decide("GET", "/x", "/x").0, Decision::Fault(_)))
                .collect::<Vec<_>>()
        };
        let a = run();
        let b = run();
        assert_eq!(a, b);
        let fired = a.iter().filter(|f| **f).count();
        assert!((240..=360).contains(&fired), "fired {fired}");
        assert_eq!(c.counters()["faults"]["status_503"], 2 * fired as u64);
    }

    #[test]
    fn path_filter_and_exemption() {
        let c = Control::new(|_| (StatusCode::TOO_MANY_REQUESTS, Value::Null), |_| None);
        c.set_faults(FaultConfig {
            error_rate: 1.0,
            paths: Some(vec!["/v1/a".into()]),
            ..Default::default()
        });
        assert!(matches!(
            c.decide("GET", "/v1/b", "/v1/b").0,
            Decision::Pass
        ));
        assert!(matches!(
            c.decide("GET", "/v1/a/{id}", "/v1/a/1").0,
            Decision::Fault(_)
        ));
        c.set_faults(FaultConfig::default());
        c.set_rate_limit(Some(RateLimit {
            requests: 0,
            window_secs: 10,
        }));
        c.exempt_from_rate_limit("/v1/free");
        assert!(matches!(
            c.decide("GET", "/v1/free", "/v1/free").0,
            Decision::Pass
        ));
        assert!(matches!(
            c.decide("GET", "/v1/b", "/v1/b").0,
            Decision::RateLimited(10)
        ));
        assert_eq!(c.requests("GET /v1/free"), 1);
    }
}
