//! `hasura_inherited_role`: a role made of other roles (`add_inherited_role`),
//! written through the engine's metadata batcher like permissions.
//!
//! graphql-engine `server/src-lib/Hasura/RQL/DDL/InheritedRoles.hs`:
//! `add_inherited_role` inserts into the metadata map, replacing a role of the
//! same name, so a changed `role_set` is one `add_inherited_role` (atomic; a
//! drop + add would briefly orphan any role inheriting from this one, which
//! Hasura refuses as new inconsistent metadata). It refuses a role in its own
//! set (`invalid-params`), parents that are no known role (inconsistent,
//! `invalid-configuration`) and cycles (`cyclic-dependency`).
use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as J};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, Known, NotEmpty, Plan, RequiresReplace,
    Resource, Schema, Type, Value,
};

use super::client::top_level::TopLevel;
use super::client::{Export, HasuraError};
use super::engine;
use super::ident::{already_exists, check_name, import_name};
use super::table::on_table::{self, dropped, no_hint, written, Exported, MetadataObject};

pub struct InheritedRoleResource;

type Names = Value<Vec<Value<String>>>;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Model {
    id: Value<String>,
    role_name: Value<String>,
    role_set: Names,
}

fn known_set(v: &Names) -> Option<BTreeSet<String>> {
    v.known()?.iter().map(|n| n.known().cloned()).collect()
}

impl Model {
    fn name(&self) -> &str {
        self.role_name.str_or("")
    }

    fn parents(&self) -> BTreeSet<String> {
        known_set(&self.role_set).unwrap_or_default()
    }

    fn role(&self) -> InheritedRole {
        InheritedRole {
            role_name: self.name().to_string(),
            role_set: self.parents(),
        }
    }

    fn with_id(self) -> Model {
        Model {
            id: Known(self.name().to_string()),
            ..self
        }
    }

    fn drop_command(&self) -> J {
        json!({"type": "drop_inherited_role", "args": {"role_name": self.name()}})
    }
}

/// The exported inherited roles, by name.
fn exported_roles(export: &Export) -> BTreeMap<String, BTreeSet<String>> {
    #[derive(Deserialize)]
    struct Entry {
        role_name: String,
        #[serde(default)]
        role_set: Vec<String>,
    }
    export
        .inherited_roles()
        .iter()
        .filter_map(|v| Entry::deserialize(v).ok())
        .map(|e| (e.role_name, e.role_set.into_iter().collect()))
        .collect()
}

/// An exported `inherited_roles[]` entry, as `add_inherited_role` takes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InheritedRole {
    role_name: String,
    #[serde(default)]
    role_set: BTreeSet<String>,
}

impl Exported for Model {
    type Entry = InheritedRole;

    fn find(export: &Export, prior: &Model) -> Result<Option<InheritedRole>, Diagnostics> {
        Ok(export.entry_named::<InheritedRole>(prior.name()))
    }

    fn from_entry(entry: InheritedRole, prior: &Model) -> Model {
        let name = prior.name();
        Model {
            id: Known(name.to_string()),
            role_name: Known(name.to_string()),
            role_set: Known(entry.role_set.into_iter().map(Known).collect()),
        }
    }
}

impl MetadataObject for Model {
    const KIND: &'static str = "inherited role";

    /// Hasura's objections to the set point at `role_set`.
    fn blamed(&self, e: &HasuraError) -> Option<AttrPath> {
        let about_set = [
            "cyclic-dependency",
            "invalid-params",
            "invalid-configuration",
        ]
        .iter()
        .any(|c| e.code_is(c));
        about_set.then(|| AttrPath::attr("role_set"))
    }
}

impl TopLevel for InheritedRole {
    const LIST: &'static str = "inherited_roles";

    fn key(&self) -> &str {
        &self.role_name
    }

    fn same(&self, stored: &InheritedRole) -> bool {
        stored.role_set == self.role_set
    }
}

