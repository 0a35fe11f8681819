//! The `clerk_instance` data source: the instance as GetInstance reports it.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{Attribute, Ctx, DataSource, Diagnostics, IntoDiags, Schema, Type, Value};

use super::client::ClerkClient;

pub struct InstanceDataSource;

#[derive(Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    environment_type: Value<String>,
    allowed_origins: Value<Vec<String>>,
}

#[async_trait]
impl DataSource for InstanceDataSource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "clerk_instance"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "The instance the provider's secret key belongs to (GetInstance, `GET /v1/instance`).",
            vec![
                Attribute::string("id").computed().describe("The instance id (`ins_...`)."),
                Attribute::string("environment_type").computed().describe("`development`, `staging` or `production`."),
                Attribute::typed("allowed_origins", Type::set(Type::String)).computed().describe("Origins allowed to call the Frontend API from browser-like stacks; empty when none are set."),
            ],
        )
    }

    async fn read(&self, ctx: &Ctx, _config: Model) -> Result<Model, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let i = client
            .instance(&ctx.cancel)
            .await
            .map_err(|e| e.into_diags("Failed to read the instance"))?;
        Ok(Model {
            id: i.id.into(),
            environment_type: i.environment_type.into(),
            allowed_origins: i.allowed_origins.unwrap_or_default().into(),
        })
    }
}
