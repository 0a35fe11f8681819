//! The scenario the contract test drives: objects created first so reads,
//! updates and deletes have ids, then the main errors of each family.
use clerk_emulator::ClerkEmulator;
use reqwest::{Client, Method};
use serde_json::{json, Value};

pub struct Exchange {
    pub method: Method,
    pub path: String,
    pub status: u16,
    pub body: String,
}

pub struct Driver {
    pub emu: ClerkEmulator,
    pub log: Vec<Exchange>,
}

impl Driver {
    /// A body that is not JSON: the `request_body_invalid` (400) path.
    async fn send_raw(&mut self, method: Method, path: &str, raw: &'static str) -> u16 {
        let resp = Client::new()
            .request(method.clone(), format!("{}{path}", self.emu.api_url()))
            .bearer_auth(self.emu.secret_key())
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        self.log.push(Exchange {
            method,
            path: path.to_string(),
            status,
            body,
        });
        status
    }

    async fn send(&mut self, method: Method, path: &str, body: Option<Value>, auth: bool) -> Value {
        let mut req =
            Client::new().request(method.clone(), format!("{}{path}", self.emu.api_url()));
        if auth {
            req = req.bearer_auth(self.emu.secret_key());
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.log.push(Exchange {
            method,
            path: path.to_string(),
            status,
            body: text,
        });
        value
    }

    async fn call(&mut self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.send(method, path, body, true).await
    }

    fn last_status(&self) -> u16 {
        self.log.last().unwrap().status
    }

    /// Asserts the status so that a scenario step that silently failed
    /// cannot pass as "validated".
    async fn expect(
        &mut self,
        status: u16,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let v = self.call(method.clone(), path, body).await;
        assert_eq!(self.last_status(), status, "{method} {path}: {v}");
        v
    }
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// Creates objects first so reads, updates and deletes have ids, then
/// provokes the main errors of each family.
pub async fn scenario(d: &mut Driver) {
    use Method as M;
    // Authentication (401) on a read and a write.
    d.send(M::GET, "/jwt_templates", None, false).await;
    assert_eq!(d.last_status(), 401);
    d.send(
        M::POST,
        "/redirect_urls",
        Some(json!({"url": "https://a.example/cb"})),
        false,
    )
    .await;
    assert_eq!(d.last_status(), 401);

    // JWT templates.
    let t = d
        .expect(
            200,
            M::POST,
            "/jwt_templates",
            Some(json!({"name": "hasura", "claims": {"role": "{{user.id}}"}, "lifetime": 120})),
        )
        .await;
    let tid = id(&t);
    d.expect(200, M::GET, "/jwt_templates", None).await;
    d.expect(200, M::GET, &format!("/jwt_templates/{tid}"), None)
        .await;
    d.expect(
        200,
        M::PATCH,
        &format!("/jwt_templates/{tid}"),
        Some(json!({"name": "hasura", "claims": {"r": 1}, "allowed_clock_skew": 5})),
    )
    .await;
    d.expect(
        422,
        M::POST,
        "/jwt_templates",
        Some(json!({"name": "x", "claims": []})),
    )
    .await;
    d.expect(404, M::GET, "/jwt_templates/jtmp_missing", None)
        .await;
    d.expect(
        404,
        M::PATCH,
        "/jwt_templates/jtmp_missing",
        Some(json!({"name": "x", "claims": {}})),
    )
    .await;
    d.expect(404, M::DELETE, "/jwt_templates/jtmp_missing", None)
        .await;
    d.emu.set_custom_signing_key_needs_upgrade(true);
    d.expect(402, M::POST, "/jwt_templates", Some(json!({"name": "hs", "claims": {}, "custom_signing_key": true, "signing_algorithm": "HS256", "signing_key": "k"})))
        .await;
    d.emu.set_custom_signing_key_needs_upgrade(false);
    let sess = d
        .expect(
            200,
            M::POST,
            "/jwt_templates",
            Some(json!({"name": "sess", "claims": {}})),
        )
        .await;
    d.emu.mark_session_token_template(&id(&sess));
    d.expect(
        403,
        M::DELETE,
        &format!("/jwt_templates/{}", id(&sess)),
        None,
    )
    .await;

    // Session tokens.
    d.expect(
        200,
        M::POST,
        "/sessions/sess_alice/tokens",
        Some(json!({"expires_in_seconds": 600})),
    )
    .await;
    d.expect(200, M::POST, "/sessions/sess_alice/tokens/hasura", None)
        .await;
    d.expect(404, M::POST, "/sessions/sess_nobody/tokens", None)
        .await;
    d.expect(404, M::POST, "/sessions/sess_alice/tokens/missing", None)
        .await;
    d.expect(200, M::DELETE, &format!("/jwt_templates/{tid}"), None)
        .await;

    // Redirect URLs.
    let r = d
        .expect(
            200,
            M::POST,
            "/redirect_urls",
            Some(json!({"url": "https://app.example/cb"})),
        )
        .await;
    d.expect(200, M::GET, "/redirect_urls", None).await;
    d.expect(200, M::GET, "/redirect_urls?paginated=true", None)
        .await;
    d.expect(200, M::GET, &format!("/redirect_urls/{}", id(&r)), None)
        .await;
    d.expect(422, M::POST, "/redirect_urls", Some(json!({})))
        .await;
    d.expect(404, M::GET, "/redirect_urls/redirect_missing", None)
        .await;
    d.expect(200, M::DELETE, &format!("/redirect_urls/{}", id(&r)), None)
        .await;
    d.expect(404, M::DELETE, &format!("/redirect_urls/{}", id(&r)), None)
        .await;

    d.expect(200, M::GET, "/jwks", None).await;

    // Domains.
    d.emu.set_production_domains(true);
    let doms = d.expect(200, M::GET, "/domains", None).await;
    let primary = doms["data"][0]["id"].as_str().unwrap().to_string();
    let sat = d
        .expect(
            200,
            M::POST,
            "/domains",
            Some(json!({"name": "sat.example.com", "is_satellite": true})),
        )
        .await;
    d.expect(
        200,
        M::PATCH,
        &format!("/domains/{}", id(&sat)),
        Some(json!({"proxy_url": "https://sat.example.com/__clerk"})),
    )
    .await;
    d.expect(
        422,
        M::POST,
        "/domains",
        Some(json!({"name": "https://x.example.com", "is_satellite": true})),
    )
    .await;
    d.expect(
        404,
        M::PATCH,
        "/domains/dmn_missing",
        Some(json!({"name": "y.example.com"})),
    )
    .await;
    d.expect(403, M::DELETE, &format!("/domains/{primary}"), None)
        .await;
    d.expect(200, M::DELETE, &format!("/domains/{}", id(&sat)), None)
        .await;
    d.expect(404, M::DELETE, &format!("/domains/{}", id(&sat)), None)
        .await;

    // Instance settings.
    d.expect(200, M::GET, "/instance", None).await;
    d.expect(
        204,
        M::PATCH,
        "/instance",
        Some(json!({"support_email": "help@example.com"})),
    )
    .await;
    d.expect(
        422,
        M::PATCH,
        "/instance",
        Some(json!({"test_mode": "yes"})),
    )
    .await;
    d.expect(
        200,
        M::PATCH,
        "/instance/restrictions",
        Some(json!({"allowlist": true})),
    )
    .await;
    d.expect(
        422,
        M::PATCH,
        "/instance/restrictions",
        Some(json!({"blocklist": 1})),
    )
    .await;
    d.expect(200, M::GET, "/instance/organization_settings", None)
        .await;
    d.expect(
        200,
        M::PATCH,
        "/instance/organization_settings",
        Some(json!({"enabled": true, "max_allowed_memberships": 20})),
    )
    .await;
    d.expect(
        422,
        M::PATCH,
        "/instance/organization_settings",
        Some(json!({"max_allowed_memberships": -1})),
    )
    .await;

    // Allow and block lists.
    for list in ["allowlist_identifiers", "blocklist_identifiers"] {
        let ident = d
            .expect(
                200,
                M::POST,
                &format!("/{list}"),
                Some(json!({"identifier": "*@spam.example"})),
            )
            .await;
        d.expect(200, M::GET, &format!("/{list}"), None).await;
        d.expect(
            422,
            M::POST,
            &format!("/{list}"),
            Some(json!({"identifier": "not an identifier"})),
        )
        .await;
        d.expect(200, M::DELETE, &format!("/{list}/{}", id(&ident)), None)
            .await;
        d.expect(404, M::DELETE, &format!("/{list}/{}", id(&ident)), None)
            .await;
    }

    organizations(d).await;
    more_errors(d).await;
}

/// The 400s and the rarer 4xx each family models.
async fn more_errors(d: &mut Driver) {
    use Method as M;
    assert_eq!(d.send_raw(M::POST, "/redirect_urls", "{").await, 400);
    assert_eq!(d.send_raw(M::POST, "/jwt_templates", "[1]").await, 400);
    assert_eq!(
        d.send_raw(M::POST, "/sessions/sess_alice/tokens", "{")
            .await,
        400
    );
    d.expect(
        400,
        M::POST,
        "/jwt_templates",
        Some(json!({"name": "r", "claims": {"iss": "x"}})),
    )
    .await;
    d.expect(422, M::GET, "/organizations?limit=x", None).await;

    let a = d
        .expect(
            200,
            M::POST,
            "/allowlist_identifiers",
            Some(json!({"identifier": "bob@example.com"})),
        )
        .await;
    d.expect(
        400,
        M::POST,
        "/allowlist_identifiers",
        Some(json!({"identifier": "bob@example.com"})),
    )
    .await;
    d.expect(
        200,
        M::DELETE,
        &format!("/allowlist_identifiers/{}", id(&a)),
        None,
    )
    .await;

    d.expect(
        422,
        M::POST,
        "/domains",
        Some(json!({"name": "p2.example.com", "is_satellite": false})),
    )
    .await;
    d.emu.set_production_domains(false);
    let sat = d
        .expect(
            200,
            M::POST,
            "/domains",
            Some(json!({"name": "dev.example.com", "is_satellite": true})),
        )
        .await;
    d.expect(
        400,
        M::PATCH,
        &format!("/domains/{}", id(&sat)),
        Some(json!({"proxy_url": "https://dev.example.com/__clerk"})),
    )
    .await;

    d.expect(
        400,
        M::POST,
        "/organizations",
        Some(json!({"name": "N", "created_by": "user_nobody"})),
    )
    .await;
    d.expect(
        404,
        M::PATCH,
        "/instance/organization_settings",
        Some(json!({"creator_role_id": "role_missing"})),
    )
    .await;
    let role = d
        .expect(
            200,
            M::POST,
            "/organization_roles",
            Some(json!({"name": "Viewer", "key": "org:viewer"})),
        )
        .await;
    let org = d
        .expect(
            200,
            M::POST,
            "/organizations",
            Some(json!({"name": "Beta"})),
        )
        .await;
    d.expect(
        200,
        M::POST,
        &format!("/organizations/{}/memberships", id(&org)),
        Some(json!({"user_id": "user_bob", "role": "org:viewer"})),
    )
    .await;
    d.expect(
        422,
        M::DELETE,
        &format!("/organization_roles/{}", id(&role)),
        None,
    )
    .await;
    let perm = d
        .expect(
            200,
            M::POST,
            "/organization_permissions",
            Some(json!({"name": "R", "key": "org:posts:read"})),
        )
        .await;
    d.expect(
        404,
        M::DELETE,
        &format!(
            "/organization_roles/{}/permissions/{}",
            id(&role),
            id(&perm)
        ),
        None,
    )
    .await;
}

async fn organizations(d: &mut Driver) {
    use Method as M;
    let p = d
        .expect(
            200,
            M::POST,
            "/organization_permissions",
            Some(json!({"name": "Edit", "key": "org:posts:edit", "description": "d"})),
        )
        .await;
    let pid = id(&p);
    let perms = d
        .expect(200, M::GET, "/organization_permissions", None)
        .await;
    d.expect(
        200,
        M::GET,
        &format!("/organization_permissions/{pid}"),
        None,
    )
    .await;
    d.expect(
        200,
        M::PATCH,
        &format!("/organization_permissions/{pid}"),
        Some(json!({"description": "e"})),
    )
    .await;
    d.expect(
        422,
        M::POST,
        "/organization_permissions",
        Some(json!({"name": "X", "key": "org:sys_x:y"})),
    )
    .await;
    d.expect(404, M::GET, "/organization_permissions/perm_missing", None)
        .await;
    let system = perms["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "system")
        .map(id)
        .expect("a system permission");
    d.expect(
        403,
        M::PATCH,
        &format!("/organization_permissions/{system}"),
        Some(json!({"name": "x"})),
    )
    .await;

    let role = d
        .expect(
            200,
            M::POST,
            "/organization_roles",
            Some(json!({"name": "Editor", "key": "org:editor", "description": "e"})),
        )
        .await;
    let rid = id(&role);
    d.expect(200, M::GET, "/organization_roles", None).await;
    d.expect(200, M::GET, &format!("/organization_roles/{rid}"), None)
        .await;
    d.expect(
        200,
        M::PATCH,
        &format!("/organization_roles/{rid}"),
        Some(json!({"description": "f"})),
    )
    .await;
    let assign = format!("/organization_roles/{rid}/permissions/{pid}");
    d.expect(200, M::POST, &assign, None).await;
    d.expect(409, M::POST, &assign, None).await;
    d.expect(200, M::DELETE, &assign, None).await;
    d.expect(
        404,
        M::POST,
        &format!("/organization_roles/{rid}/permissions/perm_missing"),
        None,
    )
    .await;
    d.expect(
        422,
        M::POST,
        "/organization_roles",
        Some(json!({"name": "X", "key": "editor"})),
    )
    .await;
    d.expect(404, M::GET, "/organization_roles/role_missing", None)
        .await;

    let org = d
        .expect(
            200,
            M::POST,
            "/organizations",
            Some(json!({"name": "Acme", "slug": "acme", "public_metadata": {"tier": "gold"}})),
        )
        .await;
    let oid = id(&org);
    d.expect(200, M::GET, "/organizations", None).await;
    d.expect(200, M::GET, &format!("/organizations/{oid}"), None)
        .await;
    d.expect(200, M::GET, "/organizations/acme", None).await;
    d.expect(
        200,
        M::PATCH,
        &format!("/organizations/{oid}"),
        Some(json!({"name": "Acme Inc"})),
    )
    .await;
    d.expect(
        200,
        M::POST,
        &format!("/organizations/{oid}/memberships"),
        Some(json!({"user_id": "user_alice", "role": "org:editor"})),
    )
    .await;
    d.expect(
        200,
        M::GET,
        &format!("/organizations/{oid}/memberships"),
        None,
    )
    .await;
    d.expect(422, M::POST, "/organizations", Some(json!({"name": ""})))
        .await;
    d.expect(404, M::GET, "/organizations/org_missing", None)
        .await;
    d.expect(
        404,
        M::PATCH,
        "/organizations/org_missing",
        Some(json!({"name": "x"})),
    )
    .await;

    d.expect(200, M::DELETE, &format!("/organizations/{oid}"), None)
        .await;
    d.expect(404, M::DELETE, &format!("/organizations/{oid}"), None)
        .await;
    d.expect(200, M::DELETE, &format!("/organization_roles/{rid}"), None)
        .await;
    d.expect(404, M::DELETE, &format!("/organization_roles/{rid}"), None)
        .await;
    d.expect(
        200,
        M::DELETE,
        &format!("/organization_permissions/{pid}"),
        None,
    )
    .await;
    d.expect(
        404,
        M::DELETE,
        &format!("/organization_permissions/{pid}"),
        None,
    )
    .await;
}
