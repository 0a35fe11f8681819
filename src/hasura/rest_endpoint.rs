//! `hasura_rest_endpoint`: a RESTified endpoint serving one query of a query
//! collection at `/api/rest/<url>` (`create_rest_endpoint`,
//! `drop_rest_endpoint`). Hasura has no update command, so a change is a
//! drop and a create of the same name in one metadata bulk: it applies whole
//! or not at all, and the endpoint never disappears in between.
use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    AttrPath, Attribute, Ctx, Diagnostics, Each, IntoDiags, Invalid, Known, NotEmpty, Null,
    RequiresReplace, Schema, StrCheck, Type, Value,
};

use super::client::query_collections::Collection;
use super::client::rest_endpoints::{Endpoint, EndpointDef, QueryReference};
use super::client::{Export, HasuraError};
use super::engine;
use super::graphql_doc;
use super::ident::{
    already_exists, check_non_empty_text as check_name, is_graphql_name, NameCheck,
};
use super::named::Named;

pub struct RestEndpointResource;

/// `EndpointMethod`'s `FromJSON` (graphql-engine `Hasura/RQL/Types/Endpoint.hs`).
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    url: Value<String>,
    methods: Value<Vec<Value<String>>>,
    collection: Value<String>,
    query: Value<String>,
    comment: Value<String>,
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }

    /// The API object; every attribute is known at apply.
    fn endpoint(&self) -> Endpoint {
        let methods: BTreeSet<String> = (self.methods.elements().iter())
            .filter_map(|m| m.known().cloned())
            .collect();
        Endpoint {
            name: self.name().to_string(),
            url: self.url.str_or("").to_string(),
            methods: methods.into_iter().collect(),
            definition: EndpointDef {
                query: QueryReference {
                    collection_name: self.collection.str_or("").to_string(),
                    query_name: self.query.str_or("").to_string(),
                },
            },
            comment: self.comment.known().cloned(),
        }
    }

    fn from_remote(e: Endpoint) -> Model {
        let methods: BTreeSet<String> = e.methods.into_iter().collect();
        Model {
            id: Known(e.name.clone()),
            name: Known(e.name),
            url: Known(e.url),
            methods: Known(methods.into_iter().map(Known).collect()),
            collection: Known(e.definition.query.collection_name),
            query: Known(e.definition.query.query_name),
            comment: e.comment.map_or(Null, Known),
        }
    }

    fn write_failed(&self, e: HasuraError, summary: &str) -> Diagnostics {
        let m = e.message();
        let attr = if m.contains("already exists") {
            return already_exists(AttrPath::attr("name"), summary, e, self.name());
        } else if m.contains("collection with name") {
            "collection"
        } else if m.contains("query with name") {
            "query"
        } else if m.contains("URL paths")
            || m.contains("endpoint path")
            || m.contains("segments")
            || m.contains("new inconsistent metadata")
        {
            // The last: the overlap was reported against another endpoint.
            "url"
        } else {
            return e.into_diags(summary);
        };
        Diagnostics::attr_error(AttrPath::attr(attr), summary, e.to_string())
    }

    /// graphql-engine accepts an endpoint whose url binds a name the query
    /// does not declare, but then refuses every request to it with
    /// "Unexpected variable X" (`Hasura/Server/Rest.hs`, `resolveVar`):
    /// refused here instead, when the query is known.
    fn check_variables(&self, export: &Export, summary: &str) -> Result<(), Diagnostics> {
        let e = self.endpoint();
        let Some(text) = export
            .entry_named::<Collection>(&e.definition.query.collection_name)
            .and_then(|c| {
                c.definition
                    .queries()
                    .remove(&e.definition.query.query_name)
            })
        else {
            return Ok(());
        };
        let Some(vars) = graphql_doc::variables(&text) else {
            return Ok(());
        };
        let unknown: Vec<&str> = url_params(&e.url)
            .into_iter()
            .filter(|p| !vars.iter().any(|v| v == p))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(Diagnostics::attr_error(
            AttrPath::attr("url"),
            summary,
            format!(
                "The url binds {} but the query {:?} of collection {:?} declares no such variable (it has: {}); Hasura would refuse every request with \"Unexpected variable\".",
                unknown.iter().map(|p| format!("`:{p}`")).collect::<Vec<_>>().join(", "),
                e.definition.query.query_name,
                e.definition.query.collection_name,
                if vars.is_empty() { "none".to_string() } else { vars.iter().map(|v| format!("${v}")).collect::<Vec<_>>().join(", ") },
            ),
        ))
    }

    /// Writes the endpoint as planned.
    async fn put(&self, ctx: &Ctx, summary: &str) -> Result<(), Diagnostics> {
        let engine = engine(ctx)?;
        let export = engine
            .export(&ctx.cancel)
            .await
            .map_err(|e| e.into_diags(summary))?;
        self.check_variables(&export, summary)?;
        // Replace what is there (an update, or drift re-created); else create.
        let replace = export.rest_endpoint(self.name()).is_some();
        engine
            .put_rest_endpoint(&ctx.cancel, &self.endpoint(), replace)
            .await
            .map_err(|e| self.write_failed(e, summary))
    }
}

fn url_params(url: &str) -> Vec<&str> {
    url.split('/').filter_map(|s| s.strip_prefix(':')).collect()
}

