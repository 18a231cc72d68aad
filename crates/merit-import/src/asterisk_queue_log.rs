//! Asterisk `queue_log`: the flat file (`epoch|callid|queue|agent|event|data1..data5`)
//! or the same events as a table export with a header and timestamps. One
//! contact per call id and queue visit, built from the visit's events;
//! agent states from member events. A visit whose start or end is in
//! another file (log rotation) is kept aside and completed when that file
//! is imported, in either order. Field mapping and limits: docs/formats.md.

use crate::native::NativeRecord;
use crate::text::{field_text, open_text};
use crate::{CarriedEvent, FileRefused, ReadOptions, RowProblem};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use merit_domain::UtcMs;
use merit_domain::activity::{AgentState, AgentStateEvent};
use merit_domain::contact::{Contact, Outcome, Transfer};
use merit_domain::organisation::Channel;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

pub const SOURCE_SYSTEM: &str = "asterisk-queue-log";
/// Unfinished calls named one by one in the notices; the rest are counted.
const NAMED_UNFINISHED: usize = 20;

/// What an event means for Merit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// ENTERQUEUE: a queue visit starts.
    Enter,
    /// CONNECT: an agent answered.
    Connect,
    /// Ends a visit answered by an agent.
    Completed,
    /// Ends a visit by a transfer.
    Transferred,
    /// Ends a visit that was not answered, with this outcome.
    Left(Outcome),
    /// Refused at entry (FULL, JOINEMPTY, CLOSED): a visit of its own.
    Refused,
    /// A member event: the agent's new state.
    Member(AgentState),
    /// Known and not needed (ring attempts, configuration reloads...).
    Ignored,
}

fn kind(event: &str) -> Option<Kind> {
    use Kind::*;
    Some(match event {
        "ENTERQUEUE" => Enter,
        "CONNECT" => Connect,
        "COMPLETEAGENT" | "COMPLETECALLER" => Completed,
        "TRANSFER" | "BLINDTRANSFER" | "ATTENDEDTRANSFER" => Transferred,
        "ABANDON" => Left(Outcome::QueueAbandon),
        "EXITWITHTIMEOUT" | "EXITEMPTY" => Left(Outcome::Overflow),
        "EXITWITHKEY" => Left(Outcome::Callback),
        "FULL" | "JOINEMPTY" | "CLOSED" => Refused,
        "ADDMEMBER" | "AGENTLOGIN" | "AGENTCALLBACKLOGIN" | "UNPAUSE" | "UNPAUSEALL" => {
            Member(AgentState::Ready)
        }
        "REMOVEMEMBER" | "AGENTLOGOFF" | "AGENTCALLBACKLOGOFF" => Member(AgentState::LoggedOut),
        "PAUSE" | "PAUSEALL" => Member(AgentState::NotReady),
        "RINGNOANSWER" | "RINGCANCELED" | "DID" | "INFO" | "QUEUESTART" | "CONFIGRELOAD"
        | "SYSCOMPAT" | "AGENTDUMP" | "AGENTCALLED" | "PENALTY" | "MIXMONITOR" => Ignored,
        _ => return None,
    })
}

/// Sorts the events of one second: a visit's start before its answer before its end.
fn rank(kind: Kind) -> u8 {
    match kind {
        Kind::Enter => 0,
        Kind::Connect => 2,
        Kind::Ignored | Kind::Member(_) => 1,
        _ => 3,
    }
}

#[derive(Debug, Clone)]
struct Event {
    at_ms: UtcMs,
    callid: String,
    queue: String,
    agent: String,
    name: String,
    kind: Kind,
    data: [String; 5],
    /// Where it was read, `file:line`.
    origin: String,
    line: u64,
}

impl Event {
    /// The event as a flat queue_log line (seconds with milliseconds): how
    /// it is kept between imports, and what makes two copies the same event.
    fn canonical(&self) -> String {
        let data = self.data.join("|");
        format!(
            "{}.{:03}|{}|{}|{}|{}|{}",
            self.at_ms.div_euclid(1000),
            self.at_ms.rem_euclid(1000),
            self.callid,
            self.queue,
            self.agent,
            self.name,
            data.trim_end_matches('|')
        )
    }

    fn seconds(&self, index: usize) -> Option<i64> {
        self.data[index]
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|s| *s >= 0)
    }

    fn agent(&self) -> Option<String> {
        let agent = self.agent.trim();
        (!agent.is_empty() && agent != "NONE").then(|| agent.to_owned())
    }
}

