//! Redirect URLs (ListRedirectURLs, CreateRedirectURL, GetRedirectURL,
//! DeleteRedirectURL): create and delete only, the API has no update.
use reqwest::Method;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::{already_gone_is_done, object_path, ClerkClient, ClerkError};

const COLLECTION: &str = "/redirect_urls";

/// The `RedirectURL` object (the fields this provider reads).
#[derive(Clone, Debug, Deserialize)]
pub struct RedirectUrl {
    pub id: String,
    pub url: String,
    pub created_at: i64,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    url: &'a str,
}

impl ClerkClient {
    pub async fn list_redirect_urls(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<RedirectUrl>, ClerkError> {
        self.list_all(cancel, COLLECTION).await
    }

    /// `Ok(None)` when no redirect URL has this id.
    pub async fn redirect_url(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<Option<RedirectUrl>, ClerkError> {
        self.get_optional(cancel, &object_path(COLLECTION, id))
            .await
    }

    pub async fn create_redirect_url(
        &self,
        cancel: &CancellationToken,
        url: &str,
    ) -> Result<RedirectUrl, ClerkError> {
        let body = serde_json::to_value(CreateBody { url }).expect("body serialises");
        self.call(
            cancel,
            Method::POST,
            COLLECTION,
            Some(&body),
            Idempotency::Unsafe,
        )
        .await
    }

    pub async fn delete_redirect_url(
        &self,
        cancel: &CancellationToken,
        id: &str,
    ) -> Result<(), ClerkError> {
        let path = object_path(COLLECTION, id);
        already_gone_is_done(
            self.call::<IgnoredAny>(cancel, Method::DELETE, &path, None, Idempotency::Idempotent)
                .await,
        )
    }
}
