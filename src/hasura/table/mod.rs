//! `hasura_table`: a PostgreSQL table created and altered through `run_sql`
//! (one transaction per apply, every identifier quoted), tracked in Hasura.
mod apply;
pub(super) mod catalog_object;
mod ddl;
pub(crate) mod keyed;
pub(super) mod on_table;
mod plan;
mod readback;
pub(super) mod tracking;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::Value::Known;
use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Nesting, NotEmpty, Plan,
    RequiresReplace, Resource, Schema, Type, Value,
};

use super::client::HasuraError;
use super::engine;
use super::ident::{qualified, NAME_RULE};
use apply::{alter_table, create_table, drop_checked, track_new_table};
use ddl::{alter_statements, validate_columns};
use on_table::{schema_attribute, source_attribute};
use plan::{
    check_destroy, check_update, keep_equivalent_spellings, pk_not_null, record_planned_columns,
    refuse_dropping_columns,
};
use readback::{catalog, model_from_catalog};
use tracking::{
    id_attribute, planned_id, set_tracked, table_model, tracked_in_export, validate_names,
};

pub struct TableResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Column {
    name: Value<String>,
    #[serde(rename = "type")]
    ty: Value<String>,
    nullable: Value<bool>,
    default: Value<String>,
    unique: Value<bool>,
}

impl Column {
    fn is_wholly_known(&self) -> bool {
        !(self.name.is_unknown()
            || self.ty.is_unknown()
            || self.nullable.is_unknown()
            || self.default.is_unknown()
            || self.unique.is_unknown())
    }
}

table_model! {
    #[derive(Clone, Debug, Default, Serialize, Deserialize)]
    pub struct Model {
        columns: Value<Vec<Column>>,
        /// Elements may be unknown at plan time (a name from another resource).
        primary_key: Value<Vec<Value<String>>>,
        comment: Value<String>,
        track: Value<bool>,
        deletion_protection: Value<bool>,
    }
}

impl Model {
    fn columns(&self) -> &[Column] {
        self.columns.elements()
    }
    /// The primary-key column names known so far (all of them at apply).
    fn pk(&self) -> Vec<&str> {
        self.primary_key
            .elements()
            .iter()
            .filter_map(Value::as_deref)
            .collect()
    }
    fn protected(&self) -> bool {
        self.deletion_protection != Known(false)
    }
    fn tracks(&self) -> bool {
        self.track != Known(false)
    }
    /// How messages name the table: its id, else its name.
    fn label(&self) -> &str {
        self.id.as_deref().unwrap_or(self.table().name)
    }
    fn qualified(&self) -> Result<String, Diagnostics> {
        let t = self.table();
        qualified(t.schema, t.name).map_err(|e| {
            Diagnostics::attr_error(AttrPath::attr("name"), "Invalid table name", e.to_string())
        })
    }
}

fn sql_err(summary: &str) -> impl Fn(HasuraError) -> Diagnostics + '_ {
    move |e| e.into_diags(summary)
}

