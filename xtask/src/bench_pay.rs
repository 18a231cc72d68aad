//! `cargo xtask bench pay`: a pay run for 5,000 agents over a month holding
//! about 2,000,000 contacts, with the three example plans (docs/examples),
//! from a SQLite store; against the target of 5 s. The simulator's 5,000
//! agents make about 2 million contacts in 8 days, so the month (August
//! 2026) holds 8 days of data. The share spent in metrics is measured by a
//! second method: the same figures asked of `merit report kpi` from a cold
//! cache, in the same run; plan evaluation and storing is the rest. Each
//! plan is also run on its own (a fresh process, cold), then all three in
//! one `merit pay run --period` (every plan in force, the rows read once),
//! which is the figure against the target.

use crate::bench::timed;
use anyhow::Result;
use std::path::Path;
use std::process::Command;

const AGENTS: &str = "5000";
const DAYS: &str = "8";
const DAY: &str = "2026-08-03";
const MONTH: (&str, &str) = ("2026-08-01", "2026-08-31");

/// (plan file, the definitions it reads by agent, its team KPI).
const PLANS: [(&str, &str, Option<&str>); 3] = [
    (
        "balanced-inbound.toml",
        "csat,fcr_repeat,qa_score,adherence,qa_auto_fail_rate,handled,system_drops",
        Some("service_level"),
    ),
    (
        "sales-retention.toml",
        "retained_value,qa_compliance_auto_fail,handled,system_drops",
        None,
    ),
    ("speed-sprint.toml", "aht,handled,system_drops", None),
];

fn merit(merit: &Path, db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(merit);
    command
        .args(&args[..2])
        .arg("--db")
        .arg(db)
        .args(&args[2..]);
    command
}

fn clear_cache(db: &Path) -> Result<()> {
    timed(
        "clear the report cache",
        Command::new("sqlite3").arg(db).arg("DELETE FROM kpi_cache"),
    )?;
    Ok(())
}

pub fn run(_args: &[String]) -> Result<()> {
    let root = super::workspace_root()?;
    let mut build = super::cargo();
    build.args(["build", "--release", "-p", "merit"]);
    super::run_stage("build", build)?;
    let bin = root.join("target/release/merit");
    let data = root.join("bench-data/pay");
    let _ = std::fs::remove_dir_all(&data);
    let (simulate_s, summary, _) = timed(
        "simulate",
        Command::new(&bin)
            .args(["simulate", "--days", DAYS, "--agents", AGENTS, "--out"])
            .arg(&data),
    )?;
    println!("{} ({simulate_s:.1} s)", summary.trim());
    let db = data.join("pay.db");
    for kind in [
        "org",
        "contacts",
        "states",
        "schedules",
        "absences",
        "surveys",
    ] {
        let (seconds, _, _) = timed(
            &format!("import {kind}"),
            merit(&bin, &db, &["import", kind]).arg(data.join(format!("{kind}.csv"))),
        )?;
        println!("import {kind}: {seconds:.1} s");
    }
    timed(
        "the compliance gate's definition",
        &mut merit(
            &bin,
            &db,
            &[
                "definitions",
                "new-version",
                "qa_compliance_auto_fail",
                "--kpi",
                "qa_auto_fail_rate",
                "--from",
                MONTH.0,
                "--set",
                r#"{"qa_section": "compliance"}"#,
                "--reason",
                "benchmark",
            ],
        ),
    )?;
    let examples = root.join("docs/examples");
    let (mut pay_s, mut metrics_s) = (0.0, 0.0);
    for (i, (file, by_agent, team)) in PLANS.iter().enumerate() {
        timed(
            "publish",
            merit(
                &bin,
                &db,
                &[
                    "pay",
                    "plan",
                    "--effective-from",
                    MONTH.0,
                    "--reason",
                    "benchmark",
                ],
            )
            .arg(examples.join(file)),
        )?;
        let plan = (i + 1).to_string();
        clear_cache(&db)?;
        let (seconds, out, _) = timed(
            "merit pay run",
            &mut merit(&bin, &db, &["pay", "run", "--plan", &plan, "--period", DAY]),
        )?;
        println!("{} ({seconds:.2} s, cold)", out.trim());
        pay_s += seconds;
        // The same figures as reports, from a cold cache again.
        clear_cache(&db)?;
        let report = |by: &str, kpi: &str| {
            merit(
                &bin,
                &db,
                &[
                    "report", "kpi", "--from", MONTH.0, "--to", MONTH.1, "--by", by, "--kpi", kpi,
                    "--format", "csv",
                ],
            )
        };
        let (agent_s, _, _) = timed("merit report kpi", &mut report("agent", by_agent))?;
        let team_s = match team {
            Some(kpi) => timed("merit report kpi", &mut report("team", kpi))?.0,
            None => 0.0,
        };
        metrics_s += agent_s + team_s;
    }
    // The period's run of every plan in force, as payroll runs it: the
    // rows read once for the three plans.
    clear_cache(&db)?;
    let (together_s, out, _) = timed(
        "merit pay run",
        &mut merit(&bin, &db, &["pay", "run", "--period", DAY]),
    )?;
    println!("{}", out.trim());
    let contacts = std::fs::read_to_string(data.join("contacts.csv"))?
        .lines()
        .count()
        .saturating_sub(1);
    println!(
        "pay run, {AGENTS} agents, {contacts} contacts, 3 plans in one run: {together_s:.2} s, cold (target: under 5 s; {:.2}× the target)",
        together_s / 5.0
    );
    println!("the 3 plans each in a run of its own, cold: {pay_s:.2} s in all");
    println!(
        "of which metrics (the same figures as cold reports): {metrics_s:.2} s ({:.0} %); plan evaluation, statements and store: {:.2} s ({:.0} %)",
        100.0 * metrics_s / pay_s,
        (pay_s - metrics_s).max(0.0),
        100.0 * (pay_s - metrics_s).max(0.0) / pay_s
    );
    Ok(())
}
