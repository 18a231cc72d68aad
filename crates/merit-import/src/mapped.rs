//! Any CSV (or JSON Lines) file through a column mapping: a small TOML file
//! names the source column for each field, or a constant, and says how
//! times, durations and yes/no are written. Contacts, with survey answers
//! that sit as columns on the contact row, and survey exports (one row per
//! answer or one row per response). Reference with worked examples:
//! docs/formats.md.

use crate::native::NativeRecord;
use crate::text::{JsonObjects, field_text, open_text};
use crate::{FileRefused, ImportKind, RowProblem};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use merit_domain::UtcMs;
use merit_domain::contact::{Contact, HoldSegment, Outcome};
use merit_domain::organisation::Channel;
use merit_domain::survey::{Asker, Scale, SurveyAnswer, SurveyResponse};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

pub const DEFAULT_SOURCE_SYSTEM: &str = "mapped";

/// Where a field's value comes from: a column (`"Agent"`), several columns
/// joined (`{ columns = ["Date", "Time"], separator = " " }`) or a constant
/// (`{ value = "voice_inbound" }`); a duration field may name its own unit
/// (`{ column = "Talk", unit = "hh:mm:ss" }`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Field {
    Column(String),
    Spec {
        column: Option<String>,
        #[serde(default)]
        columns: Vec<String>,
        separator: Option<String>,
        value: Option<String>,
        unit: Option<DurationUnit>,
    },
}

/// How durations are written.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub enum DurationUnit {
    #[default]
    #[serde(rename = "seconds")]
    Seconds,
    #[serde(rename = "minutes")]
    Minutes,
    /// `h:mm:ss`, `hh:mm:ss` or `mm:ss`.
    #[serde(rename = "hh:mm:ss")]
    Clock,
}

/// What the agent column holds.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AgentColumn {
    /// Merit's agent ids.
    #[default]
    Ids,
    /// Agent names, matched to the organisation's agents (any case); an
    /// unknown name is a row problem.
    Match,
    /// Agent names, matched; an unknown name creates the agent (at
    /// `agent_site`, hired on the day of their first contact in the file).
    Create,
}

/// A survey question that sits as a column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionColumn {
    pub column: String,
    pub question: String,
    /// `1-5`, `0-10`, `yes_no` or `text`.
    pub scale: String,
}

/// The contact fields of a mapping (`[contact]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactMapping {
    pub source_id: Field,
    pub channel: Option<Field>,
    pub queue: Option<Field>,
    pub agent: Option<Field>,
    pub customer: Option<Field>,
    pub contact_type: Option<Field>,
    pub wrap_up_code: Option<Field>,
    pub recording_url: Option<Field>,
    /// A full time (date and time of day) ...
    pub arrival: Option<Field>,
    /// ... or a date and a time of day in two columns.
    pub date: Option<Field>,
    pub time: Option<Field>,
    /// Yes/no: answered (handled) or abandoned in the queue.
    pub answered: Option<Field>,
    /// Or a column of outcomes: Merit's outcome name → the texts that mean it.
    pub outcome: Option<Field>,
    #[serde(default)]
    pub outcome_values: BTreeMap<String, Vec<String>>,
    /// Yes/no, written as the wrap-up code `resolved` or `unresolved`
    /// (the agent's own mark, not the customer's answer).
    pub resolved: Option<Field>,
    /// Queue wait (speed of answer) of answered contacts, and the wait of abandons.
    pub wait: Option<Field>,
    pub talk: Option<Field>,
    pub hold: Option<Field>,
    /// True (the default) when the talk duration already includes hold.
    #[serde(default = "yes")]
    pub hold_in_talk: bool,
    pub after_call_work: Option<Field>,
    /// Survey answers on the contact row: one response per row, answered
    /// when the contact ended.
    #[serde(default)]
    pub survey: Vec<QuestionColumn>,
    /// Who asked the survey on the row (default `automated`).
    pub survey_asked_by: Option<String>,
}

/// The fields of a survey export (`[survey]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyMapping {
    pub source_id: Field,
    /// The surveyed contact's source id.
    pub contact: Option<Field>,
    /// The source system of the contacts the answers are about (default:
    /// the mapping's `source_system`).
    pub contact_source_system: Option<String>,
    pub agent: Option<Field>,
    pub answered_at: Option<Field>,
    pub date: Option<Field>,
    pub time: Option<Field>,
    pub asked_by: Option<Field>,
    /// One row per answer: the question, its value and scale ...
    pub question: Option<Field>,
    pub value: Option<Field>,
    pub scale: Option<Field>,
    /// ... or one row per response, a column per question.
    #[serde(default)]
    pub questions: Vec<QuestionColumn>,
}

