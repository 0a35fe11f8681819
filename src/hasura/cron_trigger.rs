//! `hasura_cron_trigger`: a cron trigger in the metadata
//! (`create_cron_trigger`, with `replace: true` for an update in place, and
//! `delete_cron_trigger`). Writes join the metadata batcher like permissions.
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::json_string::json_eq;
use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntBetween, IntoDiags, Invalid, Known,
    Nesting, Null, RequiresReplace, Resource, Schema, StrCheck, Type, Value,
};

use super::client::cron_triggers::{CronTrigger, Header, RetryConf};
use super::client::HasuraError;
use super::engine;

pub struct CronTriggerResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    webhook: Value<String>,
    schedule: Value<String>,
    payload: Value<String>,
    headers: Value<BTreeMap<String, Value<String>>>,
    headers_from_env: Value<BTreeMap<String, Value<String>>>,
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

fn known_map(v: &Value<BTreeMap<String, Value<String>>>) -> BTreeMap<String, String> {
    v.known()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.str_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }

    /// The API object; every attribute is known at apply.
    fn trigger(&self) -> CronTrigger {
        let mut headers: Vec<Header> = known_map(&self.headers)
            .into_iter()
            .map(|(name, value)| Header::Value { name, value })
            .collect();
        headers.extend(known_map(&self.headers_from_env).into_iter().map(
            |(name, value_from_env)| Header::FromEnv {
                name,
                value_from_env,
            },
        ));
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
            headers,
            comment: self.comment.known().cloned(),
        }
    }

    /// What is remote, in the form `prior` wrote it where they mean the same.
    fn from_remote(t: CronTrigger, prior: &Model) -> Model {
        let mut headers = BTreeMap::new();
        let mut from_env = BTreeMap::new();
        for h in t.headers {
            match h {
                Header::Value { name, value } => headers.insert(name, Known(value)),
                Header::FromEnv {
                    name,
                    value_from_env,
                } => from_env.insert(name, Known(value_from_env)),
            };
        }
        // An empty map and no map are the same remotely: keep the user's choice.
        let map = |m: BTreeMap<String, Value<String>>, prior: &Value<_>| {
            if m.is_empty() && !prior.is_known() {
                Null
            } else {
                Known(m)
            }
        };
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
            headers: map(headers, &prior.headers),
            headers_from_env: map(from_env, &prior.headers_from_env),
            retry_conf: Known(t.retry_conf.into()),
            comment: t.comment.map_or(Null, Known),
        }
    }

    fn write_failed(&self, e: HasuraError, summary: &str) -> Diagnostics {
        let attr = match e.message() {
            m if m.contains("already exists") => {
                return Diagnostics::attr_error(
                    AttrPath::attr("name"),
                    summary,
                    format!(
                        "{e} To manage it, import it: terraform import <address> {}",
                        self.name()
                    ),
                )
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
fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl Resource for CronTriggerResource {
    type Model = Model;

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
                Attribute::string("id").computed().describe("The trigger's name: the import id."),
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid cron trigger name", check_name)).describe("Trigger name. Hasura has no rename: changing it replaces the trigger (its pending events are dropped)."),
                Attribute::string("webhook").required().validate(StrCheck("Invalid webhook", check_webhook)).describe("URL Hasura POSTs to, `http(s)://...`, or a template of the engine's env vars such as `{{ACTIONS_BASE_URL}}/cron/cleanup`, so one configuration serves every environment. A variable the engine does not have is refused at apply (`hasura_env_var` sets one)."),
                Attribute::string("schedule").required().validate(StrCheck("Invalid cron schedule", check_schedule)).describe("Cron expression in UTC with five fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12), day of week (0-6, Sunday = 0). Each field is `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma-separated list of these. Names (`MON`) and shortcuts (`@daily`) are not accepted by Hasura. Checked at plan time."),
                Attribute::string("payload").optional().validate(StrCheck("Invalid payload", check_json)).semantic_eq(json_eq).describe("JSON sent as the event's `payload`, usually `jsonencode({...})`. Compared by meaning, so key order and whitespace never cause a diff."),
                Attribute::typed("headers", Type::map(Type::String)).optional().sensitive().describe("Headers sent with each call, by name, with literal values, e.g. a shared secret. Sensitive: never shown in plans or logs. Prefer `headers_from_env` for secrets so they stay out of the metadata export. `terraform plan -generate-config-out` writes `null` here, as for every sensitive value: fill the values in before applying, or the plan shows the headers being removed."),
                Attribute::typed("headers_from_env", Type::map(Type::String)).optional().describe("Headers sent with each call, by name, whose values Hasura reads from its env vars, e.g. `{ Authorization = \"CRON_WEBHOOK_AUTH\" }`. A variable the engine does not have is refused at apply. A header name may not be in both maps."),
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
        let empty = BTreeMap::new();
        let values = config.headers.known().unwrap_or(&empty);
        let envs = config.headers_from_env.known().unwrap_or(&empty);
        for (attr, map) in [("headers", values), ("headers_from_env", envs)] {
            for (name, v) in map {
                let path = AttrPath::attr(attr).key(name);
                if let Err(e) = check_header_name(name) {
                    diags.add_attr_error(
                        path.clone(),
                        "Invalid header name",
                        format!("{name:?} {e}."),
                    );
                }
                let check = if attr == "headers" {
                    check_header_value
                } else {
                    check_env_name
                };
                if let Some(Err(e)) = v.as_deref().map(check) {
                    diags.add_attr_error(
                        path,
                        "Invalid header",
                        format!("`{attr}[{name:?}]` {e}."),
                    );
                }
            }
        }
        for name in values.keys().filter(|k| envs.contains_key(*k)) {
            diags.add_attr_error(
                AttrPath::attr("headers_from_env").key(name),
                "Header set twice",
                format!("The header {name:?} is in both `headers` and `headers_from_env`; Hasura would send it twice. Keep one."),
            );
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        engine(ctx)?
            .put_cron_trigger(&ctx.cancel, &m.trigger(), false)
            .await
            .map_err(|e| m.write_failed(e, "Failed to create cron trigger"))?;
        Ok(Model {
            id: Known(m.name().to_string()),
            ..m
        })
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        let export = engine(ctx)?
            .export(&ctx.cancel)
            .await
            .map_err(|e| e.into_diags("Failed to read Hasura metadata"))?;
        Ok(export
            .cron_trigger(prior.name())
            .map(|t| Model::from_remote(t, &prior)))
    }

    async fn update(&self, ctx: &Ctx, _prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        engine(ctx)?
            .put_cron_trigger(&ctx.cancel, &m.trigger(), true)
            .await
            .map_err(|e| m.write_failed(e, "Failed to update cron trigger"))?;
        Ok(m)
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        // A trigger already gone counts as deleted (the batcher's drop rule).
        engine(ctx)?
            .delete_cron_trigger(&ctx.cancel, m.name())
            .await
            .map_err(|e| e.into_diags("Failed to delete cron trigger"))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        check_name(id).map_err(|e| {
            Diagnostics::error(
                "Invalid import id",
                format!("The id {e}. Expected the cron trigger's name."),
            )
        })?;
        Ok(Model {
            id: Known(id.to_string()),
            name: Known(id.to_string()),
            ..Model::default()
        })
    }
}

fn check_name(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

fn check_json(s: &str) -> Result<(), Invalid> {
    serde_json::from_str::<serde_json::Value>(s)
        .map(|_| ())
        .map_err(|e| Invalid(format!("is not valid JSON ({e}); use jsonencode(...)")))
}

fn check_env_name(s: &str) -> Result<(), Invalid> {
    let mut chars = s.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err("must be an env var name: letters, digits and `_`, not starting with a digit".into())
    }
}

/// RFC 9110 token characters.
fn check_header_name(s: &str) -> Result<(), Invalid> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !s.is_empty() && s.chars().all(token) {
        Ok(())
    } else {
        Err("is not a valid HTTP header name".into())
    }
}

/// Never quotes the value: it may be a secret.
fn check_header_value(s: &str) -> Result<(), Invalid> {
    if s.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        Err("must not contain line breaks or NUL".into())
    } else {
        Ok(())
    }
}

/// `http(s)://host...`, or text with `{{ENV_VAR}}` parts that starts with one.
fn check_webhook(s: &str) -> Result<(), Invalid> {
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err("has a `{{` without its `}}`".into());
        };
        check_env_name(after[..j].trim()).map_err(|_| {
            Invalid(format!(
                "names {:?} between `{{{{ }}}}`, which is not an env var name",
                &after[..j]
            ))
        })?;
        rest = &after[j + 2..];
    }
    if s.starts_with("{{") {
        return Ok(());
    }
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err("must be an http(s) URL or start with an `{{ENV_VAR}}` template, e.g. `{{ACTIONS_BASE_URL}}/cron`".into()),
    }
}

