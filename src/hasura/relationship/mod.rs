//! `hasura_relationship`: an object or array relationship of a tracked table
//! (`pg_create_object_relationship`, `pg_create_array_relationship`). Reads come from the
//! cached `export_metadata`; writes go through the engine's batcher like permissions, so
//! concurrent changes share one `bulk` carrying the `resource_version`. A rename is
//! `pg_rename_relationship` (Hasura rewrites the permissions that use it in the same
//! step) and a comment change `pg_set_relationship_comment`, both in place; a change of
//! `type` or of the join drops and re-creates the relationship in one atomic `bulk`.
mod commands;
mod plan;
mod readback;
mod using;
mod validate;

pub(crate) use using::Table;

pub(crate) use plan::planned_relationship_target;

/// A field other than a column of an exported table entry that a boolean expression
/// may name: `Some(Some(target))` for a relationship whose definition names the
/// table it leads to, `Some(None)` for one on this table's own foreign key (its target
/// is the key's) and for a computed field, `None` for no such field.
pub(crate) fn exported_field_target(
    table_entry: &serde_json::Value,
    name: &str,
) -> Option<Option<(String, String)>> {
    if let Some((object, r)) = readback::entry_in(table_entry, name) {
        let using = r.using(object);
        return Some(using.and_then(|u| u.remote().map(|t| (t.schema.clone(), t.name.clone()))));
    }
    (super::computed_field::exported_fields(table_entry).iter())
        .any(|(n, _)| n == name)
        .then_some(None)
}

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::{
    ApplyError, Attribute, Ctx, Diagnostics, OneOf, Plan, Resource, Schema, StrCheck, Type, Value,
};

use super::engine;
use super::table::keyed::{table_keyed, TableKeyed};
use super::table::on_table::{
    self, dropped, import_existing, import_id_attribute, table_attributes, written,
};
use using::Using;

pub struct RelationshipResource;

/// A list of names; in a configuration any element may still be unknown.
type Names = Value<Vec<Value<String>>>;

fn known_names(v: &Names) -> Option<Vec<String>> {
    v.known()?.iter().map(|n| n.known().cloned()).collect()
}

table_keyed! {
    #[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
    pub struct Model {
        key { name: "" }
        #[serde(rename = "type")]
        kind: Value<String>,
        /// Flat rather than nested attributes: Terraform 1.0 crashes planning a single
        /// nested attribute that has no prior value (`objchange.proposedNewNestedType`).
        foreign_key_constraint_on: Names,
        manual_configuration: Value<BTreeMap<String, Value<String>>>,
        remote_table: Value<String>,
        remote_schema: Value<String>,
        comment: Value<String>,
    }
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }
    fn is_object(&self) -> bool {
        self.kind.as_deref() != Some("array")
    }

    /// The remote table, once known (`remote_schema` unset means `public`).
    fn remote(&self) -> Option<Option<Table>> {
        match &self.remote_table {
            Value::Null => Some(None),
            t => Some(Some(Table {
                schema: match &self.remote_schema {
                    Value::Null => "public".to_string(),
                    s => s.as_deref()?.to_string(),
                },
                name: t.as_deref()?.to_string(),
            })),
        }
    }

    /// The join as Hasura takes it, once every part of it is known.
    fn using(&self) -> Option<Using> {
        let remote = self.remote()?;
        if !self.foreign_key_constraint_on.is_null() {
            let cols = known_names(&self.foreign_key_constraint_on)?;
            return Some(match remote {
                None => Using::SameTable(cols),
                Some(t) => Using::RemoteTable(t, cols),
            });
        }
        let mapping = self
            .manual_configuration
            .known()?
            .iter()
            .map(|(l, r)| Some((l.clone(), r.known()?.clone())))
            .collect::<Option<_>>()?;
        Some(Using::Manual(remote?, mapping))
    }
}