/// A column mapping, as read from its TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub source_system: Option<String>,
    /// The zone of local times (default: the import's).
    pub time_zone: Option<String>,
    /// The CSV field separator (default `,`).
    pub delimiter: Option<String>,
    /// strftime formats of full times, dates and times of day (default ISO 8601).
    pub time_format: Option<String>,
    pub date_format: Option<String>,
    pub clock_format: Option<String>,
    #[serde(default)]
    pub duration: DurationUnit,
    /// The texts that mean yes and no (compared without case).
    #[serde(default = "default_yes")]
    pub yes: Vec<String>,
    #[serde(default = "default_no")]
    pub no: Vec<String>,
    /// What the agent columns hold (`ids`, `match`, `create`).
    #[serde(default)]
    pub agents: AgentColumn,
    /// The site of agents created from names.
    pub agent_site: Option<String>,
    pub contact: Option<ContactMapping>,
    pub survey: Option<SurveyMapping>,
}

fn yes() -> bool {
    true
}
fn default_yes() -> Vec<String> {
    ["y", "yes", "true", "1"].map(String::from).to_vec()
}
fn default_no() -> Vec<String> {
    ["n", "no", "false", "0"].map(String::from).to_vec()
}

impl Field {
    /// The columns the field reads.
    fn columns(&self) -> Vec<&str> {
        match self {
            Field::Column(c) => vec![c.as_str()],
            Field::Spec {
                column, columns, ..
            } => column.iter().chain(columns).map(String::as_str).collect(),
        }
    }

    fn check(&self, name: &str) -> Result<(), String> {
        if let Field::Spec {
            column,
            columns,
            value,
            ..
        } = self
        {
            let n =
                column.is_some() as usize + !columns.is_empty() as usize + value.is_some() as usize;
            if n != 1 {
                return Err(format!(
                    "{name}: give exactly one of column, columns or value"
                ));
            }
        }
        Ok(())
    }
}

