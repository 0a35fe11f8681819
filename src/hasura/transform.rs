//! The `request_transform` and `cleanup_config` nested attributes (event
//! triggers; the transform is the one actions take too). Both are `Single`
//! objects with a default model whose fields are null or Hasura's defaults:
//! an object left at its default is "not set" and never sent, so older state
//! (without them) and configurations that omit them plan nothing.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::framework::{
    model_eq, AttrPath, Attribute, Diagnostics, IntBetween, Invalid, Known, Nesting, Null, OneOf,
    SameModel, StrCheck, Type, Value,
};

use super::client::transform::{
    Body, CleanupConfig, HeaderChanges, QueryParams, RequestTransform, DEFAULT_BATCH_SIZE,
    DEFAULT_TIMEOUT,
};
use super::cron::{self, SCHEDULE_DESCRIPTION};

type Map = Value<BTreeMap<String, Value<String>>>;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
const ACTIONS: &[&str] = &["transform", "remove", "x_www_form_urlencoded"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    method: Value<String>,
    url: Value<String>,
    query_params: Map,
    query_params_template: Value<String>,
    add_headers: Map,
    remove_headers: Value<Vec<Value<String>>>,
    body_action: Value<String>,
    body_template: Value<String>,
    body_form_template: Map,
}

fn known_map(m: &Map) -> Option<BTreeMap<String, String>> {
    m.known().map(|m| {
        m.iter()
            .map(|(k, v)| (k.clone(), v.str_or("").to_string()))
            .collect()
    })
}

/// A map read back: empty is null unless the user wrote `{}`.
fn map_back(m: BTreeMap<String, String>, prior: &Map) -> Map {
    if m.is_empty() && !prior.known().is_some_and(BTreeMap::is_empty) {
        return Null;
    }
    Known(m.into_iter().map(|(k, v)| (k, Known(v))).collect())
}

/// Kriti interpolations are `{{ ... }}`; an unbalanced one is refused by
/// Hasura's template parser at delivery time, so it is refused here at plan.
fn check_template(s: &str) -> Result<(), Invalid> {
    let mut depth = 0i32;
    let mut rest = s;
    while let Some(i) = rest.find(['{', '}']) {
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("{{") {
            depth += 1;
            rest = t;
        } else if let Some(t) = tail.strip_prefix("}}").filter(|_| depth > 0) {
            depth -= 1;
            rest = t;
        } else {
            rest = &tail[1..];
        }
        if depth > 1 {
            return Err("opens `{{` inside another `{{ ... }}`".into());
        }
    }
    if depth != 0 {
        return Err("has a `{{` without its closing `}}`".into());
    }
    Ok(())
}

impl Transform {
    pub fn attribute() -> Attribute {
        let tpl = || StrCheck("Invalid template", check_template);
        Attribute::nested("request_transform", Nesting::Single, vec![
            Attribute::string("method").optional().validate(OneOf(METHODS)).describe("HTTP method of the call instead of `POST`: `GET`, `POST`, `PUT`, `PATCH` or `DELETE`."),
            Attribute::string("url").optional().validate(tpl()).describe("URL of the call, a Kriti template, e.g. `{{$base_url}}/users/{{$body.event.data.new.id}}` (`$base_url` is the trigger's webhook)."),
            Attribute::typed("query_params", Type::map(Type::String)).optional().describe("Query parameters to add or replace, name -> Kriti template, e.g. `{ id = \"{{$body.event.data.new.id}}\" }`. Not with `query_params_template`."),
            Attribute::string("query_params_template").optional().validate(tpl()).describe("The whole query string as one Kriti template, e.g. `id={{$body.event.data.new.id}}`. Not with `query_params`."),
            Attribute::typed("add_headers", Type::map(Type::String)).optional().sensitive().describe("Headers to add or replace, name -> Kriti template. Sensitive: values may hold credentials."),
            Attribute::typed("remove_headers", Type::set(Type::String)).optional().describe("Names of headers to remove from the call (case-insensitive)."),
            Attribute::string("body_action").optional().validate(OneOf(ACTIONS)).describe("What happens to the body: `transform` (render `body_template`), `remove` (no body), or `x_www_form_urlencoded` (a form from `body_form_template`). Unset: the event payload is sent as is."),
            Attribute::string("body_template").optional().validate(tpl()).describe("Kriti template of the JSON body for `body_action = \"transform\"`, e.g. `{\"id\": {{$body.event.data.new.id}}}`."),
            Attribute::typed("body_form_template", Type::map(Type::String)).optional().describe("Form fields, name -> Kriti template, for `body_action = \"x_www_form_urlencoded\"`."),
        ])
        .default_model(&Transform::default())
        .describe("Rewrites the webhook call (Hasura's request transform, version 2, Kriti templates over `$body`, `$base_url`, `$session_variables` and `$query_params`). Unset, or with every field unset, the payload is POSTed to the webhook unchanged.")
    }

