//! `hasura_source`: a PostgreSQL database added to Hasura (`pg_add_source`,
//! with `replace_configuration: true` for a change in place, and
//! `pg_drop_source`). Tables, permissions and the other per-table resources
//! name it in their `source`.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntBetween, IntoDiags, Invalid, Known,
    Nesting, NotEmpty, Null, OneOf, RequiresReplace, Resource, Schema, StrCheck, Value,
};

use super::client::sources::{self as api, DatabaseUrl, RootFields, Settings};
use super::client::HasuraError;
use super::engine;
use super::graphql_doc;
use super::ident::{already_exists, check_non_empty_text as check_name};
use super::webhook::{check_env_name, exactly_one};

pub struct SourceResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    database_url: Value<String>,
    database_url_from_env: Value<String>,
    max_connections: Value<i64>,
    idle_timeout: Value<i64>,
    retries: Value<i64>,
    pool_timeout: Value<i64>,
    connection_lifetime: Value<i64>,
    isolation_level: Value<String>,
    use_prepared_statements: Value<bool>,
    read_replicas: Value<Vec<Replica>>,
    root_fields_namespace: Value<String>,
    root_fields_prefix: Value<String>,
    root_fields_suffix: Value<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Replica {
    database_url: Value<String>,
    database_url_from_env: Value<String>,
}

/// The one URL form set of a pair (validate makes sure there is one).
fn url_of(value: &Value<String>, from_env: &Value<String>) -> DatabaseUrl {
    match (value.known(), from_env.known()) {
        (Some(u), _) => DatabaseUrl::Value(u.clone()),
        (None, Some(e)) => DatabaseUrl::FromEnv(e.clone()),
        (None, None) => DatabaseUrl::Value(String::new()),
    }
}

