//! What the organization, domain and token tests share: an authenticated
//! call and the code of a `ClerkErrors` answer.
#![allow(dead_code)]
use clerk_emulator::ClerkEmulator;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

pub async fn call(
    emu: &ClerkEmulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Client::new()
        .request(method, format!("{}{path}", emu.api_url()))
        .bearer_auth(emu.secret_key());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The first error's code; panics on anything but a `ClerkErrors` body.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not ClerkErrors: {body}"))
}
