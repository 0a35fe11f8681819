//! Inherited roles: `add_inherited_role` / `drop_inherited_role`, their place in the
//! export (top-level `inherited_roles`), their consistency, and the permissions they
//! resolve to for `/v1/graphql`.
//!
//! Sources (graphql-engine):
//! - `server/src-lib/Hasura/RQL/DDL/InheritedRoles.hs`: `runAddInheritedRole` refuses a
//!   role in its own role set (400 `invalid-params`, "an inherited role name cannot be in
//!   the role combination") and otherwise *inserts* into the metadata map, replacing an
//!   existing role of that name; `runDropInheritedRole` answers 400 `not-exists`
//!   (`"r" inherited role doesn't exist`); `resolveInheritedRole` marks a role whose
//!   parents are not all known roles inconsistent.
//! - `server/src-lib/Hasura/RQL/Types/Roles.hs`: `{"role_name", "role_set"}`, names are
//!   non-empty text, the role set a set.
//! - `server/src-lib/Hasura/RQL/DDL/Schema/Cache.hs`: the known roles are those of table
//!   permissions, remote schema and action permissions, and the inherited roles;
//! - `server/src-lib/Hasura/RQL/DDL/Schema/Cache/Permission.hs`: `orderRoles` refuses
//!   cycles (400 `cyclic-dependency`, `found cycle(s) in roles: ["a","b","a"]`); a
//!   permission defined for the inherited role wins over the inherited one; select
//!   permissions are combined (filters OR-ed, columns unioned with each column's value
//!   nulled where no parent granting it allows the row, limit the largest one set,
//!   aggregations if any parent allows them: `Hasura/Table/Cache.hs`,
//!   `combinedSelPermInfoToSelPermInfo`); insert/update/delete are inherited only when every
//!   parent that has one has the same one (`CheckPermission`).
//! - `server/src-lib/Hasura/RQL/Types/Metadata/Serialization.hs`
//!   (`inheritedRolesToOrdJSONList`): exported sorted by `role_name`, left out when empty.
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{json, Map, Value};

use crate::errors::{parse_failed, QErr};
use crate::metadata::{Inconsistency, Metadata, ObjId, QualifiedTable, Source};
use crate::permissions::{ColumnSpec, PermDef, PermType, Permission};

const KEY: &str = "inherited_roles";

/// Top-level keys in `metadataToOrdJSON` order, so a stored `inherited_roles` lands
/// where Hasura puts it.
const TOP_LEVEL_ORDER: [&str; 16] = [
    "remote_schemas",
    "query_collections",
    "allowlist",
    "actions",
    "custom_types",
    "cron_triggers",
    "inherited_roles",
    "rest_endpoints",
    "api_limits",
    "metrics_config",
    "graphql_schema_introspection",
    "network",
    "backend_configs",
    "opentelemetry",
    "source_customization",
    "query_tags",
];

#[derive(Debug, Clone, PartialEq)]
pub struct InheritedRole {
    pub name: String,
    pub parents: BTreeSet<String>,
}

impl InheritedRole {
    fn to_json(&self) -> Value {
        json!({"role_name": self.name, "role_set": self.parents})
    }

    /// `FromJSON Role`: both keys required; names are `NonEmptyText`.
    fn parse(cmd: &str, v: &Value, base: &str) -> Result<InheritedRole, QErr> {
        let o = v
            .as_object()
            .ok_or_else(|| parse_failed(cmd, base, "parsing Role failed, expected Object"))?;
        let name_of = |v: &Value, path: String| match v {
            Value::String(s) if s.is_empty() => {
                Err(parse_failed(cmd, &path, "empty string not allowed"))
            }
            Value::String(s) => Ok(s.clone()),
            _ => Err(parse_failed(
                cmd,
                &path,
                "parsing Text failed, expected String",
            )),
        };
        let name = match o.get("role_name") {
            Some(v) => name_of(v, format!("{base}.role_name"))?,
            None => return Err(parse_failed(cmd, base, "key \"role_name\" not found")),
        };
        let parents = match o.get("role_set") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, r)| name_of(r, format!("{base}.role_set[{i}]")))
                .collect::<Result<BTreeSet<_>, _>>()?,
            Some(_) => {
                return Err(parse_failed(
                    cmd,
                    &format!("{base}.role_set"),
                    "parsing HashSet failed, expected Array",
                ))
            }
            None => return Err(parse_failed(cmd, base, "key \"role_set\" not found")),
        };
        Ok(InheritedRole { name, parents })
    }
}

