//! The Anonymous Bank call-centre format (Guedj & Mandelbaum, Technion,
//! 2000): tab-separated, one call per row, local wall-clock times without a
//! date except the call's own. Field mapping and what the source cannot tell
//! us: docs/formats.md.

use crate::native::NativeRecord;
use crate::text::open_text;
use crate::{FileRefused, RowProblem};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use merit_domain::contact::{Contact, Outcome};
use merit_domain::organisation::Channel;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

pub const SOURCE_SYSTEM: &str = "anonymous-bank";

/// The 17 fields, in file order.
pub const FIELDS: [&str; 17] = [
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
];

/// Streams an Anonymous Bank file: yields `(line, contact)` or a row
/// problem; PHANTOM rows are counted in `skipped` and left out; rows kept
/// after a correction are listed in `warnings`.
pub struct AnonymousBankReader {
    file: String,
    lines: std::io::Lines<BufReader<Box<dyn Read + Send>>>,
    line: u64,
    zone: TimeZone,
    pub skipped: BTreeMap<String, u64>,
    pub warnings: Vec<RowProblem>,
}

/// Opens an Anonymous Bank file whose times are local to `zone`, refusing
/// it whole unless its header names the format's 17 fields.
pub fn open(path: &Path, zone: TimeZone) -> Result<AnonymousBankReader, FileRefused> {
    let file = path.display().to_string();
    let unreadable = |source| FileRefused::Unreadable {
        file: file.clone(),
        source,
    };
    let refuse = |reason: String| FileRefused::NotThisFormat {
        file: file.clone(),
        reason,
    };
    let (_, reader) = open_text(path, "an Anonymous Bank text file")?;
    let mut lines = BufReader::new(reader).lines();
    let header = lines
        .next()
        .transpose()
        .map_err(unreadable)?
        .unwrap_or_default();
    let names: Vec<&str> = header
        .trim_end_matches('\r')
        .split('\t')
        .map(str::trim)
        .collect();
    if names != FIELDS {
        return Err(refuse(format!(
            "the header is not the Anonymous Bank format's 17 tab-separated fields ({}); found {:?}",
            FIELDS.join(", "),
            header.trim_end()
        )));
    }
    Ok(AnonymousBankReader {
        file,
        lines,
        line: 1,
        zone,
        skipped: BTreeMap::new(),
        warnings: Vec::new(),
    })
}

/// `H:MM:SS` → seconds after midnight; `0:00:00` is "none" unless told otherwise.
fn clock_s(text: &str) -> Option<i64> {
    let mut parts = text.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let (h, m, s): (i64, i64, i64) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && (0..60).contains(&s))
        .then_some(h * 3600 + m * 60 + s)
}

struct Row<'a> {
    file: &'a str,
    line: u64,
    fields: Vec<&'a str>,
}

