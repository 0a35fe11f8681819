//! `hasura_env_vars`: a set of env vars of a Hasura Cloud project as one
//! resource. Every env change restarts the project, and Terraform applies
//! single-key resources in waves of `-parallelism`, so many `hasura_env_var`
//! resources can cost several restarts; this resource sends all of its
//! changes as one unit to the coalescer in `client::cloud` (one
//! `updateTenantEnv` + one `deleteTenantEnv`, one restart per apply).
use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::legacy::{decode, encode, LegacyApplyError, LegacyResource, PlanContext};
use crate::framework::{Attribute, Ctx, Diagnostics, Schema};
use crate::plugin::cty::{AttrPath, Type, Value};

use super::client::cloud::{EnvChange, TenantEnv};
use super::env_common::{
    check_key, check_project_id, cloud_project, project_and_env, project_id_attribute, send_changes,
};
use super::jwt_secret::validate_env;

pub struct EnvVarsResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Model {
    id: Option<String>,
    project_id: Option<String>,
    vars: Option<BTreeMap<String, String>>,
    exclusive: Option<bool>,
}

impl Model {
    fn vars(&self) -> BTreeMap<String, String> {
        self.vars.clone().unwrap_or_default()
    }
    fn exclusive(&self) -> bool {
        self.exclusive.unwrap_or(false)
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
fn parse_import_id(id: &str) -> Result<(Option<String>, Vec<String>), String> {
    let (project, keys) = match id.split_once('/') {
        Some((p, k)) => (Some(p), k),
        None => (None, id),
    };
    if let Some(p) = project {
        check_project_id(p)
            .map_err(|e| format!("The project id in {id:?} {e}. {IMPORT_FORMS}."))?;
    }
    let mut out: Vec<String> = Vec::new();
    for k in keys.split(',').map(str::trim) {
        check_key(k).map_err(|e| format!("The key {k:?} in {id:?} {e}. {IMPORT_FORMS}."))?;
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
fn validate_vars(vars: &Value, diags: &mut Diagnostics) {
    let Value::Map(m) = vars else { return };
    for (k, v) in m {
        let path = var_path(k);
        if let Err(e) = check_key(k) {
            diags.add_attr_error(
                path.clone(),
                "Invalid env var name",
                format!("The key of `{path}` {e}."),
            );
        }
        match v {
            Value::String(s) => {
                if let Err(e) = validate_env(k, s) {
                    diags.add_attr_error(
                        path.clone(),
                        format!("Invalid {k}"),
                        format!("`{path}`: {e}. Hasura would refuse to start with this value, so it is not sent."),
                    );
                }
            }
            Value::Null => diags.add_attr_error(
                path.clone(),
                "Missing env var value",
                format!("`{path}` is null. Give it a value, or remove the key from `vars` to delete the variable."),
            ),
            _ => {}
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
        Some(p) if p.exclusive() => p.vars.iter().flat_map(|m| m.keys()).collect(),
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
impl LegacyResource for EnvVarsResource {
    fn type_name(&self) -> &'static str {
        "hasura_env_vars"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A set of environment variables of a Hasura Cloud project, managed as one resource (`updateTenantEnv`/`deleteTenantEnv`). Every env change restarts the project; this resource sends all of its changes together — one update for the variables added or changed and one delete for those removed — and waits until the project answers `/healthz` again, so an apply restarts the project once whatever the number of variables and Terraform's `-parallelism` (changes of `hasura_env_var` resources in the same apply join the same batch). Values of `HASURA_GRAPHQL_JWT_SECRET` and `HASURA_GRAPHQL_JWT_SECRETS` are checked at plan time by the engine's own rules. Import with `<KEY1>,<KEY2>,...` (project from the provider's `cloud_project_id`) or `<project_id>/<KEY1>,<KEY2>,...`.",
            vec![
                Attribute::string("id").computed().describe("The project the variables belong to: `project_id` when set, else `default` (the provider's `cloud_project_id`)."),
                project_id_attribute(),
                Attribute::typed("vars", Type::map(Type::String)).required().sensitive().describe("The variables, name to value, e.g. `{ HASURA_GRAPHQL_JWT_SECRET = jsonencode({ jwk_url = \"...\" }) }`. Names: letters, digits and `_`, not starting with a digit. Sensitive: values (and, in plans, names) are never shown. Values changed and keys deleted outside Terraform show as drift; a key removed from `vars` is deleted from the project. On create, a key that already exists with a different value is refused (import it instead); one with the same value is adopted. `HASURA_GRAPHQL_JWT_SECRET(S)` values are validated like `hasura_env_var.value`."),
                Attribute::bool("exclusive").default(Value::Bool(false)).describe("When `true`, this resource owns the project's whole user env (`envVars.environment`): refresh reports every variable of the project, so one not in `vars` shows as drift, and apply deletes variables not in `vars` (on create, and when `exclusive` is turned on, every such variable of the project; the plan warns with their names). Do not combine with `hasura_env_var` on the same project. When `false` (default) only the keys in `vars` are managed."),
            ],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_vars(config.get("vars"), diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: PlanContext<'_>) {
        if plan.planned.is_null() {
            return;
        }
        let project = plan.planned.get("project_id").clone();
        plan.planned.set(
            "id",
            if project.is_unknown() {
                Value::Unknown
            } else {
                Value::string(format_id(project.as_str()))
            },
        );
        // `vars` is sensitive, so the plan cannot show which keys go:
        // name them (never values) when `exclusive` deletes keys.
        if plan.planned.get("exclusive").as_bool() != Some(true) || project.is_unknown() {
            return;
        }
        let Value::Map(declared) = plan.planned.get("vars") else {
            return;
        };
        let declared: BTreeSet<&str> = declared.keys().map(String::as_str).collect();
        let prior: Option<Model> = plan.prior.and_then(|p| decode(p).ok());
        let env = match prior.as_ref() {
            Some(p) if p.exclusive() => None,
            // Best effort: without a readable env, apply reports the problem.
            _ => project_and_env(ctx, project.as_str())
                .await
                .ok()
                .map(|(_, _, e)| e),
        };
        if let Some(doomed) = doomed_keys(&declared, prior.as_ref(), env.as_ref()) {
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

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        _config: &Value,
    ) -> Result<Value, LegacyApplyError> {
        let m: Model = decode(planned)?;
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
        let mut changes: Vec<EnvChange> = vars
            .iter()
            .map(|(k, v)| EnvChange::Set(k.clone(), v.clone()))
            .collect();
        if m.exclusive() {
            changes.extend(
                env.vars
                    .keys()
                    .filter(|k| !vars.contains_key(*k))
                    .map(|k| EnvChange::Delete(k.clone())),
            );
        }
        send_changes(ctx, &cloud, &project, changes, "Failed to set env vars").await?;
        let mut out = planned.clone();
        out.set("id", Value::string(format_id(m.project_id.as_deref())));
        Ok(out)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let m: Model = decode(state)?;
        let (_, _, env) = project_and_env(ctx, m.project_id.as_deref()).await?;
        let vars: BTreeMap<String, String> = if m.exclusive() {
            env.vars.clone()
        } else {
            // Keys deleted outside Terraform drop out: the plan adds them back.
            m.vars()
                .keys()
                .filter_map(|k| env.vars.get(k).map(|v| (k.clone(), v.clone())))
                .collect()
        };
        let out = Model {
            id: Some(format_id(m.project_id.as_deref())),
            vars: Some(vars),
            exclusive: Some(m.exclusive()),
            ..m
        };
        Ok(Some(encode(&out, &self.cty_type())?))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        _config: &Value,
    ) -> Result<Value, LegacyApplyError> {
        let old: Model = decode(prior)?;
        let m: Model = decode(planned)?;
        let vars = m.vars();
        let (cloud, project, env) = project_and_env(ctx, m.project_id.as_deref()).await?;
        // Every planned key is queued; the batch only sends what differs from
        // the env it reads just before writing.
        let mut changes: Vec<EnvChange> = vars
            .iter()
            .map(|(k, v)| EnvChange::Set(k.clone(), v.clone()))
            .collect();
        let mut gone: BTreeSet<&String> = old.vars.iter().flat_map(|v| v.keys()).collect();
        if m.exclusive() && !old.exclusive() {
            // Turning `exclusive` on takes ownership of the whole env.
            gone.extend(env.vars.keys());
        }
        changes.extend(
            gone.into_iter()
                .filter(|k| !vars.contains_key(*k))
                .map(|k| EnvChange::Delete(k.clone())),
        );
        send_changes(ctx, &cloud, &project, changes, "Failed to update env vars").await?;
        Ok(planned.clone())
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), Diagnostics> {
        let m: Model = decode(state)?;
        let (cloud, project) = cloud_project(ctx, m.project_id.as_deref()).await?;
        let changes = m.vars().into_keys().map(EnvChange::Delete).collect();
        send_changes(ctx, &cloud, &project, changes, "Failed to delete env vars").await
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Value, Diagnostics> {
        let (project_id, keys) =
            parse_import_id(id).map_err(|e| Diagnostics::error("Invalid import id", e))?;
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
        let m = Model {
            id: Some(format_id(project_id.as_deref())),
            vars: Some(
                keys.into_iter()
                    .map(|k| {
                        let v = env.vars[&k].clone();
                        (k, v)
                    })
                    .collect(),
            ),
            project_id,
            exclusive: Some(false),
        };
        encode(&m, &self.cty_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "3f2a9c4e-1b7d-4e8a-9c3f-2d5e6f7a8b9c";

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
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
            let e = parse_import_id(bad).expect_err(bad);
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
            ("GOOD", Value::string("x")),
            ("1BAD", Value::string("x")),
            ("A-B", Value::string("y")),
            (
                "HASURA_GRAPHQL_JWT_SECRET",
                Value::string(format!(r#"{{"type":"HS256","key":"{secret}"}}"#)),
            ),
            ("HASURA_GRAPHQL_JWT_SECRETS", Value::string("{}")),
            ("NULLED", Value::Null),
            ("LATER", Value::Unknown),
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
                r#"vars["NULLED"]"#,
            ]
        );
        assert_eq!(
            d.0[0].path,
            Some(AttrPath(vec![
                crate::plugin::cty::Step::Attr("vars".into()),
                crate::plugin::cty::Step::Key("1BAD".into()),
            ]))
        );
        for x in &d.0 {
            assert!(!x.detail.contains(secret) && !x.summary.contains(secret));
            assert!(x.detail.contains(&x.path.as_ref().unwrap().to_string()));
        }
        assert!(d.0[2].detail.contains("at least 32"), "{}", d.0[2].detail);

        let mut d = Diagnostics::new();
        validate_vars(&Value::Unknown, &mut d);
        validate_vars(&map(&[("OK", Value::string("v"))]), &mut d);
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
            exclusive: Some(false),
            vars: Some([("A".to_string(), "1".to_string())].into()),
            ..Model::default()
        };
        assert_eq!(
            doomed_keys(&declared, Some(&not_exclusive), Some(&env)),
            Some(vec!["X".to_string(), "Y".to_string()])
        );
        assert_eq!(doomed_keys(&declared, Some(&not_exclusive), None), None);
        // Already exclusive: the refreshed state holds every key.
        let exclusive = Model {
            exclusive: Some(true),
            vars: Some(
                [("A", "1"), ("Z", "2")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
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
            Some(Value::Bool(false))
        );
        assert!(s.attributes.iter().all(|a| !a.description.is_empty()));
    }
}
