//! The wire-level face of a typed resource: the server hands over cty
//! values, these adapters decode them into the resource's model, call it,
//! and encode what it returns with the type built once from its schema.
use std::sync::Arc;

use async_trait::async_trait;

use crate::plugin::cty::{Type, Value as Cty};

use super::diag::Diagnostics;
use super::model::{decode, encode, Model};
use super::resource::{ApplyError, Ctx, DataSource, Plan, Provider, Resource};
use super::schema::Schema;

/// A failed create/update at the wire level: the remote object's state, if any.
pub type DynApplyError = (Option<Cty>, Diagnostics);

/// What the server knows of every resource and data source it serves.
pub trait Registered: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    /// Built once from the schema: every read and import encodes with it.
    fn cty_type(&self) -> &Type;
}

#[async_trait]
pub trait DynResource: Registered {
    fn validate(&self, config: &Cty, diags: &mut Diagnostics);
    /// `plan` holds wire values; the typed resource gets its model.
    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Cty>);
    async fn plan_destroy(&self, ctx: &Ctx, prior: &Cty, diags: &mut Diagnostics);
    async fn create(&self, ctx: &Ctx, planned: &Cty) -> Result<Cty, DynApplyError>;
    async fn read(&self, ctx: &Ctx, state: &Cty) -> Result<Option<Cty>, Diagnostics>;
    async fn update(&self, ctx: &Ctx, prior: &Cty, planned: &Cty) -> Result<Cty, DynApplyError>;
    async fn delete(&self, ctx: &Ctx, state: &Cty) -> Result<(), Diagnostics>;
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Cty, Diagnostics>;
}

#[async_trait]
pub trait DynDataSource: Registered {
    fn validate(&self, config: &Cty, diags: &mut Diagnostics);
    async fn read(&self, ctx: &Ctx, config: &Cty) -> Result<Cty, Diagnostics>;
}

/// Decodes a configuration for a typed `validate`. A configuration the
/// attribute validators already refused (e.g. `1.5` for a whole number) may
/// not decode: their diagnostics say it all.
fn validate_as<M: Model>(
    config: &Cty,
    diags: &mut Diagnostics,
    f: impl FnOnce(&M, &mut Diagnostics),
) {
    match decode::<M>(config) {
        Ok(m) => f(&m, diags),
        Err(_) if diags.has_errors() => {}
        Err(d) => diags.extend(d),
    }
}

/// A typed resource or data source with its schema and the cty type built
/// from it.
pub struct Typed<T> {
    imp: T,
    name: &'static str,
    schema: Schema,
    ty: Arc<Type>,
}

impl<T> Typed<T> {
    pub fn new(imp: T, name: &'static str, schema: Schema) -> Self {
        Typed {
            ty: Arc::new(schema.cty_type()),
            name,
            schema,
            imp,
        }
    }
}

impl<T: Send + Sync> Registered for Typed<T> {
    fn type_name(&self) -> &'static str {
        self.name
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn cty_type(&self) -> &Type {
        &self.ty
    }
}

impl<R: Resource> Typed<R> {
    fn apply_result(
        &self,
        r: Result<R::Model, ApplyError<R::Model>>,
    ) -> Result<Cty, DynApplyError> {
        match r {
            Ok(m) => encode(&m, &self.ty).map_err(|d| (None, d)),
            Err(e) => {
                let state = match e.state.map(|s| encode(&s, &self.ty)).transpose() {
                    Ok(s) => s,
                    Err(d) => return Err((None, d)),
                };
                Err((state, e.diags))
            }
        }
    }
}

#[async_trait]
impl<R: Resource> DynResource for Typed<R> {
    fn validate(&self, config: &Cty, diags: &mut Diagnostics) {
        validate_as(config, diags, |m: &R::Model, d| self.imp.validate(m, d))
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Cty>) {
        let Plan {
            prior,
            config,
            planned,
            requires_replace,
            diags,
        } = plan;
        let decoded = (|| {
            let prior = prior.map(decode::<R::Model>).transpose()?;
            Ok::<_, Diagnostics>((
                prior,
                decode::<R::Model>(config)?,
                decode::<R::Model>(planned)?,
            ))
        })();
        let (prior, config, mut model) = match decoded {
            Ok(x) => x,
            Err(d) => return diags.extend(d),
        };
        self.imp
            .modify_plan(
                ctx,
                Plan {
                    prior: prior.as_ref(),
                    config: &config,
                    planned: &mut model,
                    requires_replace,
                    diags,
                },
            )
            .await;
        match encode(&model, &self.ty) {
            Ok(v) => *planned = v,
            Err(d) => diags.extend(d),
        }
    }

    async fn plan_destroy(&self, ctx: &Ctx, prior: &Cty, diags: &mut Diagnostics) {
        match decode::<R::Model>(prior) {
            Ok(m) => self.imp.plan_destroy(ctx, &m, diags).await,
            Err(d) => diags.extend(d),
        }
    }

    async fn create(&self, ctx: &Ctx, planned: &Cty) -> Result<Cty, DynApplyError> {
        let m = decode(planned).map_err(|d| (None, d))?;
        self.apply_result(self.imp.create(ctx, m).await)
    }

    async fn read(&self, ctx: &Ctx, state: &Cty) -> Result<Option<Cty>, Diagnostics> {
        let m = decode(state)?;
        match self.imp.read(ctx, m).await? {
            Some(m) => Ok(Some(encode(&m, &self.ty)?)),
            None => Ok(None),
        }
    }

    async fn update(&self, ctx: &Ctx, prior: &Cty, planned: &Cty) -> Result<Cty, DynApplyError> {
        let p = decode(prior).map_err(|d| (None, d))?;
        let m = decode(planned).map_err(|d| (None, d))?;
        self.apply_result(self.imp.update(ctx, p, m).await)
    }

    async fn delete(&self, ctx: &Ctx, state: &Cty) -> Result<(), Diagnostics> {
        self.imp.delete(ctx, decode(state)?).await
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Cty, Diagnostics> {
        encode(&self.imp.import(ctx, id).await?, &self.ty)
    }
}

#[async_trait]
impl<D: DataSource> DynDataSource for Typed<D> {
    fn validate(&self, config: &Cty, diags: &mut Diagnostics) {
        validate_as(config, diags, |m: &D::Model, d| self.imp.validate(m, d))
    }
    async fn read(&self, ctx: &Ctx, config: &Cty) -> Result<Cty, Diagnostics> {
        encode(&self.imp.read(ctx, decode(config)?).await?, &self.ty)
    }
}

#[async_trait]
pub trait DynProvider: Send + Sync {
    fn validate(&self, config: &Cty, diags: &mut Diagnostics);
    async fn configure(
        &self,
        config: &Cty,
        terraform_version: &str,
    ) -> Result<Arc<dyn std::any::Any + Send + Sync>, Diagnostics>;
}

pub struct TypedProvider<P>(pub P);

#[async_trait]
impl<P: Provider> DynProvider for TypedProvider<P> {
    fn validate(&self, config: &Cty, diags: &mut Diagnostics) {
        validate_as(config, diags, |c: &P::Config, d| self.0.validate(c, d))
    }
    async fn configure(
        &self,
        config: &Cty,
        terraform_version: &str,
    ) -> Result<Arc<dyn std::any::Any + Send + Sync>, Diagnostics> {
        self.0.configure(decode(config)?, terraform_version).await
    }
}
