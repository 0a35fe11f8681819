//! `hasura_permission`: one role's insert/select/update/delete permission on
//! a tracked table. Reads come from the cached `export_metadata`. Writes go
//! through the engine's batcher (`Engine::write`): concurrent creates, updates
//! and deletes of one provider process share one `bulk` carrying the current
//! `resource_version`; an update's drop + create stay together in it, so the
//! role never loses its permission mid-apply.
mod boolexp;
mod boolexp_form;
mod commands;
mod defaults;
mod fields;
mod plan;
mod readback;
mod validate;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::json_string::{json_eq, json_eq_in};
use crate::framework::{
    ApplyError, Attribute, Ctx, Diagnostics, IntBetween, JsonObject, Known, OneOf, Plan,
    RequiresReplace, Resource, Schema, Type, Value,
};

use super::engine;
use super::ident::{bad_import_id, parse_import_id};
use super::table::keyed::{table_keyed, TableKeyed};
use super::table::on_table::{
    self, dropped, import_existing, import_id_attribute, no_hint, table_attributes, written,
};
use boolexp::HasuraBoolExp;

pub struct PermissionResource;

const ACTIONS: &[&str] = &["select", "insert", "update", "delete"];
const QUERY_ROOT: &[&str] = &["select", "select_by_pk", "select_aggregate"];
const SUBSCRIPTION_ROOT: &[&str] = &[
    "select",
    "select_by_pk",
    "select_aggregate",
    "select_stream",
];

/// A list of names; in a configuration any element may still be unknown.
type Names = Value<Vec<Value<String>>>;

/// The names of a known list whose every element is known.
fn known_names(v: &Names) -> Option<Vec<String>> {
    v.known()?.iter().map(|n| n.known().cloned()).collect()
}

/// Two lists of names alike but for order.
fn same_names(a: &Names, b: &Names) -> bool {
    match (known_names(a), known_names(b)) {
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
        }
        _ => false,
    }
}

fn names<S: Into<String>>(v: impl IntoIterator<Item = S>) -> Names {
    Known(v.into_iter().map(|s| Known(s.into())).collect())
}

table_keyed! {
    #[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
    pub struct Model {
        key { role: "", action: "select" }
        columns: Names,
        filter: Value<String>,
        check: Value<String>,
        set: Value<BTreeMap<String, Value<String>>>,
        limit: Value<i64>,
        allow_aggregations: Value<bool>,
        computed_fields: Names,
        query_root_fields: Names,
        subscription_root_fields: Names,
        backend_only: Value<bool>,
        validate_input: Value<String>,
        comment: Value<String>,
    }
}

impl Model {
    fn role(&self) -> &str {
        self.role.str_or("")
    }
    fn action(&self) -> &str {
        self.action.str_or("select")
    }
}

