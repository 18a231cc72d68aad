//! Scorecard forms as text (TOML, documented in docs/formats.md): parsed
//! into a checked [`Form`], with errors that name the line and the field.

use crate::toml_lines::{field_line, first_field_line, syntax_error};
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

/// Parses and checks a form written in TOML.
pub fn parse_form(text: &str) -> Result<Form, FormTextError> {
    let form: Form = toml::from_str(text).map_err(|e| {
        let (line, reason) = syntax_error(text, &e);
        FormTextError {
            line,
            field: String::new(),
            reason,
        }
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