/// A URL form as the pair of attributes; a form this provider does not
/// write (`connection_parameters`, ...) reads as neither, which plans a change.
fn url_attrs(u: DatabaseUrl) -> (Value<String>, Value<String>) {
    match u {
        DatabaseUrl::Value(s) => (Known(s), Null),
        DatabaseUrl::FromEnv(e) => (Null, Known(e)),
        DatabaseUrl::Other(_) => (Null, Null),
    }
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }

    /// Only the identity, as an import starts.
    fn from_name(name: &str) -> Model {
        Model {
            id: Known(name.to_string()),
            name: Known(name.to_string()),
            ..Model::default()
        }
    }

    /// The settings to write; every attribute is known at apply.
    fn settings(&self) -> Settings {
        Settings {
            database_url: url_of(&self.database_url, &self.database_url_from_env),
            max_connections: self.max_connections.or(api::DEFAULT_MAX_CONNECTIONS),
            idle_timeout: self.idle_timeout.or(api::DEFAULT_IDLE_TIMEOUT),
            retries: self.retries.or(api::DEFAULT_RETRIES),
            pool_timeout: self.pool_timeout.known().copied(),
            connection_lifetime: self
                .connection_lifetime
                .or(api::DEFAULT_CONNECTION_LIFETIME),
            isolation_level: self
                .isolation_level
                .str_or(api::DEFAULT_ISOLATION_LEVEL)
                .to_string(),
            use_prepared_statements: self.use_prepared_statements.or(false),
            read_replicas: self
                .read_replicas
                .known()
                .into_iter()
                .flatten()
                .map(|r| url_of(&r.database_url, &r.database_url_from_env))
                .collect(),
        }
    }

    fn root_fields(&self) -> RootFields {
        RootFields {
            namespace: self.root_fields_namespace.known().cloned(),
            prefix: self.root_fields_prefix.known().cloned(),
            suffix: self.root_fields_suffix.known().cloned(),
        }
    }

    fn from_remote(name: &str, s: Settings, rf: RootFields) -> Model {
        let (database_url, database_url_from_env) = url_attrs(s.database_url);
        let replicas: Vec<Replica> = s
            .read_replicas
            .into_iter()
            .map(|u| {
                let (database_url, database_url_from_env) = url_attrs(u);
                Replica {
                    database_url,
                    database_url_from_env,
                }
            })
            .collect();
        Model {
            id: Known(name.to_string()),
            name: Known(name.to_string()),
            database_url,
            database_url_from_env,
            max_connections: Known(s.max_connections),
            idle_timeout: Known(s.idle_timeout),
            retries: Known(s.retries),
            pool_timeout: s.pool_timeout.map_or(Null, Known),
            connection_lifetime: Known(s.connection_lifetime),
            isolation_level: Known(s.isolation_level),
            use_prepared_statements: Known(s.use_prepared_statements),
            read_replicas: if replicas.is_empty() {
                Null
            } else {
                Known(replicas)
            },
            root_fields_namespace: rf.namespace.map_or(Null, Known),
            root_fields_prefix: rf.prefix.map_or(Null, Known),
            root_fields_suffix: rf.suffix.map_or(Null, Known),
        }
    }

    /// Hasura's refusal pointed at the attribute it is about. Its messages
    /// never hold the URL (only env var names), so they are passed on.
    /// Adds the source as planned, or (`replace`) changes the one of its
    /// name in place.
    async fn put(self, ctx: &Ctx, replace: bool) -> Result<Model, ApplyError<Model>> {
        let summary = if replace {
            "Failed to update source"
        } else {
            "Failed to add source"
        };
        engine(ctx)?
            .put_source(
                &ctx.cancel,
                self.name(),
                &self.settings(),
                &self.root_fields(),
                replace,
            )
            .await
            .map_err(|e| self.write_failed(e, summary))?;
        Ok(Model {
            id: self.name.clone(),
            ..self
        })
    }

    fn write_failed(&self, e: HasuraError, summary: &str) -> Diagnostics {
        let m = e.message().to_string();
        let attr = if m.contains("already exists") {
            return already_exists(AttrPath::attr("name"), summary, e, self.name());
        } else if m.contains("environment variable") {
            if self.database_url_from_env.is_known() {
                "database_url_from_env"
            } else {
                "read_replicas"
            }
        } else if m.contains("database query error") {
            return Diagnostics::attr_error(
                AttrPath::attr("database_url"),
                summary,
                format!("{e} Hasura could not connect to the database (or one of its read replicas): check the host, credentials and that the database exists."),
            );
        } else {
            return e.into_diags(summary);
        };
        Diagnostics::attr_error(AttrPath::attr(attr), summary, e.to_string())
    }
}

/// A `postgres://` or `postgresql://` URL with a host. The message never
/// repeats the value: it may hold a password.
fn check_pg_url(s: &str) -> Result<(), Invalid> {
    let rest = s
        .strip_prefix("postgres://")
        .or_else(|| s.strip_prefix("postgresql://"))
        .ok_or_else(|| Invalid("must be a `postgres://` or `postgresql://` URL".into()))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || s.chars().any(char::is_whitespace) {
        return Err(Invalid(
            "must name a host, e.g. `postgres://user:password@db.example.com:5432/app`, without spaces".into(),
        ));
    }
    Ok(())
}

/// `[_A-Za-z][_0-9A-Za-z]*`, as Hasura parses customised names (`G.Name`).
fn check_graphql_name(s: &str) -> Result<(), Invalid> {
    let why = "must be a GraphQL name: letters, digits and `_`, not starting with a digit";
    graphql_doc::check_name(s, why)
}

/// Exactly one of a URL and its env var form, at `path`.
fn one_url(
    value: &Value<String>,
    from_env: &Value<String>,
    path: AttrPath,
    diags: &mut Diagnostics,
) {
    exactly_one(
        (value, from_env),
        path,
        "Database URL missing or set twice",
        diags,
    );
}

