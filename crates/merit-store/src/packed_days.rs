//! Packed days in the store (`contact_days`, `survey_answer_days`; the
//! format is `merit-domain::metrics::packed`): an import collects what it
//! adds and retires per UTC day and rewrites those days in its own
//! transaction; reports read whole days. Tenants whose rows predate packed
//! days are packed from their rows on the next `migrate`.

use crate::Row;
use crate::batch::Tx;
use crate::sqlite_bulk::{LentRows, OwnedRows, TwoIntegersAndBlob, select_two_integers_and_blob};
use crate::{Store, StoreError, StoreResult, on_store, on_tx};
use merit_domain::TenantId;
use merit_domain::metrics::ContactFacts;
use merit_domain::metrics::packed::{self, AnswerFacts, PackedError, utc_day};
use std::collections::{BTreeMap, HashMap, HashSet};

pub(crate) const CONTACT_DAYS: &str = "contact_days";
pub(crate) const ANSWER_DAYS: &str = "survey_answer_days";

/// A packed day that cannot be read, named by its table and day.
pub(crate) fn invalid_day(table: &str, day: i64, e: PackedError) -> StoreError {
    StoreError::Invalid(format!("{table} day {day}: {e}"))
}

/// What a row contributes to packed days.
#[derive(Debug, Clone, Default)]
pub enum Packed {
    #[default]
    None,
    Contact(Box<ContactFacts>),
    /// A survey response's numeric answers.
    Answers(Vec<AnswerFacts>),
}

/// A record that lives in a packed day, by its identity.
trait DayRecord: Clone {
    const TABLE: &'static str;
    fn identity(&self) -> (&str, &str);
    fn sort(rows: &mut [Self]);
    /// The day rewritten: the stored records `keep` accepts (by source
    /// system and id) and `added` (sorted); the bytes and the record count.
    fn merged(
        stored: Option<&[u8]>,
        keep: impl Fn(&str, &str) -> bool,
        added: &[Self],
    ) -> Result<(Vec<u8>, usize), PackedError>;
}

impl DayRecord for ContactFacts {
    const TABLE: &'static str = CONTACT_DAYS;
    fn identity(&self) -> (&str, &str) {
        (&self.source_system, &self.source_id)
    }
    fn sort(rows: &mut [Self]) {
        packed::sort_contacts(rows)
    }
    fn merged(
        stored: Option<&[u8]>,
        keep: impl Fn(&str, &str) -> bool,
        added: &[Self],
    ) -> Result<(Vec<u8>, usize), PackedError> {
        packed::merge_contacts(stored, keep, added)
    }
}

impl DayRecord for AnswerFacts {
    const TABLE: &'static str = ANSWER_DAYS;
    fn identity(&self) -> (&str, &str) {
        (&self.source_system, &self.source_id)
    }
    fn sort(rows: &mut [Self]) {
        packed::sort_answers(rows)
    }
    /// Answers are few per day (a survey per few contacts): decoded whole.
    fn merged(
        stored: Option<&[u8]>,
        keep: impl Fn(&str, &str) -> bool,
        added: &[Self],
    ) -> Result<(Vec<u8>, usize), PackedError> {
        let mut rows = match stored {
            Some(bytes) => packed::unpack_answers(bytes)?,
            None => Vec::new(),
        };
        rows.retain(|a| keep(&a.source_system, &a.source_id));
        rows.extend_from_slice(added);
        packed::sort_answers(&mut rows);
        Ok((packed::pack_answers(&rows), rows.len()))
    }
}

/// One day's changes: records to put (new current revisions) and
/// identities whose earlier revision is no longer current.
struct DayChange<T> {
    put: Vec<T>,
    /// Source ids by source system (probed with borrowed text).
    retired: HashMap<String, HashSet<String>>,
}

impl<T> Default for DayChange<T> {
    fn default() -> Self {
        DayChange {
            put: Vec::new(),
            retired: HashMap::new(),
        }
    }
}

impl<T> DayChange<T> {
    fn retire(&mut self, system: &str, id: &str) {
        self.retired
            .entry(system.to_owned())
            .or_default()
            .insert(id.to_owned());
    }
}

