//! A tracked table's GraphQL customisation as the metadata API takes and
//! exports it (`pg_track_table`, `pg_set_table_customization`, the table
//! entries of `export_metadata`).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `configuration` of `pg_track_table` and `pg_set_table_customization`,
/// and of a table's metadata export entry. Empty maps are left out.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Configuration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_root_fields: BTreeMap<String, RootField>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub column_config: BTreeMap<String, ColumnCustomisation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A custom root field: sent as its name; exported as the name or as
/// `{name, comment}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RootField {
    Name(String),
    Customised { name: Option<String> },
}

impl RootField {
    pub fn name(self) -> Option<String> {
        match self {
            RootField::Name(n) => Some(n),
            RootField::Customised { name } => name,
        }
    }
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnCustomisation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A table's entry in the metadata export; only its configuration matters here.
#[derive(Deserialize)]
pub struct ExportEntry {
    #[serde(default)]
    pub configuration: Option<Configuration>,
}
