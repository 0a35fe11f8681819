//! Configuration checks of a permission: names, the admin role, columns,
//! root fields, boolean-expression operators, and which attributes each
//! action accepts or requires.
use crate::framework::{AttrPath, Diagnostics};

use super::super::ident::check_name;
use super::boolexp::check_operators;
use super::{Model, ACTIONS, QUERY_ROOT, SUBSCRIPTION_ROOT};

/// Which optional attributes each action accepts, and which it requires.
fn applies(attr: &str, action: &str) -> bool {
    match attr {
        "columns" => action != "delete",
        "filter" => action != "insert",
        "check" | "set" => matches!(action, "insert" | "update"),
        "limit"
        | "allow_aggregations"
        | "computed_fields"
        | "query_root_fields"
        | "subscription_root_fields" => action == "select",
        "backend_only" | "validate_input" => action != "select",
        _ => true,
    }
}

fn required(attr: &str, action: &str) -> bool {
    match attr {
        "columns" => matches!(action, "select" | "update"),
        "filter" => action != "insert",
        "check" => action == "insert",
        _ => false,
    }
}

impl Model {
    /// The attributes only some actions take, each with whether it is set
    /// (an unknown value counts as set).
    fn action_specific(&self) -> [(&'static str, bool); 11] {
        [
            ("columns", !self.columns.is_null()),
            ("filter", !self.filter.is_null()),
            ("check", !self.check.is_null()),
            ("set", !self.set.is_null()),
            ("limit", !self.limit.is_null()),
            ("allow_aggregations", !self.allow_aggregations.is_null()),
            ("computed_fields", !self.computed_fields.is_null()),
            ("query_root_fields", !self.query_root_fields.is_null()),
            (
                "subscription_root_fields",
                !self.subscription_root_fields.is_null(),
            ),
            ("backend_only", !self.backend_only.is_null()),
            ("validate_input", !self.validate_input.is_null()),
        ]
    }

    pub(super) fn check(&self, diags: &mut Diagnostics) {
        check_operators("filter", &self.filter, diags);
        check_operators("check", &self.check, diags);
        for (attr, v) in [
            ("source", &self.source),
            ("schema", &self.schema),
            ("table", &self.table),
            ("role", &self.role),
        ] {
            if let Some(s) = v.as_deref() {
                if let Err(e) = check_name(s) {
                    diags.add_attr_error(
                        AttrPath::attr(attr),
                        "Invalid name",
                        format!("`{attr}` {e}."),
                    );
                }
            }
        }
        if self.role.as_deref() == Some("admin") {
            diags.add_attr_error(
                AttrPath::attr("role"),
                "Cannot define permissions for admin",
                "The `admin` role always has full access; Hasura refuses permissions for it.",
            );
        }
        self.check_columns(diags);
        for (attr, allowed, fields) in [
            ("query_root_fields", QUERY_ROOT, &self.query_root_fields),
            (
                "subscription_root_fields",
                SUBSCRIPTION_ROOT,
                &self.subscription_root_fields,
            ),
        ] {
            let fields = fields.elements().iter().filter_map(|f| f.as_deref());
            for f in fields.filter(|f| !allowed.contains(f)) {
                diags.add_attr_error(
                    AttrPath::attr(attr),
                    "Invalid root field",
                    format!(
                        "`{attr}` contains {f:?}; allowed values are {}.",
                        allowed.join(", ")
                    ),
                );
            }
        }
        // Hasura's select-permission build refuses it (400 invalid-configuration).
        let aggregates =
            !self.allow_aggregations.is_unknown() && self.allow_aggregations.known() != Some(&true);
        if aggregates && self.action.as_deref() == Some("select") {
            for (attr, fields) in [
                ("query_root_fields", &self.query_root_fields),
                ("subscription_root_fields", &self.subscription_root_fields),
            ] {
                if fields
                    .elements()
                    .iter()
                    .any(|f| f.as_deref() == Some("select_aggregate"))
                {
                    diags.add_attr_error(
                        AttrPath::attr(attr),
                        "Aggregations not allowed",
                        format!("`{attr}` contains \"select_aggregate\", which Hasura only allows with `allow_aggregations = true`."),
                    );
                }
            }
        }
        let Some(action) = self.action.as_deref().filter(|a| ACTIONS.contains(a)) else {
            return;
        };
        for (attr, set) in self.action_specific() {
            if set && !applies(attr, action) {
                diags.add_attr_error(
                    AttrPath::attr(attr),
                    "Attribute does not apply to this action",
                    format!("`{attr}` does not apply to {action} permissions; remove it."),
                );
            }
            if !set && required(attr, action) {
                diags.add_attr_error(
                    AttrPath::attr(attr),
                    "Missing required attribute",
                    format!("{action} permissions require `{attr}`."),
                );
            }
        }
    }

    fn check_columns(&self, diags: &mut Diagnostics) {
        let cols = self.columns.elements();
        let star = cols.iter().any(|c| c.as_deref() == Some("*"));
        if star && cols.len() > 1 {
            diags.add_attr_error(
                AttrPath::attr("columns"),
                "Invalid columns",
                "`[\"*\"]` means all columns and cannot be combined with column names.",
            );
        }
        for (i, c) in cols.iter().enumerate() {
            if let Some(c) = c.as_deref().filter(|c| *c != "*") {
                if let Err(e) = check_name(c) {
                    diags.add_attr_error(
                        AttrPath::attr("columns").index(i),
                        "Invalid column name",
                        format!("`columns[{i}]` {e}."),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::names;
    use super::super::tests::prior;
    use super::*;

    #[test]
    fn applicability() {
        assert!(applies("limit", "select") && !applies("limit", "insert"));
        assert!(!applies("filter", "insert") && !applies("columns", "delete"));
        assert!(required("check", "insert") && !required("check", "update"));
    }

    fn errors(m: &Model) -> Vec<(String, String)> {
        let mut diags = Diagnostics::new();
        m.check(&mut diags);
        diags
            .0
            .into_iter()
            .map(|d| (d.path.map(|p| p.to_string()).unwrap_or_default(), d.summary))
            .collect()
    }

    #[test]
    fn checks_point_at_the_attribute() {
        let mut m = prior("insert");
        m.check = r#"{"id": {"_eqq": 1}}"#.into();
        m.limit = 5.into();
        m.columns = names(["*", "id"]);
        m.role = "admin".into();
        assert_eq!(
            errors(&m),
            [
                ("check", "Unknown boolean-expression operator"),
                ("role", "Cannot define permissions for admin"),
                ("columns", "Invalid columns"),
                ("limit", "Attribute does not apply to this action"),
            ]
            .map(|(a, s)| (a.to_string(), s.to_string()))
        );
        let mut s = prior("select");
        s.query_root_fields = names(["select", "drop_everything"]);
        s.columns = names(["id", "a\"b"]);
        assert_eq!(
            errors(&s),
            [
                ("columns[1]", "Invalid column name"),
                ("query_root_fields", "Invalid root field"),
                ("filter", "Missing required attribute"),
            ]
            .map(|(a, s)| (a.to_string(), s.to_string()))
        );
    }

    #[test]
    fn select_aggregate_needs_aggregations() {
        let mut s = prior("select");
        s.filter = "{}".into();
        s.columns = names(["id"]);
        s.subscription_root_fields = names(["select_aggregate"]);
        let refused = [(
            "subscription_root_fields".to_string(),
            "Aggregations not allowed".to_string(),
        )];
        assert_eq!(errors(&s), refused, "unset means false");
        s.allow_aggregations = false.into();
        assert_eq!(errors(&s), refused);
        s.allow_aggregations = true.into();
        assert!(errors(&s).is_empty(), "{:?}", errors(&s));
        s.allow_aggregations = crate::framework::Value::Unknown;
        assert!(errors(&s).is_empty(), "unknown until apply: Hasura decides");
    }
}
