//! `hasura_tracked_table`: tracks an existing table whose DDL is owned
//! elsewhere (migrations), with its GraphQL customisation.
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};

use crate::framework::legacy::{decode, encode, LegacyApplyError, LegacyResource, PlanContext};
use crate::framework::IntoDiags;
use crate::framework::{Attribute, Ctx, Diagnostics, Nesting, RequiresReplace, Schema};
use crate::plugin::cty::{AttrPath, Type, Value};
use crate::settle::{settle, ReadBack, Unsettled};

use super::client::metadata::qualified_table;
use super::client::HasuraClient;
use super::ident::{check_name, format_id};
use super::table::{is_tracked, parse_table_id, table_write, untrack_checked};

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
struct ColumnConfig {
    custom_name: Option<String>,
    comment: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Model {
    id: Option<String>,
    source: Option<String>,
    schema: Option<String>,
    name: Option<String>,
    custom_name: Option<String>,
    custom_root_fields: Option<BTreeMap<String, String>>,
    column_config: Option<BTreeMap<String, ColumnConfig>>,
    comment: Option<String>,
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
    fn id(&self) -> String {
        format_id(&[self.source(), self.schema(), self.name()])
    }

    fn configuration(&self) -> J {
        let mut c = serde_json::Map::new();
        if let Some(n) = &self.custom_name {
            c.insert("custom_name".into(), json!(n));
        }
        if let Some(r) = self.custom_root_fields.as_ref().filter(|r| !r.is_empty()) {
            c.insert("custom_root_fields".into(), json!(r));
        }
        if let Some(cc) = self.column_config.as_ref().filter(|r| !r.is_empty()) {
            let m: serde_json::Map<String, J> = cc
                .iter()
                .map(|(k, v)| {
                    let mut e = serde_json::Map::new();
                    if let Some(n) = &v.custom_name {
                        e.insert("custom_name".into(), json!(n));
                    }
                    if let Some(x) = &v.comment {
                        e.insert("comment".into(), json!(x));
                    }
                    (k.clone(), J::Object(e))
                })
                .collect();
            c.insert("column_config".into(), J::Object(m));
        }
        if let Some(x) = &self.comment {
            c.insert("comment".into(), json!(x));
        }
        J::Object(c)
    }

    /// Hasura exports empty maps and echoes `column_config` names under the
    /// legacy `custom_column_names`: both are ignored; empty equals unset.
    fn from_export(entry: &J, prior: &Model) -> Model {
        let cfg = entry.get("configuration").cloned().unwrap_or(J::Null);
        let roots: BTreeMap<String, String> = cfg
            .get("custom_root_fields")
            .and_then(J::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let name = v.as_str().or_else(|| v.get("name").and_then(J::as_str))?;
                        Some((k.clone(), name.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let cols: BTreeMap<String, ColumnConfig> = cfg
            .get("column_config")
            .and_then(J::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let s = |f: &str| v.get(f).and_then(J::as_str).map(str::to_string);
                        (
                            k.clone(),
                            ColumnConfig {
                                custom_name: s("custom_name"),
                                comment: s("comment"),
                            },
                        )
                    })
                    .filter(|(_, c)| c != &ColumnConfig::default())
                    .collect()
            })
            .unwrap_or_default();
        Model {
            id: Some(prior.id()),
            source: Some(prior.source().into()),
            schema: Some(prior.schema().into()),
            name: Some(prior.name().into()),
            custom_name: cfg
                .get("custom_name")
                .and_then(J::as_str)
                .map(str::to_string),
            custom_root_fields: if roots.is_empty() && prior.custom_root_fields.is_none() {
                None
            } else {
                Some(roots)
            },
            column_config: if cols.is_empty() && prior.column_config.is_none() {
                None
            } else {
                Some(cols)
            },
            comment: cfg.get("comment").and_then(J::as_str).map(str::to_string),
        }
    }
}

#[async_trait]
impl LegacyResource for TrackedTableResource {
    fn type_name(&self) -> &'static str {
        "hasura_tracked_table"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Tracks an existing table in Hasura (`pg_track_table`) without owning its DDL, e.g. for tables created by migrations. Customisation changes are applied in place with `pg_set_table_customization` (permissions are kept); destroying untracks the table and leaves its data alone. Import with `<source>.<schema>.<table>` (parts containing a `.` in double quotes).",
            vec![
                Attribute::string("id").computed().describe("`<source>.<schema>.<table>`, the import id."),
                Attribute::string("source").default(Value::string("default")).plan(RequiresReplace).describe("Hasura database (source) name. Default `default`."),
                Attribute::string("schema").default(Value::string("public")).plan(RequiresReplace).describe("PostgreSQL schema. Default `public`."),
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
        if let Value::Map(m) = config.get("custom_root_fields") {
            for k in m.keys().filter(|k| !ROOT_FIELDS.contains(&k.as_str())) {
                diags.add_attr_error(
                    AttrPath::attr("custom_root_fields").key(k),
                    "Unknown root field",
                    format!(
                        "{k:?} is not a root field; use one of {}.",
                        ROOT_FIELDS.join(", ")
                    ),
                );
            }
        }
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: PlanContext<'_>) {
        if plan.planned.is_null() {
            return;
        }
        match (
            plan.planned.get("source").as_str(),
            plan.planned.get("schema").as_str(),
            plan.planned.get("name").as_str(),
        ) {
            (Some(a), Some(b), Some(c)) => {
                let id = format_id(&[a, b, c]);
                plan.planned.set("id", Value::string(id))
            }
            _ => plan.planned.set("id", Value::Unknown),
        }
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
        let args = json!({"source": m.source(), "table": qualified_table(m.schema(), m.name()), "configuration": m.configuration()});
        settle(
            &ctx.cancel,
            &table_write(
                m.name(),
                "pg_track_table failed ambiguously and did not land; sending it again",
            ),
            || async {
                engine
                    .command(&ctx.cancel, "pg_track_table", args.clone(), None)
                    .await
                    .map(drop)
            },
            // Tracked now means our write landed with its answer lost.
            |_| async {
                let tracked =
                    is_tracked(engine, &ctx.cancel, m.source(), m.schema(), m.name()).await?;
                Ok(if tracked {
                    ReadBack::Landed(())
                } else {
                    ReadBack::Absent
                })
            },
        )
        .await
        .map_err(|u| {
            let hint = match &u {
                Unsettled::Failed(e) if e.code_is("already-tracked") => format!(
                    " To manage it, import it: terraform import <address> {}",
                    m.id()
                ),
                _ => String::new(),
            };
            let e = u.into_error("reading the metadata back to see whether it landed");
            Diagnostics::error("Failed to track table", format!("{}{hint}", e.message()))
        })?;
        let mut out = planned.clone();
        out.set("id", Value::string(m.id()));
        Ok(out)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine()?;
        let prior: Model = decode(state)?;
        let export = engine
            .export(&ctx.cancel)
            .await
            .map_err(|e| e.into_diags("Failed to read Hasura metadata"))?;
        let Some(entry) = export.table(prior.source(), prior.schema(), prior.name()) else {
            return Ok(None);
        };
        Ok(Some(encode(
            &Model::from_export(entry, &prior),
            &self.cty_type(),
        )?))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: &Value,
        planned: &Value,
        _config: &Value,
    ) -> Result<Value, LegacyApplyError> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine().map_err(Diagnostics::from)?;
        let m: Model = decode(planned)?;
        let args = json!({"source": m.source(), "table": qualified_table(m.schema(), m.name()), "configuration": m.configuration()});
        engine
            .command(&ctx.cancel, "pg_set_table_customization", args, None)
            .await
            .map_err(|e| e.into_diags("Failed to update table customization"))?;
        Ok(planned.clone())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), Diagnostics> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine()?;
        let m: Model = decode(state)?;
        // Retries ambiguous failures; a table no longer tracked counts as done.
        untrack_checked(engine, &ctx.cancel, m.source(), m.schema(), m.name())
            .await
            .map_err(|e| e.into_diags("Failed to untrack table"))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Value, Diagnostics> {
        let (source, schema, name) = parse_table_id(id)?;
        let m = Model {
            source: Some(source),
            schema: Some(schema),
            name: Some(name),
            ..Default::default()
        };
        let m = Model {
            id: Some(m.id()),
            ..m
        };
        encode(&m, &self.cty_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_normalisation() {
        let prior = Model {
            name: Some("t".into()),
            custom_name: Some("x".into()),
            ..Default::default()
        };
        let entry = json!({"table": {"schema": "public", "name": "t"}, "configuration": {"custom_root_fields": {}, "custom_column_names": {"a": "A"}, "column_config": {"a": {"custom_name": "A"}}, "custom_name": "x"}});
        let m = Model::from_export(&entry, &prior);
        assert_eq!(m.custom_name.as_deref(), Some("x"));
        assert_eq!(m.custom_root_fields, None);
        assert_eq!(
            m.column_config.unwrap()["a"].custom_name.as_deref(),
            Some("A")
        );
        let entry = json!({"table": {"schema": "public", "name": "t"}, "configuration": {"custom_root_fields": {"select": {"name": "Ts", "comment": "c"}}}});
        let m = Model::from_export(&entry, &prior);
        assert_eq!(m.custom_root_fields.unwrap()["select"], "Ts");
        assert_eq!(m.custom_name, None);
        let m = Model {
            custom_name: Some("x".into()),
            custom_root_fields: Some(BTreeMap::new()),
            ..Default::default()
        };
        assert_eq!(m.configuration(), json!({"custom_name": "x"}));
    }
}
