//! `clerk_domain`: a satellite domain of the instance (`/domains`). Name and
//! proxy URL update in place (UpdateDomain); the primary domain comes with
//! the instance and is not managed here.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Invalid, Known, Nesting, Schema,
    StrCheck, Value,
};

use super::client::{
    ClerkClient, ClerkError, CnameTarget, DomainAdd, DomainObject, DomainUpdate, DOMAINS,
};
use super::create_settled::create_settled;
use super::crud::{Collected, Collection, ImportId, Lookup};

pub struct DomainResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Target {
    host: Value<String>,
    value: Value<String>,
    required: Value<bool>,
}

impl From<CnameTarget> for Target {
    fn from(t: CnameTarget) -> Self {
        Target {
            host: t.host.into(),
            value: t.value.into(),
            required: t.required.into(),
        }
    }
}

pub fn targets(t: Option<Vec<CnameTarget>>) -> Value<Vec<Target>> {
    Known(
        t.unwrap_or_default()
            .into_iter()
            .map(Target::from)
            .collect(),
    )
}

pub fn cname_attribute() -> Attribute {
    Attribute::nested(
        "cname_targets",
        Nesting::List,
        vec![
            Attribute::string("host")
                .computed()
                .describe("DNS name of the CNAME record."),
            Attribute::string("value")
                .computed()
                .describe("What the record must point to."),
            Attribute::bool("required")
                .computed()
                .describe("Whether the record is needed for the domain to be deployed."),
        ],
    )
    .computed()
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    is_satellite: Value<bool>,
    proxy_url: Value<String>,
    frontend_api_url: Value<String>,
    cname_targets: Value<Vec<Target>>,
}

impl From<DomainObject> for Model {
    fn from(d: DomainObject) -> Self {
        Model {
            id: d.id.into(),
            name: d.name.into(),
            is_satellite: d.is_satellite.into(),
            proxy_url: d.proxy_url.filter(|p| !p.is_empty()).into(),
            frontend_api_url: d.frontend_api_url.into(),
            cname_targets: targets(d.cname_targets),
        }
    }
}

/// UpdateDomain: "For development instances, can contain the port, i.e
/// `myhostname:3000`. For production instances, must be a valid FQDN ...
/// Cannot contain protocol scheme."
pub fn check_domain_name(name: &str) -> Result<(), Invalid> {
    if name.contains("://") {
        return Err("must be a bare host name such as `satellite.example.com`, without a scheme (`https://`)".into());
    }
    let (host, port) = match name.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (name, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if name.len() > 253 || !host.split('.').all(label_ok) {
        return Err("must be a host name such as `satellite.example.com` (letters, digits, dashes and dots; no path, spaces or scheme)".into());
    }
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |n| n == 0)) {
        return Err("has a port that is not a number from 1 to 65535".into());
    }
    Ok(())
}

/// "The full URL of the proxy": an https URL with a host.
pub fn check_proxy_url(u: &str) -> Result<(), Invalid> {
    let parsed = url::Url::parse(u).map_err(|e| {
        format!("must be a full URL such as `https://app.example.com/__clerk` ({e})")
    })?;
    if parsed.scheme() != "https" || parsed.host_str().is_none_or(str::is_empty) {
        return Err("must be an `https://` URL such as `https://app.example.com/__clerk`".into());
    }
    if u.chars().any(char::is_whitespace) {
        return Err("must not contain whitespace".into());
    }
    Ok(())
}

/// Clerk's answer to a proxy on a development instance, blamed on the attribute.
fn failed(e: ClerkError, summary: &str) -> Diagnostics {
    if e.code() == Some("domain_update_forbidden") {
        return Diagnostics::attr_error(
            AttrPath::attr("proxy_url"),
            summary,
            format!("{e} Only production instances can serve a domain through a proxy: remove `proxy_url` for a development instance."),
        );
    }
    e.into_diags(summary)
}

#[async_trait]
impl Collected for DomainResource {
    type Object = DomainObject;
    type Model = Model;
    const TYPE_NAME: &'static str = "clerk_domain";
    /// No GetDomain: an import id is looked up in the listing.
    const IMPORT: ImportId<DomainObject> = ImportId::Listed(|d, id| d.id == id || d.name == id);

    const COLLECTION: &'static Collection<DomainObject> = &DOMAINS;
    const ID: fn(&Model) -> &str = |m| m.id.str_or("");
    const IMPORT_TAKES: (&'static str, &'static str) =
        ("name", "an id (`dmn_...`) or the domain name");

