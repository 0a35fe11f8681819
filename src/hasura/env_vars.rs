//! `hasura_env_vars`: a set of env vars of a Hasura Cloud project as one
//! resource. Every env change restarts the project, and Terraform applies
//! single-key resources in waves of `-parallelism`, so many `hasura_env_var`
//! resources can cost several restarts; this resource sends all of its
//! changes as one unit to the coalescer in `client::cloud` (one
//! `updateTenantEnv` + one `deleteTenantEnv`, one restart per apply).
use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, Known, Plan, Resource, Schema, Type,
    Unknown, Value,
};

use super::client::cloud::{EnvChange, TenantEnv};
use super::env_common::{
    check_key, check_project_id, cloud_project, project_and_env, project_id_attribute, send_changes,
};
use super::jwt_secret::validate_env;

pub struct EnvVarsResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    project_id: Value<String>,
    /// A value may be null or unknown in a configuration; validate refuses
    /// nulls, so at apply every value is known.
    vars: Value<BTreeMap<String, Value<String>>>,
    exclusive: Value<bool>,
}

impl Model {
    fn vars(&self) -> BTreeMap<String, String> {
        self.vars
            .known()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.known()?.clone())))
            .collect()
    }
    fn keys(&self) -> impl Iterator<Item = &String> {
        self.vars.known().into_iter().flat_map(|m| m.keys())
    }
    /// Known at apply: the attribute has a default.
    fn exclusive(&self) -> bool {
        self.exclusive.known() == Some(&true)
    }
    fn id(&self) -> String {
        format_id(self.project_id.as_deref())
    }
    /// This model holding exactly `vars`, with its id.
    fn with_vars(self, vars: BTreeMap<String, String>) -> Model {
        Model {
            id: Known(self.id()),
            vars: Known(vars.into_iter().map(|(k, v)| (k, Known(v))).collect()),
            exclusive: Known(self.exclusive()),
            ..self
        }
    }
}

/// The resource id: the project it manages, `default` for the provider's
/// `cloud_project_id`. Known at plan time unless `project_id` is unknown.
fn format_id(project: Option<&str>) -> String {
    project.unwrap_or("default").to_string()
}

/// The import id for `keys`: `<KEY1>,<KEY2>` or `<project_id>/<KEY1>,<KEY2>`.
fn format_import_id<'a>(project: Option<&str>, keys: impl IntoIterator<Item = &'a str>) -> String {
    let keys = keys.into_iter().collect::<Vec<_>>().join(",");
    match project {
        Some(p) => format!("{p}/{keys}"),
        None => keys,
    }
}

const IMPORT_FORMS: &str =
    "Expected `<KEY1>,<KEY2>,...` or `<project_id>/<KEY1>,<KEY2>,...` (the keys to manage)";

/// `<KEY1>,<KEY2>,...` or `<project_id>/<KEY1>,<KEY2>,...`: the project (if
/// given) and the keys, in order, without duplicates.
fn parse_import_id(id: &str) -> Result<(Option<String>, Vec<String>), Diagnostics> {
    let invalid = |e: String| Diagnostics::error("Invalid import id", e);
    let (project, keys) = match id.split_once('/') {
        Some((p, k)) => (Some(p), k),
        None => (None, id),
    };
    if let Some(p) = project {
        check_project_id(p)
            .map_err(|e| invalid(format!("The project id in {id:?} {e}. {IMPORT_FORMS}.")))?;
    }
    let mut out: Vec<String> = Vec::new();
    for k in keys.split(',').map(str::trim) {
        check_key(k)
            .map_err(|e| invalid(format!("The key {k:?} in {id:?} {e}. {IMPORT_FORMS}.")))?;
        if !out.iter().any(|x| x == k) {
            out.push(k.to_string());
        }
    }
    Ok((project.map(str::to_string), out))
}

fn var_path(key: &str) -> AttrPath {
    AttrPath::attr("vars").key(key)
}

/// Config checks on `vars`: each key's name, and the values of the JWT
/// variables by the engine's rules. Every diagnostic points at the element.
fn validate_vars(vars: &Value<BTreeMap<String, Value<String>>>, diags: &mut Diagnostics) {
    for (k, v) in vars.known().into_iter().flatten() {
        let path = var_path(k);
        if let Err(e) = check_key(k) {
            diags.add_attr_error(
                path.clone(),
                "Invalid env var name",
                format!("The key of `{path}` {e}."),
            );
        }
        match v {
            Known(s) => {
                if let Err(e) = validate_env(k, s) {
                    diags.add_attr_error(
                        path.clone(),
                        format!("Invalid {k}"),
                        format!("`{path}`: {e}. Hasura would refuse to start with this value, so it is not sent."),
                    );
                }
            }
            // A null element is refused by the framework, where it stands.
            Value::Null | Unknown => {}
        }
    }
}

