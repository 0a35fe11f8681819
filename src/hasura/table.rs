//! `hasura_table`: a PostgreSQL table created and altered through `run_sql`
//! (one transaction per apply, every identifier quoted), tracked in Hasura.
use std::collections::{BTreeMap, BTreeSet, HashSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::framework::legacy::{decode, encode, LegacyApplyError, LegacyResource, PlanContext};
use crate::framework::IntoDiags;
use crate::framework::{Attribute, Ctx, Diagnostics, Nesting, RequiresReplace, Schema};
use crate::plugin::cty::{AttrPath, Type, Value};
use crate::settle::{settle, ReadBack, Settle, Unsettled};

use super::client::metadata::{is_already_gone, qualified_table};
use super::client::sql::SqlOptions;
use super::client::{Engine, HasuraClient, HasuraError};
use super::ident::{
    check_default_expr, check_name, format_id, parse_id, qualified, quote_ident, quote_literal,
};
use super::types::{display_type, is_serial, same_default, same_type};

pub struct TableResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Column {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub nullable: Option<bool>,
    pub default: Option<String>,
    pub unique: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Model {
    id: Option<String>,
    source: Option<String>,
    schema: Option<String>,
    name: Option<String>,
    columns: Option<Vec<Column>>,
    primary_key: Option<Vec<String>>,
    comment: Option<String>,
    track: Option<bool>,
    deletion_protection: Option<bool>,
}

impl Model {
    fn source(&self) -> &str {
        self.source.as_deref().unwrap_or("default")
    }
    fn schema(&self) -> &str {
        self.schema.as_deref().unwrap_or("public")
    }
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }
    fn columns(&self) -> &[Column] {
        self.columns.as_deref().unwrap_or_default()
    }
    fn pk(&self) -> &[String] {
        self.primary_key.as_deref().unwrap_or_default()
    }
    fn qualified(&self) -> Result<String, Diagnostics> {
        qualified(self.schema(), self.name())
            .map_err(|e| Diagnostics::attr_error(AttrPath::attr("name"), "Invalid table name", e))
    }
}

use super::client::catalog::{CatalogColumn, CatalogTable, PlannedColumns};

/// The table as it is right now (one `run_sql`, bypassing the process's
/// snapshot); `None` when it does not exist. For apply paths: the basis of
/// an ALTER, and whether a write whose answer was lost landed.
pub async fn catalog(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    schema: &str,
    name: &str,
) -> Result<Option<CatalogTable>, HasuraError> {
    engine
        .table_catalog_fresh(cancel, source, schema, name)
        .await
}

/// Tells the `hasura_permission`s planned after this table, by this process,
/// which columns it will have once applied: until then the catalog cannot
/// know a column this plan adds, and still shows one it drops.
fn record_planned_columns(ctx: &Ctx, prior: Option<&Model>, planned: &Value) {
    let Ok(client) = ctx.client::<HasuraClient>() else {
        return;
    };
    let Ok(engine) = client.engine() else { return };
    let prior_key = prior.map(|p| (p.source(), p.schema(), p.name()));
    let record = |(source, schema, name): (&str, &str, &str), columns| {
        engine.record_planned_columns(source, schema, name, columns)
    };
    if planned.is_null() {
        if let Some(old) = prior_key {
            record(old, PlannedColumns::Dropped);
        }
        return;
    }
    // Only the names matter to a permission: a type or default still unknown does not.
    let columns = planned
        .get("columns")
        .elements()
        .and_then(|cols| {
            cols.iter()
                .map(|c| c.get("name").as_str().map(str::to_string))
                .collect::<Option<BTreeSet<_>>>()
        })
        .map_or(PlannedColumns::Unknown, PlannedColumns::Known);
    match ["source", "schema", "name"].map(|a| planned.get(a).as_str()) {
        [Some(source), Some(schema), Some(name)] => {
            let key = (source, schema, name);
            record(key, columns);
            // Replaced under another name: the old table is dropped.
            if let Some(old) = prior_key.filter(|old| *old != key) {
                record(old, PlannedColumns::Dropped);
            }
        }
        // Possibly replaced, possibly kept: not known before apply.
        _ => {
            if let Some(old) = prior_key {
                record(old, PlannedColumns::Unknown);
            }
        }
    }
}

/// Column types are pasted into DDL: allow only what a type name can contain.
fn check_type(t: &str) -> Result<(), String> {
    if t.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(c) = t.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '(' | ')' | ',' | '[' | ']' | '.'))
    }) {
        return Err(format!("contains {c:?}; a type name may only contain letters, digits, spaces, `_`, `.`, `,`, `(`, `)`, `[` and `]`"));
    }
    let mut depth = 0i32;
    for c in t.chars() {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth < 0 {
            return Err("has an unbalanced `)`".into());
        }
    }
    if depth != 0 {
        return Err("has an unbalanced `(`".into());
    }
    Ok(())
}

fn column_def(c: &Column, in_pk: bool) -> Result<String, Diagnostics> {
    let name = c.name.as_deref().unwrap_or_default();
    let mut s = format!(
        "{} {}",
        quote_ident(name).map_err(|e| Diagnostics::error("Invalid column name", e))?,
        c.ty.as_deref().unwrap_or_default()
    );
    if c.nullable == Some(false) && !in_pk {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if c.unique == Some(true) {
        s.push_str(" UNIQUE");
    }
    Ok(s)
}

fn pk_clause(pk: &[String]) -> Result<String, Diagnostics> {
    let cols: Result<Vec<_>, _> = pk.iter().map(|c| quote_ident(c)).collect();
    Ok(format!(
        "PRIMARY KEY ({})",
        cols.map_err(|e| Diagnostics::error("Invalid primary key column", e))?
            .join(", ")
    ))
}

fn sql_err(summary: &str) -> impl Fn(HasuraError) -> Diagnostics + '_ {
    move |e| e.into_diags(summary)
}

