//! The data sources that read a whole collection (`clerk_domains`,
//! `clerk_organization_roles`): one computed list attribute with a nested
//! object per listed object, and an attribute summing the list up. A
//! [`Listing`] says only which collection, what an item holds and how the
//! objects become the model; it is a [`DataSource`] that lists and builds
//! the schema.
use async_trait::async_trait;
use serde::de::DeserializeOwned;

use crate::framework::{Attribute, Ctx, DataSource, Diagnostics, Model, Nesting, Schema};

use super::crud::Collection;

pub trait Listing: Send + Sync + 'static {
    type Object: DeserializeOwned + Send + Sync + 'static;
    type Model: Model;
    const TYPE_NAME: &'static str;
    /// The data source's description.
    const ABOUT: &'static str;
    /// The list attribute's name and description.
    const LIST: (&'static str, &'static str);

    const COLLECTION: &'static Collection<Self::Object>;

    /// The attributes of one item of the list, all computed.
    fn item(&self) -> Vec<Attribute>;

    /// The attribute beside the list, summing it up.
    fn summary(&self) -> Attribute;

    /// The model of every object, as the collection lists them.
    fn model(&self, all: Vec<Self::Object>) -> Self::Model;
}

#[async_trait]
impl<L: Listing> DataSource for L {
    type Model = L::Model;

    fn type_name(&self) -> &'static str {
        L::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let (name, about) = L::LIST;
        let list = Attribute::nested(name, Nesting::List, self.item())
            .computed()
            .describe(about);
        Schema::new(L::ABOUT, vec![list, self.summary()])
    }

    async fn read(&self, ctx: &Ctx, _config: L::Model) -> Result<L::Model, Diagnostics> {
        let all = L::COLLECTION.list_in(ctx).await?;
        Ok(self.model(all))
    }
}
