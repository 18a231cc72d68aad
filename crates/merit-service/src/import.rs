//! Importing a file: stream it, write good rows in one transaction recorded
//! as an import batch, report every bad row, audit organisation changes.

use crate::agent_names::AgentNames;
use crate::report_cache::{self, CacheUpdate};
use crate::{Clock, ServiceError};
use merit_domain::TenantId;
use merit_domain::metrics::fast_hash::{FastMap, FastSet};
use merit_domain::organisation::{Agent, OrganisationRecord};
use merit_import::asterisk_cdr::CdrLayout;
use merit_import::mapped::Mapping;
use merit_import::native::{self, NativeRecord};
use merit_import::{CarriedEvent, ImportFormat, ImportKind, ReadOptions, RecordReader, RowProblem};
use merit_store::{
    AuditEntry, FinishedImport, ImportBatchRecord, ImportTx, RecordKind, Row, Store, StoredProblem,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Rows written per chunk: bounds memory whatever the file size.
const CHUNK_ROWS: usize = 1_000;
/// Row problems kept for display; the count covers all of them.
const KEPT_PROBLEMS: usize = 1_000;
/// Distinct unknown ids listed per kind of reference.
const KEPT_UNKNOWN: usize = 20;

/// What one file's import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub file: String,
    pub batch_id: i64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// The first problems, in file order (at most 1,000; `rejected` counts all).
    pub problems: Vec<RowProblem>,
    /// References to queues or agents the organisation does not know: kept, and listed here.
    pub notices: Vec<String>,
    /// Rows left out on purpose by the format's own rules, counted by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Rows kept after a correction (e.g. clock skew), each with what was corrected.
    pub warnings: Vec<RowProblem>,
    /// Records read, by kind (a queue_log brings contacts and agent states;
    /// a mapped file, contacts and survey responses).
    pub records: BTreeMap<&'static str, u64>,
    /// Survey responses of this file whose contact is not (yet) in the
    /// store: kept, counted here, with the first few named in `notices`.
    pub unmatched_surveys: u64,
    /// The report cache days this import changed, brought up to date after
    /// it committed (`None`: deleted, if any, for reports to recompute).
    pub cache_update: Option<CacheUpdate>,
}

impl ImportReport {
    pub fn total_rows(&self) -> u64 {
        self.inserted + self.updated + self.unchanged + self.rejected
    }
}

/// Who imports what, and where progress goes.
pub struct ImportRequest<'a> {
    pub tenant: TenantId,
    pub actor: &'a str,
    pub kind: ImportKind,
    pub format: ImportFormat,
    /// The zone of local times in the file; `None` = the centre's.
    pub time_zone: Option<&'a str>,
    /// The column mapping of a `mapped` file.
    pub mapping: Option<Arc<Mapping>>,
    /// The column order of an `asterisk-cdr` file (`None`: detected).
    pub cdr_layout: Option<CdrLayout>,
    pub path: &'a Path,
    /// The file's name as its sender knows it (an upload kept in a
    /// temporary file): used in the report, the row problems and the batch.
    pub display_name: Option<&'a str>,
    /// Called with the number of rows read so far, every chunk.
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// A batch run (the command line) that may keep others out of the store
    /// while it writes: see `ImportTx::begin_alone`. The web server's
    /// imports share the store with the pages it serves meanwhile.
    pub alone: bool,
}

/// The file's SHA-256, as `sha256:` and the digest in hex: what
/// `sha256sum` prints for the same file, so a batch can be matched to it.
fn checksum(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(format!("sha256:{}", crate::hex(&hasher.finalize())))
}

/// Queue and agent ids the organisation lacks, counted as rows name them
/// (hashed: every row of a large import looks up two ids).
struct Unknown {
    known_queues: FastSet<String>,
    known_agents: FastSet<String>,
    queues: FastMap<String, u64>,
    agents: FastMap<String, u64>,
}

impl Unknown {
    fn note(&mut self, queue: Option<&str>, agent: Option<&str>) {
        count_unknown(&self.known_queues, &mut self.queues, queue);
        count_unknown(&self.known_agents, &mut self.agents, agent);
    }

