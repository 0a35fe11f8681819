//! Organization permissions, roles and organizations answer as the
//! Backend API spec (2025-11-10) and the error catalog say.
mod support;

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use support::{call, code, keys};

#[tokio::test]
async fn a_fresh_instance_has_the_default_roles_and_system_permissions() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let (s, perms) = call(
        &emu,
        Method::GET,
        "/organization_permissions?limit=500",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{perms}");
    assert_eq!(keys(&perms), ["data", "total_count"]);
    let sys: Vec<&str> = perms["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["type"], "system", "{p}");
            p["key"].as_str().unwrap()
        })
        .collect();
    assert!(sys.contains(&"org:sys_memberships:read"), "{sys:?}");
    assert!(sys.iter().all(|k| k.starts_with("org:sys_")));

    let (s, roles) = call(&emu, Method::GET, "/organization_roles", None).await;
    assert_eq!(s, StatusCode::OK, "{roles}");
    let data = roles["data"].as_array().unwrap();
    let member = data.iter().find(|r| r["key"] == "org:member").unwrap();
    // Role: additionalProperties false, every required member.
    assert_eq!(
        keys(member),
        [
            "object",
            "id",
            "name",
            "key",
            "description",
            "is_creator_eligible",
            "permissions",
            "created_at",
            "updated_at"
        ]
    );
    let member_perms: Vec<&str> = member["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        member_perms,
        ["org:sys_memberships:read", "org:sys_billing:read"]
    );
    let admin = data.iter().find(|r| r["key"] == "org:admin").unwrap();
    assert_eq!(admin["is_creator_eligible"], true);
    assert_eq!(member["is_creator_eligible"], false);

    // System permissions cannot be changed or deleted.
    let sys_id = perms["data"][0]["id"].as_str().unwrap();
    let path = format!("/organization_permissions/{sys_id}");
    let (s, e) = call(&emu, Method::PATCH, &path, Some(json!({"name": "x"}))).await;
    assert_eq!(
        (s, code(&e)),
        (
            StatusCode::FORBIDDEN,
            "organization_system_permission_not_modifiable"
        )
    );
    let (s, e) = call(&emu, Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");

    // The creator role and the domain default role cannot be deleted.
    for (role, expected) in [
        (admin, "organization_role_default_creator_role"),
        (member, "organization_role_domain_default_role"),
    ] {
        let path = format!("/organization_roles/{}", role["id"].as_str().unwrap());
        let (s, e) = call(&emu, Method::DELETE, &path, None).await;
        assert_eq!((s, code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, expected));
    }
}

