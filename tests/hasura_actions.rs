//! `hasura_action`, `hasura_action_permission` and `hasura_custom_types` on every core
//! against the Hasura emulator: create (two custom type groups, two actions, a
//! permission, env-var handlers), the export's exact shape, custom types of two
//! resources and one declared out of band all surviving every apply, an empty re-plan,
//! updates in place, out-of-band change and delete shown in plan, import of each
//! resource, a type declared twice refused at apply, END TO END an action mutation of a
//! user role reaching a local handler with its session variables, destroy; the same with
//! a Clerk user's JWT; convergence under lost answers and 5xx; and bad input refused at
//! validate.
mod support;

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use support::hasura::Env;
use support::refusals::{assert_refused_at_validate, hasura_refusals, resource_tf};
use support::{assert_changes, assert_no_changes, for_each_terraform, required_providers};

const CANARY: &str = "canary-action-secret-5d21";

const AUTH_SDL: &str = r#"
"""What login answers"""
type LoginResponse {
  accessToken: String!
  userId: String
}

input Credentials {
  username: String!
  password: String!
}
"#;

fn config(base_url: &str, timeout: i64, auth_sdl: &str) -> String {
    format!(
        r#"{req}
provider "hasura" {{}}

resource "hasura_env_var" "base" {{
  key   = "ACTIONS_BASE_URL"
  value = "{base_url}"
}}

resource "hasura_env_var" "whoami" {{
  key   = "WHOAMI_URL"
  value = "{base_url}/whoami"
}}

resource "hasura_custom_types" "auth" {{
  name = "auth"
  sdl  = <<-EOT
{auth_sdl}
EOT
}}

resource "hasura_custom_types" "common" {{
  name = "common"
  sdl  = "scalar Email\nenum Plan {{ FREE, PRO }}"
}}

resource "hasura_action" "login" {{
  name                   = "login"
  handler                = "{{{{ACTIONS_BASE_URL}}}}/login"
  arguments              = {{ username = "String!", email = "Email" }}
  output_type            = "LoginResponse"
  forward_client_headers = true
  headers                = {{ "X-Action-Secret" = "{CANARY}" }}
  timeout                = {timeout}
  comment                = "logs a user in"
  depends_on             = [hasura_env_var.base, hasura_custom_types.auth, hasura_custom_types.common]
}}

resource "hasura_action" "whoami" {{
  name             = "whoami"
  type             = "query"
  handler_from_env = "WHOAMI_URL"
  output_type      = "[LoginResponse!]!"
  depends_on       = [hasura_env_var.whoami, hasura_custom_types.auth]
}}

resource "hasura_action_permission" "login_user" {{
  action  = hasura_action.login.name
  role    = "user"
  comment = "users log in"
}}
"#,
        req = required_providers()
    )
}

fn type_names(env: &Env) -> Vec<String> {
    let ct = env.metadata()["custom_types"].clone();
    let mut names: Vec<String> = ["input_objects", "objects", "scalars", "enums"]
        .iter()
        .flat_map(|k| ct[k].as_array().cloned().unwrap_or_default())
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn action(env: &Env, name: &str) -> Option<Value> {
    env.metadata()["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["name"] == name)
        .cloned()
}

/// Adds `scalar <name>` to the custom types document behind Terraform's back.
fn add_type_out_of_band(env: &Env, name: &str) {
    let mut doc = env.metadata()["custom_types"].clone();
    if doc.is_null() {
        doc = json!({});
    }
    let scalars = doc["scalars"].as_array().cloned().unwrap_or_default();
    let mut scalars = scalars;
    scalars.push(json!({"name": name}));
    doc["scalars"] = Value::Array(scalars);
    env.meta(json!({"type": "set_custom_types", "args": doc}));
}

type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

/// A handler on 127.0.0.1 answering `login` from the input and the session.
fn start_handler(env: &Env) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = Router::new().route(
        "/login",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push((headers, body.clone()));
                Json(json!({
                    "accessToken": format!("token-for-{}", body["input"]["username"].as_str().unwrap_or("?")),
                    "userId": body["session_variables"]["x-hasura-user-id"],
                }))
            }
        }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    env.rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app).await.unwrap();
    });
    (url, seen)
}

/// As role `user` with a user id session variable and a client header.
fn gql_as_user(env: &Env, query: &str) -> Value {
    let user = [
        ("x-hasura-role", "user"),
        ("x-hasura-user-id", "42"),
        ("x-request-id", "req-7"),
    ];
    env.graphql(&user, query, true)
}