#[async_trait]
impl LegacyResource for TableResource {
    fn type_name(&self) -> &'static str {
        "hasura_table"
    }

    fn schema(&self) -> Schema {
        let name_rule = "Names may not contain quotes, backslashes, `;` or control characters and are at most 63 bytes.";
        Schema::new(
            "A PostgreSQL table created through Hasura's `run_sql` and tracked in the GraphQL schema. Creation is one transaction followed by `pg_track_table`; if tracking fails the table is dropped again. Column changes are applied in place with `ALTER TABLE`; renaming the table or moving it to another schema or source replaces it, which `deletion_protection` refuses. Import with `<source>.<schema>.<table>` (e.g. `default.public.users`); a part containing a `.` is written in double quotes with inner quotes doubled, e.g. `default.\"my.schema\".users`.",
            vec![
                Attribute::string("id").computed().describe("`<source>.<schema>.<table>`, the import id."),
                Attribute::string("source").default(Value::string("default")).plan(RequiresReplace).describe(format!("Hasura database (source) name. Default `default`. Changing it replaces the table. {name_rule}")),
                Attribute::string("schema").default(Value::string("public")).plan(RequiresReplace).describe(format!("PostgreSQL schema. Default `public`. Changing it replaces the table. {name_rule}")),
                Attribute::string("name").required().plan(RequiresReplace).describe(format!("Table name. Changing it replaces the table (drop and create: data is not carried over). {name_rule}")),
                Attribute::nested(
                    "columns",
                    Nesting::List,
                    vec![
                        Attribute::string("name").required().describe(format!("Column name. Renaming a column drops it and adds a new, empty one. {name_rule}")),
                        Attribute::string("type").required().describe("PostgreSQL type, e.g. `text`, `int`, `timestamptz`, `varchar(20)`, `uuid`, `jsonb`, `integer[]`. Aliases are compared as PostgreSQL resolves them (`int` = `integer` = `int4`, `timestamp` = `timestamp without time zone`), so they never show a diff. Changing it runs `ALTER COLUMN ... TYPE ... USING col::type`."),
                        Attribute::bool("nullable").default(Value::Bool(true)).describe("Whether the column accepts NULL. Default `true`, except for primary-key columns, which are always NOT NULL."),
                        Attribute::string("default").optional().describe("Default value as an SQL expression, e.g. `now()`, `gen_random_uuid()`, `'draft'` (a string literal needs its single quotes). This is the one place where SQL text is passed through: it must be a single expression (no `;`, no comments, balanced parentheses). Compared as PostgreSQL stores it (`'draft'` = `'draft'::text`)."),
                        Attribute::bool("unique").default(Value::Bool(false)).describe("Whether the column has a single-column UNIQUE constraint. Default `false`."),
                    ],
                )
                .required()
                .describe("The columns, in creation order. Columns added later are appended by PostgreSQL; order changes alone are not applied. Removing a column drops it and its data (Hasura refuses while a permission still uses it)."),
                Attribute::typed("primary_key", Type::list(Type::String)).optional().describe("Primary-key column names, in key order. Each must be listed in `columns`."),
                Attribute::string("comment").optional().describe("Table comment (`COMMENT ON TABLE`), shown as the type's description in GraphQL."),
                Attribute::bool("track").default(Value::Bool(true)).describe("Whether the table is tracked in Hasura (exposed in the GraphQL API). Default `true`. Untracking it removes its Hasura permissions."),
                Attribute::bool("deletion_protection").default(Value::Bool(true)).describe("While `true` (the default), destroying or replacing this table is refused at plan time, and dropping any of its columns (including columns added outside Terraform) is flagged with a warning at plan time and refused at apply before any change, so no data is lost by accident. To drop the table, set it to `false`, apply, then destroy or replace; to drop columns, set it to `false` in the same change."),
            ],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        for attr in ["source", "schema", "name"] {
            if let Some(s) = config.get(attr).as_str() {
                if let Err(e) = check_name(s) {
                    diags.add_attr_error(
                        AttrPath::attr(attr),
                        "Invalid name",
                        format!("`{attr}` {e}."),
                    );
                }
            }
        }
        let mut names = HashSet::new();
        let cols = config.get("columns");
        if let Some(items) = cols.elements() {
            if items.is_empty() {
                diags.add_attr_error(
                    AttrPath::attr("columns"),
                    "No columns",
                    "A table needs at least one column.",
                );
            }
            for (i, c) in items.iter().enumerate() {
                let p = AttrPath::attr("columns").index(i);
                if let Some(n) = c.get("name").as_str() {
                    if let Err(e) = check_name(n) {
                        diags.add_attr_error(
                            p.child("name"),
                            "Invalid column name",
                            format!("`columns[{i}].name` {e}."),
                        );
                    }
                    if !names.insert(n.to_string()) {
                        diags.add_attr_error(
                            p.child("name"),
                            "Duplicate column",
                            format!("Column {n:?} is listed twice in `columns`."),
                        );
                    }
                }
                if let Some(t) = c.get("type").as_str() {
                    if let Err(e) = check_type(t) {
                        diags.add_attr_error(
                            p.child("type"),
                            "Invalid column type",
                            format!("`columns[{i}].type` {e}."),
                        );
                    }
                }
                if let Some(d) = c.get("default").as_str() {
                    if let Err(e) = check_default_expr(d) {
                        diags.add_attr_error(
                            p.child("default"),
                            "Invalid default expression",
                            format!("`columns[{i}].default` {e}."),
                        );
                    }
                }
            }
        }
        let all_known = cols
            .elements()
            .is_some_and(|items| items.iter().all(|c| c.get("name").as_str().is_some()));
        if let Some(pk) = config.get("primary_key").elements() {
            for (i, k) in pk.iter().enumerate() {
                let Some(k) = k.as_str() else { continue };
                if all_known && !names.contains(k) {
                    diags.add_attr_error(
                        AttrPath::attr("primary_key").index(i),
                        "Unknown primary-key column",
                        format!("`primary_key` names {k:?}, which is not in `columns`."),
                    );
                }
                if let Some(items) = cols.elements() {
                    for (j, c) in items.iter().enumerate() {
                        if c.get("name").as_str() == Some(k)
                            && c.get("nullable").as_bool() == Some(true)
                        {
                            diags.add_attr_error(AttrPath::attr("columns").index(j).child("nullable"), "Nullable primary key", format!("Column {k:?} is in `primary_key`, so it cannot be nullable; remove `nullable = true`."));
                        }
                    }
                }
            }
        }
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: PlanContext<'_>) {
        let prior: Option<Model> = plan.prior.and_then(|p| decode(p).ok());
        record_planned_columns(ctx, prior.as_ref(), plan.planned);
        if plan.planned.is_null() {
            if let Some(p) = prior.filter(|p| p.deletion_protection != Some(false)) {
                plan.diags.add_error(
                    "Table is protected from deletion",
                    format!("Destroying hasura_table {:?} would drop the table and all its rows, and `deletion_protection` is true. To drop it, set `deletion_protection = false`, apply, then destroy.", p.id.as_deref().unwrap_or(p.name())),
                );
            }
            return;
        }
        let (src, sch, name) = (
            plan.planned.get("source").clone(),
            plan.planned.get("schema").clone(),
            plan.planned.get("name").clone(),
        );
        match (src.as_str(), sch.as_str(), name.as_str()) {
            (Some(a), Some(b), Some(c)) => {
                plan.planned.set("id", Value::string(format_id(&[a, b, c])))
            }
            _ => plan.planned.set("id", Value::Unknown),
        }
        if let Some(p) = &prior {
            let moved = [
                ("source", p.source()),
                ("schema", p.schema()),
                ("name", p.name()),
            ]
            .iter()
            .any(|(attr, old)| {
                plan.planned
                    .get(attr)
                    .as_str()
                    .is_none_or(|new| new != *old)
            });
            if moved && p.deletion_protection != Some(false) {
                plan.diags.add_error(
                    "Table is protected from replacement",
                    format!("Changing `source`, `schema` or `name` replaces hasura_table {:?}: the old table and its rows would be dropped, and `deletion_protection` is true. Set `deletion_protection = false` and apply first if that is intended.", p.id.as_deref().unwrap_or(p.name())),
                );
                return;
            }
            // Turning protection off in the same change is the explicit opt-in.
            let protected = p.deletion_protection != Some(false)
                && plan.planned.get("deletion_protection").as_bool() != Some(false);
            if protected {
                let planned_cols = plan.planned.get("columns");
                if planned_cols.is_wholly_known() {
                    let keep: Vec<&str> = planned_cols
                        .elements()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|c| c.get("name").as_str())
                        .collect();
                    let dropped = dropped_columns(
                        p.columns().iter().filter_map(|c| c.name.as_deref()),
                        &keep,
                    );
                    // A warning, not an error: an out-of-band column must still
                    // show as drift (`plan -detailed-exitcode` exit 2); the apply
                    // refuses before any DDL.
                    if !dropped.is_empty() {
                        plan.diags.add_attr_warning(
                            AttrPath::attr("columns"),
                            "Table is protected from losing columns",
                            format!("{} Applying this plan will fail for this table without changing it.", protected_columns_message(p, &dropped)),
                        );
                    }
                }
            }
        }
        // Primary-key columns are NOT NULL whatever the default says.
        let pk: Vec<String> = plan
            .planned
            .get("primary_key")
            .elements()
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let config_cols = plan
            .config
            .get("columns")
            .elements()
            .unwrap_or_default()
            .to_vec();
        if let Value::Object(m) = &mut *plan.planned {
            if let Some(Value::List(cols)) = m.get_mut("columns") {
                for (i, c) in cols.iter_mut().enumerate() {
                    let in_pk = c
                        .get("name")
                        .as_str()
                        .is_some_and(|n| pk.iter().any(|k| k == n));
                    if in_pk
                        && config_cols
                            .get(i)
                            .is_some_and(|cc| cc.get("nullable").is_null())
                    {
                        c.set("nullable", Value::Bool(false));
                    }
                }
            }
        }
        keep_equivalent_spellings(ctx, &prior, plan.planned, plan.diags).await;
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        _config: &Value,
    ) -> Result<Value, LegacyApplyError> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine().map_err(Diagnostics::from)?;
        let m: Model = decode(planned)?;
        let q = m.qualified()?;
        let mut defs = Vec::new();
        for c in m.columns() {
            defs.push(column_def(
                c,
                m.pk().iter().any(|k| Some(k) == c.name.as_ref()),
            )?);
        }
        if !m.pk().is_empty() {
            defs.push(pk_clause(m.pk())?);
        }
        let mut sql = format!("CREATE TABLE {q} ({});", defs.join(", "));
        if let Some(c) = &m.comment {
            sql.push_str(&format!(
                "\nCOMMENT ON TABLE {q} IS {};",
                quote_literal(c).map_err(|e| Diagnostics::attr_error(
                    AttrPath::attr("comment"),
                    "Invalid comment",
                    e
                ))?
            ));
        }
        let import_id = format_id(&[m.source(), m.schema(), m.name()]);
        let create_failed = |e: HasuraError| {
            let hint = if e.message().contains("already exists") {
                format!(" If the table already exists, import it: terraform import <address> {import_id}")
            } else {
                String::new()
            };
            Diagnostics::error("Failed to create table", format!("{}{hint}", e.message()))
        };
        let opts = SqlOptions {
            read_only: false,
            check_metadata_consistency: Some(false),
        };
        let how = Settle {
            landed: Some(
                "CREATE TABLE failed ambiguously but the table exists as planned; continuing",
            ),
            ..table_write(
                &q,
                "CREATE TABLE failed ambiguously and did not land; sending it again",
            )
        };
        let created = settle(
            &ctx.cancel,
            &how,
            || async {
                engine
                    .run_sql(&ctx.cancel, m.source(), &sql, opts)
                    .await
                    .map(drop)
            },
            // The transaction may have committed with its answer lost. The
            // catalog tells: our table (exact planned shape) means it landed;
            // no table means it did not, so sending it again is safe.
            |_| async {
                Ok(
                    match catalog(engine, &ctx.cancel, m.source(), m.schema(), m.name()).await? {
                        Some(cat) if has_planned_shape(&m, &cat) => ReadBack::Landed(()),
                        None => ReadBack::Absent,
                        Some(_) => ReadBack::Other,
                    },
                )
            },
        )
        .await;
        match created {
            Ok(()) => {}
            Err(Unsettled::Failed(e)) => return Err(create_failed(e).into()),
            Err(Unsettled::Other(e)) => {
                return Err(Diagnostics::error(
                    "Failed to create table",
                    format!("{} Table {q} now exists but not with the planned columns, primary key and comment (was it created concurrently outside this apply?); it was left alone. Inspect it, then drop it or import it: terraform import <address> {import_id}", e.message()),
                )
                .into())
            }
            Err(Unsettled::ReadBackFailed { write: e, read_back: ce }) => {
                return Err(Diagnostics::error(
                    "Failed to create table",
                    format!("{} Checking whether the table was created anyway also failed ({}); if {q} exists, import it (terraform import <address> {import_id}) or drop it before retrying.", e.message(), ce.message()),
                )
                .into())
            }
        }
        if m.track != Some(false) {
            if let Err(e) =
                track_checked(engine, &ctx.cancel, m.source(), m.schema(), m.name()).await
            {
                // Compensate only when Hasura certainly does not track the table:
                // dropping a tracked table would leave metadata pointing at nothing.
                let (what, left_in_place) = match is_tracked(engine, &ctx.cancel, m.source(), m.schema(), m.name()).await {
                    // Tracking landed after all (its answer was lost): done.
                    Ok(true) => (String::new(), false),
                    Ok(false) => (
                        // Nothing half-applied: the table was created by this call and is empty.
                        match drop_checked(engine, &ctx.cancel, m.source(), m.schema(), m.name(), false).await {
                            Ok(()) => "The table was dropped again, so nothing was left half-applied.".to_string(),
                            Err(u) => format!("Dropping the new table again also failed ({}); drop it by hand before retrying.", u.message()),
                        },
                        false,
                    ),
                    Err(re) => (
                        format!("Whether Hasura tracks it could not be read back ({}), so the table was left in place; it is kept in the state, tainted, so the next apply replaces it.", re.message()),
                        true,
                    ),
                };
                if !what.is_empty() {
                    let diags = Diagnostics::error(
                        "Failed to track the new table in Hasura",
                        format!("{} {what}", e.message()),
                    );
                    if left_in_place {
                        let mut out = planned.clone();
                        out.set("id", Value::string(import_id.clone()));
                        return Err(LegacyApplyError {
                            state: Some(out),
                            diags,
                        });
                    }
                    return Err(diags.into());
                }
            }
        }
        let mut out = planned.clone();
        out.set(
            "id",
            Value::string(format_id(&[m.source(), m.schema(), m.name()])),
        );
        Ok(out)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine()?;
        let prior: Model = decode(state)?;
        // Refreshing many tables costs one query: the process's snapshot.
        let Some(cat) = engine
            .table_catalog(&ctx.cancel, prior.source(), prior.schema(), prior.name())
            .await
            .map_err(sql_err("Failed to read table"))?
        else {
            return Ok(None);
        };
        let export = engine
            .export(&ctx.cancel)
            .await
            .map_err(sql_err("Failed to read Hasura metadata"))?;
        let tracked = export
            .table(prior.source(), prior.schema(), prior.name())
            .is_some();
        let m = Model {
            id: Some(format_id(&[prior.source(), prior.schema(), prior.name()])),
            source: Some(prior.source().to_string()),
            schema: Some(prior.schema().to_string()),
            name: Some(prior.name().to_string()),
            columns: Some(columns_from_catalog(
                &cat,
                prior.columns.as_deref().unwrap_or_default(),
            )),
            primary_key: match (&cat.primary_key, &prior.primary_key) {
                (Some(pk), _) => Some(pk.columns.clone()),
                (None, Some(p)) if p.is_empty() => Some(vec![]),
                (None, _) => None,
            },
            comment: cat.comment.clone(),
            track: Some(tracked),
            deletion_protection: Some(prior.deletion_protection != Some(false)),
        };
        Ok(Some(encode(&m, &self.cty_type())?))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        _config: &Value,
    ) -> Result<Value, LegacyApplyError> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine().map_err(Diagnostics::from)?;
        let old: Model = decode(prior)?;
        let new: Model = decode(planned)?;
        let q = new.qualified()?;
        let cat = catalog(engine, &ctx.cancel, new.source(), new.schema(), new.name())
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
        // The plan-time check cannot see columns whose names were unknown then,
        // nor ones added out of band since: check what would really be dropped.
        if old.deletion_protection != Some(false) && new.deletion_protection != Some(false) {
            let keep: Vec<&str> = new
                .columns()
                .iter()
                .filter_map(|c| c.name.as_deref())
                .collect();
            let dropped = dropped_columns(cat.columns.iter().map(|c| c.name.as_str()), &keep);
            if !dropped.is_empty() {
                return Err(Diagnostics::attr_error(
                    AttrPath::attr("columns"),
                    "Table is protected from losing columns",
                    protected_columns_message(&old, &dropped),
                )
                .into());
            }
        }
        let stmts = alter_statements(&q, &old, &new, &cat)?;
        // Untrack before DDL that would otherwise have to carry the metadata along.
        if old.track != Some(false) && new.track == Some(false) {
            untrack_checked(engine, &ctx.cancel, new.source(), new.schema(), new.name())
                .await
                .map_err(sql_err("Failed to untrack table"))?;
        }
        if !stmts.is_empty() {
            let tracked = engine
                .export(&ctx.cancel)
                .await
                .map_err(sql_err("Failed to read Hasura metadata"))?
                .table(new.source(), new.schema(), new.name())
                .is_some();
            let sql = format!("{}\n", stmts.join(";\n")) + ";";
            let opts = SqlOptions {
                read_only: false,
                check_metadata_consistency: Some(tracked),
            };
            // The statements run in one transaction: after an ambiguous failure
            // the table is either all old or all new, which a fresh read tells.
            settle(
                &ctx.cancel,
                &table_write(new.name(), "ALTER TABLE failed ambiguously and did not land; sending it again"),
                || async { engine.run_sql(&ctx.cancel, new.source(), &sql, opts).await.map(drop) },
                |_| async {
                    let fresh = catalog(engine, &ctx.cancel, new.source(), new.schema(), new.name()).await?;
                    Ok(match fresh {
                        Some(f) if catalog_matches(&f, &new) => ReadBack::Landed(()),
                        Some(f) if catalog_matches(&f, &old) => ReadBack::Absent,
                        _ => ReadBack::Other,
                    })
                },
            )
            .await
            .map_err(|u| match u {
                Unsettled::Failed(e) => {
                    let hint = if e.code_is("dependency-error") { " Remove the column from the Hasura permissions that use it first (or in the same apply, which Terraform orders before this change when the permission references this table)." } else { "" };
                    Diagnostics::error("Failed to alter table", format!("{}{hint} No change was applied (the statements run in one transaction).", e.message()))
                }
                Unsettled::Other(e) => Diagnostics::error("Failed to alter table", format!("{} The table now matches neither its old nor its planned definition (changed by someone else meanwhile?); run terraform plan to see what it holds.", e.message())),
                u => Diagnostics::error("Failed to alter table", u.into_error("reading the table back to see whether the change landed").to_string()),
            })?;
        }
        if old.track == Some(false) && new.track != Some(false) {
            track_checked(engine, &ctx.cancel, new.source(), new.schema(), new.name())
                .await
                .map_err(sql_err("Failed to track table"))?;
        } else if new.track != Some(false) {
            // Re-track if someone untracked it out of band (state said tracked, plan wants tracked).
            let export = engine
                .export(&ctx.cancel)
                .await
                .map_err(sql_err("Failed to read Hasura metadata"))?;
            if export
                .table(new.source(), new.schema(), new.name())
                .is_none()
            {
                track_checked(engine, &ctx.cancel, new.source(), new.schema(), new.name())
                    .await
                    .map_err(sql_err("Failed to track table"))?;
            }
        }
        let mut out = planned.clone();
        out.set(
            "id",
            Value::string(format_id(&[new.source(), new.schema(), new.name()])),
        );
        Ok(out)
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), Diagnostics> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine()?;
        let m: Model = decode(state)?;
        if m.deletion_protection != Some(false) {
            return Err(Diagnostics::error(
                "Table is protected from deletion",
                format!("hasura_table {:?} has `deletion_protection = true`; set it to false and apply before destroying it.", m.id.as_deref().unwrap_or(m.name())),
            ));
        }
        m.qualified()?;
        untrack_checked(engine, &ctx.cancel, m.source(), m.schema(), m.name())
            .await
            .map_err(sql_err("Failed to untrack table"))?;
        drop_checked(engine, &ctx.cancel, m.source(), m.schema(), m.name(), true)
            .await
            .map_err(sql_err("Failed to drop table"))?;
        Ok(())
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Value, Diagnostics> {
        let (source, schema, name) = parse_table_id(id)?;
        let m = Model {
            id: Some(format_id(&[&source, &schema, &name])),
            source: Some(source),
            schema: Some(schema),
            name: Some(name),
            track: Some(true),
            deletion_protection: Some(true),
            ..Default::default()
        };
        encode(&m, &self.cty_type())
    }
}

