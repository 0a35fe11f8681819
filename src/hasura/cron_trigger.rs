//! `hasura_cron_trigger`: a cron trigger in the metadata
//! (`create_cron_trigger`, with `replace: true` for an update in place, and
//! `delete_cron_trigger`). Writes join the metadata batcher like permissions.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::json_string::json_eq;
use crate::framework::{
    str_eq, AttrPath, Attribute, Ctx, Diagnostics, IntBetween, IntoDiags, Known, Nesting, Null,
    RequiresReplace, Schema, StrCheck, Type, Value,
};

use super::client::cron_triggers::{CronTrigger, RetryConf};
#[cfg(test)]
use super::client::headers::Header;
use super::client::HasuraError;
use super::cron::{self, check_schedule, SameSchedule, SCHEDULE_DESCRIPTION};
use super::engine;
use super::ident::{already_exists, check_non_empty_text as check_name, NameCheck};
use super::named::Named;
use super::webhook::{
    check_json, check_webhook, headers_from_api, headers_to_api, validate_headers, HeaderMap,
    HEADERS_DESCRIPTION, HEADERS_FROM_ENV_DESCRIPTION,
};

pub struct CronTriggerResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    webhook: Value<String>,
    schedule: Value<String>,
    payload: Value<String>,
    headers: HeaderMap,
    headers_from_env: HeaderMap,
    retry_conf: Value<Retry>,
    comment: Value<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Retry {
    num_retries: Value<i64>,
    retry_interval_seconds: Value<i64>,
    timeout_seconds: Value<i64>,
    tolerance_seconds: Value<i64>,
}

impl From<RetryConf> for Retry {
    fn from(r: RetryConf) -> Self {
        Retry {
            num_retries: Known(r.num_retries),
            retry_interval_seconds: Known(r.retry_interval_seconds),
            timeout_seconds: Known(r.timeout_seconds),
            tolerance_seconds: Known(r.tolerance_seconds),
        }
    }
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }

    /// The API object; every attribute is known at apply.
    fn trigger(&self) -> CronTrigger {
        let r = self.retry_conf.known().cloned().unwrap_or_default();
        let d = RetryConf::default();
        CronTrigger {
            name: self.name().to_string(),
            webhook: self.webhook.str_or("").to_string(),
            schedule: cron::wire(self.schedule.str_or("")),
            // Always in the export: that is where read and drift detection look.
            include_in_metadata: true,
            payload: self
                .payload
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok()),
            retry_conf: RetryConf {
                num_retries: r.num_retries.or(d.num_retries),
                retry_interval_seconds: r.retry_interval_seconds.or(d.retry_interval_seconds),
                timeout_seconds: r.timeout_seconds.or(d.timeout_seconds),
                tolerance_seconds: r.tolerance_seconds.or(d.tolerance_seconds),
            },
            headers: headers_to_api(&self.headers, &self.headers_from_env),
            comment: self.comment.known().cloned(),
        }
    }

    /// What is remote, in the form `prior` wrote it where they mean the same.
    fn from_remote(t: CronTrigger, prior: &Model) -> Model {
        let (headers, headers_from_env) =
            headers_from_api(t.headers, (&prior.headers, &prior.headers_from_env));
        let payload = match (t.payload, prior.payload.as_deref()) {
            (None, _) => Null,
            (Some(p), Some(old))
                if serde_json::from_str::<serde_json::Value>(old).ok().as_ref() == Some(&p) =>
            {
                Known(old.to_string())
            }
            (Some(p), _) => Known(crate::framework::json_string::canonical(&p)),
        };
        let schedule = match prior.schedule.as_deref() {
            Some(old) if cron::same(old, &t.schedule) => Known(old.to_string()),
            _ => Known(t.schedule),
        };
        Model {
            id: Known(t.name.clone()),
            name: Known(t.name),
            webhook: Known(t.webhook),
            schedule,
            payload,
            headers,
            headers_from_env,
            retry_conf: Known(t.retry_conf.into()),
            comment: t.comment.map_or(Null, Known),
        }
    }

    fn write_failed(&self, e: HasuraError, summary: &str) -> Diagnostics {
        let attr = match e.message() {
            m if m.contains("already exists") => {
                return already_exists(AttrPath::attr("name"), summary, e, self.name())
            }
            m if m.contains("environment variable") => {
                if m.contains("Value for environment variables") {
                    "webhook"
                } else {
                    "headers_from_env"
                }
            }
            m if m.contains("schedule") => "schedule",
            _ => return e.into_diags(summary),
        };
        Diagnostics::attr_error(AttrPath::attr(attr), summary, e.to_string())
    }
}

#[async_trait]
impl Named for CronTriggerResource {
    type Model = Model;
    type Remote = CronTrigger;
    const IMPORT_ID: (NameCheck, &'static str) = (check_name, "the cron trigger's name");
    const DROP_FAILED: &'static str = "Failed to delete cron trigger";
    const KEY: fn(&mut Model) -> [&mut Value<String>; 2] = |m| [&mut m.id, &mut m.name];
    const FROM_REMOTE: fn(CronTrigger, &Model) -> Model = Model::from_remote;

    fn type_name(&self) -> &'static str {
        "hasura_cron_trigger"
    }