/// The inherited roles of the metadata, by name.
pub fn all(md: &Metadata) -> BTreeMap<String, InheritedRole> {
    let mut out = BTreeMap::new();
    if let Some(Value::Array(items)) = md.extra.get(KEY) {
        for v in items {
            if let Ok(r) = InheritedRole::parse("replace_metadata", v, "$") {
                out.insert(r.name.clone(), r);
            }
        }
    }
    out
}

/// Stores the roles sorted by name, the key in Hasura's place among the top-level keys.
fn store(md: &mut Metadata, roles: &BTreeMap<String, InheritedRole>) {
    md.extra.insert(
        KEY.into(),
        Value::Array(roles.values().map(InheritedRole::to_json).collect()),
    );
    let rank = |k: &str| TOP_LEVEL_ORDER.iter().position(|x| *x == k).unwrap_or(99);
    let mut pairs: Vec<(String, Value)> = std::mem::take(&mut md.extra).into_iter().collect();
    pairs.sort_by_key(|(k, _)| rank(k));
    md.extra = pairs.into_iter().collect::<Map<_, _>>();
}

/// `runAddInheritedRole`; the caller rebuilds and checks consistency.
pub fn add(md: &mut Metadata, cmd: &str, args: &Value) -> Result<ObjId, QErr> {
    let role = InheritedRole::parse(cmd, args, "$.args")?;
    if role.parents.contains(&role.name) {
        return Err(QErr::bad(
            "invalid-params",
            "$",
            "an inherited role name cannot be in the role combination",
        ));
    }
    let mut roles = all(md);
    let id = ObjId::InheritedRole(role.name.clone());
    roles.insert(role.name.clone(), role);
    store(md, &roles);
    Ok(id)
}

/// `runDropInheritedRole`.
pub fn drop(md: &mut Metadata, cmd: &str, args: &Value) -> Result<ObjId, QErr> {
    let o = args
        .as_object()
        .ok_or_else(|| parse_failed(cmd, "$.args", "parsing args failed, expected Object"))?;
    let name = match o.get("role_name") {
        Some(Value::String(s)) if s.is_empty() => {
            return Err(parse_failed(
                cmd,
                "$.args.role_name",
                "empty string not allowed",
            ))
        }
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(parse_failed(
                cmd,
                "$.args.role_name",
                "parsing Text failed, expected String",
            ))
        }
        None => return Err(parse_failed(cmd, "$.args", "key \"role_name\" not found")),
    };
    let mut roles = all(md);
    if roles.remove(&name).is_none() {
        return Err(QErr::bad(
            "not-exists",
            "$",
            format!("\"{name}\" inherited role doesn't exist"),
        ));
    }
    store(md, &roles);
    Ok(ObjId::InheritedRole(name))
}

/// Roles named by permissions (tables, remote schemas, actions) and the inherited roles.
fn known_roles(md: &Metadata) -> HashSet<String> {
    let mut out: HashSet<String> = all(md).into_keys().collect();
    for src in md.sources.values() {
        for tm in src.tables.values() {
            for t in PermType::ALL {
                out.extend(tm.perms(t).map(|p| p.role.clone()));
            }
        }
    }
    for key in ["remote_schemas", "actions"] {
        if let Some(Value::Array(items)) = md.extra.get(key) {
            for item in items {
                if let Some(Value::Array(perms)) = item.get("permissions") {
                    out.extend(
                        perms
                            .iter()
                            .filter_map(|p| p.get("role").and_then(Value::as_str))
                            .map(str::to_string),
                    );
                }
            }
        }
    }
    out
}

