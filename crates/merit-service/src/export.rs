//! Tables for CSV export, shared by the command line and the API: a
//! report's figures and the rows behind a figure, header first. Cells that
//! a spreadsheet would run as a formula are neutralised.

use crate::metrics::DrillRow;
use merit_domain::metrics::{Figure, Report, Zone};

pub fn zone_name(zone: Zone) -> &'static str {
    match zone {
        Zone::Green => "green",
        Zone::Amber => "amber",
        Zone::Red => "red",
    }
}

/// `v1+v2`: the versions behind a figure.
pub fn versions(f: &Figure) -> String {
    let v: Vec<String> = f.versions.iter().map(|v| format!("v{v}")).collect();
    v.join("+")
}

/// A cell a spreadsheet would take for a formula (`=`, `+`, `-`, `@` first,
/// and not a plain number) gets a leading apostrophe.
pub fn spreadsheet_safe(cell: String) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

/// A report as rows: its groups (or only the total when it has no
/// dimensions), then the total; per figure its value, numerator,
/// denominator, unit, versions, target and zone.
pub fn report_table(report: &Report) -> Vec<Vec<String>> {
    let groups = if report.dimensions.is_empty() {
        &report.rows[..0]
    } else {
        &report.rows[..]
    };
    let mut header: Vec<String> = report.dimensions.clone();
    for f in &report.total.figures {
        for suffix in [
            "",
            "_numerator",
            "_denominator",
            "_unit",
            "_versions",
            "_target",
            "_zone",
        ] {
            header.push(format!("{}{suffix}", f.definition));
        }
    }
    let mut table = vec![header];
    for row in groups.iter().chain(std::iter::once(&report.total)) {
        let mut record = row.group.clone();
        record.resize(report.dimensions.len(), String::new());
        for f in &row.figures {
            record.push(f.value.map_or("n/a".into(), |v| v.to_string()));
            record.push(f.numerator.to_string());
            record.push(f.denominator.map(|d| d.to_string()).unwrap_or_default());
            record.push(f.unit.as_str().into());
            record.push(versions(f));
            record.push(
                f.target
                    .as_ref()
                    .map(|t| t.target.to_string())
                    .unwrap_or_default(),
            );
            record.push(
                f.target
                    .as_ref()
                    .map(|t| zone_name(t.zone).to_owned())
                    .unwrap_or_default(),
            );
        }
        table.push(record.into_iter().map(spreadsheet_safe).collect());
    }
    table
}

/// The rows behind a figure, one line each.
pub fn drill_table(rows: &[DrillRow]) -> Vec<Vec<String>> {
    let header = [
        "source_system",
        "source_id",
        "survey_response",
        "question",
        "arrival",
        "agent_id",
        "queue_id",
        "outcome",
        "wait_s",
        "numerator",
        "denominator",
        "version",
    ];
    let mut table = vec![header.map(String::from).to_vec()];
    for r in rows {
        let (response, question) = r.survey.clone().unwrap_or_default();
        let record = vec![
            r.source_system.clone(),
            r.contact_source_id.clone(),
            response,
            question,
            jiff::Timestamp::from_millisecond(r.arrival_ms)
                .map(|t| t.to_string())
                .unwrap_or_default(),
            r.agent_id.clone().unwrap_or_default(),
            r.queue_id.clone().unwrap_or_default(),
            r.outcome.clone().unwrap_or_default(),
            r.wait_ms
                .map(|w| format!("{:.3}", w as f64 / 1000.0))
                .unwrap_or_default(),
            r.numerator.to_string(),
            r.denominator.to_string(),
            r.version.to_string(),
        ];
        table.push(record.into_iter().map(spreadsheet_safe).collect());
    }
    table
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        for (cell, expected) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+2", "'+1+2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-20", "-20"),
            ("-0.5", "-0.5"),
            ("agent-7", "agent-7"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell.to_owned()), expected, "{cell}");
        }
    }
}
