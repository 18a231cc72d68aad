//! `merit pay`: publish incentive plans, run a period, review, approve,
//! export payroll, read a statement, run a proposed plan in shadow. The
//! command line acts as the compensation admin of the whole centre.

use crate::{SystemClock, open_store};
use anyhow::{Context, Result, bail};
use jiff::civil::Date;
use merit_domain::DEFAULT_TENANT;
use merit_domain::access::{Role, Scope};
use merit_service::access::Caller;
use merit_service::pay;
use merit_service::pay_what_if;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum PayCommand {
    /// Publish a plan written in TOML (docs/formats.md, "Incentive plans"):
    /// a new plan, or with --plan the next version of one.
    Plan {
        #[arg(long)]
        db: String,
        /// The plan this is a new version of.
        #[arg(long)]
        plan: Option<i64>,
        /// The first day it applies (YYYY-MM-DD).
        #[arg(long)]
        effective_from: Date,
        /// Why, when effective before today.
        #[arg(long)]
        reason: Option<String>,
        file: PathBuf,
    },
    /// Every plan with its latest version.
    Plans {
        #[arg(long)]
        db: String,
    },
    /// Run the period of a plan holding --period (a draft; again while not
    /// approved); without --plan, of every plan in force on that day, from
    /// one read of the period's data.
    Run {
        #[arg(long)]
        db: String,
        #[arg(long)]
        plan: Option<i64>,
        /// Any day of the period (YYYY-MM-DD).
        #[arg(long)]
        period: Date,
    },
    /// Mark every statement of a run reviewed.
    Review {
        #[arg(long)]
        db: String,
        run: i64,
    },
    /// Approve a reviewed run: its statements never change again.
    Approve {
        #[arg(long)]
        db: String,
        run: i64,
    },
    /// Write an approved run's payroll CSV (stdout, or --out), or with
    /// --summary the period's cost for finance as JSON.
    Export {
        #[arg(long)]
        db: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        summary: bool,
        run: i64,
    },
    /// One agent's statement of a run, as JSON.
    Statement {
        #[arg(long)]
        db: String,
        run: i64,
        agent: String,
    },
    /// Run a proposed plan beside a live one over its periods from --from
    /// to --to: who gains, who loses, and the cost, as JSON. Nothing is paid.
    Shadow {
        #[arg(long)]
        db: String,
        /// The live plan.
        #[arg(long)]
        plan: i64,
        #[arg(long)]
        from: Date,
        #[arg(long)]
        to: Date,
        file: PathBuf,
    },
}

fn compensation_admin() -> Caller {
    Caller {
        tenant: DEFAULT_TENANT,
        name: "cli".into(),
        role: Role::CompensationAdmin,
        scope: Scope::Centre,
        agent_id: None,
    }
}

fn read(file: &PathBuf) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| file.display().to_string())
}

pub async fn run(command: PayCommand) -> Result<()> {
    let cli = compensation_admin();
    let clock = SystemClock;
    match command {
        PayCommand::Plan {
            db,
            plan,
            effective_from,
            reason,
            file,
        } => {
            let text = read(&file)?;
            let store = open_store(&db).await?;
            let published = pay::publish_plan(
                &store,
                &clock,
                &cli,
                plan,
                &text,
                effective_from,
                reason.as_deref(),
            )
            .await;
            match published {
                Ok(p) => {
                    println!("plan {} version {}", p.plan_id, p.version);
                    for warning in p.warnings {
                        eprintln!("warning: {warning}");
                    }
                }
                Err(e) => bail!("{}: {e}", file.display()),
            }
        }
        PayCommand::Plans { db } => {
            let store = open_store(&db).await?;
            for p in pay::plans(&store, &cli).await? {
                println!("{:>4}  v{:<3} {}", p.id, p.latest_version, p.name);
            }
        }
        PayCommand::Run { db, plan, period } => {
            let store = open_store(&db).await?;
            let ids = match plan {
                Some(plan) => vec![pay::run_period(&store, &clock, &cli, plan, period).await?],
                None => pay::run_all_periods(&store, &clock, &cli, period).await?,
            };
            for id in ids {
                let view = pay::run(&store, &cli, id).await?;
                println!(
                    "run {id}: {} {} to {}, {} statements, total {} {} ({})",
                    view.summary.plan_name,
                    view.summary.run.period_from,
                    view.summary.run.period_to,
                    view.statements.len(),
                    view.summary.total,
                    view.summary.run.currency,
                    view.summary.run.state
                );
            }
        }
        PayCommand::Review { db, run } => {
            let store = open_store(&db).await?;
            let n = pay::review(&store, &clock, &cli, run).await?;
            println!("run {run}: {n} statements reviewed");
        }
        PayCommand::Approve { db, run } => {
            let store = open_store(&db).await?;
            pay::approve(&store, &clock, &cli, run).await?;
            println!("run {run} approved");
        }
        PayCommand::Export {
            db,
            out,
            summary,
            run,
        } => {
            let store = open_store(&db).await?;
            let text = if summary {
                serde_json::to_string_pretty(&pay::finance_summary(&store, &cli, run).await?)?
                    + "\n"
            } else {
                pay::payroll_csv(&store, &clock, &cli, run).await?
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text).with_context(|| path.display().to_string())?
                }
                None => print!("{text}"),
            }
        }
        PayCommand::Statement { db, run, agent } => {
            let store = open_store(&db).await?;
            let statement = pay::statement_of(&store, &cli, run, &agent).await?;
            println!("{}", serde_json::to_string_pretty(&statement)?);
        }
        PayCommand::Shadow {
            db,
            plan,
            from,
            to,
            file,
        } => {
            let text = read(&file)?;
            let store = open_store(&db).await?;
            let report = pay_what_if::shadow(&store, &clock, &cli, plan, &text, (from, to)).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}

