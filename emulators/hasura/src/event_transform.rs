//! An event trigger's `request_transform` and `cleanup_config`: parsed and
//! stored as graphql-engine stores them, and the transform applied to each
//! delivery.
//!
//! Sources (graphql-engine):
//! - `request_transform`: `Hasura/RQL/DDL/Webhook/Transform.hs` (`FromJSON
//!   RequestTransform`: `version` 1 (default, `body` a template) or 2 (`body`
//!   `{action: remove | transform + template | x_www_form_urlencoded +
//!   form_template}`, "invalid transform action"), `method`, `url`,
//!   `query_params` (`Transform/QueryParams.hs`: an object of templates, or
//!   one template; "Invalid query parameter"), `request_headers`
//!   (`Transform/Headers.hs`: `add_headers` object, `remove_headers` list),
//!   `template_engine` (`Kriti`, the only one); `ToJSON` writes `version`
//!   and `template_engine` always and `request_headers` with both keys);
//! - applying it: `applyRequestTransform` in the same module, with the
//!   Kriti context `$body` (the event payload), `$base_url` (the webhook),
//!   `$session_variables` and `$query_params`; headers are removed, then
//!   added or replaced (`Transform/Headers.hs`); a form body is sent as
//!   `application/x-www-form-urlencoded` (`Transform/Body.hs`);
//! - `cleanup_config`: `AutoTriggerLogCleanupConfig` in
//!   `Hasura/RQL/Types/EventTrigger.hs` (`schedule` (a `CronSchedule`, `cron.rs`) and
//!   `clear_older_than` required; `batch_size` 10000, `timeout` 60,
//!   `clean_invocation_logs` false, `paused` false; stored with every field).
//!
//! Kriti: only the path expressions the transforms mostly use are evaluated
//! (`{{$body.event.data.new.title}}`, `{{$session_variables['x-hasura-role']}}`,
//! `{{$body.items[0]}}`, with `?.`); functions, operators, `if` and `range`
//! make the delivery fail, as a Kriti runtime error does on Hasura.
use serde_json::{json, Map, Value};

use crate::cron::parse_cron;
use crate::errors::{object as obj, parse_failed, QErr};

fn string(cmd: &str, v: &Value, path: &str) -> Result<String, QErr> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| parse_failed(cmd, path, "parsing Text failed, expected String"))
}

fn string_map(cmd: &str, v: &Value, path: &str, nullable: bool) -> Result<Value, QErr> {
    let o = obj(cmd, v, path, "HashMap")?;
    for (k, x) in o {
        if !(x.is_string() || nullable && x.is_null()) {
            return Err(parse_failed(
                cmd,
                &format!("{path}.{k}"),
                "parsing Text failed, expected String",
            ));
        }
    }
    Ok(Value::Object(o.clone()))
}

