//! Pay for performance: incentive plans and their versions, pay runs that
//! produce one statement per agent, the workflow (draft → reviewed by the
//! team lead → approved by the compensation admin → exported),
//! adjustments, agents' pay disputes, payroll and finance exports. Each use
//! case checks the caller's role and scope and writes its audit entry; an
//! approved run is never changed (a correction is an adjustment, paid in
//! the plan's next run). Shadow runs and the agent's estimate are in
//! `pay_what_if`.

use crate::access::{Caller, READERS};
use crate::metrics::{ReportRequest, definitions, kpi_reports};
use crate::{Clock, ServiceError};
use crate::{audit_entry, invalid};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use merit_domain::access::{Role, Scope};
use merit_domain::metrics::{Dimension, Report};
use merit_domain::organisation::Organisation;
use merit_domain::pay::plan::{Plan, working_days};
use merit_domain::pay::statement::{
    Measure, PayCode, PayLine, Statement, StatementInputs, Status, statement,
};
use merit_domain::pay::{Decimal, MINOR_DIGITS, from_minor, to_minor};
use merit_store::{
    PayAdjustmentRecord, PayDisputeRecord, PayPlanRecord, PayRunRecord, PayStatementRecord,
    RunSaved, Store,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Who writes incentive plans.
pub const PLAN_WRITERS: &[Role] = &[Role::OperationsManager, Role::CompensationAdmin];
/// Who runs, approves and exports pay, adjusts it and decides disputes.
pub const PAY_ADMINS: &[Role] = &[Role::CompensationAdmin];
/// Who reviews a run's statements (a team lead: their team's).
pub const REVIEWERS: &[Role] = &[Role::TeamLead, Role::CompensationAdmin];
/// Why pay is adjusted by hand.
pub const REASON_CODES: [&str; 5] = [
    "data_correction",
    "missed_contacts",
    "system_fault",
    "dispute",
    "other",
];
/// Hours of absence on a day that make it a day not worked.
const ABSENT_DAY_MS: i64 = 4 * 3_600_000;

fn conflict(code: &'static str, reason: impl Into<String>) -> ServiceError {
    ServiceError::Conflict {
        code,
        reason: reason.into(),
    }
}

/// One published version of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanVersion {
    pub plan_id: i64,
    pub version: i64,
    pub effective_from: Date,
    pub plan: Plan,
    pub source_text: String,
    pub reason: Option<String>,
    pub published_ms: i64,
    pub published_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanHistory {
    pub id: i64,
    pub name: String,
    pub versions: Vec<PlanVersion>,
}

impl PlanHistory {
    /// The version in force on `day`: the latest published whose
    /// effective date is on or before it.
    pub fn in_force(&self, day: Date) -> Option<&PlanVersion> {
        self.versions
            .iter()
            .filter(|v| v.effective_from <= day)
            .max_by_key(|v| v.version)
    }

    pub fn version(&self, version: i64) -> Option<&PlanVersion> {
        self.versions.iter().find(|v| v.version == version)
    }
}

pub async fn plans(store: &Store, caller: &Caller) -> Result<Vec<PayPlanRecord>, ServiceError> {
    caller.may_read(READERS)?;
    Ok(store.pay_plans(caller.tenant).await?)
}

pub async fn plan(store: &Store, caller: &Caller, id: i64) -> Result<PlanHistory, ServiceError> {
    caller.may_read(READERS)?;
    plan_history(store, caller.tenant, id).await
}

pub(crate) async fn plan_history(
    store: &Store,
    tenant: merit_domain::TenantId,
    id: i64,
) -> Result<PlanHistory, ServiceError> {
    let records = store.pay_plan_versions(tenant, id).await?;
    let name = store
        .pay_plans(tenant)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(ServiceError::NotFound)?
        .name;
    let versions = records
        .into_iter()
        .map(|r| {
            Ok(PlanVersion {
                plan_id: r.plan_id,
                version: r.version,
                effective_from: r
                    .effective_from
                    .parse()
                    .map_err(|e| invalid("effective_from", format!("{e}")))?,
                plan: parse_plan_text(&r.source_text)?,
                source_text: r.source_text,
                reason: r.reason,
                published_ms: r.published_ms,
                published_by: r.published_by,
            })
        })
        .collect::<Result<_, ServiceError>>()?;
    Ok(PlanHistory { id, name, versions })
}

/// A plan's text parsed and checked; the error names the line and field.
pub fn parse_plan_text(text: &str) -> Result<Plan, ServiceError> {
    merit_import::pay_plan::parse_plan(text).map_err(|e| invalid("plan", e.to_string()))
}

/// A plan's text checked against the centre's definitions, with the
/// editor's warnings (speed rewarded without a quality guard).
pub async fn check_plan(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    text: &str,
) -> Result<(Plan, Vec<String>), ServiceError> {
    caller.require(PLAN_WRITERS, "write incentive plans")?;
    let plan = parse_plan_text(text)?;
    let all = definitions(store, clock, caller.tenant).await?;
    let named = plan
        .kpis
        .iter()
        .map(|k| &k.definition)
        .chain(plan.gates.iter().map(|g| &g.definition))
        .chain(plan.team.iter().map(|t| &t.definition))
        .chain(plan.commission.iter().map(|c| &c.definition));
    for name in named {
        if !all.contains_key(name) {
            let needle = format!("\"{name}\"");
            let line = text.lines().position(|l| l.contains(&needle)).unwrap_or(0) + 1;
            return Err(invalid(
                "plan",
                format!("line {line}, definition: no KPI definition {name:?} (see /definitions)"),
            ));
        }
    }
    let warnings = plan.warnings(&|name| all.get(name).map(|h| h.versions[0].kpi));
    Ok((plan, warnings))
}

#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub plan_id: i64,
    pub version: i64,
    pub warnings: Vec<String>,
}

