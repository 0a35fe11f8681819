//! What the resources of PostgreSQL objects of a table (indexes, foreign
//! keys) share: DDL sent through `run_sql`, retried on deadlock and settled
//! by reading the catalog after an ambiguous failure, and reads from the
//! catalog that survive the source being dropped from Hasura.
use std::future::Future;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::framework::{Ctx, Diagnostics, IntoDiags};
use crate::settle::{settle, ReadBack, Unsettled};

use super::super::client::constraints::{retrying_deadlocks, CatalogForeignKey, CatalogIndex};
use super::super::client::sql::SqlOptions;
use super::super::client::{Engine, HasuraError};
use super::super::engine;
use super::super::table::keyed::TableKeyed;
use super::tracking::table_write;

/// What the catalog says of an object of a kind.
pub(crate) trait CatalogEntry: Send {
    /// What messages call the kind ("index").
    const KIND: &'static str;
}

impl CatalogEntry for CatalogIndex {
    const KIND: &'static str = "index";
}

impl CatalogEntry for CatalogForeignKey {
    const KIND: &'static str = "foreign key";
}

/// The object as the catalog shows it; `None` when absent.
pub(crate) type Found<C> = Result<Option<C>, HasuraError>;

/// A PostgreSQL object of a table, as its resource's model.
#[async_trait]
pub(crate) trait CatalogObject: TableKeyed + Send + Sync {
    type Catalog: CatalogEntry;
    /// The object as the catalog shows it now.
    async fn fetch(&self, engine: &Engine, cancel: &CancellationToken) -> Found<Self::Catalog>;
}

/// What messages call `M`'s kind.
fn kind<M: CatalogObject>() -> &'static str {
    <M::Catalog as CatalogEntry>::KIND
}

/// `m`'s object as the catalog shows it now, or "Failed to read <kind>".
pub(crate) async fn fetched<M: CatalogObject>(
    engine: &Engine,
    cancel: &CancellationToken,
    m: &M,
) -> Result<Option<M::Catalog>, Diagnostics> {
    let found = m.fetch(engine, cancel).await;
    found.map_err(|e| e.into_diags(&format!("Failed to read {}", kind::<M>())))
}

/// What a read reports for `prior`: `found` turns the catalog's entry into
/// the model (`None`: not the object this resource stands for).
pub(crate) async fn read<M: CatalogObject>(
    ctx: &Ctx,
    prior: M,
    found: impl FnOnce(M, M::Catalog) -> Option<M>,
) -> Result<Option<M>, Diagnostics> {
    let engine = engine(ctx)?;
    match prior.fetch(&engine, &ctx.cancel).await {
        // A source dropped from Hasura leaves the database's objects as they were.
        Err(e) if e.is_source_missing() => Ok(Some(prior)),
        Err(e) => Err(e.into_diags(&format!("Failed to read {}", kind::<M>()))),
        Ok(c) => Ok(c.and_then(|c| found(prior, c))),
    }
}

/// Runs the DDL `sql` (a `statement`, e.g. `DROP INDEX`) in `m`'s source,
/// retrying deadlocks; after an ambiguous failure `read_back` tells from
/// the catalog whether it landed.
pub(crate) async fn run_ddl<M, RF>(
    engine: &Engine,
    cancel: &CancellationToken,
    m: &M,
    (statement, sql): (&str, &str),
    options: SqlOptions,
    read_back: impl FnMut(&HasuraError) -> RF,
) -> Result<(), Unsettled<HasuraError>>
where
    M: TableKeyed,
    RF: Future<Output = Result<ReadBack<()>, HasuraError>>,
{
    let label = m.id();
    let resending = format!("{statement} failed ambiguously and did not land; sending it again");
    let send = || async {
        engine
            .run_sql(cancel, m.source(), sql, options)
            .await
            .map(drop)
    };
    settle(
        cancel,
        &table_write(&label, &resending),
        || retrying_deadlocks(cancel, send),
        read_back,
    )
    .await
}

/// Drops `m`'s object with `ddl` (as [`run_ddl`] takes it); dropped once the
/// catalog no longer shows it. `called` is what the error calls it.
pub(crate) async fn drop_ddl<M: CatalogObject>(
    engine: &Engine,
    cancel: &CancellationToken,
    m: &M,
    ddl: (&str, &str),
    options: SqlOptions,
    called: &str,
) -> Result<(), HasuraError> {
    let gone = |_: &HasuraError| async {
        Ok(match m.fetch(engine, cancel).await? {
            None => ReadBack::Landed(()),
            Some(_) => ReadBack::Absent,
        })
    };
    run_ddl(engine, cancel, m, ddl, options, gone)
        .await
        .map_err(|u| u.into_error(&format!("checking whether the {called} is gone")))
}