/// `RequestTransform`'s `FromJSON`, answering its `ToJSON`.
pub fn parse_request_transform(cmd: &str, v: &Value) -> Result<Value, QErr> {
    let base = "$.args.request_transform";
    let o = obj(cmd, v, base, "RequestTransform")?;
    let version = match o.get("version") {
        None | Some(Value::Null) => 1,
        Some(n) if n == 1 || n == 2 => n.as_i64().unwrap_or(1),
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.version"),
                "expected version 1 or 2",
            ))
        }
    };
    match o.get("template_engine") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "Kriti" => {}
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{base}.template_engine"),
                "expected \"Kriti\"",
            ))
        }
    }
    let mut out = Map::new();
    out.insert("version".into(), json!(version));
    out.insert("template_engine".into(), json!("Kriti"));
    for k in ["method", "url"] {
        if let Some(x) = o.get(k).filter(|x| !x.is_null()) {
            out.insert(k.into(), json!(string(cmd, x, &format!("{base}.{k}"))?));
        }
    }
    if let Some(q) = o.get("query_params").filter(|x| !x.is_null()) {
        let path = format!("{base}.query_params");
        let q = match q {
            Value::String(_) => q.clone(),
            Value::Object(_) => string_map(cmd, q, &path, true)?,
            _ => return Err(parse_failed(cmd, &path, "Invalid query parameter")),
        };
        out.insert("query_params".into(), q);
    }
    if let Some(h) = o.get("request_headers").filter(|x| !x.is_null()) {
        let path = format!("{base}.request_headers");
        let ho = obj(cmd, h, &path, "AddReplaceRemoveFields")?;
        let add = match ho.get("add_headers") {
            None | Some(Value::Null) => json!({}),
            Some(a) => string_map(cmd, a, &format!("{path}.add_headers"), false)?,
        };
        let remove = match ho.get("remove_headers") {
            None | Some(Value::Null) => json!([]),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => json!(a),
            Some(_) => {
                return Err(parse_failed(
                    cmd,
                    &format!("{path}.remove_headers"),
                    "parsing [] failed, expected Array of String",
                ))
            }
        };
        out.insert(
            "request_headers".into(),
            json!({"add_headers": add, "remove_headers": remove}),
        );
    }
    if let Some(b) = o.get("body").filter(|x| !x.is_null()) {
        let path = format!("{base}.body");
        let body = if version == 1 {
            json!(string(cmd, b, &path)?)
        } else {
            let bo = obj(cmd, b, &path, "BodyTransformFn")?;
            match bo.get("action").and_then(Value::as_str) {
                Some("remove") => json!({"action": "remove"}),
                Some("transform") => {
                    let t = bo
                        .get("template")
                        .ok_or_else(|| parse_failed(cmd, &path, "key \"template\" not found"))?;
                    json!({"action": "transform", "template": string(cmd, t, &format!("{path}.template"))?})
                }
                Some("x_www_form_urlencoded") => {
                    let f = bo.get("form_template").ok_or_else(|| {
                        parse_failed(cmd, &path, "key \"form_template\" not found")
                    })?;
                    json!({"action": "x_www_form_urlencoded", "form_template": string_map(cmd, f, &format!("{path}.form_template"), false)?})
                }
                None if !bo.contains_key("action") => {
                    return Err(parse_failed(cmd, &path, "key \"action\" not found"))
                }
                _ => return Err(parse_failed(cmd, &path, "invalid transform action")),
            }
        };
        out.insert("body".into(), body);
    }
    Ok(Value::Object(out))
}

/// `AutoTriggerLogCleanupConfig`'s `FromJSON`, answering its `ToJSON`.
pub fn parse_cleanup(cmd: &str, v: &Value) -> Result<Value, QErr> {
    let base = "$.args.cleanup_config";
    let o = obj(cmd, v, base, "AutoTriggerLogCleanupConfig")?;
    let need = |k: &str| {
        o.get(k)
            .filter(|x| !x.is_null())
            .ok_or_else(|| parse_failed(cmd, base, format!("key \"{k}\" not found")))
    };
    let schedule = string(cmd, need("schedule")?, &format!("{base}.schedule"))?;
    let schedule =
        parse_cron(&schedule).map_err(|e| parse_failed(cmd, &format!("{base}.schedule"), e))?;
    let int = |k: &str, default: Option<i64>| -> Result<i64, QErr> {
        match (o.get(k).filter(|x| !x.is_null()), default) {
            (None, Some(d)) => Ok(d),
            (None, None) => Err(parse_failed(cmd, base, format!("key \"{k}\" not found"))),
            (Some(x), _) => x
                .as_i64()
                .filter(|n| i32::try_from(*n).is_ok())
                .ok_or_else(|| {
                    parse_failed(
                        cmd,
                        &format!("{base}.{k}"),
                        "parsing Int failed, expected Number",
                    )
                }),
        }
    };
    let flag = |k: &str| -> Result<bool, QErr> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(parse_failed(
                cmd,
                &format!("{base}.{k}"),
                "parsing Bool failed, expected Boolean",
            )),
        }
    };
    Ok(json!({
        "schedule": schedule,
        "batch_size": int("batch_size", Some(10000))?,
        "clear_older_than": int("clear_older_than", None)?,
        "timeout": int("timeout", Some(60))?,
        "clean_invocation_logs": flag("clean_invocation_logs")?,
        "paused": flag("paused")?,
    }))
}