/// Publishes a plan's next version (`plan_id` `None`: a new plan),
/// effective from `effective_from`; a date before today needs a reason.
pub async fn publish_plan(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    plan_id: Option<i64>,
    text: &str,
    effective_from: Date,
    reason: Option<&str>,
) -> Result<Published, ServiceError> {
    let (plan, warnings) = check_plan(store, clock, caller, text).await?;
    let existing = store.pay_plans(caller.tenant).await?;
    match plan_id {
        Some(id) if !existing.iter().any(|p| p.id == id) => return Err(ServiceError::NotFound),
        None if existing.iter().any(|p| p.name == plan.name) => {
            return Err(invalid(
                "name",
                format!(
                    "a plan named {:?} exists: publish a new version of it",
                    plan.name
                ),
            ));
        }
        _ => {}
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let today = today(store, clock, caller.tenant).await?;
    if effective_from < today && reason.is_none() {
        return Err(invalid(
            "reason",
            format!(
                "a version effective from {effective_from}, before today ({today}), needs a reason"
            ),
        ));
    }
    let entry = audit_entry(
        caller,
        clock,
        if plan_id.is_some() {
            "publish_plan_version"
        } else {
            "create_plan"
        },
        "pay_plan",
        String::new(),
        &serde_json::json!({"plan": plan, "effective_from": effective_from, "reason": reason}),
    );
    let (plan_id, version) = store
        .publish_pay_plan_version(
            caller.tenant,
            plan_id,
            &plan.name,
            &effective_from.to_string(),
            text,
            reason,
            clock.now_ms(),
            &caller.name,
            &entry,
        )
        .await?;
    Ok(Published {
        plan_id,
        version,
        warnings,
    })
}

pub(crate) async fn zone_of(
    store: &Store,
    tenant: merit_domain::TenantId,
) -> Result<TimeZone, ServiceError> {
    crate::time_zone(&store.centre(tenant).await?.1)
}

pub(crate) async fn today(
    store: &Store,
    clock: &dyn Clock,
    tenant: merit_domain::TenantId,
) -> Result<Date, ServiceError> {
    let zone = zone_of(store, tenant).await?;
    Ok(jiff::Timestamp::from_millisecond(clock.now_ms())
        .map_err(|e| invalid("clock", e.to_string()))?
        .to_zoned(zone)
        .date())
}

/// The figures a plan reads: its KPIs, gates and commission by agent, and
/// its team KPI by team.
fn measured_definitions(plan: &Plan) -> Vec<&str> {
    let mut names: Vec<&str> = plan
        .kpis
        .iter()
        .map(|k| k.definition.as_str())
        .chain(plan.gates.iter().map(|g| g.definition.as_str()))
        .chain(plan.commission.iter().map(|c| c.definition.as_str()))
        .chain(["handled", "system_drops"])
        .collect();
    let mut seen = BTreeSet::new();
    names.retain(|n| seen.insert(*n));
    names
}

fn figures_by_group(report: &Report) -> BTreeMap<&str, BTreeMap<&str, Measure>> {
    report
        .rows
        .iter()
        .filter_map(|row| {
            let group = row.group.first()?.as_str();
            let figures = row
                .figures
                .iter()
                .map(|f| (f.definition.as_str(), Measure::of(f)))
                .collect();
            Some((group, figures))
        })
        .collect()
}

/// The agents a plan covers in a period and the team each was in on their
/// last day employed in it.
pub(crate) fn covered<'o>(
    org: &'o Organisation,
    plan: &Plan,
    (from, to): (Date, Date),
) -> Vec<(&'o merit_domain::organisation::Agent, Option<&'o str>)> {
    org.agents
        .iter()
        .filter(|a| a.hire_date <= to && a.employment_end_date.is_none_or(|end| end >= from))
        .map(|a| {
            let last = a.employment_end_date.map_or(to, |end| end.min(to));
            (a, org.team_on(&a.id, last))
        })
        .filter(|(a, team)| plan.applies_to.includes(&a.id, *team, &a.site_id))
        .collect()
}

/// Computes every covered agent's statement (or only `only`'s) for one
/// period under `plan`, without adjustments.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn compute(
    store: &Store,
    clock: &dyn Clock,
    tenant: merit_domain::TenantId,
    plan: &Plan,
    period: (Date, Date),
    only: Option<&str>,
    estimate: bool,
    paid_this_year: &BTreeMap<String, Decimal>,
) -> Result<Vec<Statement>, ServiceError> {
    let one = PlanPeriod {
        plan,
        period,
        paid_this_year,
    };
    let mut statements = compute_many(store, clock, tenant, &[one], only, estimate).await?;
    Ok(statements.pop().unwrap_or_default())
}

/// One plan to work out over one of its periods.
pub(crate) struct PlanPeriod<'a> {
    pub plan: &'a Plan,
    pub period: (Date, Date),
    pub paid_this_year: &'a BTreeMap<String, Decimal>,
}

