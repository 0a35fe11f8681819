//! PostgreSQL sources (`pg_add_source`, with `replace_configuration` for a
//! change in place, and `pg_drop_source`), as the export shows them under
//! `sources[].configuration` (graphql-engine
//! `Hasura/Backends/Postgres/Connection/Settings.hs`: `PostgresConnConfiguration`,
//! `PostgresSourceConnInfo`, `PostgresPoolSettings`).
//!
//! What the export holds is not always what was sent: `use_prepared_statements`
//! and `isolation_level` are always written out, and `parseConnLifeTime` turns
//! an absent `connection_lifetime` into 600 and 0 into nothing. [`Settings`]
//! is the meaning both sides share, so a comparison never depends on the form.
use serde::Deserialize;
use serde_json::{json, Map, Number, Value};
use tokio_util::sync::CancellationToken;

use super::lenient::Lenient;
use super::metadata::Export;
use super::{Engine, HasuraError};

/// `defaultPostgresPoolSettings`.
pub const DEFAULT_MAX_CONNECTIONS: i64 = 50;
pub const DEFAULT_IDLE_TIMEOUT: i64 = 180;
pub const DEFAULT_RETRIES: i64 = 1;
pub const DEFAULT_CONNECTION_LIFETIME: i64 = 600;
pub const DEFAULT_ISOLATION_LEVEL: &str = "read-committed";

/// `UrlConf`, in the two forms this provider writes; anything else
/// (`connection_parameters`, `dynamic_from_file`) is kept as `Other`.
#[derive(Clone, Debug, PartialEq)]
pub enum DatabaseUrl {
    Value(String),
    FromEnv(String),
    Other(Value),
}

impl DatabaseUrl {
    fn parse(v: &Value) -> DatabaseUrl {
        match v {
            Value::String(s) => DatabaseUrl::Value(s.clone()),
            other => match FromEnv::deserialize(other) {
                Ok(FromEnv { from_env }) => DatabaseUrl::FromEnv(from_env),
                Err(_) => DatabaseUrl::Other(other.clone()),
            },
        }
    }

    fn to_json(&self) -> Value {
        match self {
            DatabaseUrl::Value(s) => json!(s),
            DatabaseUrl::FromEnv(e) => json!({ "from_env": e }),
            DatabaseUrl::Other(v) => v.clone(),
        }
    }
}

/// A source's connection settings, as they take effect.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub max_connections: i64,
    pub idle_timeout: i64,
    pub retries: i64,
    /// Seconds; `None` waits for a connection forever.
    pub pool_timeout: Option<i64>,
    /// Seconds; 0 keeps connections forever.
    pub connection_lifetime: i64,
    pub isolation_level: String,
    pub use_prepared_statements: bool,
    pub read_replicas: Vec<DatabaseUrl>,
}

/// `{"from_env": <variable>}` and nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FromEnv {
    from_env: String,
}

/// `PostgresConnConfiguration`, the parts read back; a field of an
/// unexpected shape reads as unset.
#[derive(Deserialize)]
struct Configuration {
    connection_info: Lenient<ConnectionInfo>,
    #[serde(default)]
    read_replicas: Lenient<Vec<Replica>>,
}

#[derive(Deserialize)]
struct ConnectionInfo {
    database_url: Value,
    #[serde(default)]
    pool_settings: Lenient<Pool>,
    #[serde(default)]
    isolation_level: Lenient<String>,
    #[serde(default)]
    use_prepared_statements: Lenient<bool>,
}

#[derive(Deserialize)]
struct Replica {
    #[serde(default)]
    database_url: Value,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Pool {
    max_connections: Lenient<Number>,
    idle_timeout: Lenient<Number>,
    retries: Lenient<Number>,
    pool_timeout: Lenient<Number>,
    connection_lifetime: Lenient<Number>,
}

fn int(v: &Lenient<Number>) -> Option<i64> {
    let n = v.0.as_ref()?;
    n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64))
}

impl Settings {
    /// The meaning of an exported `configuration`; `None` when it has no
    /// `connection_info`.
    pub fn from_export(configuration: &Value) -> Option<Settings> {
        let c = Configuration::deserialize(configuration).ok()?;
        let info = c.connection_info.0?;
        let pool = info.pool_settings.0;
        let field = |f: fn(&Pool) -> &Lenient<Number>| pool.as_ref().and_then(|p| int(f(p)));
        // Hasura writes `connection_lifetime` whenever pool settings are
        // stored, unless it is 0; with none stored, 600 applies.
        let connection_lifetime = match pool {
            None => DEFAULT_CONNECTION_LIFETIME,
            Some(_) => field(|p| &p.connection_lifetime).unwrap_or(0),
        };
        let read_replicas = (c.read_replicas.0.unwrap_or_default().iter())
            .map(|r| DatabaseUrl::parse(&r.database_url))
            .collect();
        Some(Settings {
            database_url: DatabaseUrl::parse(&info.database_url),
            max_connections: field(|p| &p.max_connections).unwrap_or(DEFAULT_MAX_CONNECTIONS),
            idle_timeout: field(|p| &p.idle_timeout).unwrap_or(DEFAULT_IDLE_TIMEOUT),
            retries: field(|p| &p.retries).unwrap_or(DEFAULT_RETRIES),
            pool_timeout: field(|p| &p.pool_timeout),
            connection_lifetime,
            isolation_level: (info.isolation_level.0)
                .unwrap_or_else(|| DEFAULT_ISOLATION_LEVEL.to_string()),
            use_prepared_statements: info.use_prepared_statements.0.unwrap_or(false),
            read_replicas,
        })
    }

