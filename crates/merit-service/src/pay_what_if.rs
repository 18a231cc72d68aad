//! Pay that is not paid: a proposed plan run in shadow over past periods
//! beside the live one (who gains, who loses, by how much, and the cost),
//! and an agent's estimate of the period still running with the KPI that
//! would raise it most.

use crate::access::Caller;
use crate::invalid;
use crate::pay::{PAY_ADMINS, check_plan, compute, paid_this_year, plan_history, today};
use crate::{Clock, ServiceError};
use jiff::civil::Date;
use merit_domain::access::Role;
use merit_domain::pay::statement::{Statement, best_lever};
use merit_domain::pay::{Decimal, MINOR_DIGITS, round_money};
use merit_store::Store;
use serde::Serialize;
use std::collections::BTreeMap;

/// How much one agent would be paid under each plan over the periods.
#[derive(Debug, Clone, Serialize)]
pub struct ShadowAgent {
    pub agent_id: String,
    pub live: Decimal,
    pub proposed: Decimal,
    pub change: Decimal,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShadowReport {
    pub live_plan: String,
    pub proposed_plan: String,
    /// The live plan's periods compared (first and last day).
    pub periods: Vec<(Date, Date)>,
    pub agents: Vec<ShadowAgent>,
    pub live_cost: Decimal,
    pub proposed_cost: Decimal,
    pub gainers: usize,
    pub losers: usize,
    pub warnings: Vec<String>,
}

/// The most periods one shadow run compares.
const MAX_SHADOW_PERIODS: usize = 12;

/// Runs `proposed_text` over the live plan's periods from `from` to `to`
/// beside the live plan, paying neither. Nothing is stored.
pub async fn shadow(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    live_plan_id: i64,
    proposed_text: &str,
    (from, to): (Date, Date),
) -> Result<ShadowReport, ServiceError> {
    caller.require(PAY_ADMINS, "run plans in shadow")?;
    let (proposed, warnings) = check_plan(store, clock, caller, proposed_text).await?;
    let live = plan_history(store, caller.tenant, live_plan_id).await?;
    if to < from {
        return Err(invalid("to", format!("{to} is before {from}")));
    }
    let mut periods = Vec::new();
    let mut day = from;
    while day <= to {
        let version = live
            .in_force(day)
            .ok_or_else(|| invalid("from", format!("the live plan is not in force on {day}")))?;
        let period = version.plan.frequency.period_of(day);
        periods.push((period, version.plan.clone()));
        if periods.len() > MAX_SHADOW_PERIODS {
            return Err(invalid(
                "to",
                format!("a shadow run compares at most {MAX_SHADOW_PERIODS} periods"),
            ));
        }
        day = period
            .1
            .tomorrow()
            .map_err(|e| invalid("to", e.to_string()))?;
    }
    let mut by_agent: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for (period, live_plan) in &periods {
        let tenant = caller.tenant;
        let paid = paid_this_year(store, tenant, live_plan_id, period.0).await?;
        for s in compute(store, clock, tenant, live_plan, *period, None, false, &paid).await? {
            by_agent.entry(s.agent_id.clone()).or_default().0 += s.total;
        }
        for s in compute(store, clock, tenant, &proposed, *period, None, false, &paid).await? {
            by_agent.entry(s.agent_id.clone()).or_default().1 += s.total;
        }
    }
    let agents: Vec<ShadowAgent> = by_agent
        .into_iter()
        .map(|(agent_id, (live, proposed))| ShadowAgent {
            agent_id,
            live,
            proposed,
            change: proposed - live,
        })
        .collect();
    Ok(ShadowReport {
        live_plan: live.name,
        proposed_plan: proposed.name,
        periods: periods.iter().map(|(p, _)| *p).collect(),
        live_cost: agents.iter().map(|a| a.live).sum(),
        proposed_cost: agents.iter().map(|a| a.proposed).sum(),
        gainers: agents.iter().filter(|a| a.change > Decimal::ZERO).count(),
        losers: agents.iter().filter(|a| a.change < Decimal::ZERO).count(),
        agents,
        warnings,
    })
}

/// An agent's estimate of one plan's running period, to date.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub plan_id: i64,
    pub plan_name: String,
    pub period: (Date, Date),
    pub to_date: Date,
    pub statement: Statement,
    /// The KPI whose attainment, 5 points higher, would raise the bonus
    /// most, and by how much.
    pub best_lever: Option<(String, Decimal)>,
}

/// The caller's estimates: one per plan that covers them today (or on the
/// last day with data, when that is earlier).
pub async fn estimates(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
) -> Result<Vec<Estimate>, ServiceError> {
    let (Role::Agent, Some(agent)) = (caller.role, caller.agent_id.as_deref()) else {
        return Ok(Vec::new());
    };
    // The running period; a centre whose data stops earlier (an import
    // not yet made, the demo) is estimated up to its last day with data.
    let today = today(store, clock, caller.tenant).await?;
    let today = crate::reports::latest_day(store, caller, today)
        .await?
        .min(today);
    let org = store.load_organisation(caller.tenant).await?;
    let mut out = Vec::new();
    for record in store.pay_plans(caller.tenant).await? {
        let history = plan_history(store, caller.tenant, record.id).await?;
        let Some(version) = history.in_force(today) else {
            continue;
        };
        let plan = &version.plan;
        let period = plan.frequency.period_of(today);
        let to_date = (period.0, today);
        if crate::pay::covered(&org, plan, to_date)
            .iter()
            .all(|(a, _)| a.id != agent)
        {
            continue;
        }
        let statements = compute(
            store,
            clock,
            caller.tenant,
            plan,
            to_date,
            Some(agent),
            true,
            &paid_this_year(store, caller.tenant, record.id, period.0).await?,
        )
        .await?;
        let Some(statement) = statements.into_iter().next() else {
            continue;
        };
        let best_lever = best_lever(plan, &statement, Decimal::new(5, 2))
            .map(|(kpi, gain)| (kpi, round_money(gain, MINOR_DIGITS)));
        out.push(Estimate {
            plan_id: record.id,
            plan_name: history.name.clone(),
            period,
            to_date: today,
            statement,
            best_lever,
        });
    }
    Ok(out)
}