impl Mapping {
    /// Reads and checks a mapping file; an error names the line and what is wrong.
    pub fn load(path: &Path) -> Result<Mapping, FileRefused> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FileRefused::Unreadable {
            file: file.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|reason| FileRefused::NotThisFormat { file, reason })
    }

    /// Parses and checks a mapping; an error names the line and what is wrong.
    pub fn parse(text: &str) -> Result<Mapping, String> {
        let mapping: Mapping = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let message = e.message().trim().to_owned();
            match line {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            }
        })?;
        mapping.check()?;
        Ok(mapping)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(zone) = &self.time_zone {
            TimeZone::get(zone)
                .map_err(|_| format!("time_zone: {zone:?} is not an IANA time zone"))?;
        }
        if let Some(d) = &self.delimiter
            && (d.len() != 1 || !d.is_ascii())
        {
            return Err(format!("delimiter: {d:?} is not one ASCII character"));
        }
        for (name, format) in [
            ("time_format", &self.time_format),
            ("date_format", &self.date_format),
            ("clock_format", &self.clock_format),
        ] {
            if format.as_ref().is_some_and(|f| !f.contains('%')) {
                return Err(format!("{name}: a strftime format such as %d/%m/%Y %H:%M"));
            }
        }
        let check_questions = |questions: &[QuestionColumn]| -> Result<(), String> {
            for q in questions {
                Scale::parse(&q.scale).ok_or_else(|| {
                    format!(
                        "question {:?}: scale {:?} is not one of 1-5, 0-10, yes_no, text",
                        q.question, q.scale
                    )
                })?;
            }
            Ok(())
        };
        if let Some(c) = &self.contact {
            c.source_id.check("contact.source_id")?;
            for (name, field) in c.fields() {
                field.check(&format!("contact.{name}"))?;
            }
            if c.arrival.is_none() && (c.date.is_none() || c.time.is_none()) {
                return Err("contact: map arrival, or date and time".into());
            }
            if c.answered.is_none() && c.outcome.is_none() {
                return Err("contact: map answered (yes/no) or outcome".into());
            }
            for (name, texts) in &c.outcome_values {
                Outcome::parse(name).ok_or_else(|| {
                    format!(
                        "contact.outcome_values: {name:?} is not one of {}",
                        Outcome::ALL.map(Outcome::as_str).join(", ")
                    )
                })?;
                if texts.is_empty() {
                    return Err(format!("contact.outcome_values.{name}: no texts"));
                }
            }
            if c.outcome.is_some() && c.outcome_values.is_empty() {
                return Err("contact.outcome_values: say which texts mean which outcome".into());
            }
            if let Some(asker) = &c.survey_asked_by {
                Asker::parse(asker)
                    .ok_or_else(|| format!("contact.survey_asked_by: {asker:?} is not one of agent, supervisor, other_agent, automated"))?;
            }
            check_questions(&c.survey)?;
        }
        if let Some(s) = &self.survey {
            s.source_id.check("survey.source_id")?;
            if s.answered_at.is_none() && (s.date.is_none() || s.time.is_none()) {
                return Err("survey: map answered_at, or date and time".into());
            }
            let long = s.question.is_some() || s.value.is_some();
            if long != s.questions.is_empty() {
                return Err(
                    "survey: map either question, value and scale (one row per answer) or [[survey.questions]] (one row per response)".into(),
                );
            }
            if long && (s.question.is_none() || s.value.is_none() || s.scale.is_none()) {
                return Err("survey: one row per answer needs question, value and scale".into());
            }
            check_questions(&s.questions)?;
        }
        if self.agents == AgentColumn::Create && self.agent_site.is_none() {
            return Err(
                "agents = \"create\" needs agent_site, the site of the agents it creates".into(),
            );
        }
        if self.contact.is_none() && self.survey.is_none() {
            return Err("the mapping has neither [contact] nor [survey]".into());
        }
        Ok(())
    }

    /// Every column the mapping reads for `kind`.
    fn columns(&self, kind: ImportKind) -> Vec<&str> {
        let mut columns = Vec::new();
        if kind == ImportKind::Contacts
            && let Some(c) = &self.contact
        {
            columns.extend(c.source_id.columns());
            for (_, field) in c.fields() {
                columns.extend(field.columns());
            }
            columns.extend(c.survey.iter().map(|q| q.column.as_str()));
        }
        if kind == ImportKind::Surveys
            && let Some(s) = &self.survey
        {
            let fields = [
                &s.contact,
                &s.agent,
                &s.answered_at,
                &s.date,
                &s.time,
                &s.asked_by,
                &s.question,
                &s.value,
                &s.scale,
            ];
            columns.extend(s.source_id.columns());
            for field in fields.into_iter().flatten() {
                columns.extend(field.columns());
            }
            columns.extend(s.questions.iter().map(|q| q.column.as_str()));
        }
        columns
    }
}

impl ContactMapping {
    fn fields(&self) -> Vec<(&'static str, &Field)> {
        [
            ("channel", &self.channel),
            ("queue", &self.queue),
            ("agent", &self.agent),
            ("customer", &self.customer),
            ("contact_type", &self.contact_type),
            ("wrap_up_code", &self.wrap_up_code),
            ("recording_url", &self.recording_url),
            ("arrival", &self.arrival),
            ("date", &self.date),
            ("time", &self.time),
            ("answered", &self.answered),
            ("outcome", &self.outcome),
            ("resolved", &self.resolved),
            ("wait", &self.wait),
            ("talk", &self.talk),
            ("hold", &self.hold),
            ("after_call_work", &self.after_call_work),
        ]
        .into_iter()
        .filter_map(|(name, field)| field.as_ref().map(|f| (name, f)))
        .collect()
    }
}

/// One source row: CSV fields by header position, or a JSON object.
enum RowData {
    Csv(Vec<String>),
    Json(serde_json::Map<String, serde_json::Value>),
}

enum Rows {
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        header: Arc<HashMap<String, usize>>,
    },
    Json(JsonObjects<BufReader<Box<dyn Read + Send>>>),
}

/// Streams a file through a mapping: yields `(line, record)` or a row problem.
pub struct MappedReader {
    file: String,
    kind: ImportKind,
    mapping: Arc<Mapping>,
    zone: TimeZone,
    rows: Rows,
    header: Arc<HashMap<String, usize>>,
    /// Records read but not yet handed out (a contact and its survey
    /// response), and the survey response being assembled from answer rows.
    ready: VecDeque<(u64, NativeRecord)>,
    assembling: Option<(u64, SurveyResponse)>,
    finished: bool,
}

