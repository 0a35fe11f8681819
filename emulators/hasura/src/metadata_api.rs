//! `POST /v1/metadata`: command dispatch, bulk, and the resource_version CAS.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use crate::errors::{parse_failed, QErr};
use crate::metadata::{
    inconsistencies, Catalog, Inconsistency, Metadata, ObjId, QualifiedTable, TableConfig,
    TableMeta,
};
use crate::permissions::{ParseErr, PermDef, PermType, Permission};
use crate::relationships;
use crate::remote_schemas as rs;
use crate::sources::{self, Catalogs};
use crate::state::{load_metadata, store_metadata, AppState};
use crate::{actions, custom_types};
use crate::{cron_triggers, dependents, event_triggers, query_collections as qc};

mod roles_fields;

pub struct Envelope {
    pub typ: String,
    pub version: Option<i64>,
    pub resource_version: Option<i64>,
    pub args: Value,
}

impl Envelope {
    pub fn parse(v: &Value, path: &str) -> Result<Envelope, QErr> {
        let Value::Object(o) = v else {
            return Err(QErr::bad(
                "parse-failed",
                path,
                "parsing RQLMetadata failed, expected Object",
            ));
        };
        let typ = match o.get("type") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(QErr::bad(
                    "parse-failed",
                    &format!("{path}.type"),
                    "parsing Text failed, expected String",
                ))
            }
            None => return Err(QErr::bad("parse-failed", path, "key \"type\" not found")),
        };
        let int = |k: &str| -> Result<Option<i64>, QErr> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
                Some(_) => Err(QErr::bad(
                    "parse-failed",
                    &format!("{path}.{k}"),
                    "parsing Int failed, expected Number",
                )),
            }
        };
        Ok(Envelope {
            version: int("version")?,
            resource_version: int("resource_version")?,
            args: o.get("args").cloned().unwrap_or(json!({})),
            typ,
        })
    }

    /// Hasura's `queryModifiesMetadata`: everything but the read-only commands, and a bulk
    /// only when one of its commands writes.
    fn modifies(&self) -> bool {
        match self.typ.as_str() {
            "export_metadata" | "get_inconsistent_metadata" | "get_cron_triggers" => false,
            "bulk" | "bulk_keep_going" => self.args.as_array().is_some_and(|a| {
                a.iter().any(|q| {
                    Envelope::parse(q, "$")
                        .map(|e| e.modifies())
                        .unwrap_or(false)
                })
            }),
            _ => true,
        }
    }
}

pub async fn handle(st: &AppState, body: &Value) -> Result<Value, QErr> {
    let env = Envelope::parse(body, "$")?;
    st.control.count(&format!("metadata:{}", env.typ));
    let _guard = st.metadata_lock.lock().await;
    let (md, rv) = load_metadata(&st.db).await?;
    let engine_env = st.engine_env().await?;
    // Adding a remote schema introspects its server: done here, as commands run synchronously.
    let remote = crate::remote_schemas::prefetch(body, &md, &engine_env).await;
    // Every source's database is read before the (synchronous) commands run.
    let catalogs = sources::probe(st, &md, body, &engine_env).await?;
    let mut ctx = Ctx {
        md,
        catalogs: &catalogs,
        rv,
        env: &engine_env,
        remote: &remote,
    };
    let result = ctx.exec(&env)?;
    if env.modifies() && st.settings.read_only {
        // graphql-engine `server/src-lib/Hasura/Server/API/Metadata.hs`
        // (`runMetadataQuery`): the command runs in memory, then storing it
        // is refused with `throw400 NotSupported`.
        return Err(QErr::bad(
            "not-supported",
            "$",
            "metadata cannot be modified in read-only mode",
        ));
    }
    if env.modifies() && take_stale_write(st) {
        st.control.count("metadata:conflict");
        return Err(QErr::conflict(env.resource_version.unwrap_or(rv)));
    }
    if env.modifies() {
        // Without a resource_version Hasura compares against the version it read.
        store_metadata(&st.db, env.resource_version.unwrap_or(rv), &ctx.md).await?;
        // Hasura creates and drops the SQL triggers of event triggers with the metadata.
        event_triggers::sync_all(st, &ctx.md).await?;
    }
    Ok(result)
}

