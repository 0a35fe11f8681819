//! What the Clerk emulator tests share: the emulator with a client, an
//! authenticated call, and readers of a `ClerkErrors` answer. Each test file
//! uses part of it and adds its own helpers in an `impl Clerk` block.
#![allow(dead_code)]
use std::time::Duration;

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

pub struct Clerk {
    pub emu: ClerkEmulator,
    pub http: Client,
}

impl Clerk {
    pub async fn start() -> Clerk {
        Clerk::with(ClerkConfig::default()).await
    }

    pub async fn with(cfg: ClerkConfig) -> Clerk {
        let emu = ClerkEmulator::start(cfg).await.unwrap();
        let http = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Clerk { emu, http }
    }

    /// An authenticated call: status and JSON answer (null when not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (s, _, b) = self.call_with_headers(method, path, body).await;
        (s, b)
    }

    /// [`Clerk::call`] with the answer's headers.
    pub async fn call_with_headers(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        send(&self.http, &self.emu, method, path, body).await
    }
}

/// An authenticated call for a test that holds the emulator itself.
pub async fn call(
    emu: &ClerkEmulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (s, _, b) = send(&Client::new(), emu, method, path, body).await;
    (s, b)
}

async fn send(
    http: &Client,
    emu: &ClerkEmulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = http
        .request(method, format!("{}{path}", emu.api_url()))
        .bearer_auth(emu.secret_key());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let text = resp.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// The first error's code; panics on anything but a `ClerkErrors` body.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not ClerkErrors: {body}"))
}

/// Every error's code, in order; panics on anything but a `ClerkErrors` body.
pub fn codes(body: &Value) -> Vec<String> {
    errors(body)
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}

/// Every error's code and `meta.param_name` ("" when it names none).
pub fn param_codes(body: &Value) -> Vec<(String, String)> {
    errors(body)
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["meta"]["param_name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The one error of a `ClerkErrors` body, checked for the catalog's shape.
pub fn only_error(body: &Value) -> &Value {
    let errors = errors(body);
    assert_eq!(errors.len(), 1, "{body}");
    assert!(body["clerk_trace_id"].is_string(), "{body}");
    &errors[0]
}

fn errors(body: &Value) -> &Vec<Value> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("not ClerkErrors: {body}"))
}

/// An object's keys in order.
pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}
