//! `hasura_permission`: one role's insert/select/update/delete permission on
//! a tracked table. Reads come from the cached `export_metadata`. Writes go
//! through the engine's batcher (`Engine::write`): concurrent creates, updates
//! and deletes of one provider process share one `bulk` carrying the current
//! `resource_version`; an update's drop + create stay together in it, so the
//! role never loses its permission mid-apply.
use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};

use crate::framework::json_string::{canonical, json_eq};
use crate::framework::legacy::{decode, encode, LegacyApplyError, LegacyResource, PlanContext};
use crate::framework::IntoDiags;
use crate::framework::{
    Attribute, Ctx, Diagnostics, IntBetween, JsonObject, OneOf, RequiresReplace, Schema,
};
use crate::plugin::cty::{AttrPath, Type, Value};

use super::client::catalog::PlannedColumns;
use super::client::metadata::{is_already_gone, qualified_table};
use super::client::{Engine, HasuraClient, HasuraError};
use super::ident::{check_name, format_id, parse_id};

pub struct PermissionResource;

const ACTIONS: &[&str] = &["select", "insert", "update", "delete"];
const QUERY_ROOT: &[&str] = &["select", "select_by_pk", "select_aggregate"];
const SUBSCRIPTION_ROOT: &[&str] = &[
    "select",
    "select_by_pk",
    "select_aggregate",
    "select_stream",
];

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct Model {
    id: Option<String>,
    source: Option<String>,
    schema: Option<String>,
    table: Option<String>,
    role: Option<String>,
    action: Option<String>,
    columns: Option<Vec<String>>,
    filter: Option<String>,
    check: Option<String>,
    set: Option<BTreeMap<String, String>>,
    limit: Option<i64>,
    allow_aggregations: Option<bool>,
    computed_fields: Option<Vec<String>>,
    query_root_fields: Option<Vec<String>>,
    subscription_root_fields: Option<Vec<String>>,
    backend_only: Option<bool>,
    validate_input: Option<String>,
    comment: Option<String>,
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
            .as_ref()
            .is_some_and(|c| c.iter().any(|x| x == &subject))
        {
            return Some("columns");
        }
        Some(if self.filter.is_some() {
            "filter"
        } else {
            "check"
        })
    }
}

/// The last double-quoted name in `text`.
fn last_quoted(text: &str) -> Option<String> {
    let end = text.rfind('"')?;
    let start = text[..end].rfind('"')? + 1;
    Some(text[start..end].to_string())
}

/// Comparison operators of Hasura's PostgreSQL boolean expressions.
const OPERATORS: &[&str] = &[
    "_eq",
    "_neq",
    "_in",
    "_nin",
    "_gt",
    "_lt",
    "_gte",
    "_lte",
    "_is_null",
    "_like",
    "_nlike",
    "_ilike",
    "_nilike",
    "_similar",
    "_nsimilar",
    "_regex",
    "_nregex",
    "_iregex",
    "_niregex",
    "_contains",
    "_contained_in",
    "_has_key",
    "_has_keys_any",
    "_has_keys_all",
    "_ceq",
    "_cne",
    "_cgt",
    "_clt",
    "_cgte",
    "_clte",
    "_ancestor",
    "_ancestor_any",
    "_descendant",
    "_descendant_any",
    "_matches",
    "_matches_any",
    "_matches_fulltext",
    "_cast",
];

/// Rejects misspelt operators (`{"id": {"_eqq": 1}}`), which Hasura would
/// otherwise refuse only at apply time. Column names may start with `_`, so
/// only a `_` key whose value is not itself a comparison object is flagged.
struct BoolExpOperators;

impl crate::framework::Validator for BoolExpOperators {
    fn validate(&self, v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
        let Some(Ok(json)) = v.as_str().map(serde_json::from_str::<serde_json::Value>) else {
            return;
        };
        let mut bad = Vec::new();
        unknown_operators(&json, &mut bad);
        for op in bad {
            diags.add_attr_error(
                path.clone(),
                "Unknown boolean-expression operator",
                format!("`{path}` uses {op:?}, which is not a Hasura comparison operator (e.g. `_eq`, `_neq`, `_in`, `_gt`, `_is_null`, `_like`; combine with `_and`, `_or`, `_not`)."),
            );
        }
    }
}

fn unknown_operators(exp: &serde_json::Value, bad: &mut Vec<String>) {
    let Some(obj) = exp.as_object() else { return };
    for (key, val) in obj {
        match key.as_str() {
            "_and" | "_or" => val
                .as_array()
                .into_iter()
                .flatten()
                .for_each(|e| unknown_operators(e, bad)),
            "_not" => unknown_operators(val, bad),
            "_exists" => {
                unknown_operators(val.get("_where").unwrap_or(&serde_json::Value::Null), bad)
            }
            // A column (or relationship): its keys are operators, or a nested expression.
            _ => {
                let Some(cmp) = val.as_object() else { continue };
                for (op, arg) in cmp {
                    let known = OPERATORS.contains(&op.as_str())
                        || op.starts_with("_st_")
                        || matches!(op.as_str(), "_and" | "_or" | "_not" | "_exists");
                    if op.starts_with('_') && !known && !arg.is_object() {
                        bad.push(op.clone());
                    }
                }
                // Operator arguments (e.g. jsonb `_contains`) are data, not expressions.
                if !OPERATORS.contains(&key.as_str()) {
                    unknown_operators(val, bad);
                }
            }
        }
    }
}

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

