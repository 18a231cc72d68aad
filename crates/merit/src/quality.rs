//! `merit quality`: publish scorecard forms from their text, list them,
//! read a calibration session's statistics; `merit import evaluations`;
//! and the demo centre's quality events.

use crate::{SystemClock, open_store};
use anyhow::{Result, bail};
use merit_domain::DEFAULT_TENANT;
use merit_domain::access::{Role, Scope};
use merit_service::FixedClock;
use merit_service::access::Caller;
use merit_service::quality::{self, Decision, NewEvaluation};
use merit_sim::quality::{Scorer, plan_quality};
use merit_store::Store;
use std::collections::BTreeMap;
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

/// The demo's scorecard form.
const DEMO_FORM: &str = include_str!("../../../docs/examples/inbound-call-quality.toml");

/// One step of the demo's quality plan, applied in time order.
enum Step {
    Evaluate(usize),
    Acknowledge(usize),
    Dispute(usize),
    Decide(usize),
    SelfAssess(usize),
    Calibrate(usize),
}

fn specialist(scorer: Scorer) -> &'static str {
    match scorer {
        Scorer::Strict => "qa2",
        _ => "qa",
    }
}

/// Publishes the demo form and applies the simulator's quality plan
/// through the service layer, each step at its simulated time: evaluations
/// by the lenient (`qa`) and strict (`qa2`) specialists, released and
/// acknowledged, self-assessments, disputes and their decisions (by the
/// other specialist), and fortnightly calibration sessions.
pub async fn load_demo(
    store: &Store,
    sampled: &[merit_domain::contact::Contact],
    seed: u64,
    end: jiff::civil::Date,
) -> Result<String> {
    let organisation = store.load_organisation(DEFAULT_TENANT).await?;
    let (_, zone) = store.centre(DEFAULT_TENANT).await?;
    let end_ms = end
        .to_zoned(jiff::tz::TimeZone::get(&zone)?)?
        .timestamp()
        .as_millisecond();
    let first_ms = sampled.iter().map(|c| c.arrival_ms).min().unwrap_or(end_ms);
    let user = |name: &str, role: Role| Caller {
        name: name.into(),
        role,
        ..Caller::command_line(DEFAULT_TENANT)
    };
    let demo_agent = organisation.agents.first().map(|a| a.id.clone());
    let agent = |id: &str| Caller {
        name: if demo_agent.as_deref() == Some(id) {
            "agent".into()
        } else {
            id.to_owned()
        },
        role: Role::Agent,
        scope: Scope::OwnRecords,
        agent_id: Some(id.to_owned()),
        tenant: DEFAULT_TENANT,
    };
    let form = merit_import::quality_form::parse_form(DEMO_FORM)?;
    let (form_id, _) = quality::publish_form(
        store,
        &FixedClock(first_ms),
        &user("qa", Role::QaSpecialist),
        None,
        DEMO_FORM,
    )
    .await?;
    let plan = plan_quality(&form, sampled, seed, end_ms);

    let mut steps: Vec<(i64, Step)> = Vec::new();
    for (i, e) in plan.evaluations.iter().enumerate() {
        steps.push((e.at_ms, Step::Evaluate(i)));
        if let Some(ms) = e.acknowledged_ms {
            steps.push((ms, Step::Acknowledge(i)));
        }
        if let Some(d) = &e.dispute {
            steps.push((d.at_ms, Step::Dispute(i)));
            steps.push((d.decided_ms, Step::Decide(i)));
        }
    }
    steps.extend(
        plan.self_assessments
            .iter()
            .enumerate()
            .map(|(i, e)| (e.at_ms, Step::SelfAssess(i))),
    );
    steps.extend(
        plan.calibrations
            .iter()
            .enumerate()
            .map(|(i, c)| (c.at_ms, Step::Calibrate(i))),
    );
    steps.sort_by_key(|(ms, _)| *ms);

    let new = |e: &merit_sim::quality::PlannedEvaluation, session: Option<i64>| NewEvaluation {
        source_system: e.source_system.clone(),
        contact_source_id: e.contact_source_id.clone(),
        form_id,
        method: "recording".into(),
        answers: quality::given(&e.answers),
        comment: None,
        release: session.is_none(),
        calibration_session: session,
    };
    let mut ids: BTreeMap<usize, i64> = BTreeMap::new();
    let mut disputes: BTreeMap<usize, i64> = BTreeMap::new();
    for (at_ms, step) in steps {
        let clock = FixedClock(at_ms);
        match step {
            Step::Evaluate(i) => {
                let e = &plan.evaluations[i];
                let caller = user(specialist(e.scorer), Role::QaSpecialist);
                ids.insert(
                    i,
                    quality::evaluate(store, &clock, &caller, new(e, None)).await?,
                );
            }
            Step::Acknowledge(i) => {
                let e = &plan.evaluations[i];
                quality::acknowledge(store, &clock, &agent(&e.agent_id), ids[&i]).await?;
            }
            Step::Dispute(i) => {
                let e = &plan.evaluations[i];
                let Some(d) = &e.dispute else { continue };
                let id = quality::dispute(
                    store,
                    &clock,
                    &agent(&e.agent_id),
                    ids[&i],
                    std::slice::from_ref(&d.question),
                    &d.comment,
                )
                .await?;
                disputes.insert(i, id);
            }
            Step::Decide(i) => {
                let e = &plan.evaluations[i];
                let (Some(d), Some(id)) = (&e.dispute, disputes.get(&i)) else {
                    continue;
                };
                let reviewer = user(
                    specialist(if e.scorer == Scorer::Strict {
                        Scorer::Lenient
                    } else {
                        Scorer::Strict
                    }),
                    Role::QaSpecialist,
                );
                let (decision, answers) = match &d.new_answer {
                    Some(answer) => (
                        Decision::Accepted,
                        BTreeMap::from([(d.question.clone(), answer.clone())]),
                    ),
                    None => (Decision::Rejected, BTreeMap::new()),
                };
                quality::decide(store, &clock, &reviewer, *id, decision, &d.reason, answers)
                    .await?;
            }
            Step::SelfAssess(i) => {
                let e = &plan.self_assessments[i];
                quality::evaluate(store, &clock, &agent(&e.agent_id), new(e, None)).await?;
            }
            Step::Calibrate(i) => {
                let c = &plan.calibrations[i];
                let evaluators = vec!["qa".to_owned(), "qa2".to_owned()];
                let session = quality::start_calibration(
                    store,
                    &clock,
                    &user("qa", Role::QaSpecialist),
                    &c.name,
                    form_id,
                    c.contacts.clone(),
                    evaluators,
                )
                .await?;
                for score in &c.scores {
                    let caller = user(specialist(score.scorer), Role::QaSpecialist);
                    quality::evaluate(
                        store,
                        &FixedClock(score.at_ms),
                        &caller,
                        new(score, Some(session)),
                    )
                    .await?;
                }
            }
        }
    }
    let n_disputes = disputes.len();
    Ok(format!(
        "Quality: {} evaluations, {} self-assessments, {n_disputes} disputes, {} calibration sessions",
        plan.evaluations.len(),
        plan.self_assessments.len(),
        plan.calibrations.len()
    ))
}
