//! `hasura_tracked_table`: tracks an existing table whose DDL is owned
//! elsewhere (migrations), with its GraphQL customisation.
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};

use crate::framework::Value::{Known, Null};
use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Nesting, Plan, RequiresReplace,
    Resource, Schema, Type, Value,
};
use crate::settle::Unsettled;

use super::client::table_config::{ColumnCustomisation, Configuration, ExportEntry, RootField};
use super::engine;
use super::ident::is_graphql_name;
use super::table::on_table::{schema_attribute, source_attribute};
use super::table::tracking::{
    id_attribute, planned_id, set_tracked, settle_tracking, table_model, validate_names,
    TrackingWrite, READING_METADATA,
};

pub struct TrackedTableResource;

const ROOT_FIELDS: &[&str] = &[
    "select",
    "select_by_pk",
    "select_aggregate",
    "select_stream",
    "insert",
    "insert_one",
    "update",
    "update_by_pk",
    "update_many",
    "delete",
    "delete_by_pk",
];

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ColumnConfig {
    custom_name: Value<String>,
    comment: Value<String>,
}

table_model! {
    #[derive(Clone, Debug, Default, Serialize, Deserialize)]
    pub struct Model {
        custom_name: Value<String>,
        /// Values may be unknown at plan time.
        custom_root_fields: Value<BTreeMap<String, Value<String>>>,
        column_config: Value<BTreeMap<String, ColumnConfig>>,
        comment: Value<String>,
    }
}

impl Model {
    fn configuration(&self) -> Configuration {
        Configuration {
            custom_name: self.custom_name.known().cloned(),
            custom_root_fields: self
                .custom_root_fields
                .or_default()
                .into_iter()
                .filter_map(|(k, v)| Some((k, RootField::Name(v.into_known()?))))
                .collect(),
            column_config: self
                .column_config
                .or_default()
                .into_iter()
                .map(|(k, c)| {
                    let c = ColumnCustomisation {
                        custom_name: c.custom_name.into_known(),
                        comment: c.comment.into_known(),
                    };
                    (k, c)
                })
                .collect(),
            comment: self.comment.known().cloned(),
        }
    }

    /// The table and its configuration, as both metadata commands take them.
    fn args(&self) -> J {
        let mut args = self.table().args();
        args["configuration"] = json!(self.configuration());
        args
    }

    /// Hasura exports empty maps and echoes `column_config` names under the
    /// legacy `custom_column_names`: both are ignored; empty equals unset.
    fn from_export(entry: &J, prior: &Model) -> Result<Model, serde_json::Error> {
        let cfg = ExportEntry::deserialize(entry)?
            .configuration
            .unwrap_or_default();
        let roots: BTreeMap<String, Value<String>> = cfg
            .custom_root_fields
            .into_iter()
            .filter_map(|(k, v)| Some((k, Known(v.name()?))))
            .collect();
        let cols: BTreeMap<String, ColumnConfig> = cfg
            .column_config
            .into_iter()
            .filter(|(_, c)| *c != ColumnCustomisation::default())
            .map(|(k, c)| {
                let c = ColumnConfig {
                    custom_name: c.custom_name.into(),
                    comment: c.comment.into(),
                };
                (k, c)
            })
            .collect();
        let t = prior.table();
        Ok(Model {
            id: Known(t.id()),
            source: Known(t.source.into()),
            schema: Known(t.schema.into()),
            name: Known(t.name.into()),
            custom_name: cfg.custom_name.into(),
            custom_root_fields: if roots.is_empty() && prior.custom_root_fields.is_null() {
                Null
            } else {
                Known(roots)
            },
            column_config: if cols.is_empty() && prior.column_config.is_null() {
                Null
            } else {
                Known(cols)
            },
            comment: cfg.comment.into(),
        })
    }
}