/// `compute` for several plans at once, the statements of each in the
/// order given. Their figures come from one load of the rows: per period,
/// one report by agent of every definition the plans read, and one by team
/// of their team KPIs.
pub(crate) async fn compute_many(
    store: &Store,
    clock: &dyn Clock,
    tenant: merit_domain::TenantId,
    plans: &[PlanPeriod<'_>],
    only: Option<&str>,
    estimate: bool,
) -> Result<Vec<Vec<Statement>>, ServiceError> {
    let org = store.load_organisation(tenant).await?;
    let zone = zone_of(store, tenant).await?;
    let mut periods: Vec<(Date, Date)> = plans.iter().map(|p| p.period).collect();
    periods.sort();
    periods.dedup();
    // Per period: the index of its report by agent, and of its report by team.
    let mut requests = Vec::new();
    let mut report_of: BTreeMap<(Date, Date), (usize, Option<usize>)> = BTreeMap::new();
    for &period in &periods {
        let here = || plans.iter().filter(move |p| p.period == period);
        let mut names: Vec<&str> = here().flat_map(|p| measured_definitions(p.plan)).collect();
        let mut seen = BTreeSet::new();
        names.retain(|n| seen.insert(*n));
        let teams: BTreeSet<&str> = here()
            .filter_map(|p| Some(p.plan.team.as_ref()?.definition.as_str()))
            .collect();
        let by_agent = requests.len();
        requests.push(ReportRequest::of(
            period.0,
            period.1,
            vec![Dimension::Agent],
            &names,
        ));
        let by_team = (!teams.is_empty()).then(|| {
            let teams: Vec<&str> = teams.into_iter().collect();
            requests.push(ReportRequest::of(
                period.0,
                period.1,
                vec![Dimension::Team],
                &teams,
            ));
            requests.len() - 1
        });
        report_of.insert(period, (by_agent, by_team));
    }
    let reports = kpi_reports(store, clock, tenant, &requests).await?;
    let mut absent_by_period = BTreeMap::new();
    for &period in &periods {
        absent_by_period.insert(period, absent_days(store, tenant, &zone, period).await?);
    }
    let empty = BTreeMap::new();
    let mut out = Vec::with_capacity(plans.len());
    for p in plans {
        let (plan, period) = (p.plan, p.period);
        let (agent_report, team_report) = report_of[&period];
        let by_agent = figures_by_group(&reports[agent_report]);
        let by_team = team_report
            .map(|k| figures_by_group(&reports[k]))
            .unwrap_or_default();
        let absent = &absent_by_period[&period];
        let agents = covered(&org, plan, period)
            .into_iter()
            .filter(|(a, _)| only.is_none_or(|o| o == a.id));
        let mut statements = Vec::new();
        for (agent, team) in agents {
            let figures = by_agent.get(agent.id.as_str()).unwrap_or(&empty);
            let count = |name: &str| figures.get(name).map_or(0, |m| m.numerator);
            let (eligible_days, working) = working_days(
                period,
                (agent.hire_date, agent.employment_end_date),
                &|day| absent.contains(&(agent.id.clone(), day)),
            );
            let team_measure = plan.team.as_ref().and_then(|t| {
                by_team
                    .get(team?)
                    .and_then(|f| f.get(t.definition.as_str()))
                    .cloned()
            });
            statements.push(statement(
                plan,
                &StatementInputs {
                    agent_id: &agent.id,
                    team_id: team,
                    measure: &|name| figures.get(name).cloned(),
                    team_measure,
                    eligible_days,
                    working_days: working,
                    minor_digits: MINOR_DIGITS,
                    system_drops: count("system_drops"),
                    handled: count("handled"),
                    estimate,
                    paid_this_year: p.paid_this_year.get(&agent.id).copied().unwrap_or_default(),
                },
            ));
        }
        out.push(statements);
    }
    Ok(out)
}

/// (agent, local day) pairs with at least `ABSENT_DAY_MS` of absence.
async fn absent_days(
    store: &Store,
    tenant: merit_domain::TenantId,
    zone: &TimeZone,
    (from, to): (Date, Date),
) -> Result<BTreeSet<(String, Date)>, ServiceError> {
    let ((start_ms, end_ms), _) = crate::contacts::local_days_ms(store, tenant, from, to).await?;
    let mut absent_ms: BTreeMap<(String, Date), i64> = BTreeMap::new();
    for (agent, start, end) in store.absences(tenant, start_ms, end_ms).await? {
        // Split the absence at local midnights.
        let mut at = start.max(start_ms);
        let end = end.min(end_ms);
        while at < end {
            let Ok(zoned) = jiff::Timestamp::from_millisecond(at).map(|t| t.to_zoned(zone.clone()))
            else {
                break;
            };
            let next_day = zoned
                .date()
                .tomorrow()
                .ok()
                .and_then(|d| d.to_zoned(zone.clone()).ok())
                .map_or(end, |z| z.timestamp().as_millisecond());
            let until = next_day.min(end);
            *absent_ms.entry((agent.clone(), zoned.date())).or_default() += until - at;
            at = until;
        }
    }
    Ok(absent_ms
        .into_iter()
        .filter(|(_, ms)| *ms >= ABSENT_DAY_MS)
        .map(|(key, _)| key)
        .collect())
}

/// A run as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    #[serde(flatten)]
    pub run: PayRunRecord,
    pub plan_name: String,
    pub total: Decimal,
}

/// One statement as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct StatementView {
    pub run_id: i64,
    pub agent_id: String,
    pub agent_name: String,
    pub team_id: Option<String>,
    pub reviewed_ms: Option<i64>,
    pub reviewed_by: Option<String>,
    pub period_from: String,
    pub period_to: String,
    pub run_state: String,
    pub plan_name: String,
    pub plan_version: i64,
    pub statement: Statement,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    pub summary: RunSummary,
    pub statements: Vec<StatementView>,
    pub disputes: Vec<PayDisputeRecord>,
    /// Whether the caller may review, approve, export.
    pub may_review: bool,
    pub may_approve: bool,
}