#[async_trait]
impl Resource for TableResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_table"
    }

    fn schema(&self) -> Schema {
        let name_rule = NAME_RULE;
        let replaces = " Changing it replaces the table.";
        Schema::new(
            "A PostgreSQL table created through Hasura's `run_sql` and tracked in the GraphQL schema. Creation is one transaction followed by `pg_track_table`; if tracking fails the table is dropped again. Column changes are applied in place with `ALTER TABLE`; renaming the table or moving it to another schema or source replaces it, which `deletion_protection` refuses. Import with `<source>.<schema>.<table>` (e.g. `default.public.users`); a part containing a `.` is written in double quotes with inner quotes doubled, e.g. `default.\"my.schema\".users`.",
            vec![
                id_attribute(),
                source_attribute(replaces, true),
                schema_attribute("", replaces, true),
                Attribute::string("name").required().plan(RequiresReplace).describe(format!("Table name. Changing it replaces the table (drop and create: data is not carried over). {name_rule}")),
                Attribute::nested(
                    "columns",
                    Nesting::List,
                    vec![
                        Attribute::string("name").required().describe(format!("Column name. Renaming a column drops it and adds a new, empty one. {name_rule}")),
                        Attribute::string("type").required().describe("PostgreSQL type, e.g. `text`, `int`, `timestamptz`, `varchar(20)`, `uuid`, `jsonb`, `integer[]`. Only a type: a constraint (`NOT NULL`, `DEFAULT`, `REFERENCES`...) goes in its own attribute or resource. Aliases are compared as PostgreSQL resolves them (`int` = `integer` = `int4`, `timestamp` = `timestamp without time zone`), so they never show a diff. Changing it runs `ALTER COLUMN ... TYPE ... USING col::type`."),
                        Attribute::bool("nullable").default(true).describe("Whether the column accepts NULL. Default `true`, except for primary-key columns, which are always NOT NULL."),
                        Attribute::string("default").optional().describe("Default value as an SQL expression, e.g. `now()`, `gen_random_uuid()`, `'draft'` (a string literal needs its single quotes). This is the one place where SQL text is passed through: it must be a single expression (no `;`, no comments, balanced parentheses, no backslash inside a string literal, where PostgreSQL may read it as an escape). Compared as PostgreSQL stores it (`'draft'` = `'draft'::text`)."),
                        Attribute::bool("unique").default(false).describe("Whether the column has a single-column UNIQUE constraint. Default `false`."),
                    ],
                )
                .required()
                .validate(NotEmpty("No columns", "A table needs at least one column."))
                .describe("The columns, in creation order. Columns added later are appended by PostgreSQL; order changes alone are not applied. Removing a column drops it and its data (Hasura refuses while a permission still uses it)."),
                Attribute::typed("primary_key", Type::list(Type::String)).optional().describe("Primary-key column names, in key order. Each must be listed in `columns`."),
                Attribute::string("comment").optional().describe("Table comment (`COMMENT ON TABLE`), shown as the type's description in GraphQL."),
                Attribute::bool("track").default(true).describe("Whether the table is tracked in Hasura (exposed in the GraphQL API). Default `true`. Untracking it removes its Hasura permissions."),
                Attribute::bool("deletion_protection").default(true).describe("While `true` (the default), destroying or replacing this table is refused at plan time, and dropping any of its columns (including columns added outside Terraform) is flagged with a warning at plan time and refused at apply before any change, so no data is lost by accident. To drop the table, set it to `false`, apply, then destroy or replace; to drop columns, set it to `false` in the same change."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        validate_names(&config.source, &config.schema, &config.name, diags);
        validate_columns(config, diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Model>) {
        record_planned_columns(ctx, plan.prior, Some(plan.planned));
        let planned = &mut *plan.planned;
        planned.id = planned_id(&planned.source, &planned.schema, &planned.name);
        if let Some(prior) = plan.prior {
            if !check_update(prior, planned, plan.diags) {
                return;
            }
        }
        pk_not_null(plan.config, planned);
        keep_equivalent_spellings(ctx, plan.prior, planned, plan.diags).await;
    }

    async fn plan_destroy(&self, ctx: &Ctx, prior: &Model, diags: &mut Diagnostics) {
        record_planned_columns(ctx, Some(prior), None);
        check_destroy(prior, diags);
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let engine = &engine(ctx)?;
        let q = m.qualified()?;
        create_table(engine, &ctx.cancel, &q, &m).await?;
        if m.tracks() {
            track_new_table(engine, &ctx.cancel, &m).await?;
        }
        Ok(m.with_id())
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        let engine = &engine(ctx)?;
        let t = prior.table();
        // Refreshing many tables costs one query: the process's snapshot.
        let cat = match engine.table_catalog(&ctx.cancel, t).await {
            // The source was dropped from Hasura: the database (and the
            // table) are untouched, but nothing tracks it any more.
            Err(e) if e.is_source_missing() => {
                return Ok(Some(Model {
                    track: Known(false),
                    ..prior
                }))
            }
            r => r.map_err(sql_err("Failed to read table"))?,
        };
        let Some(cat) = cat else {
            return Ok(None);
        };
        let tracked = tracked_in_export(engine, &ctx.cancel, t)
            .await
            .map_err(sql_err("Failed to read Hasura metadata"))?;
        Ok(Some(model_from_catalog(&prior, &cat, tracked)))
    }

    async fn update(&self, ctx: &Ctx, old: Model, new: Model) -> Result<Model, ApplyError<Model>> {
        let engine = &engine(ctx)?;
        let q = new.qualified()?;
        let t = new.table();
        let cat = catalog(engine, &ctx.cancel, t)
            .await
            .map_err(sql_err("Failed to read table"))?
            .ok_or_else(|| {
                Diagnostics::error(
                    "Table not found",
                    format!(
                        "Table {q} no longer exists; run terraform plan again to re-create it."
                    ),
                )
            })?;
        refuse_dropping_columns(&old, &new, &cat)?;
        let stmts = alter_statements(&q, &old, &new, &cat)?;
        // Untrack before DDL that would otherwise have to carry the metadata along.
        if old.tracks() && !new.tracks() {
            set_tracked(engine, &ctx.cancel, t, false)
                .await
                .map_err(sql_err("Failed to untrack table"))?;
        }
        if !stmts.is_empty() {
            alter_table(engine, &ctx.cancel, &old, &new, &stmts).await?;
        }
        // Re-track if someone untracked it out of band (state said tracked, plan wants tracked).
        let retrack = new.tracks()
            && (!old.tracks()
                || !tracked_in_export(engine, &ctx.cancel, t)
                    .await
                    .map_err(sql_err("Failed to read Hasura metadata"))?);
        if retrack {
            set_tracked(engine, &ctx.cancel, t, true)
                .await
                .map_err(sql_err("Failed to track table"))?;
        }
        Ok(new.with_id())
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let engine = &engine(ctx)?;
        if m.protected() {
            return Err(Diagnostics::error(
                "Table is protected from deletion",
                format!("hasura_table {:?} has `deletion_protection = true`; set it to false and apply before destroying it.", m.label()),
            ));
        }
        m.qualified()?;
        let t = m.table();
        set_tracked(engine, &ctx.cancel, t, false)
            .await
            .map_err(sql_err("Failed to untrack table"))?;
        drop_checked(engine, &ctx.cancel, t, true)
            .await
            .map_err(sql_err("Failed to drop table"))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        Ok(Model {
            track: Known(true),
            deletion_protection: Known(true),
            ..Model::imported(id)?
        })
    }
}

/// `source.schema.table`, or `schema.table` in source `default`.
pub(super) fn parse_table_id(id: &str) -> Result<(String, String, String), Diagnostics> {
    let [source, schema, name] = super::ident::parse_import_id(
        id,
        "<source>.<schema>.<table>",
        "default.public.users",
        true,
        3,
    )?;
    Ok((source, schema, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn col(n: &str, t: &str) -> Column {
        Column {
            name: n.into(),
            ty: t.into(),
            nullable: Known(true),
            default: Value::Null,
            unique: Known(false),
        }
    }

    #[test]
    fn import_ids() {
        assert!(parse_table_id("default.public.users").is_ok());
        assert_eq!(
            parse_table_id("default.\"my.schema\".users").unwrap().1,
            "my.schema"
        );
        assert_eq!(parse_table_id("public.users").unwrap().0, "default");
        assert!(parse_table_id("a;b.public.users").is_err());
        assert!(parse_table_id("users").is_err());
    }
}
