//! Incentive plans as written (docs/formats.md, "Incentive plans"): who a
//! plan applies to, its pay frequency and currency, the weighted KPIs with
//! their targets, curves and minimum samples, the team component, gates,
//! base and cap. Decimals are written as text ("0.35") so they stay exact.

use super::PayCurve;
use crate::metrics::Kpi;
use jiff::Span;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use std::str::FromStr;

/// A decimal written as text or a whole number; a float is refused, since
/// binary floats cannot hold most decimals exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Exact(pub Decimal);

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Exact;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a decimal written as text, e.g. \"0.35\", or a whole number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Exact, E> {
                Decimal::from_str(v.trim())
                    .map(Exact)
                    .map_err(|_| E::custom(format!("{v:?} is not a decimal number")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Exact, E> {
                Ok(Exact(Decimal::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Exact, E> {
                Ok(Exact(Decimal::from(v)))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Exact, E> {
                Err(E::custom(format!(
                    "write {v} as text (\"{v}\") so that it stays exact"
                )))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Weekly,
    Monthly,
    Quarterly,
}

/// Who a plan applies to: agents of these teams or sites, or these agents;
/// all empty: every agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppliesTo {
    pub teams: Vec<String>,
    pub sites: Vec<String>,
    pub agents: Vec<String>,
}

/// One KPI of the individual scorecard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanKpi {
    /// A KPI definition's name (`csat`, `qa_score`, ...).
    pub definition: String,
    pub target: Exact,
    pub weight: Exact,
    /// Fewer rows in its denominator than this: "not enough data".
    #[serde(default)]
    pub minimum_sample: Option<i64>,
    /// Default: the plan's curve.
    #[serde(default)]
    pub curve: Option<PayCurve>,
}

/// The team's share: one KPI of the agent's team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamKpi {
    pub definition: String,
    pub target: Exact,
    #[serde(default)]
    pub curve: Option<PayCurve>,
}

/// A condition the whole plan pays on: a KPI at most or at least a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    pub definition: String,
    #[serde(default)]
    pub at_most: Option<Exact>,
    #[serde(default)]
    pub at_least: Option<Exact>,
}

impl Gate {
    /// Whether `value` passes the gate.
    pub fn passes(&self, value: Decimal) -> bool {
        self.at_most.is_none_or(|m| value <= m.0) && self.at_least.is_none_or(|l| value >= l.0)
    }
}

/// What a plan pays in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reward {
    #[default]
    Money,
    /// Hours of paid time off.
    PtoHours,
    Points,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub name: String,
    pub frequency: Frequency,
    /// Money (the default), paid-time-off hours or points.
    #[serde(default)]
    pub reward: Reward,
    /// ISO 4217, e.g. EUR: for a plan paying money, and only then.
    #[serde(default)]
    pub currency: String,
    /// The amount at target of the scorecard; 0 for a commission-only plan.
    #[serde(default = "Exact::zero")]
    pub base: Exact,
    #[serde(default)]
    pub cap: Option<Exact>,
    /// The most a calendar year pays an agent (earlier approved periods of
    /// the year count against it).
    #[serde(default)]
    pub cap_per_year: Option<Exact>,
    #[serde(default = "Exact::one")]
    pub individual_share: Exact,
    #[serde(default)]
    pub team_share: Option<Exact>,
    #[serde(default)]
    pub applies_to: AppliesTo,
    /// The curve of every KPI without its own; default SPEC.md's.
    #[serde(default)]
    pub curve: Option<PayCurve>,
    #[serde(default)]
    pub kpis: Vec<PlanKpi>,
    #[serde(default)]
    pub team: Option<TeamKpi>,
    #[serde(default)]
    pub gates: Vec<Gate>,
    #[serde(default)]
    pub commission: Option<Commission>,
}

/// Sales commission on a money measure (`retained_value`): `rate` of the
/// value up to `quota`, `rate_above` of the rest; contracts cancelled within
/// `clawback_days` are clawed back in the next period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commission {
    pub definition: String,
    pub rate: Exact,
    #[serde(default)]
    pub quota: Option<Exact>,
    #[serde(default)]
    pub rate_above: Option<Exact>,
    #[serde(default)]
    pub clawback_days: Option<i64>,
}

impl Commission {
    /// Commission on `value`: rate × min(value, quota) + rate_above ×
    /// max(value − quota, 0); without a quota, rate × value.
    pub fn on(&self, value: Decimal) -> Decimal {
        match (self.quota, self.rate_above) {
            (Some(quota), Some(above)) if value > quota.0 => {
                self.rate.0 * quota.0 + above.0 * (value - quota.0)
            }
            _ => self.rate.0 * value,
        }
    }