#[async_trait]
impl Resource for RelationshipResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_relationship"
    }

    fn schema(&self) -> Schema {
        let [source, schema, table] = table_attributes(
            "the table",
            "The tracked table the relationship is on.",
            "",
            true,
        );
        Schema::new(
            "An object or array relationship of a tracked table (`pg_create_object_relationship`, `pg_create_array_relationship`): a nested field in the GraphQL schema, and a path permissions' `filter` and `check` can follow (`{\"author\": {\"id\": {\"_eq\": \"X-Hasura-User-Id\"}}}`). Set exactly one of `foreign_key_constraint_on` (a foreign key's columns) and `manual_configuration` (a column mapping), and `remote_table` where the join needs it. Renaming it (`pg_rename_relationship`) and changing its `comment` (`pg_set_relationship_comment`) happen in place, and Hasura rewrites the permissions that use the old name in the same step; changing `type` or the join drops and re-creates it in one atomic `bulk` request (Hasura refuses that while a permission uses it: change the permission first). Changing `source`, `schema` or `table` replaces it. A relationship on this table's own foreign key does not name the table it leads to: give it `depends_on` on that table's resource, so that destroy drops the relationship before untracking the table (Hasura refuses the other order). Import with `<source>.<schema>.<table>.<name>`, e.g. `default.public.posts.author`; a part containing a `.` is written in double quotes with inner quotes doubled.",
            vec![
                import_id_attribute("<source>.<schema>.<table>.<name>"),
                source,
                schema,
                table,
                Attribute::string("name").required().validate(StrCheck("Invalid relationship name", validate::check_relationship_name)).describe("The relationship's name: the GraphQL field, and the key permissions' boolean expressions use. A GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`) that no column of the table has. Renamed in place."),
                Attribute::string("type").required().validate(OneOf(&["object", "array"])).describe("`object` (one related row, e.g. a post's `author`) or `array` (a list of related rows, e.g. a user's `posts`)."),
                Attribute::typed("foreign_key_constraint_on", Type::list(Type::String)).optional().describe("Join through a foreign-key constraint that exists in the database, named by its column(s): for an `object` relationship without `remote_table`, this table's columns that reference the remote table; with `remote_table` (and always for `array`), the remote table's columns that reference this table. Hasura looks up the one foreign key with exactly these columns. Exactly one of this and `manual_configuration`."),
                Attribute::typed("manual_configuration", Type::map(Type::String)).optional().describe("Join on columns without a foreign key (e.g. to a view): this table's column -> `remote_table`'s column, for each pair the join matches, e.g. `{ author_id = \"id\" }`. Needs `remote_table`. Exactly one of this and `foreign_key_constraint_on`."),
                Attribute::string("remote_table").optional().describe("The table the relationship leads to. Required for `array` relationships and with `manual_configuration`; for an `object` relationship on a foreign key, set it only when the key is on the remote table (one-to-one)."),
                Attribute::string("remote_schema").optional().describe("Schema of `remote_table`. Unset means `public`."),
                Attribute::string("comment").optional().describe("Comment on the relationship, shown as the field's description in GraphQL. Changed in place."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        config.check(diags);
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Model>) {
        let p = &mut *plan.planned;
        p.id = p.planned_id();
        plan::check_tables(ctx, p, plan.diags).await;
        plan::record(p);
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        let engine = engine(ctx)?;
        let create = m.create_command()?;
        let sent = engine.write_with(&ctx.cancel, vec![create], m.landed(None));
        written(&m, "create", sent, import_existing).await?;
        Ok(m.with_id())
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        on_table::read(ctx, prior).await
    }

    async fn update(&self, ctx: &Ctx, prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        let engine = engine(ctx)?;
        let cmds = m.update_commands(&prior)?;
        let renamed = (prior.name() != m.name()).then(|| prior.name().to_string());
        let sent = engine.write_with(&ctx.cancel, cmds, m.landed(renamed));
        written(&m, "update", sent, |e, _| {
            if e.code_is("dependency-error") {
                " Hasura has no command that changes a relationship's type or join in place, and refuses to drop one that permissions use: change those permissions' `filter`/`check` so they no longer follow it (or remove them), apply, then change the relationship.".into()
            } else {
                String::new()
            }
        })
        .await?;
        Ok(m.with_id())
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let engine = engine(ctx)?;
        let drop = m.drop_command(m.name());
        dropped(&m, engine.write_with(&ctx.cancel, vec![drop], m.gone())).await
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let [source, schema, table, name] = parse_relationship_id(id)?;
        Ok(Model::keyed(source, schema, table, name))
    }
}

/// `<source>.<schema>.<table>.<name>`, checked part by part.
fn parse_relationship_id(id: &str) -> Result<[String; 4], Diagnostics> {
    const FORM: &str = "<source>.<schema>.<table>.<name>";
    const EXAMPLE: &str = "default.public.posts.author";
    let bad = |why: String| super::ident::bad_import_id(why, FORM, EXAMPLE);
    let parts: [String; 4] = super::ident::parse_import_id(id, FORM, EXAMPLE, false, 3)?;
    if !super::ident::is_graphql_name(&parts[3]) {
        return Err(bad(format!(
            "{:?} is not a GraphQL name ([_A-Za-z][_0-9A-Za-z]*)",
            parts[3]
        )));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(
            parse_relationship_id("default.public.posts.author").unwrap()[3],
            "author"
        );
        assert_eq!(
            parse_relationship_id("default.\"a.b\".posts.author").unwrap()[1],
            "a.b"
        );
        assert!(parse_relationship_id("default.public.posts").is_err());
        assert!(parse_relationship_id("default.public.posts.bad-name").is_err());
        let m = Model {
            source: "default".into(),
            schema: "public".into(),
            table: "posts".into(),
            name: "author".into(),
            ..Default::default()
        };
        assert_eq!(
            m.planned_id().as_deref(),
            Some("default.public.posts.author")
        );
    }
}
