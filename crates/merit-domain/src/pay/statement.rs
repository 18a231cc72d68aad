//! One agent's pay statement for one period of a plan: each KPI's measured
//! figure (numerator, denominator, definition versions), its attainment and
//! curve point, the individual and team scores, every gate, proration, cap,
//! the pay lines and their total. The fairness rules of SPEC.md apply here:
//! a measure below its minimum sample, or whose measurement window is still
//! open, is never scored (as zero or otherwise) and the statement says so.

use super::plan::{Exact, Plan};
use super::{
    BonusInputs, Component, Decimal, attainment, bonus, individual_score, proration, round_money,
};
use crate::metrics::{Direction, Figure, Kpi, Unit};
use serde::{Deserialize, Serialize};

/// A figure as pay reads it: its exact value, in the unit the report
/// prints (percent, seconds, points, minor units...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    pub definition: String,
    pub versions: Vec<i64>,
    pub numerator: i64,
    pub denominator: Option<i64>,
    pub value: Option<Decimal>,
    pub unit: String,
    pub lower_is_better: bool,
    /// Some measurement window behind it (FCR) has not closed.
    pub provisional: bool,
}

impl Measure {
    /// The figure's value as an exact decimal, worked out again from its
    /// numerator and denominator (the report's value is a float).
    pub fn of(figure: &Figure) -> Self {
        let (n, d) = (
            Decimal::from(figure.numerator),
            figure.denominator.map(Decimal::from),
        );
        let ratio = |scale: i64| {
            d.filter(|d| !d.is_zero())
                .map(|d| n * Decimal::from(scale) / d)
        };
        let value = match figure.unit {
            Unit::Count | Unit::MinorUnits => Some(n),
            _ if matches!(figure.kpi, Kpi::WaitPercentile | Kpi::LongestWait) => {
                figure.value.map(|_| n / Decimal::ONE_THOUSAND)
            }
            Unit::Percent | Unit::Points => ratio(100),
            Unit::Score => ratio(1),
            Unit::Seconds => ratio(1).map(|v| v / Decimal::ONE_THOUSAND),
            Unit::QaPoints => ratio(1).map(|v| v / Decimal::ONE_HUNDRED),
            Unit::PerHour => ratio(3_600_000),
            // Depends on the period's length: taken from the report.
            Unit::PercentOfAverageHeadcount => figure
                .value
                .and_then(|v| Decimal::try_from(v).ok())
                .map(|v| v.round_dp(6)),
        };
        Measure {
            definition: figure.definition.clone(),
            versions: figure.versions.clone(),
            numerator: figure.numerator,
            denominator: figure.denominator,
            value: value.map(|v| v.normalize()),
            unit: figure.unit.as_str().into(),
            lower_is_better: figure.kpi.direction() == Direction::LowerIsBetter,
            provisional: figure.provisional,
        }
    }

    fn direction(&self) -> Direction {
        if self.lower_is_better {
            Direction::LowerIsBetter
        } else {
            Direction::HigherIsBetter
        }
    }
}

/// Why a KPI was or was not scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Scored,
    /// No figure, or fewer rows than the minimum sample: left out, and the
    /// other weights scaled up.
    NotEnoughData,
    /// Its measurement window has not closed: not paid on yet.
    WindowOpen,
}

/// One KPI of the scorecard on the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentLine {
    pub definition: String,
    pub weight: Decimal,
    pub target: Decimal,
    pub minimum_sample: Option<i64>,
    pub measure: Option<Measure>,
    pub status: Status,
    pub attainment: Option<Decimal>,
    /// The curve's payout factor f(attainment).
    pub factor: Option<Decimal>,
}

/// The team's KPI on the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamLine {
    pub team_id: Option<String>,
    pub definition: String,
    pub target: Decimal,
    pub measure: Option<Measure>,
    pub status: Status,
    pub attainment: Option<Decimal>,
    pub factor: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateLine {
    pub definition: String,
    pub at_most: Option<Decimal>,
    pub at_least: Option<Decimal>,
    pub measure: Option<Measure>,
    pub passed: bool,
}

/// What a payroll system books a line under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PayCode {
    Bonus,
    Commission,
    Adjustment,
    /// Data that arrived after an earlier period was approved.
    LateData,
    /// What the plan's cap per year takes back.
    YearCap,
}

