//! The SQLite arm of an import's bulk insert: each row bound straight into
//! one prepared single-row INSERT through rusqlite, on the connection that
//! holds the import's transaction. Through sqlx every bound value became a
//! fresh `Arc<String>` and crossed to sqlx's worker thread; that, not
//! SQLite, bounded the import rate (docs/benchmarks.md). This file holds the
//! workspace's only `unsafe`: adopting sqlx's connection handle for the
//! length of one call (checked by `xtask tidy`).

use crate::StoreResult;
use crate::rows::ValueRef;
use sqlx::{Sqlite, Transaction};

/// Inserts `rows` (each yielding its values in `columns` order) into
/// `table`, inside the open transaction `tx`, and says which were written:
/// with `skip_stored` (a unique key's columns), a row whose key is already
/// stored is left out instead of failing the import.
pub(crate) async fn insert_rows<'v, R, V>(
    tx: &mut Transaction<'static, Sqlite>,
    table: &str,
    columns: &[&str],
    rows: R,
    skip_stored: Option<&str>,
) -> StoreResult<Vec<bool>>
where
    R: IntoIterator<Item = V>,
    V: IntoIterator<Item = ValueRef<'v>>,
{
    let mut handle = tx.lock_handle().await?;
    let raw = handle.as_raw_handle();
    // SAFETY: `handle` locks sqlx's connection for as long as it lives, so
    // nothing else uses the raw handle while `connection` does; a
    // `Connection` made by `from_handle` never closes the handle, and it
    // (with its statement, finalized on drop) is dropped before `handle`.
    #[allow(unsafe_code)]
    let connection = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }?;
    let written = insert_on(&connection, table, columns, rows, skip_stored);
    drop(connection);
    drop(handle);
    Ok(written?)
}

fn insert_on<'v, R, V>(
    connection: &rusqlite::Connection,
    table: &str,
    columns: &[&str],
    rows: R,
    skip_stored: Option<&str>,
) -> rusqlite::Result<Vec<bool>>
where
    R: IntoIterator<Item = V>,
    V: IntoIterator<Item = ValueRef<'v>>,
{
    let mut sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        vec!["?"; columns.len()].join(", ")
    );
    if let Some(key) = skip_stored {
        sql.push_str(&format!(" ON CONFLICT ({key}) DO NOTHING"));
    }
    let mut statement = connection.prepare(&sql)?;
    let mut written = Vec::new();
    for row in rows {
        for (i, value) in row.into_iter().enumerate() {
            let at = i + 1;
            match value {
                ValueRef::Null => statement.raw_bind_parameter(at, rusqlite::types::Null)?,
                ValueRef::Int(v) => statement.raw_bind_parameter(at, v)?,
                ValueRef::Text(v) => statement.raw_bind_parameter(at, v)?,
                ValueRef::Bool(v) => statement.raw_bind_parameter(at, v)?,
            }
        }
        written.push(statement.raw_execute()? == 1);
    }
    Ok(written)
}
