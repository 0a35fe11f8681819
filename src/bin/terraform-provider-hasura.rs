//! `terraform-provider-hasura`: launched by Terraform, never by hand.
use std::process::ExitCode;

use terraform_providers::framework::ProviderServer;
use terraform_providers::hasura::HasuraProvider;
use terraform_providers::plugin::serve::{run, ServeConfig};

fn main() -> ExitCode {
    run(
        ServeConfig {
            binary_name: "terraform-provider-hasura",
            provider_address: "registry.terraform.io/clerk-hasura/hasura",
        },
        ProviderServer::new(HasuraProvider),
    )
}
