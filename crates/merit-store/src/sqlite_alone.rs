//! A batch run alone with a SQLite file (`ImportTx::begin_alone`): the
//! file leaves WAL for a rollback journal while the batch writes, so that
//! each page is written once, into the file, instead of into the WAL and
//! again into the file at the checkpoint that follows the commit (a large
//! import's commit took about a second more). Leaving WAL needs every other
//! connection closed: with one open (a server on the same file) the switch
//! fails at once and the batch writes through WAL as usual.

use crate::{SQLITE_BUSY_TIMEOUT_MS, SQLITE_MMAP_SIZE_BYTES, StoreResult};
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{AssertSqlSafe, SqlSafeStr, Sqlite, Transaction};
use std::time::Duration;

/// SQLite's result code for a lock held by another connection.
const SQLITE_BUSY: &str = "5";

/// Opens the batch's write transaction, on a connection that has taken the
/// file when it could; says whether it did.
pub(crate) async fn begin(pool: &SqlitePool) -> StoreResult<(Transaction<'static, Sqlite>, bool)> {
    let mut connection = pool.acquire().await?;
    // This process's other connections would keep the file in WAL too:
    // close them as they come back to the pool (the pool opens new ones
    // when it next needs them). One held for longer is left alone, and
    // then the file is not taken.
    while pool.size() > 1 {
        match tokio::time::timeout(Duration::from_secs(1), pool.acquire()).await {
            Ok(other) => other?.close().await?,
            Err(_) => break,
        }
    }
    let taken = take_file(&mut connection).await?;
    // sqlx's own way to begin a transaction on a connection it hands out
    // (what `Pool::begin_with` does), here the one that took the file.
    let tx = Transaction::begin(connection, Some("BEGIN IMMEDIATE".into_sql_str())).await?;
    Ok((tx, taken))
}

/// Switches the file from WAL to a rollback journal when `connection` is
/// the only one that has it open, and says whether it did.
async fn take_file(connection: &mut SqliteConnection) -> StoreResult<bool> {
    sqlx::query("PRAGMA busy_timeout = 0")
        .execute(&mut *connection)
        .await?;
    // From WAL, as this connection sees it: a connection an earlier batch
    // left in rollback mode would report the switch done without making it.
    let mode: Result<String, sqlx::Error> = async {
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&mut *connection)
            .await?;
        sqlx::query_scalar("PRAGMA journal_mode = DELETE")
            .fetch_one(&mut *connection)
            .await
    }
    .await;
    let restore = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
    sqlx::query(AssertSqlSafe(restore))
        .execute(&mut *connection)
        .await?;
    let taken = match mode {
        Ok(mode) => mode == "delete",
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(SQLITE_BUSY) => false,
        Err(e) => return Err(e.into()),
    };
    if taken {
        // Pages written to the file are no longer in the WAL: read through
        // the map they would count towards the import's memory, which must
        // stay bounded whatever the file's size.
        sqlx::query("PRAGMA mmap_size = 0")
            .execute(&mut *connection)
            .await?;
    }
    Ok(taken)
}

/// Gives back a file the batch took, once it has committed: WAL again, so
/// that readers and writers share it as usual, and every connection maps
/// it. The connection that took it comes back to the pool, unmapped, as
/// its transaction ends (a reader given it, such as the report cache's
/// update, would read every page with a call): each connection of the
/// pool is held in turn, that one with them. (A batch that failed leaves
/// this to the next `Store::open`, which sets WAL on every connection.)
pub(crate) async fn give_back(pool: &SqlitePool) -> StoreResult<()> {
    let mut connections = vec![pool.acquire().await?];
    while connections.len() < pool.size() as usize {
        match tokio::time::timeout(Duration::from_secs(1), pool.acquire()).await {
            Ok(connection) => connections.push(connection?),
            Err(_) => break,
        }
    }
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut *connections[0])
        .await?;
    let mmap = format!("PRAGMA mmap_size = {SQLITE_MMAP_SIZE_BYTES}");
    for connection in &mut connections {
        sqlx::query(AssertSqlSafe(mmap.as_str()))
            .execute(&mut **connection)
            .await?;
    }
    // Back in the pool before this ends: dropped, each would go back on a
    // task of its own, later, and the next query (the report cache's
    // update) would open a connection (about a millisecond, the schema
    // read again). `return_to_pool` is what sqlx's drop runs, run here; sqlx
    // keeps it out of its documentation, so an upgrade may rename it (the
    // drop alone is correct, only slower).
    for mut connection in connections {
        connection.return_to_pool().await;
    }
    Ok(())
}