async fn run_record(store: &Store, caller: &Caller, id: i64) -> Result<PayRunRecord, ServiceError> {
    store
        .pay_run(caller.tenant, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

fn summary(run: PayRunRecord, plans: &[PayPlanRecord]) -> RunSummary {
    RunSummary {
        plan_name: plans
            .iter()
            .find(|p| p.id == run.plan_id)
            .map_or_else(String::new, |p| p.name.clone()),
        total: from_minor(run.total_minor),
        run,
    }
}

/// Runs the caller may open: every run for the compensation admin; for a
/// team lead, runs holding a statement of their team.
pub async fn runs(store: &Store, caller: &Caller) -> Result<Vec<RunSummary>, ServiceError> {
    caller.may_read(REVIEWERS)?;
    let plans = store.pay_plans(caller.tenant).await?;
    let mut out = Vec::new();
    for run in store.pay_runs(caller.tenant, None).await? {
        if let Scope::Team(team) = &caller.scope {
            let statements = store.pay_statements(caller.tenant, run.id, None).await?;
            if !statements
                .iter()
                .any(|s| s.team_id.as_deref() == Some(team))
            {
                continue;
            }
        }
        out.push(summary(run, &plans));
    }
    Ok(out)
}

/// Whether the caller sees a statement of `team` in full.
fn sees_statement(caller: &Caller, agent: &str, team: Option<&str>, run_state: &str) -> bool {
    match (&caller.role, &caller.scope) {
        (Role::CompensationAdmin, Scope::Centre) => true,
        (Role::TeamLead, Scope::Team(t)) => team == Some(t.as_str()),
        (Role::Agent, Scope::OwnRecords) => {
            caller.agent_id.as_deref() == Some(agent)
                && matches!(run_state, "approved" | "exported")
        }
        _ => false,
    }
}

fn view(
    record: PayStatementRecord,
    run: &RunSummary,
    names: &BTreeMap<String, String>,
) -> Result<StatementView, ServiceError> {
    let statement: Statement = serde_json::from_str(&record.body_json)
        .map_err(|e| invalid("statement", format!("stored statement unreadable: {e}")))?;
    Ok(StatementView {
        run_id: record.run_id,
        agent_name: names
            .get(&record.agent_id)
            .cloned()
            .unwrap_or_else(|| record.agent_id.clone()),
        agent_id: record.agent_id,
        team_id: record.team_id,
        reviewed_ms: record.reviewed_ms,
        reviewed_by: record.reviewed_by,
        period_from: run.run.period_from.clone(),
        period_to: run.run.period_to.clone(),
        run_state: run.run.state.clone(),
        plan_name: run.plan_name.clone(),
        plan_version: run.run.plan_version,
        statement,
    })
}

async fn agent_names(
    store: &Store,
    caller: &Caller,
) -> Result<BTreeMap<String, String>, ServiceError> {
    Ok(store
        .load_organisation(caller.tenant)
        .await?
        .agents
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

/// A run with the statements the caller may see.
pub async fn run(store: &Store, caller: &Caller, id: i64) -> Result<RunView, ServiceError> {
    caller.may_read(REVIEWERS)?;
    let record = run_record(store, caller, id).await?;
    let plans = store.pay_plans(caller.tenant).await?;
    let summary = summary(record, &plans);
    let names = agent_names(store, caller).await?;
    let statements: Vec<StatementView> = store
        .pay_statements(caller.tenant, id, None)
        .await?
        .into_iter()
        .filter(|s| {
            sees_statement(
                caller,
                &s.agent_id,
                s.team_id.as_deref(),
                &summary.run.state,
            )
        })
        .map(|s| view(s, &summary, &names))
        .collect::<Result<_, _>>()?;
    if statements.is_empty() && caller.role != Role::CompensationAdmin {
        return Err(ServiceError::NotFound);
    }
    let visible: BTreeSet<&str> = statements.iter().map(|s| s.agent_id.as_str()).collect();
    let disputes = store
        .pay_disputes(caller.tenant, Some(id), None)
        .await?
        .into_iter()
        .filter(|d| visible.contains(d.agent_id.as_str()))
        .collect();
    let open = matches!(summary.run.state.as_str(), "draft" | "reviewed");
    Ok(RunView {
        may_review: open && statements.iter().any(|s| s.reviewed_ms.is_none()),
        may_approve: caller.role == Role::CompensationAdmin && summary.run.state == "reviewed",
        summary,
        statements,
        disputes,
    })
}

/// One agent's statement of a run, when the caller may see it.
pub async fn statement_of(
    store: &Store,
    caller: &Caller,
    run_id: i64,
    agent: &str,
) -> Result<StatementView, ServiceError> {
    caller.may_read(READERS)?;
    let record = run_record(store, caller, run_id).await?;
    let plans = store.pay_plans(caller.tenant).await?;
    let summary = summary(record, &plans);
    let statement = store
        .pay_statements(caller.tenant, run_id, Some(agent))
        .await?
        .into_iter()
        .next()
        .filter(|s| {
            sees_statement(
                caller,
                &s.agent_id,
                s.team_id.as_deref(),
                &summary.run.state,
            )
        })
        .ok_or(ServiceError::NotFound)?;
    view(statement, &summary, &agent_names(store, caller).await?)
}

/// The caller's own approved statements, newest first.
pub async fn my_statements(
    store: &Store,
    caller: &Caller,
) -> Result<Vec<StatementView>, ServiceError> {
    caller.may_read(READERS)?;
    let Some(agent) = caller.agent_id.as_deref() else {
        return Ok(Vec::new());
    };
    let plans = store.pay_plans(caller.tenant).await?;
    let names = agent_names(store, caller).await?;
    let mut out = Vec::new();
    for record in store.agent_pay_statements(caller.tenant, agent).await? {
        let run = summary(run_record(store, caller, record.run_id).await?, &plans);
        if sees_statement(caller, agent, record.team_id.as_deref(), &run.run.state) {
            out.push(view(record, &run, &names)?);
        }
    }
    Ok(out)
}

/// Runs the period of `plan_id` that holds `day`: a draft with a statement
/// per covered agent, with the plan's unpaid adjustments and the late data
/// of its earlier approved periods. An approved period is refused: its
/// statements never change.
pub async fn run_period(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    plan_id: i64,
    day: Date,
) -> Result<i64, ServiceError> {
    let ids = run_periods(store, clock, caller, &[plan_id], day).await?;
    ids.first()
        .copied()
        .ok_or_else(|| invalid("plan", format!("no run for plan {plan_id}")))
}

/// Runs every plan with a version in force on `day`, each over its period
/// holding `day`, from one load of the rows; the runs' ids, by plan id.
pub async fn run_all_periods(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    day: Date,
) -> Result<Vec<i64>, ServiceError> {
    caller.require(PAY_ADMINS, "run pay")?;
    let mut plans = store.pay_plans(caller.tenant).await?;
    plans.sort_unstable_by_key(|p| p.id);
    let mut histories = Vec::new();
    for plan in plans {
        let history = plan_history(store, caller.tenant, plan.id).await?;
        if history.in_force(day).is_some() {
            histories.push(history);
        }
    }
    if histories.is_empty() {
        return Err(invalid(
            "period",
            format!("no plan has a version in force on {day}"),
        ));
    }
    run_histories(store, clock, caller, histories, day).await
}

/// Runs the period holding `day` of each plan in `plan_ids` (drafts; again
/// while not approved), their figures from one load of the rows; the
/// runs' ids in the same order. Every plan is checked (a version in force,
/// its period not approved) before any run is stored.
pub async fn run_periods(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    plan_ids: &[i64],
    day: Date,
) -> Result<Vec<i64>, ServiceError> {
    caller.require(PAY_ADMINS, "run pay")?;
    let mut histories = Vec::with_capacity(plan_ids.len());
    for &plan_id in plan_ids {
        histories.push(plan_history(store, caller.tenant, plan_id).await?);
    }
    run_histories(store, clock, caller, histories, day).await
}

/// `run_periods` for plans whose histories are loaded (the caller's right
/// to run pay already checked).
async fn run_histories(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    histories: Vec<PlanHistory>,
    day: Date,
) -> Result<Vec<i64>, ServiceError> {
    let mut runs = Vec::with_capacity(histories.len());
    for history in histories {
        let plan_id = history.id;
        let version = history.in_force(day).cloned().ok_or_else(|| {
            invalid(
                "period",
                format!("no version of plan {plan_id} is in force on {day}"),
            )
        })?;
        let period = version.plan.frequency.period_of(day);
        if let Some(approved) = store
            .pay_runs(caller.tenant, Some(plan_id))
            .await?
            .into_iter()
            .find(|r| r.period_from == period.0.to_string() && !open_state(&r.state))
        {
            return Err(approved_conflict(approved.id, period));
        }
        let paid = paid_this_year(store, caller.tenant, plan_id, period.0).await?;
        runs.push((history, version, period, paid));
    }
    let wanted: Vec<PlanPeriod> = runs
        .iter()
        .map(|(_, version, period, paid)| PlanPeriod {
            plan: &version.plan,
            period: *period,
            paid_this_year: paid,
        })
        .collect();
    let computed = compute_many(store, clock, caller.tenant, &wanted, None, false).await?;
    let mut ids = Vec::with_capacity(runs.len());
    for ((history, version, period, _), statements) in runs.iter().zip(computed) {
        ids.push(save_run(store, clock, caller, history, version, *period, statements).await?);
    }
    Ok(ids)
}

/// A plan's computed statements with its unpaid adjustments and late-data
/// corrections added, stored as a draft run.
async fn save_run(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    history: &PlanHistory,
    version: &PlanVersion,
    period: (Date, Date),
    mut statements: Vec<Statement>,
) -> Result<i64, ServiceError> {
    let plan_id = history.id;
    let adjustments = store.unpaid_pay_adjustments(caller.tenant, plan_id).await?;
    let late = late_data(store, clock, caller.tenant, history, period.0).await?;
    for s in &mut statements {
        let agent = s.agent_id.clone();
        for a in adjustments.iter().filter(|a| a.agent_id == agent) {
            s.push_line(adjustment_line(a));
        }
        for (_, line) in late.iter().filter(|(a, _)| *a == agent) {
            s.push_line(line.clone());
        }
    }
    let statements: Vec<PayStatementRecord> = statements
        .iter()
        .map(|s| PayStatementRecord {
            run_id: 0,
            agent_id: s.agent_id.clone(),
            team_id: s.team_id.clone(),
            total_minor: to_minor(s.total),
            body_json: serde_json::to_string(s).unwrap_or_default(),
            reviewed_ms: None,
            reviewed_by: None,
        })
        .collect();
    let total_minor = statements.iter().map(|s| s.total_minor).sum();
    let record = PayRunRecord {
        id: 0,
        plan_id,
        plan_version: version.version,
        period_from: period.0.to_string(),
        period_to: period.1.to_string(),
        state: "draft".into(),
        currency: version.plan.unit().to_owned(),
        total_minor,
        created_ms: clock.now_ms(),
        created_by: caller.name.clone(),
        approved_ms: None,
        approved_by: None,
        exported_ms: None,
        exported_by: None,
    };
    let entry = audit_entry(
        caller,
        clock,
        "run_pay",
        "pay_run",
        String::new(),
        &serde_json::json!({"plan_id": plan_id, "plan_version": version.version,
            "period": [period.0, period.1], "statements": statements.len(), "total_minor": total_minor}),
    );
    match store
        .save_pay_run(caller.tenant, &record, &statements, &entry)
        .await?
    {
        RunSaved::Saved(id) => Ok(id),
        RunSaved::Approved(id) => Err(approved_conflict(id, period)),
    }
}

fn open_state(state: &str) -> bool {
    matches!(state, "draft" | "reviewed")
}

fn approved_conflict(run: i64, period: (Date, Date)) -> ServiceError {
    conflict(
        "run_approved",
        format!(
            "the period {} to {} is approved (run {run}): its statements never change; corrections are adjustments paid in the next period",
            period.0, period.1
        ),
    )
}

fn adjustment_line(a: &PayAdjustmentRecord) -> PayLine {
    PayLine {
        code: PayCode::Adjustment,
        description: format!("{}: {}", a.reason_code, a.note),
        amount: from_minor(a.amount_minor),
        adjustment_id: Some(a.id),
        corrects_run: None,
    }
}

/// What each agent's approved statements of the plan earned (bonus,
/// commission and cap lines) in periods of `before`'s calendar year that
/// start before it: what counts against the plan's cap per year.
pub(crate) async fn paid_this_year(
    store: &Store,
    tenant: merit_domain::TenantId,
    plan_id: i64,
    before: Date,
) -> Result<BTreeMap<String, Decimal>, ServiceError> {
    let year_start = before.first_of_year().to_string();
    let mut paid: BTreeMap<String, Decimal> = BTreeMap::new();
    for run in store.pay_runs(tenant, Some(plan_id)).await? {
        if open_state(&run.state)
            || run.period_from < year_start
            || run.period_from >= before.to_string()
        {
            continue;
        }
        for s in store.pay_statements(tenant, run.id, None).await? {
            let body: Statement = serde_json::from_str(&s.body_json)
                .map_err(|e| invalid("statement", e.to_string()))?;
            *paid.entry(s.agent_id).or_default() += body.earned();
        }
    }
    Ok(paid)
}

/// For each earlier approved run of the plan, what its statements would
/// earn on today's data less what they earned and what late data already
/// corrected: a `LATE_DATA` line per agent whose pay changed.
async fn late_data(
    store: &Store,
    clock: &dyn Clock,
    tenant: merit_domain::TenantId,
    history: &PlanHistory,
    before: Date,
) -> Result<Vec<(String, PayLine)>, ServiceError> {
    let runs = store.pay_runs(tenant, Some(history.id)).await?;
    let closed: Vec<&PayRunRecord> = runs.iter().filter(|r| !open_state(&r.state)).collect();
    // What late-data lines of approved runs already corrected, per (run, agent).
    let mut corrected: BTreeMap<(i64, String), Decimal> = BTreeMap::new();
    for run in &closed {
        for s in store.pay_statements(tenant, run.id, None).await? {
            let Ok(body) = serde_json::from_str::<Statement>(&s.body_json) else {
                continue;
            };
            for line in body.lines.iter().filter(|l| l.code == PayCode::LateData) {
                if let Some(earlier) = line.corrects_run {
                    *corrected.entry((earlier, s.agent_id.clone())).or_default() += line.amount;
                }
            }
        }
    }
    let mut out = Vec::new();
    for run in closed.iter().filter(|r| r.period_to < before.to_string()) {
        let Some(version) = history.version(run.plan_version) else {
            continue;
        };
        let period = (
            run.period_from
                .parse()
                .map_err(|e| invalid("period", format!("{e}")))?,
            run.period_to
                .parse()
                .map_err(|e| invalid("period", format!("{e}")))?,
        );
        let paid = paid_this_year(store, tenant, history.id, period.0).await?;
        let now = compute(
            store,
            clock,
            tenant,
            &version.plan,
            period,
            None,
            false,
            &paid,
        )
        .await?;
        let paid: BTreeMap<String, Decimal> = store
            .pay_statements(tenant, run.id, None)
            .await?
            .into_iter()
            .filter_map(|s| {
                let body: Statement = serde_json::from_str(&s.body_json).ok()?;
                Some((s.agent_id, body.earned()))
            })
            .collect();
        for s in now {
            let before = paid.get(&s.agent_id).copied().unwrap_or_default()
                + corrected
                    .get(&(run.id, s.agent_id.clone()))
                    .copied()
                    .unwrap_or_default();
            let delta = s.earned() - before;
            if !delta.is_zero() {
                out.push((
                    s.agent_id.clone(),
                    PayLine {
                        code: PayCode::LateData,
                        description: format!(
                            "late data for {} to {} (run {}): now earns {}, paid {}",
                            run.period_from,
                            run.period_to,
                            run.id,
                            s.earned(),
                            before
                        ),
                        amount: delta,
                        adjustment_id: None,
                        corrects_run: Some(run.id),
                    },
                ));
            }
        }
    }
    Ok(out)
}

/// Marks reviewed the statements of an open run the caller reviews: a team
/// lead their team's, the compensation admin every one. The run becomes
/// `reviewed` when none is left.
pub async fn review(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    run_id: i64,
) -> Result<u64, ServiceError> {
    caller.require(REVIEWERS, "review pay statements")?;
    let run = run_record(store, caller, run_id).await?;
    if !open_state(&run.state) {
        return Err(conflict(
            "run_approved",
            format!(
                "run {run_id} is {}: there is nothing left to review",
                run.state
            ),
        ));
    }
    let agents: Vec<String> = store
        .pay_statements(caller.tenant, run_id, None)
        .await?
        .into_iter()
        .filter(|s| sees_statement(caller, &s.agent_id, s.team_id.as_deref(), &run.state))
        .filter(|s| s.reviewed_ms.is_none())
        .map(|s| s.agent_id)
        .collect();
    if agents.is_empty() {
        return Err(ServiceError::NotFound);
    }
    let entry = audit_entry(
        caller,
        clock,
        "review_pay",
        "pay_run",
        run_id.to_string(),
        &serde_json::json!({"agents": agents}),
    );
    Ok(store
        .review_pay_statements(
            caller.tenant,
            run_id,
            &agents,
            clock.now_ms(),
            &caller.name,
            &entry,
        )
        .await?)
}

/// Approves a reviewed run. Refused while a measurement window behind a
/// statement is open, or when an adjustment it pays was paid elsewhere.
pub async fn approve(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    run_id: i64,
) -> Result<(), ServiceError> {
    caller.require(PAY_ADMINS, "approve pay")?;
    let run = run_record(store, caller, run_id).await?;
    if run.state != "reviewed" {
        return Err(conflict(
            "not_reviewed",
            format!(
                "run {run_id} is {}: a run is approved once every statement is reviewed",
                run.state
            ),
        ));
    }
    let statements = store.pay_statements(caller.tenant, run_id, None).await?;
    let unpaid: BTreeSet<i64> = store
        .unpaid_pay_adjustments(caller.tenant, run.plan_id)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    let mut paid = Vec::new();
    for s in &statements {
        let body: Statement =
            serde_json::from_str(&s.body_json).map_err(|e| invalid("statement", e.to_string()))?;
        if let Some(c) = body
            .components
            .iter()
            .find(|c| c.status == Status::WindowOpen)
        {
            return Err(conflict(
                "window_open",
                format!(
                    "{} of {} has a measurement window still open: run the period again once it has closed",
                    c.definition, s.agent_id
                ),
            ));
        }
        for id in body.lines.iter().filter_map(|l| l.adjustment_id) {
            if !unpaid.contains(&id) {
                return Err(conflict(
                    "adjustment_paid",
                    format!("adjustment {id} was paid in another run: run this period again"),
                ));
            }
            paid.push(id);
        }
    }
    let entry = audit_entry(
        caller,
        clock,
        "approve_pay",
        "pay_run",
        run_id.to_string(),
        &serde_json::json!({"total_minor": run.total_minor, "statements": statements.len()}),
    );
    if !store
        .approve_pay_run(
            caller.tenant,
            run_id,
            clock.now_ms(),
            &caller.name,
            &paid,
            &entry,
        )
        .await?
    {
        return Err(conflict(
            "not_reviewed",
            format!("run {run_id} changed meanwhile"),
        ));
    }
    Ok(())
}

/// The payroll file of an approved run: one line per agent per pay code,
/// with the currency. The first export marks the run exported.
pub async fn payroll_csv(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    run_id: i64,
) -> Result<String, ServiceError> {
    caller.require(PAY_ADMINS, "export payroll")?;
    let run = run_record(store, caller, run_id).await?;
    if open_state(&run.state) {
        return Err(conflict(
            "not_approved",
            format!(
                "run {run_id} is {}: only an approved run is exported",
                run.state
            ),
        ));
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| invalid("csv", e.to_string());
    out.write_record([
        "agent_id",
        "pay_code",
        "amount",
        "currency",
        "period_from",
        "period_to",
        "run_id",
    ])
    .map_err(csv_error)?;
    for s in store.pay_statements(caller.tenant, run_id, None).await? {
        let body: Statement =
            serde_json::from_str(&s.body_json).map_err(|e| invalid("statement", e.to_string()))?;
        let mut by_code: BTreeMap<PayCode, Decimal> = BTreeMap::new();
        for line in &body.lines {
            *by_code.entry(line.code).or_default() += line.amount;
        }
        for (code, amount) in by_code {
            out.write_record([
                s.agent_id.as_str(),
                code.as_str(),
                &format!("{:.2}", amount),
                run.currency.as_str(),
                run.period_from.as_str(),
                run.period_to.as_str(),
                &run_id.to_string(),
            ])
            .map_err(csv_error)?;
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| invalid("csv", e.to_string()))?;
    if run.state == "approved" {
        let entry = audit_entry(
            caller,
            clock,
            "export_payroll",
            "pay_run",
            run_id.to_string(),
            &serde_json::json!({"total_minor": run.total_minor}),
        );
        store
            .mark_pay_run_exported(caller.tenant, run_id, clock.now_ms(), &caller.name, &entry)
            .await?;
    }
    String::from_utf8(bytes).map_err(|e| invalid("csv", e.to_string()))
}

/// A run's cost for finance.
#[derive(Debug, Clone, Serialize)]
pub struct FinanceSummary {
    pub run_id: i64,
    pub currency: String,
    pub agents: usize,
    pub total: Decimal,
    pub by_code: BTreeMap<&'static str, Decimal>,
    /// Contacts the run's agents handled in the period.
    pub handled_contacts: i64,
    /// total ÷ handled contacts, to the cent; `None` with no contacts.
    pub cost_per_contact: Option<Decimal>,
    pub agents_paid_nothing: usize,
    /// Lowest, quartiles (nearest rank) and highest statement total.
    pub distribution: Option<[Decimal; 5]>,
}

pub async fn finance_summary(
    store: &Store,
    caller: &Caller,
    run_id: i64,
) -> Result<FinanceSummary, ServiceError> {
    caller.may_read(PAY_ADMINS)?;
    let run = run_record(store, caller, run_id).await?;
    let mut totals = Vec::new();
    let mut by_code: BTreeMap<&'static str, Decimal> = BTreeMap::new();
    let mut handled = 0;
    for s in store.pay_statements(caller.tenant, run_id, None).await? {
        let body: Statement =
            serde_json::from_str(&s.body_json).map_err(|e| invalid("statement", e.to_string()))?;
        for line in &body.lines {
            *by_code.entry(line.code.as_str()).or_default() += line.amount;
        }
        handled += body.handled;
        totals.push(body.total);
    }
    totals.sort();
    let total: Decimal = totals.iter().copied().sum();
    let rank = |p: usize| totals[(p * totals.len()).div_ceil(100).max(1) - 1];
    Ok(FinanceSummary {
        run_id,
        currency: run.currency,
        agents: totals.len(),
        total,
        by_code,
        handled_contacts: handled,
        cost_per_contact: (handled > 0)
            .then(|| merit_domain::pay::round_money(total / Decimal::from(handled), MINOR_DIGITS)),
        agents_paid_nothing: totals.iter().filter(|t| t.is_zero()).count(),
        distribution: (!totals.is_empty())
            .then(|| [rank(0), rank(25), rank(50), rank(75), rank(100)]),
    })
}

/// Records an adjustment with its reason code: it is added to the agent's
/// statement of the plan's open run now, or paid in the plan's next run.
#[allow(clippy::too_many_arguments)]
pub async fn adjust(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    plan_id: i64,
    agent: &str,
    amount: Decimal,
    reason_code: &str,
    note: &str,
) -> Result<i64, ServiceError> {
    caller.require(PAY_ADMINS, "adjust pay")?;
    if !REASON_CODES.contains(&reason_code) {
        return Err(invalid(
            "reason_code",
            format!("{reason_code:?} is not one of {}", REASON_CODES.join(", ")),
        ));
    }
    if note.trim().is_empty() {
        return Err(invalid("note", "say why pay is adjusted"));
    }
    if amount.is_zero() || amount.scale() > MINOR_DIGITS {
        return Err(invalid(
            "amount",
            format!("{amount} is not a non-zero amount in cents"),
        ));
    }
    plan_history(store, caller.tenant, plan_id).await?;
    if !store
        .load_organisation(caller.tenant)
        .await?
        .agents
        .iter()
        .any(|a| a.id == agent)
    {
        return Err(invalid("agent", format!("no agent {agent:?}")));
    }
    let record = PayAdjustmentRecord {
        id: 0,
        plan_id,
        agent_id: agent.into(),
        amount_minor: to_minor(amount),
        reason_code: reason_code.into(),
        note: note.trim().into(),
        created_ms: clock.now_ms(),
        created_by: caller.name.clone(),
        paid_in_run: None,
    };
    let entry = audit_entry(
        caller,
        clock,
        "adjust_pay",
        "pay_adjustment",
        String::new(),
        &record,
    );
    let id = store
        .add_pay_adjustment(caller.tenant, &record, &entry)
        .await?;
    apply_to_open_run(store, clock, caller, &PayAdjustmentRecord { id, ..record }).await?;
    Ok(id)
}

/// [`adjust`] in the plan of run `run_id`.
#[allow(clippy::too_many_arguments)]
pub async fn adjust_in_run(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    run_id: i64,
    agent: &str,
    amount: Decimal,
    reason_code: &str,
    note: &str,
) -> Result<i64, ServiceError> {
    caller.require(PAY_ADMINS, "adjust pay")?;
    let run = run_record(store, caller, run_id).await?;
    adjust(
        store,
        clock,
        caller,
        run.plan_id,
        agent,
        amount,
        reason_code,
        note,
    )
    .await
}

/// Adds an adjustment to the agent's statement of the plan's open run.
async fn apply_to_open_run(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    adjustment: &PayAdjustmentRecord,
) -> Result<(), ServiceError> {
    let open = store
        .pay_runs(caller.tenant, Some(adjustment.plan_id))
        .await?
        .into_iter()
        .filter(|r| open_state(&r.state))
        .min_by(|a, b| a.period_from.cmp(&b.period_from));
    let Some(run) = open else {
        return Ok(());
    };
    let Some(mut record) = store
        .pay_statements(caller.tenant, run.id, Some(&adjustment.agent_id))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let mut body: Statement =
        serde_json::from_str(&record.body_json).map_err(|e| invalid("statement", e.to_string()))?;
    body.push_line(adjustment_line(adjustment));
    record.total_minor = to_minor(body.total);
    record.body_json = serde_json::to_string(&body).unwrap_or_default();
    let entry = audit_entry(
        caller,
        clock,
        "adjust_statement",
        "pay_statement",
        format!("{}:{}", run.id, adjustment.agent_id),
        &serde_json::json!({"adjustment": adjustment.id, "total": body.total}),
    );
    store
        .replace_pay_statement(caller.tenant, &record, &entry)
        .await?;
    Ok(())
}

/// An agent disputes their approved statement; one open dispute per statement.
pub async fn raise_dispute(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    run_id: i64,
    comment: &str,
) -> Result<i64, ServiceError> {
    caller.require(&[Role::Agent], "dispute pay")?;
    let agent = caller.agent_id.clone().ok_or(ServiceError::NotFound)?;
    statement_of(store, caller, run_id, &agent).await?;
    if comment.trim().is_empty() {
        return Err(invalid("comment", "say what is wrong with the statement"));
    }
    let disputes = store
        .pay_disputes(caller.tenant, Some(run_id), Some(&agent))
        .await?;
    if disputes.iter().any(|d| d.decision.is_none()) {
        return Err(conflict(
            "dispute_open",
            "this statement already has an open dispute",
        ));
    }
    let record = PayDisputeRecord {
        id: 0,
        run_id,
        agent_id: agent,
        comment: comment.trim().into(),
        raised_ms: clock.now_ms(),
        raised_by: caller.name.clone(),
        decision: None,
        decision_reason: None,
        adjustment_id: None,
        decided_ms: None,
        decided_by: None,
    };
    let entry = audit_entry(
        caller,
        clock,
        "dispute_pay",
        "pay_dispute",
        String::new(),
        &record,
    );
    Ok(store
        .raise_pay_dispute(caller.tenant, &record, &entry)
        .await?)
}

/// The disputes of one statement, for whoever may read the statement.
pub async fn statement_disputes(
    store: &Store,
    caller: &Caller,
    run_id: i64,
    agent: &str,
) -> Result<Vec<PayDisputeRecord>, ServiceError> {
    statement_of(store, caller, run_id, agent).await?;
    Ok(store
        .pay_disputes(caller.tenant, Some(run_id), Some(agent))
        .await?)
}

/// Every pay dispute the compensation admin decides, newest first.
pub async fn disputes(
    store: &Store,
    caller: &Caller,
) -> Result<Vec<PayDisputeRecord>, ServiceError> {
    caller.may_read(PAY_ADMINS)?;
    Ok(store.pay_disputes(caller.tenant, None, None).await?)
}

/// Decides a pay dispute: accepted with the amount it pays (an adjustment
/// in the plan's next run), or rejected; either with a reason.
pub async fn decide_dispute(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    id: i64,
    accept: Option<Decimal>,
    reason: &str,
) -> Result<(), ServiceError> {
    caller.require(PAY_ADMINS, "decide pay disputes")?;
    let dispute = store
        .pay_disputes(caller.tenant, None, None)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(ServiceError::NotFound)?;
    if dispute.decision.is_some() {
        return Err(conflict(
            "dispute_decided",
            format!("dispute {id} is already decided"),
        ));
    }
    if reason.trim().is_empty() {
        return Err(invalid("reason", "a decision states its reason"));
    }
    let run = run_record(store, caller, dispute.run_id).await?;
    let adjustment = match accept {
        Some(amount) if amount.is_zero() || amount.scale() > MINOR_DIGITS => {
            return Err(invalid(
                "amount",
                format!("{amount} is not a non-zero amount in cents"),
            ));
        }
        Some(amount) => Some(PayAdjustmentRecord {
            id: 0,
            plan_id: run.plan_id,
            agent_id: dispute.agent_id.clone(),
            amount_minor: to_minor(amount),
            reason_code: "dispute".into(),
            note: format!("dispute {id} on run {}: {}", run.id, reason.trim()),
            created_ms: clock.now_ms(),
            created_by: caller.name.clone(),
            paid_in_run: None,
        }),
        None => None,
    };
    let decision = if accept.is_some() {
        "accepted"
    } else {
        "rejected"
    };
    let entry = audit_entry(
        caller,
        clock,
        "decide_pay_dispute",
        "pay_dispute",
        id.to_string(),
        &serde_json::json!({"decision": decision, "reason": reason, "amount": accept}),
    );
    if !store
        .decide_pay_dispute(
            caller.tenant,
            id,
            decision,
            reason.trim(),
            adjustment.as_ref(),
            clock.now_ms(),
            &caller.name,
            &entry,
        )
        .await?
    {
        return Err(conflict(
            "dispute_decided",
            format!("dispute {id} is already decided"),
        ));
    }
    if let Some(a) = adjustment {
        // Its id: the newest unpaid adjustment of this agent and plan.
        if let Some(stored) = store
            .unpaid_pay_adjustments(caller.tenant, a.plan_id)
            .await?
            .into_iter()
            .filter(|x| x.agent_id == a.agent_id && x.reason_code == "dispute")
            .max_by_key(|x| x.id)
        {
            apply_to_open_run(store, clock, caller, &stored).await?;
        }
    }
    Ok(())
}
