//! Plan-time checks that the tables and columns a relationship joins exist once the
//! plan is applied (Hasura would refuse the relationship at apply time otherwise), and
//! the registry of relationships planned by this process, which the permission check
//! uses to follow a relationship declared in the same configuration.
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use crate::framework::{AttrPath, Ctx, Diagnostics};

use super::super::client::catalog::ColumnsAfterPlan;
use super::super::client::{HasuraClient, TableRef};
use super::using::Using;
use super::Model;

type Key = (String, String, String, String);
/// A table as (schema, name).
type Target = (String, String);

/// Relationships planned by this process: (source, schema, table, name) -> the table it
/// leads to, when its definition names one. Only ever consulted to accept a name the
/// export does not show yet, so a stale entry can hide an error but never invent one.
static PLANNED: LazyLock<Mutex<HashMap<Key, Option<Target>>>> = LazyLock::new(Default::default);

pub(super) fn record(m: &Model) {
    let parts = [&m.source, &m.schema, &m.table, &m.name].map(|v| v.as_deref());
    let [Some(src), Some(sch), Some(tbl), Some(name)] = parts else {
        return;
    };
    let target = m
        .using()
        .and_then(|u| u.remote().map(|t| (t.schema.clone(), t.name.clone())));
    PLANNED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert((src.into(), sch.into(), tbl.into(), name.into()), target);
}

/// A relationship a `hasura_relationship` of this process planned on the table:
/// `Some(target)`, the target `None` when it is not known from the definition alone.
pub(crate) fn planned_relationship_target(
    source: &str,
    schema: &str,
    table: &str,
    name: &str,
) -> Option<Option<(String, String)>> {
    PLANNED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&(source.into(), schema.into(), table.into(), name.into()))
        .cloned()
}

/// What a table will have once the plan is applied.
enum Lookup {
    Columns(Vec<String>),
    /// Destroyed by this plan, or not in the database at all.
    Missing(&'static str),
    /// Cannot tell: the check steps aside.
    Unknown,
}

async fn lookup(ctx: &Ctx, (source, schema, name): (&str, &str, &str)) -> Lookup {
    let Ok(client) = ctx.client::<HasuraClient>() else {
        return Lookup::Unknown;
    };
    let Ok(engine) = client.engine() else {
        return Lookup::Unknown;
    };
    let t = TableRef::new(source, schema, name);
    match engine.columns_after_plan(&ctx.cancel, t).await {
        ColumnsAfterPlan::Planned(c) | ColumnsAfterPlan::Existing(c) => Lookup::Columns(c),
        ColumnsAfterPlan::Dropped => Lookup::Missing("is dropped by this plan"),
        ColumnsAfterPlan::Absent => Lookup::Missing("does not exist"),
        ColumnsAfterPlan::Unknown => Lookup::Unknown,
    }
}

/// Checks `cols` against what `table` will have (and, for the remote table, that it
/// exists at all).
async fn check(
    ctx: &Ctx,
    diags: &mut Diagnostics,
    table: (&str, &str, &str),
    is_remote: bool,
    cols: &[(AttrPath, String)],
    table_path: AttrPath,
) {
    let (_, sch, tbl) = table;
    match lookup(ctx, table).await {
        Lookup::Columns(have) => {
            for (path, c) in cols {
                if !have.contains(c) {
                    diags.add_attr_error(
                        path.clone(),
                        "Unknown column",
                        format!(
                            "{c:?} is not a column of {sch}.{tbl} once this plan is applied (its columns: {}).",
                            have.join(", ")
                        ),
                    );
                }
            }
        }
        Lookup::Missing(why) if is_remote => diags.add_attr_error(
            table_path,
            "Unknown remote table",
            format!("The remote table {sch}.{tbl} {why}; a relationship can only lead to a tracked table."),
        ),
        _ => {}
    }
}

pub(super) async fn check_tables(ctx: &Ctx, m: &Model, diags: &mut Diagnostics) {
    let (Some(src), Some(sch), Some(tbl)) =
        (m.source.as_deref(), m.schema.as_deref(), m.table.as_deref())
    else {
        return;
    };
    let Some(using) = m.using() else { return };
    // Each column with the attribute (element) an error about it points at.
    let fk_cols = |cols: &[String]| -> Vec<(AttrPath, String)> {
        let fk = AttrPath::attr("foreign_key_constraint_on");
        let at = |(i, c): (usize, &String)| (fk.index(i), c.clone());
        cols.iter().enumerate().map(at).collect()
    };
    let manual_cols = |cols: Vec<&String>| -> Vec<(AttrPath, String)> {
        let manual = AttrPath::attr("manual_configuration");
        cols.into_iter()
            .map(|c| (manual.clone(), c.clone()))
            .collect()
    };
    let (here, here_path) = ((src, sch, tbl), AttrPath::attr("table"));
    let remote_path = AttrPath::attr("remote_table");
    match &using {
        Using::SameTable(cols) => check(ctx, diags, here, false, &fk_cols(cols), here_path).await,
        Using::RemoteTable(t, cols) => {
            let remote = (src, t.schema.as_str(), t.name.as_str());
            check(ctx, diags, remote, true, &fk_cols(cols), remote_path).await;
        }
        Using::Manual(t, mapping) => {
            let local = manual_cols(mapping.keys().collect());
            check(ctx, diags, here, false, &local, here_path).await;
            let remote = (src, t.schema.as_str(), t.name.as_str());
            let remote_cols = manual_cols(mapping.values().collect());
            check(ctx, diags, remote, true, &remote_cols, remote_path).await;
        }
    }
}
