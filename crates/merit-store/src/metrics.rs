//! What the metrics engine reads and writes: KPI definition versions
//! (append-only) and current contacts and survey answers as columns.

use crate::packed_days::{ANSWER_DAYS, CONTACT_DAYS, invalid_day};
use crate::sqlite_bulk::LentRows;
use crate::{AuditEntry, Store, StoreError, StoreResult, insert_audit, on_store};
use merit_domain::TenantId;
use merit_domain::activity::{Activity, AgentState};
use merit_domain::contact::Outcome;
use merit_domain::metrics::cores;
use merit_domain::metrics::packed::{
    self, AnswerFacts, AnswerView, RowFilter, WantedRows, utc_day,
};
use merit_domain::metrics::workforce::AgentActivity;
use merit_domain::metrics::{
    ContactFacts, ContactTable, DefinitionVersion, Direction, Kpi, SurveyFact, Target, TargetScope,
};
use merit_domain::organisation::Channel;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sqlx::AssertSqlSafe;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::sync::Arc;

const SELECT_DEFINITIONS: &str = "SELECT name, version, kpi, effective_from, options_json, recorded_ms, recorded_on, recorded_by, reason
    FROM kpi_definitions WHERE tenant_id = $1 ORDER BY name, version";

const INSERT_DEFINITION: &str = "INSERT INTO kpi_definitions
    (tenant_id, name, version, kpi, effective_from, options_json, recorded_ms, recorded_on, recorded_by, reason)
    VALUES ($1, $2, (SELECT COALESCE(MAX(version), 0) + 1 FROM kpi_definitions WHERE tenant_id = $1 AND name = $2),
            $3, $4, $5, $6, $7, $8, $9)";

type DefinitionRow = (
    String,
    i64,
    String,
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
);

fn definition(row: DefinitionRow) -> StoreResult<DefinitionVersion> {
    let (name, version, kpi, from, options, recorded_ms, recorded_on, recorded_by, reason) = row;
    let bad = |what: &str| StoreError::Invalid(format!("definition {name} v{version}: bad {what}"));
    Ok(DefinitionVersion {
        kpi: Kpi::parse(&kpi).ok_or_else(|| bad("kpi"))?,
        effective_from: from.parse().map_err(|_| bad("effective_from"))?,
        options: serde_json::from_str(&options).map_err(|_| bad("options"))?,
        recorded_on: recorded_on.parse().map_err(|_| bad("recorded_on"))?,
        name,
        version,
        recorded_ms,
        recorded_by,
        reason,
    })
}

/// The columns of a contact the engine reads, in `ContactRow` order.
const CONTACT_COLUMNS: &str = "source_system, source_id, channel, queue_id, contact_type, customer_id, agent_id,
    wrap_up_code, arrival_ms, end_ms, outcome, queue_entry_ms, queue_exit_ms, answer_ms, after_work_end_ms,
    hold_ms, n_transfers, first_response_ms, resolution_ms, sale_amount_minor, sale_cancelled_ms";

const CONTACTS_WHERE: &str =
    "FROM contacts WHERE tenant_id = $1 AND is_current AND arrival_ms >= $2 AND arrival_ms < $3";

/// The columns of a numeric survey answer, in `SurveyAnswerRow` order.
const SURVEY_COLUMNS: &str = "r.source_system, r.source_id, r.contact_source_id, r.agent_id, r.answered_ms, a.question_id, a.value";

const SURVEYS_WHERE: &str = "FROM survey_responses r JOIN survey_answers a
      ON a.tenant_id = r.tenant_id AND a.source_system = r.source_system AND a.source_id = r.source_id
     AND a.revision = r.revision AND a.answered_ms = r.answered_ms
    WHERE r.tenant_id = $1 AND r.is_current AND a.value IS NOT NULL AND r.answered_ms >= $2 AND r.answered_ms < $3";

/// One contact as read, fields in `CONTACT_COLUMNS` order: decoded by name
/// from PostgreSQL rows, by position from SQLite's JSON arrays.
#[derive(sqlx::FromRow, Deserialize)]
struct ContactRow {
    source_system: String,
    source_id: String,
    channel: String,
    queue_id: Option<String>,
    contact_type: Option<String>,
    customer_id: Option<String>,
    agent_id: Option<String>,
    wrap_up_code: Option<String>,
    arrival_ms: i64,
    end_ms: i64,
    outcome: String,
    queue_entry_ms: Option<i64>,
    queue_exit_ms: Option<i64>,
    answer_ms: Option<i64>,
    after_work_end_ms: Option<i64>,
    hold_ms: i64,
    n_transfers: i64,
    first_response_ms: Option<i64>,
    resolution_ms: Option<i64>,
    sale_amount_minor: Option<i64>,
    sale_cancelled_ms: Option<i64>,
}

