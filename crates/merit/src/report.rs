//! `merit report` and `merit definitions`: KPI figures with their
//! numerators, denominators and definition versions, the rows behind them,
//! and the versioned definitions themselves.

use crate::{SystemClock, open_store};
use anyhow::{Result, bail};
use jiff::Timestamp;
use jiff::civil::Date;
use merit_domain::DEFAULT_TENANT;
use merit_domain::metrics::{Direction, Figure, Kpi, Report, TargetScope};
use merit_service::export::{drill_table, report_table, versions, zone_name};
use merit_service::metrics::{
    DEFAULT_KPIS, FigurePart, NewVersion, ReportNames, ReportRequest, SetTarget, definitions,
    drill, kpi_report, new_version, set_target, targets,
};

#[derive(clap::Args)]
pub struct Filters {
    #[arg(long)]
    db: String,
    /// First local day (YYYY-MM-DD).
    #[arg(long)]
    from: Date,
    /// Last local day, included.
    #[arg(long)]
    to: Date,
    /// Group by: agent, team, queue, channel, contact-type, site, interval, day, week, month (repeatable, or comma-separated).
    #[arg(long = "by", value_delimiter = ',')]
    by: Vec<String>,
    /// Interval width for --by interval: 15m, 30m or 60m.
    #[arg(long, default_value = "30m", value_parser = ["15m", "30m", "60m"])]
    interval: String,
    /// Definitions by name (repeatable, or comma-separated).
    #[arg(long = "kpi", value_delimiter = ',')]
    kpis: Vec<String>,
    /// A definition pinned to one version for every day: NAME@VERSION (repeatable).
    #[arg(long = "definition")]
    definitions: Vec<String>,
    /// Use only the definition versions recorded by this instant (RFC 3339),
    /// to see figures as they were before a restatement.
    #[arg(long)]
    as_of: Option<Timestamp>,
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "json"])]
    format: String,
}

impl Filters {
    fn request(&self, default_kpis: &[&str]) -> Result<ReportRequest> {
        let definitions: Vec<String> = self.kpis.iter().chain(&self.definitions).cloned().collect();
        let names = ReportNames {
            from: self.from,
            to: self.to,
            by: &self.by,
            interval_minutes: self.interval.trim_end_matches('m').parse()?,
            definitions: &definitions,
            as_of_ms: self.as_of.map(|t| t.as_millisecond()),
        };
        Ok(ReportRequest::from_names(names, default_kpis)?)
    }
}

#[derive(clap::Subcommand)]
pub enum ReportCommand {
    /// KPI figures, grouped, each with numerator, denominator and definition version.
    Kpi {
        #[command(flatten)]
        filters: Filters,
    },
    /// The contacts (or survey answers) behind one figure.
    Contacts {
        #[command(flatten)]
        filters: Filters,
        /// numerator, denominator or all.
        #[arg(long, default_value = "denominator", value_parser = ["numerator", "denominator", "all"])]
        part: String,
        /// The group to drill into: one value per --by, in order (repeatable).
        #[arg(long = "group")]
        group: Vec<String>,
    },
}

#[derive(clap::Subcommand)]
pub enum DefinitionsCommand {
    /// Every definition with its latest version.
    List {
        #[arg(long)]
        db: String,
    },
    /// A definition's formula, options and every version.
    Show {
        #[arg(long)]
        db: String,
        name: String,
    },
    /// Record a new version from a date; earlier versions stay as they were.
    NewVersion {
        #[arg(long)]
        db: String,
        name: String,
        /// First local day it applies to (YYYY-MM-DD).
        #[arg(long)]
        from: Date,
        /// Options to change, as a JSON object, e.g. '{"threshold_s": 30}'.
        #[arg(long, default_value = "{}")]
        set: String,
        /// The KPI it measures, to create a new named definition.
        #[arg(long, value_parser = parse_kpi)]
        kpi: Option<Kpi>,
        /// Why: required when the version starts before today (a restatement).
        #[arg(long)]
        reason: Option<String>,
    },
}

