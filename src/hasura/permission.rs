use crate::framework::{ApplyError, Ctx, Diagnostics, Resource, Schema};
use crate::plugin::cty::Value;
use async_trait::async_trait;
pub struct PermissionResource;
#[async_trait]
impl Resource for PermissionResource {
    fn type_name(&self) -> &'static str {
        "hasura_permission"
    }
    fn schema(&self) -> Schema {
        Schema::new("", vec![])
    }
    async fn create(&self, _: &Ctx, _: &Value, _: &Value) -> Result<Value, ApplyError> {
        todo!()
    }
    async fn read(&self, _: &Ctx, _: &Value) -> Result<Option<Value>, Diagnostics> {
        todo!()
    }
    async fn update(&self, _: &Ctx, _: &Value, _: &Value, _: &Value) -> Result<Value, ApplyError> {
        todo!()
    }
    async fn delete(&self, _: &Ctx, _: &Value) -> Result<(), Diagnostics> {
        todo!()
    }
    async fn import(&self, _: &Ctx, _: &str) -> Result<Value, Diagnostics> {
        todo!()
    }
}
