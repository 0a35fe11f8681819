//! `clerk_organization`: an organization created ahead of its members, as
//! B2B apps do for fixed tenants (`/organizations`).
use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::json_string::{canonical, json_eq};
use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, Immutable, IntBetween, IntoDiags, Invalid,
    JsonObject, RequiresReplace, Schema, StrCheck, UseStateForUnknown, Value,
};

use super::client::{ClerkClient, ClerkError, Organization, OrganizationBody, ORGANIZATIONS};
use super::create_settled::create_settled;
use super::crud::{created_at, Collected, Collection};
use super::organization_permission::check_not_blank;

pub struct OrganizationResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    slug: Value<String>,
    created_by: Value<String>,
    max_allowed_memberships: Value<i64>,
    public_metadata: Value<String>,
    private_metadata: Value<String>,
    created_at: Value<i64>,
}

fn metadata(v: Option<serde_json::Value>) -> String {
    canonical(&v.unwrap_or_else(|| serde_json::json!({})))
}

impl From<Organization> for Model {
    fn from(o: Organization) -> Self {
        Model {
            id: o.id.into(),
            name: o.name.into(),
            slug: o.slug.into(),
            created_by: o.created_by.filter(|c| !c.is_empty()).into(),
            max_allowed_memberships: o.max_allowed_memberships.into(),
            public_metadata: metadata(o.public_metadata).into(),
            private_metadata: metadata(o.private_metadata).into(),
            created_at: o.created_at.into(),
        }
    }
}

impl Model {
    fn body(&self) -> Result<OrganizationBody, Diagnostics> {
        let object = |attr: &str, v: &Value<String>| -> Result<serde_json::Value, Diagnostics> {
            serde_json::from_str(v.str_or("{}")).map_err(|e| {
                Diagnostics::attr_error(
                    AttrPath::attr(attr),
                    "Invalid JSON",
                    format!("`{attr}` is not valid JSON: {e}"),
                )
            })
        };
        Ok(OrganizationBody {
            name: self.name.str_or("").to_string(),
            slug: self.slug.known().cloned(),
            created_by: self.created_by.known().cloned(),
            max_allowed_memberships: self.max_allowed_memberships.known().copied(),
            public_metadata: object("public_metadata", &self.public_metadata)?,
            private_metadata: object("private_metadata", &self.private_metadata)?,
        })
    }
}

/// CreateOrganization: "May not contain URLs or HTML. Max length: 256".
fn check_name(name: &str) -> Result<(), Invalid> {
    check_not_blank(name)?;
    if name.chars().count() > 256 {
        return Err("must be at most 256 characters long".into());
    }
    if name.contains("://") || (name.contains('<') && name.contains('>')) {
        return Err(
            "may not contain URLs or HTML (Clerk refuses them in organization names)".into(),
        );
    }
    Ok(())
}

/// "Can contain only lowercase alphanumeric characters and the dash".
fn check_slug(slug: &str) -> Result<(), Invalid> {
    if slug.is_empty()
        || !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(
            "may contain only lowercase letters, digits and dashes (e.g. `acme-inc`)".into(),
        );
    }
    Ok(())
}

#[async_trait]
impl Collected for OrganizationResource {
    type Object = Organization;
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_organization";

    const COLLECTION: &'static Collection<Organization> = &ORGANIZATIONS;
    const ID: fn(&Model) -> &str = |m| m.id.str_or("");
    /// GetOrganization takes the id or the slug: every import id is a GET.
    const IMPORT_TAKES: (&'static str, &'static str) = ("slug", "an id (`org_...`) or a slug");