/// One injected `resource_version` conflict, if any are left (see `conflict_next`).
fn take_stale_write(st: &AppState) -> bool {
    use std::sync::atomic::Ordering;
    st.stale_writes
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

struct Ctx<'a> {
    md: Metadata,
    catalogs: &'a Catalogs,
    rv: i64,
    /// The running engine's env, for `{{ENV}}` templates and `*_from_env`.
    env: &'a std::collections::BTreeMap<String, String>,
    /// Introspections of the remote servers this request names (`remote_schemas`).
    remote: &'a crate::remote_schemas::remote::Fetched,
}

fn success() -> Value {
    json!({"message": "success"})
}

pub(crate) fn args_obj<'v>(cmd: &str, args: &'v Value) -> Result<&'v Map<String, Value>, QErr> {
    args.as_object()
        .ok_or_else(|| parse_failed(cmd, "$.args", "parsing args failed, expected Object"))
}

fn lift(cmd: &str, base: &str, e: ParseErr) -> QErr {
    parse_failed(cmd, &format!("{base}{}", e.path), e.msg)
}

pub(crate) fn source_name(cmd: &str, o: &Map<String, Value>) -> Result<String, QErr> {
    match o.get("source") {
        None | Some(Value::Null) => Ok("default".into()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(parse_failed(
            cmd,
            "$.args.source",
            "parsing Text failed, expected String",
        )),
    }
}

pub(crate) fn table_arg(cmd: &str, o: &Map<String, Value>) -> Result<QualifiedTable, QErr> {
    let v = o
        .get("table")
        .ok_or_else(|| parse_failed(cmd, "$.args", "key \"table\" not found"))?;
    QualifiedTable::parse(v).map_err(|m| parse_failed(cmd, "$.args.table", m))
}

/// A role name is any non-empty text, not a GraphQL name: `RoleName` wraps
/// `NonEmptyText`, whose `FromJSON` fails "empty string not allowed"
/// (graphql-engine `src-lib/Data/Text/NonEmpty.hs`).
fn role_arg(cmd: &str, o: &Map<String, Value>) -> Result<String, QErr> {
    match o.get("role") {
        Some(Value::String(s)) if s.is_empty() => {
            Err(parse_failed(cmd, "$.args.role", "empty string not allowed"))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(parse_failed(
            cmd,
            "$.args.role",
            "parsing Text failed, expected String",
        )),
        None => Err(parse_failed(cmd, "$.args", "key \"role\" not found")),
    }
}

pub(crate) fn bool_arg(cmd: &str, o: &Map<String, Value>, k: &str) -> Result<bool, QErr> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(parse_failed(
            cmd,
            &format!("$.args.{k}"),
            "parsing Bool failed, expected Boolean",
        )),
    }
}

pub(crate) fn comment_arg(cmd: &str, o: &Map<String, Value>) -> Result<Option<String>, QErr> {
    match o.get("comment") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(parse_failed(
            cmd,
            "$.args.comment",
            "parsing Text failed, expected String",
        )),
    }
}

pub(crate) fn table_missing(table: &QualifiedTable, source: &str) -> QErr {
    QErr::bad(
        "not-exists",
        "$.args",
        format!("table \"{table}\" does not exist in source: {source}"),
    )
}

fn consistency_report(list: &[Inconsistency]) -> Value {
    Value::Array(list.iter().map(|i| i.json.clone()).collect())
}

