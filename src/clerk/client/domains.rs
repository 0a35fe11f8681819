//! Instance domains (ListDomains, AddDomain, UpdateDomain, DeleteDomain).
use reqwest::Method;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::wire::Listing;
use super::{already_gone_is_done, object_path, ClerkClient, ClerkError};

const DOMAINS: &str = "/domains";

/// The `Domain` object.
#[derive(Clone, Debug, Deserialize)]
pub struct DomainObject {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub is_satellite: bool,
    pub frontend_api_url: String,
    #[serde(default)]
    pub accounts_portal_url: Option<String>,
    #[serde(default)]
    pub proxy_url: Option<String>,
    #[serde(default)]
    pub development_origin: Option<String>,
    #[serde(default)]
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
struct AddBody<'a> {
    name: &'a str,
    /// "Only `true` is accepted at the moment."
    is_satellite: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxy_url: Option<&'a str>,
}

/// UpdateDomain: `proxy_url: null` switches the domain back to DNS.
#[derive(Serialize)]
struct UpdateBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxy_url: Option<Option<&'a str>>,
}

impl ClerkClient {
    /// Every domain: ListDomains has no paging parameters.
    pub async fn list_domains(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<DomainObject>, ClerkError> {
        let list: Listing<DomainObject> = self.get(cancel, DOMAINS).await?;
        Ok(list.into_vec())
    }

    /// The API has no GetDomain: the listing is the read.
    pub async fn domain(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<Option<DomainObject>, ClerkError> {
        Ok(self
            .list_domains(cancel)
            .await?
            .into_iter()
            .find(|d| d.id == id))
    }

    pub async fn add_domain(
        &self,
        cancel: &CancellationToken,
        name: &str,
        proxy_url: Option<&str>,
    ) -> Result<DomainObject, ClerkError> {
        let body = AddBody {
            name,
            is_satellite: true,
            proxy_url,
        };
        let body = serde_json::to_value(body).expect("body serialises");
        self.call(
            cancel,
            Method::POST,
            DOMAINS,
            Some(&body),
            Idempotency::Unsafe,
        )
        .await
    }

    /// `name: None` leaves the name; `proxy_url: None` leaves the proxy,
    /// `Some(None)` removes it.
    pub async fn update_domain(
        &self,
        cancel: &CancellationToken,
        id: &str,
        name: Option<&str>,
        proxy_url: Option<Option<&str>>,
    ) -> Result<DomainObject, ClerkError> {
        let body = serde_json::to_value(UpdateBody { name, proxy_url }).expect("body serialises");
        let path = object_path(DOMAINS, id);
        self.call(
            cancel,
            Method::PATCH,
            &path,
            Some(&body),
            Idempotency::Idempotent,
        )
        .await
    }

    pub async fn delete_domain(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<(), ClerkError> {
        let path = object_path(DOMAINS, id);
        already_gone_is_done(
            self.call::<IgnoredAny>(cancel, Method::DELETE, &path, None, Idempotency::Idempotent)
                .await,
        )
    }
}