    /// The `configuration` argument of `pg_add_source`: every pool setting
    /// written out, so the export shows the same values back.
    pub fn to_configuration(&self) -> Value {
        let mut pool = Map::new();
        pool.insert("max_connections".into(), json!(self.max_connections));
        pool.insert("idle_timeout".into(), json!(self.idle_timeout));
        pool.insert("retries".into(), json!(self.retries));
        if let Some(t) = self.pool_timeout {
            pool.insert("pool_timeout".into(), json!(t));
        }
        pool.insert(
            "connection_lifetime".into(),
            json!(self.connection_lifetime),
        );
        let mut conf = json!({"connection_info": {
            "database_url": self.database_url.to_json(),
            "pool_settings": pool,
            "isolation_level": self.isolation_level,
            "use_prepared_statements": self.use_prepared_statements,
        }});
        if !self.read_replicas.is_empty() {
            conf["read_replicas"] = self
                .read_replicas
                .iter()
                .map(|u| json!({"database_url": u.to_json()}))
                .collect();
        }
        conf
    }
}

/// The source's `customization.root_fields` (graphql-engine
/// `RootFieldsCustomization`): root fields named `prefix + name + suffix`,
/// under one `namespace` field when set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RootFields {
    pub namespace: Option<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

impl RootFields {
    fn from_customization(c: &Value) -> RootFields {
        let text = |k: &str| c["root_fields"][k].as_str().map(str::to_string);
        RootFields {
            namespace: text("namespace"),
            prefix: text("prefix"),
            suffix: text("suffix"),
        }
    }

    /// `current` (the rest of the customization kept: type names, naming
    /// convention) with these root fields.
    fn into_customization(self, current: &Value) -> Value {
        let mut c = current.as_object().cloned().unwrap_or_default();
        let mut rf = Map::new();
        for (k, v) in [
            ("namespace", self.namespace),
            ("prefix", self.prefix),
            ("suffix", self.suffix),
        ] {
            if let Some(v) = v {
                rf.insert(k.into(), json!(v));
            }
        }
        match rf.is_empty() {
            true => c.remove("root_fields"),
            false => c.insert("root_fields".into(), Value::Object(rf)),
        };
        Value::Object(c)
    }
}

impl HasuraError {
    /// `run_sql` or a metadata command naming a source Hasura does not have
    /// (dropped out of band, or not added yet).
    pub fn is_source_missing(&self) -> bool {
        self.code_is("not-exists") && self.message().contains("source with name")
    }
}

impl Export {
    /// The settings of source `name`, if it exists and has a readable
    /// configuration.
    pub fn source_settings(&self, name: &str) -> Option<Settings> {
        Settings::from_export(self.source(name)?.0)
    }

    /// The root field customization of source `name` (none when it has none).
    pub fn source_root_fields(&self, name: &str) -> RootFields {
        self.source(name)
            .map(|(_, c)| RootFields::from_customization(c))
            .unwrap_or_default()
    }
}

impl Engine {
    /// Adds source `name`, or (`replace`) replaces its configuration in place,
    /// keeping its tables. `replace_configuration` also replaces the whole
    /// customization, so what this provider does not manage (type names,
    /// naming convention) is sent back as it is.
    pub async fn put_source(
        &self,
        cancel: &CancellationToken,
        name: &str,
        settings: &Settings,
        root_fields: &RootFields,
        replace: bool,
    ) -> Result<(), HasuraError> {
        let current = match replace {
            true => self
                .export(cancel)
                .await?
                .source(name)
                .map(|(_, c)| c.clone()),
            false => None,
        };
        let customization = root_fields
            .clone()
            .into_customization(current.as_ref().unwrap_or(&Value::Null));
        let mut args = json!({
            "name": name,
            "configuration": settings.to_configuration(),
            "replace_configuration": replace,
        });
        if customization.as_object().is_some_and(|c| !c.is_empty()) {
            args["customization"] = customization;
        }
        let (n, want, rf) = (name.to_string(), settings.clone(), root_fields.clone());
        self.write_with(
            cancel,
            vec![json!({"type": "pg_add_source", "args": args})],
            move |x| {
                x.source_settings(&n).as_ref() == Some(&want) && x.source_root_fields(&n) == rf
            },
        )
        .await
    }

    /// Drops source `name` and its metadata (`cascade`: remote relationships
    /// of other sources into it go too). Gone already counts as done.
    pub async fn drop_source(
        &self,
        cancel: &CancellationToken,
        name: &str,
    ) -> Result<(), HasuraError> {
        let drop = json!({"type": "pg_drop_source", "args": {"name": name, "cascade": true}});
        let gone = name.to_string();
        self.write_with(cancel, vec![drop], move |x| x.source(&gone).is_none())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_forms_read_as_what_takes_effect() {
        let none = Settings::from_export(
            &json!({"connection_info": {"database_url": {"from_env": "DB"}}}),
        )
        .unwrap();
        assert_eq!(none.database_url, DatabaseUrl::FromEnv("DB".into()));
        assert_eq!(none.connection_lifetime, 600);
        assert_eq!(none.max_connections, 50);
        assert_eq!(none.isolation_level, "read-committed");
        // Sent with lifetime 0: Hasura stores and exports no lifetime.
        let zero = Settings {
            connection_lifetime: 0,
            ..none.clone()
        };
        let mut exported = zero.to_configuration();
        exported["connection_info"]["pool_settings"]
            .as_object_mut()
            .unwrap()
            .remove("connection_lifetime");
        assert_eq!(Settings::from_export(&exported), Some(zero));
        assert_eq!(Settings::from_export(&none.to_configuration()), Some(none));
    }
}
