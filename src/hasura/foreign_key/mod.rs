//! `hasura_foreign_key`: a foreign-key constraint between two PostgreSQL
//! tables, added and altered through `run_sql` (one transaction per write).
//! A resource of its own so that two tables may reference each other
//! without a cycle in Terraform's graph.
mod sql;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::framework::Value::{Known, Unknown};
use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, OneOf, Plan, RequiresReplace, Resource,
    Schema, Type, Value,
};
use crate::settle::{ReadBack, Unsettled};

use super::client::constraints::CatalogForeignKey;
use super::client::sql::SqlOptions;
use super::client::{Engine, HasuraError, TableRef};
use super::engine;
use super::ident::{check_name_attrs, NAME_RULE};
use super::table::catalog_object::{self, drop_ddl, fetched, run_ddl, CatalogObject, Found};
use super::table::keyed::{table_keyed, TableKeyed};
use super::table::on_table::{import_id_attribute, table_attributes};
pub use sql::default_name;
use sql::{action_name, add_sql, drop_sql, matches, update_sql, validate_columns, ACTION_NAMES};

pub struct ForeignKeyResource;

table_keyed! {
    #[derive(Clone, Debug, Default, Serialize, Deserialize)]
    pub struct Model {
        key { name: "" }
        /// Elements may be unknown at plan time (names from a `hasura_table`).
        columns: Value<Vec<Value<String>>>,
        references_schema: Value<String>,
        references_table: Value<String>,
        references_columns: Value<Vec<Value<String>>>,
        on_delete: Value<String>,
        on_update: Value<String>,
    }
}

/// Attributes that only a new constraint can change.
const REPLACING: &[&str] = &["references_schema"];

impl Model {
    /// What a read reports for `prior`'s constraint, found as `cat`.
    fn from_catalog(prior: &Model, cat: CatalogForeignKey) -> Model {
        let names = |v: Vec<String>| Known(v.into_iter().map(Known).collect());
        Model {
            table: Known(cat.table),
            name: prior.name.clone(),
            columns: names(cat.columns),
            references_schema: Known(cat.references_schema),
            references_table: Known(cat.references_table),
            references_columns: names(cat.references_columns),
            on_delete: Known(action_name(&cat.on_delete)),
            on_update: Known(action_name(&cat.on_update)),
            ..Model::key_of(prior)
        }
    }
}

#[async_trait]
impl CatalogObject for Model {
    type Catalog = CatalogForeignKey;

    async fn fetch(&self, engine: &Engine, cancel: &CancellationToken) -> Found<CatalogForeignKey> {
        let table = TableRef::new(self.source(), self.schema(), self.table());
        engine
            .foreign_key(cancel, table, self.name.str_or(""))
            .await
    }
}

const WRITE: SqlOptions = SqlOptions {
    read_only: false,
    // None: Hasura's own heuristic (ALTER/DROP) re-syncs a tracked table's
    // relationships after the change, as the console's SQL tab does.
    check_metadata_consistency: None,
};

/// The first double-quoted name in PostgreSQL's message (`column "x" ...`).
fn quoted_name(m: &str) -> Option<&str> {
    let start = m.find('"')? + 1;
    let len = m[start..].find('"')?;
    Some(&m[start..start + len])
}

