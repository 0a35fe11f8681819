//! `terraform-adopt`: lists what exists in a Hasura project and a Clerk
//! instance and writes one `import` block per object the providers manage,
//! with stable, readable addresses; `terraform plan -generate-config-out`
//! then writes the configuration. Objects no resource expresses, and env
//! vars (secrets Terraform cannot read back), are listed in comments.
pub mod clerk;
pub mod hasura;
pub mod hcl;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clerk::client::ClerkClient;
use crate::hasura::client::{Cloud, Engine};
use crate::http::{check_endpoint, HttpClient, RetryPolicy};

/// A setting's URL, or the API's public default, checked as the providers check it.
fn endpoint(set: Option<&str>, default: &str, var: &str) -> anyhow::Result<url::Url> {
    check_endpoint(set.unwrap_or(default)).map_err(|e| anyhow::anyhow!("{var}: {e}"))
}

/// Where to read from; each side is optional.
#[derive(Default)]
pub struct Settings {
    pub hasura_endpoint: Option<String>,
    pub hasura_admin_secret: Option<String>,
    pub cloud_api_url: Option<String>,
    pub cloud_access_token: Option<String>,
    pub cloud_project_id: Option<String>,
    pub clerk_secret_key: Option<String>,
    pub clerk_api_url: Option<String>,
}

impl Settings {
    /// The environment variables the providers read.
    pub fn from_env() -> Settings {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Settings {
            hasura_endpoint: var("HASURA_GRAPHQL_ENDPOINT"),
            hasura_admin_secret: var("HASURA_GRAPHQL_ADMIN_SECRET"),
            cloud_api_url: var("HASURA_CLOUD_API_URL"),
            cloud_access_token: var("HASURA_CLOUD_ACCESS_TOKEN"),
            cloud_project_id: var("HASURA_CLOUD_PROJECT_ID"),
            clerk_secret_key: var("CLERK_SECRET_KEY"),
            clerk_api_url: var("CLERK_API_URL"),
        }
    }
}

/// Everything found: imports, and what is listed instead.
#[derive(Debug, Default)]
pub struct Survey {
    pub imports: Vec<hcl::Import>,
    pub inexpressible: Vec<String>,
    /// Env var keys (never their values).
    pub env_keys: Vec<String>,
    /// Which sides were read, for the header.
    pub read: Vec<&'static str>,
}

fn http() -> anyhow::Result<HttpClient> {
    let ua = format!("terraform-adopt/{}", env!("CARGO_PKG_VERSION"));
    Ok(HttpClient::new(
        &ua,
        Duration::from_secs(30),
        RetryPolicy::default(),
    )?)
}

/// Reads every configured side. Reads only: nothing is written anywhere.
pub async fn survey(s: &Settings) -> anyhow::Result<Survey> {
    let cancel = CancellationToken::new();
    let mut out = Survey::default();
    if let (Some(endpoint), Some(secret)) = (&s.hasura_endpoint, &s.hasura_admin_secret) {
        let url = check_endpoint(endpoint)
            .map_err(|e| anyhow::anyhow!("HASURA_GRAPHQL_ENDPOINT: {e}"))?;
        let engine = Engine::new(http()?, &url, secret)
            .map_err(|e| anyhow::anyhow!("HASURA_GRAPHQL_ADMIN_SECRET: {e}"))?;
        let found = hasura::survey(hasura::export(&engine, &cancel).await?);
        out.imports.extend(found.imports);
        out.inexpressible.extend(found.inexpressible);
        out.read.push("Hasura metadata");
        out.imports
            .extend(hasura::database_objects(&engine, &cancel, &found.tables).await?);
        out.read
            .push("foreign keys and indexes of the tracked tables (PostgreSQL catalog, read-only)");
    }
    if let Some(token) = &s.cloud_access_token {
        let url = endpoint(
            s.cloud_api_url.as_deref(),
            crate::hasura::provider::DEFAULT_CLOUD_API_URL,
            "HASURA_CLOUD_API_URL",
        )?;
        let cloud = Arc::new(
            Cloud::new(
                http()?,
                http()?,
                &url,
                token,
                s.cloud_project_id.clone(),
                None,
            )
            .map_err(|e| anyhow::anyhow!("HASURA_CLOUD_ACCESS_TOKEN: {e}"))?,
        );
        let project = cloud.project(&cancel, None).await?;
        out.env_keys = cloud
            .env(&cancel, &project.tenant_id)
            .await?
            .vars
            .into_keys()
            .collect();
        out.read.push("Hasura Cloud env vars (keys only)");
    }
    if let Some(key) = &s.clerk_secret_key {
        let url = endpoint(
            s.clerk_api_url.as_deref(),
            crate::clerk::provider::DEFAULT_API_URL,
            "CLERK_API_URL",
        )?;
        let client = ClerkClient::new(
            &url,
            key,
            None,
            Duration::from_secs(30),
            RetryPolicy::default(),
        )?;
        out.imports.extend(clerk::survey(&client, &cancel).await?);
        out.read.push("Clerk");
    }
    Ok(out)
}

/// The `imports.tf` text: a header, the blocks sorted by address, then the
/// comments. Depends only on what exists, so two runs give the same file.
pub fn render(s: &Survey) -> String {
    let mut out = hcl::comment(&[
        "Written by terraform-adopt: one import block per object the providers manage.".into(),
        format!("Read: {}.", s.read.join(", ")),
        "Next: terraform plan -generate-config-out=generated.tf, review, terraform apply.".into(),
    ]);
    for (address, i) in hcl::addressed(s.imports.clone()) {
        out.push('\n');
        out.push_str(&hcl::block(&address, &i.id));
    }
    if !s.env_keys.is_empty() {
        let keys = s.env_keys.join(",");
        let mut lines = vec![
            format!(
                "Env vars ({}) are not imported: their values are secrets Terraform cannot",
                s.env_keys.len()
            ),
            "read back, and generated config would hold `vars = null`, which validate refuses."
                .into(),
            "To adopt them, add this block and a `hasura_env_vars` resource whose `vars`".into(),
            "come from your secret store (a sensitive variable), then plan:".into(),
            String::new(),
            "import {".into(),
            "  to = hasura_env_vars.project".into(),
            format!("  id = {}", hcl::quoted(&keys)),
            "}".into(),
            String::new(),
            "Keys:".into(),
        ];
        lines.extend(s.env_keys.iter().map(|k| format!("  {k}")));
        out.push('\n');
        out.push_str(&hcl::comment(&lines));
    }
    if !s.inexpressible.is_empty() {
        let mut lines = vec![
            "Not adopted: no resource of these providers expresses these objects.".into(),
            "They stay as they are; manage them with the Hasura CLI's metadata or the dashboard."
                .into(),
            String::new(),
        ];
        let mut items = s.inexpressible.clone();
        items.sort();
        lines.extend(items.into_iter().map(|l| format!("  {l}")));
        out.push('\n');
        out.push_str(&hcl::comment(&lines));
    }
    out
}
