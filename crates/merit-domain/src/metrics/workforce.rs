//! Agent time per local day, from agent states, schedules and employment:
//! the facts behind occupancy, utilisation, adherence, conformance,
//! contacts per hour and attrition.

use crate::UtcMs;
use crate::activity::{Activity, AgentState};
use crate::organisation::Agent;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

/// One agent's state changes and schedule, as read from the store.
#[derive(Debug, Clone, Default)]
pub struct AgentActivity {
    /// State changes in time order.
    pub states: Vec<(UtcMs, AgentState)>,
    /// Scheduled segments: start, end, activity.
    pub schedule: Vec<(UtcMs, UtcMs, Activity)>,
}

/// One agent's time on one local day, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentDay {
    /// Any state but logged out.
    pub logged_in_ms: i64,
    /// State ready (handling contacts included: the platforms we read have
    /// no separate "on a contact" state).
    pub ready_ms: i64,
    pub scheduled_ms: i64,
    pub scheduled_on_queue_ms: i64,
    /// Scheduled time in the wrong state: not ready during on-queue
    /// segments, ready during any other activity.
    pub out_of_adherence_ms: i64,
    /// Employed on that day (hire date to end of employment).
    pub employed: bool,
    /// Left employment on that day, with the reason.
    pub left: Option<crate::organisation::EmploymentEndReason>,
}

/// Agent days keyed by (agent id, local day).
pub type AgentDays = BTreeMap<(String, Date), AgentDay>;

/// Every day from `from` to `to`, both included.
pub fn days_from_to(from: Date, to: Date) -> impl Iterator<Item = Date> {
    from.series(jiff::Span::new().days(1))
        .take_while(move |day| *day <= to)
}

fn midnight_after(zone: &TimeZone, at_ms: i64) -> (Date, i64) {
    let day = jiff::Timestamp::from_millisecond(at_ms)
        .map(|t| t.to_zoned(zone.clone()).date())
        .unwrap_or(Date::MIN);
    let next = day
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned(zone.clone()).ok())
        .map_or(i64::MAX, |z| z.timestamp().as_millisecond());
    (day, next)
}

/// Splits `[start, end)` at local midnights and calls `f(day, ms)` per piece.
fn by_day(zone: &TimeZone, start: i64, end: i64, mut f: impl FnMut(Date, i64)) {
    let mut at = start;
    while at < end {
        let (day, next) = midnight_after(zone, at);
        let piece_end = end.min(next);
        f(day, piece_end - at);
        at = piece_end;
    }
}

/// Works out every agent's days from `from` to `to` (local, inclusive).
/// `zone_of(agent)` gives the agent's site zone.
pub fn agent_days<'z>(
    agents: &[Agent],
    activity: &BTreeMap<String, AgentActivity>,
    from: Date,
    to: Date,
    zone_of: impl Fn(&str) -> &'z TimeZone,
) -> AgentDays {
    let mut days = AgentDays::new();
    for agent in agents {
        for day in days_from_to(from, to) {
            let employed =
                agent.hire_date <= day && agent.employment_end_date.is_none_or(|end| day <= end);
            if employed {
                let entry = days.entry((agent.id.clone(), day)).or_default();
                entry.employed = true;
                if agent.employment_end_date == Some(day) {
                    entry.left = agent.employment_end_reason;
                }
            }
        }
    }
    for (agent_id, a) in activity {
        let zone = zone_of(agent_id);
        let in_period = |day: Date| from <= day && day <= to;
        let mut add = |start: i64, end: i64, apply: &dyn Fn(&mut AgentDay, i64)| {
            by_day(zone, start, end, |day, ms| {
                if in_period(day) {
                    apply(days.entry((agent_id.clone(), day)).or_default(), ms);
                }
            });
        };
        for pair in a.states.windows(2) {
            let ((start, state), (end, _)) = (pair[0], pair[1]);
            if state != AgentState::LoggedOut {
                add(start, end, &|d, ms| d.logged_in_ms += ms);
            }
            if state == AgentState::Ready {
                add(start, end, &|d, ms| d.ready_ms += ms);
            }
        }
        for &(start, end, activity) in &a.schedule {
            let on_queue = activity == Activity::OnQueue;
            add(start, end, &|d, ms| {
                d.scheduled_ms += ms;
                if on_queue {
                    d.scheduled_on_queue_ms += ms;
                }
            });
            // Out of adherence: the state this segment wants, missed.
            for (piece_start, piece_end, ready) in state_pieces(&a.states, start, end) {
                if ready != on_queue {
                    add(piece_start, piece_end, &|d, ms| d.out_of_adherence_ms += ms);
                }
            }
        }
    }
    days
}

