//! `hasura_action`: an action, a custom query or mutation Hasura resolves by
//! calling an HTTP handler (`create_action`, `update_action` in place,
//! `drop_action`). Its argument and output types are custom types
//! (`hasura_custom_types`). Writes join the metadata batcher.
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    AttrPath, Attribute, Ctx, Diagnostics, IntBetween, IntoDiags, Invalid, Known, Null, OneOf,
    RequiresReplace, Schema, StrCheck, Type, Value,
};

use super::client::actions::{Action, Argument, Definition, DEFAULT_TIMEOUT};
use super::client::HasuraError;
use super::engine;
use super::graphql_doc;
use super::ident::{already_exists, is_graphql_name, NameCheck};
use super::named::Named;
use super::webhook::{
    check_env_name, check_webhook, exactly_one, headers_from_api, headers_to_api, validate_headers,
    HeaderMap, HEADERS_DESCRIPTION, HEADERS_FROM_ENV_DESCRIPTION,
};

pub struct ActionResource;

type Arguments = Value<BTreeMap<String, Value<String>>>;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    kind: Value<String>,
    #[serde(rename = "type")]
    typ: Value<String>,
    handler: Value<String>,
    handler_from_env: Value<String>,
    forward_client_headers: Value<bool>,
    headers: HeaderMap,
    headers_from_env: HeaderMap,
    timeout: Value<i64>,
    arguments: Arguments,
    output_type: Value<String>,
    comment: Value<String>,
}

/// `handler_from_env = "X"` is the handler template `{{X}}`: actions have
/// no separate env form (`_adHandler` is an `InputWebhook`, a URL template).
fn env_template(var: &str) -> String {
    format!("{{{{{var}}}}}")
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }

    /// The API object; every attribute is known at apply.
    fn action(&self) -> Action {
        let handler = match self.handler_from_env.as_deref() {
            Some(var) => env_template(var),
            None => self.handler.str_or("").to_string(),
        };
        let typ = self.typ.str_or("mutation").to_string();
        let arguments = self
            .arguments
            .known()
            .into_iter()
            .flatten()
            .map(|(name, t)| Argument {
                name: name.clone(),
                typ: t.str_or("").to_string(),
            })
            .collect();
        Action {
            name: self.name().to_string(),
            definition: Definition {
                handler,
                output_type: self.output_type.str_or("").to_string(),
                forward_client_headers: self
                    .forward_client_headers
                    .known()
                    .copied()
                    .unwrap_or(false),
                headers: headers_to_api(&self.headers, &self.headers_from_env),
                arguments,
                kind: (typ == "mutation").then(|| self.kind.str_or("synchronous").to_string()),
                typ,
                timeout: self.timeout.known().copied().unwrap_or(DEFAULT_TIMEOUT),
            },
            comment: self.comment.known().cloned(),
            permissions: Vec::new(),
        }
    }

    /// What is remote, in the form `prior` wrote it where they mean the same.
    fn from_remote(a: Action, prior: &Model) -> Model {
        let d = a.definition;
        let (headers, headers_from_env) =
            headers_from_api(d.headers.clone(), (&prior.headers, &prior.headers_from_env));
        // A handler that is one whole `{{VAR}}` reads as `handler_from_env`
        // unless the user wrote it as `handler` (import picks the env form).
        let whole_var = d
            .handler
            .strip_prefix("{{")
            .and_then(|h| h.strip_suffix("}}"))
            .filter(|v| check_env_name(v).is_ok());
        let (handler, handler_from_env) = match (whole_var, prior.handler.as_deref()) {
            (Some(var), p) if p != Some(d.handler.as_str()) => (Null, Known(var.to_string())),
            _ => (Known(d.handler.clone()), Null),
        };
        let args: BTreeMap<String, Value<String>> = d
            .arguments
            .iter()
            .map(|a| (a.name.clone(), Known(a.typ.clone())))
            .collect();
        let arguments = if args.is_empty() && !prior.arguments.is_known() {
            Null
        } else {
            Known(args)
        };
        Model {
            id: Known(a.name.clone()),
            name: Known(a.name),
            kind: Known(d.kind().to_string()),
            typ: Known(d.typ),
            handler,
            handler_from_env,
            forward_client_headers: Known(d.forward_client_headers),
            headers,
            headers_from_env,
            timeout: Known(d.timeout),
            arguments,
            output_type: Known(d.output_type),
            comment: a.comment.map_or(Null, Known),
        }
    }

    fn write_failed(&self, e: HasuraError, summary: &str) -> Diagnostics {
        if e.message().contains("already exists") {
            return already_exists(AttrPath::attr("name"), summary, e, self.name());
        }
        let handler = if self.handler_from_env.is_known() {
            "handler_from_env"
        } else {
            "handler"
        };
        // Which attribute each of Hasura's refusals is about (`resolveAction`).
        let by_message = [
            ("Value for environment variables", handler),
            ("environment variable", "headers_from_env"),
            ("is not an object type", "output_type"),
            ("scalar/enum/input_object", "arguments"),
        ];
        match by_message.iter().find(|(m, _)| e.message().contains(m)) {
            Some((_, attr)) => {
                Diagnostics::attr_error(AttrPath::attr(attr), summary, e.to_string())
            }
            None => e.into_diags(summary),
        }
    }
}

