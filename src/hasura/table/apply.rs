//! The writes of a `hasura_table` apply, each settled under faults: CREATE
//! (and tracking it, or undoing it), ALTER and DROP, every one a single
//! transaction whose outcome a fresh catalog read tells after a lost answer.
use tokio_util::sync::CancellationToken;

use crate::framework::{ApplyError, Diagnostics, IntoDiags};
use crate::settle::{settle, ReadBack, Settle, Unsettled};

use super::super::client::sql::SqlOptions;
use super::super::client::{Engine, HasuraError};
use super::super::ident::qualified;
use super::ddl::create_sql;
use super::readback::{catalog, catalog_matches, has_planned_shape};
use super::tracking::{is_tracked, set_tracked, table_write, tracked_in_export, TableRef};
use super::Model;

/// Creates `m`'s table (qualified name `q`) in one transaction.
pub(super) async fn create_table(
    engine: &Engine,
    cancel: &CancellationToken,
    q: &str,
    m: &Model,
) -> Result<(), Diagnostics> {
    let sql = create_sql(q, m)?;
    let t = m.table();
    let import_id = t.id();
    let opts = SqlOptions {
        read_only: false,
        check_metadata_consistency: Some(false),
    };
    let how = Settle {
        landed: Some("CREATE TABLE failed ambiguously but the table exists as planned; continuing"),
        ..table_write(
            q,
            "CREATE TABLE failed ambiguously and did not land; sending it again",
        )
    };
    let created = settle(
        cancel,
        &how,
        || async { engine.run_sql(cancel, t.source, &sql, opts).await.map(drop) },
        // The transaction may have committed with its answer lost. The
        // catalog tells: our table (exact planned shape) means it landed;
        // no table means it did not, so sending it again is safe.
        |_| async {
            Ok(match catalog(engine, cancel, t).await? {
                Some(cat) if has_planned_shape(m, &cat) => ReadBack::Landed(()),
                None => ReadBack::Absent,
                Some(_) => ReadBack::Other,
            })
        },
    )
    .await;
    let detail = match created {
        Ok(()) => return Ok(()),
        Err(Unsettled::Failed(e)) => {
            let e = e.to_string();
            let hint = if e.contains("already exists") {
                format!(" If the table already exists, import it: terraform import <address> {import_id}")
            } else {
                String::new()
            };
            format!("{e}{hint}")
        }
        Err(Unsettled::Other(e)) => format!("{e} Table {q} now exists but not with the planned columns, primary key and comment (was it created concurrently outside this apply?); it was left alone. Inspect it, then drop it or import it: terraform import <address> {import_id}"),
        Err(Unsettled::ReadBackFailed { write, read_back }) => format!("{write} Checking whether the table was created anyway also failed ({read_back}); if {q} exists, import it (terraform import <address> {import_id}) or drop it before retrying."),
    };
    Err(Diagnostics::error("Failed to create table", detail))
}

/// Tracks the table `create_table` just made. If that fails, the table is
/// dropped again where that is safe; where it is not, the error carries the
/// table as state, so Terraform keeps it (tainted) and replaces it next time.
pub(super) async fn track_new_table(
    engine: &Engine,
    cancel: &CancellationToken,
    m: &Model,
) -> Result<(), ApplyError<Model>> {
    let t = m.table();
    let Err(e) = set_tracked(engine, cancel, t, true).await else {
        return Ok(());
    };
    // Compensate only when Hasura certainly does not track the table:
    // dropping a tracked table would leave metadata pointing at nothing.
    let (what, left_in_place) = match is_tracked(engine, cancel, t).await {
        // Tracking landed after all (its answer was lost): done.
        Ok(true) => return Ok(()),
        Ok(false) => (
            // Nothing half-applied: the table was created by this call and is empty.
            match drop_checked(engine, cancel, t, false).await {
                Ok(()) => "The table was dropped again, so nothing was left half-applied.".to_string(),
                Err(u) => format!("Dropping the new table again also failed ({u}); drop it by hand before retrying."),
            },
            false,
        ),
        Err(re) => (
            format!("Whether Hasura tracks it could not be read back ({re}), so the table was left in place; it is kept in the state, tainted, so the next apply replaces it."),
            true,
        ),
    };
    Err(ApplyError {
        state: left_in_place.then(|| m.clone().with_id()),
        diags: Diagnostics::error(
            "Failed to track the new table in Hasura",
            format!("{e} {what}"),
        ),
    })
}

/// Runs `stmts`, which turn `old`'s table into `new`, in one transaction.
pub(super) async fn alter_table(
    engine: &Engine,
    cancel: &CancellationToken,
    old: &Model,
    new: &Model,
    stmts: &[String],
) -> Result<(), Diagnostics> {
    let t = new.table();
    let tracked = tracked_in_export(engine, cancel, t)
        .await
        .map_err(|e| e.into_diags("Failed to read Hasura metadata"))?;
    let sql = format!("{}\n", stmts.join(";\n")) + ";";
    let opts = SqlOptions {
        read_only: false,
        check_metadata_consistency: Some(tracked),
    };
    // The statements run in one transaction: after an ambiguous failure
    // the table is either all old or all new, which a fresh read tells.
    settle(
        cancel,
        &table_write(t.name, "ALTER TABLE failed ambiguously and did not land; sending it again"),
        || async { engine.run_sql(cancel, t.source, &sql, opts).await.map(drop) },
        |_| async {
            Ok(match catalog(engine, cancel, t).await? {
                Some(f) if catalog_matches(&f, new) => ReadBack::Landed(()),
                Some(f) if catalog_matches(&f, old) => ReadBack::Absent,
                _ => ReadBack::Other,
            })
        },
    )
    .await
    .map_err(|u| {
        let detail = match u {
            Unsettled::Failed(e) => {
                let hint = if e.code_is("dependency-error") { " Remove the column from the Hasura permissions that use it first (or in the same apply, which Terraform orders before this change when the permission references this table)." } else { "" };
                format!("{e}{hint} No change was applied (the statements run in one transaction).")
            }
            Unsettled::Other(e) => format!("{e} The table now matches neither its old nor its planned definition (changed by someone else meanwhile?); run terraform plan to see what it holds."),
            u => u.into_error("reading the table back to see whether the change landed").to_string(),
        };
        Diagnostics::error("Failed to alter table", detail)
    })
}

/// `DROP TABLE IF EXISTS`, settled under faults: dropping is idempotent, so
/// after an ambiguous failure a table that is gone counts as done; else re-send.
pub(super) async fn drop_checked(
    engine: &Engine,
    cancel: &CancellationToken,
    t: TableRef<'_>,
    check_metadata_consistency: bool,
) -> Result<(), HasuraError> {
    let q = qualified(t.schema, t.name).map_err(|e| HasuraError::other(e.to_string()))?;
    let sql = format!("DROP TABLE IF EXISTS {q};");
    let opts = SqlOptions {
        read_only: false,
        check_metadata_consistency: Some(check_metadata_consistency),
    };
    settle(
        cancel,
        &table_write(
            &q,
            "DROP TABLE failed ambiguously and did not land; sending it again",
        ),
        || async { engine.run_sql(cancel, t.source, &sql, opts).await.map(drop) },
        |_| async {
            Ok(match catalog(engine, cancel, t).await? {
                None => ReadBack::Landed(()),
                Some(_) => ReadBack::Absent,
            })
        },
    )
    .await
    .map_err(|u| u.into_error("checking whether the table is gone"))
}
