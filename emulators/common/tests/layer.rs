use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use emulator_common::{layer, serve, Control, FaultConfig, FaultKind, RateLimit, Served};
use serde_json::{json, Value};

fn limited_body(secs: u64) -> (StatusCode, Value) {
    (
        StatusCode::TOO_MANY_REQUESTS,
        json!({"errors": [{"code": "too_many_requests", "meta": {"retry_after": secs}}]}),
    )
}

async fn start() -> (Served, Control, Arc<AtomicU64>) {
    let control = Control::new(limited_body, |_| None);
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let c = control.clone();
    let api = Router::new()
        .route("/v1/items/{id}", get(|| async { "item" }))
        .route(
            "/v1/items",
            post(move || {
                let h = h.clone();
                let c = c.clone();
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    c.count("items:create");
                    "created"
                }
            }),
        )
        .route("/v1/free", get(|| async { "free" }));
    control.exempt_from_rate_limit("/v1/free");
    let served = serve(layer(api, control.clone()), 0).await.unwrap();
    (served, control, hits)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn counts_by_route_template_and_op() {
    let (s, control, _) = start().await;
    let c = client();
    assert!(s.url().starts_with("http://127.0.0.1:"));
    for id in ["a", "b", "c"] {
        let r = c
            .get(format!("{}/v1/items/{id}", s.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    c.post(format!("{}/v1/items", s.url()))
        .send()
        .await
        .unwrap();
    let counters: Value = c
        .get(format!("{}/__emulator/counters", s.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["requests"]["GET /v1/items/{id}"], 3);
    assert_eq!(counters["requests"]["POST /v1/items"], 1);
    assert_eq!(counters["ops"]["items:create"], 1);
    assert_eq!(counters["rate_limited"], 0);
    // Control routes are never counted.
    assert!(counters["requests"]
        .get("GET /__emulator/counters")
        .is_none());

    let r = c
        .post(format!("{}/__emulator/reset", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(control.counters()["requests"], json!({}));
    s.stop().await;
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let (s, control, _) = start().await;
    let c = client();
    let r = c
        .put(format!("{}/__emulator/rate_limit", s.url()))
        .json(&RateLimit {
            requests: 3,
            window_secs: 10,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for _ in 0..3 {
        let r = c
            .get(format!("{}/v1/items/x", s.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = c
        .get(format!("{}/v1/items/x", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "too_many_requests");
    assert_eq!(body["errors"][0]["meta"]["retry_after"], retry);
    // Exempt routes and control routes stay reachable.
    let r = c.get(format!("{}/v1/free", s.url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(control.counters()["rate_limited"], 1);

    let r = c
        .put(format!("{}/__emulator/rate_limit", s.url()))
        .json(&Value::Null)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(format!("{}/v1/items/x", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn window_expiry_lets_requests_through_again() {
    let (s, control, _) = start().await;
    control.set_rate_limit(Some(RateLimit {
        requests: 1,
        window_secs: 1,
    }));
    let c = client();
    let url = format!("{}/v1/items/x", s.url());
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn seeded_faults_fire_at_configured_rate() {
    let (s, control, _) = start().await;
    let c = client();
    let cfg = FaultConfig {
        error_rate: 0.25,
        kinds: vec![FaultKind::Status500, FaultKind::Status503],
        seed: Some(42),
        ..Default::default()
    };
    let run = |cfg: FaultConfig| {
        let c = c.clone();
        let url = s.url();
        async move {
            c.put(format!("{url}/__emulator/faults"))
                .json(&cfg)
                .send()
                .await
                .unwrap();
            let mut statuses = Vec::new();
            for _ in 0..200 {
                let r = c.get(format!("{url}/v1/items/x")).send().await.unwrap();
                statuses.push(r.status().as_u16());
            }
            statuses
        }
    };
    control.reset_counters();
    let a = run(cfg.clone()).await;
    let b = run(cfg).await;
    assert_eq!(a, b, "same seed, same sequence");
    let faults = a.iter().filter(|s| **s != 200).count();
    assert!((25..=75).contains(&faults), "{faults} faults of 200");
    assert!(a.iter().all(|s| [200, 500, 503].contains(s)));
    let counters = control.counters();
    let counted = counters["faults"]["status_500"].as_u64().unwrap_or(0)
        + counters["faults"]["status_503"].as_u64().unwrap_or(0);
    assert_eq!(counted, 2 * faults as u64);
}

#[tokio::test]
async fn too_many_requests_fault_has_retry_after_one() {
    let (s, control, _) = start().await;
    control.set_faults(FaultConfig {
        error_rate: 1.0,
        kinds: vec![FaultKind::TooManyRequests],
        ..Default::default()
    });
    let r = client()
        .get(format!("{}/v1/items/x", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
}

#[tokio::test]
async fn latency_is_added() {
    let (s, control, _) = start().await;
    control.set_faults(FaultConfig {
        latency_ms: 300,
        ..Default::default()
    });
    let t = Instant::now();
    let r = client()
        .get(format!("{}/v1/items/x", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn connection_reset_gives_client_error_without_running_handler() {
    let (s, control, hits) = start().await;
    control.set_faults(FaultConfig {
        error_rate: 1.0,
        kinds: vec![FaultKind::ConnectionReset],
        paths: Some(vec!["/v1/items".into()]),
        ..Default::default()
    });
    let c = client();
    for _ in 0..5 {
        let r = c.post(format!("{}/v1/items", s.url())).send().await;
        assert!(r.is_err(), "expected a transport error, got {r:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    assert_eq!(control.counters()["faults"]["connection_reset"], 5);
    // The same client recovers once faults are off.
    control.set_faults(FaultConfig::default());
    let r = c
        .post(format!("{}/v1/items", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn lost_response_runs_handler_then_drops_connection() {
    let (s, control, hits) = start().await;
    control.set_faults(FaultConfig {
        error_rate: 1.0,
        kinds: vec![FaultKind::LostResponse],
        ..Default::default()
    });
    let c = client();
    for _ in 0..3 {
        let r = c.post(format!("{}/v1/items", s.url())).send().await;
        assert!(r.is_err(), "expected a transport error, got {r:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(control.counters()["ops"]["items:create"], 3);
    assert_eq!(control.counters()["faults"]["lost_response"], 3);
}

#[tokio::test]
async fn put_faults_rejects_bad_rate_and_drop_stops_server() {
    let (s, _, _) = start().await;
    let c = client();
    let r = c
        .put(format!("{}/__emulator/faults", s.url()))
        .json(&json!({"error_rate": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let url = s.url();
    drop(s);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fresh = client();
    assert!(fresh.get(format!("{url}/v1/items/x")).send().await.is_err());
}
