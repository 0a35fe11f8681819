//! Plan-time logic of `hasura_table`: deletion protection, what the
//! permissions planned later learn of its columns, and keeping the prior
//! spelling of types and defaults PostgreSQL resolves to the same thing.
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::framework::Value::Known;
use crate::framework::{AttrPath, Ctx, Diagnostics};

use super::super::client::catalog::{CatalogTable, PlannedColumns};
use super::super::client::{Engine, HasuraError};
use super::super::types::{canonical_type, is_serial, same_default, same_type};
use super::tracking::TableRef;
use super::{engine, Column, Model};

/// Tells the `hasura_permission`s planned after this table, by this process,
/// which columns it will have once applied: until then the catalog cannot
/// know a column this plan adds, and still shows one it drops. `planned` is
/// `None` when the table is destroyed.
pub(super) fn record_planned_columns(ctx: &Ctx, prior: Option<&Model>, planned: Option<&Model>) {
    let Ok(engine) = &engine(ctx) else { return };
    let record = |t: TableRef<'_>, columns| engine.record_planned_columns(t, columns);
    let prior = prior.map(Model::table);
    let Some(planned) = planned else {
        if let Some(old) = prior {
            record(old, PlannedColumns::Dropped);
        }
        return;
    };
    // Only the names matter to a permission: a type or default still unknown does not.
    let columns = planned
        .columns
        .known()
        .and_then(|cols| {
            cols.iter()
                .map(|c| c.name.known().cloned())
                .collect::<Option<BTreeSet<_>>>()
        })
        .map_or(PlannedColumns::Unknown, PlannedColumns::Known);
    match (
        planned.source.as_deref(),
        planned.schema.as_deref(),
        planned.name.as_deref(),
    ) {
        (Some(source), Some(schema), Some(name)) => {
            let t = TableRef::new(source, schema, name);
            record(t, columns);
            // Replaced under another name: the old table is dropped.
            if let Some(old) = prior.filter(|old| *old != t) {
                record(old, PlannedColumns::Dropped);
            }
        }
        // Possibly replaced, possibly kept: not known before apply.
        _ => {
            if let Some(old) = prior {
                record(old, PlannedColumns::Unknown);
            }
        }
    }
}

/// Destroying a protected table is refused at plan time.
pub(super) fn check_destroy(prior: &Model, diags: &mut Diagnostics) {
    if prior.protected() {
        diags.add_error(
            "Table is protected from deletion",
            format!("Destroying hasura_table {:?} would drop the table and all its rows, and `deletion_protection` is true. To drop it, set `deletion_protection = false`, apply, then destroy.", prior.label()),
        );
    }
}

/// Deletion protection on an update: replacing a protected table is an
/// error (`false`: planning stops), dropping its columns a warning.
pub(super) fn check_update(prior: &Model, planned: &Model, diags: &mut Diagnostics) -> bool {
    let moved = [
        (&planned.source, prior.table().source),
        (&planned.schema, prior.table().schema),
        (&planned.name, prior.table().name),
    ]
    .iter()
    .any(|(new, old)| new.as_deref().is_none_or(|new| new != *old));
    if moved && prior.protected() {
        diags.add_error(
            "Table is protected from replacement",
            format!("Changing `source`, `schema` or `name` replaces hasura_table {:?}: the old table and its rows would be dropped, and `deletion_protection` is true. Set `deletion_protection = false` and apply first if that is intended.", prior.label()),
        );
        return false;
    }
    // Turning protection off in the same change is the explicit opt-in.
    let protected = prior.protected() && planned.deletion_protection != Known(false);
    let Some(cols) = planned.columns.known().filter(|_| protected) else {
        return true;
    };
    if cols.iter().all(Column::is_wholly_known) {
        let keep: Vec<&str> = cols.iter().filter_map(|c| c.name.as_deref()).collect();
        let dropped = dropped_columns(
            prior.columns().iter().filter_map(|c| c.name.as_deref()),
            &keep,
        );
        // A warning, not an error: an out-of-band column must still
        // show as drift (`plan -detailed-exitcode` exit 2); the apply
        // refuses before any DDL.
        if !dropped.is_empty() {
            diags.add_attr_warning(
                AttrPath::attr("columns"),
                "Table is protected from losing columns",
                format!(
                    "{} Applying this plan will fail for this table without changing it.",
                    protected_columns_message(prior, &dropped)
                ),
            );
        }
    }
    true
}

/// The apply-time side of the columns check: the plan-time one cannot see
/// columns whose names were unknown then, nor ones added out of band since,
/// so what would really be dropped is checked against the catalog.
pub(super) fn refuse_dropping_columns(
    old: &Model,
    new: &Model,
    cat: &CatalogTable,
) -> Result<(), Diagnostics> {
    if !(old.protected() && new.protected()) {
        return Ok(());
    }
    let keep: Vec<&str> = new
        .columns()
        .iter()
        .filter_map(|c| c.name.as_deref())
        .collect();
    let dropped = dropped_columns(cat.columns.iter().map(|c| c.name.as_str()), &keep);
    if dropped.is_empty() {
        return Ok(());
    }
    Err(Diagnostics::attr_error(
        AttrPath::attr("columns"),
        "Table is protected from losing columns",
        protected_columns_message(old, &dropped),
    ))
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
        table.label()
    )
}

