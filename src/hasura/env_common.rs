//! What `hasura_env_var` and `hasura_env_vars` share: the `project_id`
//! attribute and the checks on env var names and Hasura Cloud project ids, at
//! validate time and in import ids.
use std::sync::Arc;

use crate::framework::IntoDiags;
use crate::framework::{Attribute, Ctx, Diagnostics, Invalid, RequiresReplace, StrCheck};

use super::client::cloud::{Cloud, EnvChange, Project, TenantEnv};
use super::client::HasuraClient;

/// The Cloud client and the project `project_id` names (the provider's
/// `cloud_project_id` when `None`).
pub async fn cloud_project(
    ctx: &Ctx,
    project_id: Option<&str>,
) -> Result<(Arc<Cloud>, Project), Diagnostics> {
    let client = ctx.client::<HasuraClient>()?;
    let cloud = client.cloud()?.clone();
    let project = cloud
        .project(&ctx.cancel, project_id)
        .await
        .map_err(|e| e.into_diags("Failed to find the Hasura Cloud project"))?;
    Ok((cloud, project))
}

/// [`cloud_project`] and the project's env vars as they are now.
pub async fn project_and_env(
    ctx: &Ctx,
    project_id: Option<&str>,
) -> Result<(Arc<Cloud>, Project, TenantEnv), Diagnostics> {
    let (cloud, project) = cloud_project(ctx, project_id).await?;
    let env = cloud
        .env(&ctx.cancel, &project.tenant_id)
        .await
        .map_err(|e| e.into_diags("Failed to read env vars"))?;
    Ok((cloud, project, env))
}

/// Queues `changes` as one unit in the project's env batch and waits until
/// they are live; `what` heads the diagnostic if they fail.
pub async fn send_changes(
    ctx: &Ctx,
    cloud: &Arc<Cloud>,
    project: &Project,
    changes: Vec<EnvChange>,
    what: &str,
) -> Result<(), Diagnostics> {
    cloud
        .change_all(&ctx.cancel, project, changes)
        .await
        .map_err(|e| e.into_diags(what))
}

/// `project_id`: optional, defaults to the provider's `cloud_project_id`;
/// another project is another set of variables, so a change replaces.
pub fn project_id_attribute() -> Attribute {
    Attribute::string("project_id")
        .optional()
        .plan(RequiresReplace)
        .validate(StrCheck("Invalid project id", check_project_id))
        .describe("Hasura Cloud project id (UUID from the dashboard URL). Defaults to the provider's `cloud_project_id`. Changing it replaces the resource.")
}

/// A Hasura Cloud project id is a UUID (8-4-4-4-12 hex digits). Checked at
/// validate time so a bad value gets a diagnostic on `project_id`, and so it
/// never reaches a request (e.g. as `../../admin`).
pub fn check_project_id(p: &str) -> Result<(), Invalid> {
    let groups: Vec<&str> = p.split('-').collect();
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err("must be a Hasura Cloud project id: a UUID such as `3f2a9c4e-1b7d-4e8a-9c3f-2d5e6f7a8b9c` (from the project's dashboard URL)".into())
    }
}

/// An env var name: letters, digits and `_`, not starting with a digit.
pub fn check_key(k: &str) -> Result<(), Invalid> {
    let mut chars = k.chars();
    match chars.next() {
        None => Err("must not be empty".into()),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            Err("must start with a letter or `_`".into())
        }
        _ if !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Err("may only contain letters, digits and `_`".into())
        }
        _ => Ok(()),
    }
}