    fn is_empty(&self) -> bool {
        *self == Transform::default()
    }

    pub fn to_api(v: &Value<Transform>) -> Option<RequestTransform> {
        let t = v.known().filter(|t| !t.is_empty())?;
        let query_params = match (known_map(&t.query_params), t.query_params_template.known()) {
            (Some(m), _) => Some(QueryParams::Each(
                m.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            )),
            (None, Some(s)) => Some(QueryParams::Template(s.clone())),
            _ => None,
        };
        let remove: Vec<String> = (t.remove_headers.elements().iter())
            .filter_map(|h| h.known().cloned())
            .collect();
        let add = known_map(&t.add_headers);
        let request_headers =
            (add.is_some() || t.remove_headers.is_known()).then(|| HeaderChanges {
                add_headers: add.unwrap_or_default(),
                remove_headers: remove,
            });
        let body = match t.body_action.as_deref() {
            Some("remove") => Some(Body::Remove),
            Some("transform") => Some(Body::Transform(t.body_template.str_or("").to_string())),
            Some(_) => Some(Body::Form(
                known_map(&t.body_form_template).unwrap_or_default(),
            )),
            None => None,
        };
        Some(RequestTransform {
            version: 2,
            template_engine: "Kriti".into(),
            method: t.method.known().cloned(),
            url: t.url.known().cloned(),
            query_params,
            request_headers,
            body: body.map(|b| b.to_json()),
        })
    }

    /// What is remote, in the form `prior` wrote it where it means the same.
    pub fn from_api(t: Option<RequestTransform>, prior: &Value<Transform>) -> Value<Transform> {
        let Some(t) = t else {
            return Known(Transform::default());
        };
        let empty = Transform::default();
        let p = prior.known().unwrap_or(&empty);
        let (query_params, query_params_template) = match &t.query_params {
            Some(QueryParams::Each(m)) => (
                map_back(
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                        .collect(),
                    &p.query_params,
                ),
                Null,
            ),
            Some(QueryParams::Template(s)) => (Null, Known(s.clone())),
            None => (Null, Null),
        };
        let h = t.request_headers.clone().unwrap_or_default();
        let remove_headers = if h.remove_headers.is_empty()
            && !p.remove_headers.known().is_some_and(Vec::is_empty)
        {
            Null
        } else {
            // Hasura matches names without case: keep the user's spelling.
            let prior_names: Vec<&str> = p
                .remove_headers
                .known()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_deref())
                .collect();
            Known(
                h.remove_headers
                    .into_iter()
                    .map(|r| {
                        prior_names
                            .iter()
                            .find(|p| p.eq_ignore_ascii_case(&r))
                            .map_or(r, |p| p.to_string())
                    })
                    .map(Known)
                    .collect(),
            )
        };
        let (body_action, body_template, body_form_template) = match t.body() {
            None => (Null, Null, Null),
            Some(Body::Remove) => (Known("remove".to_string()), Null, Null),
            Some(Body::Transform(s)) => (Known("transform".to_string()), Known(s), Null),
            Some(Body::Form(f)) => (
                Known("x_www_form_urlencoded".to_string()),
                Null,
                map_back(f, &p.body_form_template),
            ),
        };
        Known(Transform {
            method: t.method.map_or(Null, Known),
            url: t.url.map_or(Null, Known),
            query_params,
            query_params_template,
            add_headers: map_back(h.add_headers, &p.add_headers),
            remove_headers,
            body_action,
            body_template,
            body_form_template,
        })
    }

    /// Cross-field rules: one form of query parameters, a body action with
    /// what it needs and nothing it ignores.
    pub fn validate(v: &Value<Transform>, diags: &mut Diagnostics) {
        let Some(t) = v.known() else {
            return;
        };
        let at = |f: &str| AttrPath::attr("request_transform").child(f);
        if t.query_params.is_known() && t.query_params_template.is_known() {
            diags.add_attr_error(
                at("query_params_template"),
                "Query parameters set twice",
                "Set `query_params` or `query_params_template`, not both.",
            );
        }
        let action = t.body_action.as_deref();
        if t.body_action.is_unknown() {
            return;
        }
        if t.body_template.is_known() != (action == Some("transform")) {
            diags.add_attr_error(
                at("body_template"),
                "Invalid body transform",
                "`body_template` is the template of `body_action = \"transform\"`: set both or neither.",
            );
        }
        if t.body_form_template.is_known() != (action == Some("x_www_form_urlencoded")) {
            diags.add_attr_error(
                at("body_form_template"),
                "Invalid body transform",
                "`body_form_template` is the form of `body_action = \"x_www_form_urlencoded\"`: set both or neither.",
            );
        }
    }
}