impl PayCode {
    pub fn as_str(self) -> &'static str {
        match self {
            PayCode::Bonus => "BONUS",
            PayCode::Commission => "COMMISSION",
            PayCode::Adjustment => "ADJUSTMENT",
            PayCode::LateData => "LATE_DATA",
            PayCode::YearCap => "YEAR_CAP",
        }
    }
}

/// One amount on a statement, rounded once to the currency's minor unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayLine {
    pub code: PayCode,
    pub description: String,
    pub amount: Decimal,
    /// An adjustment's record, when the line is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_id: Option<i64>,
    /// The earlier run a late-data line corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects_run: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proration {
    pub eligible_days: u32,
    pub working_days: u32,
    pub factor: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub agent_id: String,
    pub team_id: Option<String>,
    pub currency: String,
    pub components: Vec<ComponentLine>,
    pub individual_score: Option<Decimal>,
    /// Some KPI had not enough data: the others' weights were scaled up.
    pub renormalised: bool,
    pub team: Option<TeamLine>,
    pub gates: Vec<GateLine>,
    pub proration: Proration,
    /// The bonus before rounding (after proration and cap).
    pub bonus_exact: Decimal,
    pub lines: Vec<PayLine>,
    pub total: Decimal,
    /// The rules applied, in words, in the order they were applied.
    pub notes: Vec<String>,
    /// Contacts lost by the system (outside the agent's control): left out
    /// of every measure above.
    pub system_drops: i64,
    /// Contacts the agent handled in the period (for cost per contact).
    pub handled: i64,
}

impl Statement {
    /// Adds a line (rounded by the caller) and keeps the total its sum.
    pub fn push_line(&mut self, line: PayLine) {
        self.total += line.amount;
        self.lines.push(line);
    }

    /// The lines the plan's arithmetic produced (bonus, commission, the
    /// year's cap; not adjustments, not late data), summed: what late data
    /// and the cap per year are measured against.
    pub fn earned(&self) -> Decimal {
        self.lines
            .iter()
            .filter(|l| {
                matches!(
                    l.code,
                    PayCode::Bonus | PayCode::Commission | PayCode::YearCap
                )
            })
            .map(|l| l.amount)
            .sum()
    }
}

/// What one agent's statement is computed from.
pub struct StatementInputs<'a> {
    pub agent_id: &'a str,
    pub team_id: Option<&'a str>,
    /// The agent's figure of a definition, by name.
    pub measure: &'a dyn Fn(&str) -> Option<Measure>,
    /// The agent's team's figure of the plan's team KPI.
    pub team_measure: Option<Measure>,
    pub eligible_days: u32,
    pub working_days: u32,
    /// Decimals of the currency's minor unit (2 for EUR).
    pub minor_digits: u32,
    pub system_drops: i64,
    pub handled: i64,
    /// An estimate of a period still running: measures whose windows are
    /// open are scored as they stand.
    pub estimate: bool,
    /// What earlier approved periods of the calendar year earned (for the
    /// plan's cap per year).
    pub paid_this_year: Decimal,
}

fn scored(
    estimate: bool,
    measure: &Option<Measure>,
    minimum_sample: Option<i64>,
    target: Decimal,
    curve: &super::PayCurve,
) -> (Status, Option<Decimal>, Option<Decimal>) {
    let Some(m) = measure else {
        return (Status::NotEnoughData, None, None);
    };
    let sample = m.denominator.unwrap_or(m.numerator);
    let (Some(value), true) = (m.value, minimum_sample.is_none_or(|min| sample >= min)) else {
        return (Status::NotEnoughData, None, None);
    };
    if m.provisional && !estimate {
        return (Status::WindowOpen, None, None);
    }
    match attainment(value, target, m.direction()) {
        Some(a) => (Status::Scored, Some(a), Some(curve.factor(a))),
        None => (Status::NotEnoughData, None, None),
    }
}

