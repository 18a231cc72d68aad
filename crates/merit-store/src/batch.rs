//! Import batches: one transaction per file, written in chunks. Each record
//! is new (revision 1), changed (a new revision; the old one is kept but no
//! longer current), unchanged (skipped), or a second occurrence of a source
//! id within the same batch (refused, for the caller to report).

use crate::packed_days::{Packed, PendingDays};
use crate::rows::{Fnv1a, Row, Value, ValueRef, push_copy_field};
use crate::{AuditEntry, Store, StoreError, StoreResult, on_store, on_tx};
use merit_domain::TenantId;
use merit_domain::activity::{Absence, AgentStateEvent, ScheduleSegment};
use merit_domain::contact::Contact;
use merit_domain::metrics::ContactFacts;
use merit_domain::metrics::fast_hash::FastSet;
use merit_domain::metrics::packed::AnswerFacts;
use merit_domain::survey::SurveyResponse;
use sqlx::sqlite::SqlitePool;
use sqlx::{AssertSqlSafe, Postgres, Sqlite, Transaction};
use std::collections::HashMap;

/// The revisioned record kinds an import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Contacts,
    AgentStates,
    Schedules,
    Absences,
    Surveys,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Contacts,
        RecordKind::AgentStates,
        RecordKind::Schedules,
        RecordKind::Absences,
        RecordKind::Surveys,
    ];

    /// What one record is called in reports, plural.
    pub fn noun(self) -> &'static str {
        match self {
            RecordKind::Contacts => "contacts",
            RecordKind::AgentStates => "agent states",
            RecordKind::Schedules => "schedule segments",
            RecordKind::Absences => "absences",
            RecordKind::Surveys => "survey responses",
        }
    }

    pub fn table(self) -> &'static str {
        match self {
            RecordKind::Contacts => "contacts",
            RecordKind::AgentStates => "agent_states",
            RecordKind::Schedules => "schedule_segments",
            RecordKind::Absences => "absences",
            RecordKind::Surveys => "survey_responses",
        }
    }

    fn time_column(self) -> &'static str {
        match self {
            RecordKind::Contacts => "arrival_ms",
            RecordKind::AgentStates => "at_ms",
            RecordKind::Schedules | RecordKind::Absences => "start_ms",
            RecordKind::Surveys => "answered_ms",
        }
    }

    /// The kind-specific columns, in the order `Row::values` holds them.
    fn columns(self) -> &'static [&'static str] {
        match self {
            RecordKind::Contacts => &[
                "channel",
                "queue_id",
                "contact_type",
                "customer_id",
                "agent_id",
                "menu_exit_ms",
                "queue_entry_ms",
                "queue_exit_ms",
                "answer_ms",
                "end_ms",
                "after_work_end_ms",
                "outcome",
                "holds_json",
                "hold_ms",
                "transfers_json",
                "n_transfers",
                "wrap_up_code",
                "recording_url",
                "first_response_ms",
                "resolution_ms",
                "sale_amount_minor",
                "sale_currency",
                "sale_cancelled_ms",
            ],
            RecordKind::AgentStates => &["agent_id", "state", "reason"],
            RecordKind::Schedules => &["agent_id", "end_ms", "activity"],
            RecordKind::Absences => &["agent_id", "end_ms", "kind", "reason"],
            RecordKind::Surveys => &["contact_source_id", "agent_id", "asked_by"],
        }
    }
}

/// The unique identity of a contact revision (index `contacts_identity`).
const IDENTITY: &str = "tenant_id, source_id, source_system, revision";

const CHILD_TABLE: &str = "survey_answers";
const CHILD_COLUMNS: [&str; 4] = ["question_id", "scale", "value", "answer_text"];

/// A row to write, borrowed: its leading values (keys, revision) and the
/// record's columns.
struct OutRow<'a, const N: usize> {
    prefix: [ValueRef<'a>; N],
    rest: &'a [Value],
}

impl<'a, const N: usize> OutRow<'a, N> {
    fn values(&self) -> impl Iterator<Item = ValueRef<'a>> + '_ {
        self.prefix
            .iter()
            .copied()
            .chain(self.rest.iter().map(Value::borrowed))
    }
}

impl Row {
    /// Sets the content hash: FNV-1a over the time key, every column value
    /// (with a type tag) and the child rows. Equal content gives an equal
    /// hash on every run and platform; it decides "unchanged" on re-import.
    fn hashed(mut self) -> Row {
        let mut hash = Fnv1a::new();
        hash.write(&self.time_ms.to_le_bytes());
        for value in self.values.iter().chain(self.children.iter().flatten()) {
            match value.borrowed() {
                ValueRef::Null => hash.write(&[0]),
                ValueRef::Int(v) => {
                    hash.write(&[1]);
                    hash.write(&v.to_le_bytes());
                }
                ValueRef::Bool(v) => hash.write(&[2, u8::from(v)]),
                ValueRef::Text(text) => {
                    hash.write(&[3]);
                    hash.write(&(text.len() as u64).to_le_bytes());
                    hash.write(text.as_bytes());
                }
            }
        }
        self.content_hash = hash.finish();
        self
    }

