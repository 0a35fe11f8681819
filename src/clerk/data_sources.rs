//! `clerk_jwt_template` and `clerk_jwks` data sources. `clerk_jwks` gives
//! exactly what Hasura's `HASURA_GRAPHQL_JWT_SECRET` needs: `jwks_url` as
//! `jwk_url`, and `issuer`.
use async_trait::async_trait;
use base64::Engine;
use serde::Serialize;

use crate::framework::json_string::canonical;
use crate::framework::legacy::{encode, LegacyDataSource};
use crate::framework::IntoDiags;
use crate::framework::{Attribute, Ctx, Diagnostics, Schema};
use crate::plugin::cty::{AttrPath, Type, Value};

use super::client::ClerkClient;

pub struct JwtTemplateDataSource;

#[derive(Serialize)]
struct TemplateModel {
    id: String,
    name: String,
    claims: String,
    lifetime: i64,
    allowed_clock_skew: i64,
    custom_signing_key: bool,
    signing_algorithm: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[async_trait]
impl LegacyDataSource for JwtTemplateDataSource {
    fn type_name(&self) -> &'static str {
        "clerk_jwt_template"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Looks up an existing JWT template by `name` or `id` (exactly one).",
            vec![
                Attribute::string("id")
                    .optional_computed()
                    .describe("Template id (`jtmp_...`). Set this or `name`."),
                Attribute::string("name")
                    .optional_computed()
                    .describe("Template name. Set this or `id`."),
                Attribute::string("claims")
                    .computed()
                    .describe("Claims as a JSON object string (keys sorted, like `jsonencode`)."),
                Attribute::int("lifetime")
                    .computed()
                    .describe("Token lifetime in seconds."),
                Attribute::int("allowed_clock_skew")
                    .computed()
                    .describe("Allowed clock skew in seconds."),
                Attribute::bool("custom_signing_key")
                    .computed()
                    .describe("Whether a custom signing key is used."),
                Attribute::string("signing_algorithm")
                    .computed()
                    .describe("Signing algorithm."),
                Attribute::int("created_at")
                    .computed()
                    .describe("Creation time, Unix milliseconds."),
                Attribute::int("updated_at")
                    .computed()
                    .describe("Last update time, Unix milliseconds."),
            ],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let (id, name) = (config.get("id"), config.get("name"));
        if id.is_unknown() || name.is_unknown() {
            return;
        }
        if id.is_null() == name.is_null() {
            diags.add_attr_error(
                AttrPath::attr("name"),
                "Exactly one of `id` or `name`",
                "Set either `id` or `name` to select the template.",
            );
        }
    }

    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let found = if let Some(id) = config.get("id").as_str() {
            client
                .get_template(&ctx.cancel, id)
                .await
                .map(Some)
                .or_else(|e| if e.is_not_found() { Ok(None) } else { Err(e) })
        } else {
            client
                .find_template_by_name(&ctx.cancel, config.get("name").as_str().unwrap_or_default())
                .await
        }
        .map_err(|e| e.into_diags("Failed to read JWT template"))?;
        let t = found.ok_or_else(|| {
            Diagnostics::error(
                "JWT template not found",
                "No JWT template matches the given `id`/`name`.",
            )
        })?;
        encode(
            &TemplateModel {
                id: t.id,
                name: t.name,
                claims: canonical(&t.claims),
                lifetime: t.lifetime,
                allowed_clock_skew: t.allowed_clock_skew,
                custom_signing_key: t.custom_signing_key,
                signing_algorithm: t.signing_algorithm,
                created_at: t.created_at,
                updated_at: t.updated_at,
            },
            &self.cty_type(),
        )
    }
}

pub struct JwksDataSource;

#[derive(Serialize)]
struct JwksModel {
    issuer: String,
    jwks_url: String,
    keys: Vec<super::client::Jwk>,
}

