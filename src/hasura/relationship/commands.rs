//! The metadata commands a relationship is written with, what an export shows once
//! they landed, and the attribute a rejection of them is about.
//!
//! Arguments as graphql-engine parses them (`Hasura/RQL/DDL/Relationship.hs`:
//! `WithTable` + `RelDef` for creates, `DropRel` `{table, relationship, cascade}`,
//! `SetRelComment` `{table, relationship, comment}`; `Relationship/Rename.hs`:
//! `RenameRel` `{table, name, new_name}`).
use serde_json::{json, Value as J};

use crate::framework::{AttrPath, Diagnostics};

use super::super::client::metadata::{qualified_table, Export};
use super::super::client::HasuraError;
use super::super::table::keyed::TableKeyed;
use super::super::table::on_table::MetadataObject;
use super::readback::find_entry;
use super::Model;

fn unknown_at_apply() -> Diagnostics {
    Diagnostics::error(
        "Relationship not fully known",
        "The relationship's join is not known at apply time; this is a bug in the provider.",
    )
}

impl Model {
    fn kind_word(&self) -> &'static str {
        if self.is_object() {
            "object"
        } else {
            "array"
        }
    }

    fn base_args(&self) -> serde_json::Map<String, J> {
        let mut a = serde_json::Map::new();
        a.insert("source".into(), json!(self.source()));
        a.insert("table".into(), qualified_table(self.schema(), self.table()));
        a
    }

    pub(super) fn create_command(&self) -> Result<J, Diagnostics> {
        let using = self.using().ok_or_else(unknown_at_apply)?;
        let mut a = self.base_args();
        a.insert("name".into(), json!(self.name()));
        a.insert("using".into(), using.to_json());
        if let Some(c) = self.comment.as_deref() {
            a.insert("comment".into(), json!(c));
        }
        Ok(json!({"type": format!("pg_create_{}_relationship", self.kind_word()), "args": a}))
    }

    pub(super) fn drop_command(&self, name: &str) -> J {
        let mut a = self.base_args();
        a.insert("relationship".into(), json!(name));
        json!({"type": "pg_drop_relationship", "args": a})
    }

    fn rename_command(&self, from: &str) -> J {
        let mut a = self.base_args();
        a.insert("name".into(), json!(from));
        a.insert("new_name".into(), json!(self.name()));
        json!({"type": "pg_rename_relationship", "args": a})
    }

    fn comment_command(&self) -> J {
        let mut a = self.base_args();
        a.insert("relationship".into(), json!(self.name()));
        a.insert("comment".into(), json!(self.comment.as_deref()));
        json!({"type": "pg_set_relationship_comment", "args": a})
    }

    /// What turns `prior` into `self` (same table): a rename and a comment change in
    /// place; a new type or join, drop and create in one atomic command list.
    pub(super) fn update_commands(&self, prior: &Model) -> Result<Vec<J>, Diagnostics> {
        let same_def = prior.kind == self.kind && prior.using() == self.using();
        if !same_def {
            return Ok(vec![
                self.drop_command(prior.name()),
                self.create_command()?,
            ]);
        }
        let mut cmds = Vec::new();
        if prior.name() != self.name() {
            cmds.push(self.rename_command(prior.name()));
        }
        if prior.comment != self.comment {
            cmds.push(self.comment_command());
        }
        Ok(cmds)
    }

    /// Whether an export shows this relationship as planned (and, after a rename, the
    /// old name gone).
    pub(super) fn landed(
        &self,
        renamed_from: Option<String>,
    ) -> impl Fn(&Export) -> bool + Send + Sync + 'static {
        let me = self.clone();
        let want = self.using();
        move |x: &Export| {
            if let Some(old) = &renamed_from {
                if find_entry(x, &me, old).is_some() {
                    return false;
                }
            }
            match find_entry(x, &me, me.name()) {
                Some((object, entry)) => {
                    object == me.is_object()
                        && entry.using(object) == want
                        && entry.comment() == me.comment.as_deref()
                }
                None => false,
            }
        }
    }

    /// Whether an export shows this relationship gone.
    pub(super) fn gone(&self) -> impl Fn(&Export) -> bool + Send + Sync + 'static {
        let me = self.clone();
        move |x: &Export| find_entry(x, &me, me.name()).is_none()
    }
}

