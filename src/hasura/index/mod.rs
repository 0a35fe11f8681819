//! `hasura_index`: a PostgreSQL index built through `run_sql`, by default
//! with `CREATE INDEX CONCURRENTLY` (sent outside a transaction block), and
//! the failure that build can leave: an INVALID index.
mod canonical;
mod sql;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::framework::Value::{Known, Null};
use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, OneOf, Plan, RequiresReplace,
    Resource, Schema, Type, Value,
};
use crate::settle::{settle, ReadBack, Unsettled};

use super::client::constraints::{
    is_deadlock, is_in_transaction_block, retrying_deadlocks, CatalogIndex,
};
use super::client::sql::SqlOptions;
use super::client::{Engine, HasuraError};
use super::engine;
use super::foreign_key::parse_object_id;
use super::ident::{check_name_attrs, quote_ident, NAME_RULE};
use super::table::catalog_object::{self, drop_ddl, fetched, run_ddl, CatalogObject, Found};
use super::table::keyed::{table_keyed, TableKeyed};
use super::table::on_table::{import_id_attribute, table_attributes};
use super::table::tracking::table_write;
use sql::{create_sql, has_planned_shape, index_sql, validate_keys, METHODS};

pub struct IndexResource;

table_keyed! {
    #[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
    pub struct Model {
        key { name: "" }
        columns: Value<Vec<Value<String>>>,
        expressions: Value<Vec<Value<String>>>,
        unique: Value<bool>,
        method: Value<String>,
        #[serde(rename = "where")]
        predicate: Value<String>,
        concurrently: Value<bool>,
        definition: Value<String>,
    }
}

impl Model {
    fn concurrent(&self) -> bool {
        self.concurrently != Known(false)
    }
    fn with_catalog(self, idx: &CatalogIndex) -> Self {
        Model {
            id: Known(self.id()),
            definition: Known(idx.definition.clone()),
            ..self
        }
    }

    /// What a read reports for `prior`'s index, found as `idx`. PostgreSQL
    /// prints expressions and predicates its own way (`lower((email)::text)`
    /// for `lower(email)`): while the index's definition is the one recorded
    /// when it was built, the configured spelling is kept, so there is no
    /// perpetual diff; once it differs, PostgreSQL's rendering is reported.
    fn from_catalog(prior: &Model, idx: &CatalogIndex) -> Model {
        let unchanged = prior.definition.as_deref() == Some(idx.definition.as_str());
        let all_columns = idx.keys.iter().all(|k| k.column.is_some());
        let (columns, expressions, predicate) = if unchanged {
            (
                prior.columns.clone(),
                prior.expressions.clone(),
                prior.predicate.clone(),
            )
        } else if all_columns && prior.expressions.is_null() {
            let cols = idx
                .keys
                .iter()
                .filter_map(|k| k.column.clone())
                .map(Known)
                .collect();
            (Known(cols), Null, idx.predicate.clone().into())
        } else {
            let texts = idx.keys.iter().map(|k| Known(k.text.clone())).collect();
            (Null, Known(texts), idx.predicate.clone().into())
        };
        Model {
            table: Known(idx.table.clone()),
            name: prior.name.clone(),
            columns,
            expressions,
            unique: Known(idx.unique),
            method: Known(idx.method.clone()),
            predicate,
            concurrently: Known(prior.concurrent()),
            definition: Known(idx.definition.clone()),
            ..Model::key_of(prior)
        }
    }
}

#[async_trait]
impl CatalogObject for Model {
    type Catalog = CatalogIndex;

    async fn fetch(&self, engine: &Engine, cancel: &CancellationToken) -> Found<CatalogIndex> {
        let (source, schema) = (self.source(), self.schema());
        engine
            .index(cancel, source, schema, self.name.str_or(""))
            .await
    }
}

/// Index DDL changes no Hasura metadata: no consistency pass.
const WRITE: SqlOptions = SqlOptions {
    read_only: false,
    check_metadata_consistency: Some(false),
};

