//! Persistence for Merit: one `Store` over SQLite (the embedded default) or
//! PostgreSQL (production), with one migrations folder per dialect holding
//! the same file names. SQL uses `$N` placeholders, which both accept.

mod access;
pub use access::{TokenRecord, UserRecord};
mod batch;
mod contacts;
mod imports;
pub use contacts::{ContactSurveyAnswer, StoredContact};
pub use imports::{SavedMapping, StoredProblem};
pub use notifications::{NewNotification, NotificationRecord};
mod metrics;
mod notifications;
pub use metrics::{AnswerDays, StaleCachedDay, SurveyAnswers};
mod organisation;
mod overview;
mod packed_days;
mod pay;
pub use pay::{
    PayAdjustmentRecord, PayDisputeRecord, PayPlanRecord, PayPlanVersionRecord, PayRunRecord,
    PayStatementRecord, RunSaved,
};
mod quality;
pub use quality::{
    CalibrationSessionRecord, DisputeRecord, EvaluationFilter, EvaluationRecord, EvaluationSummary,
    EvaluationVersionRecord, FormRecord, FormVersionRecord, QuotaRecord, WorkItemRecord,
};
mod rows;
mod sqlite_alone;
mod sqlite_bulk;

pub use batch::{
    AddedContact, ChunkOutcome, FinishedImport, ImportBatchRecord, ImportTx, RecordKind,
};
pub use overview::HourlyCount;
pub use rows::{Row, Value};

use merit_domain::TenantId;
use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A failure SQLite reported to a call made through its C interface
    /// (`sqlite_bulk`): its result code and message.
    #[error("database: {message} (SQLite result code {code})")]
    Sqlite { code: i32, message: String },
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
    #[error("could not number a new {0} row: other writers kept taking the next number")]
    Busy(&'static str),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How long a SQLite connection waits for another's lock before failing.
pub(crate) const SQLITE_BUSY_TIMEOUT_MS: u64 = 10_000;
/// How much of a SQLite file a connection reads through a memory map.
pub(crate) const SQLITE_MMAP_SIZE_BYTES: u64 = 2_147_418_112;
/// The page size a new SQLite file is created with (an existing file keeps
/// its own): 16 KiB pages take a bulk import in about a tenth less time
/// than SQLite's default 4 KiB (fewer pages to split, link and write), and
/// a packed day spans fewer overflow pages.
const SQLITE_PAGE_SIZE_BYTES: u32 = 16_384;

/// Runs the same code on whichever backend a `Store` holds: sqlx has no
/// driver for both, so each arm is compiled once per backend.
macro_rules! on_store {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite($pool) => $body,
            $crate::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_store;

/// The same, for an import's open transaction.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::batch::Tx::Sqlite($conn) => $body,
            $crate::batch::Tx::Postgres($conn) => $body,
        }
    };
}
pub(crate) use on_tx;

/// Appends one audit entry through any executor of either backend.
macro_rules! insert_audit {
    ($tenant:expr, $entry:expr, $executor:expr) => {{
        // The next number can be taken by a transaction still open (an
        // import writing its own entries): the insert then waits for it,
        // does nothing, and is tried again with the number after it.
        let mut inserted = Ok(false);
        for _ in 0..$crate::AUDIT_INSERT_ATTEMPTS {
            inserted = sqlx::query($crate::INSERT_AUDIT)
                .bind($tenant)
                .bind($entry.at_ms)
                .bind(&$entry.actor)
                .bind(&$entry.action)
                .bind(&$entry.record_kind)
                .bind(&$entry.record_id)
                .bind(&$entry.before_json)
                .bind(&$entry.after_json)
                .execute($executor)
                .await
                .map(|done| done.rows_affected() == 1);
            if !matches!(inserted, Ok(false)) {
                break;
            }
        }
        match inserted {
            Ok(true) => Ok(()),
            Ok(false) => Err($crate::StoreError::Busy("audit_log")),
            Err(e) => Err($crate::StoreError::from(e)),
        }
    }};
}
pub(crate) use insert_audit;

