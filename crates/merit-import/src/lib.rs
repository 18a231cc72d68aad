//! Source formats to domain records. Streaming: a reader yields one record
//! or one row problem at a time, never failing a whole file for one bad row;
//! a file that is not of the declared format is refused before any row.

pub mod amazon_connect;
pub mod anonymous_bank;
pub mod asterisk_cdr;
pub mod asterisk_queue_log;
pub mod mapped;
pub mod native;
pub mod pay_plan;
pub mod quality_evaluations;
pub mod quality_form;
mod text;
mod toml_lines;
mod utc_time;

use native::NativeRecord;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Rows kept after a correction, listed per file (the rest are counted).
pub const KEPT_WARNINGS: usize = 1_000;

/// A source format a file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Native,
    AnonymousBank,
    AsteriskQueueLog,
    AsteriskCdr,
    AmazonConnect,
    Mapped,
}

impl ImportFormat {
    pub const ALL: [ImportFormat; 6] = [
        ImportFormat::Native,
        ImportFormat::AnonymousBank,
        ImportFormat::AsteriskQueueLog,
        ImportFormat::AsteriskCdr,
        ImportFormat::AmazonConnect,
        ImportFormat::Mapped,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Native => "native",
            ImportFormat::AnonymousBank => "anonymous-bank",
            ImportFormat::AsteriskQueueLog => "asterisk-queue-log",
            ImportFormat::AsteriskCdr => "asterisk-cdr",
            ImportFormat::AmazonConnect => "amazon-connect",
            ImportFormat::Mapped => "mapped",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }
    /// The kinds of import the format serves. A queue_log import of
    /// contacts also brings the agent states its member events record; a
    /// mapped contacts import also brings the survey answers on its rows.
    pub fn kinds(self) -> &'static [ImportKind] {
        match self {
            ImportFormat::Native => &ImportKind::ALL,
            ImportFormat::Mapped => &[ImportKind::Contacts, ImportKind::Surveys],
            _ => &[ImportKind::Contacts],
        }
    }
}

/// What a reader needs besides the file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The zone of local times in the file.
    pub zone: jiff::tz::TimeZone,
    /// The column mapping (format `mapped` only).
    pub mapping: Option<std::sync::Arc<mapped::Mapping>>,
    /// The CDR column order (format `asterisk-cdr`; `None` detects it).
    pub cdr_layout: Option<asterisk_cdr::CdrLayout>,
    /// Events an earlier file of the same source left unfinished (a call
    /// cut by log rotation), to be completed by this file.
    pub carried_over: Vec<CarriedEvent>,
}

impl ReadOptions {
    pub fn in_zone(zone: jiff::tz::TimeZone) -> Self {
        ReadOptions {
            zone,
            mapping: None,
            cdr_layout: None,
            carried_over: Vec::new(),
        }
    }
}

/// A source line kept between imports because the record it belongs to is
/// not complete yet, with where it was read (`file:line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedEvent {
    pub line: String,
    pub origin: String,
}

/// A streaming reader of any format: `(line, record)` or a row problem.
pub trait RecordReader: Iterator<Item = Result<(u64, NativeRecord), RowProblem>> + Send {
    /// Rows left out on purpose, counted by reason (not problems).
    fn skipped(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }
    /// Rows kept after a correction, each with what was corrected.
    fn warnings(&mut self) -> Vec<RowProblem> {
        Vec::new()
    }
    /// After the last record: what the file left unfinished, kept for the
    /// next import of the same format, and a notice for each.
    fn carry_over(&mut self) -> (Vec<CarriedEvent>, Vec<String>) {
        (Vec::new(), Vec::new())
    }
}

impl RecordReader for native::NativeReader {}

/// Opens a file of `kind` in `format`. A file that is not of the format is
/// refused before any row.
pub fn open(
    path: &Path,
    kind: ImportKind,
    format: ImportFormat,
    options: ReadOptions,
) -> Result<Box<dyn RecordReader>, FileRefused> {
    let refuse = |reason: String| FileRefused::NotThisFormat {
        file: path.display().to_string(),
        reason,
    };
    if !format.kinds().contains(&kind) {
        return Err(refuse(format!(
            "the {} format holds no {} records",
            format.as_str(),
            kind.as_str()
        )));
    }
    Ok(match format {
        ImportFormat::Native => Box::new(native::open(path, kind)?),
        ImportFormat::AnonymousBank => Box::new(anonymous_bank::open(path, options.zone)?),
        ImportFormat::AsteriskQueueLog => Box::new(asterisk_queue_log::open(path, options)?),
        ImportFormat::AsteriskCdr => {
            Box::new(asterisk_cdr::open(path, options.zone, options.cdr_layout)?)
        }
        ImportFormat::AmazonConnect => Box::new(amazon_connect::open(path)?),
        ImportFormat::Mapped => {
            let mapping = options.mapping.ok_or_else(|| {
                refuse("the mapped format needs a mapping file (--mapping FILE.toml)".into())
            })?;
            Box::new(mapped::open(path, kind, mapping, options.zone)?)
        }
    })
}

/// The kinds of file an import takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    Contacts,
    States,
    Schedules,
    Absences,
    Surveys,
    Organisation,
}

impl ImportKind {
    pub const ALL: [ImportKind; 6] = [
        ImportKind::Organisation,
        ImportKind::Contacts,
        ImportKind::States,
        ImportKind::Schedules,
        ImportKind::Absences,
        ImportKind::Surveys,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Contacts => "contacts",
            ImportKind::States => "states",
            ImportKind::Schedules => "schedules",
            ImportKind::Absences => "absences",
            ImportKind::Surveys => "surveys",
            ImportKind::Organisation => "org",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A bad row: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.field, self.reason
        )
    }
}

/// Why a whole file was refused, before anything was written.
#[derive(Debug, thiserror::Error)]
pub enum FileRefused {
    #[error("{file}: cannot read: {source}")]
    Unreadable {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {reason}")]
    NotThisFormat { file: String, reason: String },
}

impl FileRefused {
    /// The same refusal naming the file `name` (an upload kept under a temporary path).
    pub fn named(self, name: &str) -> FileRefused {
        match self {
            FileRefused::Unreadable { source, .. } => FileRefused::Unreadable {
                file: name.to_owned(),
                source,
            },
            FileRefused::NotThisFormat { reason, .. } => FileRefused::NotThisFormat {
                file: name.to_owned(),
                reason,
            },
        }
    }
}
