//! Merit's native format (docs/formats.md): CSV with a header, or JSON Lines
//! with the same field names, one file per kind. Times are RFC 3339 with an
//! offset (`2026-08-03T08:15:00Z`), stored as UTC milliseconds.

use crate::text::{field_text, open_text};
use crate::{FileRefused, ImportKind, RowProblem};
use jiff::Timestamp;
use jiff::civil::Date;
use merit_domain::UtcMs;
use merit_domain::activity::{
    Absence, AbsenceKind, Activity, AgentState, AgentStateEvent, ScheduleSegment,
};
use merit_domain::contact::{Contact, HoldSegment, Outcome, Sale, Transfer};
use merit_domain::money::Money;
use merit_domain::organisation::{
    Agent, Channel, EmploymentEndReason, OrganisationRecord, Queue, Site, Team, TeamMembership,
};
use merit_domain::survey::{Asker, Scale, SurveyAnswer, SurveyResponse};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

/// The source system recorded when a file does not name one.
pub const DEFAULT_SOURCE_SYSTEM: &str = "native";

/// Columns per kind: (required, optional).
pub fn columns(kind: ImportKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ImportKind::Contacts => (
            &["source_id", "channel", "arrival", "end", "outcome"],
            &[
                "source_system",
                "queue_id",
                "contact_type",
                "customer_id",
                "agent_id",
                "menu_exit",
                "queue_entry",
                "queue_exit",
                "answer",
                "after_work_end",
                "holds",
                "transfers",
                "wrap_up_code",
                "recording_url",
                "first_response",
                "resolution",
                "sale_value",
                "sale_currency",
                "sale_cancelled",
            ],
        ),
        ImportKind::States => (
            &["source_id", "agent_id", "at", "state"],
            &["source_system", "reason"],
        ),
        ImportKind::Schedules => (
            &["source_id", "agent_id", "start", "end", "activity"],
            &["source_system"],
        ),
        ImportKind::Absences => (
            &["source_id", "agent_id", "start", "end", "kind", "reason"],
            &["source_system"],
        ),
        ImportKind::Surveys => (
            &[
                "source_id",
                "answered_at",
                "asked_by",
                "question_id",
                "scale",
            ],
            &[
                "source_system",
                "contact_source_id",
                "agent_id",
                "value",
                "text",
            ],
        ),
        ImportKind::Organisation => (
            &["record", "id"],
            &[
                "name",
                "site_id",
                "time_zone",
                "channel",
                "hire_date",
                "employment_end_date",
                "employment_end_reason",
                "team_id",
                "from_date",
                "to_date",
            ],
        ),
    }
}

/// One record read from a native file.
#[derive(Debug, Clone, PartialEq)]
pub enum NativeRecord {
    Contact(Box<Contact>),
    State(String, AgentStateEvent),
    Schedule(String, ScheduleSegment),
    Absence(String, Absence),
    Survey(SurveyResponse),
    Organisation(OrganisationRecord),
}

enum Source {
    Csv(csv::Reader<Box<dyn Read + Send>>),
    JsonLines {
        lines: std::io::Lines<BufReader<Box<dyn Read + Send>>>,
        line: u64,
    },
}

