//! Targets: a goal for a definition's value, for the centre, a team or an
//! agent, effective-dated, with green/amber/red zones and a direction.

use crate::metrics::definition::Direction;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Who a target is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum TargetScope {
    Centre,
    Team(String),
    Agent(String),
}

impl TargetScope {
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once(':') {
            None if text == "centre" => Some(Self::Centre),
            Some(("team", id)) if !id.is_empty() => Some(Self::Team(id.into())),
            Some(("agent", id)) if !id.is_empty() => Some(Self::Agent(id.into())),
            _ => None,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Self::Centre => "centre".into(),
            Self::Team(id) => format!("team:{id}"),
            Self::Agent(id) => format!("agent:{id}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    Green,
    Amber,
    Red,
}

/// A target in the definition's unit (percent, seconds, …). Green when the
/// value meets the target, amber when it misses it but meets `amber_limit`,
/// red beyond. Never edited: a change is a new target from a later day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub definition: String,
    pub scope: TargetScope,
    pub effective_from: Date,
    pub target: f64,
    pub amber_limit: f64,
    pub direction: Direction,
    pub recorded_ms: i64,
    pub recorded_by: String,
}

impl Target {
    /// Checks the amber limit lies on the losing side of the target.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.target.is_finite() || !self.amber_limit.is_finite() {
            return Err(("target", "must be a number".into()));
        }
        let ok = match self.direction {
            Direction::HigherIsBetter => self.amber_limit <= self.target,
            Direction::LowerIsBetter => self.amber_limit >= self.target,
        };
        if !ok {
            return Err((
                "amber",
                format!(
                    "{} must be on the worse side of the target {} ({})",
                    self.amber_limit,
                    self.target,
                    match self.direction {
                        Direction::HigherIsBetter => "higher is better: amber ≤ target",
                        Direction::LowerIsBetter => "lower is better: amber ≥ target",
                    }
                ),
            ));
        }
        Ok(())
    }

    pub fn zone(&self, value: f64) -> Zone {
        let (meets, within) = match self.direction {
            Direction::HigherIsBetter => (value >= self.target, value >= self.amber_limit),
            Direction::LowerIsBetter => (value <= self.target, value <= self.amber_limit),
        };
        if meets {
            Zone::Green
        } else if within {
            Zone::Amber
        } else {
            Zone::Red
        }
    }
}

/// The target in force for a definition and scope on a day: the latest
/// recorded among those effective on or before it.
pub fn target_on<'t>(
    targets: &'t [Target],
    definition: &str,
    scope: &TargetScope,
    day: Date,
) -> Option<&'t Target> {
    targets
        .iter()
        .filter(|t| t.definition == definition && &t.scope == scope && t.effective_from <= day)
        .max_by_key(|t| (t.effective_from, t.recorded_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn target(direction: Direction, target: f64, amber_limit: f64) -> Target {
        Target {
            definition: "service_level".into(),
            scope: TargetScope::Centre,
            effective_from: date(2026, 8, 1),
            target,
            amber_limit,
            direction,
            recorded_ms: 0,
            recorded_by: "test".into(),
        }
    }

    #[test]
    fn zones_follow_the_direction() {
        let sl = target(Direction::HigherIsBetter, 80.0, 75.0);
        assert_eq!(
            [sl.zone(80.0), sl.zone(77.0), sl.zone(74.9)],
            [Zone::Green, Zone::Amber, Zone::Red]
        );
        let aht = target(Direction::LowerIsBetter, 300.0, 330.0);
        assert_eq!(
            [aht.zone(300.0), aht.zone(330.0), aht.zone(331.0)],
            [Zone::Green, Zone::Amber, Zone::Red]
        );
        assert!(
            target(Direction::HigherIsBetter, 80.0, 85.0)
                .validate()
                .is_err()
        );
        assert!(
            target(Direction::LowerIsBetter, 300.0, 250.0)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn the_target_in_force_is_the_latest_effective_one() {
        let mut later = target(Direction::HigherIsBetter, 85.0, 80.0);
        later.effective_from = date(2026, 9, 1);
        let targets = [target(Direction::HigherIsBetter, 80.0, 75.0), later];
        let on =
            |day| target_on(&targets, "service_level", &TargetScope::Centre, day).map(|t| t.target);
        assert_eq!(on(date(2026, 7, 31)), None);
        assert_eq!(on(date(2026, 8, 31)), Some(80.0));
        assert_eq!(on(date(2026, 9, 1)), Some(85.0));
        assert_eq!(
            TargetScope::parse("team:A"),
            Some(TargetScope::Team("A".into()))
        );
        assert_eq!(TargetScope::parse("site:1"), None);
    }
}
