//! A tracked table's `configuration` (graphql-engine `TableConfig`,
//! `server/src-lib/Hasura/Table/Cache.hs`): parsed with its `FromJSON`
//! rules (GraphQL names, custom root fields) and written with its `ToJSON`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::permissions::ParseErr;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnConfig {
    pub custom_name: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableConfig {
    pub custom_name: Option<String>,
    /// Root field -> normalised value (`"name"` or `{"comment","name"}`).
    pub custom_root_fields: BTreeMap<String, Value>,
    pub column_config: BTreeMap<String, ColumnConfig>,
    pub comment: Option<String>,
}

/// `TableCustomRootFields` (graphql-engine `server/src-lib/Hasura/Table/Cache.hs`):
/// every key its `FromJSON` reads; any other key is ignored, as there.
const ROOT_FIELDS: [&str; 11] = [
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

/// graphql-parser-hs `Language.GraphQL.Draft.Syntax.mkName`: `[_A-Za-z][_0-9A-Za-z]*`.
pub fn is_graphql_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `FromJSON Name` (`parseName`): "<text> is not valid GraphQL name".
fn graphql_name(path: &str, v: Option<&Value>) -> Result<Option<String>, ParseErr> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_graphql_name(s) => Ok(Some(s.clone())),
        Some(Value::String(s)) => Err(ParseErr {
            path: path.to_string(),
            msg: format!("{s} is not valid GraphQL name"),
        }),
        Some(_) => Err(ParseErr {
            path: path.to_string(),
            msg: "parsing Name failed, expected String".into(),
        }),
    }
}

impl TableConfig {
    pub fn is_empty(&self) -> bool {
        self.custom_name.is_none()
            && self.custom_root_fields.is_empty()
            && self
                .column_config
                .values()
                .all(|c| c == &ColumnConfig::default())
            && self.comment.is_none()
    }

    pub fn parse(v: &Value) -> Result<TableConfig, ParseErr> {
        let err = |path: &str, msg: String| ParseErr {
            path: path.to_string(),
            msg,
        };
        let o = match v {
            Value::Null => return Ok(TableConfig::default()),
            Value::Object(o) => o,
            _ => {
                return Err(err(
                    "",
                    "parsing TableConfig failed, expected Object".into(),
                ))
            }
        };
        let text = |k: &str, v: Option<&Value>| -> Result<Option<String>, ParseErr> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(err(
                    &format!(".{k}"),
                    "parsing Text failed, expected String".into(),
                )),
            }
        };
        let mut cfg = TableConfig {
            custom_name: graphql_name(".custom_name", o.get("custom_name"))?,
            comment: text("comment", o.get("comment"))?,
            ..Default::default()
        };
        if let Some(Value::Object(crf)) = o.get("custom_root_fields") {
            // `FromJSON CustomRootField`: a string that is not a GraphQL name
            // is no custom name (`G.mkName` gives Nothing); the `name` of the
            // object form is parsed as a `Name` and refused.
            for k in ROOT_FIELDS {
                let Some(v) = crf.get(k) else { continue };
                let path = format!(".custom_root_fields.{k}");
                let norm = match v {
                    Value::Null => continue,
                    Value::String(s) if is_graphql_name(s) => json!(s),
                    Value::String(_) => continue,
                    Value::Object(f) => {
                        let name = graphql_name(&format!("{path}.name"), f.get("name"))?;
                        match (name, f.get("comment")) {
                            (None, None | Some(Value::Null)) => continue,
                            (Some(n), None | Some(Value::Null)) => json!(n),
                            (n, Some(c)) => json!({"comment": c, "name": n}),
                        }
                    }
                    _ => {
                        return Err(err(
                            &path,
                            "parsing CustomRootField failed, expected Object, String or Null"
                                .into(),
                        ))
                    }
                };
                cfg.custom_root_fields.insert(k.to_string(), norm);
            }
            let mut names: Vec<&str> = cfg
                .custom_root_fields
                .values()
                .filter_map(|v| v.as_str().or_else(|| v.get("name")?.as_str()))
                .collect();
            names.sort_unstable();
            let mut dups: Vec<&str> = names
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect();
            dups.dedup();
            if !dups.is_empty() {
                return Err(err(
                    ".custom_root_fields",
                    format!(
                        "the following custom root field names are duplicated: {}",
                        english_list(&dups)
                    ),
                ));
            }
        }
        // The deprecated map only fills in what column_config does not say.
        if let Some(Value::Object(ccn)) = o.get("custom_column_names") {
            for (col, name) in ccn {
                if let Value::String(n) = name {
                    cfg.column_config
                        .entry(col.clone())
                        .or_default()
                        .custom_name = Some(n.clone());
                }
            }
        }
        if let Some(Value::Object(cc)) = o.get("column_config") {
            for (col, c) in cc {
                let c = c.as_object().cloned().unwrap_or_default();
                let entry = ColumnConfig {
                    custom_name: graphql_name(
                        &format!(".column_config.{col}.custom_name"),
                        c.get("custom_name"),
                    )?,
                    comment: text("comment", c.get("comment"))?,
                };
                cfg.column_config.insert(col.clone(), entry);
            }
        }
        cfg.column_config
            .retain(|_, c| c != &ColumnConfig::default());
        Ok(cfg)
    }

    /// Hasura's `ToJSON TableConfig` (an aeson object, so keys sorted), including the
    /// legacy `custom_column_names` echo of every `column_config.*.custom_name`.
    pub fn to_export(&self) -> Value {
        let mut m = Map::new();
        let mut cc = Map::new();
        let mut ccn = Map::new();
        for (col, c) in &self.column_config {
            let mut e = Map::new();
            if let Some(cm) = &c.comment {
                e.insert("comment".into(), json!(cm));
            }
            if let Some(n) = &c.custom_name {
                e.insert("custom_name".into(), json!(n));
                ccn.insert(col.clone(), json!(n));
            }
            if !e.is_empty() {
                cc.insert(col.clone(), Value::Object(e));
            }
        }
        m.insert("column_config".into(), Value::Object(cc));
        if let Some(c) = &self.comment {
            m.insert("comment".into(), json!(c));
        }
        m.insert("custom_column_names".into(), Value::Object(ccn));
        if let Some(n) = &self.custom_name {
            m.insert("custom_name".into(), json!(n));
        }
        m.insert(
            "custom_root_fields".into(),
            Value::Object(
                self.custom_root_fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        );
        Value::Object(m)
    }
}

/// Hasura's `englishList "and"`: "a", "a and b", "a, b and c".
fn english_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