    /// The contact's row; its texts move into the row's values (the packed
    /// day's facts keep their own copies).
    pub fn from_contact(c: Contact) -> Row {
        let facts = ContactFacts::from_contact(&c);
        let holds: Vec<[i64; 2]> = c.holds.iter().map(|h| [h.start_ms, h.end_ms]).collect();
        let transfers: Vec<(i64, &str)> = c
            .transfers
            .iter()
            .map(|t| (t.at_ms, t.target.as_str()))
            .collect();
        fn json_list<T: serde::Serialize>(list: &[T]) -> Value {
            match list.is_empty() {
                true => Value::Static("[]"),
                false => Value::Text(serde_json::to_string(list).unwrap_or_default()),
            }
        }
        let (holds_json, transfers_json) = (json_list(&holds), json_list(&transfers));
        let (hold_ms, n_transfers) = (c.hold_ms(), c.transfers.len() as i64);
        let (sale_minor, sale_currency, sale_cancelled_ms) = match c.sale {
            Some(sale) => (
                Some(sale.value.amount_minor),
                Some(sale.value.currency),
                sale.cancelled_at_ms,
            ),
            None => (None, None, None),
        };
        Row {
            source_system: c.source_system,
            source_id: c.source_id,
            time_ms: c.arrival_ms,
            content_hash: 0,
            values: vec![
                c.channel.as_str().into(),
                c.queue_id.into(),
                c.contact_type.into(),
                c.customer_id.into(),
                c.agent_id.into(),
                c.menu_exit_ms.into(),
                c.queue_entry_ms.into(),
                c.queue_exit_ms.into(),
                c.answer_ms.into(),
                c.end_ms.into(),
                c.after_work_end_ms.into(),
                c.outcome.as_str().into(),
                holds_json,
                hold_ms.into(),
                transfers_json,
                n_transfers.into(),
                c.wrap_up_code.into(),
                c.recording_url.into(),
                c.first_response_ms.into(),
                c.resolution_ms.into(),
                sale_minor.into(),
                sale_currency.into(),
                sale_cancelled_ms.into(),
            ],
            children: vec![],
            packed: Packed::Contact(Box::new(facts)),
        }
        .hashed()
    }

    pub fn from_state(source_system: &str, s: &AgentStateEvent) -> Row {
        Row {
            source_system: source_system.to_owned(),
            source_id: s.source_id.clone(),
            time_ms: s.at_ms,
            content_hash: 0,
            values: vec![
                s.agent_id.clone().into(),
                s.state.as_str().into(),
                s.reason.clone().into(),
            ],
            children: vec![],
            packed: Packed::None,
        }
        .hashed()
    }

    pub fn from_schedule(source_system: &str, s: &ScheduleSegment) -> Row {
        Row {
            source_system: source_system.to_owned(),
            source_id: s.source_id.clone(),
            time_ms: s.start_ms,
            content_hash: 0,
            values: vec![
                s.agent_id.clone().into(),
                s.end_ms.into(),
                s.activity.as_str().into(),
            ],
            children: vec![],
            packed: Packed::None,
        }
        .hashed()
    }

    pub fn from_absence(source_system: &str, a: &Absence) -> Row {
        Row {
            source_system: source_system.to_owned(),
            source_id: a.source_id.clone(),
            time_ms: a.start_ms,
            content_hash: 0,
            values: vec![
                a.agent_id.clone().into(),
                a.end_ms.into(),
                a.kind.as_str().into(),
                a.reason.clone().into(),
            ],
            children: vec![],
            packed: Packed::None,
        }
        .hashed()
    }

    pub fn from_survey(s: &SurveyResponse) -> Row {
        Row {
            source_system: s.source_system.clone(),
            source_id: s.source_id.clone(),
            time_ms: s.answered_ms,
            content_hash: 0,
            values: vec![
                s.contact_source_id.clone().into(),
                s.agent_id.clone().into(),
                s.asked_by.as_str().into(),
            ],
            children: s
                .answers
                .iter()
                .map(|a| {
                    vec![
                        a.question_id.clone().into(),
                        a.scale.as_str().into(),
                        a.value.map(i64::from).into(),
                        a.text.clone().into(),
                    ]
                })
                .collect(),
            packed: Packed::Answers(
                s.answers
                    .iter()
                    .filter_map(|a| {
                        Some(AnswerFacts {
                            source_system: s.source_system.clone(),
                            source_id: s.source_id.clone(),
                            contact_source_id: s.contact_source_id.clone(),
                            agent_id: s.agent_id.clone(),
                            answered_ms: s.answered_ms,
                            question_id: a.question_id.clone(),
                            value: i64::from(a.value?),
                        })
                    })
                    .collect(),
            ),
        }
        .hashed()
    }
}

