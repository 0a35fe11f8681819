//! What every Clerk resource does with its collection — read, update,
//! delete, import — once, with the errors named after the collection's
//! `noun` ("Failed to read organization role"). A resource's CRUD methods
//! pick the calls and map API objects to the model; nothing else repeats.
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::framework::{ApplyError, Ctx, Diagnostics, IntoDiags};

use super::client::{ClerkClient, ClerkError, Collection};

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

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
