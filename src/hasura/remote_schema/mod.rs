//! `hasura_remote_schema`: another GraphQL server whose schema Hasura merges
//! into its own and to which it forwards the matching queries
//! (`add_remote_schema`, `update_remote_schema` in place,
//! `remove_remote_schema`), and `hasura_remote_schema_permission`, what a
//! role may see of it. Writes join the metadata batcher.
mod customization;
pub(super) mod permission;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    AttrPath, Attribute, Ctx, Diagnostics, IntBetween, IntoDiags, Known, Null, RequiresReplace,
    Schema, StrCheck, Type, Value,
};

use super::client::remote_schemas::{Definition, RemoteSchema};
use super::client::HasuraError;
use super::engine;
use super::ident::{already_exists, check_non_empty_text as check_name, NameCheck};
use super::named::Named;
use super::webhook::{
    check_env_name, check_webhook, exactly_one, headers_from_api, headers_to_api, validate_headers,
    HeaderMap, HEADERS_DESCRIPTION, HEADERS_FROM_ENV_DESCRIPTION,
};
use customization::Custom;

/// `validateRemoteSchemaDef`: an unset `timeout_seconds` means 60.
const DEFAULT_TIMEOUT: i64 = 60;

pub struct RemoteSchemaResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    url: Value<String>,
    url_from_env: Value<String>,
    headers: HeaderMap,
    headers_from_env: HeaderMap,
    forward_client_headers: Value<bool>,
    timeout_seconds: Value<i64>,
    customization: Value<Custom>,
    comment: Value<String>,
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }

    /// The API object; every attribute is known at apply.
    fn schema(&self) -> RemoteSchema {
        RemoteSchema {
            name: self.name().to_string(),
            definition: Definition {
                url: self.url.known().cloned(),
                url_from_env: self.url_from_env.known().cloned(),
                headers: headers_to_api(&self.headers, &self.headers_from_env),
                forward_client_headers: self.forward_client_headers.or(false),
                timeout_seconds: Some(self.timeout_seconds.or(DEFAULT_TIMEOUT)),
                customization: self.customization.known().and_then(Custom::to_api),
            },
            comment: self.comment.known().cloned(),
            permissions: Vec::new(),
        }
    }

    /// What is remote, in the user's own form where it means the same.
    fn from_remote(r: RemoteSchema, prior: &Model) -> Model {
        let d = r.definition;
        let (headers, headers_from_env) =
            headers_from_api(d.headers, (&prior.headers, &prior.headers_from_env));
        Model {
            id: Known(r.name.clone()),
            name: Known(r.name),
            url: d.url.map_or(Null, Known),
            url_from_env: d.url_from_env.map_or(Null, Known),
            headers,
            headers_from_env,
            forward_client_headers: Known(d.forward_client_headers),
            timeout_seconds: Known(d.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT)),
            customization: Known(Custom::from_api(
                d.customization,
                prior.customization.known(),
            )),
            comment: r.comment.map_or(Null, Known),
        }
    }

    /// The attribute a refused write points at; `None` for errors of no one attribute.
    fn refused_attr(&self, e: &HasuraError) -> Option<&'static str> {
        let m = e.message();
        let url = if self.url_from_env.is_known() {
            "url_from_env"
        } else {
            "url"
        };
        Some(match m {
            _ if m.contains("already exists") => "name",
            _ if m.contains("Value for environment variables") || m.contains("HTTP exception") => {
                url
            }
            _ if m.contains("environment variable") => match self.url_from_env.as_deref() {
                Some(v) if m.contains(&format!("'{v}'")) => "url_from_env",
                _ => "headers_from_env",
            },
            _ if m.contains("customiz") || m.contains("mapping") => "customization",
            _ if e.code_is("remote-schema-error") || m.contains("URI") => url,
            _ => return None,
        })
    }
}

