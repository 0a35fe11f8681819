//! One typed client for every Clerk collection the resources manage
//! (`/organization_roles`, `/redirect_urls`, `/domains`, ...): the path,
//! the object type and how the collection lists are all that differ, so a
//! new collection is a `const` and not five more methods.
use std::marker::PhantomData;

use reqwest::Method;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::wire::{Listing, Paged};
use super::{ClerkClient, ClerkError};

/// Page size for list calls: Clerk's maximum, so a refresh of many objects
/// costs one request per 500.
pub(super) const PAGE: usize = 500;

/// The objects `T` under `path`. `noun` names one in error summaries
/// ("Failed to read {noun}").
pub struct Collection<T> {
    pub path: &'static str,
    pub noun: &'static str,
    paged: bool,
    _t: PhantomData<fn() -> T>,
}

impl<T> Collection<T> {
    /// A collection listed page by page (`paginated=true`, `limit`, `offset`).
    pub const fn paged(path: &'static str, noun: &'static str) -> Self {
        Collection {
            path,
            noun,
            paged: true,
            _t: PhantomData,
        }
    }

    /// A collection listed whole by one GET (ListDomains has no paging).
    pub const fn unpaged(path: &'static str, noun: &'static str) -> Self {
        Collection {
            paged: false,
            ..Self::paged(path, noun)
        }
    }

    /// Ids come from users (import); never let one change the request path.
    pub fn object_path(&self, id: &str) -> String {
        object_path(self.path, id)
    }
}

impl<T: DeserializeOwned> Collection<T> {
    /// Every object of the collection.
    pub async fn list(
        &self,
        client: &ClerkClient,
        cancel: &CancellationToken,
    ) -> Result<Vec<T>, ClerkError> {
        if !self.paged {
            let list: Listing<T> = client.get(cancel, self.path).await?;
            return Ok(list.into_vec());
        }
        let mut out = Vec::new();
        loop {
            let path = format!(
                "{}?paginated=true&limit={PAGE}&offset={}",
                self.path,
                out.len()
            );
            let page: Paged<T> = client.get(cancel, &path).await?;
            let n = page.data.len();
            out.extend(page.data);
            if n == 0 || out.len() >= page.total_count {
                return Ok(out);
            }
        }
    }

    /// The first listed object `matches` accepts (a lookup by a natural key).
    pub async fn find(
        &self,
        client: &ClerkClient,
        cancel: &CancellationToken,
        matches: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, ClerkError> {
        Ok(self.list(client, cancel).await?.into_iter().find(matches))
    }

    /// `Ok(None)` when no object has this id (404).
    pub async fn get(
        &self,
        client: &ClerkClient,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<Option<T>, ClerkError> {
        match client.get(cancel, &self.object_path(id)).await {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// POST: not idempotent, a lost answer is settled by the caller's lookup.
    pub async fn create(
        &self,
        client: &ClerkClient,
        cancel: &CancellationToken,
        body: &impl Serialize,
    ) -> Result<T, ClerkError> {
        let body = json(body);
        let idem = Idempotency::Unsafe;
        client
            .call(cancel, Method::POST, self.path, Some(&body), idem)
            .await
    }

    /// PATCH with every member to change: repeating it lands in the same state.
    pub async fn update(
        &self,
        client: &ClerkClient,
        cancel: &CancellationToken,
        id: &str,
        body: &impl Serialize,
    ) -> Result<T, ClerkError> {
        let (path, body) = (self.object_path(id), json(body));
        let idem = Idempotency::Idempotent;
        client
            .call(cancel, Method::PATCH, &path, Some(&body), idem)
            .await
    }

    /// A DELETE answered 404 is done: the object went out of band, or an
    /// earlier attempt whose answer was lost removed it.
    pub async fn delete(
        &self,
        client: &ClerkClient,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<(), ClerkError> {
        let path = self.object_path(id);
        let idem = Idempotency::Idempotent;
        already_gone_is_done(
            client
                .call::<IgnoredAny>(cancel, Method::DELETE, &path, None, idem)
                .await,
        )
    }
}

pub(super) fn json<T: Serialize>(body: &T) -> serde_json::Value {
    serde_json::to_value(body).expect("body serialises")
}

pub(super) fn already_gone_is_done<T>(r: Result<T, ClerkError>) -> Result<(), ClerkError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Ids come from users (import); never let one change the request path.
pub(super) fn object_path(collection: &str, id: &str) -> String {
    let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("{collection}/{id}")
}
