//! `hasura_remote_schema_permission`: the part of a remote schema a role may
//! see, as GraphQL SDL (`add_remote_schema_permissions`,
//! `drop_remote_schema_permissions`). Hasura has no update for it, so a new
//! `schema` or `comment` is a drop and an add in one atomic `bulk`.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    str_eq, ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Known, Null,
    RequiresReplace, Resource, Schema, StrCheck, Value,
};

use super::super::client::remote_schemas::{Permission, PermissionDefinition};
use super::super::client::HasuraError;
use super::super::engine;
use super::super::graphql_doc::{check_sdl, same_sdl, SameSdl};
use super::super::ident::{
    already_exists, check_non_empty_text as check_name, import_pair, NameCheck,
};
use super::super::named::Pair;

pub struct RemoteSchemaPermissionResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    remote_schema: Value<String>,
    role: Value<String>,
    schema: Value<String>,
    comment: Value<String>,
}

impl Model {
    /// (remote schema, role): what identifies the permission.
    fn key(&self) -> Pair<'_> {
        Pair(self.remote_schema.str_or(""), self.role.str_or(""))
    }

    fn permission(&self) -> Permission {
        Permission {
            role: self.key().1.to_string(),
            definition: PermissionDefinition {
                schema: self.schema.str_or("").to_string(),
            },
            comment: self.comment.known().cloned(),
        }
    }

    /// Hasura stores the SDL re-printed; the user's text is kept while it
    /// means the same.
    fn from_remote(remote_schema: &str, p: Permission, prior: &Model) -> Model {
        let schema = match prior.schema.as_deref() {
            Some(old) if same_sdl(old, &p.definition.schema) => old.to_string(),
            _ => p.definition.schema,
        };
        Model {
            id: Known(Pair(remote_schema, &p.role).to_string()),
            remote_schema: Known(remote_schema.to_string()),
            role: Known(p.role),
            schema: Known(schema),
            comment: p.comment.map_or(Null, Known),
        }
    }

    fn write_failed(&self, e: HasuraError, summary: &str) -> Diagnostics {
        let m = e.message();
        let attr = match m {
            _ if m.contains("already exists") => {
                return already_exists(AttrPath::attr("role"), summary, e, &self.key().to_string())
            }
            _ if m.contains("remote schema permissions are enabled") => {
                let hint = "Set the engine's env var HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS=true (e.g. with `hasura_env_var`).";
                return Diagnostics::attr_error(
                    AttrPath::attr("role"),
                    summary,
                    format!("{e} {hint}"),
                );
            }
            _ if m.contains("remote schema") && m.contains("exist") => "remote_schema",
            _ if m.contains("admin role") => "role",
            _ if e.code_is("validation-failed") || m.contains("schema") => "schema",
            _ => return e.into_diags(summary),
        };
        Diagnostics::attr_error(AttrPath::attr(attr), summary, e.to_string())
    }

    async fn put(&self, ctx: &Ctx, replace: bool, summary: &str) -> Result<(), Diagnostics> {
        engine(ctx)?
            .put_remote_schema_permission(
                &ctx.cancel,
                self.key().0,
                &self.permission(),
                replace,
                same_permission,
            )
            .await
            .map_err(|e| self.write_failed(e, summary))
    }
}

fn same_permission(a: &Permission, b: &Permission) -> bool {
    a.role == b.role
        && a.comment == b.comment
        && same_sdl(&a.definition.schema, &b.definition.schema)
}

fn check_schema(s: &str) -> Result<(), crate::framework::Invalid> {
    check_sdl(s).map_err(|e| format!("is not a GraphQL schema document (SDL): {e}").into())
}

