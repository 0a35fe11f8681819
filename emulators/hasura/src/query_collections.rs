//! Query collections and the allow list: `create_query_collection`,
//! `drop_query_collection`, `add_query_to_collection`,
//! `drop_query_from_collection`, `add_collection_to_allowlist`,
//! `drop_collection_from_allowlist`, `update_scope_of_collection_in_allowlist`,
//! kept under the metadata's top-level `query_collections` and `allowlist`;
//! and the allow-list check of `/v1/graphql`.
//!
//! Sources (graphql-engine):
//! - arguments: `server/src-lib/Hasura/RQL/Types/QueryCollection.hs`
//!   (`CreateCollection`: `name`, `definition: {queries: [{name, query}]}`,
//!   `comment`; `DropCollection`: `collection`, `cascade` (required Bool);
//!   `AddQueryToCollection`: `collection_name`, `query_name`, `query`;
//!   `DropQueryFromCollection`: `collection_name`, `query_name`; names are
//!   `NonEmptyText`; a query is parsed as an executable document
//!   (`GQLQueryWithText`) and stored as the text given);
//! - `server/src-lib/Hasura/RQL/Types/Allowlist.hs` (`AllowlistEntry`:
//!   `collection`, `scope` defaulting to global; `AllowlistScope`: `global`
//!   required, `roles` forbidden when global ("roles are not allowed when
//!   global is true"), required and without duplicates otherwise ("duplicate
//!   roles are not allowed"); `UpdateScopeOfCollectionInAllowlist` needs
//!   `scope`; the export is `toJSON` of the entry, scope always present;
//!   `normalizeQuery` strips `__typename` fields before comparing);
//! - behaviour: `server/src-lib/Hasura/RQL/DDL/QueryCollection.hs`
//!   (`runCreateCollection`, `runDropCollection`, `runAddQueryToCollection`,
//!   `runDropQueryFromCollection`, `runAddCollectionToAllowlist` (an entry
//!   already there is answered 200 with a message, not an error),
//!   `runDropCollectionFromAllowlist`, `runUpdateScopeOfCollectionInAllowlist`);
//! - export order: `Hasura/RQL/Types/Metadata/Serialization.hs`
//!   (`queryCollectionsToOrdJSONList`, `allowlistToOrdJSONList`: sorted by
//!   name, `comment` only when set);
//! - enforcement: `Hasura/GraphQL/Execute.hs` (`checkQueryInAllowlist`: only
//!   for non-admin roles, `validation-failed` "query is not allowed";
//!   `allowlistAllowsQuery` in full mode: global collections or the role's).
use std::collections::BTreeSet;

use graphql_parser::query::{Definition, Document, OperationDefinition, Selection, SelectionSet};
use serde_json::{json, Map, Value};

use crate::errors::{parse_failed, QErr};
use crate::metadata::Metadata;
use crate::state::{load_metadata, AppState};

const COLLECTIONS: &str = "query_collections";
const ALLOWLIST: &str = "allowlist";

pub(crate) fn list(md: &Metadata, key: &str) -> Vec<Value> {
    md.extra
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub(crate) fn store(md: &mut Metadata, key: &str, field: &str, mut items: Vec<Value>) {
    items.sort_by(|a, b| a[field].as_str().cmp(&b[field].as_str()));
    md.extra.insert(key.into(), Value::Array(items));
}

pub(crate) fn obj<'v>(
    cmd: &str,
    args: &'v Value,
    what: &str,
) -> Result<&'v Map<String, Value>, QErr> {
    args.as_object().ok_or_else(|| {
        parse_failed(
            cmd,
            "$.args",
            format!("parsing {what} failed, expected Object"),
        )
    })
}