#[test]
fn lifecycle_merge_end_to_end_drift_import_and_destroy() {
    for_each_terraform(|tf| {
        let env = Env::start();
        let (base, seen) = start_handler(&env);
        let wd = env.workdir(tf);
        // A type declared outside Terraform before the first apply.
        add_type_out_of_band(&env, "Legacy");
        wd.write("main.tf", &config(&base, 30, AUTH_SDL));
        let out = wd.apply();
        assert!(
            !out.combined().contains(CANARY),
            "a header value leaked into the apply output"
        );

        // Both groups and the out-of-band type are all in the one document.
        assert_eq!(
            type_names(&env),
            ["Credentials", "Email", "Legacy", "LoginResponse", "Plan"]
        );
        assert_eq!(
            action(&env, "login").unwrap(),
            json!({"name": "login", "definition": {
                "handler": "{{ACTIONS_BASE_URL}}/login",
                "output_type": "LoginResponse",
                "forward_client_headers": true,
                "headers": [{"name": "X-Action-Secret", "value": CANARY}],
                "arguments": [{"name": "email", "type": "Email"}, {"name": "username", "type": "String!"}],
                "type": "mutation", "kind": "synchronous"
            }, "comment": "logs a user in", "permissions": [{"role": "user", "comment": "users log in"}]})
        );
        let whoami = action(&env, "whoami").unwrap();
        assert_eq!(whoami["definition"]["handler"], "{{WHOAMI_URL}}");
        assert_eq!(whoami["definition"]["type"], "query");
        assert_eq!(
            wd.resource_values("hasura_custom_types.auth")["types"],
            json!(["Credentials", "LoginResponse"])
        );
        assert_no_changes(&wd, "right after create");

        // END TO END: a user's action mutation reaches the handler with its session.
        let v = gql_as_user(
            &env,
            r#"mutation { login(username: "alice") { accessToken userId } }"#,
        );
        assert_eq!(
            v,
            json!({"data": {"login": {"accessToken": "token-for-alice", "userId": "42"}}})
        );
        let (headers, body) = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(body["action"]["name"], "login");
        assert_eq!(body["session_variables"]["x-hasura-role"], "user");
        assert_eq!(body["session_variables"]["x-hasura-user-id"], "42");
        assert_eq!(headers["x-action-secret"], CANARY);
        assert_eq!(
            headers["x-request-id"], "req-7",
            "client headers are forwarded"
        );
        // No permission for `whoami`: the role does not see it.
        let v = gql_as_user(&env, "query { whoami { accessToken } }");
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "validation-failed",
            "{v}"
        );

        // Updates in place: update_action (never a drop) and the types merged again;
        // a type added out of band meanwhile survives.
        add_type_out_of_band(&env, "AddedLater");
        env.reset_counters();
        let auth_v2 = AUTH_SDL.replace("userId: String", "userId: String\n  expiresIn: Int");
        wd.write("main.tf", &config(&base, 45, &auth_v2));
        assert_changes(
            &wd,
            "after changing timeout and a type",
            &[
                "hasura_action.login will be updated in-place",
                "hasura_custom_types.auth will be updated in-place",
            ],
        );
        wd.apply();
        assert_eq!(env.ops("metadata:drop_action"), 0);
        assert_eq!(action(&env, "login").unwrap()["definition"]["timeout"], 45);
        assert_eq!(
            action(&env, "login").unwrap()["permissions"],
            json!([{"role": "user", "comment": "users log in"}]),
            "update_action keeps the permissions"
        );
        assert_eq!(
            type_names(&env),
            [
                "AddedLater",
                "Credentials",
                "Email",
                "Legacy",
                "LoginResponse",
                "Plan"
            ]
        );
        assert_no_changes(&wd, "after the update");

        // Changed out of band: an action's handler and an owned type.
        let mut login = action(&env, "login").unwrap();
        login["definition"]["handler"] = json!("https://elsewhere.example.com/login");
        login.as_object_mut().unwrap().remove("permissions");
        env.meta(json!({"type": "update_action", "args": login}));
        let mut doc = env.metadata()["custom_types"].clone();
        for e in doc["enums"].as_array_mut().unwrap() {
            if e["name"] == "Plan" {
                e["values"] = json!([{"value": "FREE"}, {"value": "PRO"}, {"value": "ENTERPRISE"}]);
            }
        }
        env.meta(json!({"type": "set_custom_types", "args": doc}));
        assert_changes(
            &wd,
            "after out-of-band changes",
            &[
                "hasura_action.login",
                "https://elsewhere.example.com/login",
                "hasura_custom_types.common",
                "ENTERPRISE",
            ],
        );
        wd.apply();
        assert_eq!(
            action(&env, "login").unwrap()["definition"]["handler"],
            "{{ACTIONS_BASE_URL}}/login"
        );
        assert_no_changes(&wd, "after putting them back");

        // Deleted out of band: the plan creates them again.
        env.meta(
            json!({"type": "drop_action_permission", "args": {"action": "login", "role": "user"}}),
        );
        env.meta(json!({"type": "drop_action", "args": {"name": "whoami"}}));
        assert_changes(
            &wd,
            "after out-of-band deletes",
            &[
                "hasura_action.whoami will be created",
                "hasura_action_permission.login_user will be created",
            ],
        );
        wd.apply();
        assert_no_changes(&wd, "after re-creating");

        // Import each resource into a fresh state entry: an empty plan.
        for (addr, id) in [
            ("hasura_action.login", "login"),
            ("hasura_action.whoami", "whoami"),
            ("hasura_action_permission.login_user", "login/user"),
            ("hasura_custom_types.common", "common:Email,Plan"),
            ("hasura_custom_types.auth", "auth:LoginResponse,Credentials"),
        ] {
            wd.tf(&["state", "rm", addr]).assert_success("state rm");
            wd.import(addr, id).assert_success("import");
        }
        assert_no_changes(&wd, "after import");
        assert!(
            !wd.tf(&["plan", "-no-color"]).combined().contains(CANARY),
            "a header value leaked into a plan"
        );

        // A type declared by two resources: the second is refused, nothing clobbered.
        let mut dup = config(&base, 45, &auth_v2);
        dup.push_str("\nresource \"hasura_custom_types\" \"dup\" {\n  name = \"dup\"\n  sdl  = \"scalar Email\\nscalar Fresh\"\n}\n");
        wd.write("main.tf", &dup);
        wd.try_apply()
            .assert_failure_contains("\"Email\"")
            .assert_failure_contains("Failed to set custom types");
        assert!(!type_names(&env).contains(&"Fresh".to_string()));

        wd.write("main.tf", &config(&base, 45, &auth_v2));
        wd.destroy();
        assert!(
            env.metadata().get("actions").is_none(),
            "{}",
            env.metadata()
        );
        assert_eq!(
            type_names(&env),
            ["AddedLater", "Legacy"],
            "types of others survive destroy"
        );
    });
}

