//! Asterisk call detail records as CSV without a header, in either of the
//! two usual column orders: the `cdr_csv` module's (`Master.csv`) and the
//! common `cdr_custom` mapping. Field mapping and what the source cannot
//! tell us: docs/formats.md.

use crate::native::NativeRecord;
use crate::text::{field_text, open_text};
use crate::{FileRefused, RowProblem};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use merit_domain::UtcMs;
use merit_domain::contact::{Contact, Outcome};
use merit_domain::organisation::Channel;
use std::io::Read;
use std::path::Path;

pub const SOURCE_SYSTEM: &str = "asterisk-cdr";

/// The column order of a CDR file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdrLayout {
    /// `cdr_csv`: accountcode, src, dst, dcontext, clid, channel,
    /// dstchannel, lastapp, lastdata, start, answer, end, duration,
    /// billsec, disposition, amaflags[, uniqueid[, userfield]].
    CdrCsv,
    /// `cdr_custom`: clid, src, dst, dcontext, channel, dstchannel,
    /// lastapp, lastdata, start, answer, end, duration, billsec,
    /// disposition, amaflags, accountcode, uniqueid, userfield, sequence.
    CdrCustom,
}

impl CdrLayout {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "cdr_csv" => Some(CdrLayout::CdrCsv),
            "cdr_custom" => Some(CdrLayout::CdrCustom),
            _ => None,
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            CdrLayout::CdrCsv => &[
                "accountcode",
                "src",
                "dst",
                "dcontext",
                "clid",
                "channel",
                "dstchannel",
                "lastapp",
                "lastdata",
                "start",
                "answer",
                "end",
                "duration",
                "billsec",
                "disposition",
                "amaflags",
                "uniqueid",
                "userfield",
            ],
            CdrLayout::CdrCustom => &[
                "clid",
                "src",
                "dst",
                "dcontext",
                "channel",
                "dstchannel",
                "lastapp",
                "lastdata",
                "start",
                "answer",
                "end",
                "duration",
                "billsec",
                "disposition",
                "amaflags",
                "accountcode",
                "uniqueid",
                "userfield",
                "sequence",
            ],
        }
    }

    /// The fewest fields a row of this layout has.
    fn min_fields(self) -> usize {
        match self {
            CdrLayout::CdrCsv => 16,
            CdrLayout::CdrCustom => 17,
        }
    }
}

/// Streams a CDR file: yields `(line, contact)` or a row problem.
pub struct AsteriskCdrReader {
    file: String,
    csv: csv::Reader<Box<dyn Read + Send>>,
    record: csv::ByteRecord,
    layout: CdrLayout,
    zone: TimeZone,
}

fn local_time(text: &str, zone: &TimeZone) -> Option<UtcMs> {
    let civil: DateTime = text.trim().parse().ok()?;
    civil
        .to_zoned(zone.clone())
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

/// Opens a CDR file whose times are local to `zone`; `layout` `None`
/// detects the column order from the first row (where its start time is).
pub fn open(
    path: &Path,
    zone: TimeZone,
    layout: Option<CdrLayout>,
) -> Result<AsteriskCdrReader, FileRefused> {
    let file = path.display().to_string();
    let what = "an Asterisk CDR CSV file";
    let (head, reader) = open_text(path, what)?;
    let refuse = |reason: String| FileRefused::NotThisFormat {
        file: file.clone(),
        reason,
    };
    let first_row = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(head.as_slice())
        .byte_records()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default();
    let is_time = |i: usize| {
        first_row
            .get(i)
            .is_some_and(|f| local_time(&field_text(f), &TimeZone::UTC).is_some())
    };
    let is_seconds = |i: usize| {
        first_row
            .get(i)
            .is_some_and(|f| field_text(f).trim().parse::<u64>().is_ok())
    };
    // Start time, then duration and billsec three and four fields on.
    let detected = [CdrLayout::CdrCsv, CdrLayout::CdrCustom]
        .into_iter()
        .find(|layout| {
            let start = layout
                .columns()
                .iter()
                .position(|c| *c == "start")
                .unwrap_or(0);
            first_row.len() >= layout.min_fields()
                && is_time(start)
                && is_seconds(start + 3)
                && is_seconds(start + 4)
        });
    let layout = match (layout, detected) {
        (Some(chosen), Some(found)) if chosen != found => {
            return Err(refuse(format!(
                "the first row has its start time where {found:?} puts it, not where {chosen:?} does"
            )));
        }
        (Some(layout), _) | (None, Some(layout)) => layout,
        (None, None) => {
            return Err(refuse(format!(
                "not an Asterisk CDR CSV file: the first row ({} fields) has no start time \
                 (YYYY-MM-DD HH:MM:SS) in field 10 (cdr_csv order, 16-18 fields) or field 9 \
                 (cdr_custom order, 19 fields)",
                first_row.len()
            )));
        }
    };
    Ok(AsteriskCdrReader {
        file,
        csv: csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader),
        record: csv::ByteRecord::new(),
        layout,
        zone,
    })
}

/// `"Name" <1234>` → `1234`; a bare number stays as it is.
pub fn caller_number(clid: &str) -> Option<&str> {
    let clid = clid.trim();
    let number = match (clid.rfind('<'), clid.rfind('>')) {
        (Some(open), Some(close)) if open < close => &clid[open + 1..close],
        _ => clid,
    };
    let number = number.trim();
    (!number.is_empty()).then_some(number)
}