/// A `NonEmptyText` field (`Data/Text/NonEmpty.hs`).
pub(crate) fn name(cmd: &str, o: &Map<String, Value>, k: &str, base: &str) -> Result<String, QErr> {
    match o.get(k) {
        None => Err(parse_failed(cmd, base, format!("key \"{k}\" not found"))),
        Some(Value::String(s)) if s.is_empty() => Err(parse_failed(
            cmd,
            &format!("{base}.{k}"),
            "empty string not allowed",
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(parse_failed(
            cmd,
            &format!("{base}.{k}"),
            "parsing Text failed, expected String",
        )),
    }
}

/// `GQLQueryWithText`: a string that parses as an executable document.
fn query(cmd: &str, o: &Map<String, Value>, k: &str, base: &str) -> Result<String, QErr> {
    let path = format!("{base}.{k}");
    match o.get(k) {
        None => Err(parse_failed(cmd, base, format!("key \"{k}\" not found"))),
        Some(Value::String(s)) => {
            graphql_parser::parse_query::<String>(s)
                .map_err(|e| parse_failed(cmd, &path, e.to_string().trim().to_string()))?;
            Ok(s.clone())
        }
        Some(_) => Err(parse_failed(
            cmd,
            &path,
            "expecting String for GraphQL query",
        )),
    }
}

fn collection_missing(name: &str) -> QErr {
    // `getCollectionDef`
    QErr::bad(
        "not-exists",
        "$.args.collection",
        format!("query collection with name \"{name}\" does not exist"),
    )
}

fn find(items: &[Value], field: &str, name: &str) -> Option<usize> {
    items.iter().position(|c| c[field] == name)
}

pub fn create_collection(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = obj(cmd, args, "CreateCollection")?;
    let coll = name(cmd, o, "name", "$.args")?;
    let comment = match o.get("comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(parse_failed(
                cmd,
                "$.args.comment",
                "parsing Text failed, expected String",
            ))
        }
    };
    let def = o
        .get("definition")
        .ok_or_else(|| parse_failed(cmd, "$.args", "key \"definition\" not found"))?;
    let def = def.as_object().ok_or_else(|| {
        parse_failed(
            cmd,
            "$.args.definition",
            "parsing CollectionDef failed, expected Object",
        )
    })?;
    let Some(Value::Array(qs)) = def.get("queries") else {
        return Err(parse_failed(
            cmd,
            "$.args.definition",
            "key \"queries\" not found",
        ));
    };
    let mut queries = Vec::new();
    for (i, q) in qs.iter().enumerate() {
        let base = format!("$.args.definition.queries[{i}]");
        let qo = q.as_object().ok_or_else(|| {
            parse_failed(cmd, &base, "parsing ListedQuery failed, expected Object")
        })?;
        let qn = name(cmd, qo, "name", &base)?;
        let text = query(cmd, qo, "query", &base)?;
        queries.push(json!({"name": qn, "query": text}));
    }
    let mut colls = list(md, COLLECTIONS);
    if find(&colls, "name", &coll).is_some() {
        return Err(QErr::bad(
            "already-exists",
            "$.args.name",
            format!("query collection with name \"{coll}\" already exists"),
        ));
    }
    // `addCollectionP2`
    let mut seen = BTreeSet::new();
    let dups: Vec<String> = queries
        .iter()
        .filter_map(|q| q["name"].as_str())
        .filter(|n| !seen.insert(*n))
        .map(|n| format!("\"{n}\""))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !dups.is_empty() {
        return Err(QErr::bad(
            "not-supported",
            "$.args.definition.queries",
            format!("found duplicate query names {}", dups.join(", ")),
        ));
    }
    let mut c = json!({"name": coll, "definition": {"queries": queries}});
    if let Some(comment) = comment {
        c["comment"] = json!(comment);
    }
    colls.push(c);
    store(md, COLLECTIONS, "name", colls);
    Ok(json!({"message": "success"}))
}

pub fn drop_collection(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = obj(cmd, args, "DropCollection")?;
    let coll = name(cmd, o, "collection", "$.args")?;
    let cascade = match o.get("cascade") {
        None => return Err(parse_failed(cmd, "$.args", "key \"cascade\" not found")),
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(parse_failed(
                cmd,
                "$.args.cascade",
                "parsing Bool failed, expected Boolean",
            ))
        }
    };
    let mut colls = list(md, COLLECTIONS);
    let i = find(&colls, "name", &coll).ok_or_else(|| collection_missing(&coll))?;
    let mut al = list(md, ALLOWLIST);
    if let Some(j) = find(&al, "collection", &coll) {
        if !cascade {
            return Err(QErr::bad(
                "dependency-error",
                "$.args.collection",
                format!("query collection with name \"{coll}\" is present in the allowlist; cannot proceed to drop. please use cascade to confirm you wish to drop it from the allowlist as well"),
            ));
        }
        al.remove(j);
        store(md, ALLOWLIST, "collection", al);
    }
    colls.remove(i);
    store(md, COLLECTIONS, "name", colls);
    Ok(json!({"message": "success"}))
}

