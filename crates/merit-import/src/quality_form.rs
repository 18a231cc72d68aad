//! Scorecard forms as text (TOML, documented in docs/formats.md): parsed
//! into a checked [`Form`], with errors that name the line and the field.

use merit_domain::quality::{Form, FormError};
use serde::Deserialize;
use toml::Spanned;

/// Why a form's text was refused: the line (1-based) when known, the field
/// and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{}{field}: {reason}", line.map(|l| format!("line {l}, ")).unwrap_or_default())]
pub struct FormTextError {
    pub line: Option<usize>,
    pub field: String,
    pub reason: String,
}

/// Where each section and question starts in the text.
#[derive(Deserialize)]
struct Layout {
    #[serde(default)]
    sections: Vec<Spanned<SectionLayout>>,
}

#[derive(Deserialize)]
struct SectionLayout {
    #[serde(default)]
    questions: Vec<Spanned<toml::Table>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Whether a line (without its indent) is `field = ...`.
fn sets_field(line: &str, field: &str) -> bool {
    line.strip_prefix(field)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// The line of `field = ...` in the table that starts at `start` (up to
/// the next table header), else the table's first line.
fn field_line(text: &str, start: usize, field: &str) -> usize {
    let start = start.min(text.len());
    let mut offset = start;
    for (n, line) in text[start..].split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if n > 0 && trimmed.starts_with('[') {
            break;
        }
        if sets_field(trimmed, field) {
            return line_of(text, offset);
        }
        offset += line.len();
    }
    line_of(text, start)
}

/// The first line anywhere that sets `field`, else line 1.
fn first_field_line(text: &str, field: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if sets_field(line.trim_start(), field) {
            return line_of(text, offset);
        }
        offset += line.len();
    }
    1
}

/// Parses and checks a form written in TOML.
pub fn parse_form(text: &str) -> Result<Form, FormTextError> {
    let form: Form = toml::from_str(text).map_err(|e| FormTextError {
        line: e.span().map(|s| line_of(text, s.start)),
        field: String::new(),
        reason: e.message().trim().to_owned(),
    })?;
    form.check().map_err(|e| locate(text, &form, e))?;
    Ok(form)
}

/// Points a form's broken rule at its line in the text.
fn locate(text: &str, form: &Form, error: FormError) -> FormTextError {
    let place = error.place;
    let layout: Option<Layout> = toml::from_str(text).ok();
    let section = place
        .section
        .and_then(|s| layout.as_ref()?.sections.get(s).map(|l| (s, l)));
    let span = match (section, place.question) {
        (Some((_, s)), Some(q)) => s.get_ref().questions.get(q).map(|q| q.span().start),
        (Some((_, s)), None) => Some(s.span().start),
        _ => None,
    };
    let line = match span {
        Some(start) => field_line(text, start, place.field),
        None => first_field_line(text, place.field),
    };
    let mut field = String::new();
    if let Some(s) = place.section.and_then(|s| form.sections.get(s)) {
        field.push_str(&format!("section {:?}", s.key));
        if let Some(q) = place.question.and_then(|q| s.questions.get(q)) {
            field.push_str(&format!(", question {:?}", q.key));
        }
        field.push_str(", ");
    }
    field.push_str(place.field);
    FormTextError {
        line: Some(line),
        field,
        reason: error.reason,
    }
}

/// A form as TOML text, in the layout [`parse_form`] reads.
pub fn form_text(form: &Form) -> String {
    toml::to_string(form).unwrap_or_default()
}
