//! Resources of a metadata object known by one name, which is also the
//! Terraform id and the import id (actions, cron triggers, remote schemas,
//! REST endpoints, query collections, allow-list entries). Reading
//! one from the export, importing one by its name, recording the id once it
//! is written and dropping one are the same for every kind; a kind says how
//! it is written and how its export entry reads.
use async_trait::async_trait;

use crate::framework::{
    ApplyError, Ctx, Diagnostics, IntoDiags, Known, Model, Resource, Schema, Value,
};

use super::client::top_level::Droppable;
use super::client::HasuraError;
use super::engine;
use super::ident::{import_name, NameCheck};

#[async_trait]
pub trait Named: Send + Sync + 'static {
    type Model: Model + Default;

    /// Its entry in the export.
    type Remote: Droppable;

    /// How an import id is checked (as the configuration checks the name)
    /// and what it should be, for the refusal: "the cron trigger's name".
    const IMPORT_ID: (NameCheck, &'static str);

    /// The summary of a failed drop.
    const DROP_FAILED: &'static str;

    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    /// The id and the attribute holding the name, equal once written.
    const KEY: fn(&mut Self::Model) -> [&mut Value<String>; 2];

    /// What is remote, in the form `prior` wrote it where they mean the same.
    const FROM_REMOTE: fn(Self::Remote, &Self::Model) -> Self::Model;

    /// Creates the planned object, or (`update`) changes the one of its name
    /// in place.
    async fn write(&self, ctx: &Ctx, m: &Self::Model, update: bool) -> Result<(), Diagnostics>;

    /// A refused drop as diagnostics.
    fn drop_failed(_m: &Self::Model, e: HasuraError) -> Diagnostics {
        e.into_diags(Self::DROP_FAILED)
    }
}

/// The name of `m`; known at apply.
fn name_of<N: Named>(m: &mut N::Model) -> String {
    (N::KEY)(m)[1].str_or("").to_string()
}

/// `m` with both its id and its name attribute `name`.
fn keyed<N: Named>(mut m: N::Model, name: Value<String>) -> N::Model {
    let [id, named] = (N::KEY)(&mut m);
    (*id, *named) = (name.clone(), name);
    m
}

/// The two names an object is known by, e.g. (action, role); its id is
/// `<a>/<b>`, the form `ident::import_pair` reads back.
pub struct Pair<'a>(pub &'a str, pub &'a str);

impl std::fmt::Display for Pair<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.0, self.1)
    }
}

/// The resource of a [`Named`] kind: `resource(NamedResource(ActionResource))`.
pub struct NamedResource<N>(pub N);

impl<N: Named> NamedResource<N> {
    async fn put(&self, ctx: &Ctx, mut m: N::Model, update: bool) -> Result<N::Model, Diagnostics> {
        self.0.write(ctx, &m, update).await?;
        let name = Known(name_of::<N>(&mut m));
        Ok(keyed::<N>(m, name))
    }
}

#[async_trait]
impl<N: Named> Resource for NamedResource<N> {
    type Model = N::Model;

    fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    fn schema(&self) -> Schema {
        self.0.schema()
    }

    fn validate(&self, config: &N::Model, diags: &mut Diagnostics) {
        self.0.validate(config, diags);
    }

    async fn create(&self, ctx: &Ctx, m: N::Model) -> Result<N::Model, ApplyError<N::Model>> {
        Ok(self.put(ctx, m, false).await?)
    }

    async fn read(&self, ctx: &Ctx, mut prior: N::Model) -> Result<Option<N::Model>, Diagnostics> {
        let export = super::exported(ctx).await?;
        let found = export.entry_named::<N::Remote>(&name_of::<N>(&mut prior));
        Ok(found.map(|r| (N::FROM_REMOTE)(r, &prior)))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: N::Model,
        m: N::Model,
    ) -> Result<N::Model, ApplyError<N::Model>> {
        Ok(self.put(ctx, m, true).await?)
    }

    async fn delete(&self, ctx: &Ctx, mut m: N::Model) -> Result<(), Diagnostics> {
        let name = name_of::<N>(&mut m);
        let dropped = engine(ctx)?
            .drop_named::<N::Remote>(&ctx.cancel, &name)
            .await;
        dropped.map_err(|e| N::drop_failed(&m, e))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<N::Model, Diagnostics> {
        let (check, expected) = N::IMPORT_ID;
        let name = import_name(id, check, expected)?;
        Ok(keyed::<N>(N::Model::default(), name))
    }
}
