//! `hasura_event_trigger`: Hasura calls a webhook when rows of a tracked
//! table are inserted, updated or deleted (`pg_create_event_trigger`, with
//! `replace: true` for an update in place, and `pg_delete_event_trigger`).
//! Writes join the metadata batcher like permissions.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntBetween, IntoDiags, Invalid, Known,
    Nesting, Null, RequiresReplace, Resource, Schema, StrCheck, Type, Value,
};

use super::client::event_triggers::{
    Columns, Definition, EventTrigger, Located, OpSpec, RetryConf, Star,
};
use super::client::HasuraError;
use super::engine;
use super::ident::{already_exists, check_name as check_sql_name};
use super::table::on_table::table_attributes;
use super::transform::{Cleanup, Transform};
use super::webhook::{
    check_env_name, check_webhook, headers_from_api, headers_to_api, validate_headers, HeaderMap,
    HEADERS_DESCRIPTION, HEADERS_FROM_ENV_DESCRIPTION,
};

pub struct EventTriggerResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    source: Value<String>,
    schema: Value<String>,
    table: Value<String>,
    name: Value<String>,
    insert: Value<bool>,
    update: Value<Vec<Value<String>>>,
    delete: Value<bool>,
    enable_manual: Value<bool>,
    webhook: Value<String>,
    webhook_from_env: Value<String>,
    headers: HeaderMap,
    headers_from_env: HeaderMap,
    retry_conf: Value<Retry>,
    request_transform: Value<Transform>,
    cleanup_config: Value<Cleanup>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Retry {
    num_retries: Value<i64>,
    interval_sec: Value<i64>,
    timeout_sec: Value<i64>,
}

impl From<RetryConf> for Retry {
    fn from(r: RetryConf) -> Self {
        Retry {
            num_retries: Known(r.num_retries),
            interval_sec: Known(r.interval_sec),
            timeout_sec: Known(r.timeout_sec),
        }
    }
}

const ALL: Columns = Columns::All(Star);

impl Model {
    fn source(&self) -> &str {
        self.source.str_or("default")
    }
    fn name(&self) -> &str {
        self.name.str_or("")
    }
    fn id(&self) -> String {
        format!("{}.{}", self.source(), self.name())
    }
    fn located(&self) -> Located {
        Located {
            schema: self.schema.str_or("public").to_string(),
            table: self.table.str_or("").to_string(),
        }
    }

    /// The API object; every attribute is known at apply.
    fn trigger(&self) -> EventTrigger {
        let all = || Some(OpSpec { columns: ALL });
        let update = self.update.known().map(|cols| {
            let cols: Vec<String> = cols.iter().map(|c| c.str_or("").to_string()).collect();
            OpSpec {
                columns: if cols.iter().any(|c| c == "*") {
                    ALL
                } else {
                    Columns::Listed(cols)
                },
            }
        });
        let d = RetryConf::default();
        let r = self.retry_conf.known().cloned().unwrap_or_default();
        EventTrigger {
            name: self.name().to_string(),
            definition: Definition {
                insert: self.insert.or(false).then(all).flatten(),
                update,
                delete: self.delete.or(false).then(all).flatten(),
                enable_manual: self.enable_manual.or(false),
            },
            retry_conf: RetryConf {
                num_retries: r.num_retries.or(d.num_retries),
                interval_sec: r.interval_sec.or(d.interval_sec),
                timeout_sec: r.timeout_sec.or(d.timeout_sec),
            },
            webhook: self.webhook.known().cloned(),
            webhook_from_env: self.webhook_from_env.known().cloned(),
            headers: headers_to_api(&self.headers, &self.headers_from_env),
            request_transform: Transform::to_api(&self.request_transform),
            cleanup_config: Cleanup::to_api(&self.cleanup_config),
        }
    }

    /// What is remote, in the user's own form where it means the same.
    fn from_remote(at: Located, t: EventTrigger, prior: &Model) -> Model {
        let (headers, headers_from_env) =
            headers_from_api(t.headers, (&prior.headers, &prior.headers_from_env));
        let update = match t.definition.update.map(|u| u.columns) {
            None => Null,
            Some(Columns::All(_)) => Known(vec![Known("*".to_string())]),
            Some(Columns::Listed(cols)) => {
                let prior_cols: Vec<&str> = prior
                    .update
                    .elements()
                    .iter()
                    .filter_map(|c| c.as_deref())
                    .collect();
                let mut sorted_prior = prior_cols.clone();
                sorted_prior.sort_unstable();
                let mut sorted = cols.iter().map(String::as_str).collect::<Vec<_>>();
                sorted.sort_unstable();
                // The same set in another order is no change.
                if sorted == sorted_prior {
                    prior.update.clone()
                } else {
                    Known(cols.into_iter().map(Known).collect())
                }
            }
        };
        let m = Model {
            source: Known(prior.source().to_string()),
            schema: Known(at.schema),
            table: Known(at.table),
            name: Known(t.name),
            insert: Known(t.definition.insert.is_some()),
            update,
            delete: Known(t.definition.delete.is_some()),
            enable_manual: Known(t.definition.enable_manual),
            webhook: t.webhook.map_or(Null, Known),
            webhook_from_env: t.webhook_from_env.map_or(Null, Known),
            headers,
            headers_from_env,
            retry_conf: Known(t.retry_conf.into()),
            request_transform: Transform::from_api(t.request_transform, &prior.request_transform),
            cleanup_config: Cleanup::from_api(t.cleanup_config, &prior.cleanup_config),
            ..Model::default()
        };
        Model {
            id: Known(m.id()),
            ..m
        }
    }

