//! Whether Hasura tracks a table: the metadata commands that change it, and
//! settling them under faults. Shared by `hasura_table` and
//! `hasura_tracked_table`.
use serde_json::{json, Value as J};
use tokio_util::sync::CancellationToken;

use crate::framework::{AttrPath, Attribute, Diagnostics, Value};
use crate::settle::{settle, ReadBack, Settle, Unsettled};

use super::super::client::metadata::is_already_gone;
use super::super::client::{Engine, HasuraError};
use super::super::ident::{check_name, format_id};

/// What a metadata read-back is called in an error when it fails too.
pub const READING_METADATA: &str = "reading the metadata back to see whether it landed";

/// The model of a resource that is a table (`hasura_table`,
/// `hasura_tracked_table`): declares the struct given (see
/// [`declare_model`](super::keyed::declare_model)) with `id`,
/// `source`, `schema` and `name` first, and its `table()`, the table they
/// name, `with_id()`, the model with its id set from it, and `imported(id)`,
/// the import stub.
macro_rules! table_model {
    ($(#[$attr:meta])* $vis:vis struct $model:ident { $($fields:tt)* }) => {
        $crate::hasura::table::keyed::declare_model! {
            [id, source, schema, name]
            $(#[$attr])* $vis struct $model { $($fields)* }
        }

        impl $model {
            fn table(&self) -> $crate::hasura::table::tracking::TableRef<'_> {
                $crate::hasura::table::tracking::table_ref(&self.source, &self.schema, &self.name)
            }

            fn with_id(self) -> Self {
                $model {
                    id: $crate::framework::Known(self.table().id()),
                    ..self
                }
            }

            /// The import stub for `id` (`<source>.<schema>.<table>`).
            fn imported(id: &str) -> Result<Self, $crate::framework::Diagnostics> {
                use $crate::framework::Known;
                let (source, schema, name) = $crate::hasura::table::parse_table_id(id)?;
                let m = $model {
                    source: Known(source),
                    schema: Known(schema),
                    name: Known(name),
                    ..Default::default()
                };
                Ok(m.with_id())
            }
        }
    };
}
pub(crate) use table_model;

pub use super::super::client::TableRef;

/// The table a model's attributes name, with their schema defaults.
pub fn table_ref<'a>(
    source: &'a Value<String>,
    schema: &'a Value<String>,
    name: &'a Value<String>,
) -> TableRef<'a> {
    TableRef::new(
        source.str_or("default"),
        schema.str_or("public"),
        name.str_or(""),
    )
}

/// The planned id: known once source, schema and name are.
pub fn planned_id(
    source: &Value<String>,
    schema: &Value<String>,
    name: &Value<String>,
) -> Value<String> {
    match (source, schema, name) {
        (Value::Known(a), Value::Known(b), Value::Known(c)) => Value::Known(format_id(&[a, b, c])),
        _ => Value::Unknown,
    }
}

/// The `id` attribute both resources share.
pub fn id_attribute() -> Attribute {
    super::on_table::import_id_attribute("<source>.<schema>.<table>")
}

/// The naming rules for `source`, `schema` and `name`, checked where known.
pub fn validate_names(
    source: &Value<String>,
    schema: &Value<String>,
    name: &Value<String>,
    diags: &mut Diagnostics,
) {
    for (attr, v) in [("source", source), ("schema", schema), ("name", name)] {
        if let Some(Err(e)) = v.as_deref().map(check_name) {
            diags.add_attr_error(
                AttrPath::attr(attr),
                "Invalid name",
                format!("`{attr}` {e}."),
            );
        }
    }
}

/// How many times a write that failed ambiguously (see `may_have_landed`)
/// and did not land is sent again.
const AMBIGUOUS_RETRIES: u32 = 4;

/// How this resource's writes are settled; `resending` is logged before each re-send.
pub fn table_write<'a>(table: &'a str, resending: &'a str) -> Settle<'a> {
    Settle {
        resending,
        landed: None,
        table: Some(table),
        resends: AMBIGUOUS_RETRIES,
        backoff: true,
    }
}

/// Whether Hasura tracks the table, from the process's export (one for
/// every resource refreshed).
pub async fn tracked_in_export(
    engine: &Engine,
    cancel: &CancellationToken,
    t: TableRef<'_>,
) -> Result<bool, HasuraError> {
    Ok(engine
        .export(cancel)
        .await?
        .table(t.source, t.schema, t.name)
        .is_some())
}

/// Whether Hasura tracks the table, from a fresh export (never the cache: the
/// question is what a write whose answer was lost did).
pub async fn is_tracked(
    engine: &Engine,
    cancel: &CancellationToken,
    t: TableRef<'_>,
) -> Result<bool, HasuraError> {
    engine.invalidate().await;
    tracked_in_export(engine, cancel, t).await
}

/// A metadata command that tracks or untracks a table.
pub struct TrackingWrite {
    pub command: &'static str,
    pub args: J,
    /// Whether the table is tracked once the command has landed: what the
    /// read-back after an ambiguous failure looks for.
    pub tracked: bool,
    /// Whether an error of the command says its effect is there already.
    pub done_already: fn(&HasuraError) -> bool,
}

impl TrackingWrite {
    pub fn track(t: TableRef<'_>) -> Self {
        TrackingWrite {
            command: "pg_track_table",
            args: t.args(),
            tracked: true,
            done_already: |e| e.code_is("already-tracked"),
        }
    }

    pub fn untrack(t: TableRef<'_>) -> Self {
        let mut args = t.args();
        args["cascade"] = json!(false);
        TrackingWrite {
            command: "pg_untrack_table",
            args,
            tracked: false,
            done_already: is_already_gone,
        }
    }
}

/// Sends `w`, settled under faults: after an ambiguous failure the metadata
/// is re-read; the expected tracking means it landed, the other means re-send
/// (bounded). Untracking is idempotent, so a table no longer tracked counts
/// as done.
pub async fn settle_tracking(
    engine: &Engine,
    cancel: &CancellationToken,
    t: TableRef<'_>,
    w: &TrackingWrite,
) -> Result<(), Unsettled<HasuraError>> {
    let resending = format!(
        "{} failed ambiguously and did not land; sending it again",
        w.command
    );
    settle(
        cancel,
        &table_write(t.name, &resending),
        || async {
            match engine
                .command(cancel, w.command, w.args.clone(), None)
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if (w.done_already)(&e) => Ok(()),
                Err(e) => Err(e),
            }
        },
        |_| async {
            Ok(if is_tracked(engine, cancel, t).await? == w.tracked {
                ReadBack::Landed(())
            } else {
                ReadBack::Absent
            })
        },
    )
    .await
}

/// Tracks (`true`) or untracks the table, settled; one error for the user.
pub async fn set_tracked(
    engine: &Engine,
    cancel: &CancellationToken,
    t: TableRef<'_>,
    tracked: bool,
) -> Result<(), HasuraError> {
    let w = if tracked {
        TrackingWrite::track(t)
    } else {
        TrackingWrite::untrack(t)
    };
    settle_tracking(engine, cancel, t, &w)
        .await
        .map_err(|u| u.into_error(READING_METADATA))
}