impl Model {
    /// Custom names must be GraphQL names. Hasura refuses a bad `custom_name`
    /// or column `custom_name` ("<name> is not valid GraphQL name"), and
    /// silently drops a bad root field name given as a string
    /// (`FromJSON CustomRootField` uses `G.mkName`, graphql-engine
    /// `server/src-lib/Hasura/Table/Cache.hs`), which would be a perpetual diff.
    fn check_graphql_names(&self, diags: &mut Diagnostics) {
        let mut names: Vec<(AttrPath, &str)> = Vec::new();
        if let Some(n) = self.custom_name.as_deref() {
            names.push((AttrPath::attr("custom_name"), n));
        }
        for (k, v) in self.custom_root_fields.known().into_iter().flatten() {
            if let Some(n) = v.as_deref() {
                names.push((AttrPath::attr("custom_root_fields").key(k), n));
            }
        }
        for (col, c) in self.column_config.known().into_iter().flatten() {
            if let Some(n) = c.custom_name.as_deref() {
                let path = AttrPath::attr("column_config")
                    .key(col)
                    .child("custom_name");
                names.push((path, n));
            }
        }
        for (path, n) in names.into_iter().filter(|(_, n)| !is_graphql_name(n)) {
            diags.add_attr_error(
                path,
                "Invalid GraphQL name",
                format!("{n:?} is not a valid GraphQL name: use letters, digits and `_`, not starting with a digit."),
            );
        }
    }
}