/// Streams a native file: yields `(line, record)` or a row problem.
pub struct NativeReader {
    file: String,
    kind: ImportKind,
    source: Source,
    /// The known columns, required then optional.
    names: std::sync::Arc<[&'static str]>,
    /// For each known column, its position in the CSV header.
    positions: Vec<Option<usize>>,
    /// The CSV row buffer, reused.
    record: csv::ByteRecord,
    header_len: usize,
    pending_survey: Option<(u64, SurveyResponse)>,
    finished: bool,
}

fn refuse(file: &str, reason: impl Into<String>) -> FileRefused {
    FileRefused::NotThisFormat {
        file: file.to_owned(),
        reason: reason.into(),
    }
}

/// Opens `path` as a native file of `kind`, refusing it whole if it is empty,
/// binary, or lacks the kind's required columns.
pub fn open(path: &Path, kind: ImportKind) -> Result<NativeReader, FileRefused> {
    let file = path.display().to_string();
    let (head, reader) = open_text(
        path,
        &format!("a native {} file (CSV or JSON Lines)", kind.as_str()),
    )?;
    let first = head
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b < 0x80);
    let (required, optional) = columns(kind);
    let known: Vec<&str> = required.iter().chain(optional).copied().collect();
    if first == Some(b'{') {
        let first_line = String::from_utf8_lossy(&head);
        let first_line = first_line
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        if first_line.len() < head.len()
            && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(first_line)
                .is_err()
        {
            return Err(refuse(
                &file,
                "the first line is not a JSON object, so this is not JSON Lines",
            ));
        }
        return Ok(NativeReader {
            file,
            kind,
            source: Source::JsonLines {
                lines: BufReader::new(reader).lines(),
                line: 0,
            },
            positions: (0..known.len()).map(Some).collect(),
            names: known.clone().into(),
            record: csv::ByteRecord::new(),
            header_len: known.len(),
            pending_survey: None,
            finished: false,
        });
    }
    let mut csv_reader = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let header: Vec<String> = csv_reader
        .byte_headers()
        .map_err(|e| refuse(&file, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| field_text(h).trim().to_owned())
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        let delimiter_hint = match header.as_slice() {
            [only] if only.contains(';') => {
                " (the header is separated by ';': native CSV uses ',')"
            }
            [only] if only.contains('\t') => {
                " (the header is separated by tabs: native CSV uses ',')"
            }
            _ => "",
        };
        return Err(refuse(
            &file,
            format!(
                "not a native {} file: missing column(s) {}{delimiter_hint}; found: {}",
                kind.as_str(),
                missing.join(", "),
                header.join(", ")
            ),
        ));
    }
    Ok(NativeReader {
        file,
        kind,
        positions: known
            .iter()
            .map(|k| header.iter().position(|h| h == k))
            .collect(),
        names: known.into(),
        record: csv::ByteRecord::new(),
        header_len: header.len(),
        source: Source::Csv(csv_reader),
        pending_survey: None,
        finished: false,
    })
}

/// One row's fields by known-column index: all their text in one buffer,
/// and each field's range in it (two allocations a row, not one per field).
struct Fields {
    text: String,
    ranges: Vec<Option<std::ops::Range<usize>>>,
    names: std::sync::Arc<[&'static str]>,
    /// Where the next name look-up starts: one past the last one found.
    /// Records read their fields mostly in column order, so a look-up
    /// usually compares one name instead of half of them.
    next_index: std::cell::Cell<usize>,
}

type FieldResult<T> = Result<T, (String, String)>;

fn problem(field: &str, reason: impl Into<String>) -> (String, String) {
    (field.to_owned(), reason.into())
}

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        let start = self.next_index.get();
        let index = (start..self.names.len())
            .chain(0..start)
            .find(|&i| self.names[i] == name)?;
        self.next_index.set(index + 1);
        let range = self.ranges.get(index)?.clone()?;
        Some(self.text[range].trim()).filter(|v| !v.is_empty())
    }
    fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }
    fn required(&self, name: &str) -> FieldResult<String> {
        self.text(name).ok_or_else(|| problem(name, "is empty"))
    }
    fn time(&self, name: &str) -> FieldResult<Option<UtcMs>> {
        self.get(name).map(|v| parse_time(name, v)).transpose()
    }
    fn required_time(&self, name: &str) -> FieldResult<UtcMs> {
        self.time(name)?.ok_or_else(|| problem(name, "is empty"))
    }
    fn date(&self, name: &str) -> FieldResult<Option<Date>> {
        self.get(name)
            .map(|v| {
                v.parse::<Date>()
                    .map_err(|_| problem(name, format!("{v:?} is not a date (YYYY-MM-DD)")))
            })
            .transpose()
    }
    /// One of `all`, by its name (`as_str`).
    fn choice<T: Copy>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        all: &[T],
        as_str: fn(T) -> &'static str,
    ) -> FieldResult<T> {
        let value = self.get(name).ok_or_else(|| problem(name, "is empty"))?;
        parse(value).ok_or_else(|| {
            problem(
                name,
                format!(
                    "{value:?} is not one of {}",
                    names_of(all, as_str).join(", ")
                ),
            )
        })
    }
    fn source_system(&self) -> String {
        self.text("source_system")
            .unwrap_or_else(|| DEFAULT_SOURCE_SYSTEM.to_owned())
    }
}

