use std::io;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::control::{Control, Decision, FaultConfig, FaultKind, RateLimit};

/// Wraps the API routes of `router` with counting (by `"METHOD <route
/// template>"`), rate limiting, latency and fault injection, and adds the
/// `/__emulator/*` control routes, which none of that applies to.
///
/// `router` must already hold its routes: the middleware is attached per
/// route so that the matched template is known.
pub fn layer(router: Router, control: Control) -> Router {
    let api = router.route_layer(middleware::from_fn_with_state(control.clone(), intercept));
    let control_routes = Router::new()
        .route("/__emulator/counters", get(get_counters))
        .route("/__emulator/reset", post(post_reset))
        .route("/__emulator/faults", put(put_faults).get(get_faults))
        .route(
            "/__emulator/rate_limit",
            put(put_rate_limit).get(get_rate_limit),
        )
        .with_state(control);
    api.merge(control_routes)
}

async fn intercept(State(control): State<Control>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let (decision, latency) = control.decide(&method, &route, &path);

    if let Decision::RateLimited(secs) = decision {
        return too_many_requests(&control, secs);
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Decision::Fault(kind) = decision else {
        return next.run(req).await;
    };
    tracing::debug!(%method, %route, ?kind, "injecting fault");
    match kind {
        FaultKind::Status500 => status_fault(&control, StatusCode::INTERNAL_SERVER_ERROR),
        FaultKind::Status502 => status_fault(&control, StatusCode::BAD_GATEWAY),
        FaultKind::Status503 => status_fault(&control, StatusCode::SERVICE_UNAVAILABLE),
        FaultKind::TooManyRequests => too_many_requests(&control, 1),
        FaultKind::ConnectionReset => aborted_response(),
        FaultKind::LostResponse => {
            // Run to completion (the handler's effects are committed) and
            // throw the real response away.
            let response = next.run(req).await;
            drop(response);
            aborted_response()
        }
    }
}

fn too_many_requests(control: &Control, secs: u64) -> Response {
    let (status, body) = control.rate_limited_response(secs);
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

fn status_fault(control: &Control, status: StatusCode) -> Response {
    match control.server_error_body(status) {
        Some(body) => (status, Json(body)).into_response(),
        None => {
            let reason = status.canonical_reason().unwrap_or("Error");
            let page = format!(
                "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n</body>\r\n</html>\r\n",
                code = status.as_u16()
            );
            let mut resp = (status, page).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            resp
        }
    }
}

/// A response whose body fails on its first poll. Hyper then aborts the
/// connection before flushing anything, so the client sees the connection
/// close with no (complete) response, like a reset or a lost reply.
fn aborted_response() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, io::Error>(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "emulated connection drop",
        ))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    // No Content-Length and no chunked head can make it out before the error.
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    resp
}

async fn get_counters(State(c): State<Control>) -> Json<Value> {
    Json(c.counters())
}

async fn post_reset(State(c): State<Control>) -> Json<Value> {
    c.reset();
    Json(c.counters())
}

async fn put_faults(State(c): State<Control>, Json(f): Json<FaultConfig>) -> Response {
    if !(0.0..=1.0).contains(&f.error_rate) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "error_rate must be within 0..=1"})),
        )
            .into_response();
    }
    c.set_faults(f);
    Json(c.faults()).into_response()
}

async fn get_faults(State(c): State<Control>) -> Json<FaultConfig> {
    Json(c.faults())
}

async fn put_rate_limit(State(c): State<Control>, Json(r): Json<Option<RateLimit>>) -> Json<Value> {
    c.set_rate_limit(r);
    Json(json!(c.rate_limit()))
}

async fn get_rate_limit(State(c): State<Control>) -> Json<Value> {
    Json(json!(c.rate_limit()))
}