impl ContactRow {
    fn facts(self) -> StoreResult<ContactFacts> {
        let bad = |what: &str, value: &str| {
            StoreError::Invalid(format!("contact {}: bad {what} {value:?}", self.source_id))
        };
        let channel = Channel::parse(&self.channel).ok_or_else(|| bad("channel", &self.channel))?;
        let outcome = Outcome::parse(&self.outcome).ok_or_else(|| bad("outcome", &self.outcome))?;
        let answer = self.answer_ms;
        let hold_ms = if answer.is_some() { self.hold_ms } else { 0 };
        Ok(ContactFacts {
            wait_ms: self
                .queue_entry_ms
                .and_then(|entry| answer.or(self.queue_exit_ms).map(|left| left - entry)),
            answered: answer.is_some(),
            talk_ms: answer.map_or(0, |a| (self.end_ms - a - hold_ms).max(0)),
            hold_ms,
            after_work_ms: self.after_work_end_ms.map_or(0, |e| e - self.end_ms),
            transferred: self.n_transfers > 0,
            sale_cancelled: self.sale_cancelled_ms.is_some(),
            sale_minor: self.sale_amount_minor,
            source_system: self.source_system,
            source_id: self.source_id,
            channel,
            queue_id: self.queue_id,
            contact_type: self.contact_type,
            customer_id: self.customer_id,
            agent_id: self.agent_id,
            wrap_up_code: self.wrap_up_code,
            arrival_ms: self.arrival_ms,
            end_ms: self.end_ms,
            outcome,
            first_response_ms: self.first_response_ms,
            resolution_ms: self.resolution_ms,
        })
    }
}

#[derive(sqlx::FromRow, Deserialize)]
struct SurveyAnswerRow {
    source_system: String,
    source_id: String,
    contact_source_id: Option<String>,
    agent_id: Option<String>,
    answered_ms: i64,
    question_id: String,
    value: i64,
}

/// Reads every row of `SELECT columns where_clause` bound to (tenant, from,
/// to). PostgreSQL streams rows; through sqlx, SQLite hands each row to the
/// reader thread on its own, which costs more than reading it, so there
/// the rows come as one JSON array per hour of `time_column` and are
/// decoded by position.
async fn read_rows<T>(
    store: &Store,
    columns: &str,
    where_clause: &str,
    time_column: &str,
    bind: (TenantId, i64, i64),
) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + DeserializeOwned + Send + Unpin,
{
    let (tenant, from_ms, to_ms) = bind;
    match store {
        Store::Postgres(pool) => {
            let sql = format!("SELECT {columns} {where_clause}");
            Ok(sqlx::query_as(AssertSqlSafe(sql))
                .bind(tenant)
                .bind(from_ms)
                .bind(to_ms)
                .fetch_all(pool)
                .await?)
        }
        Store::Sqlite(pool) => {
            // Positions, not names, inside the JSON array: drop any `AS name`.
            let values: Vec<&str> = columns
                .split(',')
                .map(|c| c.rsplit_once(" AS ").map_or(c, |(value, _)| value))
                .collect();
            let values = values.join(",");
            let sql = format!(
                "SELECT json_group_array(json_array({values})) {where_clause} GROUP BY {time_column} / 3600000"
            );
            // A day at a time, so only one day's JSON is in memory at once.
            let mut rows = Vec::new();
            let mut day_from = from_ms;
            while day_from < to_ms {
                let day_to = (day_from + 86_400_000).min(to_ms);
                let chunks: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(sql.as_str()))
                    .bind(tenant)
                    .bind(day_from)
                    .bind(day_to)
                    .fetch_all(pool)
                    .await?;
                for (chunk,) in chunks {
                    let decoded: Vec<T> = serde_json::from_str(&chunk)
                        .map_err(|e| StoreError::Invalid(format!("reading rows: {e}")))?;
                    rows.extend(decoded);
                }
                day_from = day_to;
            }
            Ok(rows)
        }
    }
}