#[tokio::test]
async fn permissions_and_roles_lifecycle() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let create = |key: &str| json!({"name": format!("P {key}"), "key": key, "description": "d"});
    let (s, edit) = call(
        &emu,
        Method::POST,
        "/organization_permissions",
        Some(create("org:posts:edit")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{edit}");
    assert_eq!(
        keys(&edit),
        [
            "object",
            "id",
            "name",
            "key",
            "description",
            "type",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(edit["type"], "user");
    let (s, e) = call(
        &emu,
        Method::POST,
        "/organization_permissions",
        Some(create("org:posts:edit")),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "form_identifier_exists")
    );
    assert_eq!(e["errors"][0]["meta"]["param_name"], "key");
    for bad in ["posts:edit", "org:posts", "org:sys_x:y", "org:Posts:edit"] {
        let (s, e) = call(
            &emu,
            Method::POST,
            "/organization_permissions",
            Some(create(bad)),
        )
        .await;
        assert_eq!(
            (s, code(&e)),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "form_param_format_invalid"
            ),
            "{bad}"
        );
    }
    let (s, e) = call(
        &emu,
        Method::POST,
        "/organization_permissions",
        Some(json!({"key": "org:a:b"})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "form_param_missing")
    );
    let (_, read) = call(
        &emu,
        Method::POST,
        "/organization_permissions",
        Some(create("org:posts:read")),
    )
    .await;

    let edit_id = edit["id"].as_str().unwrap();
    let read_id = read["id"].as_str().unwrap();
    let role_body = json!({"name": "Editor", "key": "org:editor", "permissions": [edit_id]});
    let (s, role) = call(
        &emu,
        Method::POST,
        "/organization_roles",
        Some(role_body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{role}");
    assert_eq!(role["permissions"][0]["key"], "org:posts:edit");
    assert_eq!(role["description"], Value::Null);
    let (s, e) = call(&emu, Method::POST, "/organization_roles", Some(role_body)).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "form_identifier_exists")
    );
    let (s, e) = call(
        &emu,
        Method::POST,
        "/organization_roles",
        Some(json!({"name": "X", "key": "editor"})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_format_invalid"
        )
    );
    let (s, e) = call(
        &emu,
        Method::POST,
        "/organization_roles",
        Some(json!({"name": "X", "key": "org:x", "color": "red"})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "form_param_unknown")
    );
    let (s, e) = call(
        &emu,
        Method::POST,
        "/organization_roles",
        Some(json!({"name": "X", "key": "org:x", "permissions": ["perm_nope"]})),
    )
    .await;
    assert_eq!((s, code(&e)), (StatusCode::NOT_FOUND, "resource_not_found"));

    let role_id = role["id"].as_str().unwrap();
    let assign = format!("/organization_roles/{role_id}/permissions/{read_id}");
    let (s, r) = call(&emu, Method::POST, &assign, None).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["permissions"].as_array().unwrap().len(), 2);
    let (s, e) = call(&emu, Method::POST, &assign, None).await;
    assert_eq!(
        (s, code(&e)),
        (
            StatusCode::CONFLICT,
            "organization_role_permission_association_exists"
        )
    );
    let remove = format!("/organization_roles/{role_id}/permissions/{edit_id}");
    let (s, r) = call(&emu, Method::DELETE, &remove, None).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (s, e) = call(&emu, Method::DELETE, &remove, None).await;
    assert_eq!(
        (s, code(&e)),
        (
            StatusCode::NOT_FOUND,
            "organization_role_permission_association_not_found"
        )
    );
    assert_eq!(
        emu.role_permission_history("org:editor"),
        vec![
            vec!["org:posts:edit".to_string()],
            vec!["org:posts:edit".into(), "org:posts:read".into()],
            vec!["org:posts:read".into()],
        ]
    );

    // Deleting a permission takes it off the roles.
    let (s, _) = call(
        &emu,
        Method::DELETE,
        &format!("/organization_permissions/{read_id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, r) = call(
        &emu,
        Method::GET,
        &format!("/organization_roles/{role_id}"),
        None,
    )
    .await;
    assert_eq!(r["permissions"], json!([]));

    // Update in place, key included; list newest first, paged.
    let (s, r) = call(
        &emu,
        Method::PATCH,
        &format!("/organization_roles/{role_id}"),
        Some(json!({"key": "org:writer", "description": "w"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["key"].as_str(), r["description"].as_str()),
        (Some("org:writer"), Some("w"))
    );
    let (_, page) = call(
        &emu,
        Method::GET,
        "/organization_roles?limit=1&offset=0",
        None,
    )
    .await;
    assert_eq!(page["total_count"], 3);
    assert_eq!(page["data"][0]["key"], "org:writer");
    let (_, q) = call(&emu, Method::GET, "/organization_roles?query=writ", None).await;
    assert_eq!(q["total_count"], 1);
    let (s, _) = call(
        &emu,
        Method::DELETE,
        &format!("/organization_roles/{role_id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = call(
        &emu,
        Method::GET,
        &format!("/organization_roles/{role_id}"),
        None,
    )
    .await;
    assert_eq!((s, code(&e)), (StatusCode::NOT_FOUND, "resource_not_found"));
}

#[tokio::test]
async fn organizations_lifecycle() {
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    // The new collections sit behind the same bearer authentication.
    for path in [
        "/organizations",
        "/organization_roles",
        "/organization_permissions",
        "/domains",
    ] {
        let resp = Client::new()
            .get(format!("{}{path}", emu.api_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // A fresh instance has organizations off: CreateOrganization is refused
    // until they are enabled, and a slug while slugs are disabled.
    let at = &emu;
    let settings = |body: Value| async move {
        let (s, _) = call(
            at,
            Method::PATCH,
            "/instance/organization_settings",
            Some(body),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    };
    let refused = |body: Value, code: &'static str| async move {
        let (s, e) = call(at, Method::POST, "/organizations", Some(body)).await;
        assert_eq!(
            (s, e["errors"][0]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some(code)),
            "{e}"
        );
    };
    refused(
        json!({"name": "Early"}),
        "organization_not_enabled_in_instance",
    )
    .await;
    settings(json!({"enabled": true, "slug_disabled": true})).await;
    refused(
        json!({"name": "Slugged", "slug": "slugged"}),
        "organization_slugs_disabled",
    )
    .await;
    settings(json!({"slug_disabled": false})).await;
    let (s, o) = call(&emu, Method::POST, "/organizations", Some(json!({"name": "Acme Inc", "created_by": "user_alice", "public_metadata": {"tier": "gold"}}))).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["slug"], "acme-inc");
    assert_eq!(o["members_count"], 1);
    assert_eq!(o["created_by"], "user_alice");
    for k in [
        "object",
        "id",
        "name",
        "slug",
        "has_image",
        "max_allowed_memberships",
        "admin_delete_enabled",
        "public_metadata",
        "created_at",
        "updated_at",
    ] {
        assert!(o.get(k).is_some(), "required {k} missing: {o}");
    }
    let (s, e) = call(
        &emu,
        Method::POST,
        "/organizations",
        Some(json!({"name": "X", "created_by": "user_nobody"})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::BAD_REQUEST, "organization_creator_not_found")
    );
    let (s, e) = call(
        &emu,
        Method::POST,
        "/organizations",
        Some(json!({"name": "X", "slug": "acme-inc"})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "form_identifier_exists")
    );
    let (s, e) = call(
        &emu,
        Method::POST,
        "/organizations",
        Some(json!({"name": "X", "slug": "Acme_Inc"})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_param_format_invalid"
        )
    );
    let (s, e) = call(
        &emu,
        Method::POST,
        "/organizations",
        Some(json!({"name": "<b>x</b>"})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "form_param_value_invalid")
    );

    let id = o["id"].as_str().unwrap();
    let (s, by_slug) = call(&emu, Method::GET, "/organizations/acme-inc", None).await;
    assert_eq!((s, by_slug["id"].as_str()), (StatusCode::OK, Some(id)));
    let (s, u) = call(
        &emu,
        Method::PATCH,
        &format!("/organizations/{id}"),
        Some(json!({"name": "Acme", "private_metadata": {"a": 1}, "max_allowed_memberships": 0})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["public_metadata"], json!({"tier": "gold"}), "untouched");
    assert_eq!(u["private_metadata"], json!({"a": 1}));
    let (s, e) = call(
        &emu,
        Method::PATCH,
        &format!("/organizations/{id}"),
        Some(json!({"created_by": "user_bob"})),
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNPROCESSABLE_ENTITY, "form_param_unknown")
    );

    // A role held by a member cannot be deleted.
    let (_, role) = call(
        &emu,
        Method::POST,
        "/organization_roles",
        Some(json!({"name": "V", "key": "org:viewer"})),
    )
    .await;
    let (s, m) = call(
        &emu,
        Method::POST,
        &format!("/organizations/{id}/memberships"),
        Some(json!({"user_id": "user_bob", "role": "org:viewer"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    let (s, e) = call(
        &emu,
        Method::DELETE,
        &format!("/organization_roles/{}", role["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(
        (s, code(&e)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "organization_role_assigned_members"
        )
    );

    let (s, d) = call(&emu, Method::DELETE, &format!("/organizations/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        d,
        json!({"object": "organization", "id": id, "slug": "acme-inc", "deleted": true})
    );
    let (s, e) = call(&emu, Method::GET, &format!("/organizations/{id}"), None).await;
    assert_eq!((s, code(&e)), (StatusCode::NOT_FOUND, "resource_not_found"));
}