/// The Frontend API host encoded in a publishable key (`pk_<env>_<base64 host$>`).
pub fn frontend_api_from_publishable_key(pk: &str) -> Option<String> {
    let rest = pk
        .strip_prefix("pk_test_")
        .or_else(|| pk.strip_prefix("pk_live_"))?;
    let raw = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(rest.trim_end_matches('='))
        .ok()?;
    let host = String::from_utf8(raw).ok()?.strip_suffix('$')?.to_string();
    (!host.is_empty() && !host.contains(['/', ' ', '@'])).then_some(host)
}

fn issuer_for_host(host: &str) -> String {
    // Local emulators listen on loopback without TLS; real instances are https.
    let loopback =
        url::Url::parse(&format!("http://{host}")).is_ok_and(|u| crate::http::is_loopback(&u));
    format!("{}://{host}", if loopback { "http" } else { "https" })
}

#[async_trait]
impl LegacyDataSource for JwksDataSource {
    fn type_name(&self) -> &'static str {
        "clerk_jwks"
    }

    fn schema(&self) -> Schema {
        // A plain list(object) rather than a nested attribute: Terraform 1.0's
        // handling of computed nested attributes in data sources is unreliable.
        let key_type = Type::list(Type::object(
            ["kid", "kty", "alg", "use", "n", "e", "crv", "x", "y"].map(|k| (k, Type::String)),
        ));
        Schema::new(
            "The instance's token issuer, its public JWKS URL and signing keys: what a verifier such as Hasura (`HASURA_GRAPHQL_JWT_SECRET`'s `jwk_url` and `issuer`) needs.",
            vec![
                Attribute::string("issuer").computed().describe("Token issuer (`iss`): the instance's Frontend API URL, e.g. `https://clerk.example.com`. From the provider's `publishable_key` when set, else from `GET /v1/domains` (primary domain)."),
                Attribute::string("jwks_url").computed().describe("Public JWKS URL, `<issuer>/.well-known/jwks.json`: use it as Hasura's `jwk_url`."),
                Attribute::typed("keys", key_type).computed().describe("The instance's public signing keys, from `GET /v1/jwks`: objects with the JWK members `kid`, `kty`, `alg`, `use`, `n`, `e`, `crv`, `x`, `y` (null when absent)."),
            ],
        )
    }

    async fn read(&self, ctx: &Ctx, _config: &Value) -> Result<Value, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let issuer = match client
            .publishable_key
            .as_deref()
            .and_then(frontend_api_from_publishable_key)
        {
            Some(host) => issuer_for_host(&host),
            None => {
                let domains = client
                    .domains(&ctx.cancel)
                    .await
                    .map_err(|e| e.into_diags("Failed to read instance domains"))?;
                let primary = domains
                    .into_iter()
                    .find(|d| !d.is_satellite)
                    .ok_or_else(|| Diagnostics::error("No primary domain", "GET /v1/domains returned no primary (non-satellite) domain; set the provider's `publishable_key` instead."))?;
                primary.frontend_api_url.trim_end_matches('/').to_string()
            }
        };
        let keys = client
            .jwks(&ctx.cancel)
            .await
            .map_err(|e| e.into_diags("Failed to read the instance JWKS"))?
            .keys;
        encode(
            &JwksModel {
                jwks_url: format!("{issuer}/.well-known/jwks.json"),
                issuer,
                keys,
            },
            &self.cty_type(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishable_key_decodes_frontend_api() {
        let pk = format!(
            "pk_test_{}",
            base64::engine::general_purpose::STANDARD.encode("happy-cat-12.clerk.accounts.dev$")
        );
        assert_eq!(
            frontend_api_from_publishable_key(&pk).as_deref(),
            Some("happy-cat-12.clerk.accounts.dev")
        );
        assert_eq!(
            issuer_for_host("happy-cat-12.clerk.accounts.dev"),
            "https://happy-cat-12.clerk.accounts.dev"
        );
        assert_eq!(issuer_for_host("127.0.0.1:4000"), "http://127.0.0.1:4000");
        assert!(frontend_api_from_publishable_key("pk_test_!!!").is_none());
        assert!(frontend_api_from_publishable_key("sk_test_abc").is_none());
    }
}
