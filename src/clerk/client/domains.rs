//! Instance domains (ListDomains, AddDomain, UpdateDomain, DeleteDomain).
use serde::{Deserialize, Serialize};

use super::collection::Collection;

/// The `Domain` object.
#[derive(Clone, Debug, Deserialize)]
pub struct DomainObject {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub is_satellite: bool,
    pub frontend_api_url: String,
    pub accounts_portal_url: Option<String>,
    pub proxy_url: Option<String>,
    pub development_origin: Option<String>,
    pub cname_targets: Option<Vec<CnameTarget>>,
}

/// The `CNameTarget` object: a DNS record the domain needs.
#[derive(Clone, Debug, Deserialize)]
pub struct CnameTarget {
    pub host: String,
    pub value: String,
    #[serde(default)]
    pub required: bool,
}

#[derive(Serialize)]
pub struct DomainAdd<'a> {
    pub name: &'a str,
    /// "Only `true` is accepted at the moment."
    pub is_satellite: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<&'a str>,
}

/// UpdateDomain: `proxy_url: null` switches the domain back to DNS.
#[derive(Serialize)]
pub struct DomainUpdate<'a> {
    /// `None` leaves the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// `None` leaves the proxy, `Some(None)` removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<Option<&'a str>>,
}

pub const DOMAINS: Collection<DomainObject> = Collection::unpaged("/domains", "domain");