/// What a chunk did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkOutcome {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Positions (in the chunk) of rows whose source id already came earlier in this batch.
    pub duplicates: Vec<usize>,
}

/// A stored import batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ImportBatchRecord {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub checksum: String,
    pub actor: String,
    pub started_ms: i64,
    pub finished_ms: i64,
    pub n_inserted: i64,
    pub n_updated: i64,
    pub n_unchanged: i64,
    pub n_rejected: i64,
}

pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// One import, one transaction: nothing is visible until `finish` commits,
/// and a crash at any point leaves the store as if it never started.
pub struct ImportTx {
    pub(crate) tx: Tx,
    pub(crate) tenant: TenantId,
    batch_id: i64,
    /// Earliest and latest time of the contacts, and of the survey
    /// responses, this import added or changed: the report cache days they
    /// can affect are deleted when it finishes.
    changed_contacts: Option<(i64, i64)>,
    changed_surveys: Option<(i64, i64)>,
    pub(crate) organisation_changed: bool,
    /// The contacts this import added, while it has only added contacts
    /// (no revision) and no more than `ADDED_CONTACTS_HELD`: the report
    /// cache days they can change are then marked stale instead of deleted
    /// (`finish`). `None` once that no longer holds.
    added_contacts: Option<Vec<AddedContact>>,
    /// Packed days to rewrite for what this import added and retired.
    pending_days: PendingDays,
    /// Whether this is the first load of the tenant's contacts (`first_load`), once known.
    first_contacts_load: Option<bool>,
    /// The SQLite file this import took for itself (`begin_alone`), to give
    /// back when it commits. An import that fails leaves it to the next
    /// opening of the store, which sets WAL again.
    taken_file: Option<SqlitePool>,
}

/// The most added contacts an import names to the report cache's update;
/// a larger import's days are deleted and recomputed by the next report.
const ADDED_CONTACTS_HELD: usize = 100_000;

/// A contact an import added, by identity, with its customer and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedContact {
    pub source_system: String,
    pub source_id: String,
    pub customer_id: Option<String>,
    pub arrival_ms: i64,
    pub end_ms: i64,
}

/// A committed import: its record and, when it marked report cache days
/// stale rather than deleting them, the contacts it added, for the service
/// to bring those days up to date (`Store::stale_cached_days`,
/// `Store::refresh_cached_days`).
pub struct FinishedImport {
    pub record: ImportBatchRecord,
    pub added_contacts: Option<Vec<AddedContact>>,
}

/// Per stored identity, by source system then source id (so that a row's
/// own texts can probe it): current revision, content hash, batch and time.
type Existing = HashMap<String, HashMap<String, (i64, i64, i64, i64)>>;

/// Opens a write transaction; on SQLite with BEGIN IMMEDIATE, taking the
/// write lock now, so two writers queue instead of failing later.
pub(crate) async fn begin_write(store: &Store) -> StoreResult<Tx> {
    Ok(match store {
        Store::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        Store::Postgres(pool) => Tx::Postgres(pool.begin().await?),
    })
}

impl ImportTx {
    pub async fn begin(store: &Store, tenant: TenantId) -> StoreResult<ImportTx> {
        let tx = begin_write(store).await?;
        ImportTx::begin_on(tx, tenant, None).await
    }

    /// Like `begin`, for a batch run that may keep others out of the store
    /// while it writes (the command line's import): on SQLite, when no other
    /// connection has the file open, the batch is written with a rollback
    /// journal instead of WAL (`sqlite_alone`), and the file is WAL again
    /// once it has committed. Whoever opens the store meanwhile waits.
    pub async fn begin_alone(store: &Store, tenant: TenantId) -> StoreResult<ImportTx> {
        let Store::Sqlite(pool) = store else {
            return ImportTx::begin(store, tenant).await;
        };
        let (tx, taken) = crate::sqlite_alone::begin(pool).await?;
        ImportTx::begin_on(Tx::Sqlite(tx), tenant, taken.then(|| pool.clone())).await
    }