fn parse_time(field: &str, value: &str) -> FieldResult<UtcMs> {
    crate::utc_time::rfc3339_ms(value).ok_or_else(|| {
        problem(
            field,
            format!("{value:?} is not an RFC 3339 time with an offset, e.g. 2026-08-03T08:15:00Z"),
        )
    })
}

fn names_of<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

fn parse_holds(f: &Fields) -> FieldResult<Vec<HoldSegment>> {
    let Some(text) = f.get("holds") else {
        return Ok(vec![]);
    };
    text.split(';')
        .map(|part| {
            let (start, end) = part
                .split_once('/')
                .ok_or_else(|| problem("holds", format!("{part:?} is not start/end")))?;
            Ok(HoldSegment {
                start_ms: parse_time("holds", start.trim())?,
                end_ms: parse_time("holds", end.trim())?,
            })
        })
        .collect()
}

fn parse_transfers(f: &Fields) -> FieldResult<Vec<Transfer>> {
    let Some(text) = f.get("transfers") else {
        return Ok(vec![]);
    };
    text.split(';')
        .map(|part| {
            let (at, target) = part
                .split_once('>')
                .ok_or_else(|| problem("transfers", format!("{part:?} is not time>target")))?;
            Ok(Transfer {
                at_ms: parse_time("transfers", at.trim())?,
                target: target.trim().to_owned(),
            })
        })
        .collect()
}

/// A sales contact's sale: its value, currency and cancellation.
fn sale(f: &Fields) -> FieldResult<Option<Sale>> {
    let Some(value) = f.get("sale_value") else {
        return Ok(None);
    };
    let currency = f.required("sale_currency")?;
    let money = Money::parse(value, &currency).map_err(|e| problem("sale_value", e.to_string()))?;
    Ok(Some(Sale {
        value: money,
        cancelled_at_ms: f.time("sale_cancelled")?,
    }))
}

fn contact(f: &Fields) -> FieldResult<Contact> {
    // Fields in column order (`columns`): each look-up then starts at its own field.
    let contact = Contact {
        source_id: f.required("source_id")?,
        channel: f.choice("channel", Channel::parse, &Channel::ALL, Channel::as_str)?,
        arrival_ms: f.required_time("arrival")?,
        end_ms: f.required_time("end")?,
        outcome: f.choice("outcome", Outcome::parse, &Outcome::ALL, Outcome::as_str)?,
        source_system: f.source_system(),
        queue_id: f.text("queue_id"),
        contact_type: f.text("contact_type"),
        customer_id: f.text("customer_id"),
        agent_id: f.text("agent_id"),
        menu_exit_ms: f.time("menu_exit")?,
        queue_entry_ms: f.time("queue_entry")?,
        queue_exit_ms: f.time("queue_exit")?,
        answer_ms: f.time("answer")?,
        after_work_end_ms: f.time("after_work_end")?,
        holds: parse_holds(f)?,
        transfers: parse_transfers(f)?,
        wrap_up_code: f.text("wrap_up_code"),
        recording_url: f.text("recording_url"),
        first_response_ms: f.time("first_response")?,
        resolution_ms: f.time("resolution")?,
        sale: sale(f)?,
    };
    contact.validate().map_err(|e| problem(e.field, e.reason))?;
    Ok(contact)
}

