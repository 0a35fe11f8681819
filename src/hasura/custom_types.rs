//! `hasura_custom_types`: a group of custom GraphQL types (scalars, enums,
//! input objects, objects) for actions, given as SDL. Hasura keeps all
//! custom types in ONE document replaced whole by `set_custom_types`; each
//! resource owns the types its SDL declares and every write merges them into
//! the current document (`Engine::put_custom_types`), so several resources
//! and types declared outside Terraform live side by side.
use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    str_eq, ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntoDiags, Invalid, Known, Null,
    Plan, RequiresReplace, Resource, SameText, Schema, StrCheck, Type, Unknown, Value,
};

use super::client::custom_types::TypeDef;
use super::client::HasuraError;
use super::custom_types_sdl as sdl;
use super::engine;
use super::ident::check_non_empty_text;

pub struct CustomTypesResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    sdl: Value<String>,
    types: Value<Vec<String>>,
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }

    /// The declared types; every attribute is known at apply and was checked at plan.
    fn declared(&self) -> Vec<TypeDef> {
        self.sdl
            .as_deref()
            .and_then(|s| sdl::parse(s).ok())
            .unwrap_or_default()
    }

    /// The type names this resource owns in Hasura (from the state).
    fn owned(&self) -> BTreeSet<String> {
        match self.types.known() {
            Some(t) => t.iter().cloned().collect(),
            None => self
                .declared()
                .iter()
                .map(|t| t.name().to_string())
                .collect(),
        }
    }

    fn write_failed(&self, e: HasuraError, summary: &str) -> Diagnostics {
        let detail = if e.message().contains("new inconsistent metadata") {
            format!("{e} An action still uses a type this change removes: change or destroy that action first (refer to this resource from it, e.g. `depends_on`, so Terraform orders the two).")
        } else {
            e.to_string()
        };
        match e.code() {
            Some("constraint-violation" | "unexpected" | "parse-failed") | None => {
                Diagnostics::attr_error(AttrPath::attr("sdl"), summary, detail)
            }
            _ => e.into_diags(summary),
        }
    }
}

fn names(types: &[TypeDef]) -> Vec<String> {
    let mut n: Vec<String> = types.iter().map(|t| t.name().to_string()).collect();
    n.sort();
    n
}

fn check_sdl(s: &str) -> Result<(), Invalid> {
    sdl::parse(s)
        .map(drop)
        .map_err(|e| Invalid(format!("is not GraphQL SDL of custom types: {e}")))
}

fn check_label(s: &str) -> Result<(), Invalid> {
    check_non_empty_text(s)?;
    if s.contains(':') {
        return Err(
            "must not contain `:` (it separates the label from the type names in an import id)"
                .into(),
        );
    }
    Ok(())
}

/// `sdl` compared by meaning.
struct Sdl;
impl SameText for Sdl {
    fn same(a: &str, b: &str) -> bool {
        sdl::same(a, b)
    }
}