impl Store {
    /// Every version of every stored definition, by name then version.
    pub async fn definition_versions(
        &self,
        tenant: TenantId,
    ) -> StoreResult<Vec<DefinitionVersion>> {
        let rows: Vec<DefinitionRow> = on_store!(self, |pool| sqlx::query_as(SELECT_DEFINITIONS)
            .bind(tenant)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(definition).collect()
    }

    /// Records new versions (numbered max + 1 per name) with their audit
    /// entries, in one transaction. Returns the version numbers given.
    pub async fn add_definition_versions(
        &self,
        tenant: TenantId,
        versions: &[DefinitionVersion],
        audit: &[AuditEntry],
    ) -> StoreResult<Vec<i64>> {
        let options: Vec<String> = versions
            .iter()
            .map(|v| {
                serde_json::to_string(&v.options).map_err(|e| StoreError::Invalid(e.to_string()))
            })
            .collect::<StoreResult<_>>()?;
        on_store!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut numbers = Vec::new();
            for (v, options) in versions.iter().zip(&options) {
                sqlx::query(INSERT_DEFINITION)
                    .bind(tenant)
                    .bind(&v.name)
                    .bind(v.kpi.as_str())
                    .bind(v.effective_from.to_string())
                    .bind(options)
                    .bind(v.recorded_ms)
                    .bind(v.recorded_on.to_string())
                    .bind(&v.recorded_by)
                    .bind(&v.reason)
                    .execute(&mut *tx)
                    .await?;
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT MAX(version) FROM kpi_definitions WHERE tenant_id = $1 AND name = $2",
                )
                .bind(tenant)
                .bind(&v.name)
                .fetch_one(&mut *tx)
                .await?;
                numbers.push(n);
            }
            for entry in audit {
                insert_audit!(tenant, entry, &mut *tx)?;
            }
            tx.commit().await?;
            Ok(numbers)
        })
    }

    /// Current contacts that arrived in `[from_ms, to_ms)`, as columns,
    /// from the packed days. Customer and wrap-up code (what repeat-contact
    /// FCR matches on) are read only `with_customers`; otherwise they are
    /// left empty.
    pub async fn contact_table(
        &self,
        tenant: TenantId,
        window: (i64, i64),
        with_customers: bool,
    ) -> StoreResult<ContactTable> {
        let days = self
            .packed_days(CONTACT_DAYS, tenant, packed_day_range(window))
            .await?;
        decoded_in_runs(&days, |day, bytes, table| {
            packed::append_contacts(bytes, window, with_customers, table)
                .map_err(|e| invalid_day(CONTACT_DAYS, day, e))
        })
    }

    /// `contact_table`, only the contacts `filter` accepts.
    pub async fn contact_table_where<K, R>(
        &self,
        tenant: TenantId,
        window: (i64, i64),
        with_customers: bool,
        filter: &RowFilter<K, R>,
    ) -> StoreResult<ContactTable>
    where
        K: Fn(u32) -> bool + Sync,
        R: Fn(Option<(&str, u64)>, &str) -> bool + Sync,
    {
        // Few rows are kept: found as each day is read, decoded on
        // another core while this one reads on.
        let range = packed_day_range(window);
        let rows = self.packed_rows_in(CONTACT_DAYS, tenant, range).await?;
        let rows = usize::try_from(rows).unwrap_or(0);
        self.with_packed_days(CONTACT_DAYS, tenant, range, |days| {
            let wanted = |day, bytes: &[u8]| {
                WantedRows::of(bytes, window, filter).map_err(|e| invalid_day(CONTACT_DAYS, day, e))
            };
            decoded_while_read(days, rows, wanted, |day, wanted, run, table| {
                wanted
                    .append_run(run, with_customers, filter, table)
                    .map_err(|e| invalid_day(CONTACT_DAYS, day, e))
            })
        })
        .await?
    }

    /// `contact_table` read from the revisioned rows instead of the packed
    /// days: what the packed days are built from, and a second method to
    /// check them against.
    pub async fn contact_table_from_rows(
        &self,
        tenant: TenantId,
        window: (i64, i64),
        with_customers: bool,
    ) -> StoreResult<ContactTable> {
        let mut table = ContactTable::default();
        for facts in self
            .contact_facts_from_rows(tenant, window, with_customers)
            .await?
        {
            table.push(facts);
        }
        Ok(table)
    }

    pub(crate) async fn contact_facts_from_rows(
        &self,
        tenant: TenantId,
        (from_ms, to_ms): (i64, i64),
        with_customers: bool,
    ) -> StoreResult<Vec<ContactFacts>> {
        let columns = if with_customers {
            CONTACT_COLUMNS.to_owned()
        } else {
            CONTACT_COLUMNS
                .replace("customer_id", "CAST(NULL AS TEXT) AS customer_id")
                .replace("wrap_up_code", "CAST(NULL AS TEXT) AS wrap_up_code")
        };
        let rows: Vec<ContactRow> = read_rows(
            self,
            &columns,
            CONTACTS_WHERE,
            "arrival_ms",
            (tenant, from_ms, to_ms),
        )
        .await?;
        rows.into_iter().map(ContactRow::facts).collect()
    }

    /// Numeric survey answers given in `[from_ms, to_ms)` to the questions
    /// `asked` accepts, from the packed days.
    pub async fn survey_answers(
        &self,
        tenant: TenantId,
        window: (i64, i64),
        asked: impl Fn(&str) -> bool + Sync,
    ) -> StoreResult<SurveyAnswers> {
        let days = self.survey_answer_days(tenant, window).await?;
        let views = days.views(&asked)?;
        Ok(SurveyAnswers(
            views.into_iter().map(AnswerView::facts).collect(),
        ))
    }

    /// The packed days of survey answers given in `window`, not yet
    /// decoded: `AnswerDays::link` them to the loaded contacts.
    pub async fn survey_answer_days(
        &self,
        tenant: TenantId,
        window: (i64, i64),
    ) -> StoreResult<AnswerDays> {
        let days = self
            .packed_days(ANSWER_DAYS, tenant, packed_day_range(window))
            .await?;
        Ok(AnswerDays { days, window })
    }

    /// `survey_answers` read from the revisioned rows, every question:
    /// what the packed days are built from.
    pub async fn survey_answers_from_rows(
        &self,
        tenant: TenantId,
        (from_ms, to_ms): (i64, i64),
    ) -> StoreResult<SurveyAnswers> {
        let rows: Vec<SurveyAnswerRow> = read_rows(
            self,
            SURVEY_COLUMNS,
            SURVEYS_WHERE,
            "r.answered_ms",
            (tenant, from_ms, to_ms),
        )
        .await?;
        Ok(SurveyAnswers(
            rows.into_iter()
                .map(|r| AnswerFacts {
                    source_system: r.source_system,
                    source_id: r.source_id,
                    contact_source_id: r.contact_source_id,
                    agent_id: r.agent_id,
                    answered_ms: r.answered_ms,
                    question_id: r.question_id,
                    value: r.value,
                })
                .collect(),
        ))
    }
}