impl Row<'_> {
    fn problem(&self, field: &str, reason: impl Into<String>) -> RowProblem {
        RowProblem {
            file: self.file.to_owned(),
            line: self.line,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    fn get(&self, field: &str) -> &str {
        FIELDS
            .iter()
            .position(|f| *f == field)
            .and_then(|i| self.fields.get(i))
            .copied()
            .unwrap_or("")
    }

    fn number(&self, field: &str) -> Result<i64, RowProblem> {
        let text = self.get(field);
        text.parse()
            .map_err(|_| self.problem(field, format!("{text:?} is not a whole number")))
    }

    fn clock(&self, field: &str) -> Result<i64, RowProblem> {
        let text = self.get(field);
        clock_s(text).ok_or_else(|| self.problem(field, format!("{text:?} is not a time H:MM:SS")))
    }
}

impl AnonymousBankReader {
    fn contact(&mut self, text: &str) -> Result<Option<Contact>, RowProblem> {
        let fields: Vec<&str> = text.split('\t').collect();
        let row = Row {
            file: &self.file,
            line: self.line,
            fields,
        };
        if row.fields.len() != FIELDS.len() {
            return Err(row.problem(
                "row",
                format!(
                    "has {} tab-separated fields, expected {} (spaces instead of tabs?)",
                    row.fields.len(),
                    FIELDS.len()
                ),
            ));
        }
        let outcome_text = row.get("outcome");
        if outcome_text == "PHANTOM" {
            *self
                .skipped
                .entry("PHANTOM (not a call, by the source's own definition)".into())
                .or_default() += 1;
            return Ok(None);
        }
        let call_id = row.get("call_id");
        if call_id.is_empty() || !call_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(row.problem("call_id", format!("{call_id:?} is not a call number")));
        }
        let date_text = row.get("date");
        let date = (date_text.len() == 6)
            .then(|| {
                let n: i32 = date_text.parse().ok()?;
                let (yy, mm, dd) = (n / 10_000, (n / 100 % 100) as i8, (n % 100) as i8);
                let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
                Date::new(year as i16, mm, dd).ok()
            })
            .flatten()
            .ok_or_else(|| row.problem("date", format!("{date_text:?} is not a date yymmdd")))?;
        let vru_entry_s = row.clock("vru_entry")?;
        // Every clock time is on the call's date, or the next day when it
        // reads more than 12 hours before the voice-menu entry (after midnight).
        let zone = &self.zone;
        let at = |field: &str, seconds: i64| -> Result<i64, RowProblem> {
            let day_s = if seconds < vru_entry_s - 12 * 3600 {
                86_400
            } else {
                0
            };
            let local = DateTime::from_parts(date, Time::midnight())
                .checked_add(jiff::SignedDuration::from_secs(seconds + day_s))
                .map_err(|e| row.problem(field, e.to_string()))?;
            local
                .to_zoned(zone.clone())
                .map(|z| z.timestamp().as_millisecond())
                .map_err(|e| row.problem(field, e.to_string()))
        };
        let arrival_ms = at("vru_entry", vru_entry_s)?;
        let mut menu_exit_ms = at("vru_exit", row.clock("vru_exit")?)?;
        if menu_exit_ms < arrival_ms {
            if self.warnings.len() < crate::KEPT_WARNINGS {
                self.warnings.push(row.problem(
                "vru_exit",
                format!(
                    "is {} s before vru_entry (clock skew); kept, with the voice-menu time counted as 0",
                    (arrival_ms - menu_exit_ms) / 1000
                ),
                ));
            }
            menu_exit_ms = arrival_ms;
        }
        let (q_start, q_exit) = (row.get("q_start"), row.get("q_exit"));
        let q_time_s = row.number("q_time")?;
        if q_time_s < 0 {
            return Err(row.problem("q_time", format!("{q_time_s} is a negative wait")));
        }
        // Never queued: both queue times "0:00:00" and no wait. A call that
        // joined the queue exactly at midnight reads q_start 0:00:00 but waited.
        let queued = !(q_start == "0:00:00" && q_exit == "0:00:00" && q_time_s == 0);
        let queue = if queued {
            let exit_ms = at("q_exit", row.clock("q_exit")?)?.max(menu_exit_ms + q_time_s * 1000);
            Some((exit_ms - q_time_s * 1000, exit_ms))
        } else {
            None
        };
        let call_type = row.get("type").trim();
        if call_type.is_empty() {
            return Err(row.problem("type", "is empty"));
        }
        let customer = row.get("customer_id").trim();
        let server = row.get("server").trim();
        let mut contact = Contact {
            contact_type: Some(call_type.to_owned()),
            customer_id: (!customer.is_empty() && customer != "0").then(|| customer.to_owned()),
            agent_id: (!server.is_empty() && server != "NO_SERVER").then(|| server.to_owned()),
            menu_exit_ms: Some(menu_exit_ms),
            queue_entry_ms: queue.map(|q| q.0),
            queue_exit_ms: queue.map(|q| q.1),
            outcome: Outcome::MenuAbandon,
            end_ms: menu_exit_ms,
            ..Contact::arriving(
                SOURCE_SYSTEM,
                format!("{date_text}-{}-{call_id}", row.get("vru+line").trim()),
                Channel::VoiceInbound,
                arrival_ms,
            )
        };
        match outcome_text {
            "AGENT" => {
                let ser_time_s = row.number("ser_time")?;
                if ser_time_s < 0 {
                    return Err(row.problem(
                        "ser_time",
                        format!("{ser_time_s} is a negative service time"),
                    ));
                }
                // Answered when the queue was left, or at once after the menu.
                let answer_ms = queue.map_or(menu_exit_ms, |q| q.1);
                contact.queue_id = Some(call_type.to_owned());
                // Served without queueing: no queue entry, a wait of 0 s.
                contact.queue_entry_ms = queue.map(|q| q.0);
                contact.queue_exit_ms = None;
                contact.answer_ms = Some(answer_ms);
                contact.end_ms = answer_ms + ser_time_s * 1000;
                contact.outcome = Outcome::Handled;
            }
            "HANG" if queued => {
                contact.queue_id = Some(call_type.to_owned());
                contact.end_ms = queue.map_or(menu_exit_ms, |q| q.1);
                contact.outcome = Outcome::QueueAbandon;
            }
            "HANG" => {}
            other => {
                return Err(row.problem(
                    "outcome",
                    format!("{other:?} is not AGENT, HANG or PHANTOM"),
                ));
            }
        }
        contact
            .validate()
            .map_err(|e| row.problem(e.field, e.reason))?;
        Ok(Some(contact))
    }
}

impl Iterator for AnonymousBankReader {
    type Item = Result<(u64, NativeRecord), RowProblem>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let text = match self.lines.next()? {
                Ok(text) => text,
                Err(e) => {
                    self.line += 1;
                    return Some(Err(RowProblem {
                        file: self.file.clone(),
                        line: self.line,
                        field: "row".into(),
                        reason: format!("cannot be read: {e}"),
                    }));
                }
            };
            self.line += 1;
            let text = text.trim_end_matches('\r');
            if text.trim().is_empty() {
                continue;
            }
            match self.contact(text) {
                Ok(None) => continue,
                Ok(Some(c)) => return Some(Ok((self.line, NativeRecord::Contact(Box::new(c))))),
                Err(problem) => return Some(Err(problem)),
            }
        }
    }
}

impl crate::RecordReader for AnonymousBankReader {
    fn skipped(&self) -> BTreeMap<String, u64> {
        self.skipped.clone()
    }
    fn warnings(&mut self) -> Vec<RowProblem> {
        std::mem::take(&mut self.warnings)
    }
}
