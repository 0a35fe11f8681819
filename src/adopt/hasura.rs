//! What a Hasura project holds, read from one `export_metadata`: tracked
//! tables, permissions and relationships become imports; everything else is listed by
//! kind and name so that nothing is dropped silently.
use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use crate::hasura::client::{Engine, HasuraError};
use crate::hasura::QualifiedTable;
use crate::http::Idempotency;

use super::hcl::Import;

/// Imports plus the objects no resource of the provider expresses.
#[derive(Debug, Default)]
pub struct Found {
    pub imports: Vec<Import>,
    pub inexpressible: Vec<String>,
    /// The tracked tables: (source, schema, name).
    pub tables: Vec<(String, String, String)>,
}

/// The current metadata, as the export answers it (version 2).
pub(crate) async fn export(
    engine: &Engine,
    cancel: &CancellationToken,
) -> Result<Value, HasuraError> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        metadata: Value,
    }
    let a: Answer = engine
        .post(
            cancel,
            "/v1/metadata",
            "export_metadata",
            &json!({"type": "export_metadata", "version": 2, "args": {}}),
            Idempotency::Idempotent,
        )
        .await?;
    Ok(a.metadata)
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Metadata {
    sources: Vec<Value>,
    inherited_roles: Value,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Source {
    name: String,
    kind: Option<String>,
    tables: Vec<Value>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
struct Table {
    table: QualifiedTable,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
struct Role {
    role: String,
}

/// An entry of a metadata list named by `name` (most of them).
#[derive(Deserialize)]
struct Name {
    name: String,
}

/// An `allowlist` entry, named by its collection.
#[derive(Deserialize)]
struct Collection {
    collection: String,
}

/// An `inherited_roles` entry.
#[derive(Deserialize)]
struct RoleName {
    role_name: String,
}

/// A remote schema, or an action: permissions are per role.
#[derive(Deserialize)]
struct WithPermissions {
    name: String,
    #[serde(default)]
    permissions: Value,
    #[serde(default)]
    remote_relationships: Value,
}

/// The entries of a metadata list that read as `T` (others have no name to
/// import them by).
fn entries<'a, T: Deserialize<'a>>(v: &'a Value) -> impl Iterator<Item = T> + 'a {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| T::deserialize(e).ok())
}

/// The key of a table entry the provider expresses besides the name and the
/// permissions: the customisation (custom name, root fields, column config).
const TABLE_EXPRESSED: [&str; 1] = ["configuration"];
const ACTIONS: [&str; 4] = ["select", "insert", "update", "delete"];
/// Keys of a source that describe it rather than hold objects.
const SOURCE_SETTINGS: [&str; 4] = [
    "configuration",
    "customization",
    "health_check",
    "query_tags",
];

/// Reads the exported metadata. Postgres sources, their tables, permissions,
/// relationships, computed fields and event triggers, and the top-level
/// inherited roles, cron triggers, query collections, allow lists, remote
/// schemas and actions (with their permissions), REST endpoints and custom
/// types, are imported; every other non-empty
/// key is listed by kind and name.
pub fn survey(metadata: Value) -> Found {
    let mut found = Found::default();
    let m: Metadata = serde_json::from_value(metadata).unwrap_or_default();
    for (key, v) in &m.rest {
        match key.as_str() {
            "version" => {}
            "cron_triggers" => named(&mut found, "hasura_cron_trigger", v),
            "query_collections" => named(&mut found, "hasura_query_collection", v),
            "allowlist" => by_id(
                &mut found,
                "hasura_allow_list",
                entries(v).map(|c: Collection| c.collection),
            ),
            "remote_schemas" => remote_schemas(&mut found, v),
            "rest_endpoints" => named(&mut found, "hasura_rest_endpoint", v),
            "actions" => actions(&mut found, v),
            "custom_types" => custom_types(&mut found, v),
            _ => list(&mut found.inexpressible, key, v),
        }
    }
    for s in m.sources {
        let Ok(s) = serde_json::from_value::<Source>(s) else {
            found
                .inexpressible
                .push("a source this command cannot read".into());
            continue;
        };
        let kind = s.kind.as_deref().unwrap_or("postgres");
        if kind != "postgres" {
            found.inexpressible.push(format!(
                "source {} (kind {kind}, {} tables): only postgres sources are adopted",
                s.name,
                s.tables.len()
            ));
            continue;
        }
        // The source itself (its connection settings): `hasura_source`.
        found.imports.push(Import {
            resource_type: "hasura_source",
            name: s.name.clone(),
            id: s.name.clone(),
        });
        for (key, v) in &s.rest {
            if !SOURCE_SETTINGS.contains(&key.as_str()) {
                list(
                    &mut found.inexpressible,
                    &format!("source {}: {key}", s.name),
                    v,
                );
            }
        }
        for t in s.tables {
            let Ok(t) = serde_json::from_value::<Table>(t) else {
                found.inexpressible.push(format!(
                    "source {}: a table entry this command cannot read",
                    s.name
                ));
                continue;
            };
            table(&mut found, &s.name, t);
        }
    }
    // After the permissions that make their parents.
    by_id(
        &mut found,
        "hasura_inherited_role",
        entries(&m.inherited_roles).map(|r: RoleName| r.role_name),
    );
    found
}

fn table(found: &mut Found, source: &str, t: Table) {
    let QualifiedTable { schema, name } = t.table;
    // `users` for public.users in the default source; qualified otherwise,
    // so the usual case reads like the issue's `users_user_select`.
    let mut prefix = Vec::new();
    if source != "default" {
        prefix.push(source.to_string());
    }
    if schema != "public" || source != "default" {
        prefix.push(schema.clone());
    }
    prefix.push(name.clone());
    let stem = prefix.join("_");
    let tracked_name = if schema == "public" && source == "default" {
        format!("public_{name}")
    } else {
        stem.clone()
    };
    found
        .tables
        .push((source.to_string(), schema.clone(), name.clone()));
    found.imports.push(Import {
        resource_type: "hasura_tracked_table",
        name: tracked_name,
        id: format!("{source}.{schema}.{name}"),
    });
    for (key, v) in &t.rest {
        if TABLE_EXPRESSED.contains(&key.as_str()) {
            continue;
        }
        let action = key.strip_suffix("_permissions");
        match action {
            // An enum table is a setting no resource holds; `false` is the default.
            None if key == "is_enum" => {
                if v.as_bool() == Some(true) {
                    found
                        .inexpressible
                        .push(format!("{source}.{schema}.{name}: is_enum"));
                }
            }
            None if key == "event_triggers" => {
                for Name { name: n } in entries(v) {
                    found.imports.push(Import {
                        resource_type: "hasura_event_trigger",
                        id: format!("{source}.{n}"),
                        name: n,
                    });
                }
            }
            // Local relationships: `hasura_relationship`, imported by
            // `<source>.<schema>.<table>.<name>`.
            None if key == "object_relationships" || key == "array_relationships" => {
                for Name { name: rel } in entries(v) {
                    found.imports.push(Import {
                        resource_type: "hasura_relationship",
                        name: format!("{stem}_{rel}"),
                        id: format!("{source}.{schema}.{name}.{rel}"),
                    });
                }
            }
            None if key == "computed_fields" => {
                for Name { name: field } in entries(v) {
                    found.imports.push(Import {
                        resource_type: "hasura_computed_field",
                        name: format!("{stem}_{field}"),
                        id: format!("{source}.{schema}.{name}.{field}"),
                    });
                }
            }
            Some(a) if ACTIONS.contains(&a) => {
                for Role { role } in entries(v) {
                    found.imports.push(Import {
                        resource_type: "hasura_permission",
                        name: format!("{stem}_{role}_{a}"),
                        id: format!("{source}.{schema}.{name}.{role}.{a}"),
                    });
                }
            }
            _ => list(
                &mut found.inexpressible,
                &format!("{source}.{schema}.{name}: {key}"),
                v,
            ),
        }
    }
}

/// The foreign keys and indexes of the tracked `tables`, read from each
/// schema's catalog (read-only `run_sql`). Indexes that back a primary key
/// or UNIQUE constraint belong to the table and are left out.
pub async fn database_objects(
    engine: &Engine,
    cancel: &CancellationToken,
    tables: &[(String, String, String)],
) -> Result<Vec<Import>, HasuraError> {
    let schemas: BTreeSet<(&str, &str)> = tables
        .iter()
        .map(|(src, sch, _)| (src.as_str(), sch.as_str()))
        .collect();
    let tracked = |src: &str, sch: &str, t: &str| {
        tables
            .iter()
            .any(|(a, b, c)| a == src && b == sch && c == t)
    };
    let mut out = Vec::new();
    for (source, schema) in schemas {
        // Addresses read like the constraint's name for public in the
        // default source, qualified otherwise (as tables are).
        let prefix = match (source, schema) {
            ("default", "public") => String::new(),
            ("default", s) => format!("{s}_"),
            (src, s) => format!("{src}_{s}_"),
        };
        let fks = engine.foreign_keys_in(cancel, source, schema).await?;
        let idxs = engine.indexes_in(cancel, source, schema).await?;
        let fks = fks
            .into_iter()
            .map(|(n, k)| ("hasura_foreign_key", n, k.table));
        let idxs = idxs.into_iter().map(|(n, i)| ("hasura_index", n, i.table));
        for (resource_type, name, table) in fks.chain(idxs) {
            if tracked(source, schema, &table) {
                out.push(Import {
                    resource_type,
                    name: format!("{prefix}{name}"),
                    id: format!("{source}.{schema}.{table}.{name}"),
                });
            }
        }
    }
    Ok(out)
}

/// A top-level list whose entries a resource imports by their `name`.
fn named(found: &mut Found, resource_type: &'static str, v: &Value) {
    by_id(found, resource_type, entries(v).map(|n: Name| n.name))
}

/// Imports of objects whose id is their name.
fn by_id(found: &mut Found, resource_type: &'static str, ids: impl Iterator<Item = String>) {
    for id in ids {
        found.imports.push(Import {
            resource_type,
            name: id.clone(),
            id,
        });
    }
}

/// Each remote schema by name, each of its role permissions as
/// `<remote_schema>/<role>`; remote relationships from it are listed.
fn remote_schemas(found: &mut Found, v: &Value) {
    for r in entries::<WithPermissions>(v) {
        let name = r.name;
        found.imports.push(Import {
            resource_type: "hasura_remote_schema",
            name: name.clone(),
            id: name.clone(),
        });
        for Role { role } in entries(&r.permissions) {
            found.imports.push(Import {
                resource_type: "hasura_remote_schema_permission",
                name: format!("{name}_{role}"),
                id: format!("{name}/{role}"),
            });
        }
        list(
            &mut found.inexpressible,
            &format!("remote schema {name}: remote_relationships"),
            &r.remote_relationships,
        );
    }
}

/// Each action by name, and each of its permissions as `<action>/<role>`.
fn actions(found: &mut Found, v: &Value) {
    named(found, "hasura_action", v);
    for a in entries::<WithPermissions>(v) {
        for Role { role } in entries(&a.permissions) {
            found.imports.push(Import {
                resource_type: "hasura_action_permission",
                name: format!("{}_{role}", a.name),
                id: format!("{}/{role}", a.name),
            });
        }
    }
}

/// All custom types as one `hasura_custom_types` group, `custom_types`
/// (split it into several resources after adopting, if useful).
fn custom_types(found: &mut Found, v: &Value) {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct CustomTypes {
        input_objects: Value,
        objects: Value,
        scalars: Value,
        enums: Value,
    }
    let t = CustomTypes::deserialize(v).unwrap_or_default();
    let names: Vec<String> = [&t.input_objects, &t.objects, &t.scalars, &t.enums]
        .into_iter()
        .flat_map(entries::<Name>)
        .map(|n| n.name)
        .collect();
    if !names.is_empty() {
        found.imports.push(Import {
            resource_type: "hasura_custom_types",
            name: "custom_types".into(),
            id: format!("custom_types:{}", names.join(",")),
        });
    }
}

/// One line for a non-empty metadata key: its kind and the names it holds.
fn list(out: &mut Vec<String>, kind: &str, v: &Value) {
    let names: Vec<String> = match v {
        Value::Array(items) => items.iter().map(item_name).collect(),
        Value::Object(o) => o
            .iter()
            .filter(|(_, v)| !is_empty(v))
            .map(|(k, _)| k.clone())
            .collect(),
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    };
    if !names.is_empty() {
        out.push(format!("{kind}: {}", names.join(", ")));
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The name an entry of the user's metadata goes by (these lists name their
/// items differently: `name`, `role_name`, `collection`, `url`).
fn item_name(v: &Value) -> String {
    /// A database object: bare or `{schema, name}`.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Object {
        Bare(String),
        Named { name: String },
    }
    /// The first of these keys holding a name, in this order.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Item {
        Name { name: String },
        RoleName { role_name: String },
        Collection { collection: String },
        Url { url: String },
        Role { role: String },
        // Functions and the like name a database object.
        Function { function: Object },
        Table { table: Object },
    }
    match Item::deserialize(v) {
        Ok(
            Item::Name { name: n }
            | Item::RoleName { role_name: n }
            | Item::Collection { collection: n }
            | Item::Url { url: n }
            | Item::Role { role: n }
            | Item::Function {
                function: Object::Bare(n) | Object::Named { name: n },
            }
            | Item::Table {
                table: Object::Bare(n) | Object::Named { name: n },
            },
        ) => n,
        Err(_) => "(unnamed)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_permissions_are_imported_the_rest_is_listed() {
        let found = survey(json!({
            "version": 3,
            "sources": [{
                "name": "default", "kind": "postgres", "configuration": {},
                "tables": [
                    {"table": {"schema": "public", "name": "users"},
                     "configuration": {"custom_name": "people"}, "is_enum": false,
                     "computed_fields": [{"name": "full_name", "definition": {"function": "f"}}],
                     "select_permissions": [{"role": "user", "permission": {}}],
                     "object_relationships": [{"name": "author", "using": {}}],
                     "remote_relationships": [{"name": "profile", "definition": {}}]},
                    {"table": {"schema": "shop", "name": "orders"}, "is_enum": true,
                     "delete_permissions": [{"role": "admin", "permission": {}}]}
                ],
                "functions": [{"function": {"name": "f"}}]
            }, {"name": "mongo", "kind": "mongo", "tables": [{}]}],
            "actions": [{"name": "login", "permissions": [{"role": "user"}]}],
            "inherited_roles": [{"role_name": "editor"}],
            "cron_triggers": [{"name": "nightly-report", "webhook": "https://x", "schedule": "0 0 * * *"}],
            "query_collections": [{"name": "app", "definition": {"queries": []}}],
            "allowlist": [{"collection": "app", "scope": {"global": true}}],
            "remote_schemas": [{"name": "pay", "definition": {"url": "https://pay"},
                "permissions": [{"role": "user", "definition": {"schema": "type Query { a: Int }"}}],
                "remote_relationships": [{"relationships": [], "type_name": "Invoice"}]}],
            "rest_endpoints": [{"name": "user", "url": "users/:id", "methods": ["GET"], "definition": {"query": {"collection_name": "app", "query_name": "q"}}}],
            "custom_types": {"objects": [], "scalars": [{"name": "x"}]}
        }));
        let ids: Vec<(&str, &str, &str)> = found
            .imports
            .iter()
            .map(|i| (i.resource_type, i.name.as_str(), i.id.as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                ("hasura_action", "login", "login"),
                ("hasura_action_permission", "login_user", "login/user"),
                ("hasura_cron_trigger", "nightly-report", "nightly-report"),
                ("hasura_query_collection", "app", "app"),
                ("hasura_allow_list", "app", "app"),
                ("hasura_remote_schema", "pay", "pay"),
                ("hasura_remote_schema_permission", "pay_user", "pay/user"),
                ("hasura_rest_endpoint", "user", "user"),
                ("hasura_custom_types", "custom_types", "custom_types:x"),
                ("hasura_source", "default", "default"),
                (
                    "hasura_tracked_table",
                    "public_users",
                    "default.public.users"
                ),
                (
                    "hasura_computed_field",
                    "users_full_name",
                    "default.public.users.full_name"
                ),
                (
                    "hasura_permission",
                    "users_user_select",
                    "default.public.users.user.select"
                ),
                (
                    "hasura_relationship",
                    "users_author",
                    "default.public.users.author"
                ),
                ("hasura_tracked_table", "shop_orders", "default.shop.orders"),
                (
                    "hasura_permission",
                    "shop_orders_admin_delete",
                    "default.shop.orders.admin.delete"
                ),
                ("hasura_inherited_role", "editor", "editor"),
            ]
        );
        let listed = found.inexpressible.join("\n");
        assert!(!listed.contains("users: is_enum"), "{listed}");
        assert!(!listed.contains("inherited_roles"), "{listed}");
        assert!(
            !listed.contains("actions") && !listed.contains("custom_types"),
            "{listed}"
        );
        for want in [
            "default.public.users: remote_relationships: profile",
            "source default: functions: f",
            "source mongo (kind mongo, 1 tables)",
            "default.shop.orders: is_enum",
            "remote schema pay: remote_relationships",
        ] {
            assert!(listed.contains(want), "{want} in:\n{listed}");
        }
    }
}