/// Opens `path` as `kind` through `mapping`, refusing it whole when the
/// mapping has no section for `kind` or names a column the file lacks.
pub fn open(
    path: &Path,
    kind: ImportKind,
    mapping: Arc<Mapping>,
    zone: TimeZone,
) -> Result<MappedReader, FileRefused> {
    let file = path.display().to_string();
    let refuse = |reason: String| FileRefused::NotThisFormat {
        file: file.clone(),
        reason,
    };
    let section = match kind {
        ImportKind::Contacts => mapping.contact.is_some(),
        ImportKind::Surveys => mapping.survey.is_some(),
        _ => false,
    };
    if !section {
        return Err(refuse(format!(
            "the mapping has no [{}] section for a {} import",
            if kind == ImportKind::Surveys {
                "survey"
            } else {
                "contact"
            },
            kind.as_str()
        )));
    }
    let zone = match &mapping.time_zone {
        Some(name) => TimeZone::get(name).unwrap_or(zone),
        None => zone,
    };
    let (head, reader) = open_text(path, "a CSV or JSON Lines file")?;
    let first = head
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b < 0x80);
    let (rows, header) = if first == Some(b'{') {
        let header = Arc::new(HashMap::new());
        (Rows::Json(JsonObjects::new(BufReader::new(reader))), header)
    } else {
        let delimiter = mapping
            .delimiter
            .as_deref()
            .map_or(b',', |d| d.as_bytes()[0]);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(reader);
        let names: Vec<String> = reader
            .byte_headers()
            .map_err(|e| refuse(format!("cannot read the header: {e}")))?
            .iter()
            .map(|h| field_text(h).trim().to_owned())
            .collect();
        let missing: Vec<&str> = mapping
            .columns(kind)
            .into_iter()
            .filter(|c| !names.iter().any(|n| n == c))
            .collect();
        if !missing.is_empty() {
            let hint = if names.len() == 1 {
                " (one column only: is the delimiter right?)"
            } else {
                ""
            };
            return Err(refuse(format!(
                "the mapping names column(s) the file lacks: {}{hint}; the file has: {}",
                missing.join(", "),
                names.join(", ")
            )));
        }
        let header: Arc<HashMap<String, usize>> =
            Arc::new(names.into_iter().enumerate().map(|(i, n)| (n, i)).collect());
        (
            Rows::Csv {
                reader,
                header: header.clone(),
            },
            header,
        )
    };
    Ok(MappedReader {
        file,
        kind,
        mapping,
        zone,
        rows,
        header,
        ready: VecDeque::new(),
        assembling: None,
        finished: false,
    })
}

type FieldResult<T> = Result<T, (String, String)>;

fn problem(field: &str, reason: impl Into<String>) -> (String, String) {
    (field.to_owned(), reason.into())
}

/// One row read through the mapping.
struct Values<'a> {
    row: &'a RowData,
    header: &'a HashMap<String, usize>,
    mapping: &'a Mapping,
    zone: &'a TimeZone,
}