/// Pool settings are whole seconds or counts; Hasura reads them as `Int`.
const NON_NEGATIVE: IntBetween = IntBetween(0, i32::MAX as i64);

/// A pool setting defaulting to graphql-engine's `defaultPostgresPoolSettings`.
fn pool_setting(name: &'static str, default: i64, what: &str) -> Attribute {
    let description = format!("{what} Default `{default}` (Hasura's).");
    Attribute::int(name)
        .default(default)
        .validate(NON_NEGATIVE)
        .describe(description)
}

const URL_DESCRIPTION: &str = "Connection URL, `postgres://user:password@host:5432/dbname`. Sensitive: kept out of plans and logs, but stored in the state and in Hasura's metadata as given; prefer `database_url_from_env` so the URL stays in the engine's env. Exactly one of `database_url` and `database_url_from_env`.";
const FROM_ENV_DESCRIPTION: &str = "Name of the engine's env var holding the connection URL, e.g. `ANALYTICS_DATABASE_URL` (set with `hasura_env_var`). A variable the engine does not have is refused at apply. Exactly one of `database_url` and `database_url_from_env`.";

#[async_trait]
impl Resource for SourceResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_source"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A PostgreSQL database added to Hasura as a source (`pg_add_source`). Tables, tracked tables, permissions and the other per-table resources use it by naming it in their `source`, e.g. `source = hasura_source.analytics.name`. Setting changes are made in place (`replace_configuration`), keeping the source's tables, permissions and the customization this resource does not manage (type names, naming convention); changing `name` replaces it. Hasura checks the connection on every change: a database it cannot reach, or an env var the engine lacks, is refused at apply and nothing is stored. Destroying drops the source from the metadata with everything tracked in it (`pg_drop_source` with `cascade`); the database and its data are left alone. The `default` source (the engine's own database) can be imported and managed, but destroying the resource only forgets it: Hasura would otherwise drop every table tracked there. Import with the source's name.",
            vec![
                Attribute::id("The source's name: the import id."),
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid source name", check_name)).describe("Source name, as tables and permissions name it in `source`. Changing it replaces the source (its tracked tables and permissions are dropped with the old one)."),
                Attribute::string("database_url").optional().sensitive().validate(StrCheck("Invalid database URL", check_pg_url)).describe(URL_DESCRIPTION),
                Attribute::string("database_url_from_env").optional().validate(StrCheck("Invalid env var name", check_env_name)).describe(FROM_ENV_DESCRIPTION),
                pool_setting("max_connections", api::DEFAULT_MAX_CONNECTIONS, "Maximum connections Hasura keeps open to the database."),
                pool_setting("idle_timeout", api::DEFAULT_IDLE_TIMEOUT, "Seconds an idle connection is kept."),
                pool_setting("retries", api::DEFAULT_RETRIES, "Times a failed connection is retried."),
                Attribute::int("pool_timeout").optional().validate(NON_NEGATIVE).describe("Seconds a query waits for a free connection. Unset (the default) waits forever."),
                pool_setting("connection_lifetime", api::DEFAULT_CONNECTION_LIFETIME, "Seconds after which a connection is replaced; `0` keeps connections forever."),
                Attribute::string("isolation_level").default(api::DEFAULT_ISOLATION_LEVEL).validate(OneOf(&["read-committed", "repeatable-read", "serializable"])).describe("Transaction isolation of the queries Hasura runs: `read-committed` (the default), `repeatable-read` or `serializable`."),
                Attribute::bool("use_prepared_statements").default(false).describe("Whether Hasura prepares statements on the database. Default `false`."),
                Attribute::nested("read_replicas", Nesting::List, vec![
                    Attribute::string("database_url").optional().sensitive().validate(StrCheck("Invalid database URL", check_pg_url)).describe(URL_DESCRIPTION),
                    Attribute::string("database_url_from_env").optional().validate(StrCheck("Invalid env var name", check_env_name)).describe(FROM_ENV_DESCRIPTION),
                ])
                .optional()
                .validate(NotEmpty("Empty read replicas", "`read_replicas` is empty; omit it for a source without replicas."))
                .describe("Read replicas Hasura sends queries (not mutations) to, in order. Each uses the source's isolation level and Hasura's default pool settings. Omit it for none (an empty list is refused, as Hasura refuses it). Replicas are an Enterprise and Cloud feature of Hasura."),
                Attribute::string("root_fields_namespace").optional().validate(StrCheck("Invalid GraphQL name", check_graphql_name)).describe("Puts every root field of the source under one field of this name (`customization.root_fields.namespace`), e.g. `analytics` makes `query { analytics { events { id } } }`. A GraphQL name."),
                Attribute::string("root_fields_prefix").optional().validate(StrCheck("Invalid GraphQL name", check_graphql_name)).describe("Prefix of every root field name of the source (`customization.root_fields.prefix`), e.g. `analytics_` makes `analytics_events`. A GraphQL name."),
                Attribute::string("root_fields_suffix").optional().validate(StrCheck("Invalid GraphQL name", check_graphql_name)).describe("Suffix of every root field name of the source (`customization.root_fields.suffix`). A GraphQL name. Type name customization and the naming convention, set outside Terraform, are kept."),
            ],
        )
    }

    fn validate(&self, c: &Model, diags: &mut Diagnostics) {
        one_url(
            &c.database_url,
            &c.database_url_from_env,
            AttrPath::attr("database_url"),
            diags,
        );
        if let Some(list) = c.read_replicas.known() {
            for (i, r) in list.iter().enumerate() {
                one_url(
                    &r.database_url,
                    &r.database_url_from_env,
                    AttrPath::attr("read_replicas")
                        .index(i)
                        .child("database_url"),
                    diags,
                );
            }
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        m.put(ctx, false).await
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        let export = super::exported(ctx).await?;
        let (name, found) = (prior.name(), export.source_settings(prior.name()));
        Ok(found.map(|s| Model::from_remote(name, s, export.source_root_fields(name))))
    }

    async fn update(&self, ctx: &Ctx, _prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        m.put(ctx, true).await
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        // Dropping `default` would untrack every table of the engine's own
        // database: destroying the resource only forgets it.
        if m.name() == "default" {
            return Ok(());
        }
        engine(ctx)?
            .drop_source(&ctx.cancel, m.name())
            .await
            .map_err(|e| e.into_diags("Failed to drop source"))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        match check_name(id) {
            Ok(()) => Ok(Model::from_name(id)),
            Err(e) => Err(Diagnostics::error(
                "Invalid import id",
                format!("The id {e}. Expected the source's name, e.g. `analytics`."),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn urls() {
        assert_checks(
            check_pg_url,
            &[
                "postgres://u:p@db.example.com:5432/app",
                "postgresql://localhost/app",
                "postgres://db?sslmode=require",
            ],
            &[
                "",
                "mysql://db/app",
                "postgres:///app",
                "postgres://u:p@/app",
                "postgres://db /x",
            ],
        );
        let e = check_pg_url("http://u:hunter2@db").unwrap_err().0;
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn settings_round_trip_through_the_model() {
        let m = Model {
            name: Known("analytics".into()),
            database_url_from_env: Known("ANALYTICS_DB".into()),
            max_connections: Known(10),
            connection_lifetime: Known(0),
            ..Model::default()
        };
        let s = m.settings();
        assert_eq!(s.connection_lifetime, 0);
        assert_eq!(s.idle_timeout, 180);
        let back = Model::from_remote("analytics", s.clone(), RootFields::default());
        assert_eq!(back.settings(), s);
        assert_eq!(back.database_url_from_env.as_deref(), Some("ANALYTICS_DB"));
        assert!(back.database_url.is_null());
    }
}