    fn schema(&self) -> Schema {
        Schema::new(
            "An organization (`/organizations`), for tenants that exist before their members sign up. Clerk refuses to create one until organizations are enabled on the instance (`clerk_organization_settings { enabled = true }`, with `depends_on` on it). Name, slug, membership limit and metadata update in place; only `created_by` replaces it. Deleting it deletes its memberships and invitations too. Import with the id (`org_...`) or the slug.",
            vec![
                Attribute::id("Organization id (`org_...`), an import id. Session tokens carry it as `org_id`."),
                Attribute::string("name").required().validate(StrCheck("Invalid organization name", check_name)).describe("Display name, at most 256 characters, without URLs or HTML."),
                Attribute::string("slug").optional_computed().plan(UseStateForUnknown).validate(StrCheck("Invalid organization slug", check_slug)).describe("Unique slug: lowercase letters, digits and dashes. Unset: Clerk derives one from the name when it creates the organization, and it is kept. Needs slugs enabled in the organization settings. Also an import id."),
                Attribute::string("created_by").optional_computed().plan(Immutable).plan(RequiresReplace).describe("Id of an existing user (`user_...`) who becomes the organization's first member with the creator role (`org:admin` by default). Optional: without it the organization starts with no members. Clerk cannot change it afterwards, so a different value replaces the organization."),
                Attribute::int("max_allowed_memberships").optional_computed().plan(UseStateForUnknown).validate(IntBetween(0, i64::from(i32::MAX))).describe("Maximum number of members; `0` means unlimited. Unset: the instance's default from its organization settings, as Clerk applies it at creation."),
                Attribute::string("public_metadata").default("{}").validate(JsonObject).semantic_eq(json_eq).describe("Metadata readable from the frontend (read-only there), as a JSON object string, usually `jsonencode({...})`. Default `{}`. Compared by meaning, so key order and whitespace never cause a diff. Replaced as a whole on update: keys added outside Terraform show as a diff."),
                Attribute::string("private_metadata").default("{}").validate(JsonObject).semantic_eq(json_eq).describe("Metadata only the Backend API can read, as a JSON object string. Default `{}`. Compared by meaning and replaced as a whole on update. Not marked sensitive: pass secrets through a `sensitive` variable."),
                created_at(),
            ],
        )
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let client = ctx.client::<ClerkClient>()?;
        let body = m.body()?;
        let failed = |e: ClerkError| {
            // organizations.go `OrganizationCreatorNotFound` names no parameter.
            if e.code() == Some("organization_creator_not_found") {
                return Diagnostics::attr_error(
                    AttrPath::attr("created_by"),
                    "Failed to create organization",
                    format!("{e} `created_by` must be the id of an existing user of this instance (`user_...`)."),
                );
            }
            e.into_diags("Failed to create organization")
        };
        // Without a slug, an organization is told apart from a namesake only
        // by being new: remember which namesakes existed before.
        let before: BTreeSet<String> = if body.slug.is_none() {
            namesakes(&client, ctx, &body.name)
                .await
                .map_err(failed)?
                .into_iter()
                .map(|o| o.id)
                .collect()
        } else {
            BTreeSet::new()
        };
        let created = create_settled(
            ctx,
            "an organization",
            || ORGANIZATIONS.create(&client, &ctx.cancel, &body),
            || async {
                Ok(match &body.slug {
                    Some(s) => ORGANIZATIONS.get(&client, &ctx.cancel, s).await?,
                    None => namesakes(&client, ctx, &body.name)
                        .await?
                        .into_iter()
                        .find(|o| !before.contains(&o.id)),
                })
            },
            |o: &Organization| {
                o.name == body.name
                    && o.public_metadata.as_ref() == Some(&body.public_metadata)
                    && o.private_metadata.as_ref() == Some(&body.private_metadata)
            },
        )
        .await
        .map_err(failed)?;
        Ok(created.into())
    }

    async fn update(&self, ctx: &Ctx, prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        ORGANIZATIONS
            .update_in(
                ctx,
                (Self::ID)(&prior),
                &m.body()?.for_update(&prior.body()?),
            )
            .await
    }
}

async fn namesakes(
    client: &ClerkClient,
    ctx: &Ctx,
    name: &str,
) -> Result<Vec<Organization>, ClerkError> {
    let all = ORGANIZATIONS.list(client, &ctx.cancel).await?;
    Ok(all.into_iter().filter(|o| o.name == name).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{assert_checks, Known};

    #[test]
    fn names_and_slugs() {
        assert_checks(
            check_name,
            &["Acme Inc."],
            &[
                "  ",
                "visit https://evil.example",
                "<b>Acme</b>",
                &"n".repeat(257),
            ],
        );
        assert_checks(check_slug, &["acme-inc-2"], &[]);
        for bad in ["Acme", "acme_inc", "acme inc", ""] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_update_sends_the_slug_and_the_limit_only_when_they_change() {
        let prior = Model {
            name: Known("Acme".into()),
            slug: Known("acme".into()),
            max_allowed_memberships: Known(5),
            ..Model::default()
        };
        let renamed = Model {
            name: Known("Acme Inc".into()),
            ..prior.clone()
        };
        let body = |m: &Model| m.body().unwrap().for_update(&prior.body().unwrap());
        let b = body(&renamed);
        assert_eq!(
            (b.name.as_str(), b.slug, b.max_allowed_memberships),
            ("Acme Inc", None, None)
        );
        let moved = Model {
            slug: Known("acme-inc".into()),
            max_allowed_memberships: Known(9),
            ..prior.clone()
        };
        let b = body(&moved);
        assert_eq!(
            (b.slug.as_deref(), b.max_allowed_memberships),
            (Some("acme-inc"), Some(9))
        );
        assert!(b.created_by.is_none());
    }
}
