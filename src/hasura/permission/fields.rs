//! The plan-time check that every field a permission's `filter` or `check` names
//! exists once the plan is applied: a column of the table it is evaluated on, or a
//! relationship of it (exported, or planned by a `hasura_relationship` of this
//! process), whose remote table's fields are then checked under it; `_exists` checks
//! its `_where` against the table it names. Hasura would refuse the permission at apply
//! time ("\"x\" does not exist", graphql-engine `annBoolExp` in
//! `Hasura/RQL/DDL/Permission/Internal.hs`). Steps aside wherever it cannot know: a
//! table whose columns are not known before apply, a relationship whose target is not
//! known from its definition.
use serde::Deserialize;
use serde_json::Value as J;

use crate::framework::{AttrPath, Ctx, Diagnostics};

use super::super::client::catalog::ColumnsAfterPlan;
use super::super::client::{Engine, Export, HasuraClient, TableRef};
use super::super::relationship::{exported_field_target, planned_relationship_target};
use super::boolexp::connective;
use super::boolexp_form::Exists;

/// Relationship paths deeper than this are not followed (cycles between tables).
const MAX_DEPTH: usize = 8;

struct Walk<'a> {
    ctx: &'a Ctx,
    engine: &'a Engine,
    export: Option<&'a Export>,
    source: &'a str,
    attr: &'static str,
    diags: &'a mut Diagnostics,
}

/// Checks `filter` or `check` (`attr`) of a permission on `sch.tbl` of `src`.
pub(super) async fn check_fields(
    ctx: &Ctx,
    (src, sch, tbl): (&str, &str, &str),
    attr: &'static str,
    exp: Option<&str>,
    diags: &mut Diagnostics,
) {
    let Some(Ok(exp)) = exp.map(serde_json::from_str::<J>) else {
        return;
    };
    let Ok(client) = ctx.client::<HasuraClient>() else {
        return;
    };
    let Ok(engine) = client.engine() else { return };
    let export = engine.export(&ctx.cancel).await.ok();
    let mut w = Walk {
        ctx,
        engine,
        export: export.as_deref(),
        source: src,
        attr,
        diags,
    };
    w.exp(&exp, (sch.to_string(), tbl.to_string()), 0).await;
}

impl Walk<'_> {
    /// The table's column names once the plan is applied, `None` when not known.
    async fn columns(&self, (schema, name): &(String, String)) -> Option<Vec<String>> {
        let t = TableRef::new(self.source, schema, name);
        match self.engine.columns_after_plan(&self.ctx.cancel, t).await {
            ColumnsAfterPlan::Planned(c) | ColumnsAfterPlan::Existing(c) => Some(c),
            ColumnsAfterPlan::Dropped => Some(vec![]),
            ColumnsAfterPlan::Absent | ColumnsAfterPlan::Unknown => None,
        }
    }

    /// A non-column field of the table: `Some(target)` when it is a relationship or
    /// computed field (target known or not), `None` when there is no such field.
    fn field(&self, (sch, tbl): &(String, String), name: &str) -> Option<Option<(String, String)>> {
        let exported = self
            .export
            .and_then(|x| x.table(self.source, sch, tbl))
            .and_then(|t| exported_field_target(t, name));
        exported.or_else(|| planned_relationship_target(self.source, sch, tbl, name))
    }

    fn exp<'b>(
        &'b mut self,
        e: &'b J,
        table: (String, String),
        depth: usize,
    ) -> futures::future::BoxFuture<'b, ()> {
        Box::pin(async move {
            if depth > MAX_DEPTH {
                return;
            }
            let Some(obj) = e.as_object() else { return };
            let mut columns: Option<Option<Vec<String>>> = None;
            for (k, v) in obj {
                match connective(k) {
                    Some("_and" | "_or") => {
                        for x in v.as_array().into_iter().flatten() {
                            self.exp(x, table.clone(), depth).await;
                        }
                    }
                    Some("_not") => self.exp(v, table.clone(), depth).await,
                    Some(_) => {
                        if let Ok(Exists { table: t, filter }) = Exists::deserialize(v) {
                            self.exp(&filter, (t.schema, t.name), depth + 1).await;
                        }
                    }
                    None => {
                        if columns.is_none() {
                            columns = Some(self.columns(&table).await);
                        }
                        let Some(Some(cols)) = &columns else { return };
                        if cols.contains(k) {
                            continue;
                        }
                        match self.field(&table, k) {
                            Some(Some(target)) => self.exp(v, target, depth + 1).await,
                            Some(None) => {}
                            None => {
                                let (sch, tbl) = &table;
                                self.diags.add_attr_error(
                                    AttrPath::attr(self.attr),
                                    "Unknown column or relationship",
                                    format!(
                                        "`{}` names {k:?}, which is neither a column of {sch}.{tbl} once this plan is applied (its columns: {}) nor a relationship of it.",
                                        self.attr,
                                        cols.join(", ")
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        })
    }
}