/// Computes one agent's statement under `plan` (no adjustments yet).
pub fn statement(plan: &Plan, inputs: &StatementInputs<'_>) -> Statement {
    let mut notes = Vec::new();
    let components: Vec<ComponentLine> = plan
        .kpis
        .iter()
        .map(|k| {
            let measure = (inputs.measure)(&k.definition);
            let curve = plan.curve_of(k.curve.as_ref());
            let (status, attainment, factor) = scored(
                inputs.estimate,
                &measure,
                k.minimum_sample,
                k.target.0,
                &curve,
            );
            match status {
                Status::NotEnoughData => notes.push(format!(
                    "{}: not enough data{}; left out, the other weights scaled up",
                    k.definition,
                    k.minimum_sample
                        .map(|m| format!(" (fewer than {m})"))
                        .unwrap_or_default()
                )),
                Status::WindowOpen => notes.push(format!(
                    "{}: its measurement window has not closed; not paid on until it has",
                    k.definition
                )),
                Status::Scored => {}
            }
            ComponentLine {
                definition: k.definition.clone(),
                weight: k.weight.0,
                target: k.target.0,
                minimum_sample: k.minimum_sample,
                measure,
                status,
                attainment,
                factor,
            }
        })
        .collect();
    let score = individual_score(
        &components
            .iter()
            .map(|c| Component {
                weight: c.weight,
                factor: c.factor,
            })
            .collect::<Vec<_>>(),
    );
    let renormalised = score.is_some_and(|s| s.renormalised);
    let team = plan.team.as_ref().map(|t| {
        let measure = inputs.team_measure.clone();
        let (status, attainment, factor) = scored(
            inputs.estimate,
            &measure,
            None,
            t.target.0,
            &plan.curve_of(t.curve.as_ref()),
        );
        TeamLine {
            team_id: inputs.team_id.map(str::to_owned),
            definition: t.definition.clone(),
            target: t.target.0,
            measure,
            status,
            attainment,
            factor,
        }
    });
    let gates: Vec<GateLine> = plan
        .gates
        .iter()
        .map(|g| {
            let measure = (inputs.measure)(&g.definition);
            let value = measure.as_ref().and_then(|m| m.value);
            let passed = value.is_none_or(|v| g.passes(v));
            if value.is_none() {
                notes.push(format!(
                    "gate {}: no data in the period, so not applied",
                    g.definition
                ));
            } else if !passed {
                notes.push(format!(
                    "gate {} failed ({}): the plan pays 0",
                    g.definition,
                    gate_rule(g.at_most, g.at_least)
                ));
            }
            GateLine {
                definition: g.definition.clone(),
                at_most: g.at_most.map(|e| e.0),
                at_least: g.at_least.map(|e| e.0),
                measure,
                passed,
            }
        })
        .collect();
    let all_gates_pass = gates.iter().all(|g| g.passed);
    let factor = proration(inputs.eligible_days, inputs.working_days);
    if inputs.eligible_days < inputs.working_days {
        notes.push(format!(
            "prorated: {} of {} working days employed and not absent",
            inputs.eligible_days, inputs.working_days
        ));
    }
    if inputs.system_drops > 0 {
        notes.push(format!(
            "contacts dropped by the system, left out of every measure: {}",
            inputs.system_drops
        ));
    }
    let team_share = plan.team_share.map_or(Decimal::ZERO, |s| s.0);
    let team_factor = team.as_ref().and_then(|t| t.factor);
    let (individual_share, team_share, team_score) = match team_factor {
        Some(f) => (plan.individual_share.0, team_share, f),
        None if team_share > Decimal::ZERO => {
            notes
                .push("the team KPI has no data: its share is paid on the individual score".into());
            (Decimal::ONE, Decimal::ZERO, Decimal::ZERO)
        }
        None => (plan.individual_share.0, Decimal::ZERO, Decimal::ZERO),
    };
    let bonus_exact = match score {
        Some(s) if all_gates_pass => bonus(&BonusInputs {
            base: plan.base.0,
            individual_share,
            individual_score: s.value,
            team_share,
            team_score,
            proration: factor,
            cap: plan.cap.map(|c| c.0),
        }),
        _ => Decimal::ZERO,
    };
    if score.is_none() && !plan.kpis.is_empty() {
        notes.push("no KPI had enough data: no bonus this period".into());
    }
    let mut out = Statement {
        agent_id: inputs.agent_id.into(),
        team_id: inputs.team_id.map(str::to_owned),
        currency: plan.unit().to_owned(),
        components,
        individual_score: score.map(|s| s.value),
        renormalised,
        team,
        gates,
        proration: Proration {
            eligible_days: inputs.eligible_days,
            working_days: inputs.working_days,
            factor,
        },
        bonus_exact,
        lines: Vec::new(),
        total: Decimal::ZERO,
        notes,
        system_drops: inputs.system_drops,
        handled: inputs.handled,
    };
    if !plan.kpis.is_empty() {
        out.push_line(PayLine {
            code: PayCode::Bonus,
            description: format!("{} bonus", plan.name),
            amount: round_money(bonus_exact, inputs.minor_digits),
            adjustment_id: None,
            corrects_run: None,
        });
    }
    if let Some(c) = &plan.commission {
        let measure = (inputs.measure)(&c.definition);
        // Money figures are in minor units; the plan's rates and quota in
        // the currency's major unit.
        let value = measure
            .as_ref()
            .and_then(|m| m.value)
            .map_or(Decimal::ZERO, |v| {
                v / Decimal::from(10i64.pow(inputs.minor_digits))
            });
        let amount = if all_gates_pass {
            c.on(value)
        } else {
            Decimal::ZERO
        };
        out.push_line(PayLine {
            code: PayCode::Commission,
            description: format!("commission on {value} {} of {}", plan.unit(), c.definition),
            amount: round_money(amount, inputs.minor_digits),
            adjustment_id: None,
            corrects_run: None,
        });
    }
    if let Some(cap) = plan.cap_per_year {
        let room = (cap.0 - inputs.paid_this_year).max(Decimal::ZERO);
        let earned = out.earned();
        if earned > room {
            out.notes.push(format!(
                "capped at {} a year: {} earned in earlier periods of the year",
                cap.0, inputs.paid_this_year
            ));
            out.push_line(PayLine {
                code: PayCode::YearCap,
                description: format!("cap per year of {}", cap.0),
                amount: round_money(room - earned, inputs.minor_digits),
                adjustment_id: None,
                corrects_run: None,
            });
        }
    }
    out
}