/// The inherited roles whose parents are all known (`resolveInheritedRole`).
fn resolved(md: &Metadata) -> BTreeMap<String, InheritedRole> {
    let known = known_roles(md);
    all(md)
        .into_iter()
        .filter(|(_, r)| r.parents.iter().all(|p| known.contains(p)))
        .collect()
}

/// Inherited roles with a parent that is not a known role.
pub fn inconsistencies(md: &Metadata) -> Vec<Inconsistency> {
    let known = known_roles(md);
    let mut out = Vec::new();
    for r in all(md).values() {
        let missing: Vec<&str> = r
            .parents
            .iter()
            .filter(|p| !known.contains(*p))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            continue;
        }
        out.push(Inconsistency {
            id: ObjId::InheritedRole(r.name.clone()),
            json: json!({
                "definition": r.to_json(),
                "name": format!("inherited_role {}", r.name),
                "reason": format!(
                    "Inconsistent object: in inherited role {name}: the following parent role(s) are not found: {} which are required to construct the inherited role: \"{name}\"",
                    missing.join(", "),
                    name = r.name,
                ),
                "type": "inherited_role",
            }),
        });
    }
    out
}

/// `orderRoles`: 400 `cyclic-dependency` when the resolved roles have a cycle.
pub fn check_cycles(md: &Metadata) -> Result<(), QErr> {
    let roles = resolved(md);
    let mut cycles: Vec<String> = Vec::new();
    let mut reported: HashSet<String> = HashSet::new();
    for start in roles.keys() {
        if reported.contains(start) {
            continue;
        }
        if let Some(cycle) = cycle_from(&roles, start) {
            reported.extend(cycle.iter().cloned());
            let mut names = cycle.clone();
            names.push(cycle[0].clone());
            cycles.push(serde_json::to_string(&names).unwrap_or_default());
        }
    }
    if cycles.is_empty() {
        return Ok(());
    }
    Err(QErr::bad(
        "cyclic-dependency",
        "$",
        format!("found cycle(s) in roles: {}", cycles.join(", ")),
    ))
}