impl Values<'_> {
    fn column(&self, name: &str) -> Option<String> {
        let text = match self.row {
            RowData::Csv(fields) => fields.get(*self.header.get(name)?)?.clone(),
            RowData::Json(object) => match object.get(name)? {
                serde_json::Value::Null => return None,
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        };
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    fn get(&self, field: Option<&Field>) -> Option<String> {
        match field? {
            Field::Column(c) => self.column(c),
            Field::Spec {
                column: Some(c), ..
            } => self.column(c),
            Field::Spec { value: Some(v), .. } => Some(v.clone()),
            Field::Spec {
                columns, separator, ..
            } => {
                let parts: Vec<String> = columns.iter().filter_map(|c| self.column(c)).collect();
                (!parts.is_empty()).then(|| parts.join(separator.as_deref().unwrap_or("-")))
            }
        }
    }

    fn required(&self, name: &str, field: Option<&Field>) -> FieldResult<String> {
        self.get(field).ok_or_else(|| problem(name, "is empty"))
    }

    fn yes_no(&self, name: &str, field: Option<&Field>) -> FieldResult<Option<bool>> {
        let Some(text) = self.get(field) else {
            return Ok(None);
        };
        let is = |list: &[String]| list.iter().any(|v| v.eq_ignore_ascii_case(&text));
        if is(&self.mapping.yes) {
            Ok(Some(true))
        } else if is(&self.mapping.no) {
            Ok(Some(false))
        } else {
            Err(problem(
                name,
                format!(
                    "{text:?} is neither yes ({}) nor no ({})",
                    self.mapping.yes.join(", "),
                    self.mapping.no.join(", ")
                ),
            ))
        }
    }

    fn duration_ms(&self, name: &str, field: Option<&Field>) -> FieldResult<Option<i64>> {
        let Some(text) = self.get(field) else {
            return Ok(None);
        };
        let unit = match field {
            Some(Field::Spec {
                unit: Some(unit), ..
            }) => *unit,
            _ => self.mapping.duration,
        };
        let bad = || {
            problem(
                name,
                format!(
                    "{text:?} is not a duration in {}",
                    match unit {
                        DurationUnit::Seconds => "seconds",
                        DurationUnit::Minutes => "minutes",
                        DurationUnit::Clock => "h:mm:ss",
                    }
                ),
            )
        };
        let ms = match unit {
            DurationUnit::Seconds | DurationUnit::Minutes => {
                let n: f64 = text.parse().map_err(|_| bad())?;
                let ms_per_unit = if unit == DurationUnit::Minutes {
                    60_000.0
                } else {
                    1000.0
                };
                (0.0..1e9)
                    .contains(&n)
                    .then(|| (n * ms_per_unit).round() as i64)
                    .ok_or_else(bad)?
            }
            DurationUnit::Clock => {
                let parts: Vec<&str> = text.split(':').collect();
                let numbers: Option<Vec<i64>> = parts.iter().map(|p| p.parse().ok()).collect();
                match numbers.as_deref() {
                    Some([h, m, s]) if *h >= 0 && (0..60).contains(m) && (0..60).contains(s) => {
                        (h * 3600 + m * 60 + s) * 1000
                    }
                    Some([m, s]) if *m >= 0 && (0..60).contains(s) => (m * 60 + s) * 1000,
                    _ => return Err(bad()),
                }
            }
        };
        Ok(Some(ms))
    }

    /// A full time from one field, or from a date field and a time-of-day field.
    fn moment(
        &self,
        name: &str,
        full: Option<&Field>,
        date: Option<&Field>,
        time: Option<&Field>,
    ) -> FieldResult<UtcMs> {
        let m = self.mapping;
        if full.is_some() {
            let text = self.required(name, full)?;
            return parse_moment(&text, m.time_format.as_deref(), self.zone).ok_or_else(|| {
                problem(
                    name,
                    format!(
                        "{text:?} is not a time{}",
                        m.time_format
                            .as_ref()
                            .map(|f| format!(" in the format {f}"))
                            .unwrap_or_else(|| " such as 2026-08-03 08:15:00".into())
                    ),
                )
            });
        }
        let date_text = self.required("date", date)?;
        let day = match &m.date_format {
            Some(f) => Date::strptime(f, &date_text).ok(),
            None => date_text.parse::<Date>().ok(),
        }
        .ok_or_else(|| {
            problem(
                "date",
                format!(
                    "{date_text:?} is not a date{}",
                    format_hint(&m.date_format, "YYYY-MM-DD")
                ),
            )
        })?;
        let clock_text = self.required("time", time)?;
        let clock = match &m.clock_format {
            Some(f) => Time::strptime(f, &clock_text).ok(),
            None => clock_text.parse::<Time>().ok().or_else(|| {
                // "9:12:58": jiff wants two-digit hours.
                format!("0{clock_text}").parse::<Time>().ok()
            }),
        }
        .ok_or_else(|| {
            problem(
                "time",
                format!(
                    "{clock_text:?} is not a time of day{}",
                    format_hint(&m.clock_format, "HH:MM:SS")
                ),
            )
        })?;
        DateTime::from_parts(day, clock)
            .to_zoned(self.zone.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| problem("time", e.to_string()))
    }
}

fn format_hint(format: &Option<String>, default: &str) -> String {
    format!(" ({})", format.as_deref().unwrap_or(default))
}

/// A time as written: with an offset it is that instant; without, local to `zone`.
fn parse_moment(text: &str, format: Option<&str>, zone: &TimeZone) -> Option<UtcMs> {
    let civil = match format {
        Some(format) => {
            let parsed = jiff::fmt::strtime::parse(format, text).ok()?;
            if let Ok(t) = parsed.to_timestamp() {
                return Some(t.as_millisecond());
            }
            parsed.to_datetime().ok()?
        }
        None => {
            if let Ok(t) = text.parse::<Timestamp>() {
                return Some(t.as_millisecond());
            }
            text.parse::<DateTime>().ok()?
        }
    };
    civil
        .to_zoned(zone.clone())
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

fn answer(q: &QuestionColumn, raw: &str, v: &Values) -> FieldResult<SurveyAnswer> {
    let scale = Scale::parse(&q.scale).unwrap_or(Scale::Text);
    survey_answer(&q.question, scale, raw, &q.column, v)
}

fn survey_answer(
    question: &str,
    scale: Scale,
    raw: &str,
    field: &str,
    v: &Values,
) -> FieldResult<SurveyAnswer> {
    if scale == Scale::Text {
        return Ok(SurveyAnswer {
            question_id: question.to_owned(),
            scale,
            value: None,
            text: Some(raw.to_owned()),
        });
    }
    let is = |list: &[String]| list.iter().any(|y| y.eq_ignore_ascii_case(raw));
    let value = if scale == Scale::YesNo && is(&v.mapping.yes) {
        1
    } else if scale == Scale::YesNo && is(&v.mapping.no) {
        0
    } else {
        raw.parse::<f64>()
            .ok()
            .filter(|n| n.fract() == 0.0 && n.abs() < 1e6)
            .map(|n| n as i32)
            .ok_or_else(|| problem(field, format!("{raw:?} is not a whole number")))?
    };
    if !scale.accepts(value) {
        return Err(problem(
            field,
            format!("{value} is outside the {} scale", scale.as_str()),
        ));
    }
    Ok(SurveyAnswer {
        question_id: question.to_owned(),
        scale,
        value: Some(value),
        text: None,
    })
}

impl MappedReader {
    fn source_system(&self) -> String {
        self.mapping
            .source_system
            .clone()
            .unwrap_or_else(|| DEFAULT_SOURCE_SYSTEM.to_owned())
    }

    fn contact(&self, v: &Values) -> FieldResult<(Contact, Option<SurveyResponse>)> {
        let Some(c) = &self.mapping.contact else {
            return Err(problem("(row)", "the mapping has no [contact] section"));
        };
        let source_id = v.required("source_id", Some(&c.source_id))?;
        let channel = match v.get(c.channel.as_ref()) {
            None => Channel::VoiceInbound,
            Some(text) => Channel::parse(&text).ok_or_else(|| {
                problem(
                    "channel",
                    format!(
                        "{text:?} is not one of {}",
                        Channel::ALL.map(Channel::as_str).join(", ")
                    ),
                )
            })?,
        };
        let arrival_ms = v.moment(
            "arrival",
            c.arrival.as_ref(),
            c.date.as_ref(),
            c.time.as_ref(),
        )?;
        let outcome = match (&c.outcome, v.yes_no("answered", c.answered.as_ref())?) {
            (Some(field), _) => {
                let text = v.required("outcome", Some(field))?;
                c.outcome_values
                    .iter()
                    .find(|(_, texts)| texts.iter().any(|t| t.eq_ignore_ascii_case(&text)))
                    .and_then(|(name, _)| Outcome::parse(name))
                    .ok_or_else(|| {
                        problem(
                            "outcome",
                            format!("{text:?} is not in the mapping's outcome_values"),
                        )
                    })?
            }
            (None, Some(true)) => Outcome::Handled,
            (None, Some(false)) => Outcome::QueueAbandon,
            (None, None) => return Err(problem("answered", "is empty")),
        };
        let wait_ms = v.duration_ms("wait", c.wait.as_ref())?;
        let talk_ms = v.duration_ms("talk", c.talk.as_ref())?;
        let hold_ms = v.duration_ms("hold", c.hold.as_ref())?.unwrap_or(0);
        let after_ms = v.duration_ms("after_call_work", c.after_call_work.as_ref())?;
        let wrap_up_code = match v.yes_no("resolved", c.resolved.as_ref())? {
            Some(true) => Some("resolved".to_owned()),
            Some(false) => Some("unresolved".to_owned()),
            None => v.get(c.wrap_up_code.as_ref()),
        };
        let mut contact = Contact {
            queue_id: v.get(c.queue.as_ref()),
            contact_type: v.get(c.contact_type.as_ref()),
            customer_id: v.get(c.customer.as_ref()),
            agent_id: v.get(c.agent.as_ref()),
            outcome,
            wrap_up_code,
            recording_url: v.get(c.recording_url.as_ref()),
            ..Contact::arriving(&self.source_system(), source_id, channel, arrival_ms)
        };
        match outcome {
            Outcome::Handled => {
                // A mapped wait column must hold the wait of every answered contact.
                if c.wait.is_some() && wait_ms.is_none() {
                    return Err(problem("wait", "is empty on an answered contact"));
                }
                let answer_ms = arrival_ms + wait_ms.unwrap_or(0);
                if wait_ms.is_some() {
                    contact.queue_entry_ms = Some(arrival_ms);
                }
                contact.answer_ms = Some(answer_ms);
                let talk_ms = talk_ms.unwrap_or(0);
                let extra_hold = if c.hold_in_talk { 0 } else { hold_ms };
                contact.end_ms = answer_ms + talk_ms + extra_hold;
                if hold_ms > 0 {
                    if c.hold_in_talk && hold_ms > talk_ms {
                        return Err(problem(
                            "hold",
                            format!(
                                "{} s is longer than the talk time of {} s, which includes it",
                                hold_ms / 1000,
                                talk_ms / 1000
                            ),
                        ));
                    }
                    contact.holds.push(HoldSegment {
                        start_ms: answer_ms,
                        end_ms: answer_ms + hold_ms,
                    });
                }
                contact.after_work_end_ms = after_ms.map(|ms| contact.end_ms + ms);
                if channel.is_digital() {
                    contact.first_response_ms = Some(answer_ms);
                }
            }
            Outcome::QueueAbandon
            | Outcome::ShortAbandon
            | Outcome::Callback
            | Outcome::Overflow => {
                contact.queue_entry_ms = Some(arrival_ms);
                // A blank wait stays unknown (no queue exit), never 0 s.
                contact.queue_exit_ms = wait_ms.map(|ms| arrival_ms + ms);
                contact.end_ms = arrival_ms + wait_ms.unwrap_or(0);
            }
            Outcome::MenuAbandon => contact.menu_exit_ms = Some(arrival_ms),
            Outcome::SystemDrop | Outcome::Refused => {}
        }
        contact.validate().map_err(|e| problem(e.field, e.reason))?;
        let mut answers = Vec::new();
        for q in &c.survey {
            if let Some(raw) = v.column(&q.column) {
                answers.push(answer(q, &raw, v)?);
            }
        }
        let asked_by = c
            .survey_asked_by
            .as_deref()
            .and_then(Asker::parse)
            .unwrap_or(Asker::Automated);
        let survey = (!answers.is_empty()).then(|| SurveyResponse {
            source_system: contact.source_system.clone(),
            source_id: contact.source_id.clone(),
            contact_source_id: Some(contact.source_id.clone()),
            agent_id: contact.agent_id.clone(),
            answered_ms: contact.end_ms,
            asked_by,
            answers,
        });
        Ok((contact, survey))
    }

    /// A survey row: a whole response (one row per response) or one answer
    /// of the response being assembled (one row per answer).
    fn survey_row(&mut self, line: u64, v: &Values) -> FieldResult<()> {
        let Some(s) = &self.mapping.survey else {
            return Err(problem("(row)", "the mapping has no [survey] section"));
        };
        let source_system = s
            .contact_source_system
            .clone()
            .unwrap_or_else(|| self.source_system());
        let source_id = v.required("source_id", Some(&s.source_id))?;
        let mut answers = Vec::new();
        if s.questions.is_empty() {
            let question = v.required("question", s.question.as_ref())?;
            let scale_text = v.required("scale", s.scale.as_ref())?;
            let scale = Scale::parse(&scale_text).ok_or_else(|| {
                problem(
                    "scale",
                    format!("{scale_text:?} is not one of 1-5, 0-10, yes_no, text"),
                )
            })?;
            let Some(raw) = v.get(s.value.as_ref()) else {
                return Err(problem("value", "is empty"));
            };
            answers.push(survey_answer(&question, scale, &raw, "value", v)?);
            if let Some((_, pending)) = &mut self.assembling
                && pending.source_id == source_id
            {
                pending.answers.extend(answers);
                return Ok(());
            }
        } else {
            for q in &s.questions {
                if let Some(raw) = v.column(&q.column) {
                    answers.push(answer(q, &raw, v)?);
                }
            }
            if answers.is_empty() {
                return Err(problem("(row)", "no question of the response is answered"));
            }
        }
        let asked_by = match v.get(s.asked_by.as_ref()) {
            None => Asker::Automated,
            Some(text) => Asker::parse(&text).ok_or_else(|| {
                problem(
                    "asked_by",
                    format!("{text:?} is not one of agent, supervisor, other_agent, automated"),
                )
            })?,
        };
        let response = SurveyResponse {
            source_system,
            source_id,
            contact_source_id: v.get(s.contact.as_ref()),
            agent_id: v.get(s.agent.as_ref()),
            answered_ms: v.moment(
                "answered_at",
                s.answered_at.as_ref(),
                s.date.as_ref(),
                s.time.as_ref(),
            )?,
            asked_by,
            answers,
        };
        if s.questions.is_empty() {
            if let Some((l, done)) = self.assembling.replace((line, response)) {
                self.ready.push_back((l, NativeRecord::Survey(done)));
            }
        } else {
            self.ready.push_back((line, NativeRecord::Survey(response)));
        }
        Ok(())
    }

    /// The next source row, or a problem with its shape, or the end.
    fn next_row(&mut self) -> Option<Result<(u64, RowData), RowProblem>> {
        let problem = |line, reason: String| RowProblem {
            file: self.file.clone(),
            line,
            field: "(row)".into(),
            reason,
        };
        match &mut self.rows {
            Rows::Csv { reader, header } => {
                let mut record = csv::ByteRecord::new();
                match reader.read_byte_record(&mut record) {
                    Ok(false) => None,
                    Err(e) => Some(Err(problem(
                        e.position().map_or(0, |p| p.line()),
                        e.to_string(),
                    ))),
                    Ok(true) => {
                        let line = record.position().map_or(0, |p| p.line());
                        if record.len() != header.len() && record.len() > 1 {
                            return Some(Err(problem(
                                line,
                                format!(
                                    "has {} fields, the header has {}",
                                    record.len(),
                                    header.len()
                                ),
                            )));
                        }
                        Some(Ok((
                            line,
                            RowData::Csv(
                                record.iter().map(|f| field_text(f).into_owned()).collect(),
                            ),
                        )))
                    }
                }
            }
            Rows::Json(objects) => Some(match objects.next()? {
                Err((line, reason)) => Err(problem(line, reason)),
                Ok((line, text)) => serde_json::from_str(&text)
                    .map(|object| (line, RowData::Json(object)))
                    .map_err(|e| problem(line, format!("not a valid JSON object: {e}"))),
            }),
        }
    }
}

impl Iterator for MappedReader {
    type Item = Result<(u64, NativeRecord), RowProblem>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(ready) = self.ready.pop_front() {
                return Some(Ok(ready));
            }
            if self.finished {
                return self
                    .assembling
                    .take()
                    .map(|(line, s)| Ok((line, NativeRecord::Survey(s))));
            }
            let (line, row) = match self.next_row() {
                None => {
                    self.finished = true;
                    continue;
                }
                Some(Err(problem)) => return Some(Err(problem)),
                Some(Ok(row)) => row,
            };
            if matches!(&row, RowData::Csv(fields) if fields.iter().all(|f| f.trim().is_empty())) {
                continue;
            }
            let header = self.header.clone();
            let mapping = self.mapping.clone();
            let zone = self.zone.clone();
            let values = Values {
                row: &row,
                header: &header,
                mapping: &mapping,
                zone: &zone,
            };
            let result = match self.kind {
                ImportKind::Surveys => self.survey_row(line, &values),
                _ => self.contact(&values).map(|(contact, survey)| {
                    self.ready
                        .push_back((line, NativeRecord::Contact(Box::new(contact))));
                    if let Some(survey) = survey {
                        self.ready.push_back((line, NativeRecord::Survey(survey)));
                    }
                }),
            };
            if let Err((field, reason)) = result {
                return Some(Err(RowProblem {
                    file: self.file.clone(),
                    line,
                    field,
                    reason,
                }));
            }
        }
    }
}

impl crate::RecordReader for MappedReader {}
