//! What a provider author implements: resources, data sources, the provider.
//! Each works on its own typed model; `erased` turns them into what the
//! server drives with wire values.
use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diag::{ApiError, Diagnostics};
use super::erased::{DynDataSource, DynResource, Typed};
use super::model::Model;
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
pub struct ApplyError<M> {
    pub state: Option<M>,
    pub diags: Diagnostics,
}

impl<M> From<Diagnostics> for ApplyError<M> {
    fn from(diags: Diagnostics) -> Self {
        ApplyError { state: None, diags }
    }
}

/// A client error ends a create/update with `?` as it ends a read.
impl<M, E: ApiError> From<E> for ApplyError<M> {
    fn from(e: E) -> Self {
        Diagnostics::from(e).into()
    }
}

/// Handed to [`Resource::modify_plan`] after the framework's own planning
/// (defaults, semantic equality, unknown marking, attribute modifiers).
pub struct Plan<'a, M> {
    pub prior: Option<&'a M>,
    pub config: &'a M,
    pub planned: &'a mut M,
    /// Attribute names whose change forces replacement (added to the modifiers' list).
    pub requires_replace: &'a mut Vec<&'static str>,
    pub diags: &'a mut Diagnostics,
}

#[async_trait]
pub trait Resource: Send + Sync + 'static {
    type Model: Model;

    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Cross-attribute checks on a configuration; any attribute may be
    /// unknown. Required attributes are known not to be null here.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    /// Resource-specific planning of a create or update.
    async fn modify_plan(&self, _ctx: &Ctx, _plan: Plan<'_, Self::Model>) {}

    /// Objections to destroying `prior` (e.g. deletion protection): errors
    /// stop the plan, warnings are shown.
    async fn plan_destroy(&self, _ctx: &Ctx, _prior: &Self::Model, _diags: &mut Diagnostics) {}

    /// `planned` carries write-only attributes' configured values; the
    /// framework keeps them out of the state.
    async fn create(
        &self,
        ctx: &Ctx,
        planned: Self::Model,
    ) -> Result<Self::Model, ApplyError<Self::Model>>;
    /// `Ok(None)` when the object no longer exists remotely.
    async fn read(&self, ctx: &Ctx, state: Self::Model)
        -> Result<Option<Self::Model>, Diagnostics>;
    /// The default serves a resource whose every attribute forces
    /// replacement, is computed (kept from the prior state by the plan) or
    /// only matters at creation: there is nothing to send, and the plan is
    /// the new state.
    async fn update(
        &self,
        _ctx: &Ctx,
        _prior: Self::Model,
        planned: Self::Model,
    ) -> Result<Self::Model, ApplyError<Self::Model>> {
        Ok(planned)
    }
    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> Result<(), Diagnostics>;
    /// A state stub for `terraform import`; core reads it right after.
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics>;
}

#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    type Model: Model;

    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}
    async fn read(&self, ctx: &Ctx, config: Self::Model) -> Result<Self::Model, Diagnostics>;
}

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    type Config: Model;

    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Self::Config, _diags: &mut Diagnostics) {}
    /// Builds the API client every resource call receives through `Ctx::client`.
    async fn configure(
        &self,
        config: Self::Config,
        terraform_version: &str,
    ) -> Result<Arc<dyn Any + Send + Sync>, Diagnostics>;
    fn resources(&self) -> Vec<Arc<dyn DynResource>>;
    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource>>;
}

/// Registers a resource with its provider: `vec![resource(TableResource), ...]`.
pub fn resource<R: Resource>(r: R) -> Arc<dyn DynResource> {
    let (name, schema) = (r.type_name(), r.schema());
    Arc::new(Typed::new(r, name, schema))
}

pub fn data_source<D: DataSource>(d: D) -> Arc<dyn DynDataSource> {
    let (name, schema) = (d.type_name(), d.schema());
    Arc::new(Typed::new(d, name, schema))
}
