//! `hasura_remote_schema.customization`: Hasura's `RemoteSchemaCustomization`
//! (graphql-engine `Hasura/RemoteSchema/Metadata/Customization.hs`) as one
//! nested attribute with flat type-name settings and field renames keyed by
//! parent type, so neither list order nor an unset part ever shows a diff.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::framework::{AttrPath, Attribute, Diagnostics, Known, Nesting, Null, Type, Value};

use super::super::client::remote_schemas::{Customization, FieldRenames, Renames};
use super::super::ident::is_graphql_name;

type Names = Value<BTreeMap<String, Value<String>>>;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Custom {
    root_fields_namespace: Value<String>,
    type_names_prefix: Value<String>,
    type_names_suffix: Value<String>,
    type_names_mapping: Names,
    field_names: Value<BTreeMap<String, Value<FieldNames>>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct FieldNames {
    prefix: Value<String>,
    suffix: Value<String>,
    mapping: Names,
}

fn known_map(m: &Names) -> BTreeMap<String, String> {
    m.known()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.str_or("").to_string()))
        .collect()
}

/// An empty map stays null unless the user wrote `{}`.
fn map_from_api(m: BTreeMap<String, String>, prior: Option<&Names>) -> Names {
    if m.is_empty() && !prior.is_some_and(Value::is_known) {
        Null
    } else {
        Known(m.into_iter().map(|(k, v)| (k, Known(v))).collect())
    }
}

fn renames(prefix: &Value<String>, suffix: &Value<String>, mapping: &Names) -> Option<Renames> {
    let r = Renames {
        prefix: prefix.known().cloned(),
        suffix: suffix.known().cloned(),
        mapping: known_map(mapping),
    };
    (r != Renames::default()).then_some(r)
}

impl Custom {
    /// The API object; `None` when nothing is customised.
    pub fn to_api(&self) -> Option<Customization> {
        let field_names: Vec<FieldRenames> = self
            .field_names
            .known()
            .into_iter()
            .flatten()
            .filter_map(|(parent, f)| {
                let f = f.known()?;
                Some(FieldRenames {
                    parent_type: parent.clone(),
                    renames: renames(&f.prefix, &f.suffix, &f.mapping).unwrap_or_default(),
                })
            })
            .collect();
        let c = Customization {
            root_fields_namespace: self.root_fields_namespace.known().cloned(),
            type_names: renames(
                &self.type_names_prefix,
                &self.type_names_suffix,
                &self.type_names_mapping,
            ),
            field_names: (!field_names.is_empty()).then_some(field_names),
        };
        (c != Customization::default()).then_some(c)
    }

