//! What a Clerk instance holds that the provider manages: JWT templates
//! (addressed by name), redirect URLs (by host and path), allow/block-list
//! identifiers (by the identifier), and the instance singletons (`this`).
use tokio_util::sync::CancellationToken;

use crate::clerk::client::{ClerkClient, ClerkError, IdentifierList};

use super::hcl::Import;

pub(crate) async fn survey(
    client: &ClerkClient,
    cancel: &CancellationToken,
) -> Result<Vec<Import>, ClerkError> {
    let mut out: Vec<Import> = client
        .list_templates(cancel)
        .await?
        .into_iter()
        .map(|t| Import {
            resource_type: "clerk_jwt_template",
            name: t.name,
            id: t.id,
        })
        .collect();
    for r in client.list_redirect_urls(cancel).await? {
        out.push(Import {
            resource_type: "clerk_redirect_url",
            name: redirect_name(&r.url),
            id: r.id,
        });
    }
    for (list, resource_type) in [
        (IdentifierList::Allow, "clerk_allowlist_identifier"),
        (IdentifierList::Block, "clerk_blocklist_identifier"),
    ] {
        for i in client.list_identifiers(cancel, list).await? {
            out.push(Import {
                resource_type,
                name: i.identifier,
                id: i.id,
            });
        }
    }
    // Every instance has its settings; adopting them changes nothing.
    for resource_type in [
        "clerk_instance_settings",
        "clerk_instance_restrictions",
        "clerk_organization_settings",
    ] {
        out.push(Import {
            resource_type,
            name: "this".into(),
            id: "instance".into(),
        });
    }
    Ok(out)
}

/// `https://app.example.com/cb` -> `app.example.com/cb`: the scheme adds
/// nothing to a readable name; native-app schemes (`myapp://cb`) keep theirs.
fn redirect_name(url: &str) -> String {
    match url.split_once("://") {
        Some(("http" | "https", rest)) => rest.to_string(),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_names_drop_web_schemes_only() {
        assert_eq!(
            redirect_name("https://app.example.com/cb"),
            "app.example.com/cb"
        );
        assert_eq!(redirect_name("myapp://cb"), "myapp://cb");
    }
}