    fn schema(&self) -> Schema {
        Schema::new(
            "A satellite domain of the instance (`/domains`): another site whose users share the primary domain's sessions. `name` and `proxy_url` update in place; the primary domain comes with the instance and cannot be managed here. Import with the id (`dmn_...`) or the domain name.",
            vec![
                Attribute::id("Domain id (`dmn_...`), an import id."),
                Attribute::string("name").required().validate(StrCheck("Invalid domain name", check_domain_name)).describe("The domain name, without scheme: a fully qualified name such as `satellite.example.com` for production instances; development instances also take a port (`localhost:3001`). Changing it updates the domain in place. Also an import id."),
                Attribute::bool("is_satellite").default(true).describe("Always `true`: Clerk adds only satellite domains (an instance has one primary domain). Default `true`."),
                Attribute::string("proxy_url").optional().validate(StrCheck("Invalid proxy URL", check_proxy_url)).describe("Full `https://` URL of a proxy forwarding to Clerk's Frontend API for this domain (e.g. `https://satellite.example.com/__clerk`). Production instances only; Clerk refuses it on development instances. Unset means DNS (the CNAME targets). Changes in place."),
                Attribute::string("frontend_api_url").computed().describe("URL of the Frontend API serving this domain."),
                cname_attribute().describe("DNS records the domain needs (unless it uses a proxy)."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        if config.is_satellite == Known(false) {
            diags.add_attr_error(
                AttrPath::attr("is_satellite"),
                "Only satellite domains",
                "`is_satellite` must be `true`: Clerk adds only satellite domains, the instance's primary domain comes with it (AddDomain: \"Only `true` is accepted at the moment\").",
            );
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let client = ctx.client::<ClerkClient>()?;
        let name = m.name.str_or("");
        let proxy = m.proxy_url.as_deref();
        let add = DomainAdd {
            name,
            is_satellite: true,
            proxy_url: proxy,
        };
        let created = create_settled(
            ctx,
            "a domain",
            || DOMAINS.create(&client, &ctx.cancel, &add),
            || DOMAINS.find(&client, &ctx.cancel, |d| d.name == name),
            |d: &DomainObject| d.is_satellite && d.proxy_url.as_deref() == proxy,
        )
        .await
        .map_err(|e| failed(e, "Failed to add domain"))?;
        Ok(created.into())
    }

    /// The API has no GetDomain: the listing is the read.
    async fn found(&self, ctx: &Ctx, state: &Model) -> Result<Option<DomainObject>, Diagnostics> {
        let id = (Self::ID)(state);
        let by_id = |d: &DomainObject| d.id == id;
        DOMAINS.read_in(ctx, Lookup::Listed(&by_id)).await
    }

    /// UpdateDomain changes only what it is sent.
    async fn update(&self, ctx: &Ctx, prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        let id = (Self::ID)(&prior);
        let client = ctx.client::<ClerkClient>()?;
        let body = DomainUpdate {
            name: (prior.name != m.name).then(|| m.name.str_or("")),
            proxy_url: (prior.proxy_url != m.proxy_url).then(|| m.proxy_url.as_deref()),
        };
        let d = DOMAINS
            .update(&client, &ctx.cancel, id, &body)
            .await
            .map_err(|e| failed(e, "Failed to update domain"))?;
        Ok(d.into())
    }

    fn refuse_import(d: &DomainObject, id: &str) -> Result<(), Diagnostics> {
        if !d.is_satellite {
            return Err(Diagnostics::error(
                "Primary domain",
                format!("{id:?} is the instance's primary domain, which comes with the instance and cannot be managed by `clerk_domain` (only satellites can). Read it with the `clerk_domains` data source."),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn names_and_proxies() {
        assert_checks(
            check_domain_name,
            &[
                "satellite.example.com",
                "localhost:3001",
                "a-b.example.co.uk",
            ],
            &[
                "https://x.example.com",
                "x.example.com/path",
                "x example.com",
                "-x.example.com",
                "x..example.com",
                "x.example.com:0",
                "x.example.com:99999",
                "",
            ],
        );
        assert_checks(
            check_proxy_url,
            &["https://app.example.com/__clerk"],
            &["http://app.example.com/__clerk", "/__clerk"],
        );
    }
}