/// PostgreSQL's refusals that point at one attribute, with what to do.
fn explain(e: &HasuraError, fk: &Model) -> Option<(&'static str, &'static str)> {
    let m = e.message();
    let pg = m.split("PostgreSQL says:").nth(1).unwrap_or("");
    if pg.contains("referenced in foreign key constraint does not exist") {
        let local = quoted_name(pg).is_some_and(|c| {
            fk.columns
                .elements()
                .iter()
                .any(|v| v.as_deref() == Some(c))
        });
        return Some(if local {
            ("columns", " Name a column of `table`.")
        } else {
            (
                "references_columns",
                " Name a column of `references_table`.",
            )
        });
    }
    if pg.contains("does not exist") && pg.trim_start().starts_with("relation") {
        let named = quoted_name(pg).unwrap_or("");
        let table = named.rsplit('.').next().unwrap_or(named);
        return Some(if table == fk.table.str_or("") {
            ("table", " Create the table first (reference the `hasura_table` so Terraform orders it before this constraint).")
        } else {
            ("references_table", " Create the referenced table first (reference the `hasura_table` so Terraform orders it before this constraint).")
        });
    }
    if m.contains("there is no unique constraint matching given keys") {
        return Some(("references_columns", " The referenced columns must be the referenced table's primary key or carry a UNIQUE constraint (as a set, in any order); add one, or reference other columns."));
    }
    if m.contains("violates foreign key constraint") {
        return Some(("columns", " Existing rows hold values that the referenced table does not have; fix or delete those rows first."));
    }
    if m.contains("are of incompatible types") {
        return Some(("references_columns", " Each local column must have a type comparable with the referenced column at the same position."));
    }
    None
}

/// One diagnostic for a write that did not settle; `what` names the write.
fn write_failed(what: &str, u: Unsettled<HasuraError>, m: &Model) -> Diagnostics {
    let id = m.id();
    let (path, detail) = match u {
        Unsettled::Failed(e) => {
            let mut detail = e.to_string();
            let mut path = None;
            if let Some((attr, hint)) = explain(&e, m) {
                detail.push_str(hint);
                path = Some(attr);
            } else if detail.contains("already exists") {
                detail.push_str(&format!(" If this constraint is the one you mean, import it: terraform import <address> {id}"));
            }
            detail.push_str(" Nothing was changed (the statements run in one transaction).");
            (path, detail)
        }
        Unsettled::Other(e) => (None, format!("{e} The constraint now matches neither its old nor its planned definition (changed by someone else meanwhile?); run terraform plan to see what it is.")),
        u => (None, u.into_error("reading the constraint back to see whether the change landed").to_string()),
    };
    let summary = format!("Failed to {what} foreign key");
    match path {
        Some(p) => Diagnostics::attr_error(AttrPath::attr(p), summary, detail),
        None => Diagnostics::error(summary, detail),
    }
}

/// Runs `sql`, settled: after an ambiguous failure the catalog tells whether
/// `new` is there (landed), `old` still is (absent: send again) or neither.
async fn write(
    engine: &Engine,
    cancel: &CancellationToken,
    sql: &str,
    old: Option<&Model>,
    new: &Model,
) -> Result<(), Unsettled<HasuraError>> {
    let landed = |_: &HasuraError| async {
        let now = new.fetch(engine, cancel).await?;
        if now.as_ref().is_some_and(|c| matches(c, new)) {
            return Ok(ReadBack::Landed(()));
        }
        let before = match old {
            Some(o) => o.fetch(engine, cancel).await?.filter(|c| matches(c, o)),
            None => None,
        };
        Ok(match (old, now, before) {
            (None, None, _) => ReadBack::Absent,
            (Some(_), _, Some(_)) => ReadBack::Absent,
            _ => ReadBack::Other,
        })
    };
    run_ddl(engine, cancel, new, ("foreign-key DDL", sql), WRITE, landed).await
}

/// `<source>.<schema>.<table>.<constraint>`, or `<schema>.<table>.<constraint>` in source `default`.
pub(super) fn parse_object_id(id: &str, kind: &str) -> Result<[String; 4], Diagnostics> {
    let form = format!("<source>.<schema>.<table>.<{kind}>");
    super::ident::parse_import_id(
        id,
        &form,
        "default.public.orders.orders_user_id_fkey",
        true,
        4,
    )
}

