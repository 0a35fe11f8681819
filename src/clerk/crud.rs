//! What every Clerk resource does with its collection — read, update,
//! delete, import — once, with the errors named after the collection's
//! `noun` ("Failed to read organization role"). A resource's CRUD methods
//! pick the calls and map API objects to the model; nothing else repeats.
//! A resource that is one object of a collection implements [`Collected`],
//! which reads, deletes and imports it the same way for every collection.
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::framework::{
    ApplyError, Attribute, Ctx, Diagnostics, IntoDiags, Model, Plan, Resource, Schema,
    UseStateForUnknown,
};

pub use super::client::Collection;
use super::client::{ClerkClient, ClerkError};

/// How one object is found: by id (a GET), or in the listing (collections
/// without a GET of one object, and lookups by a natural key).
pub enum Lookup<'a, T> {
    Id(&'a str),
    Listed(&'a (dyn Fn(&T) -> bool + Sync)),
}

impl<'a, T> Lookup<'a, T> {
    /// An import id that is the object's id (`is_id`, told by its prefix) or
    /// a natural key, found in the listing by `by_key`.
    pub fn id_or(id: &'a str, is_id: bool, by_key: &'a (dyn Fn(&T) -> bool + Sync)) -> Self {
        if is_id {
            Lookup::Id(id)
        } else {
            Lookup::Listed(by_key)
        }
    }
}

impl<T: DeserializeOwned> Collection<T> {
    pub async fn lookup(
        &self,
        client: &ClerkClient,
        ctx: &Ctx,
        by: Lookup<'_, T>,
    ) -> Result<Option<T>, ClerkError> {
        match by {
            Lookup::Id(id) => self.get(client, &ctx.cancel, id).await,
            Lookup::Listed(matches) => self.find(client, &ctx.cancel, matches).await,
        }
    }

    /// Every object (data sources, lookups at plan).
    pub async fn list_in(&self, ctx: &Ctx) -> Result<Vec<T>, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        self.list(&client, &ctx.cancel)
            .await
            .map_err(|e| e.into_diags(&format!("Failed to list {}s", self.noun)))
    }

    /// The object, or `None` once it is gone (Terraform then plans to create it).
    pub async fn read_in(&self, ctx: &Ctx, by: Lookup<'_, T>) -> Result<Option<T>, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        self.lookup(&client, ctx, by)
            .await
            .map_err(|e| e.into_diags(&format!("Failed to read {}", self.noun)))
    }

    pub async fn update_in<M: From<T>>(
        &self,
        ctx: &Ctx,
        id: &str,
        body: &impl Serialize,
    ) -> Result<M, ApplyError<M>> {
        let client = ctx.client::<ClerkClient>()?;
        let updated = self
            .update(&client, &ctx.cancel, id, body)
            .await
            .map_err(|e| e.into_diags(&format!("Failed to update {}", self.noun)))?;
        Ok(updated.into())
    }

    /// Deleting an object that is already gone is success.
    pub async fn delete_in(&self, ctx: &Ctx, id: &str) -> Result<(), Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        self.delete(&client, &ctx.cancel, id)
            .await
            .map_err(|e| e.into_diags(&format!("Failed to delete {}", self.noun)))
    }

    /// The object an import id names; `not_found` says which ids import takes.
    pub async fn import_in(
        &self,
        ctx: &Ctx,
        by: Lookup<'_, T>,
        not_found: String,
    ) -> Result<T, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let found = self
            .lookup(&client, ctx, by)
            .await
            .map_err(|e| e.into_diags(&format!("Failed to import {}", self.noun)))?;
        found.ok_or_else(|| {
            Diagnostics::error(format!("{} not found", capitalised(self.noun)), not_found)
        })
    }
}

/// The creation time every collection object reports, kept across plans.
pub fn created_at() -> Attribute {
    Attribute::int("created_at")
        .computed()
        .plan(UseStateForUnknown)
        .describe("Creation time, Unix milliseconds.")
}

