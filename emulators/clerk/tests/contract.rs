//! Contract test (issue #13): every operation the emulator serves is in the
//! Backend API spec, and every answer to a realistic scenario -- successes
//! and the main errors -- validates against the schema the spec gives that
//! operation's status code.
mod contract {
    pub mod spec;
    pub mod validate;
}

use std::collections::BTreeSet;

use clerk_emulator::{ClerkConfig, ClerkEmulator};
use contract::spec;
use contract::validate::Validator;
use reqwest::{Client, Method};
use serde_json::{json, Value};

/// Routes that are not Backend API operations: the test controls and the
/// Frontend API's public JWKS (not in the Backend API spec).
const EMULATOR_ONLY: &[(&str, &str)] = &[
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/__emulator/users"),
    ("POST", "/__emulator/sessions/{session_id}/organization"),
    ("GET", "/__emulator/instance"),
];

/// Statuses the real API answers but the spec omits for that operation: the
/// catalog's `resource_not_found` (404) applies to every `{id}` path, yet
/// UpdateJWTTemplate lists only 200/400/402/422. Checked as `ClerkErrors`.
const SPEC_GAPS: &[(&str, &str, u16)] = &[("PATCH", "/jwt_templates/{template_id}", 404)];

struct Exchange {
    method: Method,
    path: String,
    status: u16,
    body: String,
}

struct Driver {
    emu: ClerkEmulator,
    log: Vec<Exchange>,
}

impl Driver {
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

#[tokio::test]
async fn every_answer_matches_the_spec() {
    let spec = spec::load();
    let (served, templates) = served_operations(&spec);
    let emu = ClerkEmulator::start(ClerkConfig::default()).await.unwrap();
    let mut d = Driver {
        emu,
        log: Vec::new(),
    };
    scenario(&mut d).await;

    let v = Validator { spec: &spec };
    let mut violations = Vec::new();
    let mut exercised = BTreeSet::new();
    for x in &d.log {
        let Some(t) = spec::template_of(&templates, &x.path) else {
            violations.push(format!("{} {}: no served operation", x.method, x.path));
            continue;
        };
        let op = format!("{} {t}", x.method);
        if (200..300).contains(&x.status) {
            exercised.insert(op.clone());
        }
        let Some(schema) = response_schema(&spec, &x.method, t, x.status) else {
            violations.push(format!("{op} -> {}: status not documented", x.status));
            continue;
        };
        let Some(schema) = schema else {
            if !x.body.is_empty() {
                violations.push(format!(
                    "{op} -> {}: body where the spec has none",
                    x.status
                ));
            }
            continue;
        };
        let body: Value = match serde_json::from_str(&x.body) {
            Ok(b) => b,
            Err(_) => {
                violations.push(format!("{op} -> {}: body not JSON: {:?}", x.status, x.body));
                continue;
            }
        };
        let paged;
        let schema = if x.path.contains("paginated=true") {
            paged = paginated(&spec, schema);
            &paged
        } else {
            schema
        };
        let mut errs = Vec::new();
        v.check(schema, &body, "$", &mut errs);
        violations.extend(
            errs.into_iter()
                .map(|e| format!("{op} ({}) -> {}: {e}", x.path, x.status)),
        );
    }

    println!("spec operations served and validated:");
    for op in &served {
        let mark = if exercised.contains(op) {
            "ok"
        } else {
            "NOT EXERCISED"
        };
        println!("  {op:<70} {mark}");
    }
    for op in served.difference(&exercised) {
        violations.push(format!("{op}: never answered 2xx in the scenario"));
    }
    assert!(
        violations.is_empty(),
        "{} contract violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// `METHOD /spec/path` for every route; panics on a route the spec lacks.
fn served_operations(spec: &Value) -> (BTreeSet<String>, Vec<String>) {
    let mut served = BTreeSet::new();
    let mut missing = Vec::new();
    let routes = spec::emulator_routes();
    for (method, path) in EMULATOR_ONLY {
        let listed = (method.to_string(), path.to_string());
        assert!(
            routes.contains(&listed),
            "EMULATOR_ONLY lists {listed:?}, routes.rs does not"
        );
    }
    for (method, path) in routes {
        if EMULATOR_ONLY.contains(&(method.as_str(), path.as_str())) {
            continue;
        }
        let api = path.strip_prefix("/v1").unwrap_or(&path);
        match spec::spec_path(spec, api) {
            Some(p) if spec["paths"][&p].get(method.to_lowercase()).is_some() => {
                served.insert(format!("{method} {p}"));
            }
            _ => missing.push(format!("{method} {path}")),
        }
    }
    assert!(
        missing.is_empty(),
        "routes.rs serves operations the spec lacks (add them to the spec or to EMULATOR_ONLY): {missing:?}"
    );
    let templates: BTreeSet<String> = served
        .iter()
        .map(|op| op.split_once(' ').unwrap().1.to_string())
        .collect();
    (served, templates.into_iter().collect())
}

/// The `Paginated` query parameter ("If true, the results will be
/// paginated") turns a list answer into the `{data, total_count}` envelope
/// every other list operation documents (e.g. `JWTTemplate.List` is an
/// array, `Organizations` an envelope); the spec keeps the bare array as the
/// operation's only schema, so the envelope is built here around its items.
fn paginated(spec: &Value, schema: &Value) -> Value {
    let list = contract::validate::resolve(spec, schema);
    assert_eq!(list["type"], "array", "paginated=true on a non-array list");
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["data", "total_count"],
        "properties": {"data": list, "total_count": {"type": "integer"}},
    })
}

/// The schema the spec gives `status` (else `default`). Authentication
/// failures are global (`security: bearerAuth`), so an operation that does
/// not list 401 is checked against `AuthenticationInvalid`.
fn response_schema<'s>(
    spec: &'s Value,
    method: &Method,
    path: &str,
    status: u16,
) -> Option<Option<&'s Value>> {
    let responses = &spec["paths"][path][method.as_str().to_lowercase()]["responses"];
    let resp = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
        .or_else(|| {
            (status == 401).then(|| &spec["components"]["responses"]["AuthenticationInvalid"])
        })
        .or_else(|| {
            let gap = (method.as_str(), path, status);
            SPEC_GAPS
                .contains(&gap)
                .then(|| &spec["components"]["responses"]["ClerkErrors"])
        })?;
    let resp = contract::validate::resolve(spec, resp);
    Some(resp.pointer("/content/application~1json/schema"))
}

