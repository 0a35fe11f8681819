//! The `clerk_jwks` data source: exactly what Hasura's
//! `HASURA_GRAPHQL_JWT_SECRET` needs, `jwks_url` as `jwk_url`, and `issuer`.
use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::framework::{Attribute, Ctx, DataSource, Diagnostics, IntoDiags, Schema, Type, Value};

use super::client::{ClerkClient, Jwk};

pub struct JwksDataSource;

#[derive(Serialize, Deserialize)]
pub struct Model {
    issuer: Value<String>,
    jwks_url: Value<String>,
    keys: Value<Vec<Jwk>>,
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

/// The issuer from the publishable key when there is one, else from the
/// instance's primary domain.
async fn issuer(client: &ClerkClient, ctx: &Ctx) -> Result<String, Diagnostics> {
    let from_key = client
        .publishable_key
        .as_deref()
        .and_then(frontend_api_from_publishable_key);
    if let Some(host) = from_key {
        return Ok(issuer_for_host(&host));
    }
    let domains = client
        .domains(&ctx.cancel)
        .await
        .map_err(|e| e.into_diags("Failed to read instance domains"))?;
    let primary = domains
        .into_iter()
        .find(|d| !d.is_satellite)
        .ok_or_else(|| Diagnostics::error("No primary domain", "GET /v1/domains returned no primary (non-satellite) domain; set the provider's `publishable_key` instead."))?;
    Ok(primary.frontend_api_url.trim_end_matches('/').to_string())
}

#[async_trait]
impl DataSource for JwksDataSource {
    type Model = Model;

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

    async fn read(&self, ctx: &Ctx, _config: Model) -> Result<Model, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let issuer = issuer(&client, ctx).await?;
        let keys = client
            .jwks(&ctx.cancel)
            .await
            .map_err(|e| e.into_diags("Failed to read the instance JWKS"))?
            .keys;
        Ok(Model {
            jwks_url: format!("{issuer}/.well-known/jwks.json").into(),
            issuer: issuer.into(),
            keys: keys.into(),
        })
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
