//! RESTified endpoints: `create_rest_endpoint` / `drop_rest_endpoint`, kept
//! under the metadata's top-level `rest_endpoints`, and `/api/rest/<url>`,
//! which runs the endpoint's stored query through the GraphQL engine.
//!
//! Sources (graphql-engine):
//! - arguments: `server/src-lib/Hasura/RQL/Types/Endpoint.hs`
//!   (`EndpointMetadata`: `name`, `url` (both `NonEmptyText`), `methods` a
//!   non-empty list of `GET`/`POST`/`PUT`/`DELETE`/`PATCH` ("Method X not
//!   supported.", "Only standard HTTP methods supported"), `definition:
//!   {query: {collection_name, query_name}}`, `comment`; `DropEndpoint`:
//!   `name`; `splitPath` splits the url on `/`, a segment starting with `:`
//!   is a parameter);
//! - behaviour: `server/src-lib/Hasura/RQL/DDL/Endpoint.hs`
//!   (`runCreateEndpoint`: "Endpoint with name: N already exists"
//!   (`already-exists`), then `buildSchemaCacheFor (MOEndpoint N)`;
//!   `runDropEndpoint`: "endpoint with name: N does not exist" (`not-exists`));
//! - consistency: `server/src-lib/Hasura/RQL/DDL/Schema/Cache.hs`
//!   (`resolveEndpoint`: "collection with name C does not exist", "query with
//!   name Q does not exist in collection C", "query with name Q is a
//!   subscription", "... has no definitions." / "... has multiple
//!   definitions.", each prefixed "in endpoint N: "; `duplicateVariables`,
//!   `hasInvalidSegments` (a `""` or `":"` segment); `ambiguousPathsGrouped`)
//!   with the reasons of `Hasura/RQL/Types/Metadata/Object.hs` (`imReason`,
//!   `imObjectIds`: an ambiguity belongs to the first endpoint of its group);
//! - export: `Hasura/RQL/Types/Metadata/Serialization.hs`
//!   (`endpointsToOrdJSONList`: sorted by url, every field, `comment` null
//!   when unset);
//! - serving: `server/src-lib/Hasura/Server/Rest.hs` (`runCustomEndpoint`)
//!   and `Hasura/RQL/Types/Endpoint/Trie.hs` (`matchPath`): see `serve`.
use std::collections::BTreeSet;

use graphql_parser::query::{Definition, OperationDefinition};
use serde_json::{json, Map, Value};

use crate::errors::{object, parse_failed, QErr};
use crate::metadata::Metadata;
use crate::query_collections::{self as qc, name as text};

mod serve;
pub use serve::{serve, RestRequest};

const KEY: &str = "rest_endpoints";
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

fn list(md: &Metadata) -> Vec<Value> {
    qc::list(md, KEY)
}

fn store(md: &mut Metadata, items: Vec<Value>) {
    qc::store(md, KEY, "url", items);
}

fn methods(cmd: &str, o: &Map<String, Value>) -> Result<Vec<String>, QErr> {
    let path = "$.args.methods";
    let items = match o.get("methods") {
        None => return Err(parse_failed(cmd, "$.args", "key \"methods\" not found")),
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(parse_failed(
                cmd,
                path,
                "parsing NonEmpty failed, unexpected empty list",
            ))
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(parse_failed(
                cmd,
                path,
                "parsing NonEmpty failed, expected Array",
            ))
        }
    };
    let mut out = Vec::new();
    for (i, m) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        match m.as_str() {
            Some(s) if METHODS.contains(&s) => out.push(s.to_string()),
            Some(s) => return Err(parse_failed(cmd, &at, format!("Method {s} not supported."))),
            None => {
                return Err(parse_failed(
                    cmd,
                    &at,
                    "Only standard HTTP methods supported",
                ))
            }
        }
    }
    Ok(out)
}