/// A cycle the planned role would close, following parent edges from `name`.
fn cycle_through(name: &str, graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        name: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let at = path.last().cloned().unwrap_or_default();
        for p in graph.get(&at).into_iter().flatten() {
            if p == name {
                path.push(p.clone());
                return true;
            }
            if seen.insert(p.clone()) {
                path.push(p.clone());
                if walk(graph, name, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![name.to_string()];
    walk(graph, name, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[async_trait]
impl Resource for InheritedRoleResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_inherited_role"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A role that inherits the permissions of other roles (`add_inherited_role`): select permissions are combined (row filters OR-ed, columns unioned, a column's value shown only on rows a parent granting it allows), insert/update/delete permissions are inherited when all parents that have one agree; a permission defined for the inherited role itself wins. Changing `role_set` re-adds the role in place, in one atomic metadata write; changing `role_name` replaces it. Import with the role name.",
            vec![
                Attribute::id("The role name, the import id."),
                Attribute::string("role_name").required().plan(RequiresReplace).describe("Name of the inherited role, used as `X-Hasura-Role`. Must not be `admin`."),
                Attribute::typed("role_set", Type::set(Type::String)).required().validate(NotEmpty("Empty role set", "An inherited role with no parent roles has no permissions; list at least one role.")).describe("Roles whose permissions it inherits: roles with permissions (e.g. from `hasura_permission`) or other inherited roles. Must not contain `role_name`, nor close a cycle through other inherited roles (checked at plan against this configuration and the project). Hasura refuses a parent that is no known role, and dropping the last permission of a parent while this role names it: refer to the parents' resources (e.g. `hasura_permission.user_select.role`) so that they are created before and destroyed after this role."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        if let Some(name) = config.role_name.as_deref() {
            if let Err(e) = check_name(name) {
                diags.add_attr_error(
                    AttrPath::attr("role_name"),
                    "Invalid role name",
                    format!("`role_name` {e}."),
                );
            } else if name == "admin" {
                diags.add_attr_error(
                    AttrPath::attr("role_name"),
                    "Invalid role name",
                    "`admin` is Hasura's built-in role with full access; it cannot inherit other roles.",
                );
            }
        }
        let Some(set) = config.role_set.known() else {
            return;
        };
        for r in set.iter().filter_map(|r| r.as_deref()) {
            if let Err(e) = check_name(r) {
                diags.add_attr_error(
                    AttrPath::attr("role_set"),
                    "Invalid role name",
                    format!("`role_set` has {r:?}, which {e}."),
                );
            } else if Some(r) == config.role_name.as_deref() {
                diags.add_attr_error(
                    AttrPath::attr("role_set"),
                    "Role inherits itself",
                    format!("`role_set` contains the role's own name {r:?}; Hasura refuses it (an inherited role name cannot be in the role combination)."),
                );
            }
        }
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Model>) {
        let p = &mut *plan.planned;
        p.id = p.role_name.clone();
        let (Some(name), Some(parents)) = (p.role_name.as_deref(), known_set(&p.role_set)) else {
            return;
        };
        let Ok(engine) = engine(ctx) else { return };
        let planned = &engine.planned_objects;
        planned.plan_role(name, Some(parents.clone()));
        // The graph once the plan is applied: the project's roles, overridden by
        // this configuration's planned ones (and without the ones it destroys).
        let mut graph = match engine.export(&ctx.cancel).await {
            Ok(export) => exported_roles(&export),
            Err(_) => BTreeMap::new(),
        };
        for (role, set) in planned.roles() {
            match set {
                Some(set) => graph.insert(role, set),
                None => graph.remove(&role),
            };
        }
        graph.insert(name.to_string(), parents);
        if let Some(cycle) = cycle_through(name, &graph) {
            plan.diags.add_attr_error(
                AttrPath::attr("role_set"),
                "Cycle in inherited roles",
                format!(
                    "Role {name:?} would inherit from itself through {}; Hasura refuses cycles in inherited roles.",
                    cycle.join(" -> ")
                ),
            );
        }
    }

    async fn plan_destroy(&self, ctx: &Ctx, prior: &Model, _diags: &mut Diagnostics) {
        if let Ok(engine) = engine(ctx) {
            engine.planned_objects.plan_role(prior.name(), None);
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        // Hasura would silently replace an existing role: refuse to take it over.
        if on_table::exists(ctx, &m).await? {
            let exists = format!("Hasura already has an inherited role {:?}.", m.name());
            let summary = "Inherited role already exists";
            let path = AttrPath::attr("role_name");
            return Err(already_exists(path, summary, exists, m.name()).into());
        }
        write(ctx, &m, "create").await?;
        Ok(m.with_id())
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        on_table::read(ctx, prior).await
    }

    async fn update(&self, ctx: &Ctx, _prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        write(ctx, &m, "update").await?;
        Ok(m.with_id())
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let engine = engine(ctx)?;
        let sent = engine.drop_entry::<InheritedRole>(&ctx.cancel, m.drop_command(), m.name());
        dropped(&m, sent).await
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let role_name = import_name(id, check_name, "the inherited role's name")?;
        Ok(Model {
            id: role_name.clone(),
            role_name,
            ..Default::default()
        })
    }
}

/// `add_inherited_role` through the batcher; the export showing the same set settles it.
async fn write(ctx: &Ctx, m: &Model, verb: &str) -> Result<(), Diagnostics> {
    let engine = engine(ctx)?;
    let role = m.role();
    let cmd = json!({"type": "add_inherited_role", "args": role});
    let sent = engine.put_entry(&ctx.cancel, vec![cmd], &role);
    written(m, verb, sent, no_hint).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_found_through_other_roles() {
        let g: BTreeMap<String, BTreeSet<String>> =
            [("a", vec!["b", "user"]), ("b", vec!["c"]), ("c", vec!["a"])]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into_iter().map(String::from).collect()))
                .collect();
        assert_eq!(cycle_through("a", &g).unwrap(), ["a", "b", "c", "a"]);
        let mut g2 = g.clone();
        g2.insert("c".into(), ["user".to_string()].into());
        assert!(cycle_through("a", &g2).is_none());
        let x = Export::new(
            3,
            json!({"inherited_roles": [{"role_name": "e", "role_set": ["u", "v"]}]}),
        );
        let want = InheritedRole {
            role_name: "e".into(),
            role_set: ["v".to_string(), "u".to_string()].into(),
        };
        let stored = x.entry_named::<InheritedRole>("e").unwrap();
        assert!(want.same(&stored));
        assert!(x.entry_named::<InheritedRole>("f").is_none());
    }
}
