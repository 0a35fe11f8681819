//! `hasura_env_var`: one env var of a Hasura Cloud project. Writes from
//! concurrent applies are coalesced (see `client::cloud`), and an apply only
//! finishes once the restarted project answers `/healthz`.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, Invalid, Plan, RequiresReplace, Resource,
    Schema, Value,
};

use super::client::cloud::EnvChange;
use super::env_common::{
    check_key, check_project_id, cloud_project, project_and_env, project_id_attribute, send_changes,
};
use super::jwt_secret::validate_env;

pub struct EnvVarResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    project_id: Value<String>,
    key: Value<String>,
    value: Value<String>,
}

impl Model {
    /// Known at apply: `key` and `value` are required, and the framework
    /// refuses a null for either at validate time.
    fn key(&self) -> &str {
        self.key.str_or("")
    }
    fn id(&self) -> String {
        format_env_id(self.project_id.as_deref(), self.key())
    }
    fn set_change(&self) -> EnvChange {
        EnvChange::Set(self.key().to_string(), self.value.str_or("").to_string())
    }
}

fn format_env_id(project: Option<&str>, key: &str) -> String {
    match project {
        Some(p) => format!("{p}/{key}"),
        None => key.to_string(),
    }
}

#[async_trait]
impl Resource for EnvVarResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_env_var"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            SCHEMA_DESCRIPTION,
            vec![
                Attribute::id("`<KEY>`, or `<project_id>/<KEY>` when `project_id` is set: the import id."),
                project_id_attribute(),
                Attribute::string("key").required().plan(RequiresReplace).describe("Variable name, e.g. `HASURA_GRAPHQL_JWT_SECRET`: letters, digits and `_`, not starting with a digit."),
                Attribute::string("value").required().sensitive().describe(VALUE_DESCRIPTION),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        let key = config.key.as_deref();
        if let Some(k) = key {
            if let Err(e) = check_key(k) {
                diags.add_attr_error(
                    AttrPath::attr("key"),
                    "Invalid env var name",
                    format!("`key` {e}."),
                );
            }
        }
        if let (Some(k), Some(v)) = (key, config.value.as_deref()) {
            if let Err(e) = validate_env(k, v) {
                diags.add_attr_error(
                    AttrPath::attr("value"),
                    format!("Invalid {k}"),
                    format!(
                        "{e}. Hasura would refuse to start with this value, so it is not sent."
                    ),
                );
            }
        }
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: Plan<'_, Model>) {
        let p = &mut *plan.planned;
        p.id = match (&p.key, &p.project_id) {
            (Value::Known(_), Value::Known(_) | Value::Null) => Value::Known(p.id()),
            _ => Value::Unknown,
        };
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let (cloud, project, env) = project_and_env(ctx, m.project_id.as_deref()).await?;
        match env.vars.get(m.key()) {
            Some(v) if Some(v.as_str()) != m.value.as_deref() => {
                return Err(Diagnostics::attr_error(
                    AttrPath::attr("key"),
                    "Env var already exists",
                    format!("The project already has {} with a different value. To manage it, import it: terraform import <address> {}", m.key(), m.id()),
                )
                .into())
            }
            Some(_) => {}
            None => send_changes(ctx, &cloud, &project, vec![m.set_change()], "Failed to set env var").await?,
        }
        Ok(Model {
            id: Value::Known(m.id()),
            ..m
        })
    }

    async fn read(&self, ctx: &Ctx, m: Model) -> Result<Option<Model>, Diagnostics> {
        let (_, _, env) = project_and_env(ctx, m.project_id.as_deref()).await?;
        Ok(env.vars.get(m.key()).map(|v| Model {
            id: Value::Known(m.id()),
            value: Value::Known(v.clone()),
            ..m
        }))
    }

    async fn update(&self, ctx: &Ctx, _prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        let (cloud, project) = cloud_project(ctx, m.project_id.as_deref()).await?;
        send_changes(
            ctx,
            &cloud,
            &project,
            vec![m.set_change()],
            "Failed to update env var",
        )
        .await?;
        Ok(m)
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let (cloud, project) = cloud_project(ctx, m.project_id.as_deref()).await?;
        let change = EnvChange::Delete(m.key().to_string());
        send_changes(
            ctx,
            &cloud,
            &project,
            vec![change],
            "Failed to delete env var",
        )
        .await
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let (project, key) = match id.split_once('/') {
            Some((p, k)) => (Some(p.to_string()), k.to_string()),
            None => (None, id.to_string()),
        };
        let invalid = |what: &str, e: Invalid| {
            Diagnostics::error(
                "Invalid import id",
                format!("The {what} in {id:?} {e}. Expected `<KEY>` or `<project_id>/<KEY>`."),
            )
        };
        check_key(&key).map_err(|e| invalid("key", e))?;
        if let Some(p) = &project {
            check_project_id(p).map_err(|e| invalid("project id", e))?;
        }
        let m = Model {
            project_id: project.into(),
            key: key.into(),
            ..Model::default()
        };
        Ok(Model {
            id: Value::Known(m.id()),
            ..m
        })
    }
}

const SCHEMA_DESCRIPTION: &str = "An environment variable of a Hasura Cloud project (`updateTenantEnv`/`deleteTenantEnv`). Every change restarts the project: changes made by concurrent resources in one apply are sent together (one restart), and the apply waits until the project answers `/healthz` again. Values of `HASURA_GRAPHQL_JWT_SECRET` and `HASURA_GRAPHQL_JWT_SECRETS` are checked at plan time by the engine's own rules, because a bad value keeps the project from booting. Import with `<KEY>` (project from the provider's `cloud_project_id`) or `<project_id>/<KEY>`. To manage many variables, use `hasura_env_vars`: it sends all of them in one update, so an apply restarts the project once whatever Terraform's `-parallelism`.";

const VALUE_DESCRIPTION: &str = "Variable value. Sensitive: never shown in plans or logs. For `HASURA_GRAPHQL_JWT_SECRET` a JSON object with exactly one of `key` (plus `type`) or `jwk_url`; HMAC keys must be long enough for the algorithm (32 characters for HS256); an RS/ES/Ed25519 `key` must be a PEM public key or X.509 certificate of that algorithm's family; at most one of `claims_namespace`/`claims_namespace_path`. Changes made outside Terraform are detected.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn keys_and_ids() {
        assert_checks(
            check_key,
            &["HASURA_GRAPHQL_JWT_SECRET", "_X1"],
            &["1X", "A-B", ""],
        );
        assert_checks(
            check_project_id,
            &[
                "3f2a9c4e-1b7d-4e8a-9c3f-2d5e6f7a8b9c",
                "3F2A9C4E-1B7D-4E8A-9C3F-2D5E6F7A8B9C",
            ],
            &[
                "../../admin",
                "3f2a9c4e-1b7d-4e8a-9c3f-2d5e6f7a8b9",
                "3f2a9c4e1b7d4e8a9c3f2d5e6f7a8b9c",
                "",
            ],
        );
        assert_eq!(format_env_id(None, "K"), "K");
        assert_eq!(format_env_id(Some("p"), "K"), "p/K");
    }
}