    fn notices(&self) -> Vec<String> {
        let queues: BTreeMap<_, _> = self.queues.iter().collect();
        let agents: BTreeMap<_, _> = self.agents.iter().collect();
        let queues = queues.into_iter().map(|(id, n)| ("queue", id, n));
        let agents = agents.into_iter().map(|(id, n)| ("agent", id, n));
        queues
            .chain(agents)
            .map(|(what, id, n)| format!("{what} {id:?} is not in the organisation ({n} rows kept; import the organisation to name it)"))
            .collect()
    }
}

/// Counts a reference to an id the organisation lacks, listing at most `KEPT_UNKNOWN` ids.
fn count_unknown(known: &FastSet<String>, counts: &mut FastMap<String, u64>, id: Option<&str>) {
    let Some(id) = id.filter(|id| !known.contains(*id)) else {
        return;
    };
    if counts.len() < KEPT_UNKNOWN || counts.contains_key(id) {
        *counts.entry(id.to_owned()).or_default() += 1;
    }
}

/// A chunk of parsed rows on its way to the store.
struct Chunk {
    rows: Vec<Row>,
    kinds: Vec<RecordKind>,
    lines: Vec<u64>,
    problems: Vec<RowProblem>,
    n_read: u64,
}

/// Reads and converts rows on a blocking thread, a chunk at a time, while
/// the previous chunk is written: parsing and writing overlap, and at most
/// two chunks are in memory whatever the file size.
/// What the reader thread hands back at the end.
struct ReaderEnd {
    created_agents: Vec<Agent>,
    unknown: Unknown,
    skipped: BTreeMap<String, u64>,
    warnings: Vec<RowProblem>,
    carried_over: Vec<CarriedEvent>,
    unfinished: Vec<String>,
    checksum: std::io::Result<String>,
}

fn parse_in_background(
    mut reader: Box<dyn RecordReader>,
    mut unknown: Unknown,
    mut agent_names: Option<AgentNames>,
    path: std::path::PathBuf,
) -> (
    mpsc::Receiver<Chunk>,
    std::sync::mpsc::Sender<Vec<Row>>,
    tokio::task::JoinHandle<ReaderEnd>,
) {
    let (sender, receiver) = mpsc::channel(1);
    // Rows the writer is done with come back to be freed here, on the
    // thread that allocated them: freeing them took about a tenth of the
    // writer's time, and the writer is the import's bottleneck.
    let (spent_sender, spent) = std::sync::mpsc::channel::<Vec<Row>>();
    // The checksum reads the file a second time on a thread of its own, from
    // the start: taken after the last row, it kept the writer waiting.
    let summing = std::thread::spawn({
        let path = path.clone();
        move || checksum(&path)
    });
    let handle = tokio::task::spawn_blocking(move || {
        let empty = || Chunk {
            rows: Vec::with_capacity(CHUNK_ROWS),
            kinds: Vec::new(),
            lines: Vec::new(),
            problems: Vec::new(),
            n_read: 0,
        };
        let mut chunk = empty();
        let mut n_read = 0;
        // A row refused for its agent name: the survey on the same row goes with it.
        let mut refused_line = None;
        let mut noted_created = 0;
        for item in &mut reader {
            n_read += 1;
            let item = match (item, &mut agent_names) {
                (Ok((line, _)), Some(_)) if refused_line == Some(line) => continue,
                (Ok((line, record)), Some(names)) => {
                    match named_agent(names, record, &path) {
                        Ok(record) => {
                            // Created here: known from now on, not a notice.
                            for agent in &names.created[noted_created..] {
                                unknown.known_agents.insert(agent.id.clone());
                            }
                            noted_created = names.created.len();
                            Ok((line, record))
                        }
                        Err(mut problem) => {
                            problem.line = line;
                            refused_line = Some(line);
                            Err(problem)
                        }
                    }
                }
                (item, _) => item,
            };
            match item {
                Err(problem) => chunk.problems.push(problem),
                Ok((line, record)) => {
                    let (kind, row) = match record {
                        NativeRecord::Contact(c) => {
                            unknown.note(c.queue_id.as_deref(), c.agent_id.as_deref());
                            (RecordKind::Contacts, Row::from_contact(*c))
                        }
                        NativeRecord::State(system, s) => {
                            unknown.note(None, Some(&s.agent_id));
                            (RecordKind::AgentStates, Row::from_state(&system, &s))
                        }
                        NativeRecord::Schedule(system, s) => {
                            unknown.note(None, Some(&s.agent_id));
                            (RecordKind::Schedules, Row::from_schedule(&system, &s))
                        }
                        NativeRecord::Absence(system, a) => {
                            unknown.note(None, Some(&a.agent_id));
                            (RecordKind::Absences, Row::from_absence(&system, &a))
                        }
                        NativeRecord::Survey(s) => {
                            unknown.note(None, s.agent_id.as_deref());
                            (RecordKind::Surveys, Row::from_survey(&s))
                        }
                        NativeRecord::Organisation(_) => continue,
                    };
                    chunk.rows.push(row);
                    chunk.kinds.push(kind);
                    chunk.lines.push(line);
                }
            }
            if chunk.rows.len() >= CHUNK_ROWS {
                spent.try_iter().for_each(drop);
                chunk.n_read = n_read;
                let full = std::mem::replace(&mut chunk, empty());
                if sender.blocking_send(full).is_err() {
                    break;
                }
            }
        }
        chunk.n_read = n_read;
        let _ = sender.blocking_send(chunk);
        let (carried_over, unfinished) = reader.carry_over();
        ReaderEnd {
            created_agents: agent_names.map(|n| n.created).unwrap_or_default(),
            unknown,
            skipped: reader.skipped(),
            warnings: reader.warnings(),
            carried_over,
            unfinished,
            checksum: summing
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the checksum stopped"))),
        }
    });
    (receiver, spent_sender, handle)
}