/// Packed `days` decoded on every core. Every row is decoded, so days cost
/// about their rows: a run of days per core, each into a table of its
/// own; the tables appended in day order. The first run's table has room
/// for every row.
fn decoded_in_runs(
    days: &[(i64, i64, Vec<u8>)],
    decode: impl Fn(i64, &[u8], &mut ContactTable) -> StoreResult<()> + Sync,
) -> StoreResult<ContactTable> {
    let rows_in = |run: &[(i64, i64, Vec<u8>)]| run.iter().map(|(_, n, _)| *n as usize).sum();
    let decoded = cores::over_shares(days.len(), |run| -> StoreResult<ContactTable> {
        let mut table = ContactTable::default();
        table.reserve(match run.start {
            0 => rows_in(days),
            _ => rows_in(&days[run.clone()]),
        });
        for (day, _, bytes) in &days[run] {
            decode(*day, bytes, &mut table)?;
        }
        Ok(table)
    });
    let mut decoded = decoded.into_iter();
    let mut table = decoded
        .next()
        .unwrap_or_else(|| Ok(ContactTable::default()))?;
    for run in decoded {
        table.append(run?);
    }
    Ok(table)
}

/// Packed `days` (`rows` rows in all, at most) decoded in day order into
/// one table: for reads that keep few rows. This thread finds each day's
/// `wanted` rows as it reads it and queues them in runs; another thread
/// decodes the runs from the front as they come. When the read ends, this
/// thread decodes the later runs still waiting that hold half their rows,
/// into a table of its own that follows the other's. A day that holds
/// most of the rows kept (the day just imported, say) is thus shared
/// between the two.
fn decoded_while_read(
    days: &mut dyn LentRows,
    rows: usize,
    wanted: impl Fn(i64, &[u8]) -> StoreResult<WantedRows>,
    decode: impl Fn(i64, &WantedRows, Range<usize>, &mut ContactTable) -> StoreResult<()> + Sync,
) -> StoreResult<ContactTable> {
    let decode_runs = |runs: &mut dyn Iterator<Item = Run>, rows: usize| {
        // Room for every row: reserved, not written, so an unused page
        // costs nothing, and the columns are never copied to grow.
        let mut table = ContactTable::default();
        table.reserve(rows);
        for run in runs {
            decode(run.day, &run.wanted, run.rows, &mut table)?;
        }
        StoreResult::Ok(table)
    };
    let waiting = RunQueue::default();
    std::thread::scope(|scope| {
        let decoder = scope.spawn(|| decode_runs(&mut std::iter::from_fn(|| waiting.next()), rows));
        let mut read = Ok(());
        while let Some(day) = days.next_row() {
            match day.and_then(|(day, _, bytes)| Ok((day, wanted(day, bytes)?))) {
                Ok((day, found)) => waiting.push(day, found),
                Err(e) => {
                    read = Err(e);
                    break;
                }
            }
            // The decoder stopped on a bad run: its error is the answer.
            if decoder.is_finished() {
                break;
            }
        }
        let later = waiting.finish();
        let later_rows = later.iter().map(|run| run.rows.len()).sum();
        let later_table = decode_runs(&mut later.into_iter(), later_rows);
        let mut table = decoder
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        read?;
        table.append(later_table?);
        Ok(table)
    })
}

/// A run of a day's wanted rows waiting to be decoded.
struct Run {
    day: i64,
    wanted: Arc<WantedRows>,
    rows: Range<usize>,
}

/// Runs queued and not yet decoded, for `decoded_while_read`: (the runs,
/// whether the read has ended).
#[derive(Default)]
struct RunQueue {
    state: std::sync::Mutex<(VecDeque<Run>, bool)>,
    changed: std::sync::Condvar,
}

impl RunQueue {
    /// The rows in a run: enough that queueing a run costs little beside
    /// decoding it, few enough that the two threads end together.
    const RUN_ROWS: usize = 2_048;