/// `1366720340` or `1366720340.303` → milliseconds.
fn epoch_ms(text: &str) -> Option<UtcMs> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let seconds: i64 = whole.parse().ok().filter(|s| *s >= 0)?;
    let digits: String = fraction.chars().take(3).collect();
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let millis = if digits.is_empty() {
        0
    } else {
        format!("{digits:0<3}").parse::<i64>().ok()?
    };
    seconds.checked_mul(1000)?.checked_add(millis)
}

/// The two layouts.
enum Layout {
    Flat,
    /// A table export: each of time, callid, queuename, agent, event, and
    /// data1..data5 (or one `data` column, pipe-separated) by position.
    Table {
        delimiter: u8,
        columns: HashMap<String, usize>,
    },
}

pub struct QueueLogReader {
    file: String,
    lines: std::io::Lines<BufReader<Box<dyn Read + Send>>>,
    line: u64,
    layout: Layout,
    zone: TimeZone,
    /// Events of calls whose visit is not complete yet, by call id.
    open_calls: HashMap<String, Vec<Event>>,
    /// Per agent: the last state emitted and the queues it is a member of.
    agents: HashMap<String, (AgentState, BTreeMap<String, ()>)>,
    ready: VecDeque<Result<(u64, NativeRecord), RowProblem>>,
    skipped: BTreeMap<String, u64>,
    finished: bool,
}

/// Opens a queue_log file (flat or table export) whose table-export times
/// are local to `options.zone`, with the events earlier imports left unfinished.
pub fn open(path: &Path, options: ReadOptions) -> Result<QueueLogReader, FileRefused> {
    let file = path.display().to_string();
    let (head, reader) = open_text(path, "an Asterisk queue_log file")?;
    let refuse = |reason: String| FileRefused::NotThisFormat {
        file: file.clone(),
        reason,
    };
    let first_line = String::from_utf8_lossy(&head)
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim().to_owned())
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let layout = if let Some(delimiter) = [b',', b';', b'\t', b'|']
        .into_iter()
        .find(|d| header_columns(&first_line, *d).is_some())
    {
        Layout::Table {
            delimiter,
            columns: header_columns(&first_line, delimiter).unwrap_or_default(),
        }
    } else {
        let fields: Vec<&str> = first_line.split('|').collect();
        if fields.len() < 5 || epoch_ms(fields[0]).is_none() {
            return Err(refuse(
                "not an Asterisk queue_log: the first line is neither epoch|callid|queue|agent|event|... \
                 nor a header naming time, callid, queuename, agent and event"
                    .into(),
            ));
        }
        Layout::Flat
    };
    let mut lines = BufReader::new(reader).lines();
    if matches!(layout, Layout::Table { .. }) {
        let _ = lines.next();
    }
    let mut reader = QueueLogReader {
        file,
        lines,
        line: u64::from(matches!(layout, Layout::Table { .. })),
        layout,
        zone: options.zone,
        open_calls: HashMap::new(),
        agents: HashMap::new(),
        ready: VecDeque::new(),
        skipped: BTreeMap::new(),
        finished: false,
    };
    for carried in options.carried_over {
        if let Ok(Some(event)) = flat_event(&carried.line, &carried.origin, 0) {
            reader.keep(event);
        }
    }
    Ok(reader)
}

/// The columns of a table export's header, if `line` is one.
fn header_columns(line: &str, delimiter: u8) -> Option<HashMap<String, usize>> {
    let columns: HashMap<String, usize> = line
        .split(delimiter as char)
        .enumerate()
        .map(|(i, name)| (name.trim().trim_matches('"').to_ascii_lowercase(), i))
        .collect();
    ["time", "callid", "queuename", "agent", "event"]
        .iter()
        .all(|c| columns.contains_key(*c))
        .then_some(columns)
}

type EventResult = Result<Option<Event>, (String, String)>;