#[async_trait]
impl Resource for PermissionResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_permission"
    }

    fn schema(&self) -> Schema {
        let only = |a: &str| {
            format!("Only for {a} permissions; setting it for another action is an error.")
        };
        let [source, schema, table] = table_attributes(
            "the table",
            "The tracked table the permission is on.",
            "",
            false,
        );
        Schema::new(
            "A role's permission on a tracked table (`pg_create_<action>_permission`). Changing `source`, `schema`, `table`, `role` or `action` replaces it; any other change drops and re-creates it in one atomic `bulk` request guarded by the metadata `resource_version`, so the role is never without a permission. Import with `<source>.<schema>.<table>.<role>.<action>`, e.g. `default.public.users.user.select`; a part containing a `.` is written in double quotes with inner quotes doubled.",
            vec![
                import_id_attribute("<source>.<schema>.<table>.<role>.<action>"),
                source,
                schema,
                table,
                Attribute::string("role").required().plan(RequiresReplace).describe("The role it applies to (`X-Hasura-Role`). `admin` always has full access and cannot be given permissions."),
                Attribute::string("action").required().plan(RequiresReplace).validate(OneOf(ACTIONS)).describe("One of `select`, `insert`, `update`, `delete`."),
                Attribute::typed("columns", Type::list(Type::String)).optional().describe("Columns the role may read (select), set (insert, update). `[\"*\"]` means all columns, including ones added later. Required for select and update; optional for insert (all columns when unset); not allowed for delete. Compared as a set. Every column must exist in the table once the plan is applied, or the plan fails: when `table` refers to a `hasura_table` (e.g. `hasura_table.users.name`), a column it adds in the same apply counts and one it drops does not."),
                Attribute::string("filter").optional().validate(JsonObject).semantic_eq(json_eq_in::<HasuraBoolExp>).describe("Row filter, a Hasura boolean expression as JSON (`jsonencode({id = {_eq = \"X-Hasura-User-Id\"}})`); `{}` allows every row. Required for select, update and delete; not allowed for insert. Compared by meaning, in the form Hasura stores it: key order, whitespace and `$`-spelt connectives (`$or` for `_or`) never cause a diff. Follows relationships (`{author = {id = {_eq = \"X-Hasura-User-Id\"}}}`, object or array) and `_exists` on other tables; every column and relationship it names is checked at plan against what the tables will have once the plan is applied, including relationships a `hasura_relationship` of this configuration declares and the remote table's columns under them."),
                Attribute::string("check").optional().validate(JsonObject).semantic_eq(json_eq_in::<HasuraBoolExp>).describe("Boolean expression (JSON) every inserted row, or every row after an update, must satisfy. Required for insert, optional for update."),
                Attribute::typed("set", Type::map(Type::String)).optional_computed().describe("Column presets: column -> static value or session variable name (`X-Hasura-User-Id`). Insert and update only; unset means `{}` (no presets)."),
                Attribute::int("limit").optional().validate(IntBetween(0, i64::MAX)).describe(only("select") + " Maximum number of rows returned."),
                Attribute::bool("allow_aggregations").optional_computed().describe(only("select") + " Allows aggregate queries. Unset means `false`."),
                Attribute::typed("computed_fields", Type::list(Type::String)).optional_computed().describe(only("select") + " Scalar computed fields the role may read. Unset means `[]`. Each must exist on the table once the plan is applied, or the plan fails: refer to a `hasura_computed_field` of this configuration by its `name` (e.g. `hasura_computed_field.full_name.name`) so it is planned first."),
                Attribute::typed("query_root_fields", Type::set(Type::String)).optional().describe(only("select") + " Query root fields exposed: any of `select`, `select_by_pk`, `select_aggregate`. Unset exposes all; `[]` exposes none (useful for access through relationships only)."),
                Attribute::typed("subscription_root_fields", Type::set(Type::String)).optional().describe(only("select") + " Subscription root fields exposed: any of `select`, `select_by_pk`, `select_aggregate`, `select_stream`. Unset exposes all; `[]` exposes none."),
                Attribute::bool("backend_only").optional_computed().describe("Insert, update and delete only: the permission applies only to requests with the admin secret and `x-hasura-use-backend-only-permissions: true`. Unset means `false`."),
                Attribute::string("validate_input").optional().validate(JsonObject).semantic_eq(json_eq).describe("Insert, update and delete only: input validation webhook as JSON, e.g. `jsonencode({type = \"http\", definition = {url = \"https://...\"}})`. Compared as Hasura stores it: `headers = []`, `timeout = 10` and `forward_client_headers = false` are its defaults, spelled out or not."),
                Attribute::string("comment").optional().describe("Comment on the permission."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        config.check(diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Model>) {
        let p = &mut *plan.planned;
        p.id = p.planned_id();
        p.plan_defaults(plan.config, plan.prior);
        // Same columns in another order are the same permission.
        if let Some(prior) = plan.prior {
            for (planned, prior) in [
                (&mut p.columns, &prior.columns),
                (&mut p.computed_fields, &prior.computed_fields),
            ] {
                if same_names(planned, prior) {
                    *planned = prior.clone();
                }
            }
        }
        let table = (p.source.as_deref(), p.schema.as_deref(), p.table.as_deref());
        if let (Some(src), Some(sch), Some(tbl)) = table {
            plan::check_columns(ctx, (src, sch, tbl), &plan.config.columns, plan.diags).await;
            for (attr, exp) in [
                ("filter", &plan.config.filter),
                ("check", &plan.config.check),
            ] {
                fields::check_fields(ctx, (src, sch, tbl), attr, exp.as_deref(), plan.diags).await;
            }
            let fields = &plan.config.computed_fields;
            plan::check_computed_fields(ctx, (src, sch, tbl), fields, plan.diags).await;
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let engine = engine(ctx)?;
        // Batched with this process's concurrent metadata writes (one `bulk`).
        let sent = engine.write(&ctx.cancel, vec![m.create_command()?]);
        written(&m, "create", sent, import_existing).await?;
        Ok(m.with_id())
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        on_table::read(ctx, prior).await
    }

    async fn update(&self, ctx: &Ctx, _prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        let engine = engine(ctx)?;
        let create = m.create_command()?;
        // Drop and create in one resource's atomic command list (one bulk):
        // stored once, so readers see the old or the new permission, never none.
        let cmds = if on_table::exists(ctx, &m).await? {
            vec![m.drop_command(), create]
        } else {
            vec![create]
        };
        written(&m, "update", engine.write(&ctx.cancel, cmds), no_hint).await?;
        Ok(m.with_id())
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let engine = engine(ctx)?;
        dropped(&m, engine.write(&ctx.cancel, vec![m.drop_command()])).await
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let [source, schema, table, role, action] = parse_permission_id(id)?;
        Ok(Model::keyed(source, schema, table, role, action))
    }
}

/// `<source>.<schema>.<table>.<role>.<action>`, checked part by part.
fn parse_permission_id(id: &str) -> Result<[String; 5], Diagnostics> {
    const FORM: &str = "<source>.<schema>.<table>.<role>.<action>";
    const EXAMPLE: &str = "default.public.users.user.select";
    let bad = |why: String| bad_import_id(why, FORM, EXAMPLE);
    let parts: [String; 5] = parse_import_id(id, FORM, EXAMPLE, false, 4)?;
    let action = &parts[4];
    if !ACTIONS.contains(&action.as_str()) {
        return Err(bad(format!(
            "the action {action:?} is not one of {}",
            ACTIONS.join(", ")
        )));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored permission with nothing but its identity.
    pub(super) fn prior(action: &str) -> Model {
        Model {
            source: "default".into(),
            schema: "public".into(),
            table: "users".into(),
            role: "user".into(),
            action: action.into(),
            ..Default::default()
        }
    }

    #[test]
    fn ids() {
        assert_eq!(
            parse_permission_id("default.public.users.user.select").unwrap()[3],
            "user"
        );
        assert_eq!(
            parse_permission_id("default.\"a.b\".users.user.insert").unwrap()[1],
            "a.b"
        );
        assert!(parse_permission_id("default.public.users.user").is_err());
        assert!(parse_permission_id("default.public.users.user.upsert").is_err());
        let mut m = prior("select");
        assert_eq!(
            m.planned_id().as_deref(),
            Some("default.public.users.user.select")
        );
        m.role = Value::Unknown;
        assert!(m.planned_id().is_unknown());
    }
}
