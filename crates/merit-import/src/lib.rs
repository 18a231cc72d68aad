//! Source formats to domain records. Streaming: a reader yields one record
//! or one row problem at a time, never failing a whole file for one bad row;
//! a file that is not of the declared format is refused before any row.

pub mod anonymous_bank;
pub mod native;
mod text;

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
}

impl ImportFormat {
    pub const ALL: [ImportFormat; 2] = [ImportFormat::Native, ImportFormat::AnonymousBank];
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Native => "native",
            ImportFormat::AnonymousBank => "anonymous-bank",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }
    /// The kinds of record the format holds.
    pub fn kinds(self) -> &'static [ImportKind] {
        match self {
            ImportFormat::Native => &ImportKind::ALL,
            ImportFormat::AnonymousBank => &[ImportKind::Contacts],
        }
    }
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
}

impl RecordReader for native::NativeReader {}

/// Opens a file of `kind` in `format`; local times in the file are read in
/// `zone`. A file that is not of the format is refused before any row.
pub fn open(
    path: &Path,
    kind: ImportKind,
    format: ImportFormat,
    zone: jiff::tz::TimeZone,
) -> Result<Box<dyn RecordReader>, FileRefused> {
    if !format.kinds().contains(&kind) {
        return Err(FileRefused::NotThisFormat {
            file: path.display().to_string(),
            reason: format!(
                "the {} format holds no {} records",
                format.as_str(),
                kind.as_str()
            ),
        });
    }
    Ok(match format {
        ImportFormat::Native => Box::new(native::open(path, kind)?),
        ImportFormat::AnonymousBank => Box::new(anonymous_bank::open(path, zone)?),
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
