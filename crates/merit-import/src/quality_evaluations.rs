//! Past and automated evaluations in Merit's native format (docs/formats.md,
//! "Evaluations"): CSV with a header, one evaluation per row, its answers
//! as `question=answer` pairs separated by `;`. A bad row is reported with
//! its line and field; the rest are read.

use crate::text::{field_text, open_text};
use crate::{FileRefused, RowProblem};
use merit_domain::UtcMs;
use std::collections::BTreeMap;
use std::path::Path;

pub const REQUIRED: [&str; 7] = [
    "source_id",
    "form",
    "contact_source_id",
    "kind",
    "evaluator",
    "evaluated_at",
    "answers",
];
pub const OPTIONAL: [&str; 6] = [
    "source_system",
    "form_version",
    "method",
    "released_at",
    "acknowledged_at",
    "comment",
];

/// Whose score an imported evaluation is.
pub const KINDS: [&str; 2] = ["human", "automated"];

/// One evaluation as read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedEvaluation {
    pub line: u64,
    pub source_id: String,
    pub form: String,
    pub form_version: Option<i64>,
    pub source_system: String,
    pub contact_source_id: String,
    pub kind: String,
    pub evaluator: String,
    pub method: String,
    pub evaluated_ms: UtcMs,
    pub released_ms: Option<UtcMs>,
    pub acknowledged_ms: Option<UtcMs>,
    pub answers: BTreeMap<String, String>,
    pub comment: Option<String>,
}

/// `greeting=yes; verification=no` as question → answer.
pub fn parse_answers(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut answers = BTreeMap::new();
    for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not question=answer"))?;
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || value.is_empty() {
            return Err(format!("{pair:?} is not question=answer"));
        }
        if answers.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(format!("question {key:?} is answered twice"));
        }
    }
    Ok(answers)
}

fn time(field: &str, value: &str) -> Result<UtcMs, (String, String)> {
    value
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| {
            (
                field.to_owned(),
                format!("{value:?} is not an RFC 3339 time with an offset"),
            )
        })
}

/// Reads an evaluations file: the good rows and a problem per bad row.
pub fn read_evaluations(
    path: &Path,
) -> Result<(Vec<ImportedEvaluation>, Vec<RowProblem>), FileRefused> {
    let file = path.display().to_string();
    let refuse = |reason: String| FileRefused::NotThisFormat {
        file: file.clone(),
        reason,
    };
    let (_, reader) = open_text(path, "evaluations")?;
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let header: Vec<String> = csv
        .byte_headers()
        .map_err(|e| refuse(format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| field_text(h).trim().to_owned())
        .collect();
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(refuse(format!(
            "not a native evaluations file: missing column(s) {}; found: {}",
            missing.join(", "),
            header.join(", ")
        )));
    }
    let (mut good, mut problems) = (Vec::new(), Vec::new());
    let mut record = csv::ByteRecord::new();
    loop {
        let line = csv.position().line() + 1;
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                problems.push(RowProblem {
                    file: file.clone(),
                    line,
                    field: String::new(),
                    reason: format!("not CSV: {e}"),
                });
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        let get = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .map(|b| field_text(b).trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        match row(line, &get) {
            Ok(evaluation) => good.push(evaluation),
            Err((field, reason)) => problems.push(RowProblem {
                file: file.clone(),
                line,
                field,
                reason,
            }),
        }
    }
    Ok((good, problems))
}

fn row(
    line: u64,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<ImportedEvaluation, (String, String)> {
    let required = |name: &str| get(name).ok_or_else(|| (name.to_owned(), "is empty".to_owned()));
    let optional_time = |name: &str| get(name).map(|v| time(name, &v)).transpose();
    let kind = required("kind")?;
    if !KINDS.contains(&kind.as_str()) {
        return Err((
            "kind".into(),
            format!("{kind:?} is not one of {}", KINDS.join(", ")),
        ));
    }
    let form_version = get("form_version")
        .map(|v| {
            v.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                (
                    "form_version".to_owned(),
                    format!("{v:?} is not a version number"),
                )
            })
        })
        .transpose()?;
    let answers =
        parse_answers(&required("answers")?).map_err(|reason| ("answers".to_owned(), reason))?;
    Ok(ImportedEvaluation {
        line,
        source_id: required("source_id")?,
        form: required("form")?,
        form_version,
        source_system: get("source_system")
            .unwrap_or_else(|| crate::native::DEFAULT_SOURCE_SYSTEM.to_owned()),
        contact_source_id: required("contact_source_id")?,
        method: get("method").unwrap_or_else(|| {
            if kind == "automated" {
                "automated"
            } else {
                "recording"
            }
            .to_owned()
        }),
        kind,
        evaluator: required("evaluator")?,
        evaluated_ms: time("evaluated_at", &required("evaluated_at")?)?,
        released_ms: optional_time("released_at")?,
        acknowledged_ms: optional_time("acknowledged_at")?,
        answers,
        comment: get("comment"),
    })
}
