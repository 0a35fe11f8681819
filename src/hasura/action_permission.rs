//! `hasura_action_permission`: lets a role call an action
//! (`create_action_permission`, `drop_action_permission`). There is no
//! update: every attribute replaces.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Known, Null, RequiresReplace,
    Resource, Schema, StrCheck, Value,
};

use super::engine;
use super::graphql_doc;
use super::ident::{already_exists, check_non_empty_text, import_pair, NameCheck};
use super::named::Pair;

pub struct ActionPermissionResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    action: Value<String>,
    role: Value<String>,
    comment: Value<String>,
}

impl Model {
    /// (action, role); both are known at apply.
    fn key(&self) -> Pair<'_> {
        Pair(self.action.str_or(""), self.role.str_or(""))
    }
}

fn check_action(s: &str) -> Result<(), crate::framework::Invalid> {
    graphql_doc::check_name(s, "must be an action name (a GraphQL name)")
}

#[async_trait]
impl Resource for ActionPermissionResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_action_permission"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Lets a role call an action (`create_action_permission`): without one, only admin can. Import with `<action>/<role>`.",
            vec![
                Attribute::id("`<action>/<role>`: the import id."),
                Attribute::string("action").required().plan(RequiresReplace).validate(StrCheck("Invalid action", check_action)).describe("The action's name; refer to it (`hasura_action.login.name`) so the action exists first."),
                Attribute::string("role").required().plan(RequiresReplace).validate(StrCheck("Invalid role", check_non_empty_text)).describe("The role allowed to call the action, e.g. `user`. Any non-empty text."),
                Attribute::string("comment").optional().plan(RequiresReplace).describe("Free-form comment kept with the permission. Hasura cannot change it in place: changing it re-creates the permission (one metadata write each way)."),
            ],
        )
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let summary = "Failed to create action permission";
        engine(ctx)?
            .set_action_permission(
                &ctx.cancel,
                m.key().0,
                m.key().1,
                true,
                m.comment.as_deref(),
            )
            .await
            .map_err(|e| {
                if e.code_is("already-exists") {
                    already_exists(AttrPath::attr("role"), summary, e, &m.key().to_string())
                } else if e.code_is("not-exists") {
                    Diagnostics::attr_error(AttrPath::attr("action"), summary, e.to_string())
                } else {
                    e.into_diags(summary)
                }
            })?;
        let id = Known(m.key().to_string());
        Ok(Model { id, ..m })
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        let Pair(action, role) = prior.key();
        let remote = super::exported(ctx).await?.action_permission(action, role);
        let id = Known(prior.key().to_string());
        Ok(remote.map(|p| Model {
            id,
            comment: p.comment.map_or(Null, Known),
            ..prior
        }))
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        // Gone already (also when its action was dropped) counts as deleted.
        let dropped = engine(ctx)?
            .set_action_permission(&ctx.cancel, m.key().0, m.key().1, false, None)
            .await;
        dropped.map_err(|e| e.into_diags("Failed to drop action permission"))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        // An action name has no `/`; a role may.
        let checks: [(_, NameCheck); 2] =
            [("action", check_action), ("role", check_non_empty_text)];
        let [action, role] = import_pair(id, "<action>/<role>", "login/user", false, checks)?;
        Ok(Model {
            id: Known(id.to_string()),
            action: Known(action),
            role: Known(role),
            comment: Null,
        })
    }
}
