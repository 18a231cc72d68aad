//! Incentive arithmetic (SPEC.md, "Incentive arithmetic"; docs/metrics.md,
//! "Pay"): attainment of a KPI against its target, pay curves (the default
//! curve with its accelerator, steps, linear between points, with floors
//! and caps), the weighted individual score with "not enough data"
//! renormalised away, and the bonus with team share, proration and cap.
//! Exact decimals throughout; money is rounded once per line, half to even.

pub mod plan;
pub mod statement;

use crate::metrics::Direction;
pub use rust_decimal::Decimal;
use rust_decimal::RoundingStrategy;
use serde::{Deserialize, Serialize};

/// Attainment of `actual` against `target`: actual ÷ target when higher is
/// better, target ÷ actual when lower is better (AHT). For rates, the ratio
/// of the rates. `None` when the divisor is 0.
pub fn attainment(actual: Decimal, target: Decimal, direction: Direction) -> Option<Decimal> {
    let (numerator, denominator) = match direction {
        Direction::HigherIsBetter => (actual, target),
        Direction::LowerIsBetter => (target, actual),
    };
    numerator.checked_div(denominator)
}

/// The shape of a pay curve: attainment in, payout factor out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CurveShape {
    /// SPEC.md's default: 0 below `threshold`; from 0 at `threshold` rising
    /// linearly to 1 at 1.00; above 1.00 `accelerator` times that slope.
    Default {
        threshold: Decimal,
        accelerator: Decimal,
    },
    /// Tiers: the payout of the highest step whose attainment is reached;
    /// 0 below the first. Steps are (attainment, payout), ascending.
    Steps { steps: Vec<(Decimal, Decimal)> },
    /// Linear between (attainment, payout) points, ascending; flat beyond
    /// the first and the last.
    Linear { points: Vec<(Decimal, Decimal)> },
}

/// A pay curve with its optional floor and cap on the payout factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayCurve {
    #[serde(flatten)]
    pub shape: CurveShape,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Decimal>,
}

impl PayCurve {
    /// SPEC.md's default curve: threshold 0.80, accelerator 1.5, no floor or cap.
    pub fn spec_default() -> Self {
        PayCurve {
            shape: CurveShape::Default {
                threshold: Decimal::new(80, 2),
                accelerator: Decimal::new(15, 1),
            },
            floor: None,
            cap: None,
        }
    }

    /// The payout factor f(a) at attainment `a`.
    pub fn factor(&self, a: Decimal) -> Decimal {
        let raw = match &self.shape {
            CurveShape::Default {
                threshold,
                accelerator,
            } => {
                let slope = Decimal::ONE / (Decimal::ONE - threshold);
                if a < *threshold {
                    Decimal::ZERO
                } else if a <= Decimal::ONE {
                    (a - threshold) * slope
                } else {
                    Decimal::ONE + accelerator * slope * (a - Decimal::ONE)
                }
            }
            CurveShape::Steps { steps } => steps
                .iter()
                .take_while(|(from, _)| *from <= a)
                .last()
                .map_or(Decimal::ZERO, |(_, payout)| *payout),
            CurveShape::Linear { points } => linear(points, a),
        };
        let floored = self.floor.map_or(raw, |f| raw.max(f));
        self.cap.map_or(floored, |c| floored.min(c))
    }

    /// Checks the curve's points: ascending attainment, a threshold below 1.
    pub fn check(&self) -> Result<(), String> {
        let ascending = |points: &[(Decimal, Decimal)]| {
            !points.is_empty() && points.windows(2).all(|w| w[0].0 < w[1].0)
        };
        match &self.shape {
            CurveShape::Default {
                threshold,
                accelerator,
            } => {
                if *threshold < Decimal::ZERO || *threshold >= Decimal::ONE {
                    return Err(format!("threshold {threshold} is not from 0 to below 1"));
                }
                if *accelerator < Decimal::ZERO {
                    return Err(format!("accelerator {accelerator} is negative"));
                }
            }
            CurveShape::Steps { steps } if !ascending(steps) => {
                return Err("steps need at least one, in ascending attainment".into());
            }
            CurveShape::Linear { points } if !ascending(points) => {
                return Err("points need at least one, in ascending attainment".into());
            }
            _ => {}
        }
        if let (Some(floor), Some(cap)) = (self.floor, self.cap)
            && floor > cap
        {
            return Err(format!("floor {floor} is above cap {cap}"));
        }
        Ok(())
    }
}