fn parse_kpi(text: &str) -> Result<Kpi, String> {
    Kpi::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Kpi::ALL.iter().map(|k| k.as_str()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

fn cell(f: &Figure) -> String {
    let mut text = match f.denominator {
        Some(d) => format!("{} ({}/{})", f.display(), f.numerator, d),
        None => f.display(),
    };
    if let Some(t) = &f.target {
        text.push_str(&format!(" [{} vs {}]", zone_name(t.zone), t.target));
    }
    text
}

fn print_report(report: &Report, format: &str) -> Result<()> {
    // Without groups the only row is the total.
    let groups = if report.dimensions.is_empty() {
        &report.rows[..0]
    } else {
        &report.rows[..]
    };
    let rows = groups.iter().chain(std::iter::once(&report.total));
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(report)?),
        "csv" => {
            let mut out = csv::Writer::from_writer(std::io::stdout());
            for record in report_table(report) {
                out.write_record(&record)?;
            }
            out.flush()?;
        }
        _ => {
            let mut header: Vec<String> = report.dimensions.clone();
            if header.is_empty() {
                header.push(String::new());
            }
            header.extend(
                report
                    .total
                    .figures
                    .iter()
                    .map(|f| format!("{} {}", f.definition, versions(f))),
            );
            let body: Vec<Vec<String>> = rows
                .map(|row| {
                    let mut line = row.group.clone();
                    line.resize(header.len() - row.figures.len(), String::new());
                    line.extend(row.figures.iter().map(|f| {
                        let marks = [(f.provisional, "*"), (f.restated, "†")];
                        let marks: String = marks.iter().filter(|m| m.0).map(|m| m.1).collect();
                        format!("{}{marks}", cell(f))
                    }));
                    line
                })
                .collect();
            let widths: Vec<usize> = (0..header.len())
                .map(|c| {
                    body.iter()
                        .chain(std::iter::once(&header))
                        .map(|l| l[c].chars().count())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            for line in std::iter::once(&header).chain(&body) {
                let padded: Vec<String> = line
                    .iter()
                    .zip(&widths)
                    .map(|(t, w)| format!("{t:<w$}"))
                    .collect();
                println!("{}", padded.join("  ").trim_end());
            }
        }
    }
    for flag in &report.flags {
        eprintln!("flag: {flag}");
    }
    Ok(())
}

pub async fn run_report(command: ReportCommand) -> Result<()> {
    match command {
        ReportCommand::Kpi { filters } => {
            let store = open_store(&filters.db).await?;
            let request = filters.request(&DEFAULT_KPIS)?;
            let report = kpi_report(&store, &SystemClock, DEFAULT_TENANT, &request).await?;
            print_report(&report, &filters.format)
        }
        ReportCommand::Contacts {
            filters,
            part,
            group,
        } => {
            let store = open_store(&filters.db).await?;
            let request = filters.request(&[])?;
            let part = FigurePart::parse(&part).unwrap_or(FigurePart::Denominator);
            let rows = drill(&store, &SystemClock, DEFAULT_TENANT, &request, &group, part).await?;
            if filters.format == "json" {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            let mut out = csv::Writer::from_writer(std::io::stdout());
            for record in drill_table(&rows) {
                out.write_record(&record)?;
            }
            out.flush()?;
            eprintln!("{} rows", rows.len());
            Ok(())
        }
    }
}

pub async fn run_definitions(command: DefinitionsCommand) -> Result<()> {
    match command {
        DefinitionsCommand::List { db } => {
            let store = open_store(&db).await?;
            let all = definitions(&store, &SystemClock, DEFAULT_TENANT).await?;
            println!(
                "{:<40} {:<22} {:<8} {:<12} unit",
                "name", "kpi", "version", "from"
            );
            for (name, history) in &all {
                if let Some(v) = history.versions.last() {
                    println!(
                        "{name:<40} {:<22} {:<8} {:<12} {}",
                        v.kpi.as_str(),
                        format!("v{}", v.version),
                        v.effective_from.to_string(),
                        v.kpi.unit().as_str()
                    );
                }
            }
            Ok(())
        }
        DefinitionsCommand::Show { db, name } => {
            let store = open_store(&db).await?;
            let all = definitions(&store, &SystemClock, DEFAULT_TENANT).await?;
            let Some(history) = all.get(&name) else {
                bail!("no definition {name:?} (see `merit definitions list`)");
            };
            let kpi = history.versions[0].kpi;
            println!("{name}: {}", kpi.as_str());
            println!("formula: {}", kpi.formula());
            println!("unit: {}; {:?}", kpi.unit().as_str(), kpi.direction());
            for v in &history.versions {
                println!(
                    "\nv{} effective from {} (recorded {} by {}){}",
                    v.version,
                    v.effective_from,
                    v.recorded_on,
                    v.recorded_by,
                    if v.is_back_dated() {
                        ", back-dated: restates history"
                    } else {
                        ""
                    }
                );
                if let Some(reason) = &v.reason {
                    println!("reason: {reason}");
                }
                println!("options: {}", serde_json::to_string(&v.options)?);
            }
            Ok(())
        }
        DefinitionsCommand::NewVersion {
            db,
            name,
            from,
            set,
            kpi,
            reason,
        } => {
            let store = open_store(&db).await?;
            let v = new_version(
                &store,
                &SystemClock,
                DEFAULT_TENANT,
                "cli",
                NewVersion {
                    name: &name,
                    kpi,
                    effective_from: from,
                    options_json: &set,
                    reason: reason.as_deref(),
                },
            )
            .await?;
            println!(
                "{} v{} effective from {}",
                v.name, v.version, v.effective_from
            );
            Ok(())
        }
    }
}

#[derive(clap::Subcommand)]
pub enum TargetsCommand {
    /// Every target ever set, oldest first.
    List {
        #[arg(long)]
        db: String,
    },
    /// Set a target from a day (earlier targets stay as they were).
    Set {
        #[arg(long)]
        db: String,
        /// The definition, e.g. service_level.
        #[arg(long = "kpi")]
        definition: String,
        /// centre, team:<id> or agent:<id>.
        #[arg(long, default_value = "centre", value_parser = parse_scope)]
        scope: TargetScope,
        /// First local day it applies to (YYYY-MM-DD).
        #[arg(long)]
        from: Date,
        /// The goal, in the definition's unit (80 for 80 %, 300 for 300 s).
        #[arg(long)]
        target: f64,
        /// The edge of amber on the worse side; beyond it is red.
        #[arg(long)]
        amber: f64,
        /// higher or lower is better (default: the KPI's own).
        #[arg(long, value_parser = ["higher", "lower"])]
        direction: Option<String>,
    },
}

fn parse_scope(text: &str) -> Result<TargetScope, String> {
    TargetScope::parse(text).ok_or_else(|| "expected centre, team:<id> or agent:<id>".into())
}

pub async fn run_targets(command: TargetsCommand) -> Result<()> {
    match command {
        TargetsCommand::List { db } => {
            let store = open_store(&db).await?;
            println!(
                "{:<32} {:<16} {:<12} {:>10} {:>10}  direction",
                "definition", "scope", "from", "target", "amber"
            );
            for t in targets(&store, DEFAULT_TENANT).await? {
                println!(
                    "{:<32} {:<16} {:<12} {:>10} {:>10}  {:?}",
                    t.definition,
                    t.scope.label(),
                    t.effective_from.to_string(),
                    t.target,
                    t.amber_limit,
                    t.direction
                );
            }
            Ok(())
        }
        TargetsCommand::Set {
            db,
            definition,
            scope,
            from,
            target,
            amber,
            direction,
        } => {
            let store = open_store(&db).await?;
            let direction = direction.map(|d| match d.as_str() {
                "lower" => Direction::LowerIsBetter,
                _ => Direction::HigherIsBetter,
            });
            let t = set_target(
                &store,
                &SystemClock,
                DEFAULT_TENANT,
                "cli",
                SetTarget {
                    definition: &definition,
                    scope,
                    effective_from: from,
                    target,
                    amber_limit: amber,
                    direction,
                },
            )
            .await?;
            println!(
                "{} for {} from {}: target {}, amber to {}",
                t.definition,
                t.scope.label(),
                t.effective_from,
                t.target,
                t.amber_limit
            );
            Ok(())
        }
    }
}