/// Drops `m`'s index if it is there and INVALID (a failed concurrent build):
/// PostgreSQL keeps such an index, unused but maintained, until dropped.
/// Returns whether one was dropped.
async fn drop_invalid(
    engine: &Engine,
    cancel: &CancellationToken,
    m: &Model,
) -> Result<bool, HasuraError> {
    match m.fetch(engine, cancel).await? {
        Some(idx) if !idx.valid && idx.table == m.table.str_or("") => {
            let q = index_sql(m).map_err(|_| HasuraError::other("invalid index name"))?;
            tracing::info!(index = %m.id(), "dropping an INVALID index left by a failed concurrent build");
            engine
                .run_sql(
                    cancel,
                    m.source(),
                    &format!("DROP INDEX IF EXISTS {q}"),
                    WRITE,
                )
                .await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Sends the CREATE INDEX: outside a transaction block when concurrent.
async fn send_create(
    engine: &Engine,
    cancel: &CancellationToken,
    m: &Model,
    sql: &str,
) -> Result<(), HasuraError> {
    if m.concurrent() {
        engine
            .run_sql_outside_transaction(cancel, m.source(), sql)
            .await
    } else {
        engine
            .run_sql(cancel, m.source(), sql, WRITE)
            .await
            .map(drop)
    }
}

fn create_failed(u: Unsettled<HasuraError>, m: &Model, cleanup: &str) -> Diagnostics {
    let id = m.id();
    let detail = match u {
        Unsettled::Failed(e) => {
            let mut d = e.to_string();
            if is_in_transaction_block(&e) {
                d.push_str(" This Hasura runs every run_sql in a transaction (the `no_transaction` flag needs v2.45.3 or later), so the index cannot be built concurrently: upgrade Hasura, or set `concurrently = false` (the build then blocks writes to the table while it runs).");
                return Diagnostics::attr_error(AttrPath::attr("concurrently"), "Failed to create index", d);
            }
            if d.contains("already exists") {
                d.push_str(&format!(" If it is the index you mean, import it: terraform import <address> {id}"));
            }
            if d.contains("could not create unique index") {
                d.push_str(" Existing rows hold duplicate keys; remove them, or drop `unique`.");
                return Diagnostics::attr_error(AttrPath::attr("unique"), "Failed to create index", format!("{d}{cleanup}"));
            }
            format!("{d}{cleanup}")
        }
        Unsettled::Other(e) => format!("{e} An index of that name now exists, but not the planned one (made outside this apply?); it was left alone. Inspect it, then drop it or import it: terraform import <address> {id}"),
        u => u.into_error("reading the index back to see whether it was built").to_string(),
    };
    Diagnostics::error("Failed to create index", detail)
}

#[async_trait]
impl Resource for IndexResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_index"
    }

    fn schema(&self) -> Schema {
        let [source, schema, table] =
            table_attributes("the table (and the index)", "The indexed table.", "", true);
        Schema::new(
            "A PostgreSQL index on a table, built through Hasura's `run_sql`, by default with `CREATE INDEX CONCURRENTLY` so writes to the table continue during the build. A concurrent build that fails (e.g. duplicate keys for a unique index) leaves an INVALID index behind; this resource drops it and reports the error, a refresh treats an invalid index as missing (the plan shows it to be created), and creating drops a leftover invalid index of the same name before building. Renaming is applied in place (`ALTER INDEX ... RENAME`); every other change replaces the index. Import with `<source>.<schema>.<table>.<index>` (e.g. `default.public.users.users_email_idx`; `<schema>.<table>.<index>` means source `default`).",
            vec![
                import_id_attribute("<source>.<schema>.<table>.<index>"),
                source,
                schema,
                table,
                Attribute::string("name").required().describe(format!("Index name, unique within the schema. Renaming is applied in place. {NAME_RULE}")),
                Attribute::typed("columns", Type::list(Type::String)).optional().plan(RequiresReplace).describe("Key columns, in key order. Set this or `expressions`."),
                Attribute::typed("expressions", Type::list(Type::String)).optional().describe("Key expressions in SQL, e.g. `lower(email)`, in key order; each must be one expression (no `;`, no comments). Set this or `columns`. PostgreSQL stores its own rendering (`lower((email)::text)` on a `varchar` column, shown in `definition`); the configured text is kept while the index is unchanged, so it never shows a diff. A changed text replaces the index unless PostgreSQL renders it the same (checked at plan time on a temporary copy of the table), e.g. right after an import: then only the state is updated."),
                Attribute::bool("unique").default(false).plan(RequiresReplace).describe("Whether the index is UNIQUE (btree only). Default `false`."),
                Attribute::string("method").default("btree").validate(OneOf(METHODS)).plan(RequiresReplace).describe("Index access method: `btree` (default), `hash`, `gist`, `gin`, `spgist` or `brin`."),
                Attribute::string("where").optional().describe("Predicate of a partial index, in SQL (e.g. `deleted_at IS NULL`); one expression, no `;` or comments. Compared like `expressions`: kept as written while the index is unchanged; a change replaces the index unless PostgreSQL renders it the same."),
                Attribute::bool("concurrently").default(true).describe("Build with `CREATE INDEX CONCURRENTLY` (default `true`), which does not block writes but cannot run in a transaction: it is sent alone with `run_sql`'s `no_transaction` flag, which needs Hasura v2.45.3 or later. `false` builds in a transaction and blocks writes while it runs. Changing it alone changes nothing remote. How an index was built cannot be read back: after an import it is `true`."),
                Attribute::string("definition").computed().describe("The index as PostgreSQL prints it (`pg_get_indexdef`)."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        config.check_table_names(diags);
        check_name_attrs(diags, [("name", &config.name)]);
        validate_keys(config, diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Model>) {
        let planned = &mut *plan.planned;
        planned.id = planned.planned_id();
        let Some(p) = plan.prior else { return };
        // What only a new index can change, apart from the SQL texts.
        let mut rest = planned.clone();
        rest.name = p.name.clone();
        rest.concurrently = p.concurrently.clone();
        rest.definition = p.definition.clone();
        rest.id = p.id.clone();
        rest.expressions = p.expressions.clone();
        rest.predicate = p.predicate.clone();
        let rest_same = rest == *p;
        let texts_differ = planned.expressions != p.expressions || planned.predicate != p.predicate;
        // Another spelling of the same expressions (PostgreSQL's rendering in
        // the state after an import, the user's in the configuration) is the
        // same index: recorded in place, nothing sent.
        let equivalent = !texts_differ
            || (rest_same
                && match engine(ctx) {
                    Ok(engine) => canonical::same_rendering(&engine, &ctx.cancel, planned, p)
                        .await
                        .unwrap_or(false),
                    Err(_) => false,
                });
        if !equivalent {
            plan.requires_replace.extend(["expressions", "where"]);
        } else if rest_same && planned.name == p.name {
            // Nothing remote changes: the definition stays.
            planned.definition = p.definition.clone();
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let engine = &engine(ctx)?;
        let cancel = &ctx.cancel;
        let sql = create_sql(&m)?;
        drop_invalid(engine, cancel, &m).await.map_err(|e| {
            e.into_diags("Failed to drop the invalid index left by an earlier build")
        })?;
        let label = m.id();
        let built = settle(
            cancel,
            &table_write(
                &label,
                "CREATE INDEX failed ambiguously and did not land; sending it again",
            ),
            || {
                retrying_deadlocks(cancel, || async {
                    let sent = send_create(engine, cancel, &m, &sql).await;
                    // A concurrent build that lost a deadlock leaves an INVALID index.
                    if sent.as_ref().is_err_and(is_deadlock) && m.concurrent() {
                        drop_invalid(engine, cancel, &m).await?;
                    }
                    sent
                })
            },
            |_| async {
                Ok(match m.fetch(engine, cancel).await? {
                    Some(idx) if idx.valid && has_planned_shape(&idx, &m) => ReadBack::Landed(()),
                    None => ReadBack::Absent,
                    // The lost build failed and left an INVALID index (or is
                    // still running: dropping waits for it): drop, send again.
                    Some(idx) if !idx.valid && idx.table == m.table.str_or("") => {
                        drop_invalid(engine, cancel, &m).await?;
                        ReadBack::Absent
                    }
                    Some(_) => ReadBack::Other,
                })
            },
        )
        .await;
        if let Err(u) = built {
            // A failed concurrent build leaves an INVALID index: drop it so
            // nothing is left half-made.
            let cleanup = match (&u, m.concurrent()) {
                (Unsettled::Failed(_), true) => match drop_invalid(engine, cancel, &m).await {
                    Ok(true) => " The invalid index the failed build left was dropped again.".to_string(),
                    Ok(false) => String::new(),
                    Err(e) => format!(" Dropping the invalid index the failed build left also failed ({e}); the next apply drops it before building."),
                },
                _ => String::new(),
            };
            return Err(create_failed(u, &m, &cleanup).into());
        }
        let idx = m.fetch(engine, cancel)
            .await
            .map_err(|e| e.into_diags("Failed to read the new index"))?
            .ok_or_else(|| Diagnostics::error("Index not found after creation", format!("Index {label} was created but cannot be read back (dropped concurrently?).")))?;
        Ok(m.with_catalog(&idx))
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        catalog_object::read(ctx, prior, |prior, idx| {
            // An INVALID index is not the index this resource stands for:
            // reported missing, so the plan creates it (dropping the leftover first).
            if !idx.valid {
                tracing::warn!(index = %prior.id(), "index is INVALID (failed concurrent build): planning to build it again");
                return None;
            }
            // The name now belongs to an index of another table: not ours.
            (idx.table == prior.table.str_or("")).then(|| Model::from_catalog(&prior, &idx))
        })
        .await
    }

    async fn update(&self, ctx: &Ctx, old: Model, new: Model) -> Result<Model, ApplyError<Model>> {
        let engine = &engine(ctx)?;
        let cancel = &ctx.cancel;
        if old.name != new.name {
            let sql = format!(
                "ALTER INDEX {} RENAME TO {}",
                index_sql(&old)?,
                quote_ident(new.name.str_or(""))
                    .map_err(|e| Diagnostics::error("Invalid index name", e.to_string()))?
            );
            let renamed = |_: &HasuraError| async {
                if new.fetch(engine, cancel).await?.is_some() {
                    return Ok(ReadBack::Landed(()));
                }
                Ok(match old.fetch(engine, cancel).await? {
                    Some(_) => ReadBack::Absent,
                    None => ReadBack::Other,
                })
            };
            run_ddl(engine, cancel, &new, ("ALTER INDEX", &sql), WRITE, renamed)
                .await
            .map_err(|u| {
                let detail = match u {
                    Unsettled::Other(e) => format!("{e} Neither the old nor the new index name exists now (dropped by someone else meanwhile?)."),
                    u => u.into_error("reading the index back to see whether it was renamed").to_string(),
                };
                Diagnostics::attr_error(AttrPath::attr("name"), "Failed to rename index", detail)
            })?;
        }
        let idx = fetched(engine, cancel, &new).await?.ok_or_else(|| {
            Diagnostics::error(
                "Index not found",
                format!(
                    "Index {} no longer exists; run terraform plan again to re-create it.",
                    new.id()
                ),
            )
        })?;
        Ok(new.with_catalog(&idx))
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let engine = &engine(ctx)?;
        let sql = format!("DROP INDEX IF EXISTS {}", index_sql(&m)?);
        drop_ddl(
            engine,
            &ctx.cancel,
            &m,
            ("DROP INDEX", &sql),
            WRITE,
            "index",
        )
        .await
        .map_err(|e| Diagnostics::error("Failed to drop index", e.to_string()))
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let [source, schema, table, name] = parse_object_id(id, "index")?;
        let stub = Model {
            concurrently: Known(true),
            ..Model::keyed(source, schema, table, name)
        };
        let engine = &engine(ctx)?;
        match fetched(engine, &ctx.cancel, &stub).await? {
            Some(idx) if idx.table == stub.table.str_or("") => Ok(Model {
                id: Known(stub.id()),
                ..stub
            }),
            Some(idx) => Err(Diagnostics::error(
                "Cannot import index",
                format!(
                    "Index {:?} in schema {:?} is on table {:?}, not {:?}.",
                    stub.name.str_or(""),
                    stub.schema(),
                    idx.table,
                    stub.table.str_or("")
                ),
            )),
            None => Err(Diagnostics::error(
                "Cannot import non-existent index",
                format!(
                    "No index {:?} in schema {:?} of source {:?}.",
                    stub.name.str_or(""),
                    stub.schema(),
                    stub.source()
                ),
            )),
        }
    }
}
