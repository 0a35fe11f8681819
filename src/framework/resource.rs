//! What a provider author implements: resources, data sources, the provider.
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::plugin::cty::{self, Type, Value};

use super::diag::Diagnostics;
use super::schema::Schema;

/// Per-call context: the configured API client and the cancellation signal
/// that `StopProvider` trips.
#[derive(Clone)]
pub struct Ctx {
    pub cancel: CancellationToken,
    client: Option<Arc<dyn Any + Send + Sync>>,
}

impl Ctx {
    pub fn new(cancel: CancellationToken, client: Option<Arc<dyn Any + Send + Sync>>) -> Self {
        Ctx { cancel, client }
    }

    /// The provider's configured client, or a diagnostic saying it is missing.
    pub fn client<C: Send + Sync + 'static>(&self) -> Result<Arc<C>, Diagnostics> {
        self.client
            .clone()
            .and_then(|c| c.downcast::<C>().ok())
            .ok_or_else(|| {
                Diagnostics::error(
                    "Provider not configured",
                    "The provider block was not configured before this call (or its configuration failed); see the earlier provider diagnostics.",
                )
            })
    }
}

/// A failed create/update. `state` is what exists remotely after the failure,
/// so Terraform records a half-made object instead of losing track of it.
#[derive(Debug)]
pub struct ApplyError {
    pub state: Option<Value>,
    pub diags: Diagnostics,
}

impl From<Diagnostics> for ApplyError {
    fn from(diags: Diagnostics) -> Self {
        ApplyError { state: None, diags }
    }
}

/// Context handed to `Resource::modify_plan` after the framework's own planning.
pub struct PlanContext<'a> {
    pub prior: Option<&'a Value>,
    pub config: &'a Value,
    pub planned: &'a mut Value,
    /// Attribute names whose change forces replacement (added to the modifiers' list).
    pub requires_replace: &'a mut Vec<&'static str>,
    pub diags: &'a mut Diagnostics,
}

/// The cty type of `T`'s schema, built once per process: reads and imports
/// encode with it on every call, and building a schema (every description
/// included) per refreshed instance is work for nothing.
fn cached_type<T: 'static>(kind: &'static str, schema: impl FnOnce() -> Schema) -> Arc<Type> {
    type Cache = Mutex<HashMap<(TypeId, &'static str), Arc<Type>>>;
    static TYPES: OnceLock<Cache> = OnceLock::new();
    let mut types = TYPES
        .get_or_init(Default::default)
        .lock()
        .expect("type cache lock");
    types
        .entry((TypeId::of::<T>(), kind))
        .or_insert_with(|| Arc::new(schema().cty_type()))
        .clone()
}

#[async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// The cty type of [`Resource::schema`], for `encode`.
    fn cty_type(&self) -> Arc<Type>
    where
        Self: Sized + 'static,
    {
        cached_type::<Self>("resource", || self.schema())
    }

    /// Cross-attribute checks on a (possibly partly unknown) configuration.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Resource-specific planning after defaults, semantic equality and
    /// attribute modifiers. Also called for destroy plans (`config` is null).
    async fn modify_plan(&self, _ctx: &Ctx, _plan: PlanContext<'_>) {}

    async fn create(&self, ctx: &Ctx, planned: &Value, config: &Value)
        -> Result<Value, ApplyError>;
    /// `Ok(None)` when the object no longer exists remotely.
    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, Diagnostics>;
    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> Result<Value, ApplyError>;
    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), Diagnostics>;
    /// A state stub for `terraform import`; core reads it right after.
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Value, Diagnostics>;
}

#[async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// The cty type of [`DataSource::schema`], for `encode`.
    fn cty_type(&self) -> Arc<Type>
    where
        Self: Sized + 'static,
    {
        cached_type::<Self>("data source", || self.schema())
    }
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, Diagnostics>;
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Builds the API client every resource call receives through `Ctx::client`.
    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
    ) -> Result<Arc<dyn Any + Send + Sync>, Diagnostics>;
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
}

/// Typed models: a serde struct with one field per attribute, read from and
/// written to a schema object. Unknown reads as `None`.
pub fn decode<M: DeserializeOwned>(v: &Value) -> Result<M, Diagnostics> {
    serde_json::from_value(cty::to_json(v)).map_err(|e| {
        Diagnostics::error("Provider bug: value does not fit its model", e.to_string())
    })
}

pub fn encode<M: Serialize>(m: &M, ty: &Type) -> Result<Value, Diagnostics> {
    let j = serde_json::to_value(m)
        .map_err(|e| Diagnostics::error("Provider bug: model does not serialise", e.to_string()))?;
    Value::from_json(&j, ty)
        .map_err(|e| Diagnostics::error("Provider bug: model does not fit its schema", e))
}
