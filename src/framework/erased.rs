//! The wire-level face of a typed resource: the server hands over cty
//! values, these adapters decode them into the resource's model, call it,
//! and encode what it returns with the type built once from its schema.
use std::sync::Arc;

use async_trait::async_trait;

use crate::plugin::cty::{Type, Value as Cty};

use super::diag::Diagnostics;
use super::model::{decode, encode};
use super::resource::{ApplyError, Ctx, DataSource, Plan, Provider, Resource};
use super::schema::Schema;

/// A failed create/update at the wire level: the remote object's state, if any.
pub type DynApplyError = (Option<Cty>, Diagnostics);

#[async_trait]
pub trait DynResource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    fn cty_type(&self) -> &Type;
    fn validate(&self, config: &Cty, diags: &mut Diagnostics);
    async fn modify_plan(
        &self,
        ctx: &Ctx,
        prior: Option<&Cty>,
        config: &Cty,
        planned: &mut Cty,
        requires_replace: &mut Vec<&'static str>,
        diags: &mut Diagnostics,
    );
    async fn plan_destroy(&self, ctx: &Ctx, prior: &Cty, diags: &mut Diagnostics);
    async fn create(&self, ctx: &Ctx, planned: &Cty) -> Result<Cty, DynApplyError>;
    async fn read(&self, ctx: &Ctx, state: &Cty) -> Result<Option<Cty>, Diagnostics>;
    async fn update(&self, ctx: &Ctx, prior: &Cty, planned: &Cty) -> Result<Cty, DynApplyError>;
    async fn delete(&self, ctx: &Ctx, state: &Cty) -> Result<(), Diagnostics>;
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Cty, Diagnostics>;
}

#[async_trait]
pub trait DynDataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    fn cty_type(&self) -> &Type;
    fn validate(&self, config: &Cty, diags: &mut Diagnostics);
    async fn read(&self, ctx: &Ctx, config: &Cty) -> Result<Cty, Diagnostics>;
}

pub struct TypedResource<R> {
    imp: R,
    schema: Schema,
    ty: Arc<Type>,
}

impl<R: Resource> TypedResource<R> {
    pub fn new(imp: R) -> Self {
        let schema = imp.schema();
        TypedResource {
            ty: Arc::new(schema.cty_type()),
            schema,
            imp,
        }
    }

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
impl<R: Resource> DynResource for TypedResource<R> {
    fn type_name(&self) -> &'static str {
        self.imp.type_name()
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn cty_type(&self) -> &Type {
        &self.ty
    }

    /// A config the attribute validators already refused (e.g. `1.5` for a
    /// whole number) may not decode: those diagnostics say it all.
    fn validate(&self, config: &Cty, diags: &mut Diagnostics) {
        match decode::<R::Model>(config) {
            Ok(m) => self.imp.validate(&m, diags),
            Err(_) if diags.has_errors() => {}
            Err(d) => diags.extend(d),
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Ctx,
        prior: Option<&Cty>,
        config: &Cty,
        planned: &mut Cty,
        requires_replace: &mut Vec<&'static str>,
        diags: &mut Diagnostics,
    ) {
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

pub struct TypedDataSource<D> {
    imp: D,
    schema: Schema,
    ty: Arc<Type>,
}

impl<D: DataSource> TypedDataSource<D> {
    pub fn new(imp: D) -> Self {
        let schema = imp.schema();
        TypedDataSource {
            ty: Arc::new(schema.cty_type()),
            schema,
            imp,
        }
    }
}

#[async_trait]
impl<D: DataSource> DynDataSource for TypedDataSource<D> {
    fn type_name(&self) -> &'static str {
        self.imp.type_name()
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn cty_type(&self) -> &Type {
        &self.ty
    }
    fn validate(&self, config: &Cty, diags: &mut Diagnostics) {
        match decode::<D::Model>(config) {
            Ok(m) => self.imp.validate(&m, diags),
            Err(_) if diags.has_errors() => {}
            Err(d) => diags.extend(d),
        }
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
        match decode::<P::Config>(config) {
            Ok(c) => self.0.validate(&c, diags),
            Err(d) => diags.extend(d),
        }
    }
    async fn configure(
        &self,
        config: &Cty,
        terraform_version: &str,
    ) -> Result<Arc<dyn std::any::Any + Send + Sync>, Diagnostics> {
        self.0.configure(decode(config)?, terraform_version).await
    }
}