impl<'a> Ctx<'a> {
    fn exec(&mut self, env: &Envelope) -> Result<Value, QErr> {
        let cmd = env.typ.as_str();
        // /v1/metadata still accepts the pre-multi-source names for the default Postgres.
        let base = cmd.strip_prefix("pg_").unwrap_or(cmd);
        let args = &env.args;
        match base {
            "track_table" => self.track_table(cmd, args),
            "untrack_table" => self.untrack_table(cmd, args),
            "set_table_customization" => self.set_table_customization(cmd, args),
            "set_permission_comment" => self.set_permission_comment(cmd, args),
            // Local relationships: `relationships/commands.rs`.
            b if relationships::handles(b) => {
                let before = self.md.clone();
                let catalog = self.catalog_of(cmd, args)?;
                if let Some(id) = relationships::exec(&mut self.md, catalog, cmd, b, args)? {
                    self.check_new_inconsistencies(&before, &id)?;
                }
                Ok(success())
            }
            "export_metadata" => Ok(if env.version == Some(2) {
                json!({"resource_version": self.rv, "metadata": self.md.to_export()})
            } else {
                self.md.to_export()
            }),
            "replace_metadata" => self.replace_metadata(cmd, args),
            "get_inconsistent_metadata" => {
                let inc = inconsistencies(&self.md, self.catalogs);
                Ok(
                    json!({"is_consistent": inc.is_empty(), "inconsistent_objects": consistency_report(&inc)}),
                )
            }
            "reload_metadata" => {
                let inc = inconsistencies(&self.md, self.catalogs);
                let mut out = json!({"is_consistent": inc.is_empty(), "message": "success"});
                if !inc.is_empty() {
                    out["inconsistent_objects"] = consistency_report(&inc);
                }
                Ok(out)
            }
            "drop_inconsistent_metadata" => {
                for i in inconsistencies(&self.md, self.catalogs) {
                    self.remove_object(&i.id);
                }
                Ok(success())
            }
            "add_source" => {
                let before = self.md.clone();
                let id = sources::add(&mut self.md, cmd, args)?;
                self.check_new_inconsistencies(&before, &id)?;
                Ok(success())
            }
            "drop_source" => {
                sources::drop(&mut self.md, cmd, args)?;
                Ok(success())
            }
            "clear_metadata" => {
                // `runClearMetadata` keeps only the default source's configuration.
                self.md.sources.retain(|name, _| name == "default");
                for src in self.md.sources.values_mut() {
                    src.tables.clear();
                    src.extra.clear();
                }
                self.md.extra.clear();
                Ok(success())
            }
            "create_event_trigger" => {
                let catalog = self.catalog_of(cmd, args)?;
                event_triggers::create(&mut self.md, catalog, self.env, cmd, args)
            }
            "delete_event_trigger" => event_triggers::delete(&mut self.md, cmd, args),
            "create_cron_trigger" => cron_triggers::create(&mut self.md, self.env, cmd, args),
            "delete_cron_trigger" => cron_triggers::delete(&mut self.md, cmd, args),
            "get_cron_triggers" => Ok(cron_triggers::get(&self.md)),
            // Actions and custom types: `actions.rs`, `custom_types.rs`.
            "create_action" => actions::put(&mut self.md, self.env, cmd, args, false),
            "update_action" => actions::put(&mut self.md, self.env, cmd, args, true),
            "drop_action" => actions::drop(&mut self.md, cmd, args),
            "create_action_permission" => actions::permission(&mut self.md, cmd, args, true),
            "drop_action_permission" => actions::permission(&mut self.md, cmd, args, false),
            "set_custom_types" => custom_types::set(&mut self.md, self.env, cmd, args),
            "add_inherited_role" | "drop_inherited_role" => self.inherited_role(cmd, args),
            "add_computed_field" | "drop_computed_field" => self.computed_field(cmd, args),
            "create_query_collection" => qc::create_collection(&mut self.md, cmd, args),
            "drop_query_collection" | "drop_query_from_collection" => {
                let before = self.md.clone();
                let r = match base {
                    "drop_query_collection" => qc::drop_collection(&mut self.md, cmd, args),
                    _ => qc::drop_query(&mut self.md, cmd, args),
                }?;
                crate::rest_endpoints::no_new_problems(&before, &self.md)?;
                Ok(r)
            }
            "add_query_to_collection" => qc::add_query(&mut self.md, cmd, args),
            "add_collection_to_allowlist" => qc::add_to_allowlist(&mut self.md, cmd, args),
            "drop_collection_from_allowlist" => qc::drop_from_allowlist(&mut self.md, cmd, args),
            "update_scope_of_collection_in_allowlist" => qc::update_scope(&mut self.md, cmd, args),
            "add_remote_schema" => rs::add(&mut self.md, self.remote, cmd, args, false),
            "update_remote_schema" => rs::add(&mut self.md, self.remote, cmd, args, true),
            "remove_remote_schema" => rs::remove(&mut self.md, cmd, args),
            "add_remote_schema_permissions" => {
                rs::add_permission(&mut self.md, self.env, self.remote, cmd, args)
            }
            "drop_remote_schema_permissions" => rs::drop_permission(&mut self.md, cmd, args),
            "create_rest_endpoint" => crate::rest_endpoints::create(&mut self.md, cmd, args),
            "drop_rest_endpoint" => crate::rest_endpoints::drop(&mut self.md, cmd, args),
            "bulk" => self.bulk(cmd, args, false),
            "bulk_keep_going" => self.bulk(cmd, args, true),
            _ => {
                if let Some(rest) = base.strip_prefix("create_") {
                    if let Some(t) = rest.strip_suffix("_permission").and_then(PermType::parse) {
                        return self.create_permission(cmd, t, args);
                    }
                }
                if let Some(rest) = base.strip_prefix("drop_") {
                    if let Some(t) = rest.strip_suffix("_permission").and_then(PermType::parse) {
                        return self.drop_permission(cmd, t, args);
                    }
                }
                Err(QErr::bad(
                    "parse-failed",
                    "$",
                    format!("unknown metadata command \"{cmd}\""),
                ))
            }
        }
    }

