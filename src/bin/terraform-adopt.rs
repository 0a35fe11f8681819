//! `terraform-adopt [FILE]`: writes `import` blocks for everything the
//! Clerk and Hasura providers can manage (default `imports.tf`; `-` for
//! stdout). Settings come from the providers' environment variables; see
//! docs/adoption.md.
use terraform_providers::adopt::{render, survey, Settings};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "imports.tf".into());
    if out == "-h" || out == "--help" {
        eprintln!("usage: terraform-adopt [FILE|-]   (default imports.tf; see docs/adoption.md)");
        return std::process::ExitCode::SUCCESS;
    }
    let settings = Settings::from_env();
    let found = match survey(&settings).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("terraform-adopt: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if found.read.is_empty() {
        eprintln!("terraform-adopt: nothing to read: set HASURA_GRAPHQL_ENDPOINT and HASURA_GRAPHQL_ADMIN_SECRET, HASURA_CLOUD_ACCESS_TOKEN, and/or CLERK_SECRET_KEY");
        return std::process::ExitCode::FAILURE;
    }
    let text = render(&found);
    if out == "-" {
        print!("{text}");
    } else if let Err(e) = std::fs::write(&out, &text) {
        eprintln!("terraform-adopt: cannot write {out}: {e}");
        return std::process::ExitCode::FAILURE;
    } else {
        eprintln!(
            "terraform-adopt: wrote {} import blocks to {out} ({} listed as not adoptable, {} env var keys)",
            found.imports.len(),
            found.inexpressible.len(),
            found.env_keys.len()
        );
    }
    std::process::ExitCode::SUCCESS
}