/// Primary-key columns are NOT NULL whatever the default says.
pub(super) fn pk_not_null(config: &Model, planned: &mut Model) {
    let pk: Vec<String> = planned.pk().into_iter().map(str::to_string).collect();
    let Some(cols) = planned.columns.known_mut() else {
        return;
    };
    for (i, c) in cols.iter_mut().enumerate() {
        let in_pk = c.name.as_deref().is_some_and(|n| pk.iter().any(|k| k == n));
        if in_pk
            && config
                .columns
                .elements()
                .get(i)
                .is_some_and(|cc| cc.nullable.is_null())
        {
            c.nullable = Known(false);
        }
    }
}

/// A planned column whose type or default PostgreSQL is asked to resolve.
struct Probe {
    index: usize,
    ty: String,
    default: Option<String>,
    /// The prior column at the same index, if it is the same column.
    prior: Option<Column>,
}

/// Where config spells a type or default differently from state but
/// PostgreSQL resolves both to the same thing, plan the prior spelling (no
/// diff). New or changed columns are resolved by PostgreSQL itself, which
/// also rejects unknown types and bad defaults before anything is applied.
pub(super) async fn keep_equivalent_spellings(
    ctx: &Ctx,
    prior: Option<&Model>,
    planned: &mut Model,
    diags: &mut Diagnostics,
) {
    let prior_cols = prior.map(Model::columns).unwrap_or_default();
    let source = planned.source.str_or("default").to_string();
    let Some(cols) = planned.columns.known_mut() else {
        return;
    };
    let mut probe = Vec::new();
    for (i, c) in cols.iter_mut().enumerate() {
        let (Known(n), Known(t)) = (&c.name, &c.ty) else {
            continue;
        };
        if c.default.is_unknown() {
            continue;
        }
        let (t, d) = (t.clone(), c.default.known().cloned());
        let p = prior_cols
            .get(i)
            .filter(|p| p.name.as_deref() == Some(n.as_str()))
            .cloned();
        let mut type_done = false;
        let mut default_done = false;
        if let Some(p) = &p {
            if let Known(pt) = &p.ty {
                if *pt == t || same_type(pt, &t) {
                    c.ty = Known(pt.clone());
                    type_done = true;
                }
            }
            match (p.default.as_deref(), d.as_deref()) {
                (None, None) => default_done = true,
                (Some(pd), Some(cd)) if pd == cd || same_default(cd, pd) => {
                    c.default = Known(pd.to_string());
                    default_done = true;
                }
                _ => {}
            }
        }
        if !(type_done && default_done) {
            probe.push(Probe {
                index: i,
                ty: t,
                default: d,
                prior: p,
            });
        }
    }
    if probe.is_empty() {
        return;
    }
    let Ok(engine) = &engine(ctx) else { return };
    let mut defs = Vec::new();
    for p in &probe {
        defs.push(probe_def(
            &format!("c{}", p.index),
            &p.ty,
            p.default.as_deref(),
        ));
        if let Some(pc) = &p.prior {
            defs.push(probe_def(
                &format!("p{}", p.index),
                pc.ty.str_or("text"),
                pc.default.as_deref(),
            ));
        }
    }
    let resolved = match resolve(engine, &ctx.cancel, &source, &defs).await {
        Ok(r) => r,
        Err(e) if e.code_is("postgres-error") => {
            return point_at_rejected(engine, &ctx.cancel, &source, &probe, diags).await;
        }
        // Unreachable engine at plan time: the offline comparison stands.
        Err(_) => return,
    };
    let Some(cols) = planned.columns.known_mut() else {
        return;
    };
    for p in &probe {
        let Some(pc) = &p.prior else { continue };
        let (Some(c), Some(pp)) = (
            resolved.get(&format!("c{}", p.index)),
            resolved.get(&format!("p{}", p.index)),
        ) else {
            continue;
        };
        let col = &mut cols[p.index];
        if c.0 == pp.0 {
            if let Known(pt) = &pc.ty {
                col.ty = Known(pt.clone());
            }
        }
        if c.1 == pp.1 {
            col.default = pc.default.clone();
        }
    }
}

/// Finds which column PostgreSQL rejects, to point at it.
async fn point_at_rejected(
    engine: &Engine,
    cancel: &CancellationToken,
    source: &str,
    probe: &[Probe],
    diags: &mut Diagnostics,
) {
    for p in probe {
        let Err(e) = resolve(
            engine,
            cancel,
            source,
            &[probe_def("c", &p.ty, p.default.as_deref())],
        )
        .await
        else {
            continue;
        };
        let attr = if p.default.is_some()
            && resolve(engine, cancel, source, &[probe_def("c", &p.ty, None)])
                .await
                .is_ok()
        {
            "default"
        } else {
            "type"
        };
        let i = p.index;
        diags.add_attr_error(
            AttrPath::attr("columns").index(i).child(attr),
            format!("PostgreSQL rejects this column {attr}"),
            format!("`columns[{i}].{attr}` is not valid: {e}"),
        );
    }
}

fn probe_def(name: &str, ty: &str, default: Option<&str>) -> String {
    // A serial column would create a sequence; its canonical type is enough here.
    let (ty, default) = if is_serial(ty) {
        (canonical_type(ty), None)
    } else {
        (ty.to_string(), default)
    };
    match default {
        Some(d) => format!("\"{name}\" {ty} DEFAULT {d}"),
        None => format!("\"{name}\" {ty}"),
    }
}

/// A probe column as PostgreSQL resolved it.
#[derive(Deserialize)]
struct Resolved {
    n: String,
    t: String,
    d: Option<String>,
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
        .map_or("[]", String::as_str);
    let resolved: Vec<Resolved> = serde_json::from_str(cell)
        .map_err(|e| HasuraError::other(format!("unexpected probe answer: {e}")))?;
    Ok(resolved.into_iter().map(|r| (r.n, (r.t, r.d))).collect())
}
