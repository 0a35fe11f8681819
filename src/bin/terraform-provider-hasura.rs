//! `terraform-provider-hasura`: launched by Terraform, never by hand.
//! (Serves an empty schema until the Hasura resources land.)
use std::any::Any;
use std::process::ExitCode;
use std::sync::Arc;

use terraform_providers::framework::{
    DataSource, Diagnostics, Provider, ProviderServer, Resource, Schema,
};
use terraform_providers::plugin::cty::Value;
use terraform_providers::plugin::serve::{run, ServeConfig};

struct Empty;

#[async_trait::async_trait]
impl Provider for Empty {
    fn schema(&self) -> Schema {
        Schema::new("Hasura", vec![])
    }
    async fn configure(
        &self,
        _: &Value,
        _: &str,
    ) -> Result<Arc<dyn Any + Send + Sync>, Diagnostics> {
        Ok(Arc::new(()))
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![]
    }
}

fn main() -> ExitCode {
    run(
        ServeConfig {
            binary_name: "terraform-provider-hasura",
            provider_address: "registry.terraform.io/clerk-hasura/hasura",
        },
        ProviderServer::new(Empty),
    )
}
