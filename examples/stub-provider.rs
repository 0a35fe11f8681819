//! A provider with an empty schema, used by `tests/transport.rs` to exercise
//! the handshake, AutoMTLS and the go-plugin services against real clients
//! (including Terraform) without depending on any real resource code.
use std::process::ExitCode;

use terraform_providers::plugin::proto::tfplugin6::{
    self, get_provider_schema, provider_server::Provider, validate_provider_config,
};
use terraform_providers::plugin::serve::{run, ServeConfig};
use tonic::{Request, Response, Status};

struct Stub;

#[tonic::async_trait]
impl Provider for Stub {
    async fn get_provider_schema(
        &self,
        _request: Request<get_provider_schema::Request>,
    ) -> Result<Response<get_provider_schema::Response>, Status> {
        tracing::info!(rpc = "GetProviderSchema", "stub provider answering");
        Ok(Response::new(get_provider_schema::Response {
            provider: Some(tfplugin6::Schema {
                version: 0,
                block: Some(tfplugin6::schema::Block::default()),
            }),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        _request: Request<validate_provider_config::Request>,
    ) -> Result<Response<validate_provider_config::Response>, Status> {
        // Lets the transport tests prove that a panicking handler does not take
        // the process down.
        if std::env::var_os("STUB_PROVIDER_PANIC").is_some() {
            panic!("stub provider asked to panic");
        }
        Ok(Response::new(validate_provider_config::Response::default()))
    }
}

fn main() -> ExitCode {
    run(
        ServeConfig {
            binary_name: "terraform-provider-stub",
            provider_address: "registry.terraform.io/clerk-hasura/stub",
        },
        Stub,
    )
}