    async fn begin_on(
        mut tx: Tx,
        tenant: TenantId,
        taken_file: Option<SqlitePool>,
    ) -> StoreResult<ImportTx> {
        let next_id = "SELECT COALESCE(MAX(id), 0) + 1 FROM import_batches WHERE tenant_id = $1";
        if let Tx::Postgres(tx) = &mut tx {
            sqlx::query("LOCK TABLE import_batches IN EXCLUSIVE MODE")
                .execute(&mut **tx)
                .await?;
        }
        let batch_id: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(next_id)
            .bind(tenant)
            .fetch_one(&mut **conn)
            .await?);
        Ok(ImportTx {
            tx,
            tenant,
            batch_id,
            changed_contacts: None,
            changed_surveys: None,
            organisation_changed: false,
            added_contacts: Some(Vec::new()),
            pending_days: PendingDays::default(),
            first_contacts_load: None,
            taken_file,
        })
    }

    /// Rewrites the packed days whenever this many records wait for them
    /// (50,000 by default): bounds the import's memory.
    pub fn rewrite_packed_days_every(&mut self, records: usize) {
        self.pending_days.limit = records.max(1);
    }

    pub fn batch_id(&self) -> i64 {
        self.batch_id
    }

    /// Whether this import took the SQLite file for itself (`begin_alone`).
    pub fn took_file(&self) -> bool {
        self.taken_file.is_some()
    }

    /// Writes a chunk of rows of one kind. What a row adds to its packed
    /// day is moved out of it (the rest of the row is left as it was).
    pub async fn write_chunk(
        &mut self,
        kind: RecordKind,
        rows: &mut [Row],
    ) -> StoreResult<ChunkOutcome> {
        let mut packed: Vec<Packed> = rows
            .iter_mut()
            .map(|r| std::mem::take(&mut r.packed))
            .collect();
        let rows = &*rows;
        let first_load = self.first_load(kind).await?;
        let existing = match first_load {
            true => Existing::new(),
            false => self.existing(kind, rows).await?,
        };
        let mut outcome = ChunkOutcome::default();
        // A first load's unique identity index catches a repeat within the
        // chunk as it catches one from an earlier chunk (`insert`).
        let mut seen_in_chunk: FastSet<(&str, &str)> = FastSet::default();
        if !first_load {
            seen_in_chunk.reserve(rows.len());
        }
        let mut to_insert: Vec<(&Row, i64)> = Vec::new();
        let mut inserted_at: Vec<usize> = Vec::new();
        let mut to_retire: Vec<(&Row, i64)> = Vec::new();
        let mut retired_ms: HashMap<(&str, &str), i64> = HashMap::new();
        for (position, row) in rows.iter().enumerate() {
            let key = (row.source_system.as_str(), row.source_id.as_str());
            if !first_load && !seen_in_chunk.insert(key) {
                outcome.duplicates.push(position);
                continue;
            }
            let stored = existing.get(key.0).and_then(|by_id| by_id.get(key.1));
            match stored {
                Some(&(_, _, batch, _)) if batch == self.batch_id => {
                    outcome.duplicates.push(position)
                }
                Some(&(_, hash, _, _)) if hash == row.content_hash => outcome.unchanged += 1,
                Some(&(revision, _, _, time_ms)) => {
                    retired_ms.insert(key, time_ms);
                    to_retire.push((row, revision));
                    to_insert.push((row, revision + 1));
                    inserted_at.push(position);
                    outcome.updated += 1;
                }
                None => {
                    to_insert.push((row, 1));
                    inserted_at.push(position);
                    outcome.inserted += 1;
                }
            }
        }
        if kind == RecordKind::Contacts {
            self.added_contacts = self.added_contacts.take().filter(|added| {
                to_retire.is_empty() && added.len() + to_insert.len() <= ADDED_CONTACTS_HELD
            });
        }
        self.retire(kind, &to_retire).await?;
        let written = self.insert(kind, &to_insert, first_load).await?;
        let mut changed = match kind {
            RecordKind::Contacts => Some(&mut self.changed_contacts),
            RecordKind::Surveys => Some(&mut self.changed_surveys),
            _ => None,
        };
        for (((row, _), &position), written) in to_insert.iter().zip(&inserted_at).zip(written) {
            if !written {
                // A first load's repeat of an id written before it.
                outcome.duplicates.push(position);
                outcome.inserted -= 1;
                continue;
            }
            if let Some(range) = changed.as_deref_mut() {
                let (from, to) = range.get_or_insert((row.time_ms, row.time_ms));
                *from = (*from).min(row.time_ms);
                *to = (*to).max(row.time_ms);
            }
            let key = (row.source_system.as_str(), row.source_id.as_str());
            let facts = std::mem::take(&mut packed[position]);
            if let (Some(added), Packed::Contact(c)) = (&mut self.added_contacts, &facts) {
                added.push(AddedContact {
                    source_system: row.source_system.clone(),
                    source_id: row.source_id.clone(),
                    customer_id: c.customer_id.clone(),
                    arrival_ms: c.arrival_ms,
                    end_ms: c.end_ms,
                });
            }
            self.pending_days
                .record(row, facts, retired_ms.get(&key).copied());
        }
        if self.pending_days.is_full() {
            self.pending_days.flush(&mut self.tx, self.tenant).await?;
        }
        Ok(outcome)
    }

    /// Whether this import is the first load of contacts for its tenant on
    /// SQLite: the table held none of the tenant's rows when the import
    /// began writing them (it holds the write lock, so nothing else adds
    /// any). Then no stored identity needs looking up, and an id repeated
    /// anywhere in the file is caught by the unique identity index as the
    /// row is written (`insert`).
    async fn first_load(&mut self, kind: RecordKind) -> StoreResult<bool> {
        let Tx::Sqlite(tx) = &mut self.tx else {
            return Ok(false);
        };
        if kind != RecordKind::Contacts {
            return Ok(false);
        }
        if let Some(first) = self.first_contacts_load {
            return Ok(first);
        }
        let any: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM contacts WHERE tenant_id = $1)")
                .bind(self.tenant)
                .fetch_one(&mut **tx)
                .await?;
        self.first_contacts_load = Some(!any);
        Ok(!any)
    }

    /// The current revision, hash and batch of each source id in `rows` that is already stored.
    async fn existing(&mut self, kind: RecordKind, rows: &[Row]) -> StoreResult<Existing> {
        let ids: Vec<&str> = rows.iter().map(|r| r.source_id.as_str()).collect();
        let table = kind.table();
        let time = kind.time_column();
        type Found = Vec<(String, String, i64, i64, i64, i64)>;
        let found: Found = match &mut self.tx {
            Tx::Sqlite(tx) => {
                let sql = format!(
                    "SELECT source_system, source_id, revision, content_hash, batch_id, {time} FROM {table}
                     WHERE tenant_id = $1 AND is_current AND source_id IN (SELECT value FROM json_each($2))"
                );
                let ids_json = serde_json::to_string(&ids).unwrap_or_default();
                sqlx::query_as(AssertSqlSafe(sql.as_str()))
                    .bind(self.tenant)
                    .bind(ids_json)
                    .fetch_all(&mut **tx)
                    .await?
            }
            Tx::Postgres(tx) => {
                let sql = format!(
                    "SELECT source_system, source_id, revision, content_hash, batch_id, {time} FROM {table}
                     WHERE tenant_id = $1 AND is_current AND source_id = ANY($2)"
                );
                sqlx::query_as(AssertSqlSafe(sql.as_str()))
                    .bind(self.tenant)
                    .bind(&ids)
                    .fetch_all(&mut **tx)
                    .await?
            }
        };
        let mut existing = Existing::new();
        for (system, id, revision, hash, batch, time_ms) in found {
            existing
                .entry(system)
                .or_default()
                .insert(id, (revision, hash, batch, time_ms));
        }
        Ok(existing)
    }

    async fn retire(&mut self, kind: RecordKind, rows: &[(&Row, i64)]) -> StoreResult<()> {
        let sql = format!(
            "UPDATE {} SET is_current = FALSE WHERE tenant_id = $1 AND source_system = $2 AND source_id = $3 AND revision = $4",
            kind.table()
        );
        for (row, revision) in rows {
            macro_rules! run {
                ($tx:expr) => {
                    sqlx::query(AssertSqlSafe(sql.as_str()))
                        .bind(self.tenant)
                        .bind(&row.source_system)
                        .bind(&row.source_id)
                        .bind(*revision)
                        .execute(&mut **$tx)
                        .await
                        .map(|_| ())?
                };
            }
            on_tx!(&mut self.tx, |tx| run!(tx));
        }
        Ok(())
    }

    /// Writes `rows` and says which were written: all of them, except in a
    /// first load (`first_load`), where a row whose identity is already
    /// stored is left out instead.
    async fn insert(
        &mut self,
        kind: RecordKind,
        rows: &[(&Row, i64)],
        first_load: bool,
    ) -> StoreResult<Vec<bool>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut columns = vec![
            "tenant_id",
            kind.time_column(),
            "source_system",
            "source_id",
            "revision",
            "is_current",
            "batch_id",
            "content_hash",
        ];
        columns.extend_from_slice(kind.columns());
        let (tenant, batch_id) = (self.tenant, self.batch_id);
        let full_rows: Vec<OutRow<8>> = rows
            .iter()
            .map(|(row, revision)| OutRow {
                prefix: [
                    ValueRef::Int(tenant),
                    ValueRef::Int(row.time_ms),
                    ValueRef::Text(&row.source_system),
                    ValueRef::Text(&row.source_id),
                    ValueRef::Int(*revision),
                    ValueRef::Bool(true),
                    ValueRef::Int(batch_id),
                    ValueRef::Int(row.content_hash),
                ],
                rest: &row.values,
            })
            .collect();
        let skip_stored = first_load.then_some(IDENTITY);
        let written = self
            .bulk_insert(kind.table(), &columns, &full_rows, skip_stored)
            .await?;
        let mut child_columns = vec![
            "tenant_id",
            "answered_ms",
            "source_system",
            "source_id",
            "revision",
        ];
        child_columns.extend_from_slice(&CHILD_COLUMNS);
        let child_rows: Vec<OutRow<5>> = rows
            .iter()
            .flat_map(|(row, revision)| {
                row.children.iter().map(move |child| OutRow {
                    prefix: [
                        ValueRef::Int(tenant),
                        ValueRef::Int(row.time_ms),
                        ValueRef::Text(&row.source_system),
                        ValueRef::Text(&row.source_id),
                        ValueRef::Int(*revision),
                    ],
                    rest: child,
                })
            })
            .collect();
        if !child_rows.is_empty() {
            self.bulk_insert(CHILD_TABLE, &child_columns, &child_rows, None)
                .await?;
        }
        Ok(written)
    }

    /// One prepared INSERT bound row by row on SQLite (`sqlite_bulk`),
    /// leaving out rows whose `skip_stored` key is stored when given; COPY
    /// on PostgreSQL. Says which rows were written.
    async fn bulk_insert<const N: usize>(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &[OutRow<'_, N>],
        skip_stored: Option<&str>,
    ) -> StoreResult<Vec<bool>> {
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                return crate::sqlite_bulk::insert_rows(
                    tx,
                    table,
                    columns,
                    rows.iter().map(OutRow::values),
                    skip_stored,
                )
                .await;
            }
            Tx::Postgres(tx) => {
                let statement = format!(
                    "COPY {table} ({}) FROM STDIN WITH (FORMAT csv)",
                    columns.join(", ")
                );
                let mut buffer = Vec::with_capacity(rows.len() * 200);
                for row in rows {
                    for (i, value) in row.values().enumerate() {
                        if i > 0 {
                            buffer.push(b',');
                        }
                        push_copy_field(&mut buffer, value);
                    }
                    buffer.push(b'\n');
                }
                let mut copy = tx.copy_in_raw(&statement).await?;
                copy.send(buffer).await?;
                copy.finish().await?;
            }
        }
        Ok(vec![true; rows.len()])
    }

    /// Appends audit entries inside the import's transaction.
    pub async fn append_audit(&mut self, entries: &[AuditEntry]) -> StoreResult<()> {
        for entry in entries {
            on_tx!(&mut self.tx, |tx| crate::insert_audit!(
                self.tenant,
                entry,
                &mut **tx
            )?);
        }
        Ok(())
    }

    /// Replaces the source lines kept aside for `format` with `events`,
    /// each `(line, origin)`: what this import could not complete, earlier
    /// carried-over lines included.
    pub async fn replace_carried_over(
        &mut self,
        format: &str,
        events: &[(String, String)],
    ) -> StoreResult<()> {
        let delete = "DELETE FROM import_carry_over WHERE tenant_id = $1 AND format = $2";
        let insert = "INSERT INTO import_carry_over (tenant_id, format, line, origin) VALUES ($1, $2, $3, $4)
                      ON CONFLICT DO NOTHING";
        on_tx!(&mut self.tx, |tx| {
            sqlx::query(delete)
                .bind(self.tenant)
                .bind(format)
                .execute(&mut **tx)
                .await?;
            for event in events {
                sqlx::query(insert)
                    .bind(self.tenant)
                    .bind(format)
                    .bind(&event.0)
                    .bind(&event.1)
                    .execute(&mut **tx)
                    .await?;
            }
        });
        Ok(())
    }

    /// Survey responses written by this import whose contact is not in the
    /// store: how many, and the first few as `response -> contact`.
    pub async fn unmatched_surveys(&mut self) -> StoreResult<(u64, Vec<String>)> {
        let sql = "SELECT r.source_id, COALESCE(r.contact_source_id, '(none)') FROM survey_responses r
            WHERE r.tenant_id = $1 AND r.batch_id = $2 AND r.is_current
              AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.tenant_id = r.tenant_id
                  AND c.source_system = r.source_system AND c.source_id = r.contact_source_id AND c.is_current)
            ORDER BY r.answered_ms, r.source_id";
        let rows: Vec<(String, String)> = on_tx!(&mut self.tx, |tx| sqlx::query_as(sql)
            .bind(self.tenant)
            .bind(self.batch_id)
            .fetch_all(&mut **tx)
            .await?);
        let examples = rows
            .iter()
            .take(5)
            .map(|(response, contact)| format!("{response} -> {contact}"))
            .collect();
        Ok((rows.len() as u64, examples))
    }

    /// Records the batch and commits everything at once.
    pub async fn finish(mut self, mut record: ImportBatchRecord) -> StoreResult<FinishedImport> {
        record.id = self.batch_id;
        let sql = "INSERT INTO import_batches (tenant_id, id, kind, file_name, checksum, actor, started_ms, finished_ms,
                   n_inserted, n_updated, n_unchanged, n_rejected) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        macro_rules! run {
            ($tx:expr) => {
                sqlx::query(sql)
                    .bind(self.tenant)
                    .bind(record.id)
                    .bind(&record.kind)
                    .bind(&record.file_name)
                    .bind(&record.checksum)
                    .bind(&record.actor)
                    .bind(record.started_ms)
                    .bind(record.finished_ms)
                    .bind(record.n_inserted)
                    .bind(record.n_updated)
                    .bind(record.n_unchanged)
                    .bind(record.n_rejected)
                    .execute(&mut **$tx)
                    .await
                    .map(|_| ())?
            };
        }
        on_tx!(&mut self.tx, |tx| run!(tx));
        self.pending_days.finish(&mut self.tx, self.tenant).await?;
        self.invalidate_cache().await?;
        let added_contacts = self.added_contacts.take();
        on_tx!(self.tx, |tx| tx.commit().await?);
        if let Some(pool) = &self.taken_file {
            crate::sqlite_alone::give_back(pool).await?;
        }
        Ok(FinishedImport {
            record,
            added_contacts,
        })
    }

    /// Whether a stored survey response names one of `contacts` (by source
    /// id): its answers then move to that contact's day.
    async fn responses_name(&mut self, contacts: &[AddedContact]) -> StoreResult<bool> {
        let ids: Vec<&str> = contacts.iter().map(|c| c.source_id.as_str()).collect();
        Ok(match &mut self.tx {
            Tx::Sqlite(tx) => {
                let sql = "SELECT EXISTS (SELECT 1 FROM survey_responses WHERE tenant_id = $1 AND is_current
                           AND contact_source_id IN (SELECT value FROM json_each($2)))";
                sqlx::query_scalar(sql)
                    .bind(self.tenant)
                    .bind(serde_json::to_string(&ids).unwrap_or_default())
                    .fetch_one(&mut **tx)
                    .await?
            }
            Tx::Postgres(tx) => {
                let sql = "SELECT EXISTS (SELECT 1 FROM survey_responses WHERE tenant_id = $1 AND is_current
                           AND contact_source_id = ANY($2))";
                sqlx::query_scalar(sql)
                    .bind(self.tenant)
                    .bind(&ids)
                    .fetch_one(&mut **tx)
                    .await?
            }
        })
    }

    /// Deletes the report cache days this import can change: for contacts,
    /// their own days, and for FCR definitions the windows before them (a
    /// new contact can make an earlier one a repeat); for survey responses,
    /// the survey definitions' 31 days before them (answers count on their
    /// contact's day); two days either side for time zones. A changed
    /// organisation (teams, sites) clears it. An import that only added
    /// contacts, none of them named by a stored survey response, marks those
    /// days stale with its batch instead (`FinishedImport`); days an earlier
    /// import left marked are deleted then.
    async fn invalidate_cache(&mut self) -> StoreResult<()> {
        let tenant = self.tenant;
        let added = self.added_contacts.take();
        let mark = match &added {
            Some(added) if self.changed_contacts.is_some() && self.changed_surveys.is_none() => {
                !self.organisation_changed && !self.responses_name(added).await?
            }
            _ => false,
        };
        if mark {
            self.added_contacts = added;
            let sql = concat!(
                "DELETE FROM kpi_cache WHERE tenant_id = $1 AND ",
                crate::metrics::marked_stale!()
            );
            on_tx!(&mut self.tx, |tx| {
                sqlx::query(sql).bind(tenant).execute(&mut **tx).await?;
            });
        }
        if self.organisation_changed {
            let sql = "DELETE FROM kpi_cache WHERE tenant_id = $1";
            on_tx!(&mut self.tx, |tx| {
                sqlx::query(sql).bind(tenant).execute(&mut **tx).await?;
            });
            return Ok(());
        }
        let options: Vec<(String,)> = on_tx!(&mut self.tx, |tx| sqlx::query_as(
            "SELECT options_json FROM kpi_definitions WHERE tenant_id = $1"
        )
        .bind(tenant)
        .fetch_all(&mut **tx)
        .await?);
        let fcr_window_days = options
            .iter()
            .filter_map(|(json,)| serde_json::from_str::<serde_json::Value>(json).ok())
            .filter_map(|o| o["fcr_window_days"].as_i64())
            .max()
            .unwrap_or(7);
        // (changed range, days back, which definitions): every definition
        // on the contacts' own days; FCR definitions back by their window;
        // survey definitions back by 31 days for survey responses.
        const ALL: &str = "SELECT name FROM kpi_definitions WHERE tenant_id = $1";
        const FCR: &str =
            "SELECT name FROM kpi_definitions WHERE tenant_id = $1 AND kpi = 'fcr_repeat'";
        const SURVEYS: &str = "SELECT name FROM kpi_definitions WHERE tenant_id = $1
                               AND kpi IN ('csat', 'csat_mean', 'nps', 'fcr_survey')";
        let ranges = [
            (self.changed_contacts, 0, ALL),
            (self.changed_contacts, fcr_window_days, FCR),
            (self.changed_surveys, 31, SURVEYS),
        ];
        let mut days_touched = 0;
        for (range, lookback_days, definitions) in ranges {
            let Some((from_ms, to_ms)) = range else {
                continue;
            };
            let day = |ms: i64, shift_days: i64| {
                jiff::Timestamp::from_millisecond(ms + shift_days * 86_400_000)
                    .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
                    .unwrap_or_default()
            };
            let (first, last) = (day(from_ms, -lookback_days - 2), day(to_ms, 2));
            let days = format!(
                "tenant_id = $1 AND day >= $2 AND day <= $3 AND definition IN ({definitions})"
            );
            let sql = match mark {
                true => format!(
                    "INSERT INTO kpi_cache_stale (tenant_id, definition, version, projection, day, batch)
                     SELECT tenant_id, definition, version, projection, day, $4 FROM kpi_cache
                     WHERE {days} ON CONFLICT DO NOTHING"
                ),
                false => format!("DELETE FROM kpi_cache WHERE {days}"),
            };
            let batch = self.batch_id;
            days_touched += on_tx!(&mut self.tx, |tx| {
                let query = sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(tenant)
                    .bind(&first)
                    .bind(&last);
                match mark {
                    true => query.bind(batch),
                    false => query,
                }
                .execute(&mut **tx)
                .await?
                .rows_affected()
            });
        }
        // No cached day marked: nothing for the service to bring up to date.
        if mark && days_touched == 0 {
            self.added_contacts = None;
        }
        Ok(())
    }
}

