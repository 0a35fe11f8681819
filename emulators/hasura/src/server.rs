//! HTTP routes and admin-secret auth.

use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::extract::State;
use axum::http::Method;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::errors::QErr;
use crate::rollout::Engine;
use crate::state::{AppState, Shared};

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/v1/metadata", post(metadata))
        .route("/v2/query", post(query))
        .route("/v1/graphql", post(graphql))
        .route("/api/rest/{*path}", any(rest))
        .route("/healthz", get(healthz))
        .route("/v1/version", get(version))
        .route("/cloud/v1/graphql", post(cloud))
        .with_state(state)
}

/// Hasura's rate limiting is a Cloud feature; its errors use the usual error body.
/// An injected 500 as graphql-engine answers one (`throw500`: code
/// `unexpected`, Hasura/Base/Error.hs); 502 and 503 never come from the
/// engine but from what fronts it, an HTML page.
pub fn server_error_body(status: StatusCode) -> Option<Value> {
    (status == StatusCode::INTERNAL_SERVER_ERROR).then(|| {
        json!({
            "path": "$",
            "error": "an unexpected error occurred",
            "code": "unexpected",
        })
    })
}

pub fn rate_limited_body(retry_after: u64) -> (StatusCode, Value) {
    (
        StatusCode::TOO_MANY_REQUESTS,
        json!({
            "path": "$",
            "error": format!("too many requests, retry after {retry_after} seconds"),
            "code": "rate-limit-exceeded",
        }),
    )
}

fn check_admin(st: &AppState, headers: &HeaderMap) -> Result<(), QErr> {
    let given = headers
        .get("x-hasura-admin-secret")
        .or_else(|| headers.get("x-hasura-access-key"))
        .map(|v| v.to_str().unwrap_or_default());
    match given {
        None => Err(QErr::new(
            StatusCode::UNAUTHORIZED,
            "access-denied",
            "$",
            "x-hasura-admin-secret/x-hasura-access-key required, but not found",
        )),
        Some(s) if s != st.settings.admin_secret => Err(QErr::new(
            StatusCode::UNAUTHORIZED,
            "access-denied",
            "$",
            "invalid x-hasura-admin-secret/x-hasura-access-key",
        )),
        Some(_) => {
            // The admin secret plus a non-admin role runs the request as that role.
            match headers.get("x-hasura-role").and_then(|v| v.to_str().ok()) {
                Some(role) if !role.eq_ignore_ascii_case("admin") => Err(QErr::bad(
                    "access-denied",
                    "$.args",
                    "restricted access : admin only",
                )),
                _ => Ok(()),
            }
        }
    }
}

fn json_body(body: &Bytes) -> Result<Value, QErr> {
    serde_json::from_slice(body).map_err(|e| {
        QErr::bad(
            "invalid-json",
            "$",
            format!("Error in $: Failed reading: not a valid json value ({e})"),
        )
    })
}

fn respond(r: Result<Value, QErr>) -> Response {
    match r {
        Ok(v) => (StatusCode::OK, Json(v)).into_response(),
        Err(e) => {
            if e.status.is_server_error() {
                tracing::warn!(error = %e.error, code = e.code, "request failed");
            }
            e.into_response()
        }
    }
}

async fn metadata(State(st): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(down) = engine_down(&st).await {
        return down;
    }
    let r = async {
        check_admin(&st, &headers)?;
        let v = json_body(&body)?;
        crate::metadata_api::handle(&st, &v).await
    }
    .await;
    respond(r)
}

async fn query(State(st): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(down) = engine_down(&st).await {
        return down;
    }
    let r = async {
        check_admin(&st, &headers)?;
        let v = json_body(&body)?;
        crate::run_sql::handle(&st, &v).await
    }
    .await;
    respond(r)
}

async fn graphql(State(st): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(down) = engine_down(&st).await {
        return down;
    }
    let v = crate::graphql::handle(&st, &headers, &body).await;
    (StatusCode::OK, Json(v)).into_response()
}

/// `rest_endpoints.rs`: a RESTified endpoint.
async fn rest(
    State(st): State<Shared>,
    uri: axum::http::Uri,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(down) = engine_down(&st).await {
        return down;
    }
    let query = query
        .and_then(|q| reqwest::Url::parse(&format!("http://rest/?{q}")).ok())
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    // Raw, so that each segment is decoded on its own (an encoded `/` stays in its segment).
    let path = uri.path().strip_prefix("/api/rest/").unwrap_or_default();
    let req = crate::rest_endpoints::RestRequest {
        method: &method,
        path,
        query,
        headers: &headers,
        body: &body,
    };
    respond(crate::rest_endpoints::serve(&st, req).await)
}

/// `rollout.rs`: not OK while an env change rolls out, nor when the engine
/// cannot boot with its env; then no engine answers, only what fronts the
/// project (503, no engine body).
async fn healthz(State(st): State<Shared>) -> Response {
    match st.engine().await {
        Engine::Up => (StatusCode::OK, "OK").into_response(),
        Engine::Restarting => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Engine::Down(why) => {
            tracing::warn!(error = %why, "engine down");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The engine's own APIs are gone with it when it could not boot
/// (`rollout.rs`); during a rollout the old workers still answer.
async fn engine_down(st: &AppState) -> Option<Response> {
    match st.engine().await {
        Engine::Down(_) => Some(StatusCode::SERVICE_UNAVAILABLE.into_response()),
        Engine::Up | Engine::Restarting => None,
    }
}

async fn version() -> Json<Value> {
    Json(json!({"version": "v2.46.0"}))
}

async fn cloud(State(st): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let v = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::OK,
                Json(json!({"errors": [{"extensions": {"path": "$", "code": "invalid-json"}, "message": e.to_string()}]})),
            )
                .into_response()
        }
    };
    let (status, body, fault) = crate::cloud::handle(&st, &headers, &v).await;
    match fault {
        Some(_) => dropped_connection(),
        None => (status, Json(body)).into_response(),
    }
}

/// A response whose body fails on its first poll: hyper aborts the connection
/// before anything is flushed, so the client sees no answer at all.
fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "emulated connection drop",
        ))
    });
    let mut resp = Response::new(axum::body::Body::from_stream(stream));
    resp.headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
    resp
}