#[async_trait]
impl Resource for TrackedTableResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_tracked_table"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Tracks an existing table in Hasura (`pg_track_table`) without owning its DDL, e.g. for tables created by migrations. Customisation changes are applied in place with `pg_set_table_customization` (permissions are kept); destroying untracks the table and leaves its data alone. Import with `<source>.<schema>.<table>` (parts containing a `.` in double quotes).",
            vec![
                id_attribute(),
                source_attribute("", false),
                schema_attribute("", "", false),
                Attribute::string("name").required().plan(RequiresReplace).describe("Name of the existing table or view."),
                Attribute::string("custom_name").optional().describe("GraphQL name used instead of the table name in type and field names."),
                Attribute::typed("custom_root_fields", Type::map(Type::String)).optional().describe(format!("Custom names for root fields, keyed by {}.", ROOT_FIELDS.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))),
                Attribute::nested(
                    "column_config",
                    Nesting::Map,
                    vec![
                        Attribute::string("custom_name").optional().describe("GraphQL name of the column."),
                        Attribute::string("comment").optional().describe("Description of the column in GraphQL."),
                    ],
                )
                .optional()
                .describe("Per-column GraphQL customisation, keyed by column name."),
                Attribute::string("comment").optional().describe("Description of the table's GraphQL type (overrides the table comment)."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        validate_names(&config.source, &config.schema, &config.name, diags);
        config.check_graphql_names(diags);
        let roots = config.custom_root_fields.known().into_iter().flatten();
        for (k, _) in roots.filter(|(k, _)| !ROOT_FIELDS.contains(&k.as_str())) {
            diags.add_attr_error(
                AttrPath::attr("custom_root_fields").key(k),
                "Unknown root field",
                format!(
                    "{k:?} is not a root field; use one of {}.",
                    ROOT_FIELDS.join(", ")
                ),
            );
        }
        // Hasura keeps no empty entry (`HashMap.filter (/= mempty)` on export,
        // Hasura/RQL/Types/Table.hs): one would show as a change on every plan.
        let columns = config.column_config.known().into_iter().flatten();
        for (k, _) in columns.filter(|(_, c)| c.custom_name.is_null() && c.comment.is_null()) {
            diags.add_attr_error(
                AttrPath::attr("column_config").key(k),
                "Empty column customisation",
                format!("`column_config[{k:?}]` sets neither `custom_name` nor `comment`; set one, or remove the entry."),
            );
        }
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: Plan<'_, Model>) {
        let p = &mut *plan.planned;
        p.id = planned_id(&p.source, &p.schema, &p.name);
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let engine = &engine(ctx)?;
        let t = m.table();
        // Unlike `hasura_table`'s tracking, an already tracked table is not
        // ours: its configuration may differ, so it is refused.
        let write = TrackingWrite {
            args: m.args(),
            done_already: |_| false,
            ..TrackingWrite::track(t)
        };
        // Tracked after an ambiguous failure means our write landed with its answer lost.
        settle_tracking(engine, &ctx.cancel, t, &write)
            .await
            .map_err(|u| {
                let hint = match &u {
                    Unsettled::Failed(e) if e.code_is("already-tracked") => format!(
                        " To manage it, import it: terraform import <address> {}",
                        t.id()
                    ),
                    _ => String::new(),
                };
                let e = u.into_error(READING_METADATA);
                Diagnostics::error("Failed to track table", format!("{e}{hint}"))
            })?;
        Ok(m.with_id())
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        let engine = &engine(ctx)?;
        let export = engine
            .export(&ctx.cancel)
            .await
            .map_err(|e| e.into_diags("Failed to read Hasura metadata"))?;
        let t = prior.table();
        let Some(entry) = export.table(t.source, t.schema, t.name) else {
            return Ok(None);
        };
        let m = Model::from_export(entry, &prior).map_err(|e| {
            Diagnostics::error(
                "Failed to read Hasura metadata",
                format!(
                    "The metadata entry of table {} is not as expected: {e}",
                    t.id()
                ),
            )
        })?;
        Ok(Some(m))
    }

    async fn update(&self, ctx: &Ctx, _prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        let engine = &engine(ctx)?;
        engine
            .command(&ctx.cancel, "pg_set_table_customization", m.args(), None)
            .await
            .map_err(|e| e.into_diags("Failed to update table customization"))?;
        Ok(m)
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let engine = &engine(ctx)?;
        // Retries ambiguous failures; a table no longer tracked counts as done.
        set_tracked(engine, &ctx.cancel, m.table(), false)
            .await
            .map_err(|e| e.into_diags("Failed to untrack table"))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        Model::imported(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_names_are_graphql_names() {
        let m = Model {
            custom_name: "my table".into(),
            custom_root_fields: Known(
                [
                    ("update_many".to_string(), Known("updateAll".to_string())),
                    ("select".to_string(), Known("1st".to_string())),
                ]
                .into(),
            ),
            ..Default::default()
        };
        let mut diags = Diagnostics::new();
        m.check_graphql_names(&mut diags);
        let paths: Vec<String> = diags
            .0
            .iter()
            .map(|d| d.path.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(paths.len(), 2, "{paths:?}");
        assert!(is_graphql_name("_a1") && !is_graphql_name("") && !is_graphql_name("a-b"));
    }

    #[test]
    fn export_normalisation() {
        let prior = Model {
            name: "t".into(),
            custom_name: "x".into(),
            ..Default::default()
        };
        let entry = json!({"table": {"schema": "public", "name": "t"}, "configuration": {"custom_root_fields": {}, "custom_column_names": {"a": "A"}, "column_config": {"a": {"custom_name": "A"}}, "custom_name": "x"}});
        let m = Model::from_export(&entry, &prior).unwrap();
        assert_eq!(m.custom_name.as_deref(), Some("x"));
        assert_eq!(m.custom_root_fields, Null);
        assert_eq!(
            m.column_config.known().unwrap()["a"].custom_name.as_deref(),
            Some("A")
        );
        let entry = json!({"table": {"schema": "public", "name": "t"}, "configuration": {"custom_root_fields": {"select": {"name": "Ts", "comment": "c"}}}});
        let m = Model::from_export(&entry, &prior).unwrap();
        assert_eq!(
            m.custom_root_fields.known().unwrap()["select"],
            Known("Ts".into())
        );
        assert_eq!(m.custom_name, Null);
        let m = Model {
            custom_name: "x".into(),
            custom_root_fields: Known(BTreeMap::new()),
            ..Default::default()
        };
        assert_eq!(json!(m.configuration()), json!({"custom_name": "x"}));
    }

    #[test]
    fn an_empty_column_customisation_is_refused() {
        let entry = |custom_name: Value<String>| ColumnConfig {
            custom_name,
            comment: Null,
        };
        let m = Model {
            name: "t".into(),
            column_config: Known(
                [
                    ("a".to_string(), entry(Null)),
                    ("b".to_string(), entry("B".into())),
                ]
                .into(),
            ),
            ..Default::default()
        };
        let mut diags = Diagnostics::new();
        TrackedTableResource.validate(&m, &mut diags);
        let found: Vec<(String, String)> = diags
            .0
            .into_iter()
            .map(|d| (d.path.unwrap().to_string(), d.summary))
            .collect();
        assert_eq!(
            found,
            [(
                "column_config[\"a\"]".to_string(),
                "Empty column customisation".to_string()
            )]
        );
    }
}
