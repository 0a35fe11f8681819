//! `/v1/redirect_urls` answers as the Backend API spec and error catalog say.
mod support;

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{call, only_error};

#[tokio::test]
async fn create_list_get_delete_and_errors() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let (s, a) = call(
        &emu,
        Method::POST,
        "/redirect_urls",
        Some(json!({"url": "https://app.example.com/cb"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    // RedirectURL has additionalProperties: false and these required members.
    let keys: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["object", "id", "url", "created_at", "updated_at"],
        "{a}"
    );
    assert_eq!(a["object"], "redirect_url");
    let (_, b) = call(
        &emu,
        Method::POST,
        "/redirect_urls",
        Some(json!({"url": "myapp://cb"})),
    )
    .await;

    let (s, bare) = call(&emu, Method::GET, "/redirect_urls", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        bare.as_array().unwrap().len(),
        2,
        "bare array unless paginated"
    );
    let (_, page) = call(
        &emu,
        Method::GET,
        "/redirect_urls?paginated=true&limit=1&offset=1",
        None,
    )
    .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"][0]["id"], b["id"]);

    let id = a["id"].as_str().unwrap();
    let (s, got) = call(&emu, Method::GET, &format!("/redirect_urls/{id}"), None).await;
    assert_eq!((s, &got), (StatusCode::OK, &a));
    let (s, del) = call(&emu, Method::DELETE, &format!("/redirect_urls/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        del,
        json!({"object": "redirect_url", "id": id, "deleted": true})
    );

    // RedirectURLNotFound: 404 resource_not_found.
    let (s, gone) = call(&emu, Method::GET, &format!("/redirect_urls/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let e = only_error(&gone);
    assert_eq!(e["code"], "resource_not_found");
    assert_eq!(
        e["long_message"],
        format!("No RedirectURL exists with id: {id}")
    );
    let (s, _) = call(&emu, Method::DELETE, &format!("/redirect_urls/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // InvalidRedirectURL: 422 invalid_redirect_url; a missing url is a form error.
    for bad in ["/relative", "not a url", ""] {
        let (s, body) = call(
            &emu,
            Method::POST,
            "/redirect_urls",
            Some(json!({"url": bad})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {body}");
        assert_eq!(only_error(&body)["code"], "invalid_redirect_url", "{body}");
    }
    let (s, body) = call(&emu, Method::POST, "/redirect_urls", Some(json!({}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(only_error(&body)["code"], "form_param_missing");
    assert_eq!(only_error(&body)["meta"]["param_name"], "url");
}