    fn schema(&self) -> Schema {
        let seconds = |name, default: i64, what: &str| {
            Attribute::int(name)
                .default(default)
                .validate(IntBetween(0, i64::from(i32::MAX)))
                .describe(format!("{what} Default `{default}`."))
        };
        Schema::new(
            "A cron trigger: Hasura calls `webhook` with `payload` on every tick of `schedule` (`create_cron_trigger`). Changes other than `name` are made in place (`replace: true`), keeping the trigger's event history. The trigger is always stored with `include_in_metadata = true`, so it is part of the exported metadata where drift is detected. Import with the trigger's name.",
            vec![
                Attribute::id("The trigger's name: the import id."),
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid cron trigger name", check_name)).describe("Trigger name. Hasura has no rename: changing it replaces the trigger (its pending events are dropped)."),
                Attribute::string("webhook").required().validate(StrCheck("Invalid webhook", check_webhook)).describe("URL Hasura POSTs to, `http(s)://...`, or a template of the engine's env vars such as `{{ACTIONS_BASE_URL}}/cron/cleanup`, so one configuration serves every environment. A variable the engine does not have is refused at apply (`hasura_env_var` sets one)."),
                Attribute::string("schedule").required().validate(StrCheck("Invalid cron schedule", check_schedule)).semantic_eq(str_eq::<SameSchedule>).describe(SCHEDULE_DESCRIPTION),
                Attribute::string("payload").optional().validate(StrCheck("Invalid payload", check_json)).semantic_eq(json_eq).describe("JSON sent as the event's `payload`, usually `jsonencode({...})`. Compared by meaning, so key order and whitespace never cause a diff."),
                Attribute::typed("headers", Type::map(Type::String)).optional().sensitive().describe(HEADERS_DESCRIPTION),
                Attribute::typed("headers_from_env", Type::map(Type::String)).optional().describe(HEADERS_FROM_ENV_DESCRIPTION),
                Attribute::nested("retry_conf", Nesting::Single, vec![
                    seconds("num_retries", 0, "Retries after a failed call."),
                    seconds("retry_interval_seconds", 10, "Seconds between retries."),
                    seconds("timeout_seconds", 60, "Seconds before a call times out."),
                    seconds("tolerance_seconds", 21600, "How late (seconds) an event may still be delivered, e.g. after the engine was down."),
                ])
                .default_model(&Retry::from(RetryConf::default()))
                .describe("Delivery settings. Defaults are Hasura's (`0`, `10`, `60`, `21600`)."),
                Attribute::string("comment").optional().describe("Free-form comment kept with the trigger."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        validate_headers(&config.headers, &config.headers_from_env, diags);
    }

    /// `create_cron_trigger`, with `replace` for an update in place.
    async fn write(&self, ctx: &Ctx, m: &Model, update: bool) -> Result<(), Diagnostics> {
        let what = if update { "update" } else { "create" };
        engine(ctx)?
            .put_cron_trigger(&ctx.cancel, &m.trigger(), update)
            .await
            .map_err(|e| m.write_failed(e, &format!("Failed to {what} cron trigger")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_keeps_the_users_forms() {
        let prior = Model {
            name: Known("t".into()),
            schedule: Known("*/5  * * * *".into()),
            payload: Known(r#"{ "b": 1, "a": 2 }"#.into()),
            ..Model::default()
        };
        let remote = CronTrigger {
            name: "t".into(),
            webhook: "https://x.example.com".into(),
            schedule: "*/5 * * * *".into(),
            include_in_metadata: true,
            payload: Some(serde_json::json!({"a": 2, "b": 1})),
            retry_conf: RetryConf::default(),
            headers: vec![Header::FromEnv {
                name: "Authorization".into(),
                value_from_env: "AUTH".into(),
            }],
            comment: None,
        };
        let m = Model::from_remote(remote, &prior);
        assert_eq!(m.schedule.as_deref(), Some("*/5  * * * *"));
        assert_eq!(m.payload.as_deref(), Some(r#"{ "b": 1, "a": 2 }"#));
        assert!(m.headers.is_null());
        assert_eq!(
            m.headers_from_env.known().unwrap()["Authorization"].as_deref(),
            Some("AUTH")
        );
        assert_eq!(m.trigger().schedule, "*/5 * * * *");
    }

    /// Hasura stores `serializeCronSchedule`'s form: the prior's spelling of the
    /// same schedule stays, a different schedule shows.
    #[test]
    fn read_keeps_the_schedules_spelling_and_shows_a_change() {
        let prior = Model {
            name: Known("t".into()),
            schedule: Known("00 9 * * MON-FRI".into()),
            ..Model::default()
        };
        assert_eq!(
            prior.trigger().schedule,
            "0 9 * * 1-5",
            "sent as Hasura stores it"
        );
        let remote = |schedule: &str| CronTrigger {
            name: "t".into(),
            webhook: "https://x.example.com".into(),
            schedule: schedule.into(),
            include_in_metadata: true,
            payload: None,
            retry_conf: RetryConf::default(),
            headers: vec![],
            comment: None,
        };
        let read = |s: &str| Model::from_remote(remote(s), &prior).schedule;
        assert_eq!(read("0 9 * * 1-5").as_deref(), Some("00 9 * * MON-FRI"));
        assert_eq!(read("30 9 * * 1-5").as_deref(), Some("30 9 * * 1-5"));
    }
}