/// A flat line → an event (`None` for a blank line).
fn flat_event(text: &str, origin: &str, line: u64) -> EventResult {
    let fields: Vec<&str> = text.split('|').collect();
    if text.trim().is_empty() {
        return Ok(None);
    }
    if fields.len() < 5 {
        return Err((
            "(row)".into(),
            format!(
                "has {} |-separated fields, expected at least 5 (epoch|callid|queue|agent|event)",
                fields.len()
            ),
        ));
    }
    let at_ms = epoch_ms(fields[0]).ok_or_else(|| {
        (
            "epoch".to_owned(),
            format!("{:?} is not a Unix time", fields[0]),
        )
    })?;
    event(
        at_ms,
        &fields[1..5],
        fields.get(5..).unwrap_or(&[]),
        origin,
        line,
    )
}

fn event(at_ms: UtcMs, head: &[&str], data: &[&str], origin: &str, line: u64) -> EventResult {
    let name = head[3].trim().to_ascii_uppercase();
    let kind = kind(&name).ok_or_else(|| {
        (
            "event".to_owned(),
            format!("{:?} is not a queue_log event Merit knows", head[3].trim()),
        )
    })?;
    let mut fields: [String; 5] = Default::default();
    for (slot, value) in fields.iter_mut().zip(data) {
        *slot = value.trim().to_owned();
    }
    let callid = head[0].trim().to_owned();
    if callid.is_empty() {
        return Err(("callid".into(), "is empty".into()));
    }
    Ok(Some(Event {
        at_ms,
        callid,
        queue: head[1].trim().to_owned(),
        agent: head[2].trim().to_owned(),
        name,
        kind,
        data: fields,
        origin: origin.to_owned(),
        line,
    }))
}

/// A visit's events → a contact, or why not (yet).
fn visit_contact(events: &[Event]) -> Result<Contact, (String, String)> {
    let enter = &events[0];
    let end = &events[events.len() - 1];
    let connect = events.iter().find(|e| e.kind == Kind::Connect);
    let at = |s: i64| enter.at_ms + s * 1000;
    let mut contact = Contact {
        queue_id: Some(enter.queue.clone()),
        customer_id: (enter.kind == Kind::Enter)
            .then(|| enter.data[1].clone())
            .filter(|c| !c.is_empty() && c != "NONE"),
        queue_entry_ms: Some(enter.at_ms),
        ..Contact::arriving(
            SOURCE_SYSTEM,
            format!("{}/{}/{}", enter.callid, enter.queue, enter.at_ms / 1000),
            Channel::VoiceInbound,
            enter.at_ms,
        )
    };
    let missing = |field: &str, what: &str| {
        (
            field.to_owned(),
            format!("{} at {} has no {what}", end.name, end.origin),
        )
    };
    match end.kind {
        Kind::Refused => {
            contact.queue_entry_ms = None;
            contact.outcome = Outcome::Refused;
        }
        Kind::Completed | Kind::Transferred => {
            // Holdtime and calltime sit in data1-2, after a transfer's
            // target in data3-4 (data4-5 for an attended transfer by LINK).
            let (hold_i, call_i) = match (end.kind, end.name.as_str(), end.data[0].as_str()) {
                (Kind::Completed, _, _) => (0, 1),
                (_, "ATTENDEDTRANSFER", "LINK") => (3, 4),
                _ => (2, 3),
            };
            let wait_s = connect
                .and_then(|c| c.seconds(0))
                .or_else(|| end.seconds(hold_i))
                .ok_or_else(|| missing("holdtime", "wait (holdtime)"))?;
            let talk_s = end
                .seconds(call_i)
                .ok_or_else(|| missing("calltime", "talk time (calltime)"))?;
            contact.answer_ms = Some(at(wait_s));
            contact.end_ms = at(wait_s + talk_s);
            contact.agent_id = connect.and_then(Event::agent).or_else(|| end.agent());
            if end.kind == Kind::Transferred {
                let target = match end.data[1].as_str() {
                    "" => end.data[0].clone(),
                    context => format!("{}@{context}", end.data[0]),
                };
                contact.transfers.push(Transfer {
                    at_ms: contact.end_ms,
                    target,
                });
            }
        }
        Kind::Left(outcome) => {
            let wait_i = if end.name == "EXITWITHKEY" { 3 } else { 2 };
            let wait_s = end
                .seconds(wait_i)
                .ok_or_else(|| missing("waittime", "wait (waittime)"))?;
            contact.queue_exit_ms = Some(at(wait_s));
            contact.end_ms = at(wait_s);
            contact.outcome = outcome;
        }
        _ => return Err(("event".into(), "the visit has no ending".into())),
    }
    contact
        .validate()
        .map_err(|e| (e.field.to_owned(), e.reason))?;
    Ok(contact)
}

