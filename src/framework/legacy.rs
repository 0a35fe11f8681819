//! TEMPORARY: the pre-typed resource traits, kept only while resources move
//! to typed models one by one (issue 15). Nothing new may use them; the
//! module goes once the last resource has moved.
use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::plugin::cty::{self, Type, Value};

use super::diag::Diagnostics;
use super::erased::{DynApplyError, DynDataSource, DynResource};
use super::resource::Ctx;
use super::schema::Schema;

#[derive(Debug)]
pub struct LegacyApplyError {
    pub state: Option<Value>,
    pub diags: Diagnostics,
}

impl From<Diagnostics> for LegacyApplyError {
    fn from(diags: Diagnostics) -> Self {
        LegacyApplyError { state: None, diags }
    }
}

pub struct PlanContext<'a> {
    pub prior: Option<&'a Value>,
    pub config: &'a Value,
    pub planned: &'a mut Value,
    pub requires_replace: &'a mut Vec<&'static str>,
    pub diags: &'a mut Diagnostics,
}

fn cached_type<T: 'static>(kind: &'static str, schema: impl FnOnce() -> Schema) -> Arc<Type> {
    use std::any::TypeId;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
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
pub trait LegacyResource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn cty_type(&self) -> Arc<Type>
    where
        Self: Sized,
    {
        cached_type::<Self>("resource", || self.schema())
    }
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn modify_plan(&self, _ctx: &Ctx, _plan: PlanContext<'_>) {}
    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        config: &Value,
    ) -> Result<Value, LegacyApplyError>;
    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, Diagnostics>;
    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> Result<Value, LegacyApplyError>;
    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), Diagnostics>;
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Value, Diagnostics>;
}

#[async_trait]
pub trait LegacyDataSource: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn cty_type(&self) -> Arc<Type>
    where
        Self: Sized,
    {
        cached_type::<Self>("data source", || self.schema())
    }
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, Diagnostics>;
}

pub fn decode<M: DeserializeOwned>(v: &Value) -> Result<M, Diagnostics> {
    serde_json::from_value(cty::to_json(v)).map_err(|e| {
        Diagnostics::error("Provider bug: value does not fit its model", e.to_string())
    })
}

pub fn encode<M: Serialize>(m: &M, ty: &Type) -> Result<Value, Diagnostics> {
    let j = serde_json::to_value(m)
        .map_err(|e| Diagnostics::error("Provider bug: model does not serialise", e.to_string()))?;
    Value::from_json(&j, ty).map_err(|e| {
        Diagnostics::error("Provider bug: model does not fit its schema", e.to_string())
    })
}

pub struct Legacy<R> {
    imp: R,
    schema: Schema,
    ty: Type,
}

pub fn legacy_resource<R: LegacyResource>(imp: R) -> Arc<dyn DynResource> {
    let schema = imp.schema();
    Arc::new(Legacy {
        ty: schema.cty_type(),
        schema,
        imp,
    })
}

pub fn legacy_data_source<R: LegacyDataSource>(imp: R) -> Arc<dyn DynDataSource> {
    let schema = imp.schema();
    Arc::new(Legacy {
        ty: schema.cty_type(),
        schema,
        imp,
    })
}

fn dyn_err(e: LegacyApplyError) -> DynApplyError {
    (e.state, e.diags)
}

#[async_trait]
impl<R: LegacyResource> DynResource for Legacy<R> {
    fn type_name(&self) -> &'static str {
        self.imp.type_name()
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn cty_type(&self) -> &Type {
        &self.ty
    }
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        self.imp.validate(config, diags)
    }
    async fn modify_plan(
        &self,
        ctx: &Ctx,
        prior: Option<&Value>,
        config: &Value,
        planned: &mut Value,
        requires_replace: &mut Vec<&'static str>,
        diags: &mut Diagnostics,
    ) {
        self.imp
            .modify_plan(
                ctx,
                PlanContext {
                    prior,
                    config,
                    planned,
                    requires_replace,
                    diags,
                },
            )
            .await
    }
    async fn plan_destroy(&self, ctx: &Ctx, prior: &Value, diags: &mut Diagnostics) {
        let mut planned = Value::Null;
        let mut rr = Vec::new();
        self.imp
            .modify_plan(
                ctx,
                PlanContext {
                    prior: Some(prior),
                    config: &Value::Null,
                    planned: &mut planned,
                    requires_replace: &mut rr,
                    diags,
                },
            )
            .await
    }
    async fn create(&self, ctx: &Ctx, planned: &Value) -> Result<Value, DynApplyError> {
        self.imp
            .create(ctx, planned, planned)
            .await
            .map_err(dyn_err)
    }
    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, Diagnostics> {
        self.imp.read(ctx, state).await
    }
    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, DynApplyError> {
        self.imp
            .update(ctx, prior, planned, planned)
            .await
            .map_err(dyn_err)
    }
    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), Diagnostics> {
        self.imp.delete(ctx, state).await
    }
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Value, Diagnostics> {
        self.imp.import(ctx, id).await
    }
}

#[async_trait]
impl<R: LegacyDataSource> DynDataSource for Legacy<R> {
    fn type_name(&self) -> &'static str {
        self.imp.type_name()
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn cty_type(&self) -> &Type {
        &self.ty
    }
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        self.imp.validate(config, diags)
    }
    async fn read(&self, ctx: &Ctx, config: &Value) -> Result<Value, Diagnostics> {
        self.imp.read(ctx, config).await
    }
}