fn interval(f: &Fields) -> FieldResult<(UtcMs, UtcMs)> {
    let (start, end) = (f.required_time("start")?, f.required_time("end")?);
    if end < start {
        return Err(problem(
            "end",
            format!("is {} ms before start", start - end),
        ));
    }
    Ok((start, end))
}

fn survey_answer(f: &Fields) -> FieldResult<SurveyAnswer> {
    let scale = f.choice("scale", Scale::parse, Scale::ALL, Scale::as_str)?;
    let question_id = f.required("question_id")?;
    if scale == Scale::Text {
        return Ok(SurveyAnswer {
            question_id,
            scale,
            value: None,
            text: f.text("text"),
        });
    }
    let raw = f.required("value")?;
    let value: i32 = match (scale, raw.as_str()) {
        (Scale::YesNo, "yes") => 1,
        (Scale::YesNo, "no") => 0,
        _ => raw
            .parse()
            .map_err(|_| problem("value", format!("{raw:?} is not a whole number")))?,
    };
    if !scale.accepts(value) {
        return Err(problem(
            "value",
            format!("{value} is outside the {} scale", scale.as_str()),
        ));
    }
    Ok(SurveyAnswer {
        question_id,
        scale,
        value: Some(value),
        text: f.text("text"),
    })
}

fn organisation_record(f: &Fields) -> FieldResult<OrganisationRecord> {
    let id = f.required("id")?;
    let record = f.required("record")?;
    Ok(match record.as_str() {
        "site" => {
            let time_zone = f.required("time_zone")?;
            jiff::tz::TimeZone::get(&time_zone).map_err(|_| {
                problem(
                    "time_zone",
                    format!("{time_zone:?} is not an IANA time zone"),
                )
            })?;
            OrganisationRecord::Site(Site {
                id,
                name: f.required("name")?,
                time_zone,
            })
        }
        "team" => OrganisationRecord::Team(Team {
            id,
            name: f.required("name")?,
            site_id: f.required("site_id")?,
        }),
        "queue" => OrganisationRecord::Queue(Queue {
            id,
            name: f.required("name")?,
            channel: f.choice("channel", Channel::parse, &Channel::ALL, Channel::as_str)?,
            site_id: f.required("site_id")?,
        }),
        "agent" => {
            let end_date = f.date("employment_end_date")?;
            let reason = f
                .get("employment_end_reason")
                .map(|_| {
                    f.choice(
                        "employment_end_reason",
                        EmploymentEndReason::parse,
                        &EmploymentEndReason::ALL,
                        EmploymentEndReason::as_str,
                    )
                })
                .transpose()?;
            if end_date.is_some() != reason.is_some() {
                return Err(problem(
                    "employment_end_reason",
                    "an end of employment needs both its date and its reason",
                ));
            }
            OrganisationRecord::Agent(Agent {
                id,
                name: f.required("name")?,
                site_id: f.required("site_id")?,
                hire_date: f
                    .date("hire_date")?
                    .ok_or_else(|| problem("hire_date", "is empty"))?,
                employment_end_date: end_date,
                employment_end_reason: reason,
            })
        }
        "membership" => {
            let from_date = f
                .date("from_date")?
                .ok_or_else(|| problem("from_date", "is empty"))?;
            let to_date = f.date("to_date")?;
            if to_date.is_some_and(|to| to < from_date) {
                return Err(problem("to_date", "is before from_date"));
            }
            OrganisationRecord::Membership(TeamMembership {
                agent_id: id,
                team_id: f.required("team_id")?,
                from_date,
                to_date,
            })
        }
        other => {
            return Err(problem(
                "record",
                format!("{other:?} is not one of site, team, queue, agent, membership"),
            ));
        }
    })
}

