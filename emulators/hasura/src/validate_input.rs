//! A permission's `validate_input` (input validation webhook), parsed as
//! graphql-engine parses it and written back as its `ToJSON` writes it.
//!
//! Source: `server/src-lib/Hasura/RQL/Types/Permission.hs`:
//! `FromJSON (ValidateInput webhook)` takes `type` (only `"http"`, else
//! `expecting only 'http' for 'type' but got <type>`) and `definition`;
//! `FromJSON (ValidateInputHttpDefinition webhook)` takes `url` and fills
//! `headers` (`[]`), `timeout` (`10`) and `forward_client_headers` (`false`).
//! Export (`Hasura/RQL/Types/Metadata/Serialization.hs`, `validateInputPair`)
//! uses `ToJSON`, `genericToJSON hasuraJSON`: every field, defaults included,
//! and nothing the parser did not read.
use serde_json::{json, Map, Value};

use crate::permissions::ParseErr;

fn err(path: &str, msg: impl Into<String>) -> ParseErr {
    ParseErr {
        path: format!(".validate_input{path}"),
        msg: msg.into(),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// The stored (and exported) form of `validate_input`, `None` when absent.
pub fn parse(o: &Map<String, Value>) -> Result<Option<Value>, ParseErr> {
    let v = match o.get("validate_input") {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let Value::Object(vi) = v else {
        return Err(err(
            "",
            format!(
                "parsing ValidateInput failed, expected Object, but encountered {}",
                kind(v)
            ),
        ));
    };
    match vi.get("type") {
        Some(Value::String(t)) if t == "http" => {}
        Some(Value::String(t)) => {
            return Err(err(
                "",
                format!("expecting only 'http' for 'type' but got {t}"),
            ))
        }
        Some(other) => {
            return Err(err(
                ".type",
                format!(
                    "parsing Text failed, expected String, but encountered {}",
                    kind(other)
                ),
            ))
        }
        None => return Err(err("", "key \"type\" not found")),
    }
    let def = match vi.get("definition") {
        Some(Value::Object(d)) => d,
        Some(other) => {
            return Err(err(
                ".definition",
                format!(
                "parsing ValidateInputHttpDefinition failed, expected Object, but encountered {}",
                kind(other)
            ),
            ))
        }
        None => return Err(err("", "key \"definition\" not found")),
    };
    let url = def
        .get("url")
        .ok_or_else(|| err(".definition", "key \"url\" not found"))?;
    let field = |k: &str, default: Value| match def.get(k) {
        None | Some(Value::Null) => default,
        Some(v) => v.clone(),
    };
    Ok(Some(json!({
        "definition": {
            "forward_client_headers": field("forward_client_headers", json!(false)),
            "headers": field("headers", json!([])),
            "timeout": field("timeout", json!(10)),
            "url": url,
        },
        "type": "http",
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn defaults_are_filled_and_unknown_keys_dropped() {
        let got = parse(&obj(json!({"validate_input": {"type": "http", "definition": {"url": "http://x", "extra": 1}}})))
            .unwrap()
            .unwrap();
        assert_eq!(
            got,
            json!({"type": "http", "definition": {"url": "http://x", "headers": [], "timeout": 10, "forward_client_headers": false}})
        );
        let e = parse(&obj(
            json!({"validate_input": {"type": "grpc", "definition": {}}}),
        ))
        .unwrap_err();
        assert_eq!(e.msg, "expecting only 'http' for 'type' but got grpc");
        assert!(parse(&obj(json!({}))).unwrap().is_none());
    }
}
