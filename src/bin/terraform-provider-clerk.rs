//! `terraform-provider-clerk`: launched by Terraform, never by hand.
use std::process::ExitCode;

use terraform_providers::clerk::ClerkProvider;
use terraform_providers::framework::ProviderServer;
use terraform_providers::plugin::serve::{run, ServeConfig};

fn main() -> ExitCode {
    run(
        ServeConfig {
            binary_name: "terraform-provider-clerk",
            provider_address: "registry.terraform.io/clerk-hasura/clerk",
        },
        ProviderServer::new(ClerkProvider),
    )
}