/// The demo centre's pay (SCENARIOS.md): "Balanced inbound" and "Sales
/// retention" from the first day, "Speed sprint" for team C from day 31;
/// August and September of the first two run,
/// reviewed by each team's lead, approved and exported, one agent's dispute
/// decided; October left a draft for the compensation admin to take on.
/// Each step happens at its simulated time. Returns a line for the console.
pub async fn load_demo(store: &merit_store::Store, start: Date, end: Date) -> Result<String> {
    use merit_service::FixedClock;
    let zone = jiff::tz::TimeZone::get(&store.centre(DEFAULT_TENANT).await?.1)?;
    let at = |day: Date| -> Result<FixedClock> {
        Ok(FixedClock(
            day.to_datetime(jiff::civil::time(8, 0, 0, 0))
                .to_zoned(zone.clone())?
                .timestamp()
                .as_millisecond(),
        ))
    };
    let admin = compensation_admin();
    let operations = Caller {
        name: "operations".into(),
        role: Role::OperationsManager,
        ..admin.clone()
    };
    let balanced = pay::publish_plan(
        store,
        &at(start)?,
        &operations,
        None,
        include_str!("../../../docs/examples/balanced-inbound.toml"),
        start,
        None,
    )
    .await?;
    // Sales retention's gate: the compliance section never auto-failed.
    merit_service::metrics::new_version(
        store,
        &at(start)?,
        DEFAULT_TENANT,
        "operations",
        merit_service::metrics::NewVersion {
            name: "qa_compliance_auto_fail",
            kpi: Some(merit_domain::metrics::Kpi::QaAutoFailRate),
            effective_from: start,
            options_json: r#"{"qa_section": "compliance"}"#,
            reason: None,
        },
    )
    .await?;
    let sales = pay::publish_plan(
        store,
        &at(start)?,
        &operations,
        None,
        include_str!("../../../docs/examples/sales-retention.toml"),
        start,
        None,
    )
    .await?;
    let sprint_day = start.checked_add(jiff::Span::new().days(30))?;
    pay::publish_plan(
        store,
        &at(sprint_day)?,
        &operations,
        None,
        include_str!("../../../docs/examples/speed-sprint.toml"),
        sprint_day,
        None,
    )
    .await?;
    let admin = Caller {
        name: "payroll".into(),
        ..admin
    };
    let organisation = store.load_organisation(DEFAULT_TENANT).await?;
    let demo_lead_team =
        merit_service::access::list_users(store, &Caller::command_line(DEFAULT_TENANT))
            .await?
            .into_iter()
            .find(|u| u.username == "lead")
            .map(|u| u.scope.to_string());
    let mut approved = 0;
    let mut month = start.first_of_month();
    while month <= end {
        let last = month.last_of_month();
        // Pay runs two weeks after the month, when its FCR windows (7 days
        // after each contact's end; emails end days after they arrive) have closed.
        let run_day = last.checked_add(jiff::Span::new().days(14))?;
        let clock = at(run_day)?;
        for plan in [balanced.plan_id, sales.plan_id] {
            let run = pay::run_period(store, &clock, &admin, plan, month.max(start)).await?;
            if run_day > end {
                continue;
            }
            for team in &organisation.teams {
                let scope = Scope::Team(team.id.clone());
                let lead = Caller {
                    name: if demo_lead_team.as_deref() == Some(&scope.to_string()) {
                        "lead".into()
                    } else {
                        format!("lead-{}", team.id)
                    },
                    role: Role::TeamLead,
                    scope,
                    ..admin.clone()
                };
                match pay::review(store, &clock, &lead, run).await {
                    Ok(_) | Err(merit_service::ServiceError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            pay::approve(store, &clock, &admin, run).await?;
            pay::payroll_csv(store, &clock, &admin, run).await?;
            approved += 1;
            if approved == 1 {
                demo_dispute(store, &clock, &admin, run).await?;
            }
        }
        month = last.tomorrow()?;
    }
    Ok(format!(
        "Pay: Balanced inbound, Sales retention and Speed sprint published; {approved} runs approved and exported, the last month's left drafts"
    ))
}

/// One agent disputes their first approved statement; the compensation
/// admin accepts it in part.
async fn demo_dispute(
    store: &merit_store::Store,
    clock: &merit_service::FixedClock,
    admin: &Caller,
    run: i64,
) -> Result<()> {
    let view = pay::run(store, admin, run).await?;
    let Some(first) = view.statements.first() else {
        return Ok(());
    };
    let agent = Caller {
        name: first.agent_id.clone(),
        role: Role::Agent,
        scope: Scope::OwnRecords,
        agent_id: Some(first.agent_id.clone()),
        tenant: DEFAULT_TENANT,
    };
    let later = merit_service::FixedClock(clock.0 + 2 * 86_400_000);
    let id = pay::raise_dispute(
        store,
        &later,
        &agent,
        run,
        "Three of my calls on the storm day were cut off by the phone system, not by me",
    )
    .await?;
    pay::decide_dispute(
        store,
        &merit_service::FixedClock(later.0 + 86_400_000),
        admin,
        id,
        Some(merit_domain::pay::Decimal::new(1500, 2)),
        "the telephony log confirms two dropped calls; paid as an adjustment next month",
    )
    .await?;
    Ok(())
}