/// A webhook call after the transform.
#[derive(Debug, PartialEq)]
pub struct Call {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// (content type, bytes); `None` sends no body.
    pub body: Option<(&'static str, Vec<u8>)>,
}

/// Evaluates `$var.path['k'][0]` against the context.
fn eval(expr: &str, ctx: &Value) -> Result<Value, String> {
    let e = expr.trim();
    let unsupported =
        || format!("unsupported Kriti expression `{e}` (the emulator evaluates paths only)");
    let rest = e.strip_prefix('$').ok_or_else(unsupported)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let mut cur = ctx
        .get(&rest[..end])
        .cloned()
        .ok_or_else(|| format!("variable ${} not in scope", &rest[..end]))?;
    let mut s = &rest[end..];
    while !s.is_empty() {
        let optional = s.starts_with("?.") || s.starts_with("?[");
        if optional {
            s = &s[1..];
        }
        let key: Value = if let Some(t) = s.strip_prefix('.') {
            let n = t
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(t.len());
            s = &t[n..];
            json!(&t[..n])
        } else if let Some(t) = s.strip_prefix('[') {
            let close = t.find(']').ok_or_else(unsupported)?;
            let inner = t[..close].trim();
            s = &t[close + 1..];
            if let Some(q) = inner.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')) {
                json!(q)
            } else {
                json!(inner.parse::<usize>().map_err(|_| unsupported())?)
            }
        } else {
            return Err(unsupported());
        };
        let next = match (&cur, &key) {
            (Value::Object(o), Value::String(k)) => o.get(k).cloned(),
            (Value::Array(a), Value::Number(i)) => {
                a.get(i.as_u64().unwrap_or(u64::MAX) as usize).cloned()
            }
            _ => None,
        };
        cur = match next {
            Some(v) => v,
            None if optional => Value::Null,
            None => return Err(format!("`{e}`: {key} not found")),
        };
    }
    Ok(cur)
}

/// Renders `{{ }}` interpolations; inside a JSON string (`in_string` or a
/// `"` opened in the template) a value goes in as text, elsewhere as JSON.
fn render(t: &str, ctx: &Value, as_json: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut in_str = !as_json;
    let mut rest = t;
    let mut escaped = false;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("{{") {
            let close = rest.find("}}").ok_or("a `{{` without its `}}`")?;
            let v = eval(&rest[2..close], ctx)?;
            match (&v, in_str) {
                (Value::String(s), true) if as_json => {
                    let q = serde_json::to_string(s).unwrap_or_default();
                    out.push_str(&q[1..q.len() - 1]);
                }
                (Value::String(s), true) => out.push_str(s),
                (other, true) if as_json => {
                    let q = serde_json::to_string(&other.to_string()).unwrap_or_default();
                    out.push_str(&q[1..q.len() - 1]);
                }
                (other, _) => out.push_str(&other.to_string()),
            }
            rest = &rest[close + 2..];
            continue;
        }
        if as_json {
            if c == '"' && !escaped {
                in_str = !in_str;
            }
            escaped = c == '\\' && !escaped;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

fn query_pairs(url: &str) -> Map<String, Value> {
    reqwest::Url::parse(url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), json!(v)))
                .collect()
        })
        .unwrap_or_default()
}