impl NativeReader {
    /// The next row's fields and line, or a problem with the row's shape, or the end.
    fn next_fields(&mut self) -> Option<Result<(u64, Fields), RowProblem>> {
        let names = self.names.clone();
        let mut fields = Fields {
            text: String::new(),
            ranges: Vec::with_capacity(names.len()),
            names,
            next_index: std::cell::Cell::new(0),
        };
        let mut push = |value: Option<&str>| {
            fields.ranges.push(value.map(|v| {
                let start = fields.text.len();
                fields.text.push_str(v);
                start..fields.text.len()
            }))
        };
        match &mut self.source {
            Source::Csv(reader) => {
                let record = &mut self.record;
                match reader.read_byte_record(record) {
                    Ok(false) => None,
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        Some(Err(RowProblem {
                            file: self.file.clone(),
                            line,
                            field: "(row)".into(),
                            reason: e.to_string(),
                        }))
                    }
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| p.line());
                        if record.len() != self.header_len {
                            return Some(Err(RowProblem {
                                file: self.file.clone(),
                                line,
                                field: "(row)".into(),
                                reason: format!(
                                    "has {} fields, the header has {}",
                                    record.len(),
                                    self.header_len
                                ),
                            }));
                        }
                        for position in &self.positions {
                            push(
                                position
                                    .and_then(|i| record.get(i))
                                    .map(field_text)
                                    .as_deref(),
                            );
                        }
                        Some(Ok((line, fields)))
                    }
                }
            }
            Source::JsonLines { lines, line } => loop {
                *line += 1;
                let text = match lines.next()? {
                    Ok(text) => text,
                    Err(e) => {
                        return Some(Err(RowProblem {
                            file: self.file.clone(),
                            line: *line,
                            field: "(row)".into(),
                            reason: e.to_string(),
                        }));
                    }
                };
                if text.trim().is_empty() {
                    continue;
                }
                let object: serde_json::Map<String, serde_json::Value> =
                    match serde_json::from_str(&text) {
                        Ok(object) => object,
                        Err(e) => {
                            return Some(Err(RowProblem {
                                file: self.file.clone(),
                                line: *line,
                                field: "(row)".into(),
                                reason: format!("not a JSON object: {e}"),
                            }));
                        }
                    };
                for name in self.names.iter() {
                    match object.get(*name) {
                        None | Some(serde_json::Value::Null) => push(None),
                        Some(serde_json::Value::String(s)) => push(Some(s)),
                        Some(other) => push(Some(&other.to_string())),
                    }
                }
                return Some(Ok((*line, fields)));
            },
        }
    }

    fn to_problem(&self, line: u64, (field, reason): (String, String)) -> RowProblem {
        RowProblem {
            file: self.file.clone(),
            line,
            field,
            reason,
        }
    }
}

impl Iterator for NativeReader {
    type Item = Result<(u64, NativeRecord), RowProblem>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return self
                    .pending_survey
                    .take()
                    .map(|(line, s)| Ok((line, NativeRecord::Survey(s))));
            }
            let (line, f) = match self.next_fields() {
                None => {
                    self.finished = true;
                    continue;
                }
                Some(Err(problem)) => return Some(Err(problem)),
                Some(Ok(row)) => row,
            };
            let record = match self.kind {
                ImportKind::Contacts => contact(&f).map(|c| NativeRecord::Contact(Box::new(c))),
                ImportKind::States => (|| {
                    Ok(NativeRecord::State(
                        f.source_system(),
                        AgentStateEvent {
                            source_id: f.required("source_id")?,
                            agent_id: f.required("agent_id")?,
                            at_ms: f.required_time("at")?,
                            state: f.choice(
                                "state",
                                AgentState::parse,
                                AgentState::ALL,
                                AgentState::as_str,
                            )?,
                            reason: f.text("reason"),
                        },
                    ))
                })(),
                ImportKind::Schedules => (|| {
                    let (start_ms, end_ms) = interval(&f)?;
                    Ok(NativeRecord::Schedule(
                        f.source_system(),
                        ScheduleSegment {
                            source_id: f.required("source_id")?,
                            agent_id: f.required("agent_id")?,
                            start_ms,
                            end_ms,
                            activity: f.choice(
                                "activity",
                                Activity::parse,
                                Activity::ALL,
                                Activity::as_str,
                            )?,
                        },
                    ))
                })(),
                ImportKind::Absences => (|| {
                    let (start_ms, end_ms) = interval(&f)?;
                    Ok(NativeRecord::Absence(
                        f.source_system(),
                        Absence {
                            source_id: f.required("source_id")?,
                            agent_id: f.required("agent_id")?,
                            start_ms,
                            end_ms,
                            kind: f.choice(
                                "kind",
                                AbsenceKind::parse,
                                AbsenceKind::ALL,
                                AbsenceKind::as_str,
                            )?,
                            reason: f.required("reason")?,
                        },
                    ))
                })(),
                ImportKind::Organisation => organisation_record(&f).map(NativeRecord::Organisation),
                ImportKind::Surveys => match self.survey_row(line, &f) {
                    Ok(Some(done)) => return Some(Ok(done)),
                    Ok(None) => continue,
                    Err(e) => Err(e),
                },
            };
            return Some(
                record
                    .map(|r| (line, r))
                    .map_err(|e| self.to_problem(line, e)),
            );
        }
    }
}

