//! What cron triggers, event triggers, actions, remote schemas and sources
//! share: webhook URLs or `{{ENV}}` templates, a value or its env var, and
//! headers given as two maps (literal values, sensitive; env var names)
//! that Hasura stores as one list.
use std::collections::BTreeMap;

use crate::framework::{AttrPath, Diagnostics, Invalid, Known, Null, Value};

use super::client::headers::Header;

pub(super) type HeaderMap = Value<BTreeMap<String, Value<String>>>;

/// Refuses, at `path`, a value and its `<path>_from_env` form both set or
/// both unset; while either is unknown it is left to a later plan.
pub(super) fn exactly_one(
    (value, from_env): (&Value<String>, &Value<String>),
    path: AttrPath,
    summary: &str,
    diags: &mut Diagnostics,
) {
    if !value.is_unknown() && !from_env.is_unknown() && value.is_null() == from_env.is_null() {
        let detail = format!("Set exactly one of `{path}` and `{path}_from_env`.");
        diags.add_attr_error(path, summary, detail);
    }
}

/// Both maps as Hasura's list: literal values first, each map sorted by name.
pub(super) fn headers_to_api(values: &HeaderMap, envs: &HeaderMap) -> Vec<Header> {
    let known = |m: &HeaderMap| -> Vec<(String, String)> {
        m.known()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.str_or("").to_string()))
            .collect()
    };
    let mut out: Vec<Header> = known(values)
        .into_iter()
        .map(|(name, value)| Header::Value { name, value })
        .collect();
    out.extend(
        known(envs)
            .into_iter()
            .map(|(name, value_from_env)| Header::FromEnv {
                name,
                value_from_env,
            }),
    );
    out
}

/// Hasura's list as the two maps; an empty map stays null unless the user
/// wrote `{}` (`prior`), so neither form shows a diff.
pub(super) fn headers_from_api(
    list: Vec<Header>,
    prior: (&HeaderMap, &HeaderMap),
) -> (HeaderMap, HeaderMap) {
    let mut values = BTreeMap::new();
    let mut envs = BTreeMap::new();
    for h in list {
        match h {
            Header::Value { name, value } => values.insert(name, Known(value)),
            Header::FromEnv {
                name,
                value_from_env,
            } => envs.insert(name, Known(value_from_env)),
        };
    }
    let keep = |m: BTreeMap<String, Value<String>>, prior: &HeaderMap| {
        if m.is_empty() && !prior.is_known() {
            Null
        } else {
            Known(m)
        }
    };
    (keep(values, prior.0), keep(envs, prior.1))
}

/// Names, values and env var names of both maps, and no header in both.
pub(super) fn validate_headers(values: &HeaderMap, envs: &HeaderMap, diags: &mut Diagnostics) {
    let empty = BTreeMap::new();
    let values = values.known().unwrap_or(&empty);
    let envs = envs.known().unwrap_or(&empty);
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
                diags.add_attr_error(path, "Invalid header", format!("`{attr}[{name:?}]` {e}."));
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

pub(super) const HEADERS_DESCRIPTION: &str = "Headers sent with each call, by name, with literal values, e.g. a shared secret. Sensitive: never shown in plans or logs. Prefer `headers_from_env` for secrets so they stay out of the metadata export. `terraform plan -generate-config-out` writes `null` here, as for every sensitive value: fill the values in before applying, or the plan shows the headers being removed.";

pub(super) const HEADERS_FROM_ENV_DESCRIPTION: &str = "Headers sent with each call, by name, whose values Hasura reads from its env vars, e.g. `{ Authorization = \"WEBHOOK_AUTH\" }`. A variable the engine does not have is refused at apply. A header name may not be in both maps.";

pub(super) fn check_json(s: &str) -> Result<(), Invalid> {
    serde_json::from_str::<serde_json::Value>(s)
        .map(|_| ())
        .map_err(|e| Invalid(format!("is not valid JSON ({e}); use jsonencode(...)")))
}

pub(super) fn check_env_name(s: &str) -> Result<(), Invalid> {
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
pub(super) fn check_header_name(s: &str) -> Result<(), Invalid> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !s.is_empty() && s.chars().all(token) {
        Ok(())
    } else {
        Err("is not a valid HTTP header name".into())
    }
}

/// Never quotes the value: it may be a secret.
pub(super) fn check_header_value(s: &str) -> Result<(), Invalid> {
    if s.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        Err("must not contain line breaks or NUL".into())
    } else {
        Ok(())
    }
}

/// `http(s)://host...`, or text with `{{ENV_VAR}}` parts that starts with one.
pub(super) fn check_webhook(s: &str) -> Result<(), Invalid> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn webhooks() {
        assert_checks(
            check_webhook,
            &[
                "https://hooks.example.com/cron",
                "{{ACTIONS_BASE_URL}}/cron",
            ],
            &["/cron", "ftp://x/y", "{{NOT CLOSED", "{{a-b}}/x"],
        );
    }

    #[test]
    fn headers_round_trip_through_the_api_list() {
        let values: HeaderMap = Known([("X-A".to_string(), Known("1".to_string()))].into());
        let envs: HeaderMap = Null;
        let list = headers_to_api(&values, &envs);
        let (v, e) = headers_from_api(list, (&values, &envs));
        assert_eq!(v, values);
        assert!(e.is_null());
        let (_, e) = headers_from_api(Vec::new(), (&Null, &Known(BTreeMap::new())));
        assert_eq!(e, Known(BTreeMap::new()));
    }
}
