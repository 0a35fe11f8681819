//! Custom types: ONE document in Hasura (`set_custom_types` replaces it
//! whole: `input_objects`, `objects`, `scalars`, `enums`; graphql-engine
//! `Hasura/RQL/DDL/CustomTypes.hs`, export shape `customTypesToOrdJSON` in
//! `Hasura/RQL/Types/Metadata/Serialization.hs`: each list only when not
//! empty, the whole key only when something is declared). Several resources
//! share it, so every write reads the current document and changes only the
//! types it owns (see [`Engine::put_custom_types`]).
use std::collections::BTreeSet;

use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use super::metadata::Export;
use super::{Engine, HasuraError};

/// The document's lists, in export order.
pub const KINDS: [&str; 4] = ["input_objects", "objects", "scalars", "enums"];

/// One declared type: its list (a [`KINDS`] key) and its entry (`{name, ...}`),
/// the user's own JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDef {
    pub kind: &'static str,
    pub entry: Value,
}

impl TypeDef {
    pub fn name(&self) -> &str {
        self.entry["name"].as_str().unwrap_or_default()
    }
}

impl Export {
    /// Every declared custom type.
    pub fn custom_types(&self) -> Vec<TypeDef> {
        let doc = self.top_level("custom_types");
        KINDS
            .iter()
            .flat_map(|kind| {
                doc.and_then(|d| d.get(kind))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|entry| TypeDef {
                        kind,
                        entry: entry.clone(),
                    })
            })
            .collect()
    }

    pub fn custom_type(&self, name: &str) -> Option<TypeDef> {
        self.custom_types().into_iter().find(|t| t.name() == name)
    }
}

/// The `set_custom_types` document: `current` without the types named in
/// `drop` plus `mine`. Types of others stay as exported, in their order.
/// A type of `mine` that `current` declares and `owned` does not name is
/// someone else's: refused, naming it.
pub fn merged(
    current: &[TypeDef],
    owned: &BTreeSet<String>,
    mine: &[TypeDef],
    label: &str,
) -> Result<Value, HasuraError> {
    let taken: Vec<&str> = mine
        .iter()
        .map(TypeDef::name)
        .filter(|n| !owned.contains(*n) && current.iter().any(|t| t.name() == *n))
        .collect();
    if !taken.is_empty() {
        return Err(HasuraError::other(format!(
            "hasura_custom_types {label:?} declares {} that Hasura's custom types already have, from another hasura_custom_types resource or from outside Terraform. A type name may be declared by one resource only: remove it here or there (to take over a type declared outside Terraform, import it: terraform import <address> \"{label}:{}\").",
            taken
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            taken.join(",")
        )));
    }
    let drop: BTreeSet<&str> = owned
        .iter()
        .map(String::as_str)
        .chain(mine.iter().map(TypeDef::name))
        .collect();
    let mut doc = Map::new();
    for kind in KINDS {
        let list: Vec<Value> = current
            .iter()
            .filter(|t| t.kind == kind && !drop.contains(t.name()))
            .chain(mine.iter().filter(|t| t.kind == kind))
            .map(|t| t.entry.clone())
            .collect();
        doc.insert(kind.to_string(), Value::Array(list));
    }
    Ok(Value::Object(doc))
}

impl Engine {
    /// Makes this resource's types exactly `mine`: the ones it `owned`
    /// before and no longer declares are removed, every other type is kept.
    /// The document is rebuilt from the export each attempt sees, so a
    /// concurrent change by anyone survives. `same` tells an exported entry
    /// equal to one of `mine` (Hasura may add or drop defaults).
    pub async fn put_custom_types(
        &self,
        cancel: &CancellationToken,
        label: &str,
        owned: BTreeSet<String>,
        mine: Vec<TypeDef>,
        same: fn(&TypeDef, &TypeDef) -> bool,
    ) -> Result<(), HasuraError> {
        let label = label.to_string();
        let (o, m) = (owned.clone(), mine.clone());
        self.write_computed(
            cancel,
            move |x| {
                let current = x.custom_types();
                let doc = merged(&current, &o, &m, &label)?;
                Ok(vec![json!({"type": "set_custom_types", "args": doc})])
            },
            move |x| {
                let gone = owned
                    .iter()
                    .filter(|n| !mine.iter().any(|t| t.name() == n.as_str()))
                    .all(|n| x.custom_type(n).is_none());
                gone && mine
                    .iter()
                    .all(|t| x.custom_type(t.name()).is_some_and(|r| same(t, &r)))
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::emulated::Emulated;
    use super::*;

    fn t(kind: &'static str, name: &str) -> TypeDef {
        TypeDef {
            kind,
            entry: json!({"name": name, "fields": []}),
        }
    }

    #[test]
    fn merge_keeps_others_and_refuses_theirs() {
        let current = vec![
            t("objects", "Theirs"),
            t("objects", "Old"),
            t("scalars", "S"),
        ];
        let owned: BTreeSet<String> = ["Old".to_string()].into();
        let doc = merged(&current, &owned, &[t("objects", "New")], "auth").unwrap();
        let names = |k: &str| -> Vec<String> {
            doc[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names("objects"), ["Theirs", "New"]);
        assert_eq!(names("scalars"), ["S"]);
        let e = merged(&current, &owned, &[t("objects", "Theirs")], "auth").unwrap_err();
        assert!(e.message().contains("\"Theirs\""), "{e}");
    }

    fn scalar(name: &str) -> TypeDef {
        TypeDef {
            kind: "scalars",
            entry: json!({ "name": name }),
        }
    }

    fn names(x: &Export) -> Vec<String> {
        let mut n: Vec<String> = x
            .custom_types()
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        n.sort();
        n
    }

    /// Two groups written at once, while another writer keeps winning the
    /// `resource_version` race and an outside type is added: every write is
    /// rebuilt from the export it is checked against, so nothing is lost.
    #[tokio::test]
    async fn concurrent_groups_and_conflicts_keep_every_type() {
        let env = Emulated::start().await;
        let engine = env.engine();
        let cancel = CancellationToken::new();
        engine
            .command(
                &cancel,
                "set_custom_types",
                json!({"scalars": [{"name": "Outside"}]}),
                None,
            )
            .await
            .unwrap();
        env.emu.conflict_next(3);
        let same: fn(&TypeDef, &TypeDef) -> bool = |a, b| a == b;
        let (a, b) = tokio::join!(
            engine.put_custom_types(
                &cancel,
                "a",
                BTreeSet::new(),
                vec![scalar("A1"), scalar("A2")],
                same
            ),
            engine.put_custom_types(&cancel, "b", BTreeSet::new(), vec![scalar("B1")], same),
        );
        a.unwrap();
        b.unwrap();
        engine.invalidate().await;
        let x = engine.export(&cancel).await.unwrap();
        assert_eq!(names(&x), ["A1", "A2", "B1", "Outside"]);

        // An update drops only what the group owned and no longer declares.
        let owned: BTreeSet<String> = ["A1".to_string(), "A2".to_string()].into();
        engine
            .put_custom_types(&cancel, "a", owned, vec![scalar("A1")], same)
            .await
            .unwrap();
        engine.invalidate().await;
        let x = engine.export(&cancel).await.unwrap();
        assert_eq!(names(&x), ["A1", "B1", "Outside"]);

        // Declaring another group's type is refused, nothing written.
        let e = engine
            .put_custom_types(&cancel, "c", BTreeSet::new(), vec![scalar("B1")], same)
            .await
            .unwrap_err();
        assert!(e.message().contains("\"B1\""), "{e}");
        env.stop().await;
    }
}
