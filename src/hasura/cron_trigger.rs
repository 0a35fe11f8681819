//! `hasura_cron_trigger`: a cron trigger in the metadata
//! (`create_cron_trigger`, with `replace: true` for an update in place, and
//! `delete_cron_trigger`). Writes join the metadata batcher like permissions.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::json_string::json_eq;
use crate::framework::{
    AttrPath, Attribute, Ctx, Diagnostics, IntBetween, IntoDiags, Invalid, Known, Nesting, Null,
    RequiresReplace, Schema, StrCheck, Type, Value,
};

use super::client::cron_triggers::{CronTrigger, RetryConf};
#[cfg(test)]
use super::client::headers::Header;
use super::client::HasuraError;
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
            schedule: words(self.schedule.str_or("")),
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
            Some(old) if words(old) == t.schedule => Known(old.to_string()),
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

/// The schedule as Hasura stores it (`serializeCronSchedule`): one space
/// between fields.
pub(super) fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
                Attribute::string("schedule").required().validate(StrCheck("Invalid cron schedule", check_schedule)).describe("Cron expression in UTC with five fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12), day of week (0-6, Sunday = 0). Each field is `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma-separated list of these. Names (`MON`) and shortcuts (`@daily`) are not accepted by Hasura. Checked at plan time."),
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

/// Hasura's cron parser (the `cron` package's `parseCronSchedule`) takes
/// five numeric fields; see the `schedule` description.
pub(super) fn check_schedule(s: &str) -> Result<(), Invalid> {
    const RANGES: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day of month", 1, 31),
        ("month", 1, 12),
        ("day of week", 0, 6),
    ];
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(Invalid(format!(
            "has {} fields; a cron schedule has five: minute hour day-of-month month day-of-week, e.g. `*/15 * * * *`",
            fields.len()
        )));
    }
    for (field, (what, lo, hi)) in fields.into_iter().zip(RANGES) {
        let bad = |why: String| Invalid(format!("has an invalid {what} field `{field}`: {why}"));
        for item in field.split(',') {
            let (range, step) = item
                .split_once('/')
                .map_or((item, None), |(r, s)| (r, Some(s)));
            if let Some(step) = step {
                match step.parse::<u32>() {
                    Ok(n) if n > 0 => {}
                    _ => return Err(bad(format!("the step `{step}` must be a positive number"))),
                }
            }
            let bounds: Vec<&str> = match range {
                "*" => continue,
                r => r.splitn(2, '-').collect(),
            };
            if step.is_some() && bounds.len() == 1 {
                return Err(bad(
                    "a step goes after `*` or a range, e.g. `*/5` or `0-30/5`".into(),
                ));
            }
            let mut nums = Vec::new();
            for b in bounds {
                match b.parse::<u32>() {
                    Ok(n) if (lo..=hi).contains(&n) && b.bytes().all(|c| c.is_ascii_digit()) => {
                        nums.push(n)
                    }
                    _ => return Err(bad(format!("`{b}` is not a number from {lo} to {hi}"))),
                }
            }
            if nums.len() == 2 && nums[0] > nums[1] {
                return Err(bad(format!("the range `{range}` runs backwards")));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn schedules() {
        assert_checks(
            check_schedule,
            &[
                "*/15 * * * *",
                "0 9 * * 1-5",
                "0 0 1,15 * 0",
                "0-30/5 * * 1-12/3 *",
            ],
            &[
                "@daily",
                "* * * *",
                "60 * * * *",
                "* * * * MON",
                "5/15 * * * *",
                "* * 0 * *",
                "*/0 * * * *",
                "9-1 * * * *",
                "* * * * 7",
            ],
        );
    }

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
}
