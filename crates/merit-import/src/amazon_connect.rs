//! Amazon Connect contact records (JSON), as a contact-record stream
//! delivers them to files: one object per line, or objects concatenated
//! with nothing between them. Field mapping and what the source cannot tell
//! us: docs/formats.md.

use crate::native::NativeRecord;
use crate::text::{JsonObjects, open_text};
use crate::{FileRefused, RowProblem};
use jiff::Timestamp;
use merit_domain::UtcMs;
use merit_domain::contact::{Contact, HoldSegment, Outcome, Transfer};
use merit_domain::organisation::Channel;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Read};
use std::path::Path;

pub const SOURCE_SYSTEM: &str = "amazon-connect";

type Objects = JsonObjects<BufReader<Box<dyn Read + Send>>>;

/// Streams contact records. Connect delivers a record at least once and
/// again when it changes: of several copies of one ContactId in a file, the
/// one with the latest LastUpdateTimestamp is read and the others counted
/// as skipped (a first pass over the file finds it).
pub struct AmazonConnectReader {
    file: String,
    objects: Objects,
    /// For each ContactId seen more than once, the line of the copy to keep.
    keep_line: HashMap<String, u64>,
    skipped: BTreeMap<String, u64>,
}

/// Opens a file of contact records, refusing it whole unless it starts with
/// a JSON object that has a ContactId.
pub fn open(path: &Path) -> Result<AmazonConnectReader, FileRefused> {
    let file = path.display().to_string();
    let refuse = |reason: &str| FileRefused::NotThisFormat {
        file: file.clone(),
        reason: reason.to_owned(),
    };
    let what = "Amazon Connect contact records (JSON objects)";
    let (head, _) = open_text(path, what)?;
    let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'[') | Some(0xEF | 0xFE | 0xFF)) {
        return Err(refuse(
            "not Amazon Connect contact records: the file does not start with a JSON object",
        ));
    }
    let objects = || -> Result<Objects, FileRefused> {
        Ok(JsonObjects::new(BufReader::new(open_text(path, what)?.1)))
    };
    // First pass: which copy of each ContactId is the latest.
    let mut newest: HashMap<String, (u64, Option<String>, u32)> = HashMap::new();
    for (index, item) in objects()?.enumerate() {
        let Ok((line, text)) = item else {
            if index == 0 {
                return Err(refuse(
                    "not Amazon Connect contact records: the file does not start with a JSON object",
                ));
            }
            continue;
        };
        let Ok(object) = serde_json::from_str::<Map<String, Value>>(&text) else {
            if index == 0 {
                return Err(refuse(
                    "not Amazon Connect contact records: the first object is not valid JSON",
                ));
            }
            continue;
        };
        let Some(id) = object.get("ContactId").and_then(Value::as_str) else {
            if index == 0 {
                return Err(refuse(
                    "not Amazon Connect contact records: the first object has no ContactId",
                ));
            }
            continue;
        };
        let updated = object
            .get("LastUpdateTimestamp")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let entry = newest
            .entry(id.to_owned())
            .or_insert((line, updated.clone(), 0));
        entry.2 += 1;
        if updated.as_deref().and_then(|u| u.parse::<Timestamp>().ok())
            >= entry.1.as_deref().and_then(|u| u.parse::<Timestamp>().ok())
        {
            (entry.0, entry.1) = (line, updated);
        }
    }
    let keep_line = newest
        .into_iter()
        .filter(|(_, (_, _, copies))| *copies > 1)
        .map(|(id, (line, _, _))| (id, line))
        .collect();
    Ok(AmazonConnectReader {
        file,
        objects: objects()?,
        keep_line,
        skipped: BTreeMap::new(),
    })
}

/// A field path such as `Agent.Username`, read from nested objects.
fn at<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = object.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    (!value.is_null()).then_some(value)
}

struct Record<'a> {
    object: &'a Map<String, Value>,
}

type FieldResult<T> = Result<T, (String, String)>;

impl Record<'_> {
    fn text(&self, path: &str) -> FieldResult<Option<String>> {
        match at(self.object, path) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(other) => Err((path.into(), format!("{other} is not text"))),
        }
    }
    fn time(&self, path: &str) -> FieldResult<Option<UtcMs>> {
        self.text(path)?
            .map(|t| {
                t.parse::<Timestamp>()
                    .map(|t| t.as_millisecond())
                    .map_err(|_| {
                        (
                            path.to_owned(),
                            format!("{t:?} is not a UTC time such as 2026-08-03T08:15:00Z"),
                        )
                    })
            })
            .transpose()
    }
    fn seconds(&self, path: &str) -> FieldResult<Option<i64>> {
        match at(self.object, path) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)) {
                Some(s) if s >= 0 => Ok(Some(s)),
                _ => Err((path.into(), format!("{n} is not a duration in seconds"))),
            },
            Some(other) => Err((path.into(), format!("{other} is not a number of seconds"))),
        }
    }
}