/// The keys a plan will delete because `exclusive` is on, or `None` when
/// that cannot be known yet. `env` is only consulted when `exclusive` is
/// being turned on (or on create): then every undeclared key goes.
fn doomed_keys(
    declared: &BTreeSet<&str>,
    prior: Option<&Model>,
    env: Option<&TenantEnv>,
) -> Option<Vec<String>> {
    let owned: Vec<&String> = match prior {
        Some(p) if p.exclusive() => p.keys().collect(),
        _ => env?.vars.keys().collect(),
    };
    Some(
        owned
            .into_iter()
            .filter(|k| !declared.contains(k.as_str()))
            .cloned()
            .collect(),
    )
}

#[async_trait]
impl Resource for EnvVarsResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_env_vars"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A set of environment variables of a Hasura Cloud project, managed as one resource (`updateTenantEnv`/`deleteTenantEnv`). Every env change restarts the project; this resource sends all of its changes together — one update for the variables added or changed and one delete for those removed — and waits until the project answers `/healthz` again, so an apply restarts the project once whatever the number of variables and Terraform's `-parallelism` (changes of `hasura_env_var` resources in the same apply join the same batch). Values of `HASURA_GRAPHQL_JWT_SECRET` and `HASURA_GRAPHQL_JWT_SECRETS` are checked at plan time by the engine's own rules. Import with `<KEY1>,<KEY2>,...` (project from the provider's `cloud_project_id`) or `<project_id>/<KEY1>,<KEY2>,...`.",
            vec![
                Attribute::id("The project the variables belong to: `project_id` when set, else `default` (the provider's `cloud_project_id`)."),
                project_id_attribute(),
                Attribute::typed("vars", Type::map(Type::String)).required().sensitive().describe("The variables, name to value, e.g. `{ HASURA_GRAPHQL_JWT_SECRET = jsonencode({ jwk_url = \"...\" }) }`. Names: letters, digits and `_`, not starting with a digit. Sensitive: values (and, in plans, names) are never shown. Values changed and keys deleted outside Terraform show as drift; a key removed from `vars` is deleted from the project. On create, a key that already exists with a different value is refused (import it instead); one with the same value is adopted. `HASURA_GRAPHQL_JWT_SECRET(S)` values are validated like `hasura_env_var.value`."),
                Attribute::bool("exclusive").default(false).describe("When `true`, this resource owns the project's whole user env (`envVars.environment`): refresh reports every variable of the project, so one not in `vars` shows as drift, and apply deletes variables not in `vars` (on create, and when `exclusive` is turned on, every such variable of the project; the plan warns with their names). Do not combine with `hasura_env_var` on the same project. When `false` (default) only the keys in `vars` are managed."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        validate_vars(&config.vars, diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Model>) {
        let p = &mut *plan.planned;
        p.id = match &p.project_id {
            Unknown => Unknown,
            project => Known(format_id(project.as_deref())),
        };
        // `vars` is sensitive, so the plan cannot show which keys go:
        // name them (never values) when `exclusive` deletes keys.
        if !p.exclusive() || p.project_id.is_unknown() {
            return;
        }
        let Some(declared) = p.vars.known() else {
            return;
        };
        let declared: BTreeSet<&str> = declared.keys().map(String::as_str).collect();
        let env = match plan.prior {
            Some(prior) if prior.exclusive() => None,
            // Best effort: without a readable env, apply reports the problem.
            _ => project_and_env(ctx, p.project_id.as_deref())
                .await
                .ok()
                .map(|(_, _, e)| e),
        };
        if let Some(doomed) = doomed_keys(&declared, plan.prior, env.as_ref()) {
            if !doomed.is_empty() {
                plan.diags.add_warning(
                    "Env vars will be deleted",
                    format!(
                        "`exclusive = true`: apply deletes {} env var(s) of the project that are not in `vars`: {}.",
                        doomed.len(),
                        doomed.join(", ")
                    ),
                );
            }
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let vars = m.vars();
        let (cloud, project, env) = project_and_env(ctx, m.project_id.as_deref()).await?;
        let existing: Vec<&str> = vars
            .keys()
            .filter(|k| env.vars.contains_key(*k))
            .map(String::as_str)
            .collect();
        let mut diags = Diagnostics::new();
        for (k, v) in &vars {
            if env.vars.get(k).is_some_and(|cur| cur != v) {
                diags.add_attr_error(
                    var_path(k),
                    "Env var already exists",
                    format!(
                        "The project already has {k} with a different value, and creating this resource would overwrite it. To manage the variables that already exist, import them first: terraform import <address> {}",
                        format_import_id(m.project_id.as_deref(), existing.iter().copied())
                    ),
                );
            }
        }
        diags.into_result()?;
        let mut changes = sets(&vars);
        if m.exclusive() {
            changes.extend(deletes(env.vars.keys(), &vars));
        }
        send_changes(ctx, &cloud, &project, changes, "Failed to set env vars").await?;
        Ok(m.with_vars(vars))
    }

    async fn read(&self, ctx: &Ctx, m: Model) -> Result<Option<Model>, Diagnostics> {
        let (_, _, env) = project_and_env(ctx, m.project_id.as_deref()).await?;
        let vars: BTreeMap<String, String> = if m.exclusive() {
            env.vars
        } else {
            // Keys deleted outside Terraform drop out: the plan adds them back.
            m.keys()
                .filter_map(|k| env.vars.get(k).map(|v| (k.clone(), v.clone())))
                .collect()
        };
        Ok(Some(m.with_vars(vars)))
    }

    async fn update(&self, ctx: &Ctx, old: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        let vars = m.vars();
        let (cloud, project, env) = project_and_env(ctx, m.project_id.as_deref()).await?;
        // Every planned key is queued; the batch only sends what differs from
        // the env it reads just before writing.
        let mut changes = sets(&vars);
        let mut gone: BTreeSet<&String> = old.keys().collect();
        if m.exclusive() && !old.exclusive() {
            // Turning `exclusive` on takes ownership of the whole env.
            gone.extend(env.vars.keys());
        }
        changes.extend(deletes(gone, &vars));
        send_changes(ctx, &cloud, &project, changes, "Failed to update env vars").await?;
        Ok(m)
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let (cloud, project) = cloud_project(ctx, m.project_id.as_deref()).await?;
        let changes = m.keys().cloned().map(EnvChange::Delete).collect();
        send_changes(ctx, &cloud, &project, changes, "Failed to delete env vars").await
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let (project_id, keys) = parse_import_id(id)?;
        let (_, _, env) = project_and_env(ctx, project_id.as_deref()).await?;
        let missing: Vec<&str> = keys
            .iter()
            .filter(|k| !env.vars.contains_key(*k))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Diagnostics::error(
                "Cannot import env vars that do not exist",
                format!(
                    "The project has no env var {}. Import only the keys the project has; keys added to `vars` afterwards are created by the next apply.",
                    missing.join(", ")
                ),
            ));
        }
        let vars = keys
            .into_iter()
            .map(|k| {
                let v = env.vars[&k].clone();
                (k, v)
            })
            .collect();
        let m = Model {
            project_id: project_id.into(),
            exclusive: Known(false),
            ..Model::default()
        };
        Ok(m.with_vars(vars))
    }
}