#[async_trait]
impl Resource for CustomTypesResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_custom_types"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A group of custom GraphQL types for actions: scalars, enums, input objects and object types, given as SDL (`set_custom_types`). Hasura keeps every custom type in one document that `set_custom_types` replaces whole; this resource owns exactly the types its `sdl` declares and each write reads the current document and merges only those in, so several `hasura_custom_types` resources and types declared outside Terraform all survive. A type name may be declared by one resource only: declaring a type Hasura already has from elsewhere is refused at apply. Import with `<name>:<Type>,<Type>...`.",
            vec![
                Attribute::id("Same as `name`."),
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid name", check_label)).describe("A label for this group of types, e.g. `auth`. Not stored in Hasura (the types are): it names the group in plans and import ids. Must not contain `:`."),
                Attribute::string("sdl").required().validate(StrCheck("Invalid SDL", check_sdl)).semantic_eq(str_eq::<Sdl>).describe("GraphQL SDL of `scalar`, `enum`, `input` and `type` declarations, e.g. `type LoginResponse { accessToken: String! }`, as kept in the Hasura CLI's `actions.graphql` (without the `type Mutation`/`type Query` extensions, which are the actions). Checked with a GraphQL parser at plan; object fields take no arguments. Compared by meaning: layout, commas, comments and the order of declarations never cause a diff; the order of fields and enum values does. Field types must be GraphQL built-ins (`Int`, `Float`, `String`, `Boolean`, `ID`) or custom types (declared here, in another group, or outside Terraform); Hasura checks them at apply."),
                Attribute::typed("types", Type::list(Type::String)).computed().describe("The type names this resource owns, sorted. Known at plan."),
            ],
        )
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: Plan<'_, Model>) {
        let p = &mut *plan.planned;
        p.types = match p.sdl.as_deref().map(sdl::parse) {
            Some(Ok(t)) => Known(names(&t)),
            Some(Err(_)) => Null,
            None => Unknown,
        };
        p.id = match &p.name {
            Known(n) => Known(n.clone()),
            _ => Unknown,
        };
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let mine = m.declared();
        engine(ctx)?
            .put_custom_types(
                &ctx.cancel,
                m.name(),
                BTreeSet::new(),
                mine.clone(),
                sdl::same_type,
            )
            .await
            .map_err(|e| m.write_failed(e, "Failed to set custom types"))?;
        Ok(Model {
            id: Known(m.name().to_string()),
            types: Known(names(&mine)),
            ..m
        })
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        let export = super::exported(ctx).await?;
        let owned = prior.owned();
        // In the order the user wrote them; imported ones by name.
        let mut order: Vec<String> = prior
            .declared()
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        let imported: Vec<String> = owned
            .iter()
            .filter(|n| !order.contains(n))
            .cloned()
            .collect();
        order.extend(imported);
        let remote: Vec<TypeDef> = order
            .iter()
            .filter(|n| owned.contains(*n))
            .filter_map(|n| export.custom_type(n))
            .collect();
        if remote.is_empty() {
            return Ok(None);
        }
        let sdl = match prior.sdl.as_deref() {
            Some(old) if sdl::parse(old).is_ok_and(|t| sdl::same_types(&t, &remote)) => {
                old.to_string()
            }
            _ => sdl::render(&remote),
        };
        Ok(Some(Model {
            id: Known(prior.name().to_string()),
            name: prior.name.clone(),
            sdl: Known(sdl),
            types: Known(names(&remote)),
        }))
    }

    async fn update(&self, ctx: &Ctx, prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        let mine = m.declared();
        engine(ctx)?
            .put_custom_types(
                &ctx.cancel,
                m.name(),
                prior.owned(),
                mine.clone(),
                sdl::same_type,
            )
            .await
            .map_err(|e| m.write_failed(e, "Failed to update custom types"))?;
        Ok(Model {
            types: Known(names(&mine)),
            ..m
        })
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        engine(ctx)?
            .put_custom_types(&ctx.cancel, m.name(), m.owned(), Vec::new(), sdl::same_type)
            .await
            .map_err(|e| m.write_failed(e, "Failed to remove custom types"))
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let bad = |why: String| {
            Diagnostics::error(
                "Invalid import id",
                format!("{why}. Expected `<name>:<Type>,<Type>...`: a label for the group and the custom types it owns, e.g. `auth:LoginResponse,Credentials`."),
            )
        };
        let (label, list) = id
            .split_once(':')
            .ok_or_else(|| bad(format!("The id {id:?} has no `:`")))?;
        check_label(label).map_err(|e| bad(format!("The name {e}")))?;
        let types: Vec<String> = list
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if types.is_empty() || !types.iter().all(|t| super::ident::is_graphql_name(t)) {
            return Err(bad(format!("{list:?} is not a list of GraphQL type names")));
        }
        Ok(Model {
            id: Known(label.to_string()),
            name: Known(label.to_string()),
            sdl: Null,
            types: Known(types),
        })
    }
}