/// Audit entries are numbered per tenant; inserted only, never updated.
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log (tenant_id, id, at_ms, actor, action, record_kind, record_id, before_json, after_json)
    VALUES ($1, (SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log WHERE tenant_id = $1), $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (tenant_id, id) DO NOTHING";
pub(crate) const AUDIT_INSERT_ATTEMPTS: usize = 100;

/// The database, on one of the two backends.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An audit entry: who changed what, with the record before and after.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub record_kind: String,
    pub record_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

impl Store {
    /// Opens `target`: a `postgres://` URL, or a SQLite file path (created
    /// if missing; `:memory:` for a private in-memory database).
    pub async fn open(target: &str) -> StoreResult<Store> {
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(target)?;
            return Store::open_postgres(options).await;
        }
        let options = if target == ":memory:" {
            SqliteConnectOptions::from_str("sqlite::memory:")?
        } else {
            SqliteConnectOptions::new()
                .filename(target)
                .create_if_missing(true)
        };
        let options = options
            .page_size(SQLITE_PAGE_SIZE_BYTES)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(SQLITE_BUSY_TIMEOUT_MS))
            // Reports read hundreds of thousands of rows: map the file
            // instead of a read call per page, and sort in memory.
            .pragma("mmap_size", SQLITE_MMAP_SIZE_BYTES.to_string())
            .pragma("temp_store", "memory");
        // An in-memory database lives in one connection; keep exactly one.
        let max = if target == ":memory:" { 1 } else { 4 };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .min_connections(if target == ":memory:" { 1 } else { 0 })
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Ok(Store::Sqlite(pool))
    }

    pub async fn open_postgres(options: PgConnectOptions) -> StoreResult<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(Store::Postgres(pool))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Store::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Store::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        self.pack_pending_tenants().await
    }

    pub async fn close(&self) {
        on_store!(self, |pool| pool.close().await)
    }

    /// The centre's name and IANA time zone.
    pub async fn centre(&self, tenant: TenantId) -> StoreResult<(String, String)> {
        let sql = "SELECT name, time_zone FROM tenants WHERE id = $1";
        let row: Option<(String, String)> = match self {
            Store::Sqlite(pool) => {
                sqlx::query_as(sql)
                    .bind(tenant)
                    .fetch_optional(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_as(sql)
                    .bind(tenant)
                    .fetch_optional(pool)
                    .await?
            }
        };
        row.ok_or_else(|| StoreError::Invalid(format!("centre {tenant} does not exist")))
    }

    /// Renames the centre and sets its time zone, with its audit entry, in one transaction.
    pub async fn set_centre(
        &self,
        tenant: TenantId,
        name: &str,
        time_zone: &str,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let sql = "UPDATE tenants SET name = $2, time_zone = $3 WHERE id = $1";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                sqlx::query(sql)
                    .bind(tenant)
                    .bind(name)
                    .bind(time_zone)
                    .execute(&mut *tx)
                    .await?;
                insert_audit!(tenant, audit, &mut *tx)?;
                tx.commit().await?;
            }};
        }
        on_store!(self, |pool| run!(pool));
        Ok(())
    }

    /// The number of the latest audit entry: every change a report can
    /// show (an import, a definition, a target, the organisation) adds one,
    /// so a report computed at the same number is still right.
    pub async fn audit_version(&self, tenant: TenantId) -> StoreResult<i64> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM audit_log WHERE tenant_id = $1";
        Ok(on_store!(self, |pool| sqlx::query_scalar(sql)
            .bind(tenant)
            .fetch_one(pool)
            .await?))
    }

    pub async fn audit_entries(&self, tenant: TenantId) -> StoreResult<Vec<AuditEntry>> {
        let sql = "SELECT at_ms, actor, action, record_kind, record_id, before_json, after_json
                   FROM audit_log WHERE tenant_id = $1 ORDER BY id";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .fetch_all(pool)
            .await?))
    }

    /// Runs one statement with no result (for tests proving the audit log refuses changes).
    pub async fn execute_raw(&self, sql: &str) -> StoreResult<u64> {
        Ok(match self {
            Store::Sqlite(pool) => sqlx::query(AssertSqlSafe(sql))
                .execute(pool)
                .await?
                .rows_affected(),
            Store::Postgres(pool) => sqlx::query(AssertSqlSafe(sql))
                .execute(pool)
                .await?
                .rows_affected(),
        })
    }

    /// Counts the current (latest-revision) records of a kind.
    pub async fn count_current(&self, tenant: TenantId, kind: RecordKind) -> StoreResult<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE tenant_id = $1 AND is_current",
            kind.table()
        );
        self.scalar_i64(&sql, tenant).await
    }

    /// Counts every stored revision of a kind.
    pub async fn count_revisions(&self, tenant: TenantId, kind: RecordKind) -> StoreResult<i64> {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE tenant_id = $1", kind.table());
        self.scalar_i64(&sql, tenant).await
    }

    /// The source lines kept aside for `format` by earlier imports, each
    /// `(line, origin)`.
    pub async fn carried_over(
        &self,
        tenant: TenantId,
        format: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let sql = "SELECT line, origin FROM import_carry_over WHERE tenant_id = $1 AND format = $2 ORDER BY line";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(format)
            .fetch_all(pool)
            .await?))
    }

    pub async fn import_batches(&self, tenant: TenantId) -> StoreResult<Vec<ImportBatchRecord>> {
        batch::list_batches(self, tenant).await
    }

    async fn scalar_i64(&self, sql: &str, tenant: TenantId) -> StoreResult<i64> {
        Ok(match self {
            Store::Sqlite(pool) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .bind(tenant)
                    .fetch_one(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_scalar(AssertSqlSafe(sql))
                    .bind(tenant)
                    .fetch_one(pool)
                    .await?
            }
        })
    }
}
