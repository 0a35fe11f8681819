//! What a Clerk instance holds that the provider manages: JWT templates
//! (addressed by name), redirect URLs (by host and path), allow/block-list
//! identifiers (by the identifier), the instance singletons (`this`),
//! custom organization permissions and roles (by key), organizations (by
//! slug) and satellite domains (by name).
use tokio_util::sync::CancellationToken;

use crate::clerk::client::{
    ClerkClient, ClerkError, IdentifierList, DOMAINS, ORGANIZATIONS, PERMISSIONS, REDIRECT_URLS,
    ROLES,
};

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
    for r in REDIRECT_URLS.list(client, cancel).await? {
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
        for i in list.collection().list(client, cancel).await? {
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
    out.extend(organizations(client, cancel).await?);
    Ok(out)
}

/// Roles every instance starts with: Clerk made them, and they cannot be
/// deleted while they are the creator and domain default roles.
const DEFAULT_ROLES: &[&str] = &["org:admin", "org:member"];

async fn organizations(
    client: &ClerkClient,
    cancel: &CancellationToken,
) -> Result<Vec<Import>, ClerkError> {
    let mut out = Vec::new();
    for p in PERMISSIONS.list(client, cancel).await? {
        // System permissions (`org:sys_*`) are Clerk's, not configuration.
        if p.kind.as_deref() != Some("system") {
            out.push(Import {
                resource_type: "clerk_organization_permission",
                name: p.key.clone(),
                id: p.id,
            });
        }
    }
    for r in ROLES.list(client, cancel).await? {
        if !DEFAULT_ROLES.contains(&r.key.as_str()) {
            out.push(Import {
                resource_type: "clerk_organization_role",
                name: r.key.clone(),
                id: r.id,
            });
        }
    }
    for o in ORGANIZATIONS.list(client, cancel).await? {
        out.push(Import {
            resource_type: "clerk_organization",
            name: o.slug.clone(),
            id: o.id,
        });
    }
    for d in DOMAINS.list(client, cancel).await? {
        if d.is_satellite {
            out.push(Import {
                resource_type: "clerk_domain",
                name: d.name.clone(),
                id: d.id,
            });
        }
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