const OPTIONAL_ATTRS: &[&str] = &[
    "columns",
    "filter",
    "check",
    "set",
    "limit",
    "allow_aggregations",
    "computed_fields",
    "query_root_fields",
    "subscription_root_fields",
    "backend_only",
    "validate_input",
];

impl Model {
    fn source(&self) -> &str {
        self.source.as_deref().unwrap_or("default")
    }
    fn schema(&self) -> &str {
        self.schema.as_deref().unwrap_or("public")
    }
    fn table(&self) -> &str {
        self.table.as_deref().unwrap_or_default()
    }
    fn role(&self) -> &str {
        self.role.as_deref().unwrap_or_default()
    }
    fn action(&self) -> &str {
        self.action.as_deref().unwrap_or("select")
    }
    fn id(&self) -> String {
        format_id(&[
            self.source(),
            self.schema(),
            self.table(),
            self.role(),
            self.action(),
        ])
    }

    /// The `permission` object Hasura expects for this action.
    fn permission(&self) -> Result<J, Diagnostics> {
        let parse = |attr: &str, s: &Option<String>| -> Result<Option<J>, Diagnostics> {
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
        };
        let mut p = serde_json::Map::new();
        if let Some(c) = &self.columns {
            p.insert(
                "columns".into(),
                if c.len() == 1 && c[0] == "*" {
                    json!("*")
                } else {
                    json!(c)
                },
            );
        }
        for (attr, v) in [
            ("filter", &self.filter),
            ("check", &self.check),
            ("validate_input", &self.validate_input),
        ] {
            if let Some(j) = parse(attr, v)? {
                p.insert(attr.into(), j);
            }
        }
        if let Some(s) = &self.set {
            p.insert("set".into(), json!(s));
        }
        if let Some(l) = self.limit {
            p.insert("limit".into(), json!(l));
        }
        for (attr, v) in [
            ("allow_aggregations", self.allow_aggregations),
            ("backend_only", self.backend_only),
        ] {
            if let Some(b) = v {
                p.insert(attr.into(), json!(b));
            }
        }
        for (attr, v) in [
            ("computed_fields", &self.computed_fields),
            ("query_root_fields", &self.query_root_fields),
            ("subscription_root_fields", &self.subscription_root_fields),
        ] {
            if let Some(l) = v {
                p.insert(attr.into(), json!(l));
            }
        }
        Ok(J::Object(p))
    }

    fn create_command(&self) -> Result<J, Diagnostics> {
        let mut args = json!({
            "source": self.source(),
            "table": qualified_table(self.schema(), self.table()),
            "role": self.role(),
            "permission": self.permission()?,
        });
        if let Some(c) = &self.comment {
            args["comment"] = json!(c);
        }
        Ok(json!({"type": format!("pg_create_{}_permission", self.action()), "args": args}))
    }

    fn drop_command(&self) -> J {
        json!({
            "type": format!("pg_drop_{}_permission", self.action()),
            "args": {"source": self.source(), "table": qualified_table(self.schema(), self.table()), "role": self.role()},
        })
    }

