//! The key of a model of an object on a table: `source` (unset: `default`),
//! `schema` (unset: `public`), `table`, then the object's own parts, and the
//! import id they make. `table_keyed!` declares a model's key fields with the
//! code reading them.
use crate::framework::{Diagnostics, Known, Unknown, Value};

use super::super::ident::{check_name_attrs, format_id};

/// A key part as configured, with what it means when unset.
pub type KeyPart<'a> = (&'a Value<String>, &'static str);

/// A model of an object on a table, keyed by `source` (unset: `default`),
/// `schema` (unset: `public`) and `table`, then its own parts (a name, a
/// role and action, ...). Its id joins them all, e.g.
/// `default.public.users.user.select`.
pub trait TableKeyed {
    /// The whole key, usually `on_table([&self.source, ...], [own parts])`.
    fn key(&self) -> Vec<KeyPart<'_>>;

    fn source(&self) -> &str {
        key_str(self.key()[0])
    }
    fn schema(&self) -> &str {
        key_str(self.key()[1])
    }
    fn table(&self) -> &str {
        key_str(self.key()[2])
    }
    fn id(&self) -> String {
        format_id(&self.key().into_iter().map(key_str).collect::<Vec<_>>())
    }
    /// `source`, `schema` and `table` must be SQL names (checked where known).
    fn check_table_names(&self, diags: &mut Diagnostics) {
        let key = self.key().into_iter().map(|(v, _)| v);
        check_name_attrs(diags, ["source", "schema", "table"].into_iter().zip(key));
    }
    /// The model with its id set from its key, as a write reports it.
    fn with_id(self) -> Self
    where
        Self: Sized;
    /// The id once every part of the key is known.
    fn planned_id(&self) -> Value<String> {
        if self.key().iter().all(|(v, _)| v.as_deref().is_some()) {
            Known(self.id())
        } else {
            Unknown
        }
    }
}

fn key_str<'a>((v, unset): KeyPart<'a>) -> &'a str {
    v.str_or(unset)
}

/// `impl TableKeyed` for a model keyed by `source`, `schema`, `table`, then
/// the listed attributes (each with what it means when unset), e.g.
/// `table_keyed!(Model { role: "", action: "select" });`, and
/// `Model::key_of(prior)`: a model holding only `prior`'s key and id, all
/// known, the base of what a read reports (`Model { .., ..Model::key_of(prior) }`),
/// and `Model::keyed(source, schema, table, ..)`: one holding that key (an import stub).
///
/// Given the model's struct, with its key parts in a `key { .. }` group
/// before its other fields, it also declares the struct (see
/// [`declare_model`]) with the fields the key is read from: `id`, `source`,
/// `schema`, `table`, then the key parts, so that the key's fields and the
/// code reading them are written in one place.
macro_rules! table_keyed {
    (
        $(#[$attr:meta])*
        $vis:vis struct $model:ident {
            key { $($part:ident: $unset:literal),* $(,)? }
            $($fields:tt)*
        }
    ) => {
        $crate::hasura::table::keyed::declare_model! {
            [id, source, schema, table $(, $part)*]
            $(#[$attr])* $vis struct $model { $($fields)* }
        }
        $crate::hasura::table::keyed::table_keyed!($model { $($part: $unset),* });
    };
    ($model:ident { $($part:ident: $unset:literal),* }) => {
        impl $crate::hasura::table::keyed::TableKeyed for $model {
            fn key(&self) -> Vec<$crate::hasura::table::keyed::KeyPart<'_>> {
                let table = [&self.source, &self.schema, &self.table];
                $crate::hasura::table::keyed::on_table(table, [$((&self.$part, $unset)),*])
            }

            fn with_id(self) -> Self {
                $model {
                    id: $crate::framework::Known(self.id()),
                    ..self
                }
            }
        }

        impl $model {
            #[allow(dead_code)]
            fn key_of(prior: &Self) -> Self {
                use $crate::framework::Known;
                use $crate::hasura::table::keyed::TableKeyed as _;
                $model {
                    id: Known(prior.id()),
                    source: Known(prior.source().to_string()),
                    schema: Known(prior.schema().to_string()),
                    table: Known(prior.table().to_string()),
                    $($part: Known(prior.$part.str_or($unset).to_string()),)*
                    ..Default::default()
                }
            }

            #[allow(dead_code)]
            fn keyed(source: String, schema: String, table: String, $($part: String),*) -> Self {
                use $crate::framework::Known;
                let m = $model {
                    source: Known(source),
                    schema: Known(schema),
                    table: Known(table),
                    $($part: Known($part),)*
                    ..Default::default()
                };
                Self::key_of(&m)
            }
        }
    };
}
pub(crate) use table_keyed;

/// Declares a model struct whose first fields, the `[..]` names, are all
/// `Value<String>` (an id and the attributes naming the object), followed
/// by the fields given.
macro_rules! declare_model {
    (
        [$($head:ident),*]
        $(#[$attr:meta])*
        $vis:vis struct $model:ident {
            $($(#[$field_attr:meta])* $field:ident: $ty:ty),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis struct $model {
            $($head: $crate::framework::Value<String>,)*
            $($(#[$field_attr])* $field: $ty,)*
        }
    };
}
pub(crate) use declare_model;

/// `source`, `schema` and `table` with their defaults, then `own`.
pub fn on_table<'a, const N: usize>(
    table: [&'a Value<String>; 3],
    own: [KeyPart<'a>; N],
) -> Vec<KeyPart<'a>> {
    let [source, schema, table] = table;
    let mut key = vec![(source, "default"), (schema, "public"), (table, "")];
    key.extend(own);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    table_keyed! {
        #[derive(Clone, Debug, Default, serde::Serialize)]
        struct Probe {
            key { name: "" }
            /// A field after the key.
            comment: Value<String>,
        }
    }

    #[test]
    fn declared_models_hold_their_key() {
        let m = Probe {
            comment: Known("c".into()),
            ..Probe::keyed("default".into(), "my.schema".into(), "t".into(), "n".into())
        };
        assert_eq!(m.id(), r#"default."my.schema".t.n"#);
        assert_eq!(m.clone().with_id().id, Known(m.id()));
        let fields = serde_json::to_value(&m).unwrap();
        let names: Vec<_> = fields.as_object().unwrap().keys().cloned().collect();
        assert_eq!(names.len(), 6);
        for f in ["id", "source", "schema", "table", "name", "comment"] {
            assert!(names.contains(&f.to_string()), "{f}");
        }
    }
}