/// A GraphQL type reference as Hasura prints it (`G.showGT`): a name,
/// list brackets and `!`, no spaces, e.g. `[String!]!`.
pub(super) fn check_gql_type(s: &str) -> Result<(), Invalid> {
    let bad = || {
        Invalid(format!(
            "{s:?} is not a GraphQL type such as `String!` or `[Int!]`"
        ))
    };
    let mut rest = s.strip_suffix('!').unwrap_or(s);
    match rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) => {
            rest = inner;
            check_gql_type(rest).map_err(|_| bad())
        }
        None if is_graphql_name(rest) => Ok(()),
        None => Err(bad()),
    }
}

fn check_action_name(s: &str) -> Result<(), Invalid> {
    let why = "must be a GraphQL name (letters, digits and `_`, not starting with a digit): it becomes a root field";
    graphql_doc::check_name(s, why)
}

#[async_trait]
impl Named for ActionResource {
    type Model = Model;
    type Remote = Action;
    const IMPORT_ID: (NameCheck, &'static str) =
        (check_action_name, "the action's name, e.g. `login`");
    const DROP_FAILED: &'static str = "Failed to drop action";
    const KEY: fn(&mut Model) -> [&mut Value<String>; 2] = |m| [&mut m.id, &mut m.name];
    const FROM_REMOTE: fn(Action, &Model) -> Model = Model::from_remote;

    fn type_name(&self) -> &'static str {
        "hasura_action"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "An action: a query or mutation root field Hasura resolves by POSTing `{action: {name}, input, session_variables, request_query}` to an HTTP handler and returning its JSON (`create_action`). Changes other than `name` are made in place (`update_action`), keeping the action's permissions. Its output and argument types are custom types, usually from `hasura_custom_types`: refer to that resource (e.g. `depends_on`) so the types exist first and go last. Import with the action's name.",
            vec![
                Attribute::id("The action's name: the import id."),
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid action name", check_action_name)).describe("Action name: the root field's name, a GraphQL name such as `login`. Hasura has no rename: changing it replaces the action (dropping its permissions)."),
                Attribute::string("kind").default("synchronous").validate(OneOf(&["synchronous", "asynchronous"])).describe("`synchronous` (the handler's answer is the field's result) or `asynchronous` (the mutation returns an id; the result is fetched later). Asynchronous is for mutations only. Default `synchronous`."),
                Attribute::string("type").default("mutation").validate(OneOf(&["mutation", "query"])).describe("`mutation` or `query`: the root type the action's field is added to. Default `mutation`."),
                Attribute::string("handler").optional().validate(StrCheck("Invalid handler", check_webhook)).describe("URL Hasura POSTs to, `http(s)://...`, or a template of the engine's env vars such as `{{ACTIONS_BASE_URL}}/login`, so one configuration serves every environment. A variable the engine does not have is refused at apply (`hasura_env_var` sets one). Exactly one of `handler` and `handler_from_env`."),
                Attribute::string("handler_from_env").optional().validate(StrCheck("Invalid env var name", check_env_name)).describe("Name of the engine's env var holding the whole handler URL, e.g. `LOGIN_HANDLER_URL`. Hasura stores it as the template `{{LOGIN_HANDLER_URL}}` (an action's handler is always a URL template); an imported action whose handler is one whole `{{VAR}}` is read in this form."),
                Attribute::bool("forward_client_headers").default(false).describe("Forward the GraphQL request's headers to the handler (besides `headers`, which win on a clash). Default `false`."),
                Attribute::typed("headers", Type::map(Type::String)).optional().sensitive().describe(HEADERS_DESCRIPTION),
                Attribute::typed("headers_from_env", Type::map(Type::String)).optional().describe(HEADERS_FROM_ENV_DESCRIPTION),
                Attribute::int("timeout").default(DEFAULT_TIMEOUT).validate(IntBetween(0, i64::from(i32::MAX))).describe("Seconds Hasura waits for the handler. Default `30` (Hasura's)."),
                Attribute::typed("arguments", Type::map(Type::String)).optional().describe("The field's arguments, name -> GraphQL type, e.g. `{ username = \"String!\", password = \"String!\" }`. Types are built-in scalars, PostgreSQL scalars or custom scalars, enums and input objects."),
                Attribute::string("output_type").required().validate(StrCheck("Invalid output type", check_gql_type)).describe("The field's type: a custom object type, possibly a list or non-null, e.g. `LoginResponse` or `[Post!]!`. The handler's JSON must match it."),
                Attribute::string("comment").optional().describe("Free-form comment, shown as the field's description."),
            ],
        )
    }

    fn validate(&self, c: &Model, diags: &mut Diagnostics) {
        validate_headers(&c.headers, &c.headers_from_env, diags);
        let handler = (&c.handler, &c.handler_from_env);
        exactly_one(handler, AttrPath::attr("handler"), "Invalid handler", diags);
        if c.typ.as_deref() == Some("query") && c.kind.as_deref() == Some("asynchronous") {
            diags.add_attr_error(
                AttrPath::attr("kind"),
                "Invalid kind",
                "A query action is always synchronous; `asynchronous` is for mutations.",
            );
        }
        for (name, t) in c.arguments.known().into_iter().flatten() {
            let path = AttrPath::attr("arguments").key(name);
            if !is_graphql_name(name) {
                diags.add_attr_error(
                    path.clone(),
                    "Invalid argument name",
                    format!("{name:?} is not a GraphQL name."),
                );
            }
            if let Some(Err(e)) = t.as_deref().map(check_gql_type) {
                diags.add_attr_error(path, "Invalid argument type", format!("{e}."));
            }
        }
    }

    /// `create_action`, or (`update`) `update_action`, which keeps the
    /// action's permissions.
    async fn write(&self, ctx: &Ctx, m: &Model, update: bool) -> Result<(), Diagnostics> {
        let what = if update { "update" } else { "create" };
        let written = engine(ctx)?
            .put_entry_as(&ctx.cancel, &format!("{what}_action"), &m.action())
            .await;
        written.map_err(|e| m.write_failed(e, &format!("Failed to {what} action")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::assert_checks;

    #[test]
    fn graphql_types() {
        assert_checks(
            check_gql_type,
            &["String", "String!", "[Int!]!", "[[A]]", "LoginResponse"],
            &["", "String !", "[String", "String]", "!", "1Int", "[]"],
        );
    }

    #[test]
    fn handler_from_env_round_trips_as_a_template() {
        let m = Model {
            name: Known("login".into()),
            handler_from_env: Known("LOGIN_URL".into()),
            output_type: Known("R".into()),
            ..Model::default()
        };
        let a = m.action();
        assert_eq!(a.definition.handler, "{{LOGIN_URL}}");
        assert_eq!(a.definition.kind.as_deref(), Some("synchronous"));
        let back = Model::from_remote(a.clone(), &m);
        assert_eq!(back.handler_from_env.as_deref(), Some("LOGIN_URL"));
        assert!(back.handler.is_null());
        // Imported (no prior): a whole `{{VAR}}` is the env form...
        let imported = Model::from_remote(a.clone(), &Model::default());
        assert_eq!(imported.handler_from_env.as_deref(), Some("LOGIN_URL"));
        // ...unless the state wrote it as a template.
        let written = Model {
            handler: Known("{{LOGIN_URL}}".into()),
            ..Model::default()
        };
        let back = Model::from_remote(a, &written);
        assert_eq!(back.handler.as_deref(), Some("{{LOGIN_URL}}"));
    }
}