pub fn add_query(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = obj(cmd, args, "AddQueryToCollection")?;
    let coll = name(cmd, o, "collection_name", "$.args")?;
    let qn = name(cmd, o, "query_name", "$.args")?;
    let text = query(cmd, o, "query", "$.args")?;
    let mut colls = list(md, COLLECTIONS);
    let i = find(&colls, "name", &coll).ok_or_else(|| collection_missing(&coll))?;
    let qs = colls[i]["definition"]["queries"]
        .as_array_mut()
        .expect("stored collections have queries");
    if qs.iter().any(|q| q["name"] == qn.as_str()) {
        return Err(QErr::bad(
            "already-exists",
            "$.args",
            format!("query with name \"{qn}\" already exists in collection \"{coll}\""),
        ));
    }
    qs.push(json!({"name": qn, "query": text}));
    store(md, COLLECTIONS, "name", colls);
    Ok(json!({"message": "success"}))
}

pub fn drop_query(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = obj(cmd, args, "DropQueryFromCollection")?;
    let coll = name(cmd, o, "collection_name", "$.args")?;
    let qn = name(cmd, o, "query_name", "$.args")?;
    let mut colls = list(md, COLLECTIONS);
    let i = find(&colls, "name", &coll).ok_or_else(|| collection_missing(&coll))?;
    let qs = colls[i]["definition"]["queries"]
        .as_array_mut()
        .expect("stored collections have queries");
    let Some(j) = qs.iter().position(|q| q["name"] == qn.as_str()) else {
        return Err(QErr::bad(
            "not-found",
            "$.args",
            format!("query with name \"{qn}\" not found in collection \"{coll}\""),
        ));
    };
    qs.remove(j);
    store(md, COLLECTIONS, "name", colls);
    Ok(json!({"message": "success"}))
}

/// `AllowlistScope`'s `FromJSON`, in the stored form (`ToJSON`).
fn scope(cmd: &str, v: &Value) -> Result<Value, QErr> {
    let path = "$.args.scope";
    let o = v
        .as_object()
        .ok_or_else(|| parse_failed(cmd, path, "parsing AllowlistScope failed, expected Object"))?;
    let global = match o.get("global") {
        None => return Err(parse_failed(cmd, path, "key \"global\" not found")),
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(parse_failed(
                cmd,
                &format!("{path}.global"),
                "parsing Bool failed, expected Boolean",
            ))
        }
    };
    let roles = o.get("roles").filter(|r| !r.is_null());
    if global {
        if roles.is_some() {
            return Err(parse_failed(
                cmd,
                path,
                "roles are not allowed when global is true",
            ));
        }
        return Ok(json!({"global": true}));
    }
    let Some(roles) = roles else {
        return Err(parse_failed(cmd, path, "key \"roles\" not found"));
    };
    let roles = match roles {
        Value::Array(a) if a.is_empty() => {
            return Err(parse_failed(
                cmd,
                &format!("{path}.roles"),
                "parsing NonEmpty failed, unexpected empty list",
            ))
        }
        Value::Array(a) => a,
        _ => {
            return Err(parse_failed(
                cmd,
                &format!("{path}.roles"),
                "parsing NonEmpty failed, expected Array",
            ))
        }
    };
    let mut seen = BTreeSet::new();
    for (i, r) in roles.iter().enumerate() {
        match r.as_str() {
            Some("") => {
                return Err(parse_failed(
                    cmd,
                    &format!("{path}.roles[{i}]"),
                    "empty string not allowed",
                ))
            }
            Some(s) => {
                if !seen.insert(s) {
                    return Err(parse_failed(cmd, path, "duplicate roles are not allowed"));
                }
            }
            None => {
                return Err(parse_failed(
                    cmd,
                    &format!("{path}.roles[{i}]"),
                    "parsing Text failed, expected String",
                ))
            }
        }
    }
    Ok(json!({"global": false, "roles": roles}))
}

fn entry(cmd: &str, args: &Value, scope_required: bool) -> Result<(String, Value), QErr> {
    let o = obj(cmd, args, "AllowlistEntry")?;
    let coll = name(cmd, o, "collection", "$.args")?;
    let s = match o.get("scope") {
        None if scope_required => {
            return Err(parse_failed(cmd, "$.args", "key \"scope\" not found"))
        }
        None | Some(Value::Null) => json!({"global": true}),
        Some(v) => scope(cmd, v)?,
    };
    Ok((coll, s))
}

pub fn add_to_allowlist(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let (coll, s) = entry(cmd, args, false)?;
    if find(&list(md, COLLECTIONS), "name", &coll).is_none() {
        return Err(collection_missing(&coll));
    }
    let mut al = list(md, ALLOWLIST);
    if find(&al, "collection", &coll).is_some() {
        // `metadataAllowlistInsert`'s Left is answered with 200, metadata unchanged.
        return Ok(
            json!({"message": format!("collection \"{coll}\" already exists in the allowlist, scope ignored; to change scope, use update_scope_of_collection_in_allowlist")}),
        );
    }
    al.push(json!({"collection": coll, "scope": s}));
    store(md, ALLOWLIST, "collection", al);
    Ok(json!({"message": "success"}))
}

