//! Source formats to domain records. Streaming: a reader yields one record
//! or one row problem at a time, never failing a whole file for one bad row;
//! a file that is not of the declared format is refused before any row.

pub mod native;
mod text;

use std::fmt;

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