/// `source.schema.table`, or `schema.table` in source `default`.
pub fn parse_table_id(id: &str) -> Result<(String, String, String), Diagnostics> {
    let bad = |why: String| {
        Diagnostics::error(
            "Invalid import id",
            format!("{why}. Expected `<source>.<schema>.<table>`, e.g. `default.public.users`; quote a part that contains a dot: `default.\"my.schema\".users`."),
        )
    };
    let parts = parse_id(id).map_err(bad)?;
    let (source, schema, name) = match parts.as_slice() {
        [src, sch, t] => (src.clone(), sch.clone(), t.clone()),
        [sch, t] => ("default".to_string(), sch.clone(), t.clone()),
        _ => return Err(bad(format!("{id:?} has {} parts", parts.len()))),
    };
    for p in [&source, &schema, &name] {
        check_name(p).map_err(|e| bad(format!("{p:?} {e}")))?;
    }
    Ok((source, schema, name))
}

pub async fn track(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    schema: &str,
    name: &str,
) -> Result<(), HasuraError> {
    match engine
        .command(
            cancel,
            "pg_track_table",
            json!({"source": source, "table": qualified_table(schema, name)}),
            None,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code_is("already-tracked") => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn untrack(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    schema: &str,
    name: &str,
) -> Result<(), HasuraError> {
    match engine
        .command(
            cancel,
            "pg_untrack_table",
            json!({"source": source, "table": qualified_table(schema, name), "cascade": false}),
            None,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_already_gone(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// How many times a write that failed ambiguously (see `may_have_landed`)
/// and did not land is sent again.
const AMBIGUOUS_RETRIES: u32 = 4;

/// How this resource's writes are settled; `resending` is logged before each re-send.
pub(super) fn table_write<'a>(table: &'a str, resending: &'a str) -> Settle<'a> {
    Settle {
        resending,
        landed: None,
        table: Some(table),
        resends: AMBIGUOUS_RETRIES,
        backoff: true,
    }
}

/// Whether Hasura tracks the table, from a fresh export (never the cache: the
/// question is what a write whose answer was lost did).
pub async fn is_tracked(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    schema: &str,
    name: &str,
) -> Result<bool, HasuraError> {
    engine.invalidate().await;
    Ok(engine
        .export(cancel)
        .await?
        .table(source, schema, name)
        .is_some())
}

/// `track`, settled under faults: after an ambiguous failure the metadata is
/// re-read; tracked means it landed, untracked means re-send (bounded).
pub async fn track_checked(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    schema: &str,
    name: &str,
) -> Result<(), HasuraError> {
    set_tracked(engine, cancel, source, schema, name, true).await
}

/// `untrack`, settled under faults: untracking is idempotent, so after an
/// ambiguous failure a table no longer tracked counts as done; else re-send.
pub async fn untrack_checked(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    schema: &str,
    name: &str,
) -> Result<(), HasuraError> {
    set_tracked(engine, cancel, source, schema, name, false).await
}

async fn set_tracked(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    schema: &str,
    name: &str,
    tracked: bool,
) -> Result<(), HasuraError> {
    let resending = if tracked {
        "pg_track_table failed ambiguously and did not land; sending it again"
    } else {
        "pg_untrack_table failed ambiguously and did not land; sending it again"
    };
    settle(
        cancel,
        &table_write(name, resending),
        || async move {
            if tracked {
                track(engine, cancel, source, schema, name).await
            } else {
                untrack(engine, cancel, source, schema, name).await
            }
        },
        |_| async move {
            let now = is_tracked(engine, cancel, source, schema, name).await?;
            Ok(if now == tracked {
                ReadBack::Landed(())
            } else {
                ReadBack::Absent
            })
        },
    )
    .await
    .map_err(|u| u.into_error("reading the metadata back to see whether it landed"))
}

/// Whether the live table is `m` as a read would report it: the columns (in
/// `m`'s equivalent spellings), the primary key and the comment.
fn catalog_matches(cat: &CatalogTable, m: &Model) -> bool {
    columns_from_catalog(cat, m.columns()) == m.columns()
        && cat
            .primary_key
            .as_ref()
            .map(|p| p.columns.as_slice())
            .unwrap_or_default()
            == m.pk()
        && cat.comment == m.comment
}

/// The columns of `have` that are not in `keep`: what an update would drop.
fn dropped_columns<'a>(have: impl Iterator<Item = &'a str>, keep: &[&str]) -> Vec<String> {
    have.filter(|n| !keep.contains(n))
        .map(str::to_string)
        .collect()
}

fn protected_columns_message(table: &Model, dropped: &[String]) -> String {
    format!(
        "This change would drop column(s) {} of hasura_table {:?} and the data in them (columns added outside Terraform count too), and `deletion_protection` is true. Add them to `columns` to keep them, or set `deletion_protection = false` in the same change to drop them.",
        dropped.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", "),
        table.id.as_deref().unwrap_or(table.name())
    )
}

/// `DROP TABLE IF EXISTS`, settled under faults: dropping is idempotent, so
/// after an ambiguous failure a table that is gone counts as done; else re-send.
async fn drop_checked(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    schema: &str,
    name: &str,
    check_metadata_consistency: bool,
) -> Result<(), HasuraError> {
    let q = qualified(schema, name).map_err(HasuraError::other)?;
    let sql = format!("DROP TABLE IF EXISTS {q};");
    let opts = SqlOptions {
        read_only: false,
        check_metadata_consistency: Some(check_metadata_consistency),
    };
    settle(
        cancel,
        &table_write(
            &q,
            "DROP TABLE failed ambiguously and did not land; sending it again",
        ),
        || async { engine.run_sql(cancel, source, &sql, opts).await.map(drop) },
        |_| async {
            Ok(match catalog(engine, cancel, source, schema, name).await? {
                None => ReadBack::Landed(()),
                Some(_) => ReadBack::Absent,
            })
        },
    )
    .await
    .map_err(|u| u.into_error("checking whether the table is gone"))
}

/// Whether the catalog shows exactly the table `m` plans: the same columns
/// (types and defaults as PostgreSQL resolves them), primary key and comment.
/// Used to tell our own CREATE, whose answer was lost, from anything else.
fn has_planned_shape(m: &Model, cat: &CatalogTable) -> bool {
    let cat_pk = cat
        .primary_key
        .as_ref()
        .map(|p| p.columns.as_slice())
        .unwrap_or_default();
    if cat_pk != m.pk() || cat.comment != m.comment {
        return false;
    }
    let got = columns_from_catalog(cat, m.columns());
    got.len() == m.columns().len()
        && got.iter().zip(m.columns()).all(|(g, w)| {
            // Primary-key columns are NOT NULL whatever the plan says.
            let in_pk = w.name.as_ref().is_some_and(|n| m.pk().contains(n));
            g.name == w.name
                && g.ty == w.ty
                && g.default == w.default
                && g.unique.unwrap_or(false) == w.unique.unwrap_or(false)
                && (in_pk || g.nullable.unwrap_or(true) == w.nullable.unwrap_or(true))
        })
}

/// Columns as the catalog reports them, in the prior order (new ones last),
/// keeping the prior spelling of types and defaults PostgreSQL considers equal.
fn columns_from_catalog(cat: &CatalogTable, prior: &[Column]) -> Vec<Column> {
    let by_name: BTreeMap<&str, &CatalogColumn> =
        cat.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut order: Vec<&str> = prior
        .iter()
        .filter_map(|c| c.name.as_deref())
        .filter(|n| by_name.contains_key(n))
        .collect();
    for c in &cat.columns {
        if !order.contains(&c.name.as_str()) {
            order.push(&c.name);
        }
    }
    order
        .into_iter()
        .map(|n| {
            let c = by_name[n];
            let p = prior.iter().find(|p| p.name.as_deref() == Some(n));
            let ty = match p.and_then(|p| p.ty.as_deref()) {
                Some(pt) if same_type(pt, &c.ty) => pt.to_string(),
                _ => display_type(&c.ty),
            };
            let serial = p.and_then(|p| p.ty.as_deref()).is_some_and(is_serial);
            let default = match (&c.default, p.and_then(|p| p.default.as_deref())) {
                (Some(d), None) if serial && d.starts_with("nextval(") => None,
                (Some(d), Some(pd)) if same_default(pd, d) => Some(pd.to_string()),
                (d, _) => d.clone(),
            };
            Column {
                name: Some(n.to_string()),
                ty: Some(ty),
                nullable: Some(!c.not_null),
                default,
                unique: Some(c.unique.is_some()),
            }
        })
        .collect()
}

fn alter_statements(
    q: &str,
    old: &Model,
    new: &Model,
    cat: &CatalogTable,
) -> Result<Vec<String>, Diagnostics> {
    let err = |e: String| Diagnostics::error("Invalid identifier", e);
    let mut out = Vec::new();
    let old_cols: BTreeMap<&str, &Column> = old
        .columns()
        .iter()
        .filter_map(|c| Some((c.name.as_deref()?, c)))
        .collect();
    let new_cols: BTreeMap<&str, &Column> = new
        .columns()
        .iter()
        .filter_map(|c| Some((c.name.as_deref()?, c)))
        .collect();
    let cat_cols: BTreeMap<&str, &CatalogColumn> =
        cat.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let pk_changed = old.pk() != new.pk()
        || cat
            .primary_key
            .as_ref()
            .map(|p| p.columns.as_slice())
            .unwrap_or_default()
            != new.pk();
    if pk_changed {
        if let Some(p) = &cat.primary_key {
            out.push(format!(
                "ALTER TABLE {q} DROP CONSTRAINT {}",
                quote_ident(&p.name).map_err(err)?
            ));
        }
    }
    for (n, c) in &new_cols {
        if let (Some(o), Some(cc)) = (old_cols.get(n), cat_cols.get(n)) {
            if o.unique == Some(true) && c.unique != Some(true) {
                if let Some(con) = &cc.unique {
                    out.push(format!(
                        "ALTER TABLE {q} DROP CONSTRAINT {}",
                        quote_ident(con).map_err(err)?
                    ));
                }
            }
        }
    }
    for n in old_cols.keys().filter(|n| !new_cols.contains_key(*n)) {
        if cat_cols.contains_key(n) {
            out.push(format!(
                "ALTER TABLE {q} DROP COLUMN {}",
                quote_ident(n).map_err(err)?
            ));
        }
    }
    // Columns present in the table but unknown to the prior state (added out of band) are dropped too.
    for n in cat_cols
        .keys()
        .filter(|n| !new_cols.contains_key(*n) && !old_cols.contains_key(*n))
    {
        out.push(format!(
            "ALTER TABLE {q} DROP COLUMN {}",
            quote_ident(n).map_err(err)?
        ));
    }
    for c in new.columns() {
        let n = c.name.as_deref().unwrap_or_default();
        let qc = quote_ident(n).map_err(err)?;
        let in_pk = new.pk().iter().any(|k| k == n);
        let Some(o) = old_cols.get(n).filter(|_| cat_cols.contains_key(n)) else {
            out.push(format!(
                "ALTER TABLE {q} ADD COLUMN {}",
                column_def(c, in_pk)?
            ));
            continue;
        };
        let ty = c.ty.as_deref().unwrap_or_default();
        if o.ty.as_deref() != Some(ty) {
            out.push(format!(
                "ALTER TABLE {q} ALTER COLUMN {qc} TYPE {ty} USING {qc}::{ty}"
            ));
        }
        if o.default != c.default {
            match &c.default {
                Some(d) => out.push(format!("ALTER TABLE {q} ALTER COLUMN {qc} SET DEFAULT {d}")),
                None => out.push(format!("ALTER TABLE {q} ALTER COLUMN {qc} DROP DEFAULT")),
            }
        }
        if o.nullable != c.nullable && !in_pk {
            let verb = if c.nullable == Some(false) {
                "SET"
            } else {
                "DROP"
            };
            out.push(format!("ALTER TABLE {q} ALTER COLUMN {qc} {verb} NOT NULL"));
        }
        if o.unique != Some(true) && c.unique == Some(true) {
            out.push(format!("ALTER TABLE {q} ADD UNIQUE ({qc})"));
        }
    }
    if pk_changed && !new.pk().is_empty() {
        out.push(format!("ALTER TABLE {q} ADD {}", pk_clause(new.pk())?));
    }
    if old.comment != new.comment {
        let lit = match &new.comment {
            Some(c) => quote_literal(c).map_err(|e| {
                Diagnostics::attr_error(AttrPath::attr("comment"), "Invalid comment", e)
            })?,
            None => "NULL".into(),
        };
        out.push(format!("COMMENT ON TABLE {q} IS {lit}"));
    }
    Ok(out)
}

/// Where config spells a type or default differently from state but
/// PostgreSQL resolves both to the same thing, plan the prior spelling (no
/// diff). New or changed columns are resolved by PostgreSQL itself, which
/// also rejects unknown types and bad defaults before anything is applied.
async fn keep_equivalent_spellings(
    ctx: &Ctx,
    prior: &Option<Model>,
    planned: &mut Value,
    diags: &mut Diagnostics,
) {
    let Some(Value::List(cols)) = planned.as_object_mut().and_then(|m| m.get_mut("columns")) else {
        return;
    };
    let prior_cols = prior
        .as_ref()
        .map(|p| p.columns().to_vec())
        .unwrap_or_default();
    // (index, planned type, planned default, prior type/default at that index if same column)
    let mut probe: Vec<(usize, String, Option<String>, Option<Column>)> = Vec::new();
    for (i, c) in cols.iter_mut().enumerate() {
        let (Some(n), Some(t)) = (
            c.get("name").as_str().map(str::to_string),
            c.get("type").as_str().map(str::to_string),
        ) else {
            continue;
        };
        let (n, t) = (n.as_str(), t.as_str());
        let d = c.get("default");
        if d.is_unknown() {
            continue;
        }
        let d = d.as_str().map(str::to_string);
        let p = prior_cols
            .get(i)
            .filter(|p| p.name.as_deref() == Some(n))
            .cloned();
        let mut type_done = false;
        let mut default_done = false;
        if let Some(p) = &p {
            if let Some(pt) = &p.ty {
                if pt == t || same_type(pt, t) {
                    c.set("type", Value::string(pt.clone()));
                    type_done = true;
                }
            }
            match (&p.default, &d) {
                (None, None) => default_done = true,
                (Some(pd), Some(cd)) if pd == cd || same_default(cd, pd) => {
                    c.set("default", Value::string(pd.clone()));
                    default_done = true;
                }
                _ => {}
            }
        }
        if !(type_done && default_done) {
            probe.push((i, t.to_string(), d, p));
        }
    }
    if probe.is_empty() {
        return;
    }
    let Ok(client) = ctx.client::<HasuraClient>() else {
        return;
    };
    let Ok(engine) = client.engine() else { return };
    let source = planned
        .get("source")
        .as_str()
        .unwrap_or("default")
        .to_string();
    let mut defs = Vec::new();
    for (i, t, d, p) in &probe {
        defs.push(probe_def(&format!("c{i}"), t, d.as_deref()));
        if let Some(p) = p {
            defs.push(probe_def(
                &format!("p{i}"),
                p.ty.as_deref().unwrap_or("text"),
                p.default.as_deref(),
            ));
        }
    }
    let resolved = match resolve(engine, &ctx.cancel, &source, &defs).await {
        Ok(r) => r,
        Err(e) if e.status_is(400) => {
            // Find which column PostgreSQL rejects, to point at it.
            for (i, t, d, _) in &probe {
                if let Err(e) = resolve(
                    engine,
                    &ctx.cancel,
                    &source,
                    &[probe_def("c", t, d.as_deref())],
                )
                .await
                {
                    let attr = if d.is_some()
                        && resolve(engine, &ctx.cancel, &source, &[probe_def("c", t, None)])
                            .await
                            .is_ok()
                    {
                        "default"
                    } else {
                        "type"
                    };
                    diags.add_attr_error(
                        AttrPath::attr("columns").index(*i).child(attr),
                        format!("PostgreSQL rejects this column {attr}"),
                        format!("`columns[{i}].{attr}` is not valid: {}", e.message()),
                    );
                }
            }
            return;
        }
        // Unreachable engine at plan time: the offline comparison stands.
        Err(_) => return,
    };
    let Some(Value::List(cols)) = planned.as_object_mut().and_then(|m| m.get_mut("columns")) else {
        return;
    };
    for (i, _, _, p) in &probe {
        let Some(p) = p else { continue };
        let (Some(c), Some(pp)) = (
            resolved.get(&format!("c{i}")),
            resolved.get(&format!("p{i}")),
        ) else {
            continue;
        };
        let col = &mut cols[*i];
        if c.0 == pp.0 {
            if let Some(pt) = &p.ty {
                col.set("type", Value::string(pt.clone()));
            }
        }
        if c.1 == pp.1 {
            col.set(
                "default",
                p.default.clone().map(Value::string).unwrap_or(Value::Null),
            );
        }
    }
}

fn probe_def(name: &str, ty: &str, default: Option<&str>) -> String {
    // A serial column would create a sequence; its canonical type is enough here.
    let (ty, default) = if is_serial(ty) {
        (super::types::canonical_type(ty), None)
    } else {
        (ty.to_string(), default)
    };
    match default {
        Some(d) => format!("\"{name}\" {ty} DEFAULT {d}"),
        None => format!("\"{name}\" {ty}"),
    }
}

/// Lets PostgreSQL resolve types and defaults in a temporary table that is
/// dropped at commit; returns column -> (format_type, pg_get_expr).
async fn resolve(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    defs: &[String],
) -> Result<BTreeMap<String, (String, Option<String>)>, HasuraError> {
    let sql = format!(
        "CREATE TEMP TABLE \"tf_hasura_probe\" ({}) ON COMMIT DROP;
         SELECT COALESCE(json_agg(json_build_object('n', a.attname, 't', format_type(a.atttypid, a.atttypmod), 'd', pg_get_expr(d.adbin, d.adrelid)) ORDER BY a.attnum), '[]'::json) \
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = 'pg_temp.tf_hasura_probe'::regclass AND a.attnum > 0 AND NOT a.attisdropped",
        defs.join(", ")
    );
    let rows = engine.run_sql_temporary(cancel, source, &sql).await?;
    let cell = rows
        .get(1)
        .and_then(|r| r.first())
        .cloned()
        .unwrap_or_else(|| "[]".into());
    let v: serde_json::Value = serde_json::from_str(&cell)
        .map_err(|e| HasuraError::other(format!("unexpected probe answer: {e}")))?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    Some((
                        x.get("n")?.as_str()?.to_string(),
                        (
                            x.get("t")?.as_str()?.to_string(),
                            x.get("d").and_then(|d| d.as_str()).map(str::to_string),
                        ),
                    ))
                })
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hasura::client::catalog::CatalogPk;

    fn col(n: &str, t: &str) -> Column {
        Column {
            name: Some(n.into()),
            ty: Some(t.into()),
            nullable: Some(true),
            default: None,
            unique: Some(false),
        }
    }

    /// After an ALTER whose answer was lost, a fresh read tells whether it
    /// landed (the table is the new model), did not (still the old one), or
    /// something else happened; PostgreSQL's spellings count as the model's.
    #[test]
    fn an_ambiguous_alter_is_settled_by_comparing_the_catalog() {
        let cat_col = |n: &str, t: &str, not_null: bool| CatalogColumn {
            name: n.into(),
            ty: t.into(),
            not_null,
            default: None,
            unique: None,
        };
        let pk = Some(CatalogPk {
            name: "t_pkey".into(),
            columns: vec!["id".into()],
        });
        let model = |cols: Vec<Column>| Model {
            name: Some("t".into()),
            columns: Some(cols),
            primary_key: Some(vec!["id".into()]),
            ..Model::default()
        };
        let id = Column {
            nullable: Some(false),
            ..col("id", "int")
        };
        let old = model(vec![id.clone(), col("name", "text")]);
        let new = model(vec![id, col("name", "text"), col("age", "int")]);
        let before = CatalogTable {
            comment: None,
            columns: vec![
                cat_col("id", "integer", true),
                cat_col("name", "text", false),
            ],
            primary_key: pk.clone(),
        };
        let mut after = before.clone();
        after.columns.push(cat_col("age", "integer", false));
        let mut elsewhere = after.clone();
        elsewhere.columns[2].ty = "text".into();

        assert!(catalog_matches(&before, &old) && !catalog_matches(&before, &new));
        assert!(catalog_matches(&after, &new) && !catalog_matches(&after, &old));
        assert!(!catalog_matches(&elsewhere, &new) && !catalog_matches(&elsewhere, &old));
        let mut commented = after.clone();
        commented.comment = Some("x".into());
        assert!(!catalog_matches(&commented, &new));
        let mut no_pk = after;
        no_pk.primary_key = None;
        assert!(!catalog_matches(&no_pk, &new));
    }

    #[test]
    fn types_are_checked() {
        assert!(check_type("varchar(20)").is_ok());
        assert!(check_type("timestamp with time zone").is_ok());
        assert!(check_type("integer[]").is_ok());
        assert!(check_type("text; drop table x").is_err());
        assert!(check_type("text\"").is_err());
        assert!(check_type("numeric(1").is_err());
        assert!(check_type("text -- x").is_err());
    }

    #[test]
    fn catalog_keeps_prior_spelling_and_order() {
        let cat = CatalogTable {
            comment: None,
            columns: vec![
                CatalogColumn {
                    name: "id".into(),
                    ty: "integer".into(),
                    not_null: true,
                    default: Some("nextval('t_id_seq'::regclass)".into()),
                    unique: None,
                },
                CatalogColumn {
                    name: "seen".into(),
                    ty: "timestamp without time zone".into(),
                    not_null: false,
                    default: Some("now()".into()),
                    unique: None,
                },
                CatalogColumn {
                    name: "tag".into(),
                    ty: "text".into(),
                    not_null: false,
                    default: Some("'x'::text".into()),
                    unique: Some("t_tag_key".into()),
                },
                CatalogColumn {
                    name: "extra".into(),
                    ty: "character varying(3)".into(),
                    not_null: false,
                    default: None,
                    unique: None,
                },
            ],
            primary_key: None,
        };
        let mut tag = col("tag", "text");
        tag.default = Some("'x'".into());
        let prior = vec![tag, col("id", "serial"), col("seen", "timestamp")];
        let cols = columns_from_catalog(&cat, &prior);
        let names: Vec<_> = cols.iter().map(|c| c.name.clone().unwrap()).collect();
        assert_eq!(names, ["tag", "id", "seen", "extra"]);
        assert_eq!(cols[0].default.as_deref(), Some("'x'"));
        assert_eq!(cols[0].unique, Some(true));
        assert_eq!(cols[1].ty.as_deref(), Some("serial"));
        assert_eq!(cols[1].default, None);
        assert_eq!(cols[1].nullable, Some(false));
        assert_eq!(cols[2].ty.as_deref(), Some("timestamp"));
        assert_eq!(cols[2].default.as_deref(), Some("now()"));
        assert_eq!(cols[3].ty.as_deref(), Some("varchar(3)"));
    }

    #[test]
    fn alter_plan() {
        let cat = CatalogTable {
            comment: None,
            columns: vec![
                CatalogColumn {
                    name: "id".into(),
                    ty: "text".into(),
                    not_null: true,
                    default: None,
                    unique: None,
                },
                CatalogColumn {
                    name: "old".into(),
                    ty: "text".into(),
                    not_null: false,
                    default: None,
                    unique: None,
                },
                CatalogColumn {
                    name: "sneaky".into(),
                    ty: "text".into(),
                    not_null: false,
                    default: None,
                    unique: None,
                },
            ],
            primary_key: Some(CatalogPk {
                name: "t_pkey".into(),
                columns: vec!["id".into()],
            }),
        };
        let old = Model {
            columns: Some(vec![col("id", "text"), col("old", "text")]),
            primary_key: Some(vec!["id".into()]),
            ..Default::default()
        };
        let mut n = col("n", "int");
        n.default = Some("0".into());
        n.nullable = Some(false);
        let new = Model {
            columns: Some(vec![col("id", "text"), n]),
            primary_key: Some(vec!["id".into()]),
            comment: Some("it's".into()),
            ..Default::default()
        };
        let s = alter_statements("\"public\".\"t\"", &old, &new, &cat).unwrap();
        assert_eq!(
            s,
            [
                "ALTER TABLE \"public\".\"t\" DROP COLUMN \"old\"",
                "ALTER TABLE \"public\".\"t\" DROP COLUMN \"sneaky\"",
                "ALTER TABLE \"public\".\"t\" ADD COLUMN \"n\" int NOT NULL DEFAULT 0",
                "COMMENT ON TABLE \"public\".\"t\" IS 'it''s'",
            ]
        );
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
