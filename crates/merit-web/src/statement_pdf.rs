//! A pay statement as a PDF, typeset by Typst (the `pdf` feature, on by
//! default). The statement's figures go in as data (`sys.inputs`), never
//! spliced into markup, so nothing an agent's name or a note holds can
//! change the document; the layout is `templates/statement.typ`. Fonts are
//! Typst's own, compiled in: the output is the same on every machine.

use merit_service::pay::StatementView;
use serde_json::{Value, json};
use std::sync::OnceLock;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Dict, IntoValue};
use typst::layout::PagedDocument;
use typst::syntax::{FileId, Source, VirtualPath};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

const LAYOUT: &str = include_str!("../templates/statement.typ");

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

/// Typst's bundled fonts, read once.
fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

/// One document: the layout, with the statement as its input.
struct Document {
    library: LazyHash<Library>,
    source: Source,
}

impl World for Document {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }
    fn main(&self) -> FileId {
        self.source.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.source.id() {
            Ok(self.source.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn file(&self, _: FileId) -> FileResult<Bytes> {
        Err(FileError::AccessDenied)
    }
    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }
    fn today(&self, _: Option<i64>) -> Option<Datetime> {
        None
    }
}

/// A decimal written as text, rounded for reading.
fn shown(value: &Value, places: u32) -> String {
    value
        .as_str()
        .and_then(|t| t.parse::<merit_domain::pay::Decimal>().ok())
        .map_or_else(
            || "–".to_owned(),
            |d| d.round_dp(places).normalize().to_string(),
        )
}

/// What the layout reads: every figure already as the text it shows.
fn data(view: &StatementView) -> Value {
    let s = json!(view.statement);
    let components: Vec<Vec<String>> = s["components"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let m = &c["measure"];
            vec![
                c["definition"].as_str().unwrap_or_default().to_owned(),
                shown(&m["value"], 3),
                m["numerator"].to_string().replace("null", ""),
                m["denominator"].to_string().replace("null", ""),
                shown(&c["target"], 3),
                shown(&c["attainment"], 4),
                shown(&c["factor"], 4),
                shown(&c["weight"], 4),
                c["status"].as_str().unwrap_or_default().replace('_', " "),
            ]
        })
        .collect();
    let lines: Vec<Vec<String>> = view
        .statement
        .lines
        .iter()
        .map(|l| {
            vec![
                l.code.as_str().to_owned(),
                l.description.clone(),
                l.amount.to_string(),
            ]
        })
        .collect();
    let gates: Vec<String> = view
        .statement
        .gates
        .iter()
        .map(|g| {
            let value = g
                .measure
                .as_ref()
                .and_then(|m| m.value)
                .map_or("no data".to_owned(), |v| {
                    v.round_dp(3).normalize().to_string()
                });
            let verdict = if g.passed { "passed" } else { "failed" };
            format!("{}: {value}, {verdict}", g.definition)
        })
        .collect();
    json!({
        "title": format!("{}: {}", view.agent_name, view.plan_name),
        "subtitle": format!(
            "{} to {}, plan version {}, run {} ({}){}",
            view.period_from, view.period_to, view.plan_version, view.run_id, view.run_state,
            view.team_id.as_ref().map(|t| format!(", team {t}")).unwrap_or_default()
        ),
        "components": components,
        "gates": gates,
        "proration": format!(
            "{} of {} working days employed and not absent",
            view.statement.proration.eligible_days, view.statement.proration.working_days
        ),
        "lines": lines,
        "total": format!("{} {}", view.statement.total, view.statement.currency),
        "notes": view.statement.notes,
    })
}

/// The statement as a PDF, or why Typst could not make one.
pub fn render(view: &StatementView) -> Result<Vec<u8>, String> {
    let mut inputs = Dict::new();
    inputs.insert("data".into(), data(view).to_string().into_value());
    let document = Document {
        library: LazyHash::new(Library::builder().with_inputs(inputs).build()),
        source: Source::new(
            FileId::new(None, VirtualPath::new("statement.typ")),
            LAYOUT.into(),
        ),
    };
    let paged = typst::compile::<PagedDocument>(&document)
        .output
        .map_err(|errors| format!("{errors:?}"))?;
    typst_pdf::pdf(&paged, &typst_pdf::PdfOptions::default())
        .map_err(|errors| format!("{errors:?}"))
}