    fn lock(&self) -> std::sync::MutexGuard<'_, (VecDeque<Run>, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a day's wanted rows in runs.
    fn push(&self, day: i64, wanted: WantedRows) {
        let wanted = Arc::new(wanted);
        let runs = (0..wanted.len()).step_by(Self::RUN_ROWS).map(|start| Run {
            day,
            wanted: wanted.clone(),
            rows: start..(start + Self::RUN_ROWS).min(wanted.len()),
        });
        self.lock().0.extend(runs);
        self.changed.notify_one();
    }

    /// The first run waiting, once there is one; `None` when the read has
    /// ended and none is left.
    fn next(&self) -> Option<Run> {
        let mut state = self.lock();
        loop {
            if let Some(run) = state.0.pop_front() {
                return Some(run);
            }
            if state.1 {
                return None;
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Ends the read: the later runs still waiting that hold half their
    /// rows are taken away (in order), the rest left for `next`. Halved by
    /// rows, not by runs: the day just imported makes many full runs, the
    /// days after it a small one each.
    fn finish(&self) -> VecDeque<Run> {
        let mut state = self.lock();
        state.1 = true;
        let half = state.0.iter().map(|run| run.rows.len()).sum::<usize>() / 2;
        let mut later_rows = 0;
        let mut keep = state.0.len();
        while keep > 0 && later_rows < half {
            keep -= 1;
            later_rows += state.0[keep].rows.len();
        }
        let later = state.0.split_off(keep);
        drop(state);
        self.changed.notify_one();
        later
    }
}

/// The UTC days a window `[from_ms, to_ms)` touches.
fn packed_day_range((from_ms, to_ms): (i64, i64)) -> (i64, i64) {
    (utc_day(from_ms), utc_day(to_ms - 1))
}

/// Survey answers as read.
#[derive(Debug, PartialEq, Eq)]
pub struct SurveyAnswers(pub Vec<AnswerFacts>);

/// Packed days of survey answers and the window of answer times wanted.
pub struct AnswerDays {
    days: Vec<(i64, i64, Vec<u8>)>,
    window: (i64, i64),
}

impl AnswerDays {
    /// The answers in the window to the questions `asked` accepts, in day
    /// order, decoded on every core (a run of days each).
    fn views(&self, asked: &(impl Fn(&str) -> bool + Sync)) -> StoreResult<Vec<AnswerView<'_>>> {
        let (from_ms, to_ms) = self.window;
        let decoded = cores::over_shares(self.days.len(), |share| -> StoreResult<Vec<_>> {
            let mut answers = Vec::new();
            for (day, _, bytes) in &self.days[share] {
                let unpacked = packed::unpack_answer_views(bytes, asked)
                    .map_err(|e| invalid_day(ANSWER_DAYS, *day, e))?;
                answers.extend(
                    unpacked
                        .into_iter()
                        .filter(|a| from_ms <= a.answered_ms && a.answered_ms < to_ms),
                );
            }
            Ok(answers)
        });
        let mut answers = Vec::new();
        for share in decoded {
            answers.extend(share?);
        }
        Ok(answers)
    }

    /// The answers to the questions `asked` accepts, each with its
    /// contact's row in `contacts` when that contact is loaded; texts are
    /// copied only for what a figure keeps.
    pub fn link(
        &self,
        asked: impl Fn(&str) -> bool + Sync,
        contacts: &ContactTable,
    ) -> StoreResult<Vec<SurveyFact>> {
        let views = self.views(&asked)?;
        let wanted: Vec<(&str, &str)> = views
            .iter()
            .filter_map(|a| Some((a.source_system, a.contact_source_id?)))
            .collect();
        let mut rows = contacts.rows_of(&wanted).into_iter();
        Ok(views
            .into_iter()
            .map(|a| SurveyFact {
                contact_row: match a.contact_source_id {
                    Some(_) => rows.next().flatten(),
                    None => None,
                },
                source_id: a.source_id.to_owned(),
                question_id: a.question_id.to_owned(),
                value: i32::try_from(a.value).unwrap_or(i32::MAX),
                answered_ms: a.answered_ms,
                agent_id: a.agent_id.map(str::to_owned),
            })
            .collect())
    }
}

const SELECT_TARGETS: &str = "SELECT definition, scope, effective_from, target, amber_limit, direction, recorded_ms, recorded_by
    FROM kpi_targets WHERE tenant_id = $1 ORDER BY definition, scope, effective_from, recorded_ms";

type TargetRow = (String, String, String, f64, f64, String, i64, String);

impl Store {
    /// Every target ever set, oldest first per definition and scope.
    pub async fn targets(&self, tenant: TenantId) -> StoreResult<Vec<Target>> {
        let rows: Vec<TargetRow> = on_store!(self, |pool| sqlx::query_as(SELECT_TARGETS)
            .bind(tenant)
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(
                |(
                    definition,
                    scope,
                    from,
                    target,
                    amber_limit,
                    direction,
                    recorded_ms,
                    recorded_by,
                )| {
                    let bad = |what: &str| {
                        StoreError::Invalid(format!("target {definition} {scope}: bad {what}"))
                    };
                    Ok(Target {
                        scope: TargetScope::parse(&scope).ok_or_else(|| bad("scope"))?,
                        effective_from: from.parse().map_err(|_| bad("effective_from"))?,
                        direction: match direction.as_str() {
                            "higher_is_better" => Direction::HigherIsBetter,
                            "lower_is_better" => Direction::LowerIsBetter,
                            _ => return Err(bad("direction")),
                        },
                        definition,
                        target,
                        amber_limit,
                        recorded_ms,
                        recorded_by,
                    })
                },
            )
            .collect()
    }

    /// Records a target with its audit entry, in one transaction.
    pub async fn add_target(
        &self,
        tenant: TenantId,
        target: &Target,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let direction = match target.direction {
            Direction::HigherIsBetter => "higher_is_better",
            Direction::LowerIsBetter => "lower_is_better",
        };
        on_store!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO kpi_targets (tenant_id, definition, scope, effective_from, target, amber_limit, direction, recorded_ms, recorded_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(tenant)
            .bind(&target.definition)
            .bind(target.scope.label())
            .bind(target.effective_from.to_string())
            .bind(target.target)
            .bind(target.amber_limit)
            .bind(direction)
            .bind(target.recorded_ms)
            .bind(&target.recorded_by)
            .execute(&mut *tx)
            .await?;
            insert_audit!(tenant, audit, &mut *tx)?;
            tx.commit().await?;
            Ok(())
        })
    }
}

impl Store {
    /// Current agent states and schedule segments in `[from_ms, to_ms)`, by agent, in time order.
    pub async fn agent_activity(
        &self,
        tenant: TenantId,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<BTreeMap<String, AgentActivity>> {
        let bind = (tenant, from_ms, to_ms);
        let states: Vec<(String, i64, String)> = read_rows(
            self,
            "agent_id, at_ms, state",
            "FROM agent_states WHERE tenant_id = $1 AND is_current AND at_ms >= $2 AND at_ms < $3",
            "at_ms",
            bind,
        )
        .await?;
        let segments: Vec<(String, i64, i64, String)> = read_rows(
            self,
            "agent_id, start_ms, end_ms, activity",
            "FROM schedule_segments WHERE tenant_id = $1 AND is_current AND start_ms >= $2 AND start_ms < $3",
            "start_ms",
            bind,
        )
        .await?;
        let mut out: BTreeMap<String, AgentActivity> = BTreeMap::new();
        for (agent, at_ms, state) in states {
            let state = AgentState::parse(&state)
                .ok_or_else(|| StoreError::Invalid(format!("agent state: bad state {state:?}")))?;
            out.entry(agent).or_default().states.push((at_ms, state));
        }
        for (agent, start_ms, end_ms, activity) in segments {
            let activity = Activity::parse(&activity).ok_or_else(|| {
                StoreError::Invalid(format!("schedule: bad activity {activity:?}"))
            })?;
            out.entry(agent)
                .or_default()
                .schedule
                .push((start_ms, end_ms, activity));
        }
        // Rows come in time order within each hour, not overall.
        for activity in out.values_mut() {
            activity.states.sort_by_key(|(at_ms, _)| *at_ms);
            activity.schedule.sort_by_key(|(start_ms, _, _)| *start_ms);
        }
        Ok(out)
    }
}

/// Whether a `kpi_cache` row has a stale mark, in a query's condition.
macro_rules! marked_stale {
    () => {
        "EXISTS (SELECT 1 FROM kpi_cache_stale s
                 WHERE s.tenant_id = kpi_cache.tenant_id AND s.definition = kpi_cache.definition
                   AND s.version = kpi_cache.version AND s.projection = kpi_cache.projection
                   AND s.day = kpi_cache.day)"
    };
}
pub(crate) use marked_stale;

impl Store {
    /// The cached days of one definition version and projection from `from` to `to`.
    pub async fn cached_days(
        &self,
        tenant: TenantId,
        (definition, version, projection): (&str, i64, &str),
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> StoreResult<Vec<(jiff::civil::Date, Vec<u8>)>> {
        let sql = concat!(
            "SELECT day, aggregates FROM kpi_cache
             WHERE tenant_id = $1 AND definition = $2 AND version = $3 AND projection = $4
               AND day >= $5 AND day <= $6 AND NOT ",
            marked_stale!()
        );
        let rows: Vec<(String, Vec<u8>)> = on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(definition)
            .bind(version)
            .bind(projection)
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|(day, bytes)| Ok((cache_day(&day)?, bytes)))
            .collect()
    }

    /// Stores computed days of one definition version and projection,
    /// replacing any already there.
    pub async fn put_cached_days(
        &self,
        tenant: TenantId,
        (definition, version, projection): (&str, i64, &str),
        days: &[(jiff::civil::Date, Vec<u8>)],
        computed_ms: i64,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO kpi_cache (tenant_id, definition, version, projection, day, computed_ms, aggregates)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)
                   ON CONFLICT (tenant_id, definition, version, projection, day)
                   DO UPDATE SET computed_ms = excluded.computed_ms, aggregates = excluded.aggregates";
        // A day computed now is up to date: a stale mark it had goes (when
        // the tenant has any, which is seldom).
        let any_marked = "SELECT EXISTS (SELECT 1 FROM kpi_cache_stale WHERE tenant_id = $1)";
        let unmark = "DELETE FROM kpi_cache_stale WHERE tenant_id = $1 AND definition = $2
                      AND version = $3 AND projection = $4 AND day = $5";
        on_store!(self, |pool| {
            let mut tx = pool.begin().await?;
            let marked: bool = sqlx::query_scalar(any_marked)
                .bind(tenant)
                .fetch_one(&mut *tx)
                .await?;
            for (day, bytes) in days {
                let day = day.to_string();
                sqlx::query(sql)
                    .bind(tenant)
                    .bind(definition)
                    .bind(version)
                    .bind(projection)
                    .bind(&day)
                    .bind(computed_ms)
                    .bind(bytes)
                    .execute(&mut *tx)
                    .await?;
                if !marked {
                    continue;
                }
                sqlx::query(unmark)
                    .bind(tenant)
                    .bind(definition)
                    .bind(version)
                    .bind(projection)
                    .bind(&day)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The cached days import batch `batch` marked stale (see
    /// `ImportTx::finish`).
    pub async fn stale_cached_days(
        &self,
        tenant: TenantId,
        batch: i64,
    ) -> StoreResult<Vec<StaleCachedDay>> {
        let sql = "SELECT c.definition, c.version, c.projection, c.day, c.aggregates
                   FROM kpi_cache_stale s
                   JOIN kpi_cache c USING (tenant_id, definition, version, projection, day)
                   WHERE s.tenant_id = $1 AND s.batch = $2";
        let rows: Vec<(String, i64, String, String, Vec<u8>)> =
            on_store!(self, |pool| sqlx::query_as(sql)
                .bind(tenant)
                .bind(batch)
                .fetch_all(pool)
                .await?);
        rows.into_iter()
            .map(|(definition, version, projection, day, aggregates)| {
                Ok(StaleCachedDay {
                    day: cache_day(&day)?,
                    definition,
                    version,
                    projection,
                    aggregates,
                })
            })
            .collect()
    }

    /// Brings the days `batch` marked stale up to date, in one transaction:
    /// `replaced` get new aggregates, `dropped` are deleted (a report
    /// recomputes them), the others are kept as they are. A day no longer
    /// marked by `batch` (a later import took it) is left alone.
    pub async fn refresh_cached_days(
        &self,
        tenant: TenantId,
        batch: i64,
        replaced: &[(&StaleCachedDay, Vec<u8>)],
        dropped: &[&StaleCachedDay],
        computed_ms: i64,
    ) -> StoreResult<()> {
        // The day, while `batch`'s mark is on it.
        const DAY: &str = "tenant_id = $1 AND definition = $3 AND version = $4
                           AND projection = $5 AND day = $6
                           AND EXISTS (SELECT 1 FROM kpi_cache_stale
                                       WHERE tenant_id = $1 AND batch = $2 AND definition = $3
                                         AND version = $4 AND projection = $5 AND day = $6)";
        let replace = format!("UPDATE kpi_cache SET aggregates = $7, computed_ms = $8 WHERE {DAY}");
        // A deleted day's mark goes with it (ON DELETE CASCADE).
        let drop = format!("DELETE FROM kpi_cache WHERE {DAY}");
        let unmark = "DELETE FROM kpi_cache_stale WHERE tenant_id = $1 AND batch = $2";
        on_store!(self, |pool| {
            let mut tx = pool.begin().await?;
            let days = replaced.iter().map(|(d, bytes)| (*d, Some(bytes)));
            for (d, bytes) in days.chain(dropped.iter().map(|d| (*d, None))) {
                let sql = match bytes {
                    Some(_) => replace.as_str(),
                    None => drop.as_str(),
                };
                let query = sqlx::query(AssertSqlSafe(sql))
                    .bind(tenant)
                    .bind(batch)
                    .bind(&d.definition)
                    .bind(d.version)
                    .bind(&d.projection)
                    .bind(d.day.to_string());
                match bytes {
                    Some(bytes) => query.bind(bytes).bind(computed_ms),
                    None => query,
                }
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(unmark)
                .bind(tenant)
                .bind(batch)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}

/// A `kpi_cache` day as stored (ISO text).
fn cache_day(day: &str) -> StoreResult<jiff::civil::Date> {
    day.parse()
        .map_err(|_| StoreError::Invalid(format!("kpi_cache: bad day {day:?}")))
}

/// A cached day an import marked stale, as stored.
#[derive(Debug, Clone)]
pub struct StaleCachedDay {
    pub definition: String,
    pub version: i64,
    pub projection: String,
    pub day: jiff::civil::Date,
    pub aggregates: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite_bulk::{OwnedRows, TwoIntegersAndBlob};
    use merit_domain::metrics::ContactFacts;

    fn contact(day: i64, k: i64) -> ContactFacts {
        let arrival_ms = day * 86_400_000 + k * 60_000;
        ContactFacts {
            source_system: "acd".into(),
            source_id: format!("d{day}-{k}"),
            channel: Channel::VoiceInbound,
            queue_id: Some(format!("q{}", k % 3)),
            contact_type: Some("bill_query".into()),
            customer_id: Some(format!("cust{}", k % 7)),
            agent_id: Some(format!("ag{}", (day + k) % 5)),
            wrap_up_code: None,
            arrival_ms,
            end_ms: arrival_ms + 300_000,
            outcome: Outcome::Handled,
            wait_ms: Some(k * 1_000),
            answered: true,
            talk_ms: 200_000,
            hold_ms: 0,
            after_work_ms: 30_000,
            transferred: false,
            first_response_ms: None,
            resolution_ms: None,
            sale_minor: None,
            sale_cancelled: false,
        }
    }

    /// When the read ends this thread takes the later runs that hold half
    /// the rows waiting, however many runs that is: here the large day's
    /// last two runs and the three small days', not half the runs.
    #[test]
    fn the_read_ends_with_the_runs_waiting_halved_by_rows() {
        let waiting = RunQueue::default();
        let every = RowFilter::new(|_| true, |_, _| true);
        for (day, n) in [(20_000, 5_000), (20_001, 50), (20_002, 50), (20_003, 50)] {
            let rows: Vec<ContactFacts> = (0..n).map(|k| contact(day, k)).collect();
            let wanted =
                WantedRows::of(&packed::pack_contacts(&rows), (i64::MIN, i64::MAX), &every);
            waiting.push(day, wanted.unwrap());
        }
        // Runs of 2,048, 2,048, 904, 50, 50 and 50 rows: 5,150 in all.
        let later: Vec<(i64, usize)> = waiting
            .finish()
            .iter()
            .map(|run| (run.day, run.rows.len()))
            .collect();
        assert_eq!(
            later,
            [
                (20_000, 2_048),
                (20_000, 904),
                (20_001, 50),
                (20_002, 50),
                (20_003, 50)
            ]
        );
        let first = waiting.next().map(|run| (run.day, run.rows));
        assert_eq!(first, Some((20_000, 0..2_048)));
        assert!(waiting.next().is_none());
    }

    /// Days read far quicker than they are decoded (from memory), one of
    /// them holding several runs' rows, so that both threads decode runs:
    /// the table is still the wanted rows in day and row order, and a bad
    /// day is the answer.
    #[test]
    fn days_decoded_while_read_are_the_wanted_rows_in_day_order() {
        let days: Vec<(i64, Vec<ContactFacts>)> = (20_000..20_040)
            .map(|day| {
                let n = if day == 20_030 { 5_000 } else { 50 };
                (day, (0..n).map(|k| contact(day, k)).collect())
            })
            .collect();
        // The large day's rows (all wanted by key) make three runs.
        assert!(days[30].1.len() > 2 * RunQueue::RUN_ROWS);
        let packed: Vec<TwoIntegersAndBlob> = days
            .iter()
            .map(|(day, rows)| (*day, rows.len() as i64, packed::pack_contacts(rows)))
            .collect();
        // Every third contact, by source id (the filter's second test).
        let third = |id: &str| {
            id.rsplit('-')
                .next()
                .and_then(|k| k.parse::<u64>().ok())
                .is_some_and(|k| k % 3 == 0)
        };
        let filter = RowFilter::new(|_| true, |_, id| third(id));
        let wanted = |day, bytes: &[u8]| {
            WantedRows::of(bytes, (i64::MIN, i64::MAX), &filter)
                .map_err(|e| invalid_day(CONTACT_DAYS, day, e))
        };
        let decode = |day, wanted: &WantedRows, run, table: &mut ContactTable| {
            wanted
                .append_run(run, true, &filter, table)
                .map_err(|e| invalid_day(CONTACT_DAYS, day, e))
        };
        let table =
            decoded_while_read(&mut OwnedRows::new(packed.clone()), 6_000, wanted, decode).unwrap();
        let expected: Vec<ContactFacts> = days
            .into_iter()
            .flat_map(|(_, rows)| rows)
            .filter(|c| third(&c.source_id))
            .collect();
        let read: Vec<ContactFacts> = (0..table.len()).filter_map(|i| table.row(i)).collect();
        assert_eq!(read.len(), expected.len());
        assert!(read == expected, "rows differ or are out of order");

        let mut with_bad_day = packed;
        with_bad_day[30].2.truncate(10);
        let refused = decoded_while_read(&mut OwnedRows::new(with_bad_day), 6_000, wanted, decode);
        assert!(refused.is_err());
    }
}
