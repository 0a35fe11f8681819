//! Who is asking: admin secret, else a JWT verified per the current
//! `HASURA_GRAPHQL_JWT_SECRET` of the env the engine booted with (`rollout.rs`: an env
//! change through the Cloud API takes effect once its rolling restart is done).

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde_json::Value;

use super::jwt::{self, JwtConfig, TokenHeader};
use super::GqlErr;
use crate::state::AppState;

pub const JWT_SECRET_ENV: &str = "HASURA_GRAPHQL_JWT_SECRET";
pub const UNAUTHORIZED_ROLE_ENV: &str = "HASURA_GRAPHQL_UNAUTHORIZED_ROLE";

#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// No permission checks at all.
    Admin,
    Named(String),
}

#[derive(Debug, Clone)]
pub struct Session {
    pub role: Role,
    /// Session variables, names lower-cased (`x-hasura-user-id`), values as text.
    pub vars: BTreeMap<String, String>,
}

impl Session {
    /// The session as Hasura hands it to event triggers: role and variables.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m: serde_json::Map<String, serde_json::Value> = self
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let role = match &self.role {
            Role::Admin => "admin".to_string(),
            Role::Named(r) => r.clone(),
        };
        m.insert("x-hasura-role".into(), serde_json::Value::String(role));
        serde_json::Value::Object(m)
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Session variables are text. A JSON list becomes a PostgreSQL array literal so that
/// permissions like `{"id": {"_in": "X-Hasura-Allowed-Ids"}}` can cast it.
fn var_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let elems: Vec<String> = items
                .iter()
                .map(|x| {
                    let t = match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))
                })
                .collect();
            format!("{{{}}}", elems.join(","))
        }
        other => other.to_string(),
    }
}

fn role_of(name: &str) -> Role {
    if name == "admin" {
        Role::Admin
    } else {
        Role::Named(name.to_string())
    }
}

pub async fn resolve(st: &AppState, h: &HeaderMap) -> Result<Session, GqlErr> {
    let admin = header(h, "x-hasura-admin-secret").or_else(|| header(h, "x-hasura-access-key"));
    if let Some(given) = admin {
        if given != st.settings.admin_secret {
            return Err(GqlErr::new(
                "access-denied",
                "$",
                "invalid x-hasura-admin-secret/x-hasura-access-key",
            ));
        }
        // With the admin secret, x-hasura-role and x-hasura-* headers impersonate a role.
        let vars = h
            .iter()
            .filter_map(|(k, v)| {
                let k = k.as_str().to_ascii_lowercase();
                (k.starts_with("x-hasura-") && k != "x-hasura-admin-secret")
                    .then(|| Some((k, v.to_str().ok()?.to_string())))
                    .flatten()
            })
            .collect();
        let role = header(h, "x-hasura-role").map_or(Role::Admin, role_of);
        return Ok(Session { role, vars });
    }

    // The env the engine booted with: during a rollout, still the old one.
    let env = st
        .engine_env()
        .await
        .map_err(|e| GqlErr::new("unexpected", "$", e.error))?;
    let Some(raw) = env.get(JWT_SECRET_ENV) else {
        return Err(GqlErr::new(
            "access-denied",
            "$",
            "x-hasura-admin-secret/x-hasura-access-key required, but not found",
        ));
    };
    // An engine with a bad JWT secret does not boot (`rollout.rs`), so the routes answer
    // before this runs; kept for a request racing the end of a rollout.
    let cfg = JwtConfig::parse(raw).map_err(|e| {
        GqlErr::new(
            "invalid-configuration",
            "$",
            format!("Fatal Error:- Environment variable {JWT_SECRET_ENV}: {e}"),
        )
    })?;

    let token = match &cfg.header {
        TokenHeader::Authorization => match header(h, "authorization") {
            None => None,
            Some(v) => match v.split_whitespace().collect::<Vec<_>>()[..] {
                ["Bearer", t] => Some(t.to_string()),
                _ => {
                    return Err(GqlErr::new(
                        "invalid-headers",
                        "$",
                        "Malformed Authorization header",
                    ))
                }
            },
        },
        TokenHeader::Cookie(name) => match header(h, "cookie") {
            None => None,
            Some(c) => Some(
                c.split(';')
                    .filter_map(|kv| kv.trim().split_once('='))
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.to_string())
                    .ok_or_else(|| {
                        GqlErr::new(
                            "invalid-headers",
                            "$",
                            format!("Could not find {name} in Cookie header"),
                        )
                    })?,
            ),
        },
    };
    let Some(token) = token else {
        if let Some(role) = env.get(UNAUTHORIZED_ROLE_ENV) {
            return Ok(Session {
                role: role_of(role),
                vars: BTreeMap::new(),
            });
        }
        let expected = match cfg.header {
            TokenHeader::Authorization => "Authorization",
            TokenHeader::Cookie(_) => "Cookie",
        };
        return Err(GqlErr::new(
            "invalid-headers",
            "$",
            format!("Missing {expected} header in JWT authentication mode"),
        ));
    };

    let payload = jwt::verify(&cfg, &token, &st.jwks)
        .await
        .map_err(jwt::JwtError::into_gql)?;
    let claims = jwt::hasura_claims(&cfg, &payload)?;
    let missing = |c: &str| {
        GqlErr::new(
            "jwt-missing-role-claims",
            "$",
            format!("JWT claim does not contain {c}"),
        )
    };
    let invalid = |m: &str| GqlErr::new("jwt-invalid-claims", "$", m.to_string());
    let allowed: Vec<String> = match claims.get("x-hasura-allowed-roles") {
        None => return Err(missing("x-hasura-allowed-roles")),
        Some(Value::Array(a)) => a
            .iter()
            .map(|r| r.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid("invalid x-hasura-allowed-roles; should be a list of roles"))?,
        Some(_) => {
            return Err(invalid(
                "invalid x-hasura-allowed-roles; should be a list of roles",
            ))
        }
    };
    let default = match claims.get("x-hasura-default-role") {
        None => return Err(missing("x-hasura-default-role")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(invalid(
                "invalid x-hasura-default-role; should be a single role name",
            ))
        }
    };
    let requested = header(h, "x-hasura-role")
        .map(str::to_string)
        .unwrap_or(default);
    if !allowed.contains(&requested) {
        return Err(GqlErr::new(
            "access-denied",
            "$",
            "Your requested role is not in allowed roles",
        ));
    }
    let vars = claims
        .iter()
        .filter(|(k, _)| *k != "x-hasura-allowed-roles" && *k != "x-hasura-default-role")
        .map(|(k, v)| (k.clone(), var_text(v)))
        .collect();
    Ok(Session {
        role: role_of(&requested),
        vars,
    })
}