/// The same cleanup settings, the schedules compared as Hasura stores them
/// (`cron.rs`) and unset fields as their defaults (the config is compared
/// before defaults are filled in).
impl SameModel for Cleanup {
    fn same(&self, other: &Cleanup) -> bool {
        fn or<T: Clone>(v: &Value<T>, default: &Value<T>) -> Value<T> {
            if v.is_null() { default } else { v }.clone()
        }
        let d = Cleanup::unset();
        let norm = |c: &Cleanup| Cleanup {
            schedule: c.schedule.clone().map(|s| cron::wire(&s)),
            clear_older_than: c.clear_older_than.clone(),
            batch_size: or(&c.batch_size, &d.batch_size),
            timeout: or(&c.timeout, &d.timeout),
            clean_invocation_logs: or(&c.clean_invocation_logs, &d.clean_invocation_logs),
            paused: or(&c.paused, &d.paused),
        };
        norm(self) == norm(other)
    }
}

/// `cleanup_config`: when to delete processed events from the event log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cleanup {
    schedule: Value<String>,
    clear_older_than: Value<i64>,
    batch_size: Value<i64>,
    timeout: Value<i64>,
    clean_invocation_logs: Value<bool>,
    paused: Value<bool>,
}

impl Cleanup {
    fn unset() -> Cleanup {
        Cleanup {
            batch_size: Known(DEFAULT_BATCH_SIZE),
            timeout: Known(DEFAULT_TIMEOUT),
            clean_invocation_logs: Known(false),
            paused: Known(false),
            ..Cleanup::default()
        }
    }

    pub fn attribute() -> Attribute {
        let positive = || IntBetween(1, i64::from(i32::MAX));
        Attribute::nested("cleanup_config", Nesting::Single, vec![
            Attribute::string("schedule").optional().validate(StrCheck("Invalid cron schedule", cron::check_schedule)).describe(format!("When the cleanup runs, e.g. `0 3 * * *`. Required when `cleanup_config` is set. {SCHEDULE_DESCRIPTION}")),
            Attribute::int("clear_older_than").optional().validate(IntBetween(0, i64::from(i32::MAX))).describe("Age in hours past which processed events are deleted, e.g. `168` for a week. Required when `cleanup_config` is set."),
            Attribute::int("batch_size").default(DEFAULT_BATCH_SIZE).validate(positive()).describe(format!("Most events deleted per cleanup run. Default `{DEFAULT_BATCH_SIZE}`.")),
            Attribute::int("timeout").default(DEFAULT_TIMEOUT).validate(positive()).describe(format!("Seconds before a cleanup query is cancelled. Default `{DEFAULT_TIMEOUT}`.")),
            Attribute::bool("clean_invocation_logs").default(false).describe("Delete the events' invocation logs too. Default `false`."),
            Attribute::bool("paused").default(false).describe("Keep the schedule but skip the runs. Default `false`."),
        ])
        .default_model(&Cleanup::unset())
        .semantic_eq(model_eq::<Cleanup>)
        .describe("Automatic deletion of processed events from the event log (Hasura's `cleanup_config`). Unset (no `schedule`): events are kept.")
    }