/// What became of a record that is not a contact Merit counts.
enum Parsed {
    Contact(Box<Contact>),
    Skip(&'static str),
}

fn contact(object: &Map<String, Value>) -> FieldResult<Parsed> {
    let r = Record { object };
    let id = r
        .text("ContactId")?
        .ok_or_else(|| ("ContactId".to_owned(), "is missing".to_owned()))?;
    let method = r.text("InitiationMethod")?.unwrap_or_default();
    let channel = match r.text("Channel")?.as_deref() {
        Some("VOICE") if matches!(method.as_str(), "OUTBOUND" | "EXTERNAL_OUTBOUND") => {
            Channel::VoiceOutbound
        }
        Some("VOICE") => Channel::VoiceInbound,
        Some("CHAT") => Channel::Chat,
        Some("EMAIL") => Channel::Email,
        Some("TASK") => {
            return Ok(Parsed::Skip(
                "TASK records (work items, not customer contacts)",
            ));
        }
        Some(other) => {
            return Err((
                "Channel".into(),
                format!("{other:?} is not VOICE, CHAT, EMAIL or TASK"),
            ));
        }
        None => return Err(("Channel".into(), "is missing".into())),
    };
    if method == "MONITOR" {
        return Ok(Parsed::Skip(
            "MONITOR records (a supervisor listening, not a contact)",
        ));
    }
    let arrival_ms = r
        .time("InitiationTimestamp")?
        .ok_or_else(|| ("InitiationTimestamp".to_owned(), "is missing".to_owned()))?;
    let disconnect_ms = r
        .time("DisconnectTimestamp")?
        .ok_or_else(|| ("DisconnectTimestamp".to_owned(), "is missing".to_owned()))?;
    let queue_id = r.text("Queue.Name")?;
    let mut queue_entry_ms = r.time("Queue.EnqueueTimestamp")?;
    let dequeue_ms = r.time("Queue.DequeueTimestamp")?;
    let queue_s = r.seconds("Queue.Duration")?;
    let answer_ms = r.time("Agent.ConnectedToAgentTimestamp")?;
    let reason = r.text("DisconnectReason")?.unwrap_or_default();
    let next_contact = r.text("NextContactId")?;
    if queue_entry_ms.is_none() && queue_id.is_some() {
        // Only the wait is known: the queue was entered that long before it was left.
        queue_entry_ms = queue_s.and_then(|s| Some(answer_ms.or(dequeue_ms)? - s * 1000));
    }
    let mut contact = Contact {
        queue_id: queue_id.clone(),
        customer_id: r.text("CustomerEndpoint.Address")?,
        agent_id: r.text("Agent.Username")?,
        queue_entry_ms,
        answer_ms,
        recording_url: r.text("Recording.Location")?,
        end_ms: disconnect_ms,
        ..Contact::arriving(SOURCE_SYSTEM, id, channel, arrival_ms)
    };
    if let Some(answer_ms) = answer_ms {
        let hold_s = r.seconds("Agent.CustomerHoldDuration")?.unwrap_or(0);
        // AgentInteractionDuration excludes hold; Merit's talk includes it.
        if let Some(interaction_s) = r.seconds("Agent.AgentInteractionDuration")? {
            contact.end_ms = answer_ms + (interaction_s + hold_s) * 1000;
        }
        if hold_s > 0 {
            contact.holds.push(HoldSegment {
                start_ms: answer_ms,
                end_ms: answer_ms + hold_s * 1000,
            });
        }
        contact.after_work_end_ms = r
            .seconds("Agent.AfterContactWorkDuration")?
            .map(|s| contact.end_ms + s * 1000);
        if let Some(next) = next_contact {
            contact.transfers.push(Transfer {
                at_ms: contact.end_ms,
                target: next,
            });
        }
        if channel.is_digital() {
            contact.first_response_ms = Some(answer_ms);
        }
    } else if queue_entry_ms.is_some() {
        contact.queue_exit_ms = Some(dequeue_ms.unwrap_or(disconnect_ms));
        contact.outcome = if reason == "TELECOM_PROBLEM" {
            Outcome::SystemDrop
        } else if next_contact.is_some()
            || matches!(reason.as_str(), "CONTACT_FLOW_DISCONNECT" | "EXPIRED")
        {
            Outcome::Overflow
        } else {
            Outcome::QueueAbandon
        };
    } else if channel == Channel::VoiceInbound {
        contact.menu_exit_ms = Some(disconnect_ms);
        contact.outcome = match reason.as_str() {
            "CUSTOMER_DISCONNECT" => Outcome::MenuAbandon,
            "TELECOM_PROBLEM" => Outcome::SystemDrop,
            _ => {
                return Ok(Parsed::Skip(
                    "contacts that ended in the contact flow without queueing (self-service)",
                ));
            }
        };
    } else {
        return Ok(Parsed::Skip(
            "contacts never queued nor connected to an agent (outbound attempts, flows)",
        ));
    }
    contact
        .validate()
        .map_err(|e| (e.field.to_owned(), e.reason))?;
    Ok(Parsed::Contact(Box::new(contact)))
}

impl Iterator for AmazonConnectReader {
    type Item = Result<(u64, NativeRecord), RowProblem>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let problem = |line, field: &str, reason: String| RowProblem {
                file: self.file.clone(),
                line,
                field: field.to_owned(),
                reason,
            };
            let (line, text) = match self.objects.next()? {
                Ok(found) => found,
                Err((line, reason)) => return Some(Err(problem(line, "(record)", reason))),
            };
            let object: Map<String, Value> = match serde_json::from_str(&text) {
                Ok(object) => object,
                Err(e) => {
                    return Some(Err(problem(
                        line,
                        "(record)",
                        format!("not a valid JSON object: {e}"),
                    )));
                }
            };
            if let Some(id) = object.get("ContactId").and_then(Value::as_str)
                && self.keep_line.get(id).is_some_and(|keep| *keep != line)
            {
                *self
                    .skipped
                    .entry("earlier copies of a record delivered again in the same file".into())
                    .or_default() += 1;
                continue;
            }
            match contact(&object) {
                Ok(Parsed::Contact(c)) => return Some(Ok((line, NativeRecord::Contact(c)))),
                Ok(Parsed::Skip(reason)) => {
                    *self.skipped.entry(reason.into()).or_default() += 1;
                }
                Err((field, reason)) => return Some(Err(problem(line, &field, reason))),
            }
        }
    }
}

impl crate::RecordReader for AmazonConnectReader {
    fn skipped(&self) -> BTreeMap<String, u64> {
        self.skipped.clone()
    }
}