/// `EndpointMetadata QueryReference`'s `FromJSON`, in the stored form.
fn parse(cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = object(cmd, args, "$.args", "EndpointMetadata")?;
    let name = text(cmd, o, "name", "$.args")?;
    let url = text(cmd, o, "url", "$.args")?;
    let methods = methods(cmd, o)?;
    let def = o
        .get("definition")
        .ok_or_else(|| parse_failed(cmd, "$.args", "key \"definition\" not found"))?;
    let def = object(cmd, def, "$.args.definition", "EndpointDef")?;
    let q = def
        .get("query")
        .ok_or_else(|| parse_failed(cmd, "$.args.definition", "key \"query\" not found"))?;
    let base = "$.args.definition.query";
    let q = object(cmd, q, base, "QueryReference")?;
    let collection = text(cmd, q, "collection_name", base)?;
    let query = text(cmd, q, "query_name", base)?;
    let comment = crate::metadata_api::comment_arg(cmd, o)?;
    Ok(json!({
        "name": name,
        "url": url,
        "methods": methods,
        "definition": {"query": {"collection_name": collection, "query_name": query}},
        "comment": comment,
    }))
}

pub fn create(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let ep = parse(cmd, args)?;
    let name = ep["name"].as_str().unwrap_or_default().to_string();
    let mut all = list(md);
    if all.iter().any(|e| e["name"] == name.as_str()) {
        return Err(QErr::bad(
            "already-exists",
            "$.args",
            format!("Endpoint with name: {name} already exists"),
        ));
    }
    let before: BTreeSet<(String, String)> = problems(md, &all).into_iter().collect();
    all.push(ep);
    store(md, all.clone());
    // `withNewInconsistentObjsCheck $ buildSchemaCacheFor (MOEndpoint N)`.
    let fresh: Vec<(String, String)> = problems(md, &all)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    let own: Vec<(String, String)> = fresh.iter().filter(|(n, _)| *n == name).cloned().collect();
    if !own.is_empty() {
        let reasons: Vec<&str> = own.iter().map(|(_, r)| r.as_str()).collect();
        return Err(
            QErr::bad("invalid-configuration", "$.args", reasons.join(", "))
                .with_internal(report(&all, &own)),
        );
    }
    if !fresh.is_empty() {
        return Err(new_inconsistency(&all, &fresh));
    }
    Ok(json!({"message": "success"}))
}

/// `get_inconsistent_metadata`'s entries for these problems.
fn report(all: &[Value], problems: &[(String, String)]) -> Value {
    Value::Array(
        problems
            .iter()
            .map(|(n, r)| {
                let definition = all.iter().find(|e| e["name"] == n.as_str());
                json!({"definition": definition, "name": format!("rest_endpoint {n}"), "reason": r, "type": "rest_endpoint"})
            })
            .collect(),
    )
}

fn new_inconsistency(all: &[Value], fresh: &[(String, String)]) -> QErr {
    QErr::bad(
        "unexpected",
        "$.args",
        "cannot continue due to new inconsistent metadata",
    )
    .with_internal(report(all, fresh))
}

/// `withNewInconsistentObjsCheck` around the commands that change what an
/// endpoint resolves to (`runDropCollection`, `runDropQueryFromCollection` in
/// `Hasura/RQL/DDL/QueryCollection.hs`): an endpoint left naming a query
/// that is gone is a new inconsistency, and the command is refused.
pub fn no_new_problems(before: &Metadata, after: &Metadata) -> Result<(), QErr> {
    let all = list(after);
    let old: BTreeSet<(String, String)> = problems(before, &list(before)).into_iter().collect();
    let fresh: Vec<(String, String)> = problems(after, &all)
        .into_iter()
        .filter(|p| !old.contains(p))
        .collect();
    if fresh.is_empty() {
        return Ok(());
    }
    Err(new_inconsistency(&all, &fresh))
}

pub fn drop(md: &mut Metadata, cmd: &str, args: &Value) -> Result<Value, QErr> {
    let o = object(cmd, args, "$.args", "DropEndpoint")?;
    let name = text(cmd, o, "name", "$.args")?;
    let mut all = list(md);
    let Some(i) = all.iter().position(|e| e["name"] == name.as_str()) else {
        return Err(QErr::bad(
            "not-exists",
            "$.args",
            format!("endpoint with name: {name} does not exist"),
        ));
    };
    all.remove(i);
    store(md, all);
    Ok(json!({"message": "success"}))
}

/// A url as `splitPath` sees it: `None` for a parameter segment.
fn segments(url: &str) -> Vec<Option<&str>> {
    url.split('/')
        .map(|s| if s.starts_with(':') { None } else { Some(s) })
        .collect()
}