    /// What is clawed back when `cancelled` of the `paid_on` value is
    /// cancelled: the commission paid less the commission the rest earns.
    pub fn clawback(&self, paid_on: Decimal, cancelled: Decimal) -> Decimal {
        let kept = (paid_on - cancelled).max(Decimal::ZERO);
        self.on(paid_on) - self.on(kept)
    }
}

impl Exact {
    fn zero() -> Self {
        Exact(Decimal::ZERO)
    }
    fn one() -> Self {
        Exact(Decimal::ONE)
    }
}

/// A rule a plan breaks: the field (a path such as `kpis[2].weight`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct PlanError {
    pub field: String,
    pub reason: String,
}

impl Plan {
    /// What its amounts are in: the currency, `HOURS` or `POINTS`.
    pub fn unit(&self) -> &str {
        match self.reward {
            Reward::Money => &self.currency,
            Reward::PtoHours => "HOURS",
            Reward::Points => "POINTS",
        }
    }

    /// The curve a KPI is scored on.
    pub fn curve_of<'a>(&'a self, own: Option<&'a PayCurve>) -> PayCurve {
        own.or(self.curve.as_ref())
            .cloned()
            .unwrap_or_else(PayCurve::spec_default)
    }

    /// Checks the rules a plan keeps before it is published.
    pub fn check(&self) -> Result<(), PlanError> {
        let fail = |field: String, reason: String| Err(PlanError { field, reason });
        if self.name.trim().is_empty() {
            return fail("name".into(), "a plan needs a name".into());
        }
        match self.reward {
            Reward::Money
                if self.currency.len() != 3
                    || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) =>
            {
                return fail(
                    "currency".into(),
                    format!("{:?} is not an ISO 4217 code", self.currency),
                );
            }
            Reward::PtoHours | Reward::Points if !self.currency.is_empty() => {
                return fail(
                    "currency".into(),
                    "a plan paying hours or points has no currency".into(),
                );
            }
            Reward::PtoHours | Reward::Points if self.commission.is_some() => {
                return fail(
                    "commission".into(),
                    "commission is paid in money: set reward = \"money\"".into(),
                );
            }
            _ => {}
        }
        if let Some(cap) = self.cap_per_year
            && cap.0 < Decimal::ZERO
        {
            return fail("cap_per_year".into(), "cannot be negative".into());
        }
        if self.base.0 < Decimal::ZERO {
            return fail("base".into(), "cannot be negative".into());
        }
        if let Some(cap) = self.cap
            && cap.0 < Decimal::ZERO
        {
            return fail("cap".into(), "cannot be negative".into());
        }
        let team_share = self.team_share.map_or(Decimal::ZERO, |s| s.0);
        if self.individual_share.0 + team_share != Decimal::ONE {
            return fail(
                "individual_share".into(),
                format!(
                    "individual_share + team_share must be 1, not {}",
                    self.individual_share.0 + team_share
                ),
            );
        }
        if team_share > Decimal::ZERO && self.team.is_none() {
            return fail("team".into(), "a team share needs its team KPI".into());
        }
        if self.kpis.is_empty() && self.commission.is_none() {
            return fail(
                "kpis".into(),
                "a plan scores at least one KPI, or pays commission".into(),
            );
        }
        if let Some(c) = &self.commission {
            let rates = [Some(c.rate), c.rate_above].into_iter().flatten();
            if rates
                .clone()
                .any(|r| r.0 < Decimal::ZERO || r.0 > Decimal::ONE)
            {
                return fail(
                    "commission".into(),
                    "rates are shares from 0 to 1 (\"0.04\" for 4 %)".into(),
                );
            }
            if c.quota.is_some() != c.rate_above.is_some() {
                return fail(
                    "commission".into(),
                    "a quota goes with rate_above, and only with it".into(),
                );
            }
        }
        for (i, kpi) in self.kpis.iter().enumerate() {
            if kpi.weight.0 <= Decimal::ZERO {
                return fail(
                    format!("kpis[{i}].weight"),
                    format!("{} is not above 0", kpi.weight.0),
                );
            }
            if kpi.target.0 <= Decimal::ZERO {
                return fail(
                    format!("kpis[{i}].target"),
                    format!("{} is not above 0", kpi.target.0),
                );
            }
            if let Some(curve) = &kpi.curve {
                curve.check().map_err(|reason| PlanError {
                    field: format!("kpis[{i}].curve"),
                    reason,
                })?;
            }
        }
        let weights: Decimal = self.kpis.iter().map(|k| k.weight.0).sum();
        if !self.kpis.is_empty() && weights != Decimal::ONE {
            return fail(
                "kpis".into(),
                format!("the weights sum to {weights}, not 1"),
            );
        }
        if let Some(curve) = &self.curve {
            curve.check().map_err(|reason| PlanError {
                field: "curve".into(),
                reason,
            })?;
        }
        for (i, gate) in self.gates.iter().enumerate() {
            if gate.at_most.is_none() && gate.at_least.is_none() {
                return fail(format!("gates[{i}]"), "give at_most or at_least".into());
            }
        }
        Ok(())
    }
}

