//! `clerk_redirect_url`: one entry of the instance's redirect URL allowlist.
//! The API has no update, so a new `url` replaces the object.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Invalid, RequiresReplace, Schema,
    StrCheck, Value,
};
use crate::settle::{settle, ReadBack, Settle};

use super::client::{ClerkClient, ClerkError, RedirectUrl, RedirectUrlCreate, REDIRECT_URLS};
use super::crud::{created_at, Collected, Collection, ImportId};

pub struct RedirectUrlResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    url: Value<String>,
    created_at: Value<i64>,
}

impl From<RedirectUrl> for Model {
    fn from(r: RedirectUrl) -> Self {
        Model {
            id: r.id.into(),
            url: r.url.into(),
            created_at: r.created_at.into(),
        }
    }
}

/// How many times a create that certainly did not land is sent again.
const CREATE_RESENDS: u32 = 3;

/// A redirect URL is `scheme:...`: `https://` or an app's custom scheme
/// (CreateRedirectURL: "prefixed with `https://` or a custom scheme").
/// Schemes that run code in a browser are never a redirect target.
pub fn check_redirect_url(u: &str) -> Result<(), Invalid> {
    let parsed = url::Url::parse(u).map_err(|e| {
        format!("must be an absolute URL with a scheme, such as `https://app.example.com/sso-callback` or `myapp://oauth-callback` ({e})")
    })?;
    if u.chars().any(char::is_whitespace) {
        return Err("must not contain whitespace".into());
    }
    if matches!(parsed.scheme(), "javascript" | "data" | "vbscript" | "file") {
        return Err(format!(
            "uses the `{}:` scheme, which is not a redirect target",
            parsed.scheme()
        )
        .into());
    }
    Ok(())
}

#[async_trait]
impl Collected for RedirectUrlResource {
    type Object = RedirectUrl;
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_redirect_url";
    const IMPORT: ImportId<RedirectUrl> = ImportId::IdPrefix("ru_", |r| &r.url);

    const COLLECTION: &'static Collection<RedirectUrl> = &REDIRECT_URLS;
    const ID: fn(&Model) -> &str = |m| m.id.str_or("");
    const IMPORT_TAKES: (&'static str, &'static str) = ("URL", "an id (`ru_...`) or the exact URL");

    fn schema(&self) -> Schema {
        Schema::new(
            "A URL Clerk may redirect to after sign-in or OAuth (`/v1/redirect_urls`), e.g. a native app's custom-scheme callback. The API has no update: changing `url` replaces the entry. Import with the id (`ru_...`) or the exact URL.",
            vec![
                Attribute::id("Redirect URL id (`ru_...`), the import id."),
                Attribute::string("url").required().plan(RequiresReplace).validate(StrCheck("Invalid redirect URL", check_redirect_url)).describe("The full URL: `https://...` or a custom scheme such as `myapp://oauth-callback`. Changing it replaces the entry."),
                created_at(),
            ],
        )
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let client = ctx.client::<ClerkClient>()?;
        let url = m.url.str_or("");
        let failed = |e: ClerkError| e.into_diags("Failed to create redirect URL");
        // The API documents no answer for a URL already listed, so look first:
        // Terraform must not quietly add a second entry it would then own.
        let existing = REDIRECT_URLS
            .list(&client, &ctx.cancel)
            .await
            .map_err(failed)?;
        if let Some(r) = existing.iter().find(|r| r.url == url) {
            return Err(Diagnostics::attr_error(
                AttrPath::attr("url"),
                "Redirect URL already exists",
                format!("{url:?} is already a redirect URL of this instance. To manage it, import it: terraform import <address> {}", r.id),
            )
            .into());
        }
        let body = RedirectUrlCreate { url };
        let how = Settle {
            resending:
                "creating a redirect URL failed ambiguously and did not land; sending it again",
            landed: Some("creating a redirect URL failed ambiguously but it exists; adopting it"),
            table: None,
            resends: CREATE_RESENDS,
            backoff: true,
        };
        let created = settle(
            &ctx.cancel,
            &how,
            || REDIRECT_URLS.create(&client, &ctx.cancel, &body),
            |_| async {
                let now = REDIRECT_URLS.find(&client, &ctx.cancel, |r| r.url == url);
                Ok(match now.await? {
                    Some(r) => ReadBack::Landed(r),
                    None => ReadBack::Absent,
                })
            },
        )
        .await
        .map_err(|u| failed(u.into_error("listing the redirect URLs to see whether it landed")))?;
        Ok(created.into())
    }

    /// The API has no update: a new `url` replaces the entry.
    async fn update(
        &self,
        _ctx: &Ctx,
        _prior: Model,
        m: Model,
    ) -> Result<Model, ApplyError<Model>> {
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::check_redirect_url;
    use crate::framework::assert_checks;

    #[test]
    fn redirect_urls() {
        assert_checks(
            check_redirect_url,
            &[
                "https://app.example.com/sso-callback",
                "myapp://oauth-callback",
                "http://localhost:3000/cb",
            ],
            &[
                "/sso-callback",
                "https://app.example.com/a b",
                "javascript:alert(1)",
                "",
            ],
        );
    }
}
