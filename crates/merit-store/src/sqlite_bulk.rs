//! SQLite's bulk work through its C interface (`libsqlite3-sys`, which
//! sqlx links), on a connection sqlx holds:
//! - an import's bulk insert: each row bound straight into one prepared
//!   single-row INSERT, on the connection that holds the import's
//!   transaction. Through sqlx every bound value became a fresh
//!   `Arc<String>` and crossed to sqlx's worker thread; that, not SQLite,
//!   bounded the import rate (docs/benchmarks.md);
//! - reading packed days: each blob read where SQLite puts it, where sqlx
//!   copies it twice (into its row, then out of it) on two threads.
//!
//! This file holds the workspace's only `unsafe`: a statement on sqlx's
//! connection handle, held for the length of one call (checked by `xtask
//! tidy`).

use crate::rows::ValueRef;
use crate::{StoreError, StoreResult};
use libsqlite3_sys as ffi;
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::ffi::{CStr, c_int};

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
    let mut sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        vec!["?"; columns.len()].join(", ")
    );
    if let Some(key) = skip_stored {
        sql.push_str(&format!(" ON CONFLICT ({key}) DO NOTHING"));
    }
    let mut handle = tx.lock_handle().await?;
    // `handle` locks sqlx's connection for as long as it lives, so nothing
    // else uses the raw handle meanwhile; the statement is finalized (when
    // `insert` is dropped) before the lock is let go.
    let insert = Statement::prepare(handle.as_raw_handle().as_ptr(), &sql)?;
    let mut written = Vec::new();
    for row in rows {
        written.push(insert.run(row)?);
    }
    drop(insert);
    drop(handle);
    Ok(written)
}

/// The rows of `sql`, a query of two integer columns and a blob, with
/// `parameters` bound to its `?1`, `?2`, … in turn.
pub(crate) async fn select_two_integers_and_blob<T>(
    pool: &SqlitePool,
    sql: &str,
    parameters: &[i64],
    consume: impl FnOnce(&mut dyn LentRows) -> T,
) -> StoreResult<T> {
    let mut connection = pool.acquire().await?;
    let mut handle = connection.lock_handle().await?;
    // As in `insert_rows`: the statement goes before the lock.
    let mut select = Statement::prepare(handle.as_raw_handle().as_ptr(), sql)?;
    select.bind(parameters.iter().map(|&v| ValueRef::Int(v)))?;
    let consumed = consume(&mut Rows {
        select: &mut select,
        done: false,
    });
    drop(select);
    drop(handle);
    Ok(consumed)
}

/// A row of two integers and a blob, owned.
pub(crate) type TwoIntegersAndBlob = (i64, i64, Vec<u8>);

/// Rows of two integers and a blob read one at a time, each row's blob
/// lent until the next row is asked for: on SQLite it is read where SQLite
/// put it, not copied.
pub(crate) trait LentRows {
    /// The next row (`None` after the last, or after an error).
    fn next_row(&mut self) -> Option<StoreResult<(i64, i64, &[u8])>>;

    /// The rows left, owned.
    fn owned(&mut self) -> StoreResult<Vec<TwoIntegersAndBlob>> {
        let mut rows = Vec::new();
        while let Some(row) = self.next_row() {
            let (a, b, blob) = row?;
            rows.push((a, b, blob.to_vec()));
        }
        Ok(rows)
    }
}

/// Rows already read (from PostgreSQL, or in tests), lent in turn.
pub(crate) struct OwnedRows {
    rows: std::vec::IntoIter<TwoIntegersAndBlob>,
    current: Option<TwoIntegersAndBlob>,
}

impl OwnedRows {
    pub(crate) fn new(rows: Vec<TwoIntegersAndBlob>) -> Self {
        OwnedRows {
            rows: rows.into_iter(),
            current: None,
        }
    }
}

impl LentRows for OwnedRows {
    fn next_row(&mut self) -> Option<StoreResult<(i64, i64, &[u8])>> {
        self.current = self.rows.next();
        let (a, b, blob) = self.current.as_ref()?;
        Some(Ok((*a, *b, blob)))
    }

    /// The rows left, moved out: already owned, they are not copied.
    fn owned(&mut self) -> StoreResult<Vec<TwoIntegersAndBlob>> {
        Ok(self.rows.by_ref().collect())
    }
}

/// The rows of a bound statement, each read as it is asked for.
struct Rows<'s> {
    select: &'s mut Statement,
    done: bool,
}

impl LentRows for Rows<'_> {
    fn next_row(&mut self) -> Option<StoreResult<(i64, i64, &[u8])>> {
        if self.done {
            return None;
        }
        let row = self.select.two_integers_and_blob();
        self.done = !matches!(row, Ok(Some(_)));
        row.transpose()
    }
}

/// A prepared statement on a raw connection handle. An INSERT's text is
/// bound where it lies (`SQLITE_STATIC`), without the copy SQLite makes of
/// text bound otherwise: every bound value outlives the statement (`'v` in
/// `insert_rows`), which is finalized before the values could go.
struct Statement {
    connection: *mut ffi::sqlite3,
    statement: *mut ffi::sqlite3_stmt,
}