#[async_trait]
impl Resource for ForeignKeyResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_foreign_key"
    }

    fn schema(&self) -> Schema {
        let name_rule = NAME_RULE;
        let replaces = " Changing it replaces the constraint.";
        let referencing = "The referencing table (the one holding `columns`). Changing it replaces the constraint.";
        let [source, schema, table] =
            table_attributes("the referencing table", referencing, replaces, true);
        let action = |which: &str| {
            format!("What PostgreSQL does to referencing rows when the referenced row is {which}: one of `no action` (the default), `restrict`, `cascade`, `set null`, `set default`. Changed in place: PostgreSQL has no ALTER for it, so the constraint is dropped and re-added in one transaction (atomic; existing rows are checked again).")
        };
        Schema::new(
            "A foreign-key constraint on a PostgreSQL table, managed through Hasura's `run_sql` (every identifier quoted, each change one transaction). A resource of its own, so two tables may reference each other without a dependency cycle. Renaming it and changing `on_delete`/`on_update` are applied in place; changing the tables or columns replaces it. Hasura reads foreign keys to offer relationships (`foreign_key_constraint_on`); dropping one that a relationship uses is refused by Hasura. Import with `<source>.<schema>.<table>.<constraint>` (e.g. `default.public.orders.orders_user_id_fkey`; `<schema>.<table>.<constraint>` means source `default`); a part containing a `.` is written in double quotes.",
            vec![
                import_id_attribute("<source>.<schema>.<table>.<constraint>"),
                source,
                schema,
                table,
                Attribute::string("name").optional_computed().describe(format!("Constraint name. Unset: an existing constraint (e.g. imported) keeps its name; a new one gets PostgreSQL's default, `<table>_<column>[_<column>...]_fkey` (shortened to 63 bytes as PostgreSQL does). Renaming is applied in place (`RENAME CONSTRAINT`). {name_rule}")),
                Attribute::typed("columns", Type::list(Type::String)).required().plan(RequiresReplace).describe("The referencing columns, in key order. At least one; as many as `references_columns`. Changing them replaces the constraint."),
                Attribute::string("references_schema").optional_computed().describe(format!("PostgreSQL schema of the referenced table. Unset: the same as `schema`. Changing it replaces the constraint. {name_rule}")),
                Attribute::string("references_table").required().plan(RequiresReplace).describe(format!("The referenced table. Changing it replaces the constraint. {name_rule}")),
                Attribute::typed("references_columns", Type::list(Type::String)).required().plan(RequiresReplace).describe("The referenced columns, paired by position with `columns`. They must be the referenced table's primary key or have a UNIQUE constraint (PostgreSQL refuses otherwise, at apply). Changing them replaces the constraint."),
                Attribute::string("on_delete").default("no action").validate(OneOf(ACTION_NAMES)).describe(action("deleted")),
                Attribute::string("on_update").default("no action").validate(OneOf(ACTION_NAMES)).describe(action("updated (its key changed)")),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        config.check_table_names(diags);
        let more = [
            ("name", &config.name),
            ("references_schema", &config.references_schema),
            ("references_table", &config.references_table),
        ];
        check_name_attrs(diags, more);
        validate_columns(config, diags);
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: Plan<'_, Model>) {
        let (config, planned) = (plan.config, &mut *plan.planned);
        if config.references_schema.is_null() {
            planned.references_schema = planned.schema.clone();
        }
        let same_key = plan.prior.is_some_and(|p| {
            p.table == planned.table && p.columns == planned.columns && p.name.is_known()
        });
        if config.name.is_null() && same_key {
            // An existing constraint (e.g. imported) keeps its name.
            planned.name = plan.prior.map(|p| p.name.clone()).unwrap_or_default();
        } else if config.name.is_null() {
            let cols: Option<Vec<&str>> = planned
                .columns
                .known()
                .and_then(|c| c.iter().map(Value::as_deref).collect());
            planned.name = match (planned.table.as_deref(), cols) {
                (Some(t), Some(c)) => Known(default_name(t, &c)),
                _ => Unknown,
            };
        }
        planned.id = planned.planned_id();
        plan.requires_replace.extend(REPLACING);
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let engine = &engine(ctx)?;
        let sql = add_sql(&m)?;
        write(engine, &ctx.cancel, &sql, None, &m)
            .await
            .map_err(|u| write_failed("create", u, &m))?;
        Ok(m.with_id())
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        catalog_object::read(ctx, prior, |prior, c| Some(Model::from_catalog(&prior, c))).await
    }

    async fn update(&self, ctx: &Ctx, old: Model, new: Model) -> Result<Model, ApplyError<Model>> {
        let engine = &engine(ctx)?;
        let sql = update_sql(&old, &new)?;
        write(engine, &ctx.cancel, &sql, Some(&old), &new)
            .await
            .map_err(|u| write_failed("update", u, &new))?;
        Ok(new.with_id())
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let engine = &engine(ctx)?;
        let sql = drop_sql(&m)?;
        let ddl = ("DROP CONSTRAINT", sql.as_str());
        drop_ddl(engine, &ctx.cancel, &m, ddl, WRITE, "constraint").await.map_err(|e| {
            let hint = if e.code_is("dependency-error") { " A Hasura relationship uses this foreign key: remove the relationship first (or in the same apply, with the relationship depending on this resource)." } else { "" };
            Diagnostics::error("Failed to drop foreign key", format!("{e}{hint}"))
        })
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let [source, schema, table, name] = parse_object_id(id, "constraint")?;
        let stub = Model::keyed(source, schema, table, name);
        let engine = &engine(ctx)?;
        // Core reads the stub right after; a missing constraint is said here,
        // with the id, rather than as an empty import.
        if fetched(engine, &ctx.cancel, &stub).await?.is_none() {
            return Err(Diagnostics::error(
                "Cannot import non-existent foreign key",
                format!(
                    "No foreign-key constraint {:?} on table {:?}.{:?} in source {:?}.",
                    stub.name.str_or(""),
                    stub.schema(),
                    stub.table.str_or(""),
                    stub.source()
                ),
            ));
        }
        Ok(stub.with_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_refusals_point_at_the_attribute() {
        let fk = Model {
            table: Known("books".into()),
            columns: Known(vec![Known("author_id".into())]),
            references_table: Known("authors".into()),
            references_columns: Known(vec![Known("id".into())]),
            ..Default::default()
        };
        let pg = |m: &str| {
            HasuraError::Api {
            status: None,
            code: Some("postgres-error".into()),
            message: format!("Hasura run_sql (/v2/query) failed with HTTP 400 [postgres-error]: query execution failed: PostgreSQL says: {m}."),
        }
        };
        let attr = |m: &str| explain(&pg(m), &fk).map(|(a, _)| a);
        assert_eq!(
            attr("column \"author_id\" referenced in foreign key constraint does not exist"),
            Some("columns")
        );
        assert_eq!(
            attr("column \"id\" referenced in foreign key constraint does not exist"),
            Some("references_columns")
        );
        assert_eq!(
            attr("relation \"public.authors\" does not exist"),
            Some("references_table")
        );
        assert_eq!(
            attr("relation \"public.books\" does not exist"),
            Some("table")
        );
        assert_eq!(attr("there is no unique constraint matching given keys for referenced table \"authors\""), Some("references_columns"));
        assert_eq!(attr("deadlock detected"), None);
    }

    #[test]
    fn import_ids() {
        let [s, sch, t, n] =
            parse_object_id("default.public.orders.orders_user_id_fkey", "constraint").unwrap();
        assert_eq!(
            (s.as_str(), sch.as_str(), t.as_str(), n.as_str()),
            ("default", "public", "orders", "orders_user_id_fkey")
        );
        assert_eq!(
            parse_object_id("public.orders.fk", "constraint").unwrap()[0],
            "default"
        );
        assert_eq!(
            parse_object_id("default.\"my.schema\".t.fk", "constraint").unwrap()[1],
            "my.schema"
        );
        assert!(parse_object_id("orders.fk", "constraint").is_err());
        assert!(parse_object_id("default.public.t.a;b", "constraint").is_err());
    }
}
