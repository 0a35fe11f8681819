//! Tokens minted for a session carry its active organization: the session
//! token's `org_*` claims (CreateSessionToken) and the `org` shortcodes of a
//! JWT template.
mod support;

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::call;

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn tokens_carry_the_active_organization() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let on = Some(json!({"enabled": true}));
    let (s, _) = call(&emu, Method::PATCH, "/instance/organization_settings", on).await;
    assert_eq!(s, 200);
    let (_, perm) = call(
        &emu,
        Method::POST,
        "/organization_permissions",
        Some(json!({"name": "E", "key": "org:posts:edit"})),
    )
    .await;
    let (s, _) = call(
        &emu,
        Method::POST,
        "/organization_roles",
        Some(json!({"name": "Editor", "key": "org:editor", "permissions": [perm["id"]]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, acme) = call(
        &emu,
        Method::POST,
        "/organizations",
        Some(json!({"name": "Acme", "slug": "acme", "public_metadata": {"tier": "gold"}})),
    )
    .await;
    let acme_id = acme["id"].as_str().unwrap();
    let (s, m) = call(
        &emu,
        Method::POST,
        &format!("/organizations/{acme_id}/memberships"),
        Some(json!({"user_id": "user_alice", "role": "org:editor"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["permissions"], json!(["org:posts:edit"]));
    let template = json!({"name": "hasura", "claims": {"https://hasura.io/jwt/claims": {
        "x-hasura-org-id": "{{org.id}}",
        "x-hasura-default-role": "{{org.role}}",
        "x-hasura-allowed-roles": ["{{org.role}}"],
        "tier": "{{org.public_metadata.tier}}",
        "orgs": "{{user.organizations}}"
    }}});
    let (s, t) = call(&emu, Method::POST, "/jwt_templates", Some(template)).await;
    assert_eq!(s, StatusCode::OK, "{t}");

    // No active organization: org shortcodes are null, no org claims.
    let (_, tok) = call(&emu, Method::POST, "/sessions/sess_alice/tokens", None).await;
    let c = claims(tok["jwt"].as_str().unwrap());
    assert_eq!(
        (c["sid"].as_str(), c["sub"].as_str()),
        (Some("sess_alice"), Some("user_alice"))
    );
    assert!(c.get("org_id").is_none(), "{c}");

    // Bob is no member: he cannot make acme active.
    assert!(!emu.set_active_organization("sess_bob", "acme"));
    assert!(emu.set_active_organization("sess_alice", "acme"));
    let (_, tok) = call(&emu, Method::POST, "/sessions/sess_alice/tokens", None).await;
    let c = claims(tok["jwt"].as_str().unwrap());
    assert_eq!(c["org_id"], acme_id);
    assert_eq!(c["org_role"], "org:editor");
    assert_eq!(c["org_slug"], "acme");
    assert_eq!(c["org_permissions"], json!(["org:posts:edit"]));
    let (_, tok) = call(
        &emu,
        Method::POST,
        "/sessions/sess_alice/tokens/hasura",
        None,
    )
    .await;
    let c = claims(tok["jwt"].as_str().unwrap());
    let h = &c["https://hasura.io/jwt/claims"];
    assert_eq!(h["x-hasura-org-id"], acme_id);
    assert_eq!(h["x-hasura-default-role"], "org:editor");
    assert_eq!(h["x-hasura-allowed-roles"], json!(["org:editor"]));
    assert_eq!(h["tier"], "gold");
    assert_eq!(h["orgs"], json!({ acme_id: "org:editor" }));

    // Deleting the organization clears it from the session.
    call(
        &emu,
        Method::DELETE,
        &format!("/organizations/{acme_id}"),
        None,
    )
    .await;
    let (_, tok) = call(&emu, Method::POST, "/sessions/sess_alice/tokens", None).await;
    assert!(claims(tok["jwt"].as_str().unwrap()).get("org_id").is_none());
}
