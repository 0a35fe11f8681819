//! Allow-list and block-list identifiers (List/Create/Delete
//! AllowlistIdentifier and BlocklistIdentifier): created and deleted, the API
//! has no update. Only the allow-list takes `notify`.
use reqwest::Method;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::http::Idempotency;

use super::wire::Listing;
use super::{already_gone_is_done, object_path, ClerkClient, ClerkError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentifierList {
    Allow,
    Block,
}

impl IdentifierList {
    fn collection(self) -> &'static str {
        match self {
            IdentifierList::Allow => "/allowlist_identifiers",
            IdentifierList::Block => "/blocklist_identifiers",
        }
    }
}

/// `AllowlistIdentifier` / `BlocklistIdentifier` (the fields read here).
#[derive(Clone, Debug, Deserialize)]
pub struct Identifier {
    pub id: String,
    pub identifier: String,
    #[serde(default)]
    pub identifier_type: Option<String>,
    #[serde(default)]
    pub invitation_id: Option<String>,
    #[serde(default)]
    pub created_at: i64,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    identifier: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notify: Option<bool>,
}

impl ClerkClient {
    /// Every identifier of the list. ListAllowlistIdentifiers pages
    /// (`paginated`, `limit`, `offset`); ListBlocklistIdentifiers takes no
    /// parameters and answers the whole list as `{data, total_count}`.
    pub async fn list_identifiers(
        &self,
        cancel: &CancellationToken,
        list: IdentifierList,
    ) -> Result<Vec<Identifier>, ClerkError> {
        match list {
            IdentifierList::Allow => self.list_all(cancel, list.collection()).await,
            IdentifierList::Block => {
                let l: Listing<Identifier> = self.get(cancel, list.collection()).await?;
                Ok(l.into_vec())
            }
        }
    }

    /// `Ok(None)` when no identifier of the list has this id or value:
    /// neither list has a GET of one entry.
    pub async fn find_identifier(
        &self,
        cancel: &CancellationToken,
        list: IdentifierList,
        id_or_value: &str,
    ) -> Result<Option<Identifier>, ClerkError> {
        Ok(self
            .list_identifiers(cancel, list)
            .await?
            .into_iter()
            .find(|i| i.id == id_or_value || i.identifier == id_or_value))
    }

    pub async fn create_identifier(
        &self,
        cancel: &CancellationToken,
        list: IdentifierList,
        identifier: &str,
        notify: Option<bool>,
    ) -> Result<Identifier, ClerkError> {
        let notify = notify.filter(|_| list == IdentifierList::Allow);
        let body =
            serde_json::to_value(CreateBody { identifier, notify }).expect("body serialises");
        self.call(
            cancel,
            Method::POST,
            list.collection(),
            Some(&body),
            Idempotency::Unsafe,
        )
        .await
    }

    pub async fn delete_identifier(
        &self,
        cancel: &CancellationToken,
        list: IdentifierList,
        id: &str,
    ) -> Result<(), ClerkError> {
        let path = object_path(list.collection(), id);
        already_gone_is_done(
            self.call::<IgnoredAny>(cancel, Method::DELETE, &path, None, Idempotency::Idempotent)
                .await,
        )
    }
}