/// `applyRequestTransform`: the call Hasura makes for `payload` to `base_url`.
pub fn apply(
    transform: &Value,
    base_url: &str,
    payload: &Value,
    headers: Vec<(String, String)>,
) -> Result<Call, String> {
    let ctx = json!({
        "body": payload,
        "base_url": base_url,
        "session_variables": payload["event"]["session_variables"],
        "query_params": query_pairs(base_url),
    });
    let text = |t: &Value| render(t.as_str().unwrap_or_default(), &ctx, false);
    let method = match transform.get("method").and_then(Value::as_str) {
        Some(m) => m.to_ascii_uppercase(),
        None => "POST".into(),
    };
    let url = match transform.get("url") {
        Some(u) => text(u)?,
        None => base_url.to_string(),
    };
    let mut url = reqwest::Url::parse(&url).map_err(|e| format!("transformed url: {e}"))?;
    match transform.get("query_params") {
        Some(Value::Object(qs)) => {
            let mut pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            for (k, v) in qs {
                let k = render(k, &ctx, false)?;
                pairs.retain(|(n, _)| *n != k);
                if !v.is_null() {
                    pairs.push((k, text(v)?));
                }
            }
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        Some(t @ Value::String(_)) => url.set_query(Some(&text(t)?)),
        _ => {}
    }
    let mut headers = headers;
    if let Some(h) = transform.get("request_headers") {
        for r in h["remove_headers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(r));
        }
        for (k, v) in h["add_headers"].as_object().into_iter().flatten() {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
            headers.push((k.clone(), text(v)?));
        }
    }
    let json_body = |v: &Value| {
        Some((
            "application/json",
            serde_json::to_vec(v).unwrap_or_default(),
        ))
    };
    let body = match transform.get("body") {
        None => json_body(payload),
        Some(Value::String(t)) => json_body(&parse_rendered(&render(t, &ctx, true)?)?),
        Some(b) => match b["action"].as_str() {
            Some("remove") => None,
            Some("transform") => json_body(&parse_rendered(&render(
                b["template"].as_str().unwrap_or_default(),
                &ctx,
                true,
            )?)?),
            _ => {
                let mut form = reqwest::Url::parse("http://form/").map_err(|e| e.to_string())?;
                for (k, v) in b["form_template"].as_object().into_iter().flatten() {
                    form.query_pairs_mut().append_pair(k, &text(v)?);
                }
                Some((
                    "application/x-www-form-urlencoded",
                    form.query().unwrap_or_default().as_bytes().to_vec(),
                ))
            }
        },
    };
    Ok(Call {
        method,
        url: url.to_string(),
        headers,
        body,
    })
}

fn parse_rendered(s: &str) -> Result<Value, String> {
    serde_json::from_str(s).map_err(|e| format!("the body template does not render JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_templates() {
        let payload = json!({"event": {"data": {"new": {"id": 7, "title": "Hi \"x\""}}, "session_variables": {"x-hasura-role": "user"}}});
        let t = json!({
            "version": 2, "method": "put", "url": "{{$base_url}}/posts/{{$body.event.data.new.id}}",
            "query_params": {"role": "{{$session_variables['x-hasura-role']}}"},
            "request_headers": {"add_headers": {"X-Title": "{{$body.event.data.new.title}}"}, "remove_headers": ["x-drop"]},
            "body": {"action": "transform", "template": "{\"id\": {{$body.event.data.new.id}}, \"t\": \"re: {{$body.event.data.new.title}}\", \"n\": {{$body.event.data.new?.missing}}}"}
        });
        let call = apply(
            &t,
            "http://hook.test",
            &payload,
            vec![("X-Drop".into(), "1".into())],
        )
        .unwrap();
        assert_eq!(call.method, "PUT");
        assert_eq!(call.url, "http://hook.test/posts/7?role=user");
        assert_eq!(
            call.headers,
            vec![("X-Title".to_string(), "Hi \"x\"".to_string())]
        );
        let body: Value = serde_json::from_slice(&call.body.unwrap().1).unwrap();
        assert_eq!(body, json!({"id": 7, "t": "re: Hi \"x\"", "n": null}));
        assert!(eval("$body.event | length", &json!({"body": {}})).is_err());
    }
}