    pub fn to_api(v: &Value<Cleanup>) -> Option<CleanupConfig> {
        let c = v.known()?;
        Some(CleanupConfig {
            schedule: cron::wire(c.schedule.known()?),
            clear_older_than: c.clear_older_than.known().copied()?,
            batch_size: c.batch_size.or(DEFAULT_BATCH_SIZE),
            timeout: c.timeout.or(DEFAULT_TIMEOUT),
            clean_invocation_logs: c.clean_invocation_logs.or(false),
            paused: c.paused.or(false),
        })
    }

    /// The remote config; the schedule in `prior`'s spelling when it means the same.
    pub fn from_api(c: Option<CleanupConfig>, prior: &Value<Cleanup>) -> Value<Cleanup> {
        let Some(c) = c else {
            return Known(Cleanup::unset());
        };
        let schedule = match prior.known().and_then(|p| p.schedule.as_deref()) {
            Some(old) if cron::same(old, &c.schedule) => old.to_string(),
            _ => c.schedule,
        };
        Known(Cleanup {
            schedule: Known(schedule),
            clear_older_than: Known(c.clear_older_than),
            batch_size: Known(c.batch_size),
            timeout: Known(c.timeout),
            clean_invocation_logs: Known(c.clean_invocation_logs),
            paused: Known(c.paused),
        })
    }

    pub fn validate(v: &Value<Cleanup>, diags: &mut Diagnostics) {
        let Some(c) = v.known() else {
            return;
        };
        if c.schedule.is_unknown() || c.clear_older_than.is_unknown() {
            return;
        }
        if c.schedule.is_known() != c.clear_older_than.is_known() {
            // Pointed at the one that is set: Terraform shows its line.
            let (set, missing) = if c.schedule.is_known() {
                ("schedule", "clear_older_than")
            } else {
                ("clear_older_than", "schedule")
            };
            diags.add_attr_error(
                AttrPath::attr("cleanup_config").child(set),
                "Incomplete cleanup config",
                format!("`cleanup_config` needs both `schedule` and `clear_older_than`; `{missing}` is missing."),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn templates() {
        assert_checks(
            check_template,
            &["{{$base_url}}/x/{{$body.id}}", "{\"a\": {{$body.a}}}"],
            &["{{$base_url", "{{ {{ }} }}"],
        );
    }

    #[test]
    fn a_transform_reads_back_as_written() {
        let mut add = BTreeMap::new();
        add.insert("X-Id".to_string(), Known("{{$body.id}}".to_string()));
        let t = Known(Transform {
            method: Known("PUT".into()),
            add_headers: Known(add),
            remove_headers: Known(vec![Known("X-Drop".into())]),
            body_action: Known("transform".into()),
            body_template: Known("{\"id\": {{$body.id}}}".into()),
            ..Transform::default()
        });
        let api = Transform::to_api(&t).unwrap();
        let mut stored = api.clone();
        stored.request_headers.as_mut().unwrap().remove_headers = vec!["x-drop".into()];
        assert_eq!(Transform::from_api(Some(stored), &t), t);
        assert_eq!(Transform::to_api(&Known(Transform::default())), None);
        assert_eq!(
            Transform::from_api(None, &Null),
            Known(Transform::default())
        );
    }
}
