//! Incentive plans as text (TOML, docs/formats.md "Incentive plans"):
//! parsed and checked into a [`Plan`], with errors naming the line and field.

use crate::toml_lines::{field_line, first_field_line, syntax_error};
use merit_domain::pay::plan::Plan;
use serde::Deserialize;
use toml::Spanned;

/// Why a plan's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{}{field}: {reason}", line.map(|l| format!("line {l}, ")).unwrap_or_default())]
pub struct PlanTextError {
    pub line: Option<usize>,
    pub field: String,
    pub reason: String,
}

/// Where each KPI and gate table starts in the text.
#[derive(Deserialize)]
struct Layout {
    #[serde(default)]
    kpis: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    gates: Vec<Spanned<toml::Table>>,
}

/// Parses and checks a plan written in TOML.
pub fn parse_plan(text: &str) -> Result<Plan, PlanTextError> {
    let plan: Plan = toml::from_str(text).map_err(|e| {
        let (line, reason) = syntax_error(text, &e);
        PlanTextError {
            line,
            field: String::new(),
            reason,
        }
    })?;
    plan.check().map_err(|e| {
        // `kpis[2].weight` → the third [[kpis]] table's weight line.
        let layout: Option<Layout> = toml::from_str(text).ok();
        let located = e.field.split_once('[').and_then(|(list, rest)| {
            let (index, field) = rest.split_once(']')?;
            let index: usize = index.parse().ok()?;
            let tables = match list {
                "kpis" => &layout.as_ref()?.kpis,
                "gates" => &layout.as_ref()?.gates,
                _ => return None,
            };
            let start = tables.get(index)?.span().start;
            Some(field_line(text, start, field.trim_start_matches('.')))
        });
        // `kpis` (their weights) → the first [[kpis]] table.
        let list = (e.field == "kpis")
            .then(|| {
                layout
                    .as_ref()?
                    .kpis
                    .first()
                    .map(|t| crate::toml_lines::line_of(text, t.span().start))
            })
            .flatten();
        let line = located
            .or(list)
            .unwrap_or_else(|| first_field_line(text, &e.field));
        PlanTextError {
            line: Some(line),
            field: e.field,
            reason: e.reason,
        }
    })?;
    Ok(plan)
}
