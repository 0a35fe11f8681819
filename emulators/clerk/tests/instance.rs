//! The instance-level operations answer as the Backend API spec (2025-11-10)
//! and error catalog say: GetInstance/UpdateInstance, UpdateInstanceRestrictions,
//! Get/UpdateInstanceOrganizationSettings, and the allow/block lists.
mod support;

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use support::{call, keys, param_codes};

#[tokio::test]
async fn instance_get_and_update() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let (s, i) = call(&emu, Method::GET, "/instance", None).await;
    assert_eq!(s, StatusCode::OK);
    // Instance: every member required.
    assert_eq!(
        keys(&i),
        [
            "object",
            "id",
            "environment_type",
            "allowed_origins",
            "workspace_id"
        ]
    );
    assert_eq!(i["allowed_origins"], Value::Null);

    // UpdateInstance: 204, no body; absent members are left as they are.
    let body = json!({"allowed_origins": ["capacitor://localhost", "http://localhost:3000"], "hibp": false, "support_email": "help@example.com"});
    let (s, _) = call(&emu, Method::PATCH, "/instance", Some(body)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        &emu,
        Method::PATCH,
        "/instance",
        Some(json!({"test_mode": false})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, i) = call(&emu, Method::GET, "/instance", None).await;
    assert_eq!(
        i["allowed_origins"],
        json!(["capacitor://localhost", "http://localhost:3000"])
    );
    let hidden: Value = Client::new()
        .get(format!("{}/__emulator/instance", emu.frontend_api_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hidden["instance"]["hibp"], false, "{hidden}");
    assert_eq!(hidden["instance"]["test_mode"], false, "{hidden}");
    assert_eq!(hidden["instance"]["support_email"], "help@example.com");

    // 422 with every form error at once; nothing applied.
    let bad = json!({
        "allowed_origins": ["https://ok.example.com", "https://bad.example.com/path"],
        "support_email": "nope",
        "hibp": "yes",
        "enhanced_email_deliverability": true,
        "preferred_sign_in_strategy_when_password_required": "sms",
    });
    let (s, e) = call(&emu, Method::PATCH, "/instance", Some(bad)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let mut got = param_codes(&e);
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("form_invalid_origin", "allowed_origins"),
        ("form_param_format_invalid", "support_email"),
        ("form_param_unknown", "enhanced_email_deliverability"),
        ("form_param_value_invalid", "hibp"),
        (
            "form_param_value_invalid",
            "preferred_sign_in_strategy_when_password_required",
        ),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want, "{e}");
    let (_, i) = call(&emu, Method::GET, "/instance", None).await;
    assert_eq!(i["allowed_origins"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn restrictions_answer_the_whole_object() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let (s, r) = call(
        &emu,
        Method::PATCH,
        "/instance/restrictions",
        Some(json!({"allowlist": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        r,
        json!({
            "object": "instance_restrictions",
            "allowlist": true,
            "blocklist": false,
            "allowlist_blocklist_disabled_on_sign_in": false,
            "block_email_subaddresses": false,
            "block_disposable_email_domains": false,
        })
    );
    // An empty PATCH changes nothing and reports the current values.
    let (_, r) = call(
        &emu,
        Method::PATCH,
        "/instance/restrictions",
        Some(json!({})),
    )
    .await;
    assert_eq!(r["allowlist"], true);
    // There is no read.
    let (s, _) = call(&emu, Method::GET, "/instance/restrictions", None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    let (s, e) = call(
        &emu,
        Method::PATCH,
        "/instance/restrictions",
        Some(json!({"ignore_dots_for_gmail_addresses": true, "blocklist": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(param_codes(&e).len(), 2, "{e}");
}

#[tokio::test]
async fn organization_settings() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let (s, o) = call(&emu, Method::GET, "/instance/organization_settings", None).await;
    assert_eq!(s, StatusCode::OK);
    // OrganizationSettings' required members, and nothing outside its schema.
    for k in [
        "object",
        "enabled",
        "max_allowed_memberships",
        "max_allowed_roles",
        "max_allowed_domains",
        "creator_role",
        "admin_delete_enabled",
        "domains_enabled",
        "domains_enrollment_modes",
        "domains_default_role",
    ] {
        assert!(o.get(k).is_some(), "{k} missing: {o}");
    }
    assert_eq!(o["creator_role"], "org:admin");
    let (s, o) = call(
        &emu,
        Method::PATCH,
        "/instance/organization_settings",
        Some(json!({"enabled": true, "max_allowed_memberships": 20, "domains_enrollment_modes": ["automatic_invitation"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["enabled"], true);
    assert_eq!(o["max_allowed_memberships"], 20);
    assert_eq!(
        o["domains_enrollment_modes"],
        json!(["automatic_invitation"])
    );

    let (s, e) = call(
        &emu,
        Method::PATCH,
        "/instance/organization_settings",
        Some(json!({"creator_role_id": "role_missing"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(
        param_codes(&e),
        [("resource_not_found".into(), "creator_role_id".into())]
    );
    let (s, e) = call(
        &emu,
        Method::PATCH,
        "/instance/organization_settings",
        Some(json!({"max_allowed_memberships": -1, "domains_enrollment_modes": ["bogus"]})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(param_codes(&e).len(), 2, "{e}");
}

#[tokio::test]
async fn allow_and_block_lists() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let (s, a) = call(
        &emu,
        Method::POST,
        "/allowlist_identifiers",
        Some(json!({"identifier": "alice@example.com", "notify": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["object"], "allowlist_identifier");
    assert_eq!(a["identifier_type"], "email_address");
    assert!(a["invitation_id"].as_str().unwrap().starts_with("inv_"));
    let (s, w) = call(
        &emu,
        Method::POST,
        "/allowlist_identifiers",
        Some(json!({"identifier": "0x52908400098527886E0F7030069857D2E4169EE7"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(w["identifier_type"], "web3_wallet");
    assert!(w.get("invitation_id").is_none(), "{w}");

    // Duplicate: 400 duplicate_record (catalog DuplicateAllowlistIdentifier).
    let (s, e) = call(
        &emu,
        Method::POST,
        "/allowlist_identifiers",
        Some(json!({"identifier": "alice@example.com"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(param_codes(&e)[0].0, "duplicate_record");
    // Not an identifier: 422 form_param_format_invalid.
    let (s, e) = call(
        &emu,
        Method::POST,
        "/allowlist_identifiers",
        Some(json!({"identifier": "not an identifier"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        param_codes(&e)[0],
        ("form_param_format_invalid".into(), "identifier".into())
    );

    // Allow-list: bare array unless paginated; limit/offset page.
    let (_, bare) = call(&emu, Method::GET, "/allowlist_identifiers", None).await;
    assert_eq!(bare.as_array().unwrap().len(), 2);
    let (_, page) = call(
        &emu,
        Method::GET,
        "/allowlist_identifiers?paginated=true&limit=1&offset=1",
        None,
    )
    .await;
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"][0]["id"], w["id"]);

    // Block-list: no notify (422 form_param_unknown); list always `{data, total_count}`.
    let (s, e) = call(
        &emu,
        Method::POST,
        "/blocklist_identifiers",
        Some(json!({"identifier": "*@spam.example", "notify": true})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        param_codes(&e),
        [("form_param_unknown".into(), "notify".into())]
    );
    let (s, b) = call(
        &emu,
        Method::POST,
        "/blocklist_identifiers",
        Some(json!({"identifier": "*@spam.example"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["object"], "blocklist_identifier");
    let (_, list) = call(&emu, Method::GET, "/blocklist_identifiers", None).await;
    assert_eq!(list["total_count"], 1);

    // Delete: DeletedObject, then 404 resource_not_found.
    let path = format!("/blocklist_identifiers/{}", b["id"].as_str().unwrap());
    let (s, d) = call(&emu, Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        d,
        json!({"object": "blocklist_identifier", "id": b["id"], "deleted": true})
    );
    let (s, e) = call(&emu, Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(param_codes(&e)[0].0, "resource_not_found");
}