fn gate_rule(at_most: Option<Exact>, at_least: Option<Exact>) -> String {
    [
        at_most.map(|m| format!("at most {}", m.0)),
        at_least.map(|l| format!("at least {}", l.0)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

/// The KPI whose improvement would raise the bonus most: for each scored
/// KPI, the bonus when its attainment is `step` higher, all else equal.
/// Returns the definition and the gain before rounding; on a tie, the KPI
/// the plan lists first.
pub fn best_lever(plan: &Plan, statement: &Statement, step: Decimal) -> Option<(String, Decimal)> {
    let bonus_with = |components: &[Component]| -> Decimal {
        let Some(score) = individual_score(components) else {
            return Decimal::ZERO;
        };
        let team = statement.team.as_ref().and_then(|t| t.factor);
        bonus(&BonusInputs {
            base: plan.base.0,
            individual_share: if team.is_some() || plan.team.is_none() {
                plan.individual_share.0
            } else {
                Decimal::ONE
            },
            individual_score: score.value,
            team_share: team.map_or(Decimal::ZERO, |_| {
                plan.team_share.map_or(Decimal::ZERO, |s| s.0)
            }),
            team_score: team.unwrap_or_default(),
            proration: statement.proration.factor,
            cap: plan.cap.map(|c| c.0),
        })
    };
    let now: Vec<Component> = statement
        .components
        .iter()
        .map(|c| Component {
            weight: c.weight,
            factor: c.factor,
        })
        .collect();
    let base = bonus_with(&now);
    statement
        .components
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let a = c.attainment? + step;
            let k = plan.kpis.iter().find(|k| k.definition == c.definition)?;
            let mut better = now.clone();
            better[i].factor = Some(plan.curve_of(k.curve.as_ref()).factor(a));
            Some((c.definition.clone(), bonus_with(&better) - base))
        })
        .filter(|(_, gain)| *gain > Decimal::ZERO)
        // On a tie the KPI listed first in the plan.
        .fold(None, |best: Option<(String, Decimal)>, next| match &best {
            Some((_, gain)) if *gain >= next.1 => best,
            _ => Some(next),
        })
}