    /// Creates the trigger as planned, or (`replace`) changes the one of its
    /// name in place.
    async fn put(self, ctx: &Ctx, replace: bool) -> Result<Model, ApplyError<Model>> {
        let what = if replace { "update" } else { "create" };
        engine(ctx)?
            .put_event_trigger(
                &ctx.cancel,
                self.source(),
                &self.located(),
                &self.trigger(),
                replace,
            )
            .await
            .map_err(|e| self.write_failed(e, &format!("Failed to {what} event trigger")))?;
        Ok(Model {
            id: Known(self.id()),
            ..self
        })
    }

    fn write_failed(&self, e: HasuraError, summary: &str) -> Diagnostics {
        let m = e.message();
        let attr = if m.contains("already exists") {
            return already_exists(AttrPath::attr("name"), summary, e, &self.id());
        } else if m.contains("Value for environment variables") {
            "webhook"
        } else if m.contains("environment variable") {
            if self.webhook_from_env.is_known() && m.contains(self.webhook_from_env.str_or("\0")) {
                "webhook_from_env"
            } else {
                "headers_from_env"
            }
        } else if m.contains("column") {
            "update"
        } else if m.contains("table") {
            "table"
        } else {
            return e.into_diags(summary);
        };
        Diagnostics::attr_error(AttrPath::attr(attr), summary, e.to_string())
    }
}

