//! Satellite domains (ListDomains, AddDomain, UpdateDomain, DeleteDomain)
//! answer as the Backend API spec (2025-11-10) and the error catalog say.
mod support;

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{call, code};

#[tokio::test]
async fn satellite_domains() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let (s, d) = call(
        &emu,
        Method::POST,
        "/domains",
        Some(json!({"name": "sat.example.com", "is_satellite": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    for k in [
        "object",
        "id",
        "name",
        "is_satellite",
        "frontend_api_url",
        "development_origin",
    ] {
        assert!(d.get(k).is_some(), "required {k} missing: {d}");
    }
    assert_eq!(d["accounts_portal_url"], Value::Null);
    let (s, e) = call(
        &emu,
        Method::POST,
        "/domains",
        Some(json!({"name": "sat.example.com", "is_satellite": true})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "form_identifier_exists")
    );
    let (s, e) = call(
        &emu,
        Method::POST,
        "/domains",
        Some(json!({"name": "x.example.com", "is_satellite": false})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "primary_domain_already_exists"
        )
    );
    let (s, e) = call(
        &emu,
        Method::POST,
        "/domains",
        Some(json!({"name": "https://x.example.com", "is_satellite": true})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_format_invalid"
        )
    );
    // Development instance: no proxy.
    let (s, e) = call(&emu, Method::POST, "/domains", Some(json!({"name": "p.example.com", "is_satellite": true, "proxy_url": "https://p.example.com/__clerk"}))).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::BAD_REQUEST, "domain_update_forbidden")
    );

    let (_, list) = call(&emu, Method::GET, "/domains", None).await;
    assert_eq!(list["total_count"], 2);
    assert_eq!(list["data"][0]["is_satellite"], false);
    let id = d["id"].as_str().unwrap();
    let (s, u) = call(
        &emu,
        Method::PATCH,
        &format!("/domains/{id}"),
        Some(json!({"name": "sat2.example.com"})),
    )
    .await;
    assert_eq!(
        (s, u["name"].as_str()),
        (StatusCode::OK, Some("sat2.example.com"))
    );
    emu.set_production_domains(true);
    let (s, u) = call(
        &emu,
        Method::PATCH,
        &format!("/domains/{id}"),
        Some(json!({"proxy_url": "https://sat2.example.com/__clerk"})),
    )
    .await;
    assert_eq!(
        (s, u["proxy_url"].as_str()),
        (StatusCode::OK, Some("https://sat2.example.com/__clerk"))
    );
    let (s, u) = call(
        &emu,
        Method::PATCH,
        &format!("/domains/{id}"),
        Some(json!({"proxy_url": null})),
    )
    .await;
    assert_eq!((s, &u["proxy_url"]), (StatusCode::OK, &Value::Null));
    let primary = list["data"][0]["id"].as_str().unwrap();
    let (s, e) = call(&emu, Method::DELETE, &format!("/domains/{primary}"), None).await;
    assert_eq!(
        (s, code(&e)),
        (
            StatusCode::FORBIDDEN,
            "operation_not_allowed_on_primary_domain"
        )
    );
    let (s, del) = call(&emu, Method::DELETE, &format!("/domains/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(del, json!({"object": "domain", "id": id, "deleted": true}));
    let (s, e) = call(&emu, Method::DELETE, &format!("/domains/{id}"), None).await;
    assert_eq!((s, code(&e)), (StatusCode::NOT_FOUND, "resource_not_found"));
}
