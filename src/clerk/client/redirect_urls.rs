//! Redirect URLs (ListRedirectURLs, CreateRedirectURL, GetRedirectURL,
//! DeleteRedirectURL): create and delete only, the API has no update.
use serde::{Deserialize, Serialize};

use super::collection::Collection;

/// The `RedirectURL` object (the fields this provider reads).
#[derive(Clone, Debug, Deserialize)]
pub struct RedirectUrl {
    pub id: String,
    pub url: String,
    pub created_at: i64,
}

/// CreateRedirectURL's body.
#[derive(Serialize)]
pub struct RedirectUrlCreate<'a> {
    pub url: &'a str,
}

pub const REDIRECT_URLS: Collection<RedirectUrl> =
    Collection::paged("/redirect_urls", "redirect URL");