pub(crate) async fn list_batches(
    store: &Store,
    tenant: TenantId,
) -> StoreResult<Vec<ImportBatchRecord>> {
    let sql = "SELECT id, kind, file_name, checksum, actor, started_ms, finished_ms, n_inserted, n_updated, n_unchanged, n_rejected
               FROM import_batches WHERE tenant_id = $1 ORDER BY id";
    Ok(on_store!(store, |pool| sqlx::query_as(sql)
        .bind(tenant)
        .fetch_all(pool)
        .await?))
}

impl From<String> for StoreError {
    fn from(message: String) -> Self {
        StoreError::Invalid(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use merit_domain::organisation::Channel;

    /// FNV-1a over a whole byte string (`Fnv1a` is checked against the
    /// published vectors in `rows`).
    fn fnv1a(bytes: &[u8]) -> i64 {
        let mut hash = Fnv1a::new();
        hash.write(bytes);
        hash.finish()
    }

    #[test]
    fn a_contacts_content_hash_is_fnv1a_over_its_time_and_tagged_values() {
        let contact = Contact {
            queue_id: Some("q".into()),
            end_ms: 2_000,
            ..Contact::arriving("s", "c1".into(), Channel::Chat, 1_000)
        };
        // The arrival (8 bytes, little-endian), then the 23 columns in
        // `RecordKind::columns` order, each tagged: 0 NULL; 1 and a number
        // (8 bytes); 3, the length (8 bytes) and the UTF-8 text.
        let text = |t: &str| [&[3u8][..], &(t.len() as u64).to_le_bytes(), t.as_bytes()].concat();
        let int = |v: i64| [&[1u8][..], &v.to_le_bytes()].concat();
        let null = || vec![0u8];
        let columns = [
            vec![text("chat"), text("q"), null(), null(), null()],
            vec![null(), null(), null(), null(), int(2_000), null()],
            vec![text("handled"), text("[]"), int(0), text("[]"), int(0)],
            vec![null(), null(), null(), null(), null(), null(), null()],
        ];
        let mut bytes = 1_000i64.to_le_bytes().to_vec();
        bytes.extend(columns.concat().concat());
        assert_eq!(Row::from_contact(contact).content_hash, fnv1a(&bytes));
    }
}