fn params(url: &str) -> Vec<&str> {
    url.split('/').filter_map(|s| s.strip_prefix(':')).collect()
}

/// The stored query an endpoint names, or why it cannot be resolved.
fn resolve(md: &Metadata, ep: &Value) -> Result<String, String> {
    let r = &ep["definition"]["query"];
    let (coll, qn) = (
        r["collection_name"].as_str().unwrap_or_default(),
        r["query_name"].as_str().unwrap_or_default(),
    );
    let colls = md.extra.get("query_collections").and_then(Value::as_array);
    let Some(c) = colls.and_then(|cs| cs.iter().find(|c| c["name"] == coll)) else {
        return Err(format!("collection with name {coll} does not exist"));
    };
    let queries = c["definition"]["queries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let Some(text) = queries
        .iter()
        .find(|q| q["name"] == qn)
        .and_then(|q| q["query"].as_str())
    else {
        return Err(format!(
            "query with name {qn} does not exist in collection {coll}"
        ));
    };
    let doc = graphql_parser::parse_query::<String>(text).map_err(|e| e.to_string())?;
    match doc.definitions.as_slice() {
        [Definition::Operation(OperationDefinition::Subscription(_))] => {
            Err(format!("query with name {qn} is a subscription"))
        }
        [Definition::Operation(_)] => Ok(text.to_string()),
        [] => Err(format!("query with name {qn} has no definitions.")),
        _ => Err(format!("query with name {qn} has multiple definitions.")),
    }
}

/// Two urls some request path could match both of (`ambiguousPaths`).
fn overlap(a: &str, b: &str) -> bool {
    let (x, y) = (segments(a), segments(b));
    x.len() == y.len()
        && x.iter().zip(&y).all(|(p, q)| match (p, q) {
            (Some(p), Some(q)) => p == q,
            _ => true,
        })
}

fn shares_method(a: &Value, b: &Value) -> bool {
    let m = |e: &Value| -> BTreeSet<String> {
        e["methods"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(str::to_string))
            .collect()
    };
    !m(a).is_disjoint(&m(b))
}

/// Every inconsistency of the endpoints, as (the endpoint it is reported
/// against, reason).
fn problems(md: &Metadata, all: &[Value]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let name = |e: &Value| e["name"].as_str().unwrap_or_default().to_string();
    for e in all {
        let url = e["url"].as_str().unwrap_or_default();
        if let Err(why) = resolve(md, e) {
            out.push((
                name(e),
                format!("Inconsistent object: in endpoint {}: {why}", name(e)),
            ));
        }
        let ps = params(url);
        if ps.iter().collect::<BTreeSet<_>>().len() != ps.len() {
            out.push((
                name(e),
                format!("Duplicate variables found in endpoint path: {url}"),
            ));
        }
        if url.split('/').any(|s| s.is_empty() || s == ":") {
            out.push((
                name(e),
                format!("Empty segments or unnamed variables are not allowed: {url}"),
            ));
        }
    }
    // Ambiguity groups, each reported against its first endpoint (by name,
    // the order of `EndpointMetadata`'s `Ord`).
    let mut seen = BTreeSet::new();
    for i in 0..all.len() {
        if seen.contains(&i) {
            continue;
        }
        let mut group = vec![i];
        let mut k = 0;
        while k < group.len() {
            let g = &all[group[k]];
            for (j, b) in all.iter().enumerate() {
                if !group.contains(&j)
                    && overlap(
                        g["url"].as_str().unwrap_or(""),
                        b["url"].as_str().unwrap_or(""),
                    )
                    && shares_method(g, b)
                {
                    group.push(j);
                }
            }
            k += 1;
        }
        if group.len() > 1 {
            seen.extend(group.iter().copied());
            let mut members: Vec<&Value> = group.iter().map(|&j| &all[j]).collect();
            members.sort_by_key(|e| name(e));
            let urls: Vec<&str> = members.iter().filter_map(|e| e["url"].as_str()).collect();
            out.push((
                name(members[0]),
                format!("Ambiguous URL paths: {}", urls.join(", ")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_overlap_when_every_segment_could_match() {
        assert!(overlap("users/:id", "users/me"));
        assert!(overlap("users/:id", "users/:uid"));
        assert!(!overlap("users/:id", "users/:id/posts"));
        assert!(!overlap("users/me", "users/you"));
    }
}