impl Statement {
    fn prepare(connection: *mut ffi::sqlite3, sql: &str) -> StoreResult<Statement> {
        let length = c_int::try_from(sql.len()).map_err(|_| failure(ffi::SQLITE_TOOBIG, None))?;
        let mut statement = std::ptr::null_mut();
        // SAFETY: `connection` is an open handle no one else uses while this
        // runs; `sql` is valid for `length` bytes; on success SQLite sets
        // `statement`, finalized by `Drop`.
        #[allow(unsafe_code)]
        let code = unsafe {
            ffi::sqlite3_prepare_v2(
                connection,
                sql.as_ptr().cast(),
                length,
                &mut statement,
                std::ptr::null_mut(),
            )
        };
        let prepared = Statement {
            connection,
            statement,
        };
        prepared.check(code)?;
        Ok(prepared)
    }

    /// The next row, two integers and a blob (`None` after the last); the
    /// blob is SQLite's, lent until the statement is next used (which
    /// takes `&mut self`, so the loan has ended by then).
    fn two_integers_and_blob(&mut self) -> StoreResult<Option<(i64, i64, &[u8])>> {
        let s = self.statement;
        // SAFETY: `s` is a live statement of this connection. A row's blob
        // pointer is valid for `sqlite3_column_bytes` bytes until the
        // statement is next stepped, reset or finalized, none of which can
        // happen while the slice borrows `self`; a zero-length blob may be
        // null.
        #[allow(unsafe_code)]
        unsafe {
            match ffi::sqlite3_step(s) {
                ffi::SQLITE_ROW => {
                    let blob = ffi::sqlite3_column_blob(s, 2).cast::<u8>();
                    let length = usize::try_from(ffi::sqlite3_column_bytes(s, 2)).unwrap_or(0);
                    let bytes: &[u8] = match blob.is_null() {
                        true => &[],
                        false => std::slice::from_raw_parts(blob, length),
                    };
                    Ok(Some((
                        ffi::sqlite3_column_int64(s, 0),
                        ffi::sqlite3_column_int64(s, 1),
                        bytes,
                    )))
                }
                ffi::SQLITE_DONE => Ok(None),
                code => self.check(code).and(Err(failure(ffi::SQLITE_MISUSE, None))),
            }
        }
    }

    /// Binds `values` to the statement's parameters, in turn.
    fn bind<'v>(&self, values: impl IntoIterator<Item = ValueRef<'v>>) -> StoreResult<()> {
        for (i, value) in values.into_iter().enumerate() {
            let at = c_int::try_from(i + 1).map_err(|_| failure(ffi::SQLITE_RANGE, None))?;
            let s = self.statement;
            // SAFETY: `s` is a live statement of this connection; text is
            // valid UTF-8 that outlives the statement (see `Statement`).
            #[allow(unsafe_code)]
            let code = unsafe {
                match value {
                    ValueRef::Null => ffi::sqlite3_bind_null(s, at),
                    ValueRef::Int(v) => ffi::sqlite3_bind_int64(s, at, v),
                    ValueRef::Bool(v) => ffi::sqlite3_bind_int64(s, at, i64::from(v)),
                    ValueRef::Text(v) => ffi::sqlite3_bind_text64(
                        s,
                        at,
                        v.as_ptr().cast(),
                        v.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                }
            };
            self.check(code)?;
        }
        Ok(())
    }

    /// Binds one row's values and runs the statement; says whether it wrote
    /// the row (an `ON CONFLICT DO NOTHING` may leave it out).
    fn run<'v>(&self, row: impl IntoIterator<Item = ValueRef<'v>>) -> StoreResult<bool> {
        self.bind(row)?;
        // SAFETY: as above; the statement is reset after each run, so the
        // next binds find it ready.
        #[allow(unsafe_code)]
        let (code, changes) = unsafe {
            let code = ffi::sqlite3_step(self.statement);
            let changes = ffi::sqlite3_changes64(self.connection);
            ffi::sqlite3_reset(self.statement);
            (code, changes)
        };
        match code {
            ffi::SQLITE_DONE => Ok(changes == 1),
            code => self.check(code).and(Err(failure(ffi::SQLITE_MISUSE, None))),
        }
    }

    /// `Ok` for SQLITE_OK, else the error with SQLite's message.
    fn check(&self, code: c_int) -> StoreResult<()> {
        if code == ffi::SQLITE_OK {
            return Ok(());
        }
        // SAFETY: the connection is open; SQLite's message is a C string
        // valid until the next call on the connection, copied at once.
        #[allow(unsafe_code)]
        let message = unsafe {
            let text = ffi::sqlite3_errmsg(self.connection);
            (!text.is_null()).then(|| CStr::from_ptr(text).to_string_lossy().into_owned())
        };
        Err(failure(code, message))
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on this connection and is
        // finalized once (finalizing a null statement does nothing).
        #[allow(unsafe_code)]
        unsafe {
            ffi::sqlite3_finalize(self.statement);
        }
    }
}