#[async_trait]
impl Named for RemoteSchemaResource {
    type Model = Model;
    type Remote = RemoteSchema;
    const IMPORT_ID: (NameCheck, &'static str) = (check_name, "the remote schema's name");
    const DROP_FAILED: &'static str = "Failed to remove remote schema";
    const KEY: fn(&mut Model) -> [&mut Value<String>; 2] = |m| [&mut m.id, &mut m.name];
    const FROM_REMOTE: fn(RemoteSchema, &Model) -> Model = Model::from_remote;

    fn type_name(&self) -> &'static str {
        "hasura_remote_schema"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A remote schema: another GraphQL server whose types and root fields Hasura merges into its own schema, forwarding the matching parts of each query to it (`add_remote_schema`). Hasura introspects the server when the schema is added or its URL changes, so the server must be up at apply. Changes other than `name` are made in place (`update_remote_schema`), keeping the schema's role permissions. Import with the remote schema's name.",
            vec![
                Attribute::id("The remote schema's name: the import id."),
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid remote schema name", check_name)).describe("Remote schema name. Hasura has no rename: changing it replaces the remote schema and drops its permissions."),
                Attribute::string("url").optional().validate(StrCheck("Invalid url", check_webhook)).describe("The server's GraphQL endpoint, `http(s)://...`, or a template of the engine's env vars such as `{{PAYMENTS_URL}}/graphql`, so one configuration serves every environment. Exactly one of `url` and `url_from_env`; a variable the engine does not have is refused at apply."),
                Attribute::string("url_from_env").optional().validate(StrCheck("Invalid env var name", check_env_name)).describe("Name of the engine's env var holding the whole endpoint URL. A variable the engine does not have is refused at apply."),
                Attribute::typed("headers", Type::map(Type::String)).optional().sensitive().describe(HEADERS_DESCRIPTION),
                Attribute::typed("headers_from_env", Type::map(Type::String)).optional().describe(HEADERS_FROM_ENV_DESCRIPTION),
                Attribute::bool("forward_client_headers").default(false).describe("Also forward the headers of the client's request (Hasura's own and `Content-Length` aside) to the server. Session variables (`x-hasura-*`) are always sent. Default `false`."),
                Attribute::int("timeout_seconds").default(DEFAULT_TIMEOUT).validate(IntBetween(1, i64::from(i32::MAX))).describe("Seconds Hasura waits for the server's answer. Default `60`, Hasura's."),
                customization::attribute(),
                Attribute::string("comment").optional().describe("Free-form comment kept with the remote schema."),
            ],
        )
    }

    fn validate(&self, c: &Model, diags: &mut Diagnostics) {
        validate_headers(&c.headers, &c.headers_from_env, diags);
        let url = (&c.url, &c.url_from_env);
        exactly_one(
            url,
            AttrPath::attr("url"),
            "URL missing or set twice",
            diags,
        );
        if let Some(custom) = c.customization.known() {
            custom.validate(diags);
        }
    }

    /// Adds (or, `update`, changes) the remote schema as planned
    /// (`update_remote_schema` keeps its permissions). Hasura introspects the
    /// remote server on both, so an unreachable server is refused here.
    async fn write(&self, ctx: &Ctx, m: &Model, update: bool) -> Result<(), Diagnostics> {
        let what = if update { "update" } else { "add" };
        let summary = &format!("Failed to {what} remote schema");
        let written = engine(ctx)?
            .put_entry_as(&ctx.cancel, &format!("{what}_remote_schema"), &m.schema())
            .await;
        written.map_err(|e| match m.refused_attr(&e) {
            Some("name") => already_exists(AttrPath::attr("name"), summary, e, m.name()),
            Some(attr) => Diagnostics::attr_error(AttrPath::attr(attr), summary, e.to_string()),
            None => e.into_diags(summary),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::client::remote_schemas::{Customization, FieldRenames, Renames};
    use super::*;

    #[test]
    fn read_back_equals_what_was_written() {
        let mut m = Model {
            name: Known("pay".into()),
            url: Known("{{PAY_URL}}/graphql".into()),
            headers_from_env: Known(
                [("Authorization".to_string(), Known("PAY_AUTH".into()))].into(),
            ),
            forward_client_headers: Known(true),
            timeout_seconds: Known(30),
            ..Model::default()
        };
        let custom = Customization {
            root_fields_namespace: Some("pay".into()),
            type_names: Some(Renames {
                prefix: Some("Pay_".into()),
                suffix: None,
                mapping: BTreeMap::new(),
            }),
            field_names: Some(vec![FieldRenames {
                parent_type: "Query".into(),
                renames: Renames {
                    prefix: None,
                    suffix: None,
                    mapping: [("a".to_string(), "b".to_string())].into(),
                },
            }]),
        };
        m.customization = Known(Custom::from_api(Some(custom.clone()), None));
        let api = m.schema();
        assert_eq!(api.definition.customization, Some(custom));
        let back = Model::from_remote(api.clone(), &m);
        assert_eq!(back.schema(), api);
        assert!(back.headers.is_null());
        assert_eq!(back.customization, m.customization);
        // Nothing customised: no `customization` sent, and the default read back.
        let plain = Model {
            customization: Known(Custom::default()),
            ..m
        };
        assert_eq!(plain.schema().definition.customization, None);
        assert_eq!(
            Model::from_remote(plain.schema(), &plain).customization,
            Known(Custom::default())
        );
    }
}
