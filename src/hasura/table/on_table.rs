//! What the resources of objects on a table share: the attributes naming the
//! table (`source`, `schema`, `table`) and the import id, and the paths of a
//! metadata object (permission, relationship, computed field, inherited
//! role) through the engine: a read from the cached `export_metadata`, a
//! write through the batcher whose refusal points at an attribute, and a
//! drop that finds the object already gone.
use std::future::Future;

use crate::framework::{AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, RequiresReplace};

use super::super::client::metadata::is_already_gone;
use super::super::client::{Export, HasuraError};
use super::super::ident::NAME_RULE;
use super::keyed::TableKeyed;

/// ` <NAME_RULE>` when the attribute is checked by `check_name`, else nothing.
fn rule(named: bool) -> String {
    if named {
        format!(" {NAME_RULE}")
    } else {
        String::new()
    }
}

/// The computed `id`, an import id of the form `form` (`<source>.<schema>.<table>`).
pub fn import_id_attribute(form: &str) -> Attribute {
    Attribute::string("id")
        .computed()
        .describe(format!("`{form}`, the import id."))
}

/// `source` (default `default`); changing it replaces the object. `note`
/// follows the default (" Changing it replaces the table."); `named` adds
/// the naming rule.
pub fn source_attribute(note: &str, named: bool) -> Attribute {
    Attribute::string("source")
        .default("default")
        .plan(RequiresReplace)
        .describe(format!(
            "Hasura database (source) name. Default `default`.{note}{}",
            rule(named)
        ))
}

/// `schema` (default `public`) of what `of` says (" of the table", or
/// nothing for a table itself); changing it replaces the object.
pub fn schema_attribute(of: &str, note: &str, named: bool) -> Attribute {
    Attribute::string("schema")
        .default("public")
        .plan(RequiresReplace)
        .describe(format!(
            "PostgreSQL schema{of}. Default `public`.{note}{}",
            rule(named)
        ))
}

/// `source`, `schema` (of `schema_of`, e.g. "the table") and the required
/// `table` (described by `table`) of an object on a table: changing any of
/// them replaces the object. `source_note` follows the source's default.
pub fn table_attributes(
    schema_of: &str,
    table: &str,
    source_note: &str,
    named: bool,
) -> [Attribute; 3] {
    [
        source_attribute(source_note, named),
        schema_attribute(&format!(" of {schema_of}"), "", named),
        Attribute::string("table")
            .required()
            .plan(RequiresReplace)
            .describe(format!("{table}{}", rule(named))),
    ]
}

/// A metadata object as `export_metadata` shows it.
pub(crate) trait Exported: Sized {
    /// Its exported entry.
    type Entry;
    /// `prior`'s entry in `export`; `None` when it (or its table) is absent.
    fn find(export: &Export, prior: &Self) -> Result<Option<Self::Entry>, Diagnostics>;
    /// What a read reports for `prior`, found as `entry`.
    fn from_entry(entry: Self::Entry, prior: &Self) -> Self;
}

/// `prior`'s object as the current metadata shows it; `None` when absent.
pub(crate) async fn read<M: Exported>(ctx: &Ctx, prior: M) -> Result<Option<M>, Diagnostics> {
    let export = super::super::exported(ctx).await?;
    Ok(M::find(&export, &prior)?.map(|e| M::from_entry(e, &prior)))
}

/// Whether `m`'s object is in the current metadata.
pub(crate) async fn exists<M: Exported>(ctx: &Ctx, m: &M) -> Result<bool, Diagnostics> {
    let export = super::super::exported(ctx).await?;
    Ok(M::find(&export, m)?.is_some())
}

/// A metadata object written through the engine's batcher.
pub(crate) trait MetadataObject {
    /// What messages call it ("permission").
    const KIND: &'static str;
    /// The attribute a refusal from Hasura is about, where it can tell.
    fn blamed(&self, e: &HasuraError) -> Option<AttrPath>;
}

/// A write Hasura refused, under `summary`, with `hint` after its message,
/// pointed at the attribute it is about where that is known.
pub(crate) fn refused<M: MetadataObject>(
    m: &M,
    e: HasuraError,
    summary: &str,
    hint: &str,
) -> Diagnostics {
    let detail = || format!("{e}{hint}");
    match m.blamed(&e) {
        Some(path) => Diagnostics::attr_error(path, summary, detail()),
        None if hint.is_empty() => e.into_diags(summary),
        None => Diagnostics::error(summary, detail()),
    }
}

/// The outcome of `sent`, the batched write of `m`'s commands: a refusal is
/// "Failed to <verb> <kind>" with `hint(&e, m)` after Hasura's message.
pub(crate) async fn written<M: MetadataObject>(
    m: &M,
    verb: &str,
    sent: impl Future<Output = Result<(), HasuraError>>,
    hint: impl FnOnce(&HasuraError, &M) -> String,
) -> Result<(), Diagnostics> {
    sent.await.map_err(|e| {
        let hint = hint(&e, m);
        refused(m, e, &format!("Failed to {verb} {}", M::KIND), &hint)
    })
}

/// No hint.
pub(crate) fn no_hint<M>(_: &HasuraError, _: &M) -> String {
    String::new()
}

/// The hint for a create Hasura refused because the object exists: import it.
pub(crate) fn import_existing<M: MetadataObject + TableKeyed>(e: &HasuraError, m: &M) -> String {
    if e.code_is("already-exists") {
        format!(
            " To manage the existing {}, import it: terraform import <address> {}",
            M::KIND,
            m.id()
        )
    } else {
        String::new()
    }
}

/// The outcome of `sent`, the batched drop of `m`: an object already gone is dropped.
pub(crate) async fn dropped<M: MetadataObject>(
    _m: &M,
    sent: impl Future<Output = Result<(), HasuraError>>,
) -> Result<(), Diagnostics> {
    match sent.await {
        Ok(()) => Ok(()),
        Err(e) if is_already_gone(&e) => Ok(()),
        Err(e) => Err(e.into_diags(&format!("Failed to drop {}", M::KIND))),
    }
}