impl QueueLogReader {
    /// Adds an event to its call's open events, unless the same event is there already.
    fn keep(&mut self, event: Event) {
        let events = self.open_calls.entry(event.callid.clone()).or_default();
        let canonical = event.canonical();
        if !events.iter().any(|e| e.canonical() == canonical) {
            events.push(event);
        }
    }

    /// Takes every complete visit out of `callid`'s open events.
    fn complete_visits(&mut self, callid: &str) {
        let Some(mut events) = self.open_calls.remove(callid) else {
            return;
        };
        events.sort_by_key(|e| (e.at_ms, rank(e.kind)));
        let mut rest = Vec::new();
        let mut start = 0;
        while start < events.len() {
            let first = &events[start];
            if first.kind == Kind::Refused {
                self.emit_visit(&events[start..=start]);
                start += 1;
                continue;
            }
            let end = (first.kind == Kind::Enter)
                .then(|| {
                    events[start + 1..].iter().position(|e| {
                        e.queue == first.queue
                            && matches!(e.kind, Kind::Completed | Kind::Transferred | Kind::Left(_))
                    })
                })
                .flatten();
            match end {
                Some(offset) => {
                    let end = start + 1 + offset;
                    let visit: Vec<Event> = events[start..=end]
                        .iter()
                        .filter(|e| e.queue == first.queue)
                        .cloned()
                        .collect();
                    self.emit_visit(&visit);
                    rest.extend(
                        events[start + 1..end]
                            .iter()
                            .filter(|e| e.queue != first.queue)
                            .cloned(),
                    );
                    start = end + 1;
                }
                None => {
                    rest.push(events[start].clone());
                    start += 1;
                }
            }
        }
        if !rest.is_empty() {
            self.open_calls.insert(callid.to_owned(), rest);
        }
    }

    fn emit_visit(&mut self, visit: &[Event]) {
        let end = &visit[visit.len() - 1];
        let item = visit_contact(visit)
            .map(|c| (end.line, NativeRecord::Contact(Box::new(c))))
            .map_err(|(field, reason)| RowProblem {
                file: end
                    .origin
                    .rsplit_once(':')
                    .map_or(end.origin.clone(), |(f, _)| f.to_owned()),
                line: end.line,
                field,
                reason,
            });
        self.ready.push_back(item);
    }

    /// A member event → an agent state, when it changes the agent's state.
    fn member(&mut self, event: &Event, state: AgentState) {
        let Some(agent) = event.agent() else { return };
        let (last, queues) = self
            .agents
            .entry(agent.clone())
            .or_insert((AgentState::LoggedOut, BTreeMap::new()));
        let queue = event.queue.clone();
        let state = match event.name.as_str() {
            // Removed from one queue while still in others: still logged in.
            "REMOVEMEMBER" => {
                queues.remove(&queue);
                if queues.is_empty() { state } else { *last }
            }
            "ADDMEMBER" => {
                queues.insert(queue.clone(), ());
                if *last == AgentState::NotReady {
                    *last
                } else {
                    state
                }
            }
            _ => state,
        };
        if state == *last {
            return;
        }
        *last = state;
        let reason = (state == AgentState::NotReady)
            .then(|| event.data[0].clone())
            .filter(|r| !r.is_empty());
        let record = NativeRecord::State(
            SOURCE_SYSTEM.into(),
            AgentStateEvent {
                source_id: format!("{}/{}/{}/{}", event.at_ms, agent, event.queue, event.name),
                agent_id: agent,
                at_ms: event.at_ms,
                state,
                reason,
            },
        );
        self.ready.push_back(Ok((event.line, record)));
    }