#[async_trait]
impl Resource for EventTriggerResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_event_trigger"
    }

    fn schema(&self) -> Schema {
        let int = |name, default: i64, what: &str| {
            Attribute::int(name)
                .default(default)
                .validate(IntBetween(0, i64::from(i32::MAX)))
                .describe(format!("{what} Default `{default}`."))
        };
        let table = "The tracked table whose changes fire the trigger. Hasura cannot move a trigger to another table: changing it replaces the trigger.";
        let [source, schema, table] = table_attributes("the table", table, "", false);
        Schema::new(
            "An event trigger: Hasura POSTs each inserted, updated or deleted row of a tracked table to a webhook, with the old and new row and the session of the mutation that changed it (`pg_create_event_trigger`). Changes other than `source`, `schema`, `table` and `name` are made in place (`replace: true`), keeping pending events. Import with `<source>.<name>` or `<name>` (source `default`).",
            vec![
                Attribute::id("`<source>.<name>`: the import id."),
                source,
                schema,
                table.validate(StrCheck("Invalid table name", check_sql_name)),
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid event trigger name", check_trigger_name)).describe("Trigger name, unique in the source: an ASCII letter, then letters, digits, `_` and `-`, at most 42 characters (Hasura names the SQL trigger after it). Changing it replaces the trigger."),
                Attribute::bool("insert").default(false).describe("Fire on every inserted row. Default `false`."),
                Attribute::typed("update", Type::list(Type::String)).optional().describe("Fire on updated rows: `[\"*\"]` for any update, or the columns whose change fires it, e.g. `[\"status\"]`. Unset: updates do not fire."),
                Attribute::bool("delete").default(false).describe("Fire on every deleted row. Default `false`."),
                Attribute::bool("enable_manual").default(false).describe("Allow invoking the trigger by hand from the console or `invoke_event_trigger`. Default `false`."),
                Attribute::string("webhook").optional().validate(StrCheck("Invalid webhook", check_webhook)).describe("URL Hasura POSTs to, `http(s)://...`, or a template of the engine's env vars such as `{{EVENTS_BASE_URL}}/post-created`. Exactly one of `webhook` and `webhook_from_env`."),
                Attribute::string("webhook_from_env").optional().validate(StrCheck("Invalid env var name", check_env_name)).describe("Name of the engine's env var holding the whole webhook URL. A variable the engine does not have is refused at apply."),
                Attribute::typed("headers", Type::map(Type::String)).optional().sensitive().describe(HEADERS_DESCRIPTION),
                Attribute::typed("headers_from_env", Type::map(Type::String)).optional().describe(HEADERS_FROM_ENV_DESCRIPTION),
                Attribute::nested("retry_conf", Nesting::Single, vec![
                    int("num_retries", 0, "Retries after a failed delivery."),
                    int("interval_sec", 10, "Seconds between retries."),
                    int("timeout_sec", 60, "Seconds before a delivery times out."),
                ])
                .default_model(&Retry::from(RetryConf::default()))
                .describe("Delivery settings. Defaults are Hasura's (`0`, `10`, `60`)."),
                Transform::attribute(),
                Cleanup::attribute(),
            ],
        )
    }

    fn validate(&self, c: &Model, diags: &mut Diagnostics) {
        validate_headers(&c.headers, &c.headers_from_env, diags);
        Transform::validate(&c.request_transform, diags);
        Cleanup::validate(&c.cleanup_config, diags);
        if !c.webhook.is_unknown()
            && !c.webhook_from_env.is_unknown()
            && c.webhook.is_null() == c.webhook_from_env.is_null()
        {
            diags.add_attr_error(
                AttrPath::attr("webhook"),
                "Webhook missing or set twice",
                "Set exactly one of `webhook` and `webhook_from_env`.",
            );
        }
        let never = |b: &Value<bool>| !b.is_unknown() && !b.or(false);
        if never(&c.insert) && never(&c.delete) && never(&c.enable_manual) && c.update.is_null() {
            diags.add_attr_error(
                AttrPath::attr("insert"),
                "Trigger never fires",
                "Set at least one of `insert`, `update`, `delete` or `enable_manual`.",
            );
        }
        if let Some(cols) = c.update.known() {
            let names: Vec<&str> = cols.iter().filter_map(|v| v.as_deref()).collect();
            if cols.is_empty() {
                diags.add_attr_error(
                    AttrPath::attr("update"),
                    "Invalid update columns",
                    "`update` is empty; use `[\"*\"]` for every update, or leave it unset.",
                );
            } else if names.contains(&"*") && cols.len() > 1 {
                diags.add_attr_error(
                    AttrPath::attr("update"),
                    "Invalid update columns",
                    "`[\"*\"]` means every column: list it alone.",
                );
            }
            for (i, n) in names.iter().enumerate().filter(|(_, n)| **n != "*") {
                if let Err(e) = check_sql_name(n) {
                    diags.add_attr_error(
                        AttrPath::attr("update").index(i),
                        "Invalid column name",
                        format!("{n:?} {e}."),
                    );
                }
            }
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        m.put(ctx, false).await
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        let export = super::exported(ctx).await?;
        Ok(export
            .event_trigger(prior.source(), prior.name())
            .map(|(at, t)| Model::from_remote(at, t, &prior)))
    }

    async fn update(&self, ctx: &Ctx, _prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        m.put(ctx, true).await
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        engine(ctx)?
            .delete_event_trigger(&ctx.cancel, m.source(), m.name())
            .await
            .map_err(|e| e.into_diags("Failed to delete event trigger"))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let (source, name) = id.rsplit_once('.').unwrap_or(("default", id));
        check_trigger_name(name).map_err(|e| {
            Diagnostics::error(
                "Invalid import id",
                format!("The trigger name in {id:?} {e}. Expected `<source>.<name>` or `<name>`."),
            )
        })?;
        let m = Model {
            source: Known(source.to_string()),
            name: Known(name.to_string()),
            ..Model::default()
        };
        Ok(Model {
            id: Known(m.id()),
            ..m
        })
    }
}

/// `isIllegalTriggerName` (graphql-engine `Hasura/RQL/Types/EventTrigger.hs`:
/// `^[A-Za-z]+[A-Za-z0-9_\-]*$`) and `maxTriggerNameLength`.
fn check_trigger_name(s: &str) -> Result<(), Invalid> {
    if !s.starts_with(|c: char| c.is_ascii_alphabetic())
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(
            "must start with a letter and contain only ASCII letters, digits, `_` and `-`".into(),
        );
    }
    if s.len() > 42 {
        return Err(Invalid(format!(
            "is {} characters long; Hasura allows at most 42",
            s.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn names() {
        let too_long = "x".repeat(43);
        assert_checks(
            check_trigger_name,
            &["post_created-v2", "A1"],
            &["", "a.b", &too_long, "_audit", "1st_hook", "-a", "été"],
        );
    }

    #[test]
    fn update_columns_in_another_order_are_no_change() {
        let prior = Model {
            source: Known("default".into()),
            update: Known(vec![Known("b".into()), Known("a".into())]),
            ..Model::default()
        };
        let t = EventTrigger {
            name: "t".into(),
            definition: Definition {
                update: Some(OpSpec {
                    columns: Columns::Listed(vec!["a".into(), "b".into()]),
                }),
                ..Definition::default()
            },
            retry_conf: RetryConf::default(),
            webhook: Some("https://x.example.com".into()),
            webhook_from_env: None,
            headers: Vec::new(),
            request_transform: None,
            cleanup_config: None,
        };
        let at = Located {
            schema: "public".into(),
            table: "posts".into(),
        };
        let m = Model::from_remote(at, t, &prior);
        assert_eq!(m.update, prior.update);
        assert_eq!(m.id.as_deref(), Some("default.t"));
        assert_eq!(m.insert, Known(false));
    }
}