    /// The model for an exported entry, read by Hasura's export rules:
    /// defaults (`false`, `[]`, `{}`, null update `check`) are omitted on
    /// export, so an absent value equals the prior's explicit default.
    fn from_export(entry: &J, prior: &Model) -> Model {
        let p = entry.get("permission").cloned().unwrap_or(J::Null);
        let get = |k: &str| p.get(k).filter(|v| !v.is_null());
        let json_attr = |k: &str| get(k).map(canonical);
        let bool_attr = |k: &str, prior: Option<bool>| match get(k).and_then(J::as_bool) {
            Some(true) => Some(true),
            _ if prior == Some(false) => Some(false),
            _ => None,
        };
        let strings = |v: &J| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        // Lists Hasura may reorder: keep the prior order when they hold the same names.
        let list_attr = |k: &str, prior: &Option<Vec<String>>| -> Option<Vec<String>> {
            match get(k) {
                Some(v) => {
                    let got = strings(v);
                    match prior {
                        Some(pl) if same_set(pl, &got) => Some(pl.clone()),
                        _ => Some(got),
                    }
                }
                None if prior.as_ref().is_some_and(|l| l.is_empty()) => Some(vec![]),
                None => None,
            }
        };
        let columns = match get("columns") {
            Some(J::String(s)) if s == "*" => Some(vec!["*".to_string()]),
            _ => list_attr("columns", &prior.columns),
        };
        let set = match get("set").and_then(J::as_object) {
            Some(m) if !m.is_empty() => Some(
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect(),
            ),
            _ if prior.set.as_ref().is_some_and(BTreeMap::is_empty) => Some(BTreeMap::new()),
            _ => None,
        };
        Model {
            id: Some(prior.id()),
            source: Some(prior.source().into()),
            schema: Some(prior.schema().into()),
            table: Some(prior.table().into()),
            role: Some(prior.role().into()),
            action: Some(prior.action().into()),
            columns,
            filter: json_attr("filter"),
            check: json_attr("check"),
            set,
            limit: get("limit").and_then(J::as_i64),
            allow_aggregations: bool_attr("allow_aggregations", prior.allow_aggregations),
            computed_fields: list_attr("computed_fields", &prior.computed_fields),
            query_root_fields: get("query_root_fields").map(strings),
            subscription_root_fields: get("subscription_root_fields").map(strings),
            backend_only: bool_attr("backend_only", prior.backend_only),
            validate_input: json_attr("validate_input"),
            comment: entry.get("comment").and_then(J::as_str).map(str::to_string),
        }
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

async fn read_entry(
    engine: &Engine,
    ctx: &Ctx,
    m: &Model,
) -> Result<(i64, Option<J>), HasuraError> {
    let export = engine.export(&ctx.cancel).await?;
    Ok((
        export.resource_version,
        export
            .permission(m.source(), m.schema(), m.table(), m.role(), m.action())
            .cloned(),
    ))
}

#[async_trait]
impl LegacyResource for PermissionResource {
    fn type_name(&self) -> &'static str {
        "hasura_permission"
    }

    fn schema(&self) -> Schema {
        let only = |a: &str| {
            format!("Only for {a} permissions; setting it for another action is an error.")
        };
        Schema::new(
            "A role's permission on a tracked table (`pg_create_<action>_permission`). Changing `source`, `schema`, `table`, `role` or `action` replaces it; any other change drops and re-creates it in one atomic `bulk` request guarded by the metadata `resource_version`, so the role is never without a permission. Import with `<source>.<schema>.<table>.<role>.<action>`, e.g. `default.public.users.user.select`; a part containing a `.` is written in double quotes with inner quotes doubled.",
            vec![
                Attribute::string("id").computed().describe("`<source>.<schema>.<table>.<role>.<action>`, the import id."),
                Attribute::string("source").default(Value::string("default")).plan(RequiresReplace).describe("Hasura database (source) name. Default `default`."),
                Attribute::string("schema").default(Value::string("public")).plan(RequiresReplace).describe("PostgreSQL schema of the table. Default `public`."),
                Attribute::string("table").required().plan(RequiresReplace).describe("The tracked table the permission is on."),
                Attribute::string("role").required().plan(RequiresReplace).describe("The role it applies to (`X-Hasura-Role`). `admin` always has full access and cannot be given permissions."),
                Attribute::string("action").required().plan(RequiresReplace).validate(OneOf(ACTIONS)).describe("One of `select`, `insert`, `update`, `delete`."),
                Attribute::typed("columns", Type::list(Type::String)).optional().describe("Columns the role may read (select), set (insert, update). `[\"*\"]` means all columns, including ones added later. Required for select and update; optional for insert (all columns when unset); not allowed for delete. Compared as a set. Every column must exist in the table once the plan is applied, or the plan fails: when `table` refers to a `hasura_table` (e.g. `hasura_table.users.name`), a column it adds in the same apply counts and one it drops does not."),
                Attribute::string("filter").optional().validate(JsonObject).validate(BoolExpOperators).semantic_eq(json_eq).describe("Row filter, a Hasura boolean expression as JSON (`jsonencode({id = {_eq = \"X-Hasura-User-Id\"}})`); `{}` allows every row. Required for select, update and delete; not allowed for insert. Compared by meaning, so key order and whitespace never cause a diff."),
                Attribute::string("check").optional().validate(JsonObject).validate(BoolExpOperators).semantic_eq(json_eq).describe("Boolean expression (JSON) every inserted row, or every row after an update, must satisfy. Required for insert, optional for update."),
                Attribute::typed("set", Type::map(Type::String)).optional().describe("Column presets: column -> static value or session variable name (`X-Hasura-User-Id`). Insert and update only."),
                Attribute::int("limit").optional().validate(IntBetween(0, i64::MAX)).describe(only("select") + " Maximum number of rows returned."),
                Attribute::bool("allow_aggregations").optional().describe(only("select") + " Allows aggregate queries. Unset means `false`."),
                Attribute::typed("computed_fields", Type::list(Type::String)).optional().describe(only("select") + " Computed fields the role may read."),
                Attribute::typed("query_root_fields", Type::set(Type::String)).optional().describe(only("select") + " Query root fields exposed: any of `select`, `select_by_pk`, `select_aggregate`. Unset exposes all; `[]` exposes none (useful for access through relationships only)."),
                Attribute::typed("subscription_root_fields", Type::set(Type::String)).optional().describe(only("select") + " Subscription root fields exposed: any of `select`, `select_by_pk`, `select_aggregate`, `select_stream`. Unset exposes all; `[]` exposes none."),
                Attribute::bool("backend_only").optional().describe("Insert, update and delete only: the permission applies only to requests with the admin secret and `x-hasura-use-backend-only-permissions: true`. Unset means `false`."),
                Attribute::string("validate_input").optional().validate(JsonObject).semantic_eq(json_eq).describe("Insert, update and delete only: input validation webhook as JSON, e.g. `jsonencode({type = \"http\", definition = {url = \"https://...\"}})`."),
                Attribute::string("comment").optional().describe("Comment on the permission."),
            ],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        for attr in ["source", "schema", "table", "role"] {
            if let Some(s) = config.get(attr).as_str() {
                if let Err(e) = check_name(s) {
                    diags.add_attr_error(
                        AttrPath::attr(attr),
                        "Invalid name",
                        format!("`{attr}` {e}."),
                    );
                }
            }
        }
        if config.get("role").as_str() == Some("admin") {
            diags.add_attr_error(
                AttrPath::attr("role"),
                "Cannot define permissions for admin",
                "The `admin` role always has full access; Hasura refuses permissions for it.",
            );
        }
        if let Some(cols) = config.get("columns").elements() {
            let star = cols.iter().any(|c| c.as_str() == Some("*"));
            if star && cols.len() > 1 {
                diags.add_attr_error(
                    AttrPath::attr("columns"),
                    "Invalid columns",
                    "`[\"*\"]` means all columns and cannot be combined with column names.",
                );
            }
            for (i, c) in cols.iter().enumerate() {
                if let Some(c) = c.as_str().filter(|c| *c != "*") {
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
        for (attr, allowed) in [
            ("query_root_fields", QUERY_ROOT),
            ("subscription_root_fields", SUBSCRIPTION_ROOT),
        ] {
            for f in config.get(attr).elements().unwrap_or_default() {
                if let Some(f) = f.as_str().filter(|f| !allowed.contains(f)) {
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
        }
        let Some(action) = config.get("action").as_str() else {
            return;
        };
        if !ACTIONS.contains(&action) {
            return;
        }
        for attr in OPTIONAL_ATTRS {
            let v = config.get(attr);
            if !v.is_null() && !applies(attr, action) {
                diags.add_attr_error(
                    AttrPath::attr(attr),
                    "Attribute does not apply to this action",
                    format!("`{attr}` does not apply to {action} permissions; remove it."),
                );
            }
            if v.is_null() && required(attr, action) {
                diags.add_attr_error(
                    AttrPath::attr(attr),
                    "Missing required attribute",
                    format!("{action} permissions require `{attr}`."),
                );
            }
        }
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: PlanContext<'_>) {
        if plan.planned.is_null() {
            return;
        }
        let parts: Vec<Option<String>> = ["source", "schema", "table", "role", "action"]
            .iter()
            .map(|a| plan.planned.get(a).as_str().map(str::to_string))
            .collect();
        if parts.iter().all(Option::is_some) {
            let p: Vec<&str> = parts
                .iter()
                .map(|p| p.as_deref().unwrap_or_default())
                .collect();
            plan.planned.set("id", Value::string(format_id(&p)));
        } else {
            plan.planned.set("id", Value::Unknown);
        }
        // Same columns in another order are the same permission.
        if let Some(prior) = plan.prior {
            for attr in ["columns", "computed_fields"] {
                let (a, b) = (plan.planned.get(attr), prior.get(attr));
                if let (Some(x), Some(y)) = (a.elements(), b.elements()) {
                    let xs: Vec<String> = x
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect();
                    let ys: Vec<String> = y
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect();
                    if xs.len() == x.len() && same_set(&xs, &ys) {
                        plan.planned.set(attr, b.clone());
                    }
                }
            }
        }
        // Unknown columns would make Hasura reject the permission at apply time; say so now.
        let (Some(src), Some(sch), Some(tbl)) = (&parts[0], &parts[1], &parts[2]) else {
            return;
        };
        let Some(cols) = plan
            .config
            .get("columns")
            .elements()
            .filter(|_| plan.config.get("columns").is_wholly_known())
        else {
            return;
        };
        let names: Vec<(usize, &str)> = cols
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_str().map(|s| (i, s)))
            .filter(|(_, c)| *c != "*")
            .collect();
        if names.is_empty() {
            return;
        }
        let Ok(client) = ctx.client::<HasuraClient>() else {
            return;
        };
        let Ok(engine) = client.engine() else { return };
        // The table's own plan, made earlier in this process, is what the
        // table will be when this permission is applied: a column it adds
        // does not exist yet, one it drops still does.
        let listed = |columns: &[String]| columns.join(", ");
        let (columns, has) = match engine.planned_columns(src, sch, tbl) {
            Some(PlannedColumns::Known(columns)) => {
                let columns: Vec<String> = columns.into_iter().collect();
                let has = format!("will have no such column once this plan is applied (its planned columns: {})", listed(&columns));
                (columns, has)
            }
            Some(PlannedColumns::Dropped) => (
                Vec::new(),
                "is dropped by this plan (its hasura_table is destroyed, or replaced under another name)".to_string(),
            ),
            // Hasura's own error at apply time is attributed to `columns`.
            Some(PlannedColumns::Unknown) => return,
            // Not planned here (unchanged tables are planned too, so: not
            // managed by this configuration): the catalog is the truth. A
            // table that does not exist yet leaves nothing to check against.
            // The snapshot is shared by every permission of this plan, and
            // holds any table this process altered earlier in the apply walk.
            None => match engine.table_catalog(&ctx.cancel, src, sch, tbl).await {
                Ok(Some(cat)) => {
                    let columns: Vec<String> = cat.columns.into_iter().map(|c| c.name).collect();
                    let has = format!("has no such column (it has: {})", listed(&columns));
                    (columns, has)
                }
                _ => return,
            },
        };
        for (i, c) in names {
            if !columns.iter().any(|k| k == c) {
                plan.diags.add_attr_error(
                    AttrPath::attr("columns").index(i),
                    "Unknown column",
                    format!("`columns[{i}]` is {c:?}, but table {sch}.{tbl} {has}."),
                );
            }
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        _config: &Value,
    ) -> Result<Value, LegacyApplyError> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine().map_err(Diagnostics::from)?;
        let m: Model = decode(planned)?;
        // Batched with this process's concurrent metadata writes (one `bulk`).
        engine
            .write(&ctx.cancel, vec![m.create_command()?])
            .await
            .map_err(|e| {
                let hint = if e.code_is("already-exists") { format!(" To manage the existing permission, import it: terraform import <address> {}", m.id()) } else { String::new() };
                let detail = format!("{}{hint}", e.message());
                match m.blamed_attribute(e.message()) {
                    Some(attr) => Diagnostics::attr_error(AttrPath::attr(attr), "Failed to create permission", detail),
                    None => Diagnostics::error("Failed to create permission", detail),
                }
            })?;
        let mut out = planned.clone();
        out.set("id", Value::string(m.id()));
        Ok(out)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine()?;
        let prior: Model = decode(state)?;
        let (_, entry) = read_entry(engine, ctx, &prior)
            .await
            .map_err(|e| e.into_diags("Failed to read Hasura metadata"))?;
        let Some(entry) = entry else { return Ok(None) };
        Ok(Some(encode(
            &Model::from_export(&entry, &prior),
            &self.cty_type(),
        )?))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: &Value,
        planned: &Value,
        _config: &Value,
    ) -> Result<Value, LegacyApplyError> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine().map_err(Diagnostics::from)?;
        let m: Model = decode(planned)?;
        let create = m.create_command()?;
        let (_, entry) = read_entry(engine, ctx, &m)
            .await
            .map_err(|e| e.into_diags("Failed to read Hasura metadata"))?;
        // Drop and create in one resource's atomic command list (one bulk):
        // stored once, so readers see the old or the new permission, never none.
        let cmds = if entry.is_some() {
            vec![m.drop_command(), create]
        } else {
            vec![create]
        };
        engine.write(&ctx.cancel, cmds).await.map_err(|e| {
            match m.blamed_attribute(e.message()) {
                Some(attr) => Diagnostics::attr_error(
                    AttrPath::attr(attr),
                    "Failed to update permission",
                    e.message(),
                ),
                None => e.into_diags("Failed to update permission"),
            }
        })?;
        let mut out = planned.clone();
        out.set("id", Value::string(m.id()));
        Ok(out)
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), Diagnostics> {
        let client = ctx.client::<HasuraClient>()?;
        let engine = client.engine()?;
        let m: Model = decode(state)?;
        match engine.write(&ctx.cancel, vec![m.drop_command()]).await {
            Ok(()) => Ok(()),
            Err(e) if is_already_gone(&e) => Ok(()),
            Err(e) => Err(e.into_diags("Failed to drop permission")),
        }
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Value, Diagnostics> {
        let (source, schema, table, role, action) = parse_permission_id(id)?;
        let m = Model {
            source: Some(source),
            schema: Some(schema),
            table: Some(table),
            role: Some(role),
            action: Some(action),
            ..Default::default()
        };
        let m = Model {
            id: Some(m.id()),
            ..m
        };
        encode(&m, &self.cty_type())
    }
}

fn parse_permission_id(id: &str) -> Result<(String, String, String, String, String), Diagnostics> {
    let bad = |why: String| {
        Diagnostics::error(
            "Invalid import id",
            format!("{why}. Expected `<source>.<schema>.<table>.<role>.<action>`, e.g. `default.public.users.user.select`; quote a part that contains a dot: `default.\"my.schema\".users.user.select`."),
        )
    };
    let parts = parse_id(id).map_err(bad)?;
    let [source, schema, table, role, action] = <[String; 5]>::try_from(parts.clone())
        .map_err(|_| bad(format!("{id:?} has {} parts, not 5", parts.len())))?;
    for p in [&source, &schema, &table, &role] {
        check_name(p).map_err(|e| bad(format!("{p:?} {e}")))?;
    }
    if !ACTIONS.contains(&action.as_str()) {
        return Err(bad(format!(
            "the action {action:?} is not one of {}",
            ACTIONS.join(", ")
        )));
    }
    Ok((source, schema, table, role, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_operators_are_caught() {
        let mut bad = Vec::new();
        unknown_operators(
            &serde_json::json!({"id": {"_evil": 1}, "_and": [{"n": {"_eqq": 2}}]}),
            &mut bad,
        );
        assert_eq!(bad, vec!["_evil", "_eqq"]);
        let mut ok = Vec::new();
        unknown_operators(
            &serde_json::json!({"id": {"_eq": "X-Hasura-User-Id"}, "_or": [{"_id": {"_in": [1]}}, {"author": {"_id": {"_eq": 1}}}], "geom": {"_st_within": {}}}),
            &mut ok,
        );
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn hasura_rejections_point_at_the_attribute() {
        let m = Model {
            columns: Some(vec!["id".into(), "ghost".into()]),
            filter: Some("{}".into()),
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

    fn prior(action: &str) -> Model {
        Model {
            source: Some("default".into()),
            schema: Some("public".into()),
            table: Some("users".into()),
            role: Some("user".into()),
            action: Some(action.into()),
            ..Default::default()
        }
    }

    #[test]
    fn export_rules_never_diff() {
        // Hasura omits false/empty defaults and writes update `check` as null.
        let mut p = prior("update");
        p.columns = Some(vec!["name".into(), "id".into()]);
        p.filter = Some(r#"{"id":{"_eq":"X-Hasura-User-Id"}}"#.into());
        p.set = Some(BTreeMap::new());
        p.backend_only = Some(false);
        let entry = json!({"role": "user", "permission": {"columns": ["id", "name"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}}, "check": null}});
        let m = Model::from_export(&entry, &p);
        assert_eq!(m.columns, p.columns);
        assert_eq!(m.check, None);
        assert_eq!(m.set, Some(BTreeMap::new()));
        assert_eq!(m.backend_only, Some(false));
        assert_eq!(m.filter, p.filter);
        assert_eq!(m.id.as_deref(), Some("default.public.users.user.update"));

        let mut s = prior("select");
        s.columns = Some(vec!["*".into()]);
        s.allow_aggregations = None;
        s.query_root_fields = Some(vec![]);
        let entry = json!({"role": "user", "permission": {"columns": "*", "filter": {}, "query_root_fields": [], "limit": 5}, "comment": "c"});
        let m = Model::from_export(&entry, &s);
        assert_eq!(m.columns, Some(vec!["*".to_string()]));
        assert_eq!(m.filter.as_deref(), Some("{}"));
        assert_eq!(m.allow_aggregations, None);
        assert_eq!(m.query_root_fields, Some(vec![]));
        assert_eq!(m.limit, Some(5));
        assert_eq!(m.comment.as_deref(), Some("c"));

        // A real change is seen.
        let entry = json!({"role": "user", "permission": {"columns": ["id"], "filter": {"id": {"_eq": 1}}, "allow_aggregations": true}});
        let m = Model::from_export(&entry, &s);
        assert_eq!(m.columns, Some(vec!["id".to_string()]));
        assert_eq!(m.allow_aggregations, Some(true));
        assert_eq!(m.filter.as_deref(), Some(r#"{"id":{"_eq":1}}"#));
    }

    #[test]
    fn commands() {
        let mut m = prior("select");
        m.columns = Some(vec!["*".into()]);
        m.filter = Some(r#"{"id":{"_eq":"X-Hasura-User-Id"}}"#.into());
        let c = m.create_command().unwrap();
        assert_eq!(c["type"], "pg_create_select_permission");
        assert_eq!(c["args"]["permission"]["columns"], "*");
        assert_eq!(
            c["args"]["table"],
            json!({"schema": "public", "name": "users"})
        );
        assert_eq!(m.drop_command()["type"], "pg_drop_select_permission");
    }

    #[test]
    fn ids_and_applicability() {
        assert_eq!(
            parse_permission_id("default.public.users.user.select")
                .unwrap()
                .3,
            "user"
        );
        assert_eq!(
            parse_permission_id("default.\"a.b\".users.user.insert")
                .unwrap()
                .1,
            "a.b"
        );
        assert!(parse_permission_id("default.public.users.user").is_err());
        assert!(parse_permission_id("default.public.users.user.upsert").is_err());
        assert!(applies("limit", "select") && !applies("limit", "insert"));
        assert!(!applies("filter", "insert") && !applies("columns", "delete"));
        assert!(required("check", "insert") && !required("check", "update"));
    }
}

/// The plan-time column check against the catalog, with the `run_sql` calls
/// it costs counted by the Hasura emulator.
#[cfg(test)]
mod catalog_tests {
    use std::sync::Arc;

    use futures::future::join_all;
    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::hasura::client::catalog::emulated::Emulated;
    use crate::hasura::table::TableResource;

    fn ctx(env: &Emulated) -> Ctx {
        let client = HasuraClient::new(
            Ok(env.engine()),
            Err(crate::hasura::client::Missing::CloudAccessToken),
        );
        Ctx::new(CancellationToken::new(), Some(Arc::new(client)))
    }

    fn table_state(name: &str, columns: &[&str]) -> Value {
        let columns: Vec<J> = columns
            .iter()
            .map(|c| json!({"name": c, "type": "text", "nullable": *c != "id", "unique": false}))
            .collect();
        let m = json!({
            "id": format!("default.public.{name}"), "source": "default", "schema": "public",
            "name": name, "columns": columns, "primary_key": ["id"], "track": true,
            "deletion_protection": false,
        });
        encode(&m, &TableResource.schema().cty_type()).unwrap()
    }

    /// The errors planning a select permission on `table` for `columns` reports.
    async fn plan(ctx: &Ctx, table: &str, role: &str, columns: &[&str]) -> Vec<String> {
        let diags = plan_diags(ctx, table, role, columns).await;
        diags.0.into_iter().map(|d| d.summary).collect()
    }

    /// The details of the errors `plan` reports.
    async fn plan_details(ctx: &Ctx, table: &str, columns: &[&str]) -> Vec<String> {
        let diags = plan_diags(ctx, table, "r", columns).await;
        diags.0.into_iter().map(|d| d.detail).collect()
    }

    async fn plan_diags(ctx: &Ctx, table: &str, role: &str, columns: &[&str]) -> Diagnostics {
        let m = json!({
            "source": "default", "schema": "public", "table": table, "role": role,
            "action": "select", "columns": columns, "filter": "{}",
        });
        let config = encode(&m, &PermissionResource.schema().cty_type()).unwrap();
        let mut planned = config.clone();
        let mut diags = Diagnostics::new();
        PermissionResource
            .modify_plan(
                ctx,
                PlanContext {
                    prior: None,
                    config: &config,
                    planned: &mut planned,
                    requires_replace: &mut Vec::new(),
                    diags: &mut diags,
                },
            )
            .await;
        diags
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refreshing_and_planning_many_resources_costs_one_run_sql() {
        const TABLES: usize = 5;
        const ROLES: usize = 20;
        let env = Emulated::start().await;
        for t in 0..TABLES {
            env.out_of_band(&format!(
                "CREATE TABLE public.t{t} (id text PRIMARY KEY, name text)"
            ))
            .await;
        }
        let ctx = ctx(&env);
        env.emu.control.reset_counters();
        // Concurrently, as Terraform walks the graph.
        let reads = join_all((0..TABLES).map(|t| {
            let state = table_state(&format!("t{t}"), &["id", "name"]);
            let ctx = &ctx;
            async move { TableResource.read(ctx, &state).await }
        }))
        .await;
        for r in reads {
            assert!(r.unwrap().is_some());
        }
        let plans = join_all((0..TABLES).flat_map(|t| {
            let ctx = &ctx;
            (0..ROLES).map(move |r| async move {
                plan(ctx, &format!("t{t}"), &format!("r{r}"), &["id", "name"]).await
            })
        }))
        .await;
        assert!(plans.iter().all(Vec::is_empty), "{plans:?}");
        assert_eq!(
            plan(&ctx, "t0", "bad", &["id", "nope"]).await,
            ["Unknown column"]
        );
        assert_eq!(
            env.run_sql_calls(),
            1,
            "{TABLES} table reads and {} permission plans: {}",
            TABLES * ROLES + 1,
            env.emu.control.counters()
        );
        env.stop().await;
    }

    /// Plans `table` as `hasura_table` would: from `prior` (a state) to
    /// `planned` (`None`: destroyed).
    async fn plan_table(ctx: &Ctx, prior: Option<&Value>, planned: Option<Value>) -> Vec<String> {
        let mut planned = planned.unwrap_or(Value::Null);
        let config = planned.clone();
        let mut diags = Diagnostics::new();
        TableResource
            .modify_plan(
                ctx,
                PlanContext {
                    prior,
                    config: &config,
                    planned: &mut planned,
                    requires_replace: &mut Vec::new(),
                    diags: &mut diags,
                },
            )
            .await;
        diags.0.into_iter().map(|d| d.summary).collect()
    }

    /// One apply that adds a column and grants it: the table is planned
    /// first, by the same process, and its plan is what the check trusts.
    #[tokio::test]
    async fn the_check_trusts_the_tables_plan_made_by_this_process() {
        let env = Emulated::start().await;
        env.out_of_band(
            "CREATE TABLE public.t (id text PRIMARY KEY, name text, old text);
             CREATE TABLE public.gone (id text PRIMARY KEY);
             CREATE TABLE public.renamed (id text PRIMARY KEY)",
        )
        .await;
        let ctx = ctx(&env);
        let state = table_state("t", &["id", "name", "old"]);
        let errors = plan_table(
            &ctx,
            Some(&state),
            Some(table_state("t", &["id", "name", "nickname"])),
        )
        .await;
        assert!(errors.is_empty(), "{errors:?}");
        assert!(plan(&ctx, "t", "r", &["id", "nickname"]).await.is_empty());
        // Typos are still caught, and so is a column the plan drops.
        assert_eq!(plan(&ctx, "t", "r", &["nikname"]).await, ["Unknown column"]);
        assert_eq!(
            plan_details(&ctx, "t", &["id", "old"]).await,
            ["`columns[1]` is \"old\", but table public.t will have no such column once this plan is applied (its planned columns: id, name, nickname)."]
        );

        // Destroyed, or replaced under another name: no column survives.
        let gone = table_state("gone", &["id"]);
        plan_table(&ctx, Some(&gone), None).await;
        assert_eq!(plan(&ctx, "gone", "r", &["id"]).await, ["Unknown column"]);
        let renamed = table_state("renamed", &["id"]);
        plan_table(
            &ctx,
            Some(&renamed),
            Some(table_state("fresh", &["id", "x"])),
        )
        .await;
        assert!(plan_details(&ctx, "renamed", &["id"]).await[0].contains("is dropped by this plan"));
        assert!(plan(&ctx, "fresh", "r", &["x"]).await.is_empty());
        assert_eq!(plan(&ctx, "fresh", "r", &["y"]).await, ["Unknown column"]);
        env.stop().await;
    }

    /// A planned column name not known before apply: the check steps aside
    /// rather than guess; Hasura's own error still names the attribute.
    #[tokio::test]
    async fn unknown_planned_columns_skip_the_check() {
        let env = Emulated::start().await;
        env.out_of_band("CREATE TABLE public.t (id text PRIMARY KEY)")
            .await;
        let ctx = ctx(&env);
        let state = table_state("t", &["id"]);
        let mut planned = table_state("t", &["id", "later"]);
        if let Some(Value::List(cols)) = planned.as_object_mut().and_then(|m| m.get_mut("columns"))
        {
            cols[1].set("name", Value::Unknown);
        }
        plan_table(&ctx, Some(&state), Some(planned)).await;
        assert!(plan(&ctx, "t", "r", &["id", "anything"]).await.is_empty());

        // A table whose new name is not known yet may be replaced: its old
        // name is not checked either.
        env.out_of_band("CREATE TABLE public.u (id text PRIMARY KEY)")
            .await;
        let mut planned = table_state("u", &["id"]);
        planned.set("name", Value::Unknown);
        plan_table(&ctx, Some(&table_state("u", &["id"])), Some(planned)).await;
        assert!(plan(&ctx, "u", "r", &["anything"]).await.is_empty());

        // A table no plan of this process concerns: the catalog decides.
        env.out_of_band("CREATE TABLE public.v (id text PRIMARY KEY)")
            .await;
        assert_eq!(plan(&ctx, "v", "r", &["nope"]).await, ["Unknown column"]);
        env.stop().await;
    }

    /// Terraform re-plans a permission in the apply walk right after its
    /// table was altered, by the same provider process.
    #[tokio::test]
    async fn a_column_added_by_this_process_is_known_to_the_next_plan() {
        let env = Emulated::start().await;
        env.out_of_band("CREATE TABLE public.t (id text PRIMARY KEY, name text)")
            .await;
        let ctx = ctx(&env);
        assert!(plan(&ctx, "t", "r", &["id", "name"]).await.is_empty());
        assert_eq!(
            plan(&ctx, "t", "r", &["id", "extra"]).await,
            ["Unknown column"]
        );
        let (prior, planned) = (
            table_state("t", &["id", "name"]),
            table_state("t", &["id", "name", "extra"]),
        );
        TableResource
            .update(&ctx, &prior, &planned, &planned)
            .await
            .unwrap();
        assert!(
            plan(&ctx, "t", "r", &["id", "extra"]).await.is_empty(),
            "the plan used a catalog from before the ALTER"
        );
        let before = env.run_sql_calls();
        assert!(plan(&ctx, "t", "r2", &["extra"]).await.is_empty());
        assert_eq!(env.run_sql_calls(), before, "one snapshot after the ALTER");
        env.stop().await;
    }
}
