//! The plan-time check that every column a permission names exists in its
//! table once the plan is applied: unknown columns would make Hasura reject
//! the permission at apply time.
use crate::framework::{AttrPath, Ctx, Diagnostics};

use super::super::client::catalog::ColumnsAfterPlan;
use super::super::client::{HasuraClient, TableRef};
use super::{known_names, Names};

/// Checks the configured `columns` of a permission on `sch.tbl` of source
/// `src`. Steps aside when it cannot know: a column name not known yet, no
/// engine configured, or a table that does not exist yet.
pub(super) async fn check_columns(
    ctx: &Ctx,
    (src, sch, tbl): (&str, &str, &str),
    configured: &Names,
    diags: &mut Diagnostics,
) {
    let Some(cols) = known_names(configured) else {
        return;
    };
    let names: Vec<(usize, &String)> = cols.iter().enumerate().filter(|(_, c)| *c != "*").collect();
    if names.is_empty() {
        return;
    }
    let Ok(client) = ctx.client::<HasuraClient>() else {
        return;
    };
    let Ok(engine) = client.engine() else { return };
    // A table planned earlier in this process is what it will be when this
    // permission is applied: a column the plan adds does not exist yet, one it
    // drops still does. Otherwise the catalog (one snapshot shared by every
    // permission of this plan) is the truth; a table that does not exist yet,
    // or columns not known yet, leave Hasura the last word at apply.
    let listed = |columns: &[String]| columns.join(", ");
    let t = TableRef::new(src, sch, tbl);
    let (columns, has) = match engine.columns_after_plan(&ctx.cancel, t).await {
        ColumnsAfterPlan::Planned(columns) => {
            let has = format!("will have no such column once this plan is applied (its planned columns: {})", listed(&columns));
            (columns, has)
        }
        ColumnsAfterPlan::Dropped => (
            Vec::new(),
            "is dropped by this plan (its hasura_table is destroyed, or replaced under another name)".to_string(),
        ),
        ColumnsAfterPlan::Existing(columns) => {
            let has = format!("has no such column (it has: {})", listed(&columns));
            (columns, has)
        }
        ColumnsAfterPlan::Absent | ColumnsAfterPlan::Unknown => return,
    };
    for (i, c) in names {
        if !columns.contains(c) {
            diags.add_attr_error(
                AttrPath::attr("columns").index(i),
                "Unknown column",
                format!("`columns[{i}]` is {c:?}, but table {sch}.{tbl} {has}."),
            );
        }
    }
}

/// Checks the configured `computed_fields` of a select permission: each must be a
/// computed field of the table once the plan is applied (one this process plans,
/// e.g. a referenced `hasura_computed_field`, or one the project has). Steps aside
/// when it cannot know (names not known yet, no engine, table not tracked yet).
pub(super) async fn check_computed_fields(
    ctx: &Ctx,
    table: (&str, &str, &str),
    configured: &Names,
    diags: &mut Diagnostics,
) {
    let Some(names) = known_names(configured) else {
        return;
    };
    let Ok(client) = ctx.client::<HasuraClient>() else {
        return;
    };
    let Ok(engine) = client.engine() else { return };
    for (i, name) in names.iter().enumerate() {
        let exists = crate::hasura::computed_field::planned_exists(engine, ctx, table, name).await;
        if exists == Some(false) {
            let (_, sch, tbl) = table;
            diags.add_attr_error(
                AttrPath::attr("computed_fields").index(i),
                "Unknown computed field",
                format!("`computed_fields[{i}]` is {name:?}, but table {sch}.{tbl} has no such computed field once this plan is applied. Add it with a `hasura_computed_field` and refer to its `name` (e.g. `hasura_computed_field.{name}.name`), so that it is planned first."),
            );
        }
    }
}

