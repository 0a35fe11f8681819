//! Allow-list and block-list identifiers (List/Create/Delete
//! AllowlistIdentifier and BlocklistIdentifier): created and deleted, the API
//! has no update. Only the allow-list takes `notify`.
use serde::{Deserialize, Serialize};

use super::collection::Collection;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentifierList {
    Allow,
    Block,
}

/// ListAllowlistIdentifiers pages (`paginated`, `limit`, `offset`);
/// ListBlocklistIdentifiers takes no parameters and answers the whole list.
const ALLOWLIST: Collection<Identifier> = Collection::paged("/allowlist_identifiers", "identifier");
const BLOCKLIST: Collection<Identifier> =
    Collection::unpaged("/blocklist_identifiers", "identifier");

impl IdentifierList {
    pub fn collection(self) -> &'static Collection<Identifier> {
        match self {
            IdentifierList::Allow => &ALLOWLIST,
            IdentifierList::Block => &BLOCKLIST,
        }
    }
}

/// `AllowlistIdentifier` / `BlocklistIdentifier` (the fields read here).
#[derive(Clone, Debug, Deserialize)]
pub struct Identifier {
    pub id: String,
    pub identifier: String,
    pub identifier_type: Option<String>,
    pub invitation_id: Option<String>,
    #[serde(default)]
    pub created_at: i64,
}

/// CreateAllowlistIdentifier / CreateBlocklistIdentifier.
#[derive(Serialize)]
pub struct IdentifierCreate<'a> {
    pub identifier: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
}