/// `[start, end)` cut at state changes: (start, end, agent was ready).
fn state_pieces(states: &[(UtcMs, AgentState)], start: i64, end: i64) -> Vec<(i64, i64, bool)> {
    let mut pieces = Vec::new();
    let mut at = start;
    let first = states.partition_point(|(t, _)| *t <= start);
    let mut ready = first > 0 && states[first - 1].1 == AgentState::Ready;
    for &(t, state) in &states[first..] {
        if t >= end {
            break;
        }
        if t > at {
            pieces.push((at, t, ready));
            at = t;
        }
        ready = state == AgentState::Ready;
    }
    if end > at {
        pieces.push((at, end, ready));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const H: i64 = 3_600_000;
    /// 2026-08-03 00:00 UTC.
    const T0: i64 = 1_785_715_200_000;

    fn agent(id: &str) -> Agent {
        Agent {
            id: id.into(),
            name: id.into(),
            site_id: "s".into(),
            hire_date: date(2026, 1, 1),
            employment_end_date: None,
            employment_end_reason: None,
        }
    }

    #[test]
    fn adherence_counts_the_wrong_state_during_each_segment() {
        // Scheduled 08-12 on queue, 12-13 lunch, 13-17 on queue. Logged in at
        // 08:30 (ready), not ready 11:50-13:10, ready to 17:00, logged out.
        use AgentState::*;
        let activity = AgentActivity {
            states: vec![
                (T0 + 8 * H + H / 2, LoggedIn),
                (T0 + 8 * H + H / 2, Ready),
                (T0 + 11 * H + 50 * 60_000, NotReady),
                (T0 + 13 * H + 10 * 60_000, Ready),
                (T0 + 17 * H, LoggedOut),
            ],
            schedule: vec![
                (T0 + 8 * H, T0 + 12 * H, Activity::OnQueue),
                (T0 + 12 * H, T0 + 13 * H, Activity::Lunch),
                (T0 + 13 * H, T0 + 17 * H, Activity::OnQueue),
            ],
        };
        let all = BTreeMap::from([("a".to_owned(), activity)]);
        let utc = TimeZone::UTC;
        let days = agent_days(
            &[agent("a")],
            &all,
            date(2026, 8, 3),
            date(2026, 8, 3),
            |_| &utc,
        );
        let d = days[&("a".to_owned(), date(2026, 8, 3))];
        let minutes = |m: i64| m * 60_000;
        assert_eq!(d.logged_in_ms, minutes(8 * 60 + 30));
        assert_eq!(d.ready_ms, minutes(8 * 60 + 30 - 80));
        assert_eq!((d.scheduled_ms, d.scheduled_on_queue_ms), (9 * H, 8 * H));
        // Out: 08:00-08:30 not logged in, 11:50-12:00 not ready, 13:00-13:10 not ready.
        assert_eq!(d.out_of_adherence_ms, minutes(30 + 10 + 10));
        assert!(d.employed);
    }

    #[test]
    fn time_is_split_at_local_midnight_and_employment_bounds_headcount() {
        use AgentState::*;
        // A night shift 22:00-02:00 Berlin (summer: UTC+2) = 20:00-24:00 UTC.
        let activity = AgentActivity {
            states: vec![(T0 + 20 * H, Ready), (T0 + 24 * H, LoggedOut)],
            schedule: vec![],
        };
        let mut leaver = agent("a");
        leaver.employment_end_date = Some(date(2026, 8, 4));
        leaver.employment_end_reason = Some(crate::organisation::EmploymentEndReason::Voluntary);
        let all = BTreeMap::from([("a".to_owned(), activity)]);
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let days = agent_days(&[leaver], &all, date(2026, 8, 3), date(2026, 8, 5), |_| {
            &berlin
        });
        let day = |d| days.get(&("a".to_owned(), d)).copied().unwrap_or_default();
        assert_eq!(day(date(2026, 8, 3)).ready_ms, 2 * H);
        assert_eq!(day(date(2026, 8, 4)).ready_ms, 2 * H);
        assert!(day(date(2026, 8, 4)).employed && day(date(2026, 8, 4)).left.is_some());
        assert!(!day(date(2026, 8, 5)).employed);
    }
}
