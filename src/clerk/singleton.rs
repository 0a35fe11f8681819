//! Per-instance settings (`clerk_instance_settings`,
//! `clerk_instance_restrictions`, `clerk_organization_settings`): one
//! object that exists with the instance. Creating it applies the configured
//! values, updating applies them again, destroying leaves the settings as
//! they are, and it is imported with the id `instance`. A kind says only how
//! its values are applied and read.
use async_trait::async_trait;

use crate::framework::{ApplyError, Ctx, Diagnostics, Model, Resource, Schema};

/// The import id of every instance singleton.
pub const SINGLETON_ID: &str = "instance";

#[async_trait]
pub trait Singleton: Send + Sync + 'static {
    type Model: Model + Default;
    const TYPE_NAME: &'static str;
    /// What the settings are called in error summaries ("instance settings").
    const NOUN: &'static str;
    /// Import ids taken besides `instance`, for the refusal of another one.
    const OTHER_IMPORT_IDS: &'static str = "";

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    /// Sends the configured values; what the state records afterwards.
    async fn apply(
        &self,
        ctx: &Ctx,
        m: Self::Model,
        failed: &str,
    ) -> Result<Self::Model, ApplyError<Self::Model>>;

    /// The settings as they are now; `state` holds what cannot be read.
    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
        failed: &str,
    ) -> Result<Self::Model, Diagnostics>;

    /// The settings for an import whose id has been checked.
    async fn import(&self, ctx: &Ctx, failed: &str) -> Result<Self::Model, Diagnostics> {
        self.read(ctx, Self::Model::default(), failed).await
    }

    /// Whether an import id other than `instance` names this instance.
    async fn is_instance_id(&self, _ctx: &Ctx, _id: &str) -> Result<bool, Diagnostics> {
        Ok(false)
    }
}

/// The resource of a [`Singleton`]: `resource(SingletonResource(InstanceSettings))`.
pub struct SingletonResource<S>(pub S);

#[async_trait]
impl<S: Singleton> Resource for SingletonResource<S> {
    type Model = S::Model;

    fn type_name(&self) -> &'static str {
        S::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        self.0.schema()
    }

    fn validate(&self, config: &S::Model, diags: &mut Diagnostics) {
        self.0.validate(config, diags);
    }

    async fn create(&self, ctx: &Ctx, m: S::Model) -> Result<S::Model, ApplyError<S::Model>> {
        let failed = format!("Failed to apply {}", S::NOUN);
        self.0.apply(ctx, m, &failed).await
    }

    async fn read(&self, ctx: &Ctx, state: S::Model) -> Result<Option<S::Model>, Diagnostics> {
        let failed = format!("Failed to read {}", S::NOUN);
        Ok(Some(self.0.read(ctx, state, &failed).await?))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: S::Model,
        planned: S::Model,
    ) -> Result<S::Model, ApplyError<S::Model>> {
        let failed = format!("Failed to update {}", S::NOUN);
        self.0.apply(ctx, planned, &failed).await
    }

    /// Nothing is deleted or reset: the settings stay as they are and
    /// Terraform forgets them.
    async fn delete(&self, _ctx: &Ctx, _state: S::Model) -> Result<(), Diagnostics> {
        Ok(())
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<S::Model, Diagnostics> {
        if id != SINGLETON_ID && !self.0.is_instance_id(ctx, id).await? {
            return Err(Diagnostics::error(
                "Unexpected import id",
                format!(
                    "{} is imported with the id `{SINGLETON_ID}`{}; got {id:?}.",
                    S::TYPE_NAME,
                    S::OTHER_IMPORT_IDS
                ),
            ));
        }
        let failed = format!("Failed to import {}", S::NOUN);
        self.0.import(ctx, &failed).await
    }
}