pub fn drop_from_allowlist(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = obj(cmd, args, "DropCollectionFromAllowlist")?;
    let coll = name(cmd, o, "collection", "$.args")?;
    if find(&list(md, COLLECTIONS), "name", &coll).is_none() {
        return Err(collection_missing(&coll));
    }
    let mut al = list(md, ALLOWLIST);
    let Some(j) = find(&al, "collection", &coll) else {
        return Err(not_in_allowlist(&coll));
    };
    al.remove(j);
    store(md, ALLOWLIST, "collection", al);
    Ok(json!({"message": "success"}))
}

fn not_in_allowlist(coll: &str) -> QErr {
    QErr::bad(
        "not-found",
        "$.args",
        format!("collection \"{coll}\" doesn't exist in the allowlist"),
    )
}

pub fn update_scope(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let (coll, s) = entry(cmd, args, true)?;
    if find(&list(md, COLLECTIONS), "name", &coll).is_none() {
        return Err(collection_missing(&coll));
    }
    let mut al = list(md, ALLOWLIST);
    let Some(j) = find(&al, "collection", &coll) else {
        return Err(not_in_allowlist(&coll));
    };
    al[j]["scope"] = s;
    store(md, ALLOWLIST, "collection", al);
    Ok(json!({"message": "success"}))
}

/// `normalizeQuery`: the document without `__typename` fields, printed in
/// one canonical layout; arguments sorted because Hasura keeps them in a map.
pub fn normalize(query: &str) -> Option<String> {
    let mut doc: Document<'static, String> = graphql_parser::parse_query::<String>(query)
        .ok()?
        .into_static();
    for d in &mut doc.definitions {
        match d {
            Definition::Operation(op) => match op {
                OperationDefinition::SelectionSet(s) => strip(s),
                OperationDefinition::Query(q) => strip(&mut q.selection_set),
                OperationDefinition::Mutation(m) => strip(&mut m.selection_set),
                OperationDefinition::Subscription(s) => strip(&mut s.selection_set),
            },
            Definition::Fragment(f) => strip(&mut f.selection_set),
        }
    }
    Some(doc.to_string())
}

fn strip(s: &mut SelectionSet<'static, String>) {
    s.items
        .retain(|i| !matches!(i, Selection::Field(f) if f.name == "__typename"));
    for i in &mut s.items {
        match i {
            Selection::Field(f) => {
                f.arguments.sort_by(|a, b| a.0.cmp(&b.0));
                strip(&mut f.selection_set)
            }
            Selection::InlineFragment(f) => strip(&mut f.selection_set),
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// `allowlistAllowsQuery` in full mode: the request's document is in a
/// collection allowed globally or for `role`.
pub fn allows(md: &Metadata, role: &str, query: &str) -> bool {
    let Some(want) = normalize(query) else {
        return false;
    };
    let colls = list(md, COLLECTIONS);
    list(md, ALLOWLIST).iter().any(|e| {
        let s = &e["scope"];
        let applies = s["global"] != json!(false)
            || s["roles"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r == role));
        applies
            && colls
                .iter()
                .filter(|c| c["name"] == e["collection"])
                .flat_map(|c| {
                    c["definition"]["queries"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .any(|q| q["query"].as_str().and_then(normalize).as_deref() == Some(want.as_str()))
    })
}

/// Whether `/v1/graphql` refuses `query` for `role` (`checkQueryInAllowlist`):
/// only when the allow list is enabled, by the emulator's setting or the
/// engine's `HASURA_GRAPHQL_ENABLE_ALLOWLIST`.
pub async fn refuses(st: &AppState, role: &str, query: &str) -> Result<bool, QErr> {
    let enabled = st.settings.enable_allowlist
        || st
            .engine_env()
            .await?
            .get("HASURA_GRAPHQL_ENABLE_ALLOWLIST")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !enabled {
        return Ok(false);
    }
    let (md, _) = load_metadata(&st.db).await?;
    Ok(!allows(&md, role, query))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normal_form_ignores_layout_typename_and_argument_order() {
        let a =
            normalize("query Q { users(limit: 1, where: {id: {_eq: 1}}) { id name __typename } }");
        let b = normalize(
            "query Q {\n  users(where: {id: {_eq: 1}}, limit: 1) {\n    id,\n    name\n  }\n}",
        );
        assert_eq!(a, b);
        assert_ne!(a, normalize("query Q { users { name id } }"));
        assert_eq!(normalize("query {"), None);
    }
}