impl NativeReader {
    /// Survey rows are one answer each; consecutive rows with the same source
    /// id make one response, emitted when the next response starts.
    fn survey_row(&mut self, line: u64, f: &Fields) -> FieldResult<Option<(u64, NativeRecord)>> {
        let source_id = f.required("source_id")?;
        let answer = survey_answer(f)?;
        if let Some((_, pending)) = &mut self.pending_survey
            && pending.source_id == source_id
            && pending.source_system == f.source_system()
        {
            pending.answers.push(answer);
            return Ok(None);
        }
        let response = SurveyResponse {
            source_system: f.source_system(),
            source_id,
            contact_source_id: f.text("contact_source_id"),
            agent_id: f.text("agent_id"),
            answered_ms: f.required_time("answered_at")?,
            asked_by: f.choice("asked_by", Asker::parse, Asker::ALL, Asker::as_str)?,
            answers: vec![answer],
        };
        Ok(self
            .pending_survey
            .replace((line, response))
            .map(|(l, s)| (l, NativeRecord::Survey(s))))
    }
}

fn time_text(ms: UtcMs) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn optional_time(ms: Option<UtcMs>) -> String {
    ms.map(time_text).unwrap_or_default()
}

/// Writes native CSV files; the inverse of the reader.
pub struct NativeWriter<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> NativeWriter<W> {
    /// A writer for `kind`, header written.
    pub fn new(out: W, kind: ImportKind) -> csv::Result<Self> {
        let mut csv = csv::Writer::from_writer(out);
        let (required, optional) = columns(kind);
        csv.write_record(required.iter().chain(optional))?;
        Ok(NativeWriter { csv })
    }

    fn row(&mut self, fields: &[String]) -> csv::Result<()> {
        self.csv.write_record(fields)
    }

    pub fn contact(&mut self, c: &Contact) -> csv::Result<()> {
        let holds: Vec<String> = c
            .holds
            .iter()
            .map(|h| format!("{}/{}", time_text(h.start_ms), time_text(h.end_ms)))
            .collect();
        let transfers: Vec<String> = c
            .transfers
            .iter()
            .map(|t| format!("{}>{}", time_text(t.at_ms), t.target))
            .collect();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        self.row(&[
            c.source_id.clone(),
            c.channel.as_str().into(),
            time_text(c.arrival_ms),
            time_text(c.end_ms),
            c.outcome.as_str().into(),
            c.source_system.clone(),
            text(&c.queue_id),
            text(&c.contact_type),
            text(&c.customer_id),
            text(&c.agent_id),
            optional_time(c.menu_exit_ms),
            optional_time(c.queue_entry_ms),
            optional_time(c.queue_exit_ms),
            optional_time(c.answer_ms),
            optional_time(c.after_work_end_ms),
            holds.join(";"),
            transfers.join(";"),
            text(&c.wrap_up_code),
            text(&c.recording_url),
            optional_time(c.first_response_ms),
            optional_time(c.resolution_ms),
            c.sale
                .as_ref()
                .map(|s| s.value.amount_text())
                .unwrap_or_default(),
            c.sale
                .as_ref()
                .map(|s| s.value.currency.clone())
                .unwrap_or_default(),
            optional_time(c.sale.as_ref().and_then(|s| s.cancelled_at_ms)),
        ])
    }