/// Creates objects first so reads, updates and deletes have ids, then
/// provokes the main errors of each family.
async fn scenario(d: &mut Driver) {
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

/// The checker itself: each rule catches what it should, so a green
/// contract run means something.
#[test]
fn validator_catches_wrong_shapes() {
    let spec = json!({"components": {"schemas": {
        "Obj": {"type": "object", "additionalProperties": false, "required": ["id", "n"],
                "properties": {"id": {"type": "string"}, "n": {"type": "integer", "nullable": true},
                               "k": {"type": "string", "enum": ["a", "b"]},
                               "xs": {"type": "array", "items": {"type": ["string", "null"]}}}},
        "Either": {"oneOf": [{"$ref": "#/components/schemas/Obj"}, {"type": "string"}]},
    }}});
    let v = Validator { spec: &spec };
    let errors = |schema: Value, value: Value| {
        let mut out = Vec::new();
        v.check(&schema, &value, "$", &mut out);
        out
    };
    let obj = json!({"$ref": "#/components/schemas/Obj"});
    assert!(errors(
        obj.clone(),
        json!({"id": "x", "n": null, "xs": ["a", null]})
    )
    .is_empty());
    let bad = errors(obj.clone(), json!({"n": 1.5, "k": "c", "xs": [1], "zz": 0}));
    for want in [
        "$: missing required member `id`",
        "$.n: expected integer, got 1.5",
        "$.k: \"c\" not in enum",
        "$.xs[0]: expected string|null, got 1",
        "$.zz: member not in schema",
    ] {
        assert!(
            bad.iter().any(|e| e.starts_with(want)),
            "{want} not in {bad:#?}"
        );
    }
    let either = json!({"$ref": "#/components/schemas/Either"});
    assert!(errors(either.clone(), json!("s")).is_empty());
    assert!(errors(either.clone(), json!({"id": "x", "n": 2})).is_empty());
    assert!(errors(either, json!(3))[0].contains("matches none of the 2 oneOf"));
    assert!(errors(json!({"allOf": [obj]}), json!({"id": "x"}))
        .iter()
        .any(|e| e.contains("`n`")));
}

/// routes.rs is read as text: the constant route and the chained methods
/// are understood.
#[test]
fn route_table_is_read() {
    let routes = spec::emulator_routes();
    for (m, p) in [
        ("GET", "/v1/jwks"),
        ("DELETE", "/v1/jwt_templates/{template_id}"),
        ("PATCH", "/v1/domains/{domain_id}"),
        (
            "DELETE",
            "/v1/organization_roles/{organization_role_id}/permissions/{permission_id}",
        ),
        ("POST", "/__emulator/users"),
    ] {
        assert!(
            routes.contains(&(m.to_string(), p.to_string())),
            "{m} {p} not in {routes:?}"
        );
    }
    assert!(!routes.contains(&("POST".to_string(), "/v1/jwks".to_string())));
}