/// A set for each variable.
fn sets(vars: &BTreeMap<String, String>) -> Vec<EnvChange> {
    vars.iter()
        .map(|(k, v)| EnvChange::Set(k.clone(), v.clone()))
        .collect()
}

/// A delete for each of `keys` that `vars` does not keep.
fn deletes<'a>(
    keys: impl IntoIterator<Item = &'a String>,
    vars: &BTreeMap<String, String>,
) -> Vec<EnvChange> {
    keys.into_iter()
        .filter(|k| !vars.contains_key(*k))
        .map(|k| EnvChange::Delete(k.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "3f2a9c4e-1b7d-4e8a-9c3f-2d5e6f7a8b9c";

    fn map(pairs: &[(&str, Value<String>)]) -> Value<BTreeMap<String, Value<String>>> {
        Known(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn import_ids() {
        assert_eq!(
            parse_import_id("A,B").unwrap(),
            (None, vec!["A".to_string(), "B".to_string()])
        );
        assert_eq!(
            parse_import_id(&format!("{P}/A, _B ,A")).unwrap(),
            (Some(P.to_string()), vec!["A".to_string(), "_B".to_string()])
        );
        assert_eq!(
            parse_import_id("HASURA_GRAPHQL_JWT_SECRET").unwrap().1,
            vec!["HASURA_GRAPHQL_JWT_SECRET"]
        );
        for bad in [
            "",
            "A,",
            "A,,B",
            "1A",
            "A-B",
            "../../admin/A",
            "not-a-uuid/A",
            &format!("{P}/"),
            &format!("{P}/A/B"),
        ] {
            let e = &parse_import_id(bad).expect_err(bad).0[0].detail;
            assert!(e.contains("Expected `<KEY1>,<KEY2>"), "{bad}: {e}");
        }
        assert_eq!(format_import_id(None, ["A", "B"]), "A,B");
        assert_eq!(format_import_id(Some(P), ["A"]), format!("{P}/A"));
        assert_eq!(format_id(None), "default");
        assert_eq!(format_id(Some(P)), P);
    }

    #[test]
    fn vars_diagnostics_point_at_the_element_and_never_quote_values() {
        let secret = "too-short-secret";
        let vars = map(&[
            ("GOOD", "x".into()),
            ("1BAD", "x".into()),
            ("A-B", "y".into()),
            (
                "HASURA_GRAPHQL_JWT_SECRET",
                Known(format!(r#"{{"type":"HS256","key":"{secret}"}}"#)),
            ),
            ("HASURA_GRAPHQL_JWT_SECRETS", "{}".into()),
            ("NULLED", Value::Null),
            ("LATER", Unknown),
        ]);
        let mut d = Diagnostics::new();
        validate_vars(&vars, &mut d);
        let paths: Vec<String> =
            d.0.iter()
                .map(|x| x.path.as_ref().unwrap().to_string())
                .collect();
        assert_eq!(
            paths,
            [
                r#"vars["1BAD"]"#,
                r#"vars["A-B"]"#,
                r#"vars["HASURA_GRAPHQL_JWT_SECRET"]"#,
                r#"vars["HASURA_GRAPHQL_JWT_SECRETS"]"#,
            ]
        );
        assert_eq!(d.0[0].path, Some(AttrPath::attr("vars").key("1BAD")));
        for x in &d.0 {
            assert!(!x.detail.contains(secret) && !x.summary.contains(secret));
            assert!(x.detail.contains(&x.path.as_ref().unwrap().to_string()));
        }
        assert!(d.0[2].detail.contains("at least 32"), "{}", d.0[2].detail);

        let mut d = Diagnostics::new();
        validate_vars(&Unknown, &mut d);
        validate_vars(&map(&[("OK", "v".into())]), &mut d);
        assert!(d.is_empty());
    }

    #[test]
    fn exclusive_deletes_what_the_plan_names() {
        let declared: BTreeSet<&str> = ["A"].into_iter().collect();
        let env = TenantEnv {
            hash: "h".into(),
            vars: [("A", "1"), ("X", "2"), ("Y", "3")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        // Create, or `exclusive` turned on: every undeclared key of the env.
        assert_eq!(
            doomed_keys(&declared, None, Some(&env)),
            Some(vec!["X".to_string(), "Y".to_string()])
        );
        let not_exclusive = Model {
            exclusive: Known(false),
            vars: map(&[("A", "1".into())]),
            ..Model::default()
        };
        assert_eq!(
            doomed_keys(&declared, Some(&not_exclusive), Some(&env)),
            Some(vec!["X".to_string(), "Y".to_string()])
        );
        assert_eq!(doomed_keys(&declared, Some(&not_exclusive), None), None);
        // Already exclusive: the refreshed state holds every key.
        let exclusive = Model {
            exclusive: Known(true),
            vars: map(&[("A", "1".into()), ("Z", "2".into())]),
            ..Model::default()
        };
        assert_eq!(
            doomed_keys(&declared, Some(&exclusive), None),
            Some(vec!["Z".to_string()])
        );
    }

    #[test]
    fn schema_marks_vars_sensitive_and_exclusive_defaults_off() {
        let s = EnvVarsResource.schema();
        let vars = s.attribute("vars").unwrap();
        assert!(vars.sensitive);
        assert_eq!(vars.cty_type(), Type::map(Type::String));
        assert_eq!(
            s.attribute("exclusive").unwrap().default,
            Some(false.into())
        );
        assert!(s.attributes.iter().all(|a| !a.description.is_empty()));
    }
}