    /// What is remote, in `prior`'s form where it means the same.
    pub fn from_api(c: Option<Customization>, prior: Option<&Custom>) -> Custom {
        let c = c.unwrap_or_default();
        let t = c.type_names.unwrap_or_default();
        let prior_fields = prior.and_then(|p| p.field_names.known());
        let fields: BTreeMap<String, Value<FieldNames>> = c
            .field_names
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                let old = prior_fields
                    .and_then(|m| m.get(&f.parent_type))
                    .and_then(Value::known);
                let r = f.renames;
                let names = FieldNames {
                    prefix: r.prefix.map_or(Null, Known),
                    suffix: r.suffix.map_or(Null, Known),
                    mapping: map_from_api(r.mapping, old.map(|o| &o.mapping)),
                };
                (f.parent_type, Known(names))
            })
            .collect();
        let field_names = if fields.is_empty() && !prior.is_some_and(|p| p.field_names.is_known()) {
            Null
        } else {
            Known(fields)
        };
        Custom {
            root_fields_namespace: c.root_fields_namespace.map_or(Null, Known),
            type_names_prefix: t.prefix.map_or(Null, Known),
            type_names_suffix: t.suffix.map_or(Null, Known),
            type_names_mapping: map_from_api(t.mapping, prior.map(|p| &p.type_names_mapping)),
            field_names,
        }
    }

    /// Every name is a GraphQL name (graphql-engine parses each with
    /// `graphQLFieldNameCodec`), and no field rename targets a reserved `__`
    /// field (`validateRemoteSchemaCustomization`).
    pub fn validate(&self, diags: &mut Diagnostics) {
        let base = AttrPath::attr("customization");
        // (path, how the message names it, the name)
        let mut names: Vec<(AttrPath, String, String)> = Vec::new();
        for (attr, v) in [
            ("root_fields_namespace", &self.root_fields_namespace),
            ("type_names_prefix", &self.type_names_prefix),
            ("type_names_suffix", &self.type_names_suffix),
        ] {
            if let Some(s) = v.as_deref() {
                names.push((
                    base.clone().child(attr),
                    format!("customization.{attr}"),
                    s.to_string(),
                ));
            }
        }
        mapping_names(
            &mut names,
            base.clone().child("type_names_mapping"),
            "customization.type_names_mapping",
            &self.type_names_mapping,
        );
        for (parent, f) in self.field_names.known().into_iter().flatten() {
            let at = base.clone().child("field_names").key(parent);
            let label = format!("customization.field_names[{parent:?}]");
            names.push((at.clone(), label.clone(), parent.clone()));
            let Some(f) = f.known() else { continue };
            for (k, v) in [("prefix", &f.prefix), ("suffix", &f.suffix)] {
                if let Some(s) = v.as_deref() {
                    names.push((at.clone().child(k), format!("{label}.{k}"), s.to_string()));
                }
            }
            mapping_names(
                &mut names,
                at.clone().child("mapping"),
                &format!("{label}.mapping"),
                &f.mapping,
            );
            for k in f.mapping.known().into_iter().flatten().map(|(k, _)| k) {
                if k.starts_with("__") {
                    diags.add_attr_error(
                        at.clone().child("mapping").key(k),
                        "Reserved field name",
                        format!("`{label}.mapping` renames {k:?}, which starts with `__`: Hasura refuses to rename reserved fields (\"attempt to customize reserved field name\")."),
                    );
                }
            }
        }
        for (path, label, n) in names.into_iter().filter(|(_, _, n)| !is_graphql_name(n)) {
            diags.add_attr_error(
                path,
                "Invalid GraphQL name",
                format!("`{label}` has {n:?}, which is not a GraphQL name: use letters, digits and `_`, not starting with a digit."),
            );
        }
    }
}

/// Both sides of every rename in `m`, at the rename's path.
fn mapping_names(
    out: &mut Vec<(AttrPath, String, String)>,
    path: AttrPath,
    label: &str,
    m: &Names,
) {
    for (k, v) in m.known().into_iter().flatten() {
        let label = format!("{label}[{k:?}]");
        out.push((path.clone().key(k), label.clone(), k.clone()));
        if let Some(v) = v.as_deref() {
            out.push((path.clone().key(k), label, v.to_string()));
        }
    }
}

pub fn attribute() -> Attribute {
    let name_map = |name, what: &str| {
        Attribute::typed(name, Type::map(Type::String))
            .optional()
            .describe(what.to_string())
    };
    Attribute::nested(
        "customization",
        Nesting::Single,
        vec![
            Attribute::string("root_fields_namespace").optional().describe("Put every root field of the remote schema under this one field, e.g. `payments` makes `{ payments { invoices { id } } }`. Avoids clashes with other root fields."),
            Attribute::string("type_names_prefix").optional().describe("Prefix added to every type name of the remote schema (not the built-in scalars), e.g. `Pay_`."),
            Attribute::string("type_names_suffix").optional().describe("Suffix added to every type name of the remote schema (not the built-in scalars)."),
            name_map("type_names_mapping", "Type renames, remote name -> name in Hasura, e.g. `{ User = \"PaymentUser\" }`; they take precedence over the prefix and suffix."),
            Attribute::nested(
                "field_names",
                Nesting::Map,
                vec![
                    Attribute::string("prefix").optional().describe("Prefix added to every field name of the type."),
                    Attribute::string("suffix").optional().describe("Suffix added to every field name of the type."),
                    name_map("mapping", "Field renames, remote name -> name in Hasura; they take precedence over the prefix and suffix. Reserved `__` fields cannot be renamed."),
                ],
            )
            .optional()
            .describe("Field renames, keyed by the remote type (as named by the remote server) whose fields they rename, e.g. `{ Query = { prefix = \"pay_\" } }`."),
        ],
    )
    .default_model(&Custom::default())
    .describe("How the remote schema's types and fields are named in Hasura's GraphQL schema (Hasura's `customization`). Unset: names as the remote server has them. Every name must be a GraphQL name.")
}