    pub fn state(&mut self, source_system: &str, s: &AgentStateEvent) -> csv::Result<()> {
        self.row(&[
            s.source_id.clone(),
            s.agent_id.clone(),
            time_text(s.at_ms),
            s.state.as_str().into(),
            source_system.into(),
            s.reason.clone().unwrap_or_default(),
        ])
    }

    pub fn schedule(&mut self, source_system: &str, s: &ScheduleSegment) -> csv::Result<()> {
        self.row(&[
            s.source_id.clone(),
            s.agent_id.clone(),
            time_text(s.start_ms),
            time_text(s.end_ms),
            s.activity.as_str().into(),
            source_system.into(),
        ])
    }

    pub fn absence(&mut self, source_system: &str, a: &Absence) -> csv::Result<()> {
        self.row(&[
            a.source_id.clone(),
            a.agent_id.clone(),
            time_text(a.start_ms),
            time_text(a.end_ms),
            a.kind.as_str().into(),
            a.reason.clone(),
            source_system.into(),
        ])
    }

    pub fn survey(&mut self, s: &SurveyResponse) -> csv::Result<()> {
        for a in &s.answers {
            self.row(&[
                s.source_id.clone(),
                time_text(s.answered_ms),
                s.asked_by.as_str().into(),
                a.question_id.clone(),
                a.scale.as_str().into(),
                s.source_system.clone(),
                s.contact_source_id.clone().unwrap_or_default(),
                s.agent_id.clone().unwrap_or_default(),
                a.value.map(|v| v.to_string()).unwrap_or_default(),
                a.text.clone().unwrap_or_default(),
            ])?;
        }
        Ok(())
    }

    pub fn organisation(&mut self, record: &OrganisationRecord) -> csv::Result<()> {
        // record, id, name, site_id, time_zone, channel, hire_date, employment_end_date, employment_end_reason, team_id, from_date, to_date
        let mut row = vec![String::new(); 12];
        match record {
            OrganisationRecord::Site(s) => {
                row[0] = "site".into();
                row[1] = s.id.clone();
                row[2] = s.name.clone();
                row[4] = s.time_zone.clone();
            }
            OrganisationRecord::Team(t) => {
                row[0] = "team".into();
                row[1] = t.id.clone();
                row[2] = t.name.clone();
                row[3] = t.site_id.clone();
            }
            OrganisationRecord::Queue(q) => {
                row[0] = "queue".into();
                row[1] = q.id.clone();
                row[2] = q.name.clone();
                row[3] = q.site_id.clone();
                row[5] = q.channel.as_str().into();
            }
            OrganisationRecord::Agent(a) => {
                row[0] = "agent".into();
                row[1] = a.id.clone();
                row[2] = a.name.clone();
                row[3] = a.site_id.clone();
                row[6] = a.hire_date.to_string();
                row[7] = a
                    .employment_end_date
                    .map(|d| d.to_string())
                    .unwrap_or_default();
                row[8] = a
                    .employment_end_reason
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default();
            }
            OrganisationRecord::Membership(m) => {
                row[0] = "membership".into();
                row[1] = m.agent_id.clone();
                row[9] = m.team_id.clone();
                row[10] = m.from_date.to_string();
                row[11] = m.to_date.map(|d| d.to_string()).unwrap_or_default();
            }
        }
        self.row(&row)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.csv.flush()
    }

    /// The underlying writer, flushed.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}