/// KPIs that reward speed: paying on them alone invites short calls and
/// early transfers (seed 001; SCENARIOS.md, day 31).
const SPEED: &[Kpi] = &[
    Kpi::Aht,
    Kpi::TalkTime,
    Kpi::HoldTime,
    Kpi::AfterCallWork,
    Kpi::Asa,
    Kpi::FirstResponseTime,
    Kpi::ResolutionTime,
    Kpi::ContactsPerHour,
];

/// KPIs that guard quality against speed.
const QUALITY_GUARDS: &[Kpi] = &[
    Kpi::QaScore,
    Kpi::QaAutoFailRate,
    Kpi::Csat,
    Kpi::CsatMean,
    Kpi::Nps,
    Kpi::FcrRepeat,
    Kpi::FcrSurvey,
    Kpi::TransferRate,
];

impl Plan {
    /// What the plan editor warns about (the plan is still valid):
    /// speed rewarded with no quality guard among its KPIs or gates.
    /// `kpi_of` names the KPI a definition measures.
    pub fn warnings(&self, kpi_of: &dyn Fn(&str) -> Option<Kpi>) -> Vec<String> {
        let rewarded: Vec<&str> = self
            .kpis
            .iter()
            .map(|k| k.definition.as_str())
            .filter(|d| kpi_of(d).is_some_and(|k| SPEED.contains(&k)))
            .collect();
        let guarded = self
            .kpis
            .iter()
            .map(|k| k.definition.as_str())
            .chain(self.gates.iter().map(|g| g.definition.as_str()))
            .chain(self.team.iter().map(|t| t.definition.as_str()))
            .any(|d| kpi_of(d).is_some_and(|k| QUALITY_GUARDS.contains(&k)));
        if rewarded.is_empty() || guarded {
            return Vec::new();
        }
        vec![format!(
            "this plan rewards speed ({}) with no quality guard: add a KPI or a gate on QA score, first-contact resolution, CSAT or transfer rate, or expect shorter calls, more transfers and more repeat contacts",
            rewarded.join(", ")
        )]
    }
}

impl Frequency {
    /// The pay period holding local day `day`: its first and last day.
    /// Weeks run Monday to Sunday; quarters start in January, April, July
    /// and October.
    pub fn period_of(self, day: Date) -> (Date, Date) {
        match self {
            Frequency::Weekly => {
                let monday = day
                    .checked_sub(Span::new().days(i64::from(day.weekday().to_monday_zero_offset())))
                    .unwrap_or(day);
                (
                    monday,
                    monday.checked_add(Span::new().days(6)).unwrap_or(day),
                )
            }
            Frequency::Monthly => (day.first_of_month(), day.last_of_month()),
            Frequency::Quarterly => {
                let first_month = (day.month() - 1) / 3 * 3 + 1;
                let first = Date::new(day.year(), first_month, 1).unwrap_or(day);
                let last = first
                    .checked_add(Span::new().months(2))
                    .map_or(day, |d| d.last_of_month());
                (first, last)
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
        }
    }
}

impl AppliesTo {
    /// Whether an agent of `team` (on the period's last day employed) at
    /// `site` is covered.
    pub fn includes(&self, agent: &str, team: Option<&str>, site: &str) -> bool {
        let everyone = self.teams.is_empty() && self.sites.is_empty() && self.agents.is_empty();
        everyone
            || self.agents.iter().any(|a| a == agent)
            || self.sites.iter().any(|s| s == site)
            || team.is_some_and(|t| self.teams.iter().any(|x| x == t))
    }
}

/// Working days (Monday to Friday) of a period, and those of them on which
/// the agent was employed (hire date to last day) and not absent.
pub fn working_days(
    (from, to): (Date, Date),
    employed: (Date, Option<Date>),
    absent: &dyn Fn(Date) -> bool,
) -> (u32, u32) {
    let (mut eligible, mut working) = (0, 0);
    for day in crate::metrics::workforce::days_from_to(from, to) {
        if day.weekday().to_monday_zero_offset() >= 5 {
            continue;
        }
        working += 1;
        let employed = employed.0 <= day && employed.1.is_none_or(|end| day <= end);
        if employed && !absent(day) {
            eligible += 1;
        }
    }
    (eligible, working)
}