fn failure(code: c_int, message: Option<String>) -> StoreError {
    StoreError::Sqlite {
        code,
        message: message.unwrap_or_else(|| code_name(code)),
    }
}

/// SQLite's English name for a result code.
fn code_name(code: c_int) -> String {
    // SAFETY: `sqlite3_errstr` returns a static C string for any code.
    #[allow(unsafe_code)]
    unsafe {
        CStr::from_ptr(ffi::sqlite3_errstr(code))
            .to_string_lossy()
            .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in memory on one connection, holding the table `create` makes.
    async fn pool_with(create: &str) -> SqlitePool {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    async fn table() -> Transaction<'static, Sqlite> {
        let create = "CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT NOT NULL, note TEXT)";
        pool_with(create).await.begin().await.unwrap()
    }

    #[test]
    fn owned_rows_are_lent_in_turn_and_the_rest_moved_out() {
        let mut rows = OwnedRows::new(vec![(1, 10, vec![1]), (2, 20, vec![2]), (3, 30, vec![3])]);
        let first = rows
            .next_row()
            .map(|row| row.map(|(a, b, blob)| (a, b, blob.to_vec())));
        assert_eq!(first.transpose().unwrap(), Some((1, 10, vec![1])));
        assert_eq!(rows.owned().unwrap(), [(2, 20, vec![2]), (3, 30, vec![3])]);
        assert!(rows.next_row().is_none());
    }

    #[tokio::test]
    async fn rows_are_written_as_bound_and_a_stored_key_is_left_out() {
        let mut tx = table().await;
        let rows = [
            [ValueRef::Text("a"), ValueRef::Int(1), ValueRef::Null],
            [
                ValueRef::Text("b"),
                ValueRef::Bool(true),
                ValueRef::Text("é ü"),
            ],
            [ValueRef::Text("a"), ValueRef::Int(3), ValueRef::Null],
        ];
        let written = insert_rows(&mut tx, "t", &["id", "n", "note"], rows, Some("id"))
            .await
            .unwrap();
        assert_eq!(written, [true, true, false]);
        let stored: Vec<(String, i64, Option<String>)> =
            sqlx::query_as("SELECT id, n, note FROM t ORDER BY id")
                .fetch_all(&mut *tx)
                .await
                .unwrap();
        assert_eq!(
            stored,
            [
                ("a".to_owned(), 1, None),
                ("b".to_owned(), 1, Some("é ü".to_owned()))
            ]
        );
    }

    #[tokio::test]
    async fn a_refused_row_fails_with_sqlites_message_and_the_connection_goes_on() {
        let mut tx = table().await;
        let rows = [[ValueRef::Text("a"), ValueRef::Null]];
        let error = insert_rows(&mut tx, "t", &["id", "n"], rows, None)
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("NOT NULL constraint failed: t.n"),
            "{error}"
        );
        let error = insert_rows(
            &mut tx,
            "t",
            &["id", "missing"],
            [[ValueRef::Int(1); 2]],
            None,
        )
        .await
        .unwrap_err();
        assert!(
            error.to_string().contains("no column named missing"),
            "{error}"
        );
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(n, 0);
        tx.rollback().await.unwrap();
    }

    #[tokio::test]
    async fn blobs_are_read_whole_and_in_order_with_the_parameters_bound() {
        let pool = pool_with("CREATE TABLE d (k BIGINT, day BIGINT, n BIGINT, b BLOB)").await;
        // A blob larger than a page (read from overflow pages), an empty one
        // and a NULL (both read as no bytes), and a row the parameters leave out.
        let large: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for (k, day, n, b) in [
            (1, 3, 30, Some(large.clone())),
            (1, 1, 10, Some(vec![])),
            (1, 2, 20, None),
            (2, 1, 99, Some(vec![7])),
        ] {
            sqlx::query("INSERT INTO d VALUES ($1, $2, $3, $4)")
                .bind(k)
                .bind(day)
                .bind(n)
                .bind(b)
                .execute(&pool)
                .await
                .unwrap();
        }
        let sql = "SELECT day, n, b FROM d WHERE k = ?1 AND day >= ?2 ORDER BY day";
        let all = |rows: &mut dyn LentRows| rows.owned();
        let rows = select_two_integers_and_blob(&pool, sql, &[1, 1], all)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows, [(1, 10, vec![]), (2, 20, vec![]), (3, 30, large)]);
        // Rows are read as they are asked for: the first alone.
        let first = select_two_integers_and_blob(&pool, sql, &[1, 1], |rows| {
            rows.next_row().map(|row| row.map(|(day, _, _)| day))
        })
        .await
        .unwrap();
        assert_eq!(first.transpose().unwrap(), Some(1));
        let error = select_two_integers_and_blob(&pool, "SELECT missing FROM d", &[], all)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("no such column: missing"),
            "{error}"
        );
    }
}