impl MetadataObject for Model {
    const KIND: &'static str = "relationship";

    /// A tracked-table or join refusal points at the join's attribute.
    fn blamed(&self, e: &HasuraError) -> Option<AttrPath> {
        let message = e.to_string();
        let join = if self.foreign_key_constraint_on.is_null() {
            "manual_configuration"
        } else {
            "foreign_key_constraint_on"
        };
        let join = if message.contains("is not tracked") && !self.remote_table.is_null() {
            "remote_table"
        } else {
            join
        };
        let attr = if message.contains("already exists") {
            "name"
        } else if message.contains("foreign constraint")
            || message.contains("has no field named")
            || message.contains("is not tracked")
        {
            join
        } else if message.contains("does not exist in source") {
            "table"
        } else {
            return None;
        };
        Some(AttrPath::attr(attr))
    }
}

#[cfg(test)]
mod tests {
    use crate::framework::Known;

    use super::*;

    fn rel(name: &str, comment: Option<&str>) -> Model {
        Model {
            source: "default".into(),
            schema: "public".into(),
            table: "posts".into(),
            name: name.into(),
            kind: "object".into(),
            foreign_key_constraint_on: Known(vec!["author_id".into()]),
            comment: comment.map(String::from).into(),
            ..Default::default()
        }
    }

    fn types(cmds: &[J]) -> Vec<&str> {
        cmds.iter().map(|c| c["type"].as_str().unwrap()).collect()
    }

    #[test]
    fn updates_change_in_place_where_hasura_can() {
        let prior = rel("author", None);
        assert_eq!(
            types(&rel("owner", None).update_commands(&prior).unwrap()),
            ["pg_rename_relationship"]
        );
        assert_eq!(
            types(&rel("owner", Some("c")).update_commands(&prior).unwrap()),
            ["pg_rename_relationship", "pg_set_relationship_comment"]
        );
        let c = rel("author", Some("c")).update_commands(&prior).unwrap();
        assert_eq!(
            c[0]["args"],
            json!({"source": "default", "table": {"schema": "public", "name": "posts"}, "relationship": "author", "comment": "c"})
        );
        let mut array = rel("author", None);
        array.kind = "array".into();
        array.remote_table = "posts".into();
        let c = array.update_commands(&prior).unwrap();
        assert_eq!(
            types(&c),
            ["pg_drop_relationship", "pg_create_array_relationship"]
        );
        assert_eq!(
            c[1]["args"]["using"],
            json!({"foreign_key_constraint_on": {"table": {"schema": "public", "name": "posts"}, "column": "author_id"}})
        );
        assert!(rel("author", None)
            .update_commands(&prior)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn landed_reads_the_export() {
        let m = rel("owner", Some("c"));
        let export = |rels: J| {
            Export::new(
                1,
                json!({"sources": [{"name": "default", "tables": [
                    {"table": {"schema": "public", "name": "posts"}, "object_relationships": rels}
                ]}]}),
            )
        };
        let landed = m.landed(Some("author".into()));
        let ok = json!([{"name": "owner", "using": {"foreign_key_constraint_on": ["author_id"]}, "comment": "c"}]);
        assert!(landed(&export(ok)));
        let old_still_there = json!([
            {"name": "author", "using": {"foreign_key_constraint_on": "author_id"}},
            {"name": "owner", "using": {"foreign_key_constraint_on": "author_id"}, "comment": "c"}
        ]);
        assert!(!landed(&export(old_still_there)));
        let other_comment =
            json!([{"name": "owner", "using": {"foreign_key_constraint_on": "author_id"}}]);
        assert!(!landed(&export(other_comment)));
        assert!(m.gone()(&export(json!([]))));
    }
}