/// How an import id names an object of a collection.
pub enum ImportId<T: 'static> {
    /// Every import id is a GET (GetOrganization takes the id or the slug).
    Get,
    /// An import id with this prefix is the object's id (a GET); any other
    /// is the natural key `key` returns, found in the listing.
    IdPrefix(&'static str, fn(&T) -> &str),
    /// An import id with this prefix is the natural key `key` returns, found
    /// in the listing; any other is the object's id (a GET).
    KeyPrefix(&'static str, fn(&T) -> &str),
    /// No GET of one object: the listing, where `matches` accepts the id or
    /// the natural key.
    Listed(fn(&T, &str) -> bool),
}

impl<T> ImportId<T> {
    /// Whether `import_id` is the object's id, looked up by a GET.
    fn is_id(&self, import_id: &str) -> bool {
        match self {
            ImportId::Get => true,
            ImportId::IdPrefix(prefix, _) => import_id.starts_with(prefix),
            ImportId::KeyPrefix(prefix, _) => !import_id.starts_with(prefix),
            ImportId::Listed(_) => false,
        }
    }

    /// Whether the listed `o` is the object `import_id` names.
    fn names(&self, o: &T, import_id: &str) -> bool {
        match self {
            ImportId::Get => false,
            ImportId::IdPrefix(_, key) | ImportId::KeyPrefix(_, key) => key(o) == import_id,
            ImportId::Listed(matches) => matches(o, import_id),
        }
    }
}

/// One object of a Clerk collection (an organization, a role, a domain,
/// ...): what tells the resources apart. Every `Collected` is a
/// [`Resource`] whose read, delete and import are the collection's, the
/// same for all.
#[async_trait]
pub trait Collected: Send + Sync + 'static {
    type Object: DeserializeOwned + Send + Sync + 'static;
    type Model: Model + From<Self::Object>;
    const TYPE_NAME: &'static str;
    const IMPORT: ImportId<Self::Object> = ImportId::Get;

    const COLLECTION: &'static Collection<Self::Object>;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    async fn modify_plan(&self, _ctx: &Ctx, _plan: Plan<'_, Self::Model>) {}

    async fn create(
        &self,
        ctx: &Ctx,
        planned: Self::Model,
    ) -> Result<Self::Model, ApplyError<Self::Model>>;

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> Result<Self::Model, ApplyError<Self::Model>>;

    /// The object's id, as the state keeps it.
    const ID: fn(&Self::Model) -> &str;

    /// The object `state` records, by a GET of its id; `None` once it is gone.
    async fn found(
        &self,
        ctx: &Ctx,
        state: &Self::Model,
    ) -> Result<Option<Self::Object>, Diagnostics> {
        Self::COLLECTION
            .read_in(ctx, Lookup::Id((Self::ID)(state)))
            .await
    }

    /// For "not found" on import: what an import id is besides the id
    /// ("key"), and which ids import takes ("an id (`role_...`) or a key").
    const IMPORT_TAKES: (&'static str, &'static str);

    /// An object that exists but is not this resource's to manage.
    fn refuse_import(_o: &Self::Object, _import_id: &str) -> Result<(), Diagnostics> {
        Ok(())
    }
}

#[async_trait]
impl<C: Collected> Resource for C {
    type Model = C::Model;

    fn type_name(&self) -> &'static str {
        C::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Collected::schema(self)
    }

    fn validate(&self, config: &C::Model, diags: &mut Diagnostics) {
        Collected::validate(self, config, diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, C::Model>) {
        Collected::modify_plan(self, ctx, plan).await;
    }

    async fn create(&self, ctx: &Ctx, m: C::Model) -> Result<C::Model, ApplyError<C::Model>> {
        Collected::create(self, ctx, m).await
    }

    async fn read(&self, ctx: &Ctx, state: C::Model) -> Result<Option<C::Model>, Diagnostics> {
        Ok(self.found(ctx, &state).await?.map(C::Model::from))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: C::Model,
        planned: C::Model,
    ) -> Result<C::Model, ApplyError<C::Model>> {
        Collected::update(self, ctx, prior, planned).await
    }

    async fn delete(&self, ctx: &Ctx, state: C::Model) -> Result<(), Diagnostics> {
        C::COLLECTION.delete_in(ctx, (C::ID)(&state)).await
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<C::Model, Diagnostics> {
        let by_key = |o: &C::Object| C::IMPORT.names(o, id);
        let by = Lookup::id_or(id, C::IMPORT.is_id(id), &by_key);
        let (other, takes) = C::IMPORT_TAKES;
        let noun = C::COLLECTION.noun;
        let not_found = format!("No {noun} has the id or {other} {id:?}. Import takes {takes}.");
        let found = C::COLLECTION.import_in(ctx, by, not_found).await?;
        C::refuse_import(&found, id)?;
        Ok(found.into())
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::ImportId;

    /// What each kind of import id looks up: a GET or the listing, and by
    /// which key.
    #[test]
    fn import_ids_pick_a_get_or_a_key() {
        let key: fn(&String) -> &str = String::as_str;
        let by_key: ImportId<String> = ImportId::KeyPrefix("org:", key);
        assert!(by_key.is_id("perm_1") && !by_key.is_id("org:posts:edit"));
        assert!(by_key.names(&"org:posts:edit".into(), "org:posts:edit"));
        let by_id: ImportId<String> = ImportId::IdPrefix("ru_", key);
        assert!(by_id.is_id("ru_1") && !by_id.is_id("myapp://cb"));
        assert!(by_id.names(&"myapp://cb".into(), "myapp://cb"));
        let listed: ImportId<String> = ImportId::Listed(|o, id| o == id);
        assert!(!listed.is_id("dmn_1") && listed.names(&"dmn_1".into(), "dmn_1"));
        let get: ImportId<String> = ImportId::Get;
        assert!(get.is_id("acme") && !get.names(&"acme".into(), "acme"));
    }
}