/// Imports one native file as one batch. A file of the wrong format is
/// refused before anything is written; bad rows are reported and skipped.
/// With a `display_name`, the report and a refusal name the file by it.
pub async fn import_file(
    store: &Store,
    clock: &dyn Clock,
    request: ImportRequest<'_>,
) -> Result<ImportReport, ServiceError> {
    let display_name = request.display_name;
    let result = import_file_at(store, clock, request).await;
    let Some(name) = display_name else {
        return result;
    };
    match result {
        Err(ServiceError::Refused(refused)) => Err(ServiceError::Refused(refused.named(name))),
        other => other,
    }
}

/// Names the file in a report by `name` instead of its `path`.
fn relabel(report: &mut ImportReport, path: &str, name: &str) {
    report.file = name.to_owned();
    for problem in report.problems.iter_mut().chain(report.warnings.iter_mut()) {
        if problem.file == path {
            problem.file = name.to_owned();
        }
    }
    for notice in &mut report.notices {
        *notice = notice.replace(path, name);
    }
}

async fn import_file_at(
    store: &Store,
    clock: &dyn Clock,
    request: ImportRequest<'_>,
) -> Result<ImportReport, ServiceError> {
    let started_ms = clock.now_ms();
    let file = request.path.display().to_string();
    if request.kind == ImportKind::Organisation {
        let reader = native::open(request.path, request.kind)?;
        let checksum = checksum(request.path)?;
        return import_organisation(store, clock, request, reader, checksum).await;
    }
    let time_zone = match request.time_zone {
        Some(zone) => zone.to_owned(),
        None => store.centre(request.tenant).await?.1,
    };
    let options = ReadOptions {
        zone: crate::time_zone(&time_zone)?,
        mapping: request.mapping.clone(),
        cdr_layout: request.cdr_layout,
        carried_over: store
            .carried_over(request.tenant, request.format.as_str())
            .await?
            .into_iter()
            .map(|(line, origin)| CarriedEvent { line, origin })
            .collect(),
    };
    let zone = options.zone.clone();
    let reader = merit_import::open(request.path, request.kind, request.format, options)?;
    let organisation = store.load_organisation(request.tenant).await?;
    let unknown = Unknown {
        known_queues: organisation.queues.iter().map(|q| q.id.clone()).collect(),
        known_agents: organisation.agents.iter().map(|a| a.id.clone()).collect(),
        queues: FastMap::default(),
        agents: FastMap::default(),
    };
    let mut report = ImportReport {
        file: file.clone(),
        ..ImportReport::default()
    };
    let agent_names = match &request.mapping {
        Some(mapping) => {
            if let Some(site) = &mapping.agent_site
                && !organisation.sites.iter().any(|s| &s.id == site)
            {
                return Err(ServiceError::Invalid {
                    field: "agent_site",
                    reason: format!(
                        "the mapping's agent_site {site:?} is not a site of the organisation"
                    ),
                });
            }
            AgentNames::new(
                mapping.agents,
                mapping.agent_site.as_deref(),
                &organisation,
                zone,
            )
        }
        None => None,
    };
    let mut tx = if request.alone {
        ImportTx::begin_alone(store, request.tenant).await?
    } else {
        ImportTx::begin(store, request.tenant).await?
    };
    let (mut chunks, spent, parser) =
        parse_in_background(reader, unknown, agent_names, request.path.to_path_buf());
    while let Some(mut chunk) = chunks.recv().await {
        for problem in chunk.problems {
            report.reject(problem);
        }
        for kind in RecordKind::ALL {
            let positions: Vec<usize> = (0..chunk.rows.len())
                .filter(|&i| chunk.kinds[i] == kind)
                .collect();
            if positions.is_empty() {
                continue;
            }
            *report.records.entry(kind.noun()).or_default() += positions.len() as u64;
            let mut rows: Vec<Row> = positions
                .iter()
                .map(|&i| std::mem::take(&mut chunk.rows[i]))
                .collect();
            let outcome = tx.write_chunk(kind, &mut rows).await?;
            report.inserted += outcome.inserted;
            report.updated += outcome.updated;
            report.unchanged += outcome.unchanged;
            for position in outcome.duplicates {
                report.reject(RowProblem {
                    file: file.clone(),
                    line: chunk.lines[positions[position]],
                    field: "source_id".into(),
                    reason: format!(
                        "{:?} appears earlier in this file",
                        rows[position].source_id
                    ),
                });
            }
            // The reader may have finished: then the rows are freed here.
            let _ = spent.send(rows);
        }
        (request.progress)(chunk.n_read);
    }
    let end = parser
        .await
        .map_err(|e| std::io::Error::other(format!("the reader stopped: {e}")))?;
    let checksum = end.checksum?;
    report.problems.sort_by_key(|p| p.line);
    report.notices = end.unknown.notices();
    report.notices.extend(end.unfinished);
    report.skipped = end.skipped;
    report.warnings = end.warnings;
    if let Some(name) = request.display_name {
        relabel(&mut report, &file, name);
    }
    let carried: Vec<(String, String)> = end
        .carried_over
        .into_iter()
        .map(|e| (e.line, e.origin))
        .collect();
    tx.replace_carried_over(request.format.as_str(), &carried)
        .await?;
    if !end.created_agents.is_empty() {
        let records: Vec<OrganisationRecord> = end
            .created_agents
            .into_iter()
            .map(OrganisationRecord::Agent)
            .collect();
        let audit: Vec<AuditEntry> = records
            .iter()
            .map(|record| AuditEntry {
                at_ms: clock.now_ms(),
                actor: request.actor.into(),
                action: "organisation.create".into(),
                record_kind: "agent".into(),
                record_id: record_key(record).1,
                before_json: None,
                after_json: serde_json::to_string(record).ok(),
            })
            .collect();
        report.notices.push(format!(
            "created {} agents from names in the file: {}",
            records.len(),
            records
                .iter()
                .map(|r| record_key(r).1)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        tx.write_organisation(&records).await?;
        tx.append_audit(&audit).await?;
    }
    if report.records.contains_key(RecordKind::Surveys.noun()) {
        let (count, examples) = tx.unmatched_surveys().await?;
        report.unmatched_surveys = count;
        if count > 0 {
            report.notices.push(format!(
                "{count} survey responses name a contact that is not in the store (kept; they link when it is imported): {}",
                examples.join(", ")
            ));
        }
    }
    let finished = finish_batch(tx, &request, &report, checksum, started_ms, clock).await?;
    report.batch_id = finished.record.id;
    report.cache_update = update_cache(store, clock, request.tenant, finished).await;
    Ok(report)
}

/// A record whose agent column holds a name, with the name turned into an id.
fn named_agent(
    names: &mut AgentNames,
    mut record: NativeRecord,
    path: &Path,
) -> Result<NativeRecord, RowProblem> {
    let (agent, at_ms) = match &mut record {
        NativeRecord::Contact(c) => (&mut c.agent_id, c.arrival_ms),
        NativeRecord::Survey(s) => (&mut s.agent_id, s.answered_ms),
        _ => return Ok(record),
    };
    if let Some(name) = agent.as_deref() {
        let id = names.id(name, at_ms).map_err(|reason| RowProblem {
            file: path.display().to_string(),
            line: 0,
            field: "agent".into(),
            reason,
        })?;
        *agent = Some(id);
    }
    Ok(record)
}

/// Brings the report cache days a committed import marked stale up to date
/// (`report_cache`). The import stands if that fails: the days stay out of
/// reports' reach until a report recomputes them.
async fn update_cache(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    finished: FinishedImport,
) -> Option<CacheUpdate> {
    let added = finished.added_contacts?;
    let batch = finished.record.id;
    match report_cache::update_after_import(store, clock, tenant, batch, &added).await {
        Ok(update) => Some(update),
        Err(e) => {
            tracing::warn!("the report cache was not brought up to date after batch {batch}: {e}");
            None
        }
    }
}

/// Audits the batch, records it and commits the import.
async fn finish_batch(
    mut tx: ImportTx,
    request: &ImportRequest<'_>,
    report: &ImportReport,
    checksum: String,
    started_ms: i64,
    clock: &dyn Clock,
) -> Result<FinishedImport, ServiceError> {
    tx.append_audit(&[batch_audit(request, report, tx.batch_id(), clock.now_ms())])
        .await?;
    let problems: Vec<StoredProblem> = report
        .problems
        .iter()
        .map(|p| StoredProblem {
            file_name: p.file.clone(),
            line: i64::try_from(p.line).unwrap_or(i64::MAX),
            field: p.field.clone(),
            reason: p.reason.clone(),
        })
        .collect();
    tx.keep_problems(&problems).await?;
    Ok(tx
        .finish(batch_record(
            request,
            report,
            checksum,
            started_ms,
            clock.now_ms(),
        ))
        .await?)
}

/// The audit entry of an import of records: who loaded which file with what counts.
fn batch_audit(
    request: &ImportRequest<'_>,
    report: &ImportReport,
    batch_id: i64,
    at_ms: i64,
) -> AuditEntry {
    AuditEntry {
        at_ms,
        actor: request.actor.into(),
        action: "import.batch".into(),
        record_kind: request.kind.as_str().into(),
        record_id: batch_id.to_string(),
        before_json: None,
        after_json: Some(
            serde_json::json!({
                "file": report.file,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
                "skipped": report.skipped,
                "format": request.format.as_str(),
            })
            .to_string(),
        ),
    }
}

fn batch_record(
    request: &ImportRequest<'_>,
    report: &ImportReport,
    checksum: String,
    started_ms: i64,
    finished_ms: i64,
) -> ImportBatchRecord {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    ImportBatchRecord {
        id: 0,
        kind: request.kind.as_str().into(),
        file_name: report.file.clone(),
        checksum,
        actor: request.actor.into(),
        started_ms,
        finished_ms,
        n_inserted: count(report.inserted),
        n_updated: count(report.updated),
        n_unchanged: count(report.unchanged),
        n_rejected: count(report.rejected),
    }
}

impl ImportReport {
    fn reject(&mut self, problem: RowProblem) {
        self.rejected += 1;
        if self.problems.len() < KEPT_PROBLEMS {
            self.problems.push(problem);
        }
    }
}

fn record_key(record: &OrganisationRecord) -> (&'static str, String) {
    match record {
        OrganisationRecord::Site(s) => ("site", s.id.clone()),
        OrganisationRecord::Team(t) => ("team", t.id.clone()),
        OrganisationRecord::Queue(q) => ("queue", q.id.clone()),
        OrganisationRecord::Agent(a) => ("agent", a.id.clone()),
        OrganisationRecord::Membership(m) => {
            ("membership", format!("{}@{}", m.agent_id, m.from_date))
        }
    }
}

/// The organisation is small: read it whole, check references, save the
/// records that are new or changed with one audit entry each.
async fn import_organisation(
    store: &Store,
    clock: &dyn Clock,
    request: ImportRequest<'_>,
    reader: native::NativeReader,
    checksum: String,
) -> Result<ImportReport, ServiceError> {
    let file = request.path.display().to_string();
    let started_ms = clock.now_ms();
    let mut report = ImportReport {
        file: file.clone(),
        ..ImportReport::default()
    };
    let stored = store.load_organisation(request.tenant).await?;
    let mut current: BTreeMap<(&'static str, String), OrganisationRecord> = stored
        .records()
        .into_iter()
        .map(|r| (record_key(&r), r))
        .collect();
    let mut seen = BTreeSet::new();
    let mut changes = Vec::new();
    let mut audit = Vec::new();
    for item in reader {
        let (line, record) = match item {
            Err(problem) => {
                report.reject(problem);
                continue;
            }
            Ok((line, NativeRecord::Organisation(record))) => (line, record),
            Ok(_) => continue,
        };
        let key = record_key(&record);
        let problem = |field: &str, reason: String| RowProblem {
            file: file.clone(),
            line,
            field: field.into(),
            reason,
        };
        if !seen.insert(key.clone()) {
            report.reject(problem(
                "id",
                format!("{} {:?} appears earlier in this file", key.0, key.1),
            ));
            continue;
        }
        if let Some((field, reason)) = missing_reference(&record, &current) {
            report.reject(problem(field, reason));
            continue;
        }
        let before = current.get(&key);
        if before == Some(&record) {
            report.unchanged += 1;
            continue;
        }
        audit.push(AuditEntry {
            at_ms: clock.now_ms(),
            actor: request.actor.into(),
            action: if before.is_some() {
                "organisation.update"
            } else {
                "organisation.create"
            }
            .into(),
            record_kind: key.0.into(),
            record_id: key.1.clone(),
            before_json: before.and_then(|b| serde_json::to_string(b).ok()),
            after_json: serde_json::to_string(&record).ok(),
        });
        if before.is_some() {
            report.updated += 1;
        } else {
            report.inserted += 1;
        }
        changes.push(record.clone());
        current.insert(key, record);
    }
    report.problems.sort_by_key(|p| p.line);
    (request.progress)(report.total_rows());
    // The changes, their audit entries and the batch record commit together.
    let mut tx = ImportTx::begin(store, request.tenant).await?;
    tx.write_organisation(&changes).await?;
    tx.append_audit(&audit).await?;
    if let Some(name) = request.display_name {
        relabel(&mut report, &file, name);
    }
    // An organisation import adds no contacts (a change to it clears the
    // report cache): nothing to bring up to date.
    report.batch_id = finish_batch(tx, &request, &report, checksum, started_ms, clock)
        .await?
        .record
        .id;
    Ok(report)
}

/// A site, team or agent the record points to that neither the store nor the file (so far) has.
fn missing_reference(
    record: &OrganisationRecord,
    known: &BTreeMap<(&'static str, String), OrganisationRecord>,
) -> Option<(&'static str, String)> {
    let has = |kind: &'static str, id: &str| known.contains_key(&(kind, id.to_owned()));
    let site = |id: &str| {
        (!has("site", id)).then(|| {
            (
                "site_id",
                format!("site {id:?} is not defined (define it earlier in the file)"),
            )
        })
    };
    match record {
        OrganisationRecord::Site(_) => None,
        OrganisationRecord::Team(t) => site(&t.site_id),
        OrganisationRecord::Queue(q) => site(&q.site_id),
        OrganisationRecord::Agent(a) => site(&a.site_id),
        OrganisationRecord::Membership(m) => {
            if !has("agent", &m.agent_id) {
                Some((
                    "id",
                    format!(
                        "agent {:?} is not defined (define it earlier in the file)",
                        m.agent_id
                    ),
                ))
            } else if !has("team", &m.team_id) {
                Some(("team_id", format!("team {:?} is not defined", m.team_id)))
            } else {
                None
            }
        }
    }
}