    fn bulk(&mut self, cmd: &str, args: &Value, keep_going: bool) -> Result<Value, QErr> {
        let Value::Array(items) = args else {
            return Err(parse_failed(
                cmd,
                "$.args",
                "parsing [a] failed, expected Array",
            ));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let before = self.md.clone();
            let r = Envelope::parse(item, "$")
                .and_then(|e| self.exec(&e))
                .map_err(|e| e.in_bulk(i));
            match r {
                Ok(v) => out.push(v),
                Err(e) if keep_going => {
                    // A failed command's partial changes are discarded, the rest are kept.
                    self.md = before;
                    out.push(e.body());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Value::Array(out))
    }

    /// The catalog of the source a command's args name (`default` when none).
    fn catalog_of(&self, cmd: &str, args: &Value) -> Result<&'a Catalog, QErr> {
        let source = match args {
            Value::Object(o) => source_name(cmd, o)?,
            _ => "default".into(),
        };
        let catalogs: &'a Catalogs = self.catalogs;
        Ok(catalogs.named(&self.md, &source))
    }

    fn source_mut(&mut self, name: &str) -> Result<&mut crate::metadata::Source, QErr> {
        self.md.sources.get_mut(name).ok_or_else(|| {
            QErr::bad(
                "not-exists",
                "$.args",
                format!("source with name \"{name}\" does not exist"),
            )
        })
    }

    fn tracked_mut(
        &mut self,
        source: &str,
        table: &QualifiedTable,
    ) -> Result<&mut TableMeta, QErr> {
        self.source_mut(source)?
            .tables
            .get_mut(table)
            .ok_or_else(|| table_missing(table, source))
    }

    /// Hasura's `buildSchemaCacheFor`: the command's own object becoming inconsistent is
    /// an `invalid-configuration` error; any other new inconsistency aborts generically.
    fn check_new_inconsistencies(&self, before: &Metadata, target: &ObjId) -> Result<(), QErr> {
        let old: HashSet<ObjId> = inconsistencies(before, self.catalogs)
            .into_iter()
            .map(|i| i.id)
            .collect();
        let fresh: Vec<Inconsistency> = inconsistencies(&self.md, self.catalogs)
            .into_iter()
            .filter(|i| !old.contains(&i.id))
            .collect();
        let own: Vec<Inconsistency> = fresh.iter().filter(|i| &i.id == target).cloned().collect();
        if !own.is_empty() {
            let reasons: Vec<&str> = own.iter().map(|i| i.reason()).collect();
            return Err(
                QErr::bad("invalid-configuration", "$.args", reasons.join(", "))
                    .with_internal(consistency_report(&own)),
            );
        }
        if !fresh.is_empty() {
            return Err(QErr::bad(
                "unexpected",
                "$.args",
                "cannot continue due to new inconsistent metadata",
            )
            .with_internal(consistency_report(&fresh)));
        }
        Ok(())
    }

    fn track_table(&mut self, cmd: &str, args: &Value) -> Result<Value, QErr> {
        // Legacy v1 form: args is just the table name.
        let o = match args {
            Value::String(_) => {
                let mut m = Map::new();
                m.insert("table".into(), args.clone());
                m
            }
            other => args_obj(cmd, other)?.clone(),
        };
        let o = &o;
        let table = if o.contains_key("table") {
            table_arg(cmd, o)?
        } else {
            QualifiedTable::parse(&Value::Object(o.clone()))
                .map_err(|m| parse_failed(cmd, "$.args", m))?
        };
        let source = source_name(cmd, o)?;
        let configuration = match o.get("configuration") {
            Some(c) => TableConfig::parse(c).map_err(|e| lift(cmd, "$.args.configuration", e))?,
            None => TableConfig::default(),
        };
        let is_enum = bool_arg(cmd, o, "is_enum")?;
        let before = self.md.clone();
        let src = self.source_mut(&source)?;
        if src.tables.contains_key(&table) {
            return Err(QErr::bad(
                "already-tracked",
                "$.args",
                format!("view/table already tracked: \"{table}\""),
            ));
        }
        let mut tm = TableMeta::new(table.clone());
        tm.configuration = configuration;
        tm.is_enum = is_enum;
        if let Some(af) = o.get("apollo_federation_config").filter(|v| !v.is_null()) {
            tm.extra
                .insert("apollo_federation_config".into(), af.clone());
        }
        src.tables.insert(table.clone(), tm);
        self.check_new_inconsistencies(&before, &ObjId::Table(source, table))?;
        Ok(success())
    }

    fn untrack_table(&mut self, cmd: &str, args: &Value) -> Result<Value, QErr> {
        let o = args_obj(cmd, args)?;
        let table = table_arg(cmd, o)?;
        let source = source_name(cmd, o)?;
        let cascade = bool_arg(cmd, o, "cascade")?;
        let catalogs: &'a Catalogs = self.catalogs;
        let catalog = catalogs.named(&self.md, &source);
        let src = self.source_mut(&source)?;
        if !src.tables.contains_key(&table) {
            return Err(QErr::bad(
                "already-untracked",
                "$.args",
                format!("view/table already untracked: \"{table}\""),
            ));
        }
        // Objects of other tables that need this one (see `dependents.rs`).
        let deps = dependents::dependents(src, catalog, &table);
        if !deps.is_empty() && !cascade {
            return Err(dependents::dependency_error(&source, &deps));
        }
        dependents::purge(src, &deps);
        src.tables.remove(&table);
        Ok(success())
    }

    fn set_table_customization(&mut self, cmd: &str, args: &Value) -> Result<Value, QErr> {
        let o = args_obj(cmd, args)?;
        let table = table_arg(cmd, o)?;
        let source = source_name(cmd, o)?;
        let configuration = match o.get("configuration") {
            Some(c) => TableConfig::parse(c).map_err(|e| lift(cmd, "$.args.configuration", e))?,
            None => TableConfig::default(),
        };
        self.tracked_mut(&source, &table)?.configuration = configuration;
        Ok(success())
    }

    fn create_permission(&mut self, cmd: &str, t: PermType, args: &Value) -> Result<Value, QErr> {
        let o = args_obj(cmd, args)?;
        let table = table_arg(cmd, o)?;
        let source = source_name(cmd, o)?;
        let role = role_arg(cmd, o)?;
        let comment = comment_arg(cmd, o)?;
        let pv = o
            .get("permission")
            .ok_or_else(|| parse_failed(cmd, "$.args", "key \"permission\" not found"))?;
        let permission = Permission::parse(t, pv).map_err(|e| lift(cmd, "$.args.permission", e))?;
        let before = self.md.clone();
        let tm = self.tracked_mut(&source, &table)?;
        if tm.perm(t, &role).is_some() {
            return Err(QErr::bad(
                "already-exists",
                "$.args",
                format!(
                    "{} permission already defined on table \"{table}\" with role \"{role}\"",
                    t.code()
                ),
            ));
        }
        tm.permissions.entry(t).or_default().insert(
            role.clone(),
            PermDef {
                role: role.clone(),
                permission,
                comment,
            },
        );
        self.check_new_inconsistencies(&before, &ObjId::Perm(source, table, role, t))?;
        Ok(success())
    }

    fn missing_permission(t: PermType, table: &QualifiedTable, role: &str) -> QErr {
        QErr::bad(
            "bad-request",
            "$.args",
            format!(
                "{} permission on \"{table}\" for role \"{role}\" does not exist",
                t.code()
            ),
        )
    }

    fn drop_permission(&mut self, cmd: &str, t: PermType, args: &Value) -> Result<Value, QErr> {
        let o = args_obj(cmd, args)?;
        let table = table_arg(cmd, o)?;
        let source = source_name(cmd, o)?;
        let role = role_arg(cmd, o)?;
        let before = self.md.clone();
        let tm = self.tracked_mut(&source, &table)?;
        let removed = tm.permissions.get_mut(&t).and_then(|m| m.remove(&role));
        tm.permissions.retain(|_, m| !m.is_empty());
        if removed.is_none() {
            return Err(Self::missing_permission(t, &table, &role));
        }
        // `runDropPerm` rebuilds under `withNewInconsistentObjsCheck`: the last
        // permission of a role an inherited role names cannot go first.
        self.check_new_inconsistencies(&before, &ObjId::Perm(source, table, role, t))?;
        Ok(success())
    }

    fn set_permission_comment(&mut self, cmd: &str, args: &Value) -> Result<Value, QErr> {
        let o = args_obj(cmd, args)?;
        let table = table_arg(cmd, o)?;
        let source = source_name(cmd, o)?;
        let role = role_arg(cmd, o)?;
        let t = match o.get("type") {
            Some(Value::String(s)) => PermType::parse(s).ok_or_else(|| {
                parse_failed(
                    cmd,
                    "$.args.type",
                    format!("Invalid permission type \"{s}\"; expected one of insert, select, update, delete"),
                )
            })?,
            _ => return Err(parse_failed(cmd, "$.args", "key \"type\" not found")),
        };
        let comment = comment_arg(cmd, o)?;
        let tm = self.tracked_mut(&source, &table)?;
        match tm.permissions.get_mut(&t).and_then(|m| m.get_mut(&role)) {
            Some(pd) => pd.comment = comment,
            None => return Err(Self::missing_permission(t, &table, &role)),
        }
        Ok(success())
    }

    fn replace_metadata(&mut self, cmd: &str, args: &Value) -> Result<Value, QErr> {
        // Version is inferred from the args: v2 wraps the document in `metadata`.
        let o = args_obj(cmd, args)?;
        let (v2, allow, doc, base) = match o.get("metadata") {
            Some(m) => (
                true,
                bool_arg(cmd, o, "allow_inconsistent_metadata")?,
                m,
                "$.args.metadata",
            ),
            None => (false, false, args, "$.args"),
        };
        let md = Metadata::parse(doc).map_err(|e| lift(cmd, base, e))?;
        crate::inherited_roles::check_cycles(&md)?;
        let inc = inconsistencies(&md, self.catalogs);
        if !inc.is_empty() && !allow {
            return Err(QErr::new(
                StatusCode::BAD_REQUEST,
                "unexpected",
                "$.args",
                "cannot continue due to inconsistent metadata",
            )
            .with_internal(consistency_report(&inc)));
        }
        self.md = md;
        Ok(if v2 {
            json!({"is_consistent": inc.is_empty(), "inconsistent_objects": consistency_report(&inc)})
        } else {
            success()
        })
    }

    fn remove_object(&mut self, id: &ObjId) {
        match id {
            ObjId::Table(s, t) => {
                if let Some(src) = self.md.sources.get_mut(s) {
                    src.tables.remove(t);
                }
            }
            ObjId::Rel(s, t, name) => {
                if let Some(tm) = self.md.sources.get_mut(s).and_then(|s| s.tables.get_mut(t)) {
                    relationships::put(tm, name, None);
                }
            }
            ObjId::Perm(s, t, role, pt) => {
                if let Some(tm) = self.md.sources.get_mut(s).and_then(|s| s.tables.get_mut(t)) {
                    if let Some(m) = tm.permissions.get_mut(pt) {
                        m.remove(role);
                    }
                    tm.permissions.retain(|_, m| !m.is_empty());
                }
            }
            ObjId::Source(name) => {
                self.md.sources.remove(name);
            }
            ObjId::ComputedField(..) | ObjId::InheritedRole(_) => {
                roles_fields::remove(&mut self.md, id)
            }
        }
    }
}
