//! The metadata commands a permission is written with
//! (`pg_create_<action>_permission`, `pg_drop_<action>_permission`), and the
//! attribute a rejection of them is about.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};

use crate::framework::{AttrPath, Diagnostics, Value};

use super::super::client::metadata::qualified_table;
use super::super::client::HasuraError;
use super::super::table::keyed::TableKeyed;
use super::super::table::on_table::MetadataObject;
use super::{known_names, Model};

/// The `permission` object as Hasura takes it in a create command and gives
/// it back in `export_metadata`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct HasuraPermission {
    pub columns: Option<Columns>,
    pub filter: Option<J>,
    pub check: Option<J>,
    pub validate_input: Option<J>,
    /// Presets: values are strings when written, but any JSON may come back.
    pub set: Option<BTreeMap<String, J>>,
    pub limit: Option<i64>,
    pub allow_aggregations: Option<bool>,
    pub backend_only: Option<bool>,
    pub computed_fields: Option<Vec<String>>,
    pub query_root_fields: Option<Vec<String>>,
    pub subscription_root_fields: Option<Vec<String>>,
}

/// `"*"` (all columns, including ones added later) or a list of names.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub(super) enum Columns {
    All(String),
    Listed(Vec<String>),
}

/// The arguments of a create or drop command; a drop has no permission.
#[derive(Serialize)]
struct Args<'a> {
    source: &'a str,
    table: J,
    role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    permission: Option<J>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
}

/// A JSON-string attribute as the JSON it holds.
fn parse_json(attr: &str, s: &Value<String>) -> Result<Option<J>, Diagnostics> {
    s.as_deref()
        .map(|s| {
            serde_json::from_str(s).map_err(|e| {
                Diagnostics::attr_error(
                    AttrPath::attr(attr),
                    "Invalid JSON",
                    format!("`{attr}` is not valid JSON: {e}"),
                )
            })
        })
        .transpose()
}

impl Model {
    /// The `permission` object Hasura expects for this action.
    fn permission(&self) -> Result<HasuraPermission, Diagnostics> {
        let columns = known_names(&self.columns).map(|c| {
            if c.len() == 1 && c[0] == "*" {
                Columns::All("*".into())
            } else {
                Columns::Listed(c)
            }
        });
        let set = self.set.known().map(|s| {
            s.iter()
                .map(|(k, v)| (k.clone(), J::String(v.str_or("").into())))
                .collect()
        });
        Ok(HasuraPermission {
            columns,
            filter: parse_json("filter", &self.filter)?,
            check: parse_json("check", &self.check)?,
            validate_input: parse_json("validate_input", &self.validate_input)?,
            set,
            limit: self.limit.known().copied(),
            allow_aggregations: self.allow_aggregations.known().copied(),
            backend_only: self.backend_only.known().copied(),
            computed_fields: known_names(&self.computed_fields),
            query_root_fields: known_names(&self.query_root_fields),
            subscription_root_fields: known_names(&self.subscription_root_fields),
        })
    }

    fn command(&self, verb: &str, permission: Option<J>) -> J {
        let args = Args {
            source: self.source(),
            table: qualified_table(self.schema(), self.table()),
            role: self.role(),
            comment: permission.as_ref().and(self.comment.as_deref()),
            permission,
        };
        json!({"type": format!("pg_{verb}_{}_permission", self.action()), "args": args})
    }

    pub(super) fn create_command(&self) -> Result<J, Diagnostics> {
        // Unset attributes are left out, not sent as null.
        let mut permission = json!(self.permission()?);
        if let J::Object(attrs) = &mut permission {
            attrs.retain(|_, v| !v.is_null());
        }
        Ok(self.command("create", Some(permission)))
    }

    pub(super) fn drop_command(&self) -> J {
        self.command("drop", None)
    }
}

impl MetadataObject for Model {
    const KIND: &'static str = "permission";

    fn blamed(&self, e: &HasuraError) -> Option<AttrPath> {
        self.blamed_attribute(&e.to_string()).map(AttrPath::attr)
    }
}

impl Model {
    /// The attribute a rejection from Hasura is about, so Terraform points at
    /// the right line: an unknown table, or an unknown column named in
    /// `columns` or else in the boolean expression (`filter`, or `check` for inserts).
    fn blamed_attribute(&self, message: &str) -> Option<&'static str> {
        // Hasura names the missing object in quotes right before "does not exist".
        let before = &message[..message.find("does not exist")?];
        let subject = last_quoted(before)?;
        // Without "in permission" the error is about the table itself.
        if !before.contains("in permission") {
            return Some("table");
        }
        if self
            .columns
            .elements()
            .iter()
            .any(|c| c.as_deref() == Some(subject))
        {
            return Some("columns");
        }
        Some(if self.filter.is_null() {
            "check"
        } else {
            "filter"
        })
    }
}

/// The last double-quoted name in `text`.
fn last_quoted(text: &str) -> Option<&str> {
    let end = text.rfind('"')?;
    let start = text[..end].rfind('"')? + 1;
    Some(&text[start..end])
}

#[cfg(test)]
mod tests {
    use super::super::tests::prior;
    use super::super::{names, Model};
    use super::*;

    #[test]
    fn hasura_rejections_point_at_the_attribute() {
        let m = Model {
            columns: names(["id", "ghost"]),
            filter: "{}".into(),
            ..Default::default()
        };
        let col = r#"Inconsistent object: in table "users": in permission for role "user": column "ghost" does not exist"#;
        assert_eq!(m.blamed_attribute(col), Some("columns"));
        let filt =
            r#"in table "users": in permission for role "user": column "nope" does not exist"#;
        assert_eq!(m.blamed_attribute(filt), Some("filter"));
        assert_eq!(
            m.blamed_attribute(r#"table "nope" does not exist in source: default"#),
            Some("table")
        );
        assert_eq!(m.blamed_attribute("HTTP 500: internal error"), None);
    }

    #[test]
    fn commands() {
        let mut m = prior("select");
        m.columns = names(["*"]);
        m.filter = r#"{"id":{"_eq":"X-Hasura-User-Id"}}"#.into();
        m.comment = "c".into();
        let c = m.create_command().unwrap();
        assert_eq!(c["type"], "pg_create_select_permission");
        assert_eq!(
            c["args"],
            json!({
                "source": "default", "table": {"schema": "public", "name": "users"}, "role": "user",
                "permission": {"columns": "*", "filter": {"id": {"_eq": "X-Hasura-User-Id"}}},
                "comment": "c",
            })
        );
        assert_eq!(
            m.drop_command(),
            json!({"type": "pg_drop_select_permission", "args": {"source": "default", "table": {"schema": "public", "name": "users"}, "role": "user"}})
        );

        let mut u = prior("update");
        u.columns = names(["id", "name"]);
        u.set = Value::Known([("owner".to_string(), "X-Hasura-User-Id".into())].into());
        u.backend_only = false.into();
        u.check = "{".into();
        let e = u.create_command().unwrap_err();
        assert_eq!(e.0[0].path, Some(AttrPath::attr("check")));
        u.check = Value::Null;
        let p = &u.create_command().unwrap()["args"]["permission"];
        assert_eq!(
            *p,
            json!({"columns": ["id", "name"], "set": {"owner": "X-Hasura-User-Id"}, "backend_only": false})
        );
    }
}
