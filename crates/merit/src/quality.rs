//! `merit quality`: publish scorecard forms from their text, list them,
//! read a calibration session's statistics; and `merit import evaluations`.

use crate::{SystemClock, open_store};
use anyhow::{Result, bail};
use merit_domain::DEFAULT_TENANT;
use merit_service::access::Caller;
use merit_service::quality;
use merit_store::Store;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum QualityCommand {
    /// Publish a form written in TOML (docs/formats.md): a new form, or
    /// with --form the next version of one.
    Publish {
        #[arg(long)]
        db: String,
        /// The form this is a new version of.
        #[arg(long)]
        form: Option<i64>,
        file: PathBuf,
    },
    /// Every form with its latest version.
    Forms {
        #[arg(long)]
        db: String,
    },
    /// A calibration session's agreement per question and each evaluator's bias, as JSON.
    Calibration {
        #[arg(long)]
        db: String,
        session: i64,
    },
}

pub async fn run(command: QualityCommand) -> Result<()> {
    let cli = Caller::command_line(DEFAULT_TENANT);
    match command {
        QualityCommand::Publish { db, form, file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let store = open_store(&db).await?;
            let published = quality::publish_form(&store, &SystemClock, &cli, form, &text).await;
            match published {
                Ok((id, version)) => println!("form {id} version {version}"),
                Err(e) => bail!("{}: {e}", file.display()),
            }
        }
        QualityCommand::Forms { db } => {
            let store = open_store(&db).await?;
            for f in quality::forms(&store, &cli).await? {
                let state = if f.retired_ms.is_some() {
                    "retired"
                } else {
                    "in use"
                };
                println!(
                    "{:>4}  v{:<3} {:<8} {}",
                    f.id, f.latest_version, state, f.name
                );
            }
        }
        QualityCommand::Calibration { db, session } => {
            let store = open_store(&db).await?;
            let report = quality::calibration_report(&store, &cli, session).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}

/// Imports evaluations files; a bad row is printed by file, line and field.
pub async fn import_evaluations(store: &Store, files: &[PathBuf]) -> Result<()> {
    let cli = Caller::command_line(DEFAULT_TENANT);
    let mut rejected = 0;
    for path in files {
        let report = quality::import_evaluations(store, &SystemClock, &cli, path, None).await?;
        for problem in &report.problems {
            eprintln!("{problem}");
        }
        rejected += report.problems.len();
        println!(
            "{}: {} evaluations inserted, {} unchanged, {} rejected",
            report.file,
            report.inserted,
            report.unchanged,
            report.problems.len()
        );
    }
    if rejected > 0 {
        bail!("{rejected} rows were rejected; the others were imported");
    }
    Ok(())
}