/// Hasura's cron parser (the `cron` package's `parseCronSchedule`) takes
/// five numeric fields; see the `schedule` description.
fn check_schedule(s: &str) -> Result<(), Invalid> {
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

    #[test]
    fn schedules() {
        for ok in [
            "*/15 * * * *",
            "0 9 * * 1-5",
            "0 0 1,15 * 0",
            "0-30/5 * * 1-12/3 *",
        ] {
            assert!(check_schedule(ok).is_ok(), "{ok}");
        }
        for bad in [
            "@daily",
            "* * * *",
            "60 * * * *",
            "* * * * MON",
            "5/15 * * * *",
            "* * 0 * *",
            "*/0 * * * *",
            "9-1 * * * *",
            "* * * * 7",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn webhooks() {
        assert!(check_webhook("https://hooks.example.com/cron").is_ok());
        assert!(check_webhook("{{ACTIONS_BASE_URL}}/cron").is_ok());
        assert!(check_webhook("/cron").is_err());
        assert!(check_webhook("ftp://x/y").is_err());
        assert!(check_webhook("{{NOT CLOSED").is_err());
        assert!(check_webhook("{{a-b}}/x").is_err());
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
        assert_eq!(known_map(&m.headers_from_env)["Authorization"], "AUTH");
        assert_eq!(m.trigger().schedule, "*/5 * * * *");
    }
}