#[test]
fn bad_input_is_refused_at_validate() {
    let cases = [
        (
            r#"handler = "ftp://x.example.com/login""#,
            "handler",
            "handler",
        ),
        (r#"handler = "{{UNCLOSED/login""#, "handler", "handler"),
        (r#"kind = "sometimes""#, "kind", "kind"),
        (r#"type = "subscription""#, "type", "type"),
        (
            r#"output_type = "Login Response""#,
            "output_type",
            "output_type",
        ),
        (r#"name = "log-in""#, "name", "name"),
        (
            r#"arguments = { username = "String !" }"#,
            "not a GraphQL type",
            "arguments",
        ),
        (
            r#"headers_from_env = { A = "not-an-env-name" }"#,
            "headers_from_env",
            "headers_from_env",
        ),
        (r#"timeout = -1"#, "timeout", "timeout"),
        (
            r#"handler_from_env = "LOGIN_URL""#,
            "exactly one of",
            "handler",
        ),
        (
            "type = \"query\"\n  kind = \"asynchronous\"",
            "always synchronous",
            "kind",
        ),
    ];
    let action = |lines: &str| {
        let defaults = [
            r#"name = "login""#,
            r#"handler = "https://x.example.com/login""#,
            r#"output_type = "LoginResponse""#,
        ];
        resource_tf("hasura_action", "a", &defaults, lines)
    };
    let sdl_cases = [
        ("type T { a: Int", "Invalid SDL", "sdl"),
        ("type T { a(x: Int): Int }", "arguments", "sdl"),
        ("union U = A | B", "union", "sdl"),
        (
            "type Mutation { login: T }\ntype Mutation { x: Int }",
            "Mutation",
            "sdl",
        ),
    ];
    let custom_types = |sdl: &str| {
        let sdl = format!("sdl = {}", serde_json::to_string(sdl).unwrap());
        resource_tf("hasura_custom_types", "t", &[r#"name = "t""#], &sdl)
    };
    hasura_refusals(&cases, action, |_, wd| {
        assert_refused_at_validate(wd, &sdl_cases, custom_types);
        assert_refused_at_validate(wd, &[(r#"action = "a.b""#, "action", "action")], |lines| {
            resource_tf(
                "hasura_action_permission",
                "p",
                &[r#"role = "user""#],
                lines,
            )
        });
    });
}

/// Metadata answers lost after the write landed, 5xx and resets on a third of the calls,
/// while several custom type groups and actions are written at once: every group's
/// read-modify-write settles by reading the export back, so all types (and one declared
/// out of band) are there exactly once, and destroy removes only the groups' own.
#[test]
fn custom_type_groups_converge_under_lost_answers_and_server_errors() {
    let config = |field: &str| {
        let mut s = format!("{}\nprovider \"hasura\" {{}}\n", required_providers());
        for i in 0..4 {
            s.push_str(&format!(
                "resource \"hasura_custom_types\" \"g{i}\" {{\n  name = \"g{i}\"\n  sdl  = \"type Out{i} {{ {field}: String }}\\nscalar S{i}\"\n}}\nresource \"hasura_action\" \"a{i}\" {{\n  name        = \"act{i}\"\n  handler     = \"https://actions.example.com/{i}\"\n  output_type = \"Out{i}\"\n  arguments   = {{ s = \"S{i}\" }}\n  depends_on  = [hasura_custom_types.g{i}]\n}}\n"
            ));
        }
        s
    };
    let expected = |extra: &[&str]| {
        let mut n: Vec<String> = (0..4)
            .flat_map(|i| [format!("Out{i}"), format!("S{i}")])
            .chain(extra.iter().map(|s| s.to_string()))
            .collect();
        n.sort();
        n
    };
    for_each_terraform(|tf| {
        let env = Env::start();
        add_type_out_of_band(&env, "Outside");
        let wd = env.workdir(tf);
        wd.write("main.tf", &config("a"));
        env.under_faults(5, || wd.apply());
        assert_eq!(type_names(&env), expected(&["Outside"]));
        assert_no_changes(&wd, "after creating under faults");

        wd.write("main.tf", &config("b"));
        env.under_faults(9, || wd.apply());
        assert_no_changes(&wd, "after updating under faults");

        env.under_faults(17, || wd.destroy());
        assert_eq!(type_names(&env), ["Outside"]);
        assert!(env.metadata().get("actions").is_none());
        env.assert_lost_answers_fired();
    });
}

/// END TO END with a real user token: a Clerk JWT template signing with an HMAC key
/// that `hasura_env_var` hands to the engine, an action the `user` role may call, and
/// Alice's token from the Clerk emulator: her action mutation reaches the handler with
/// her session variables (role and Clerk user id from the token's claims).
#[test]
fn a_clerk_users_token_calls_the_action_with_her_session() {
    use reqwest::Method;
    const KEY: &str = "hmac-secret-actions-0123456789abcdef";
    for_each_terraform(|tf| {
        let clerk = support::clerk::Env::start(clerk_emulator::ClerkConfig::default());
        let env = Env::start();
        let (base, seen) = start_handler(&env);
        let mut wd = env.workdir(tf);
        wd.env("CLERK_SECRET_KEY", clerk.emu().secret_key())
            .env("CLERK_API_URL", &clerk.emu().api_url())
            .env("TF_VAR_signing_key", KEY);
        wd.write(
            "main.tf",
            &format!(
                r#"{req}
provider "hasura" {{}}
provider "clerk" {{}}

variable "signing_key" {{
  type      = string
  sensitive = true
}}

resource "clerk_jwt_template" "hasura" {{
  name = "hasura"
  claims = jsonencode({{
    "https://hasura.io/jwt/claims" = {{
      "x-hasura-allowed-roles" = ["user"]
      "x-hasura-default-role"  = "user"
      "x-hasura-user-id"       = "{{{{user.id}}}}"
    }}
  }})
  custom_signing_key = true
  signing_algorithm  = "HS256"
  signing_key        = var.signing_key
}}

data "clerk_jwks" "this" {{}}

data "clerk_hasura_jwt_secret" "hasura" {{
  signing_algorithm = "HS256"
  signing_key       = var.signing_key
  issuer            = data.clerk_jwks.this.issuer
}}

resource "hasura_env_var" "jwt_secret" {{
  key   = "HASURA_GRAPHQL_JWT_SECRET"
  value = data.clerk_hasura_jwt_secret.hasura.jwt_secret
}}

resource "hasura_env_var" "base" {{
  key   = "ACTIONS_BASE_URL"
  value = "{base}"
}}

resource "hasura_custom_types" "auth" {{
  name = "auth"
  sdl  = "type LoginResponse {{ accessToken: String!, userId: String }}"
}}

resource "hasura_action" "login" {{
  name        = "login"
  handler     = "{{{{ACTIONS_BASE_URL}}}}/login"
  arguments   = {{ username = "String!" }}
  output_type = "LoginResponse"
  depends_on  = [hasura_env_var.base, hasura_custom_types.auth]
}}

resource "hasura_action_permission" "login_user" {{
  action = hasura_action.login.name
  role   = "user"
}}
"#,
                req = required_providers()
            ),
        );
        wd.apply();
        assert_no_changes(&wd, "after apply");

        let (s, tok) = clerk.api(Method::POST, "/sessions/sess_alice/tokens/hasura", None);
        assert_eq!(s, 200, "{tok}");
        let jwt = tok["jwt"].as_str().unwrap().to_string();
        let bearer = format!("Bearer {jwt}");
        let answer = env.graphql(
            &[("authorization", &bearer)],
            "mutation { login(username: \"alice\") { accessToken userId } }",
            false,
        );
        let (_, body) = seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("the handler was called");
        let user_id = body["session_variables"]["x-hasura-user-id"].clone();
        assert!(
            user_id.as_str().is_some_and(|u| u.starts_with("user_")),
            "{body}"
        );
        assert_eq!(body["session_variables"]["x-hasura-role"], "user");
        assert_eq!(
            answer,
            json!({"data": {"login": {"accessToken": "token-for-alice", "userId": user_id}}})
        );
        wd.destroy();
    });
}

/// `hasura_action_sdl` reads an action's signature from the CLI's SDL: the action made
/// from it is the one the SDL declares, plans empty, and an SDL change shows as an
/// in-place update of the action's attributes.
#[test]
fn an_action_from_its_sdl() {
    let config = |args: &str| {
        format!(
            r#"{req}
provider "hasura" {{}}

data "hasura_action_sdl" "login" {{
  name = "login"
  sdl  = <<-EOT
    type Mutation {{
      """Logs a user in"""
      login({args}): LoginResponse!
    }}
    extend type Query {{ me: LoginResponse }}
  EOT
}}

resource "hasura_custom_types" "auth" {{
  name = "auth"
  sdl  = "type LoginResponse {{ accessToken: String! }}"
}}

resource "hasura_action" "login" {{
  name        = data.hasura_action_sdl.login.name
  type        = data.hasura_action_sdl.login.type
  arguments   = data.hasura_action_sdl.login.arguments
  output_type = data.hasura_action_sdl.login.output_type
  comment     = data.hasura_action_sdl.login.comment
  handler     = "https://auth.example.com/login"
  depends_on  = [hasura_custom_types.auth]
}}
"#,
            req = required_providers()
        )
    };
    for_each_terraform(|tf| {
        let env = Env::start();
        let wd = env.workdir(tf);
        wd.write("main.tf", &config("username: String!"));
        wd.apply();
        let def = action(&env, "login").unwrap();
        assert_eq!(def["comment"], "Logs a user in");
        assert_eq!(def["definition"]["output_type"], "LoginResponse!");
        assert_eq!(
            def["definition"]["arguments"],
            json!([{"name": "username", "type": "String!"}])
        );
        assert_no_changes(&wd, "after create");
        wd.write("main.tf", &config("username: String!, otp: Int"));
        assert_changes(
            &wd,
            "after adding an argument to the SDL",
            &["hasura_action.login will be updated in-place", "otp"],
        );
        wd.apply();
        assert_no_changes(&wd, "after the update");
        wd.write(
            "main.tf",
            &config("username: String!").replace("name = \"login\"", "name = \"logout\""),
        );
        wd.validate().assert_failure_contains("Unknown action");
        wd.write("main.tf", &config("username: String!"));
        wd.destroy();
        assert!(action(&env, "login").is_none());
    });
}