    fn table_event(&self, text: &str) -> EventResult {
        let Layout::Table { delimiter, columns } = &self.layout else {
            return Ok(None);
        };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(*delimiter)
            .flexible(true)
            .from_reader(text.as_bytes());
        let Some(Ok(record)) = csv.byte_records().next() else {
            return Err(("(row)".into(), "is not a delimited row".into()));
        };
        let get = |name: &str| -> String {
            columns
                .get(name)
                .and_then(|i| record.get(*i))
                .map(|f| field_text(f).trim().to_owned())
                .unwrap_or_default()
        };
        let time = get("time");
        let at_ms = epoch_ms(&time)
            .or_else(|| time.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond()))
            .or_else(|| {
                let civil: DateTime = time.parse().ok()?;
                civil
                    .to_zoned(self.zone.clone())
                    .ok()
                    .map(|z| z.timestamp().as_millisecond())
            })
            .ok_or_else(|| {
                (
                    "time".to_owned(),
                    format!(
                        "{time:?} is neither a Unix time nor a time YYYY-MM-DD HH:MM:SS (local, or with an offset)"
                    ),
                )
            })?;
        let data: Vec<String> = if columns.contains_key("data1") {
            (1..=5).map(|i| get(&format!("data{i}"))).collect()
        } else {
            get("data").split('|').map(str::to_owned).collect()
        };
        let head = [get("callid"), get("queuename"), get("agent"), get("event")];
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        let data: Vec<&str> = data.iter().map(String::as_str).collect();
        event(
            at_ms,
            &head,
            &data,
            &format!("{}:{}", self.file, self.line),
            self.line,
        )
    }

    /// At the end of the file: complete what the carried-over events allow.
    fn finish(&mut self) {
        let callids: Vec<String> = self.open_calls.keys().cloned().collect();
        for callid in callids {
            self.complete_visits(&callid);
        }
    }
}

impl Iterator for QueueLogReader {
    type Item = Result<(u64, NativeRecord), RowProblem>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            let text = match self.lines.next() {
                None => {
                    self.finished = true;
                    self.finish();
                    continue;
                }
                Some(Err(e)) => {
                    self.line += 1;
                    return Some(Err(self.problem("(row)", format!("cannot be read: {e}"))));
                }
                Some(Ok(text)) => text,
            };
            self.line += 1;
            let text = text.trim_end_matches('\r');
            let parsed = match self.layout {
                Layout::Flat => {
                    flat_event(text, &format!("{}:{}", self.file, self.line), self.line)
                }
                Layout::Table { .. } if text.trim().is_empty() => Ok(None),
                Layout::Table { .. } => self.table_event(text),
            };
            let event = match parsed {
                Ok(Some(event)) => event,
                Ok(None) => continue,
                Err((field, reason)) => return Some(Err(self.problem(&field, reason))),
            };
            match event.kind {
                Kind::Member(state) => self.member(&event, state),
                Kind::Ignored => {
                    *self
                        .skipped
                        .entry(format!("{} events (not needed)", event.name))
                        .or_default() += 1;
                }
                Kind::Enter | Kind::Connect => self.keep(event),
                Kind::Completed | Kind::Transferred | Kind::Left(_) | Kind::Refused => {
                    let callid = event.callid.clone();
                    self.keep(event);
                    self.complete_visits(&callid);
                }
            }
        }
    }
}

impl QueueLogReader {
    fn problem(&self, field: &str, reason: String) -> RowProblem {
        RowProblem {
            file: self.file.clone(),
            line: self.line,
            field: field.to_owned(),
            reason,
        }
    }
}

impl crate::RecordReader for QueueLogReader {
    fn skipped(&self) -> BTreeMap<String, u64> {
        self.skipped.clone()
    }

    fn carry_over(&mut self) -> (Vec<CarriedEvent>, Vec<String>) {
        let mut calls: Vec<(&String, &Vec<Event>)> = self.open_calls.iter().collect();
        calls.sort_by_key(|(_, events)| events.first().map(|e| e.at_ms));
        let mut notices = Vec::new();
        for (callid, events) in calls.iter().take(NAMED_UNFINISHED) {
            let first = &events[0];
            notices.push(if first.kind == Kind::Enter {
                format!(
                    "call {callid} in queue {}: ENTERQUEUE at {} has no ending yet (file cut mid-call?); kept aside and not counted until the file with the rest is imported",
                    first.queue, first.origin
                )
            } else {
                format!(
                    "call {callid} in queue {}: {} at {} has no ENTERQUEUE (the call started in an earlier file?); kept aside and not counted until that file is imported",
                    first.queue, first.name, first.origin
                )
            });
        }
        if calls.len() > NAMED_UNFINISHED {
            notices.push(format!(
                "... and {} more unfinished calls kept aside",
                calls.len() - NAMED_UNFINISHED
            ));
        }
        let carried = calls
            .iter()
            .flat_map(|(_, events)| events.iter())
            .map(|e| CarriedEvent {
                line: e.canonical(),
                origin: e.origin.clone(),
            })
            .collect();
        (carried, notices)
    }
}
