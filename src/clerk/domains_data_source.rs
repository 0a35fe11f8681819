//! The `clerk_domains` data source: the instance's primary domain and its
//! satellites (`GET /domains`).
use serde::{Deserialize, Serialize};

use crate::framework::{Attribute, Known, Type, Value};

use super::client::{DomainObject, DOMAINS};
use super::crud::Collection;
use super::domain::{targets, Target};
use super::listing::Listing;

pub struct DomainsDataSource;

#[derive(Serialize, Deserialize)]
pub struct DomainItem {
    id: Value<String>,
    name: Value<String>,
    is_satellite: Value<bool>,
    frontend_api_url: Value<String>,
    accounts_portal_url: Value<String>,
    proxy_url: Value<String>,
    development_origin: Value<String>,
    cname_targets: Value<Vec<Target>>,
}

#[derive(Serialize, Deserialize)]
pub struct Model {
    domains: Value<Vec<DomainItem>>,
    primary_frontend_api_url: Value<String>,
}

impl Listing for DomainsDataSource {
    type Object = DomainObject;
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_domains";
    const ABOUT: &'static str = "The instance's domains (`GET /domains`): the primary domain first as Clerk lists it, then any satellites, with the URLs where Clerk serves each and the DNS records they need.";
    const LIST: (&'static str, &'static str) =
        ("domains", "Every domain, in the order Clerk lists them.");

    const COLLECTION: &'static Collection<DomainObject> = &DOMAINS;

    fn item(&self) -> Vec<Attribute> {
        vec![
            Attribute::string("id")
                .computed()
                .describe("Domain id (`dmn_...`)."),
            Attribute::string("name")
                .computed()
                .describe("Domain name."),
            Attribute::bool("is_satellite")
                .computed()
                .describe("`false` for the primary domain."),
            Attribute::string("frontend_api_url").computed().describe(
                "URL of the Frontend API for this domain (the token issuer for the primary).",
            ),
            Attribute::string("accounts_portal_url")
                .computed()
                .describe("Account Portal URL; null for satellites."),
            Attribute::string("proxy_url")
                .computed()
                .describe("Proxy URL, when the domain is served through one."),
            Attribute::string("development_origin")
                .computed()
                .describe("Development origin, for development instances."),
            // A plain object type, not a nested attribute: Terraform
            // 1.0.3 cannot decode nested attributes inside nested ones.
            Attribute::typed(
                "cname_targets",
                Type::list(Type::object([
                    ("host", Type::String),
                    ("value", Type::String),
                    ("required", Type::Bool),
                ])),
            )
            .computed()
            .describe(
                "DNS records the domain needs: `host`, `value` (what it points to) and `required`.",
            ),
        ]
    }

    fn summary(&self) -> Attribute {
        Attribute::string("primary_frontend_api_url")
            .computed()
            .describe(
            "The primary domain's Frontend API URL: the issuer of the instance's session tokens.",
        )
    }

    fn model(&self, all: Vec<DomainObject>) -> Model {
        let primary = all
            .iter()
            .find(|d| !d.is_satellite)
            .map(|d| d.frontend_api_url.clone());
        let domains = all
            .into_iter()
            .map(|d| DomainItem {
                id: d.id.into(),
                name: d.name.into(),
                is_satellite: d.is_satellite.into(),
                frontend_api_url: d.frontend_api_url.into(),
                accounts_portal_url: d.accounts_portal_url.into(),
                proxy_url: d.proxy_url.into(),
                development_origin: d.development_origin.into(),
                cname_targets: targets(d.cname_targets),
            })
            .collect();
        Model {
            domains: Known(domains),
            primary_frontend_api_url: primary.into(),
        }
    }
}