/// Linear interpolation between ascending points, flat beyond the ends.
fn linear(points: &[(Decimal, Decimal)], a: Decimal) -> Decimal {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Decimal::ZERO;
    };
    if a <= first.0 {
        return first.1;
    }
    if a >= last.0 {
        return last.1;
    }
    points.windows(2).find(|w| a <= w[1].0).map_or(last.1, |w| {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        y0 + (y1 - y0) * (a - x0) / (x1 - x0)
    })
}

/// One KPI's place in an individual score: its weight and its payout
/// factor, or `None` for "not enough data".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    pub weight: Decimal,
    pub factor: Option<Decimal>,
}

/// An individual score and whether weights were scaled up to cover KPIs
/// without enough data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndividualScore {
    pub value: Decimal,
    pub renormalised: bool,
}

/// Σ weight × f(attainment) over the KPIs with data; when some have none,
/// the remaining weights are scaled up to sum to what all weights sum to.
/// `None` when no KPI has data.
pub fn individual_score(components: &[Component]) -> Option<IndividualScore> {
    let all: Decimal = components.iter().map(|c| c.weight).sum();
    let with_data: Decimal = components
        .iter()
        .filter(|c| c.factor.is_some())
        .map(|c| c.weight)
        .sum();
    if with_data.is_zero() {
        return None;
    }
    let sum: Decimal = components
        .iter()
        .filter_map(|c| Some(c.weight * c.factor?))
        .sum();
    let renormalised = with_data != all;
    Some(IndividualScore {
        value: if renormalised {
            sum * all / with_data
        } else {
            sum
        },
        renormalised,
    })
}

/// What a plan's bonus is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BonusInputs {
    pub base: Decimal,
    pub individual_share: Decimal,
    pub individual_score: Decimal,
    pub team_share: Decimal,
    pub team_score: Decimal,
    /// Days employed and not absent ÷ working days in the period.
    pub proration: Decimal,
    /// The most one period pays before proration; `None`: no cap.
    pub cap: Option<Decimal>,
}

/// The bonus before rounding: base × (individual share × individual score
/// + team share × team score) × proration, capped at cap × proration.
pub fn bonus(inputs: &BonusInputs) -> Decimal {
    let i = inputs;
    let earned = i.base
        * (i.individual_share * i.individual_score + i.team_share * i.team_score)
        * i.proration;
    match i.cap {
        Some(cap) => earned.min(cap * i.proration),
        None => earned,
    }
}

/// Days employed and not absent ÷ working days; 0 when there are none.
pub fn proration(eligible_days: u32, working_days: u32) -> Decimal {
    if working_days == 0 {
        return Decimal::ZERO;
    }
    Decimal::from(eligible_days.min(working_days)) / Decimal::from(working_days)
}

/// An amount rounded once to the currency's minor unit (`minor_digits`
/// decimals, 2 for EUR), half to even, with all its decimals.
pub fn round_money(amount: Decimal, minor_digits: u32) -> Decimal {
    let mut rounded =
        amount.round_dp_with_strategy(minor_digits, RoundingStrategy::MidpointNearestEven);
    // Always written with every minor digit: 0.00, 12.50.
    rounded.rescale(minor_digits);
    rounded
}

/// Decimals of the minor unit of the currencies Merit pays in (cents).
pub const MINOR_DIGITS: u32 = 2;

/// An amount already rounded to the minor unit, in minor units (cents).
pub fn to_minor(amount: Decimal) -> i64 {
    i64::try_from(round_money(amount, MINOR_DIGITS) * Decimal::ONE_HUNDRED).unwrap_or(i64::MAX)
}

/// Minor units (cents) as a decimal amount.
pub fn from_minor(minor: i64) -> Decimal {
    Decimal::new(minor, MINOR_DIGITS)
}
