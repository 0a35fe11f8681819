//! A tiny GraphQL server to add as a remote schema in tests: it answers the
//! introspection query and queries of one fixed schema, and records every
//! request's headers so a test can see what Hasura forwarded.
//!
//! ```graphql
//! type Query { hello: String  invoices: [Invoice!]!  secret: String }
//! type Invoice { id: ID!  amount: Int  note: String }
//! enum Currency { EUR USD }
//! ```
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use emulator_common::Served;
use serde_json::{json, Map, Value};

use crate::graphql_parse::{parse, project};

/// One request: its headers (names lower-cased) and body.
pub type Seen = (BTreeMap<String, String>, Value);

pub struct TinyRemote {
    served: Served,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TinyRemote {
    pub async fn start() -> anyhow::Result<TinyRemote> {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let app = Router::new()
            .route("/graphql", post(answer))
            .with_state(seen.clone());
        Ok(TinyRemote {
            served: emulator_common::serve(app, 0).await?,
            seen,
        })
    }

    /// The endpoint to give Hasura.
    pub fn url(&self) -> String {
        format!("{}/graphql", self.served.url())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests that were not introspection.
    pub fn queries(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|(_, b)| !b["query"].as_str().unwrap_or_default().contains("__schema"))
            .collect()
    }

    pub async fn stop(self) {
        self.served.stop().await;
    }
}

async fn answer(
    State(seen): State<Arc<Mutex<Vec<Seen>>>>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let headers = h
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_ascii_lowercase(),
                v.to_str().ok()?.to_string(),
            ))
        })
        .collect();
    seen.lock().unwrap().push((headers, body.clone()));
    let query = body["query"].as_str().unwrap_or_default();
    if query.contains("__schema") {
        return Json(introspection());
    }
    let vars = body["variables"].as_object().cloned().unwrap_or_default();
    let op = match parse(query, body["operationName"].as_str(), &vars) {
        Ok(op) => op,
        Err(e) => return Json(json!({"errors": [{"message": e}]})),
    };
    let root = json!({
        "hello": "world",
        "secret": "s3cret",
        "invoices": [{"id": "1", "amount": 10, "note": "first"}, {"id": "2", "amount": 25, "note": "second"}],
    });
    let mut data = Map::new();
    for f in &op.fields {
        let v = root.get(&f.name).cloned().unwrap_or(Value::Null);
        data.insert(f.key.clone(), project(&v, &f.children, &f.name));
    }
    Json(json!({ "data": data }))
}

fn named(kind: &str, name: &str) -> Value {
    json!({"kind": kind, "name": name, "ofType": null})
}

fn non_null(t: Value) -> Value {
    json!({"kind": "NON_NULL", "name": null, "ofType": t})
}

fn field(name: &str, t: Value) -> Value {
    json!({"name": name, "args": [], "type": t})
}

fn object(name: &str, fields: Vec<Value>) -> Value {
    json!({"kind": "OBJECT", "name": name, "fields": fields, "inputFields": null, "enumValues": null, "possibleTypes": null, "interfaces": []})
}

fn introspection() -> Value {
    let string = || named("SCALAR", "String");
    let scalars: Vec<Value> = ["String", "ID", "Int", "Boolean", "Float"]
        .iter()
        .map(|s| json!({"kind": "SCALAR", "name": s, "fields": null, "inputFields": null, "enumValues": null, "possibleTypes": null}))
        .collect();
    let mut types = vec![
        object(
            "Query",
            vec![
                field("hello", string()),
                field(
                    "invoices",
                    non_null(
                        json!({"kind": "LIST", "name": null, "ofType": non_null(named("OBJECT", "Invoice"))}),
                    ),
                ),
                field("secret", string()),
            ],
        ),
        object(
            "Invoice",
            vec![
                field("id", non_null(named("SCALAR", "ID"))),
                field("amount", named("SCALAR", "Int")),
                field("note", string()),
            ],
        ),
        json!({"kind": "ENUM", "name": "Currency", "fields": null, "inputFields": null, "enumValues": [{"name": "EUR"}, {"name": "USD"}], "possibleTypes": null}),
    ];
    types.extend(scalars);
    json!({"data": {"__schema": {
        "queryType": {"name": "Query"},
        "mutationType": null,
        "subscriptionType": null,
        "types": types,
        "directives": [],
    }}})
}
