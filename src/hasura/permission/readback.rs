//! A permission as `export_metadata` shows it, read back into the model by
//! Hasura's export rules so that a permission Terraform wrote never diffs.

use serde::Deserialize;
use serde_json::Value as J;

use crate::framework::json_string::canonical;
use crate::framework::{Diagnostics, Known, Null, Value};

use super::super::client::Export;
use super::super::table::keyed::TableKeyed;
use super::super::table::on_table::Exported;
use super::commands::{Columns, HasuraPermission};
use super::{defaults, names, same_names, Model, Names};

/// A `<action>_permissions[]` entry of an exported table.
#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(default)]
    permission: HasuraPermission,
    #[serde(default)]
    comment: Option<String>,
}

impl Exported for Model {
    type Entry = Entry;

    fn find(export: &Export, m: &Model) -> Result<Option<Entry>, Diagnostics> {
        let Some(entry) =
            export.permission(m.source(), m.schema(), m.table(), m.role(), m.action())
        else {
            return Ok(None);
        };
        Entry::deserialize(entry).map(Some).map_err(|e| {
            Diagnostics::error(
                "Failed to read Hasura metadata",
                format!("The exported {} permission of role {:?} on {}.{} is not in the form Hasura exports: {e}", m.action(), m.role(), m.schema(), m.table()),
            )
        })
    }

    /// The model for an exported entry, read by Hasura's export rules:
    /// defaults (`false`, `[]`, `{}`, null update `check`) are omitted on
    /// export, so an absent value is the action's default (see `defaults`).
    fn from_entry(entry: Entry, prior: &Model) -> Model {
        let p = entry.permission;
        let action = prior.action();
        let json_attr = |v: Option<J>| -> Value<String> { Value::from(v.as_ref().map(canonical)) };
        let columns = match p.columns {
            Some(Columns::All(s)) => names([s]),
            Some(Columns::Listed(c)) => list_attr(Some(c), &prior.columns),
            None => list_attr(None, &prior.columns),
        };
        let set = match p.set {
            Some(m) if !m.is_empty() => Known(
                m.into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            J::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, Known(v))
                    })
                    .collect(),
            ),
            _ => defaults::exported_set(action),
        };
        // Hasura writes the webhook's defaults back out: the prior's
        // spelling stands while it means the same.
        let validate_input = match (json_attr(p.validate_input), prior.validate_input.as_deref()) {
            (Known(got), Some(was)) if defaults::same_validate_input(&got, was) => {
                Known(was.to_string())
            }
            (got, _) => got,
        };
        Model {
            columns,
            filter: json_attr(p.filter),
            check: json_attr(p.check),
            set,
            limit: p.limit.into(),
            allow_aggregations: defaults::exported_bool(
                "allow_aggregations",
                action,
                p.allow_aggregations,
            ),
            computed_fields: match p.computed_fields {
                Some(c) => list_attr(Some(c), &prior.computed_fields),
                None => defaults::exported_names("computed_fields", action),
            },
            query_root_fields: p.query_root_fields.map_or(Null, names),
            subscription_root_fields: p.subscription_root_fields.map_or(Null, names),
            backend_only: defaults::exported_bool("backend_only", action, p.backend_only),
            validate_input,
            comment: entry.comment.into(),
            ..Model::key_of(prior)
        }
    }
}

/// Lists Hasura may reorder: keep the prior order when they hold the same names.
fn list_attr(got: Option<Vec<String>>, prior: &Names) -> Names {
    match got {
        Some(got) => {
            let got = names(got);
            if same_names(&got, prior) {
                prior.clone()
            } else {
                got
            }
        }
        None => Null,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use std::collections::BTreeMap;

    use super::super::tests::prior;
    use super::*;

    fn from_export(entry: J, prior: &Model) -> Model {
        Model::from_entry(serde_json::from_value(entry).unwrap(), prior)
    }

    #[test]
    fn export_rules_never_diff() {
        // Hasura omits false/empty defaults and writes update `check` as null.
        let mut p = prior("update");
        p.columns = names(["name", "id"]);
        p.filter = r#"{"id":{"_eq":"X-Hasura-User-Id"}}"#.into();
        p.set = Known(BTreeMap::new());
        p.backend_only = false.into();
        let entry = json!({"role": "user", "permission": {"columns": ["id", "name"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}, "check": null}});
        let m = from_export(entry.clone(), &p);
        assert_eq!(m.columns, p.columns);
        assert_eq!(m.check, Null);
        assert_eq!(m.set, Known(BTreeMap::new()));
        assert_eq!(
            from_export(entry, &prior("update")).set,
            Known(BTreeMap::new())
        );
        assert_eq!(m.backend_only, Known(false));
        assert_eq!(m.filter, p.filter);
        assert_eq!(m.id.as_deref(), Some("default.public.users.user.update"));

        let mut s = prior("select");
        s.columns = names(["*"]);
        s.allow_aggregations = Null;
        s.query_root_fields = Known(vec![]);
        let entry = json!({"role": "user", "permission": {"columns": "*", "filter": {}, "query_root_fields": [], "limit": 5}, "comment": "c"});
        let m = from_export(entry, &s);
        assert_eq!(m.columns, names(["*"]));
        assert_eq!(m.filter.as_deref(), Some("{}"));
        // Left out on export: Hasura's default, whatever the prior said.
        assert_eq!(m.allow_aggregations, Known(false));
        assert_eq!(m.computed_fields, Known(vec![]));
        assert_eq!(m.backend_only, Null);
        assert_eq!(m.set, Null);
        assert_eq!(m.query_root_fields, Known(vec![]));
        assert_eq!(m.limit, Known(5));
        assert_eq!(m.comment.as_deref(), Some("c"));

        // A real change is seen.
        let entry = json!({"role": "user", "permission": {"columns": ["id"], "filter": {"id": {"_eq": 1}}, "allow_aggregations": true, "set": {"n": 1}}});
        let m = from_export(entry, &s);
        assert_eq!(m.columns, names(["id"]));
        assert_eq!(m.allow_aggregations, Known(true));
        assert_eq!(m.filter.as_deref(), Some(r#"{"id":{"_eq":1}}"#));
        assert_eq!(
            m.set,
            Known([("n".to_string(), Known("1".to_string()))].into())
        );
    }
}