#[async_trait]
impl Resource for RemoteSchemaPermissionResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_remote_schema_permission"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "What a role may query of a remote schema (`add_remote_schema_permissions`): a GraphQL schema document that is a subset of the remote server's schema, e.g. only some root fields, or some fields of a type. Hasura refuses a field the role's schema lacks. Needs the engine started with `HASURA_GRAPHQL_ENABLE_REMOTE_SCHEMA_PERMISSIONS=true`. Hasura has no update for these permissions: a change of `schema` or `comment` drops the old one and adds the new one in one atomic metadata write, so the role is never left without one. Import with `<remote_schema>/<role>`.",
            vec![
                Attribute::id("`<remote_schema>/<role>`: the import id."),
                Attribute::string("remote_schema").required().plan(RequiresReplace).validate(StrCheck("Invalid remote schema name", check_name)).describe("Name of the remote schema, e.g. `hasura_remote_schema.payments.name`. Changing it replaces the permission."),
                Attribute::string("role").required().plan(RequiresReplace).validate(StrCheck("Invalid role name", check_name)).describe("Role the permission is for; not `admin`, which sees everything. Changing it replaces the permission."),
                Attribute::string("schema").required().validate(StrCheck("Invalid schema", check_schema)).semantic_eq(str_eq::<SameSdl>).describe("The role's view of the remote schema as GraphQL SDL, e.g. `type Query { invoices: [Invoice] }` with the types it uses. Every type, field and argument must exist in the remote schema with the same type (checked by Hasura at apply); the document must parse (checked at plan). Compared by meaning: layout and the order of types, fields and arguments never cause a diff."),
                Attribute::string("comment").optional().describe("Free-form comment kept with the permission."),
            ],
        )
    }

    fn validate(&self, c: &Model, diags: &mut Diagnostics) {
        if c.role.as_deref() == Some("admin") {
            diags.add_attr_error(
                AttrPath::attr("role"),
                "Invalid role",
                "The admin role sees the whole remote schema; Hasura refuses a permission for it (\"cannot define permission for admin role\").",
            );
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        m.put(ctx, false, "Failed to add remote schema permission")
            .await?;
        Ok(Model {
            id: Known(m.key().to_string()),
            ..m
        })
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        let export = super::super::exported(ctx).await?;
        Ok(export
            .remote_schema(prior.key().0)
            .and_then(|r| r.permission(prior.key().1).cloned())
            .map(|p| Model::from_remote(prior.key().0, p, &prior)))
    }

    async fn update(&self, ctx: &Ctx, _prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        m.put(ctx, true, "Failed to update remote schema permission")
            .await?;
        Ok(m)
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        // Gone already (or with its remote schema) counts as deleted.
        engine(ctx)?
            .drop_remote_schema_permission(&ctx.cancel, m.key().0, m.key().1)
            .await
            .map_err(|e| e.into_diags("Failed to delete remote schema permission"))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let checks: [(_, NameCheck); 2] =
            [("remote schema name", check_name), ("role", check_name)];
        let form = "<remote_schema>/<role>";
        let [rs, role] = import_pair(id, form, "payments/user", true, checks)?;
        let m = Model {
            remote_schema: Known(rs),
            role: Known(role),
            ..Model::default()
        };
        Ok(Model {
            id: Known(m.key().to_string()),
            ..m
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_keeps_the_users_sdl() {
        let prior = Model {
            remote_schema: Known("pay".into()),
            role: Known("user".into()),
            schema: Known("type Query {  invoices: [Invoice] }\ntype Invoice { id: ID! }".into()),
            ..Model::default()
        };
        let p = Permission {
            role: "user".into(),
            definition: PermissionDefinition {
                schema: "type Invoice {\n  id: ID!\n}\n\ntype Query {\n  invoices: [Invoice]\n}\n"
                    .into(),
            },
            comment: None,
        };
        let m = Model::from_remote("pay", p.clone(), &prior);
        assert_eq!(m.schema, prior.schema);
        assert_eq!(m.id.as_deref(), Some("pay/user"));
        assert!(same_permission(&p, &prior.permission()));
    }
}