/// The url checks graphql-engine makes when it builds the schema cache
/// (`Hasura/RQL/DDL/Schema/Cache.hs`: `hasInvalidSegments`,
/// `duplicateVariables`), plus what could never match a request.
fn check_url(url: &str) -> Result<(), Invalid> {
    check_name(url)?;
    if url.starts_with('/') || url.ends_with('/') {
        return Err(
            "must not start or end with `/` (it is the part after `/api/rest/`, e.g. `users/:id`)"
                .into(),
        );
    }
    if url.contains(['?', '#']) {
        return Err("must not contain `?` or `#`: a request's query string is never part of the matched path (query-string values bind variables by name)".into());
    }
    let mut seen = BTreeSet::new();
    for seg in url.split('/') {
        if seg.is_empty() {
            return Err("has an empty segment (`//`)".into());
        }
        let Some(p) = seg.strip_prefix(':') else {
            continue;
        };
        if p.is_empty() {
            return Err("has a parameter segment `:` without a name".into());
        }
        if !is_graphql_name(p) {
            return Err(format!("has the parameter `:{p}`, which is not a GraphQL variable name (`[_A-Za-z][_0-9A-Za-z]*`) and so could never bind one").into());
        }
        if !seen.insert(p) {
            return Err(format!("names the parameter `:{p}` twice").into());
        }
    }
    Ok(())
}

/// The methods `create_rest_endpoint` accepts (`EndpointMethod`'s `FromJSON`).
fn check_method(m: &str) -> Result<(), Invalid> {
    if METHODS.contains(&m) {
        return Ok(());
    }
    Err(format!(
        "has {m:?}, which is not a method Hasura serves; use any of {} (upper case)",
        METHODS.join(", ")
    )
    .into())
}

#[async_trait]
impl Named for RestEndpointResource {
    type Model = Model;
    type Remote = Endpoint;
    const IMPORT_ID: (NameCheck, &'static str) = (check_name, "the REST endpoint's name");
    // An endpoint already gone counts as deleted (the batcher's drop rule).
    const DROP_FAILED: &'static str = "Failed to delete REST endpoint";
    const KEY: fn(&mut Model) -> [&mut Value<String>; 2] = |m| [&mut m.id, &mut m.name];
    const FROM_REMOTE: fn(Endpoint, &Model) -> Model = |e, _| Model::from_remote(e);

    fn type_name(&self) -> &'static str {
        "hasura_rest_endpoint"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A RESTified endpoint (`create_rest_endpoint`): `/api/rest/<url>` runs one query of a query collection, its variables bound from the url's `:params`, the query string and a JSON body's keys, with the caller's authentication (admin secret or JWT) and role permissions as on `/v1/graphql`. Hasura has no update command: a change drops and re-creates the endpoint in one atomic metadata write. Import with the endpoint's name.",
            vec![
                Attribute::id("The endpoint's name: the import id."),
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid endpoint name", check_name)).describe("Endpoint name, unique among the endpoints. Changing it replaces the endpoint."),
                Attribute::string("url").required().validate(StrCheck("Invalid endpoint url", check_url)).describe("Path after `/api/rest/`, segments separated by `/`; a segment `:name` binds the query variable `$name`, e.g. `users/:id`. No empty segments, no unnamed or repeated parameters. Every parameter must be a variable of the query (checked at apply, when the query is known). Two endpoints whose urls can match the same path (`users/:id` and `users/me`) must not share a method: Hasura refuses the ambiguity."),
                Attribute::typed("methods", Type::set(Type::String)).required().validate(NotEmpty("Invalid methods", "`methods` must name at least one HTTP method.")).validate(Each(StrCheck("Invalid method", check_method))).describe("HTTP methods the endpoint answers: any of `GET`, `POST`, `PUT`, `PATCH`, `DELETE` (upper case). Another method on the url is answered 405."),
                Attribute::string("collection").required().validate(StrCheck("Invalid collection name", check_name)).describe("Name of the query collection holding the query, usually `hasura_query_collection.<name>.name` (which also orders the writes)."),
                Attribute::string("query").required().validate(StrCheck("Invalid query name", check_name)).describe("Name of the query in `collection` (a key of its `queries`). It must be a single query or mutation operation, not a subscription."),
                Attribute::string("comment").optional().describe("Free-form comment kept with the endpoint."),
            ],
        )
    }

    async fn write(&self, ctx: &Ctx, m: &Model, update: bool) -> Result<(), Diagnostics> {
        let what = if update { "update" } else { "create" };
        m.put(ctx, &format!("Failed to {what} REST endpoint")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn urls() {
        assert_checks(
            check_url,
            &["users", "users/:id", "a/:x/b/:y", "v1/users/:_id2"],
            &[
                "", "/users", "users/", "a//b", "a/:", "a/:x/:x", "a/:1x", "a?b=1", "a#x",
            ],
        );
    }

    #[test]
    fn methods_are_a_sorted_set_in_the_api() {
        let m = Model {
            name: Known("e".into()),
            url: Known("u".into()),
            methods: Known(vec![Known("POST".into()), Known("GET".into())]),
            collection: Known("c".into()),
            query: Known("q".into()),
            ..Model::default()
        };
        assert_eq!(m.endpoint().methods, vec!["GET", "POST"]);
    }
}