/// `SIP/1001-0000000a` → `SIP/1001`: the device, without the call's suffix.
fn device(channel: &str) -> Option<&str> {
    let channel = channel.trim();
    let device = match channel.rfind('-') {
        Some(dash) if channel.contains('/') && dash > channel.find('/').unwrap_or(0) => {
            &channel[..dash]
        }
        _ => channel,
    };
    (!device.is_empty()).then_some(device)
}

type FieldResult<T> = Result<T, (String, String)>;

impl AsteriskCdrReader {
    fn contact(&self) -> FieldResult<Contact> {
        let columns = self.layout.columns();
        let get = |name: &str| -> String {
            columns
                .iter()
                .position(|c| *c == name)
                .and_then(|i| self.record.get(i))
                .map(|f| field_text(f).trim().to_owned())
                .unwrap_or_default()
        };
        let seconds = |name: &str| -> FieldResult<i64> {
            let text = get(name);
            match text.parse::<i64>() {
                Ok(s) if s >= 0 => Ok(s),
                _ => Err((
                    name.into(),
                    format!("{text:?} is not a whole number of seconds"),
                )),
            }
        };
        let start_text = get("start");
        let start_ms = local_time(&start_text, &self.zone).ok_or_else(|| {
            (
                "start".to_owned(),
                format!("{start_text:?} is not a time YYYY-MM-DD HH:MM:SS"),
            )
        })?;
        let (duration_s, billsec_s) = (seconds("duration")?, seconds("billsec")?);
        if billsec_s > duration_s {
            return Err((
                "billsec".into(),
                format!("{billsec_s} s is longer than the call's duration of {duration_s} s"),
            ));
        }
        let ring_ms = (duration_s - billsec_s) * 1000;
        let uniqueid = get("uniqueid");
        let source_id = match (uniqueid.is_empty(), get("sequence")) {
            (true, _) => format!("{}@{start_text}", get("channel")),
            (false, sequence) if sequence.is_empty() => uniqueid,
            (false, sequence) => format!("{uniqueid}#{sequence}"),
        };
        let (lastapp, lastdata) = (get("lastapp"), get("lastdata"));
        let queue_id = lastapp
            .eq_ignore_ascii_case("queue")
            .then(|| {
                lastdata
                    .split([',', '|'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            })
            .filter(|q| !q.is_empty());
        let src = get("src");
        let customer = if src.is_empty() {
            caller_number(&get("clid")).map(str::to_owned)
        } else {
            Some(src)
        };
        let dstchannel = get("dstchannel");
        let mut contact = Contact {
            queue_id,
            customer_id: customer,
            end_ms: start_ms + duration_s * 1000,
            ..Contact::arriving(SOURCE_SYSTEM, source_id, Channel::VoiceInbound, start_ms)
        };
        let disposition = get("disposition");
        match disposition.to_ascii_uppercase().as_str() {
            "ANSWERED" => {
                contact.queue_entry_ms = Some(start_ms);
                contact.answer_ms = Some(start_ms + ring_ms);
                contact.agent_id = device(&dstchannel).map(str::to_owned);
            }
            "NO ANSWER" => {
                contact.queue_entry_ms = Some(start_ms);
                contact.queue_exit_ms = Some(contact.end_ms);
                contact.outcome = Outcome::QueueAbandon;
            }
            "BUSY" | "FAILED" | "CONGESTION" => contact.outcome = Outcome::Refused,
            other => {
                return Err((
                    "disposition".into(),
                    format!("{other:?} is not ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION"),
                ));
            }
        }
        contact
            .validate()
            .map_err(|e| (e.field.to_owned(), e.reason))?;
        Ok(contact)
    }
}

impl Iterator for AsteriskCdrReader {
    type Item = Result<(u64, NativeRecord), RowProblem>;

    fn next(&mut self) -> Option<Self::Item> {
        let problem = |line, field: &str, reason: String| RowProblem {
            file: self.file.clone(),
            line,
            field: field.to_owned(),
            reason,
        };
        loop {
            let read = self.csv.read_byte_record(&mut self.record);
            let line = self.record.position().map_or(0, |p| p.line());
            return Some(match read {
                Ok(false) => return None,
                Err(e) => {
                    let line = e.position().map_or(line, |p| p.line());
                    Err(problem(line, "(row)", e.to_string()))
                }
                Ok(true)
                    if self
                        .record
                        .iter()
                        .all(|f| f.iter().all(u8::is_ascii_whitespace)) =>
                {
                    continue;
                }
                Ok(true) if self.record.len() < self.layout.min_fields() => Err(problem(
                    line,
                    "(row)",
                    format!(
                        "has {} fields; the {:?} order has at least {}",
                        self.record.len(),
                        self.layout,
                        self.layout.min_fields()
                    ),
                )),
                Ok(true) => match self.contact() {
                    Ok(c) => Ok((line, NativeRecord::Contact(Box::new(c)))),
                    Err((field, reason)) => Err(problem(line, &field, reason)),
                },
            });
        }
    }
}

impl crate::RecordReader for AsteriskCdrReader {}