/// A cycle through `start` following parent edges, `start` first.
fn cycle_from(roles: &BTreeMap<String, InheritedRole>, start: &str) -> Option<Vec<String>> {
    fn walk(
        roles: &BTreeMap<String, InheritedRole>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut HashSet<String>,
    ) -> bool {
        let Some(r) = roles.get(at) else { return false };
        for p in &r.parents {
            if p == start {
                return true;
            }
            if seen.insert(p.clone()) {
                path.push(p.clone());
                if walk(roles, start, p, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = HashSet::new();
    walk(roles, start, start, &mut path, &mut seen).then_some(path)
}

/// What one parent (explicit, or itself inherited and flattened) lets a role read.
#[derive(Debug, Clone)]
pub struct Grant {
    pub columns: ColumnSpec,
    pub computed_fields: Vec<String>,
    pub filter: Value,
}

impl Grant {
    fn covers(&self, column: &str) -> bool {
        match &self.columns {
            ColumnSpec::Star => true,
            ColumnSpec::Cols(c) => c.iter().any(|x| x == column),
        }
    }
}

/// The grants an inherited role's select permission on a table combines: the row
/// filter of the parents that grant a column decides whether its value is shown.
#[derive(Debug, Clone, Default)]
pub struct Grants(pub Vec<Grant>);

impl Grants {
    /// The filter under which `column`'s value is shown, when not every parent grants it.
    pub fn cell_filter(&self, column: &str) -> Option<Value> {
        let granting: Vec<&Grant> = self.0.iter().filter(|g| g.covers(column)).collect();
        if granting.len() == self.0.len() {
            return None;
        }
        Some(or_of(granting.iter().map(|g| g.filter.clone()).collect()))
    }
}

fn or_of(mut filters: Vec<Value>) -> Value {
    if filters.len() == 1 {
        filters.remove(0)
    } else {
        json!({"_or": filters})
    }
}

/// Adds to `src` the permissions its inherited roles resolve to, where the metadata
/// does not define one for the role; returns the select grants by (table, role).
pub fn resolve(md: &Metadata, src: &mut Source) -> HashMap<(QualifiedTable, String), Grants> {
    let roles = resolved(md);
    let mut grants: HashMap<(QualifiedTable, String), Grants> = HashMap::new();
    if check_cycles(md).is_err() {
        return grants;
    }
    // Parents first (the order `orderRoles` guarantees).
    let mut order: Vec<&InheritedRole> = Vec::new();
    let mut placed: HashSet<&str> = HashSet::new();
    while order.len() < roles.len() {
        let before = order.len();
        for r in roles.values() {
            let ready = r
                .parents
                .iter()
                .all(|p| !roles.contains_key(p) || placed.contains(p.as_str()));
            if !placed.contains(r.name.as_str()) && ready {
                placed.insert(&r.name);
                order.push(r);
            }
        }
        if order.len() == before {
            break;
        }
    }
    for (qt, tm) in src.tables.iter_mut() {
        for r in &order {
            let key = (qt.clone(), r.name.clone());
            for t in PermType::ALL {
                if tm.perm(t, &r.name).is_some() {
                    continue;
                }
                let derived = if t == PermType::Select {
                    let mut flat = Vec::new();
                    for p in &r.parents {
                        match (grants.get(&(qt.clone(), p.clone())), tm.perm(t, p)) {
                            (Some(g), _) => flat.extend(g.0.iter().cloned()),
                            (
                                None,
                                Some(PermDef {
                                    permission:
                                        Permission::Select {
                                            columns,
                                            computed_fields,
                                            filter,
                                            ..
                                        },
                                    ..
                                }),
                            ) => flat.push(Grant {
                                columns: columns.clone(),
                                computed_fields: computed_fields.clone(),
                                filter: filter.clone(),
                            }),
                            _ => {}
                        }
                    }
                    let parents: Vec<&Permission> = r
                        .parents
                        .iter()
                        .filter_map(|p| tm.perm(t, p).map(|d| &d.permission))
                        .collect();
                    if flat.is_empty() {
                        None
                    } else {
                        let select = combine_selects(&flat, &parents);
                        grants.insert(key.clone(), Grants(flat));
                        Some(select)
                    }
                } else {
                    // `CheckPermission`: undefined parents are ignored; any two
                    // different ones leave the role without the permission.
                    let mut defined = r
                        .parents
                        .iter()
                        .filter_map(|p| tm.perm(t, p).map(|d| d.permission.clone()));
                    match defined.next() {
                        Some(first) if defined.all(|p| p == first) => Some(first),
                        _ => None,
                    }
                };
                if let Some(permission) = derived {
                    tm.permissions.entry(t).or_default().insert(
                        r.name.clone(),
                        PermDef {
                            role: r.name.clone(),
                            permission,
                            comment: None,
                        },
                    );
                }
            }
        }
    }
    grants
}

/// One select permission from the flattened grants; `parents` are the direct parents'
/// select permissions (limit and aggregations).
fn combine_selects(flat: &[Grant], parents: &[&Permission]) -> Permission {
    let star = flat.iter().any(|g| g.columns == ColumnSpec::Star);
    let mut cols: Vec<String> = Vec::new();
    let mut computed: Vec<String> = Vec::new();
    for g in flat {
        for c in g.columns.listed() {
            if !cols.contains(c) {
                cols.push(c.clone());
            }
        }
        for c in &g.computed_fields {
            if !computed.contains(c) {
                computed.push(c.clone());
            }
        }
    }
    // `Maybe (Max Int)`: a parent without a limit adds none; the largest one wins.
    let mut limits = Vec::new();
    let mut aggregations = false;
    for p in parents {
        if let Permission::Select {
            limit,
            allow_aggregations,
            ..
        } = p
        {
            limits.extend(*limit);
            aggregations |= *allow_aggregations;
        }
    }
    Permission::Select {
        columns: if star {
            ColumnSpec::Star
        } else {
            ColumnSpec::Cols(cols)
        },
        computed_fields: computed,
        filter: or_of(flat.iter().map(|g| g.filter.clone()).collect()),
        limit: limits.into_iter().max(),
        allow_aggregations: aggregations,
        query_root_fields: None,
        subscription_root_fields: None,
    }
}
