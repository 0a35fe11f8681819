//! A relationship as `export_metadata` shows it (an entry of its table's
//! `object_relationships` or `array_relationships`: `{name, using, comment?}`,
//! graphql-engine `Hasura/RQL/Types/Metadata/Serialization.hs`, `relDefToOrdJSON`),
//! read back into the model in the spelling the configuration used.
use serde::Deserialize;
use serde_json::Value as J;

use crate::framework::{Diagnostics, Known, Null, Value};

use super::super::client::Export;
use super::super::table::keyed::TableKeyed;
use super::super::table::on_table::Exported;
use super::using::{Table, Using};
use super::Model;

/// An exported relationship.
#[derive(Clone, Debug, Deserialize)]
pub struct Entry {
    name: String,
    /// Parsed by `Using::parse`, which knows every spelling Hasura accepts.
    #[serde(default)]
    using: J,
    comment: Option<String>,
}

impl Entry {
    pub(super) fn using(&self, object: bool) -> Option<Using> {
        Using::parse(object, &self.using)
    }

    pub(super) fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
}

/// Relationship `name` of an exported table entry, and whether it is an object
/// relationship.
pub(super) fn entry_in(table: &J, name: &str) -> Option<(bool, Entry)> {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct Relationships {
        object_relationships: Vec<J>,
        array_relationships: Vec<J>,
    }
    let r = Relationships::deserialize(table).unwrap_or_default();
    [
        (true, r.object_relationships),
        (false, r.array_relationships),
    ]
    .into_iter()
    .find_map(|(object, list)| {
        let mut entries = list.iter().filter_map(|e| Entry::deserialize(e).ok());
        Some((object, entries.find(|e| e.name == name)?))
    })
}

/// The exported entry of relationship `name` of `m`'s table, and whether it is an
/// object relationship.
pub(super) fn find_entry(x: &Export, m: &Model, name: &str) -> Option<(bool, Entry)> {
    entry_in(x.table(m.source(), m.schema(), m.table())?, name)
}

/// A schema as the configuration spelled it: unset for `public` when it was unset.
fn schema_attr(got: &str, prior: &Value<String>) -> Value<String> {
    if got == "public" && prior.is_null() {
        Null
    } else {
        Known(got.to_string())
    }
}

fn names(v: Vec<String>) -> Value<Vec<Value<String>>> {
    Known(v.into_iter().map(Known).collect())
}

impl Exported for Model {
    /// The entry, and whether it is an object relationship.
    type Entry = (bool, Entry);

    fn find(export: &Export, m: &Model) -> Result<Option<(bool, Entry)>, Diagnostics> {
        Ok(find_entry(export, m, m.name()))
    }

    fn from_entry((object, entry): (bool, Entry), prior: &Model) -> Model {
        let using = entry.using(object);
        let remote = |t: &Table| {
            (
                Known(t.name.clone()),
                schema_attr(&t.schema, &prior.remote_schema),
            )
        };
        let (fk, manual, (remote_table, remote_schema)) = match using {
            Some(Using::SameTable(cols)) => (names(cols), Null, (Null, Null)),
            Some(Using::RemoteTable(t, cols)) => (names(cols), Null, remote(&t)),
            Some(Using::Manual(t, mapping)) => (
                Null,
                Known(mapping.into_iter().map(|(l, r)| (l, Known(r))).collect()),
                remote(&t),
            ),
            // A form this provider does not know: shown as a change to what is configured.
            None => (Null, Null, (Null, Null)),
        };
        Model {
            kind: Known(if object { "object" } else { "array" }.into()),
            foreign_key_constraint_on: fk,
            manual_configuration: manual,
            remote_table,
            remote_schema,
            comment: entry.comment.into(),
            ..Model::key_of(prior)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn prior() -> Model {
        Model {
            source: "default".into(),
            schema: "public".into(),
            table: "users".into(),
            name: "posts".into(),
            ..Default::default()
        }
    }

    #[test]
    fn export_reads_back_in_the_configured_spelling() {
        let entry = |v: J| serde_json::from_value::<Entry>(v).unwrap();
        let entry = entry(
            json!({"name": "posts", "using": {"foreign_key_constraint_on": {"column": "author_id", "table": {"name": "posts", "schema": "public"}}}, "comment": "c"}),
        );
        let m = Model::from_entry((false, entry.clone()), &prior());
        assert_eq!(m.kind.as_deref(), Some("array"));
        assert_eq!(m.remote_table.as_deref(), Some("posts"));
        assert_eq!(m.remote_schema, Null);
        assert_eq!(m.foreign_key_constraint_on, names(vec!["author_id".into()]));
        assert_eq!(m.comment.as_deref(), Some("c"));
        let mut p = prior();
        p.remote_schema = "public".into();
        let m = Model::from_entry((false, entry), &p);
        assert_eq!(m.remote_schema.as_deref(), Some("public"));
        let manual = json!({"name": "posts", "using": {"manual_configuration": {"column_mapping": {"id": "author_id"}, "insertion_order": null, "remote_table": {"name": "posts", "schema": "blog"}}}});
        let m = Model::from_entry((false, serde_json::from_value(manual).unwrap()), &prior());
        assert_eq!(m.remote_schema.as_deref(), Some("blog"));
        assert_eq!(m.foreign_key_constraint_on, Null);
        assert!(m.manual_configuration.known().unwrap().contains_key("id"));
        assert_eq!(m.comment, Null);
    }
}