/// The plan-time column check against the catalog, with the `run_sql` calls
/// it costs counted by the Hasura emulator. Tables are planned through the
/// provider's registered `hasura_table`, as the server would.
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures::future::join_all;
    use serde::Serialize;
    use tokio_util::sync::CancellationToken;

    use super::super::Model;
    use super::super::PermissionResource;
    use crate::framework::model::to_cty;
    use crate::framework::{DynResource, Plan, Provider, Resource, Unknown, Value};
    use crate::hasura::client::catalog::emulated::Emulated;
    use crate::hasura::HasuraProvider;

    use super::*;

    /// An emulated engine holding the tables `sql` creates, and a context
    /// whose client talks to it.
    async fn start(sql: &str) -> (Emulated, Ctx) {
        let env = Emulated::start().await;
        env.out_of_band(sql).await;
        let client = HasuraClient::new(
            Ok(env.engine()),
            Err(crate::hasura::client::Missing::CloudAccessToken),
        );
        let ctx = Ctx::new(CancellationToken::new(), Some(Arc::new(client)));
        (env, ctx)
    }

    fn table_resource() -> Arc<dyn DynResource> {
        HasuraProvider
            .resources()
            .into_iter()
            .find(|r| r.type_name() == "hasura_table")
            .expect("hasura_table is registered")
    }

    /// A `hasura_table` state or plan; names may be unknown.
    #[derive(Serialize)]
    struct Table {
        id: String,
        source: &'static str,
        schema: &'static str,
        name: Value<String>,
        columns: Vec<Column>,
        primary_key: Vec<&'static str>,
        track: bool,
        deletion_protection: bool,
    }

    #[derive(Serialize)]
    struct Column {
        name: Value<String>,
        r#type: &'static str,
        nullable: bool,
        unique: bool,
    }

    fn table_state(name: &str, columns: &[&str]) -> Table {
        Table {
            id: format!("default.public.{name}"),
            source: "default",
            schema: "public",
            name: name.into(),
            columns: columns
                .iter()
                .map(|c| Column {
                    name: (*c).into(),
                    r#type: "text",
                    nullable: *c != "id",
                    unique: false,
                })
                .collect(),
            primary_key: vec!["id"],
            track: true,
            deletion_protection: false,
        }
    }

    /// The errors planning a select permission on `table` for `columns` reports.
    async fn plan(ctx: &Ctx, table: &str, role: &str, columns: &[&str]) -> Vec<String> {
        let diags = plan_diags(ctx, table, role, columns).await;
        diags.0.into_iter().map(|d| d.summary).collect()
    }

    /// The details of the errors `plan` reports.
    async fn plan_details(ctx: &Ctx, table: &str, columns: &[&str]) -> Vec<String> {
        let diags = plan_diags(ctx, table, "r", columns).await;
        diags.0.into_iter().map(|d| d.detail).collect()
    }

    async fn plan_diags(ctx: &Ctx, table: &str, role: &str, columns: &[&str]) -> Diagnostics {
        let config = Model {
            source: "default".into(),
            schema: "public".into(),
            table: table.into(),
            role: role.into(),
            action: "select".into(),
            columns: super::super::names(columns.iter().copied()),
            filter: "{}".into(),
            ..Model::default()
        };
        let mut planned = config.clone();
        let mut diags = Diagnostics::new();
        PermissionResource
            .modify_plan(
                ctx,
                Plan {
                    prior: None,
                    config: &config,
                    planned: &mut planned,
                    requires_replace: &mut Vec::new(),
                    diags: &mut diags,
                },
            )
            .await;
        diags
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refreshing_and_planning_many_resources_costs_one_run_sql() {
        const TABLES: usize = 5;
        const ROLES: usize = 20;
        let sql: Vec<String> = (0..TABLES)
            .map(|t| format!("CREATE TABLE public.t{t} (id text PRIMARY KEY, name text)"))
            .collect();
        let (env, ctx) = start(&sql.join(";\n")).await;
        let tables = table_resource();
        env.emu.control.reset_counters();
        // Concurrently, as Terraform walks the graph.
        let reads = join_all((0..TABLES).map(|t| {
            let state = table_state(&format!("t{t}"), &["id", "name"]);
            let (ctx, tables) = (&ctx, &tables);
            async move {
                let state = to_cty(&state, tables.cty_type()).unwrap();
                tables.read(ctx, &state).await
            }
        }))
        .await;
        for r in reads {
            assert!(r.unwrap().is_some());
        }
        let plans = join_all((0..TABLES).flat_map(|t| {
            let ctx = &ctx;
            (0..ROLES).map(move |r| async move {
                plan(ctx, &format!("t{t}"), &format!("r{r}"), &["id", "name"]).await
            })
        }))
        .await;
        assert!(plans.iter().all(Vec::is_empty), "{plans:?}");
        assert_eq!(
            plan(&ctx, "t0", "bad", &["id", "nope"]).await,
            ["Unknown column"]
        );
        assert_eq!(
            env.run_sql_calls(),
            1,
            "{TABLES} table reads and {} permission plans: {}",
            TABLES * ROLES + 1,
            env.emu.control.counters()
        );
        env.stop().await;
    }

    /// Plans `table` as the server would: from `prior` (a state) to
    /// `planned` (`None`: destroyed).
    async fn plan_table(ctx: &Ctx, prior: Option<&Table>, planned: Option<Table>) -> Vec<String> {
        let tables = table_resource();
        let ty = tables.cty_type();
        let prior = prior.map(|p| to_cty(p, ty).unwrap());
        let mut diags = Diagnostics::new();
        match planned {
            Some(planned) => {
                let config = to_cty(&planned, ty).unwrap();
                let mut planned = config.clone();
                let plan = Plan {
                    prior: prior.as_ref(),
                    config: &config,
                    planned: &mut planned,
                    requires_replace: &mut Vec::new(),
                    diags: &mut diags,
                };
                tables.modify_plan(ctx, plan).await
            }
            None => {
                let prior = prior.expect("a destroyed table has a state");
                tables.plan_destroy(ctx, &prior, &mut diags).await
            }
        }
        diags.0.into_iter().map(|d| d.summary).collect()
    }

    /// One apply that adds a column and grants it: the table is planned
    /// first, by the same process, and its plan is what the check trusts.
    #[tokio::test]
    async fn the_check_trusts_the_tables_plan_made_by_this_process() {
        let (env, ctx) = start(
            "CREATE TABLE public.t (id text PRIMARY KEY, name text, old text);
             CREATE TABLE public.gone (id text PRIMARY KEY);
             CREATE TABLE public.renamed (id text PRIMARY KEY)",
        )
        .await;
        let state = table_state("t", &["id", "name", "old"]);
        let errors = plan_table(
            &ctx,
            Some(&state),
            Some(table_state("t", &["id", "name", "nickname"])),
        )
        .await;
        assert!(errors.is_empty(), "{errors:?}");
        assert!(plan(&ctx, "t", "r", &["id", "nickname"]).await.is_empty());
        // Typos are still caught, and so is a column the plan drops.
        assert_eq!(plan(&ctx, "t", "r", &["nikname"]).await, ["Unknown column"]);
        assert_eq!(
            plan_details(&ctx, "t", &["id", "old"]).await,
            ["`columns[1]` is \"old\", but table public.t will have no such column once this plan is applied (its planned columns: id, name, nickname)."]
        );

        // Destroyed, or replaced under another name: no column survives.
        let gone = table_state("gone", &["id"]);
        plan_table(&ctx, Some(&gone), None).await;
        assert_eq!(plan(&ctx, "gone", "r", &["id"]).await, ["Unknown column"]);
        let renamed = table_state("renamed", &["id"]);
        plan_table(
            &ctx,
            Some(&renamed),
            Some(table_state("fresh", &["id", "x"])),
        )
        .await;
        assert!(plan_details(&ctx, "renamed", &["id"]).await[0].contains("is dropped by this plan"));
        assert!(plan(&ctx, "fresh", "r", &["x"]).await.is_empty());
        assert_eq!(plan(&ctx, "fresh", "r", &["y"]).await, ["Unknown column"]);
        env.stop().await;
    }

    /// A planned column name not known before apply: the check steps aside
    /// rather than guess; Hasura's own error still names the attribute.
    #[tokio::test]
    async fn unknown_planned_columns_skip_the_check() {
        let (env, ctx) = start("CREATE TABLE public.t (id text PRIMARY KEY)").await;
        let state = table_state("t", &["id"]);
        let mut planned = table_state("t", &["id", "later"]);
        planned.columns[1].name = Unknown;
        plan_table(&ctx, Some(&state), Some(planned)).await;
        assert!(plan(&ctx, "t", "r", &["id", "anything"]).await.is_empty());

        // A table whose new name is not known yet may be replaced: its old
        // name is not checked either.
        env.out_of_band("CREATE TABLE public.u (id text PRIMARY KEY)")
            .await;
        let mut planned = table_state("u", &["id"]);
        planned.name = Unknown;
        plan_table(&ctx, Some(&table_state("u", &["id"])), Some(planned)).await;
        assert!(plan(&ctx, "u", "r", &["anything"]).await.is_empty());

        // A table no plan of this process concerns: the catalog decides.
        env.out_of_band("CREATE TABLE public.v (id text PRIMARY KEY)")
            .await;
        assert_eq!(plan(&ctx, "v", "r", &["nope"]).await, ["Unknown column"]);
        env.stop().await;
    }

    /// Terraform re-plans a permission in the apply walk right after its
    /// table was altered, by the same provider process.
    #[tokio::test]
    async fn a_column_added_by_this_process_is_known_to_the_next_plan() {
        let (env, ctx) = start("CREATE TABLE public.t (id text PRIMARY KEY, name text)").await;
        assert!(plan(&ctx, "t", "r", &["id", "name"]).await.is_empty());
        assert_eq!(
            plan(&ctx, "t", "r", &["id", "extra"]).await,
            ["Unknown column"]
        );
        let tables = table_resource();
        let ty = tables.cty_type();
        let prior = to_cty(&table_state("t", &["id", "name"]), ty).unwrap();
        let planned = to_cty(&table_state("t", &["id", "name", "extra"]), ty).unwrap();
        tables.update(&ctx, &prior, &planned).await.unwrap();
        assert!(
            plan(&ctx, "t", "r", &["id", "extra"]).await.is_empty(),
            "the plan used a catalog from before the ALTER"
        );
        let before = env.run_sql_calls();
        assert!(plan(&ctx, "t", "r2", &["extra"]).await.is_empty());
        assert_eq!(env.run_sql_calls(), before, "one snapshot after the ALTER");
        env.stop().await;
    }
}