/// Changes held in memory until `flush`; `ImportTx` flushes when they
/// hold `limit` records (50,000 by default), so an import's memory stays bounded
/// whatever the file's size and order.
pub(crate) struct PendingDays {
    contacts: BTreeMap<i64, DayChange<ContactFacts>>,
    answers: BTreeMap<i64, DayChange<AnswerFacts>>,
    held: usize,
    pub(crate) limit: usize,
    /// The days the last flush is packing on a thread of its own while the
    /// import writes on: stored by the next flush, or by `finish`.
    packing: Option<tokio::task::JoinHandle<Vec<PackedDay>>>,
}

/// A day packed for its table: (table, day, bytes and record count).
type PackedDay = (&'static str, i64, Result<(Vec<u8>, usize), PackedError>);

impl Default for PendingDays {
    fn default() -> Self {
        PendingDays {
            contacts: BTreeMap::new(),
            answers: BTreeMap::new(),
            held: 0,
            limit: 50_000,
            packing: None,
        }
    }
}

impl PendingDays {
    pub(crate) fn is_full(&self) -> bool {
        self.held >= self.limit
    }

    /// Records that `row`, which adds `packed` to its day, is now current,
    /// replacing a revision at `retired_ms` when it had one.
    pub(crate) fn record(&mut self, row: &Row, packed: Packed, retired_ms: Option<i64>) {
        match packed {
            Packed::None => {}
            Packed::Contact(c) => {
                if let Some(at) = retired_ms {
                    let day = self.contacts.entry(utc_day(at)).or_default();
                    day.retire(&row.source_system, &row.source_id);
                }
                let day = self.contacts.entry(utc_day(row.time_ms)).or_default();
                day.put.push(*c);
                self.held += 1;
            }
            Packed::Answers(answers) => {
                // A revision with no numeric answer left still retires the earlier ones.
                if let Some(at) = retired_ms {
                    let day = self.answers.entry(utc_day(at)).or_default();
                    day.retire(&row.source_system, &row.source_id);
                }
                let day = self.answers.entry(utc_day(row.time_ms)).or_default();
                self.held += answers.len().max(1);
                day.put.extend(answers);
            }
        }
    }

    /// Rewrites the days with changes, inside the import's transaction:
    /// stores the days the previous flush packed, reads the days changed
    /// since as they are stored now, and packs them on a thread of their
    /// own (the import's writer is its bottleneck). The latest day with
    /// contacts is held back while it holds under half the limit: a file
    /// in time order is still adding to it, and packed now it would be
    /// unpacked and packed again at the next flush.
    pub(crate) async fn flush(&mut self, tx: &mut Tx, tenant: TenantId) -> StoreResult<()> {
        let latest = self.contacts.last_key_value();
        let held_back = latest
            .filter(|(_, change)| change.put.len() < self.limit / 2)
            .map(|(&day, _)| day);
        let mut contacts = std::mem::take(&mut self.contacts);
        self.held = 0;
        if let Some(change) = held_back.and_then(|day| contacts.remove_entry(&day)) {
            self.held = change.1.put.len();
            self.contacts.extend([change]);
        }
        self.pack(tx, tenant, contacts).await
    }

    /// Rewrites every day with changes, at the end of the import.
    pub(crate) async fn finish(&mut self, tx: &mut Tx, tenant: TenantId) -> StoreResult<()> {
        let contacts = std::mem::take(&mut self.contacts);
        self.pack(tx, tenant, contacts).await?;
        self.store_packed(tx, tenant).await
    }

    async fn pack(
        &mut self,
        tx: &mut Tx,
        tenant: TenantId,
        contacts: BTreeMap<i64, DayChange<ContactFacts>>,
    ) -> StoreResult<()> {
        self.store_packed(tx, tenant).await?;
        let contacts = stored_with_changes(tx, tenant, contacts).await?;
        let answers = stored_with_changes(tx, tenant, std::mem::take(&mut self.answers)).await?;
        self.packing = Some(tokio::task::spawn_blocking(move || {
            let contacts = contacts.into_iter().map(repacked);
            contacts.chain(answers.into_iter().map(repacked)).collect()
        }));
        Ok(())
    }

    async fn store_packed(&mut self, tx: &mut Tx, tenant: TenantId) -> StoreResult<()> {
        let Some(packing) = self.packing.take() else {
            return Ok(());
        };
        let days = packing
            .await
            .map_err(|e| StoreError::Invalid(format!("packing days stopped: {e}")))?;
        for (table, day, packed) in days {
            let packed = packed.map_err(|e| invalid_day(table, day, e))?;
            write_day(tx, (tenant, day), table, packed).await?;
        }
        Ok(())
    }
}

/// Each changed day with its packed records as stored now (if any).
async fn stored_with_changes<T: DayRecord>(
    tx: &mut Tx,
    tenant: TenantId,
    days: BTreeMap<i64, DayChange<T>>,
) -> StoreResult<Vec<(i64, Option<Vec<u8>>, DayChange<T>)>> {
    let select = format!(
        "SELECT packed FROM {} WHERE tenant_id = $1 AND day = $2",
        T::TABLE
    );
    let mut out = Vec::with_capacity(days.len());
    for (day, change) in days {
        let stored: Option<Vec<u8>> = on_tx!(tx, |conn| sqlx::query_scalar(sqlx::AssertSqlSafe(
            select.as_str()
        ))
        .bind(tenant)
        .bind(day)
        .fetch_optional(&mut **conn)
        .await?);
        out.push((day, stored, change));
    }
    Ok(out)
}

/// A day's records after a change: the stored ones not retired or
/// replaced, and the new ones, in packed order.
fn repacked<T: DayRecord>(
    (day, stored, change): (i64, Option<Vec<u8>>, DayChange<T>),
) -> PackedDay {
    let DayChange { mut put, retired } = change;
    T::sort(&mut put);
    // A stored record gives way to a retirement and to a new record of the
    // same identity; a day not stored yet has nothing to give way.
    let put_identities: HashSet<(&str, &str)> = match stored {
        Some(_) => put.iter().map(T::identity).collect(),
        None => HashSet::new(),
    };
    let keep = |system: &str, id: &str| {
        !put_identities.contains(&(system, id))
            && !retired.get(system).is_some_and(|ids| ids.contains(id))
    };
    (T::TABLE, day, T::merged(stored.as_deref(), keep, &put))
}

/// Stores a day's packed records (removes the day when there are none).
async fn write_day(
    tx: &mut Tx,
    (tenant, day): (TenantId, i64),
    table: &str,
    (bytes, n_rows): (Vec<u8>, usize),
) -> StoreResult<()> {
    if n_rows == 0 {
        let delete = format!("DELETE FROM {table} WHERE tenant_id = $1 AND day = $2");
        on_tx!(tx, |conn| sqlx::query(sqlx::AssertSqlSafe(delete.as_str()))
            .bind(tenant)
            .bind(day)
            .execute(&mut **conn)
            .await
            .map(|_| ())?);
        return Ok(());
    }
    let upsert = format!(
        "INSERT INTO {table} (tenant_id, day, n_rows, packed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, day) DO UPDATE SET n_rows = excluded.n_rows, packed = excluded.packed"
    );
    on_tx!(tx, |conn| sqlx::query(sqlx::AssertSqlSafe(upsert.as_str()))
        .bind(tenant)
        .bind(day)
        .bind(n_rows as i64)
        .bind(&bytes)
        .execute(&mut **conn)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Packs rows read from the revisioned tables into a day, in its own transaction.
async fn pack_day<T: DayRecord>(
    store: &Store,
    (tenant, day): (TenantId, i64),
    mut rows: Vec<T>,
) -> StoreResult<()> {
    T::sort(&mut rows);
    let packed = T::merged(None, |_, _| true, &rows).map_err(|e| invalid_day(T::TABLE, day, e))?;
    let mut tx = crate::batch::begin_write(store).await?;
    write_day(&mut tx, (tenant, day), T::TABLE, packed).await?;
    on_tx!(tx, |conn| conn.commit().await?);
    Ok(())
}

impl Store {
    /// The packed days of `table` from `first_day` to `last_day`, in day
    /// order: (day, rows, packed).
    pub(crate) async fn packed_days(
        &self,
        table: &str,
        tenant: TenantId,
        days: (i64, i64),
    ) -> StoreResult<Vec<(i64, i64, Vec<u8>)>> {
        self.with_packed_days(table, tenant, days, |rows| rows.owned())
            .await?
    }

    /// `packed_days` handed to `consume` as they are read: on SQLite each
    /// is read from the store when `consume` asks for it, and lent where
    /// SQLite holds it.
    pub(crate) async fn with_packed_days<T>(
        &self,
        table: &str,
        tenant: TenantId,
        (first_day, last_day): (i64, i64),
        consume: impl FnOnce(&mut dyn LentRows) -> T,
    ) -> StoreResult<T> {
        let sql = format!(
            "SELECT day, n_rows, packed FROM {table} WHERE tenant_id = $1 AND day >= $2 AND day <= $3 ORDER BY day"
        );
        match self {
            Store::Sqlite(pool) => {
                let parameters = [tenant, first_day, last_day];
                select_two_integers_and_blob(pool, &sql, &parameters, consume).await
            }
            Store::Postgres(pool) => {
                let days: Vec<TwoIntegersAndBlob> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                        .bind(tenant)
                        .bind(first_day)
                        .bind(last_day)
                        .fetch_all(pool)
                        .await?;
                Ok(consume(&mut OwnedRows::new(days)))
            }
        }
    }

    /// How many rows `table`'s packed days from `first_day` to `last_day`
    /// hold, all told (read from each day's count, not its rows).
    pub(crate) async fn packed_rows_in(
        &self,
        table: &str,
        tenant: TenantId,
        (first_day, last_day): (i64, i64),
    ) -> StoreResult<i64> {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(n_rows), 0) AS BIGINT) FROM {table} WHERE tenant_id = $1 AND day >= $2 AND day <= $3"
        );
        Ok(on_store!(self, |pool| sqlx::query_scalar(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(tenant)
        .bind(first_day)
        .bind(last_day)
        .fetch_one(pool)
        .await?))
    }

    /// Packs the days of every tenant listed in `packed_days_pending` from
    /// their current rows, one tenant per transaction.
    pub(crate) async fn pack_pending_tenants(&self) -> StoreResult<()> {
        let tenants: Vec<i64> = on_store!(self, |pool| sqlx::query_scalar(
            "SELECT tenant_id FROM packed_days_pending ORDER BY tenant_id"
        )
        .fetch_all(pool)
        .await?);
        for tenant in tenants {
            self.pack_tenant_from_rows(tenant).await?;
        }
        Ok(())
    }

    /// Packs one tenant's days from its current rows, a day per
    /// transaction (rows are read before each opens: an in-memory database
    /// has one connection), then takes the tenant off the pending list. A
    /// run stopped half-way starts again on the next `migrate`.
    async fn pack_tenant_from_rows(&self, tenant: TenantId) -> StoreResult<()> {
        let bounds = |table: &str, time: &str| {
            format!(
                "SELECT MIN({time}), MAX({time}) FROM {table} WHERE tenant_id = $1 AND is_current"
            )
        };
        for (table, sql) in [
            (CONTACT_DAYS, bounds("contacts", "arrival_ms")),
            (ANSWER_DAYS, bounds("survey_responses", "answered_ms")),
        ] {
            let range: (Option<i64>, Option<i64>) = on_store!(self, |pool| sqlx::query_as(
                sqlx::AssertSqlSafe(sql.as_str())
            )
            .bind(tenant)
            .fetch_one(pool)
            .await?);
            let (Some(first), Some(last)) = range else {
                continue;
            };
            for day in utc_day(first)..=utc_day(last) {
                let window = (day * 86_400_000, (day + 1) * 86_400_000);
                if table == CONTACT_DAYS {
                    let rows = self.contact_facts_from_rows(tenant, window, true).await?;
                    pack_day(self, (tenant, day), rows).await?;
                } else {
                    let rows = self.survey_answers_from_rows(tenant, window).await?.0;
                    pack_day(self, (tenant, day), rows).await?;
                }
            }
        }
        let done = "DELETE FROM packed_days_pending WHERE tenant_id = $1";
        on_store!(self, |pool| sqlx::query(done)
            .bind(tenant)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }
}
