//! The demo centre of SCENARIOS.md, "Riverside Energy": its sites, teams,
//! agents and queues, demand by hour and weekday, Erlang-based schedules,
//! absences, agent states, and the dated events of the 90 days (the storm on
//! day 22, the speed-gaming agents from day 31, the telephony fault on day 52,
//! new hires, leavers and a team move).

use crate::engine::{
    self, AgentSpec, Behaviour, HandleTime, QueueSpec, ServedFacts, World, normal,
};
use crate::names;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use merit_domain::UtcMs;
use merit_domain::activity::{
    Absence, AbsenceKind, Activity, AgentState, AgentStateEvent, ScheduleSegment,
};
use merit_domain::contact::Contact;
use merit_domain::erlang::{Load, agents_for_service_level};
use merit_domain::organisation::{
    Agent, Channel, EmploymentEndReason, Organisation, Queue, Site, Team, TeamMembership,
};
use merit_domain::survey::{Asker, Scale, SurveyAnswer, SurveyResponse, questions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const INTERVAL_MS: i64 = 30 * 60 * 1000;
pub const CENTRE_TIME_ZONE: &str = "Europe/Berlin";

/// What to simulate.
#[derive(Debug, Clone)]
pub struct ScenarioConfig {
    pub days: u32,
    pub agents: u32,
    pub seed: u64,
    /// First day (a Monday makes the weeks line up).
    pub start: Date,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig {
            days: 90,
            agents: 60,
            seed: 42,
            start: jiff::civil::date(2026, 8, 3),
        }
    }
}

/// Receives contacts and surveys as the simulation makes them.
pub trait CentreSink {
    fn contact(&mut self, contact: Contact);
    fn survey(&mut self, survey: SurveyResponse);
}

/// Everything the simulation makes besides contacts and surveys (small).
#[derive(Debug, Clone, Default)]
pub struct CentreRecords {
    pub organisation: Organisation,
    pub states: Vec<AgentStateEvent>,
    pub schedules: Vec<ScheduleSegment>,
    pub absences: Vec<Absence>,
}

/// Collects everything in memory (tests and the demo).
#[derive(Debug, Default)]
pub struct Collected {
    pub contacts: Vec<Contact>,
    pub surveys: Vec<SurveyResponse>,
}

impl CentreSink for Collected {
    fn contact(&mut self, contact: Contact) {
        self.contacts.push(contact);
    }
    fn survey(&mut self, survey: SurveyResponse) {
        self.surveys.push(survey);
    }
}

struct QueuePlan {
    id: &'static str,
    name: &'static str,
    channel: Channel,
    talk_median_s: f64,
    talk_sigma: f64,
    mean_patience_s: Option<f64>,
    /// Service-level target used for staffing: (threshold s, share).
    staffing_target: (f64, f64),
    contact_types: &'static [(&'static str, f64, f64)],
}

const QUEUES: [QueuePlan; 6] = [
    QueuePlan {
        id: "billing",
        name: "Billing",
        channel: Channel::VoiceInbound,
        talk_median_s: 230.0,
        talk_sigma: 0.55,
        mean_patience_s: Some(200.0),
        staffing_target: (20.0, 0.8),
        contact_types: &[
            ("bill_query", 0.6, 1.0),
            ("payment_plan", 0.25, 1.3),
            ("meter_reading", 0.15, 0.6),
        ],
    },
    QueuePlan {
        id: "outages",
        name: "Outages",
        channel: Channel::VoiceInbound,
        talk_median_s: 150.0,
        talk_sigma: 0.5,
        mean_patience_s: Some(160.0),
        staffing_target: (20.0, 0.8),
        contact_types: &[("outage_report", 0.7, 0.9), ("outage_followup", 0.3, 1.2)],
    },
    QueuePlan {
        id: "moving_home",
        name: "Moving home",
        channel: Channel::VoiceInbound,
        talk_median_s: 280.0,
        talk_sigma: 0.5,
        mean_patience_s: Some(220.0),
        staffing_target: (20.0, 0.8),
        contact_types: &[("move_in", 0.5, 1.1), ("move_out", 0.5, 0.9)],
    },
    QueuePlan {
        id: "sales_retention",
        name: "Sales retention",
        channel: Channel::VoiceOutbound,
        talk_median_s: 320.0,
        talk_sigma: 0.6,
        mean_patience_s: None,
        staffing_target: (0.0, 0.0),
        contact_types: &[("renewal", 0.7, 1.0), ("win_back", 0.3, 1.2)],
    },
    QueuePlan {
        id: "chat_support",
        name: "Chat support",
        channel: Channel::Chat,
        talk_median_s: 400.0,
        talk_sigma: 0.5,
        mean_patience_s: Some(240.0),
        staffing_target: (60.0, 0.8),
        contact_types: &[("billing_chat", 0.5, 1.0), ("account_chat", 0.5, 1.0)],
    },
    QueuePlan {
        id: "email",
        name: "Email",
        channel: Channel::Email,
        talk_median_s: 300.0,
        talk_sigma: 0.6,
        mean_patience_s: None,
        staffing_target: (0.0, 0.0),
        contact_types: &[("billing_email", 0.6, 1.0), ("complaint", 0.4, 1.3)],
    },
];
const BILLING: usize = 0;
const OUTAGES: usize = 1;
const MOVING: usize = 2;
const SALES: usize = 3;
const CHAT: usize = 4;
const EMAIL: usize = 5;

struct TeamPlan {
    id: &'static str,
    name: &'static str,
    site: &'static str,
    /// Agents at 60, and new hires joining in week 5 (included in the 60).
    size_at_60: u32,
    new_hires_at_60: u32,
    /// Share of the team's time per queue index.
    shares: &'static [(usize, f64)],
}

const TEAMS: [TeamPlan; 6] = [
    TeamPlan {
        id: "team-a",
        name: "Team A",
        site: "berlin",
        size_at_60: 10,
        new_hires_at_60: 2,
        shares: &[(BILLING, 1.0)],
    },
    TeamPlan {
        id: "team-b",
        name: "Team B",
        site: "berlin",
        size_at_60: 10,
        new_hires_at_60: 2,
        shares: &[(BILLING, 0.5), (MOVING, 0.5)],
    },
    TeamPlan {
        id: "team-c",
        name: "Team C",
        site: "berlin",
        size_at_60: 10,
        new_hires_at_60: 0,
        shares: &[(OUTAGES, 0.6), (MOVING, 0.4)],
    },
    TeamPlan {
        id: "team-d",
        name: "Team D",
        site: "berlin",
        size_at_60: 10,
        new_hires_at_60: 0,
        shares: &[(CHAT, 0.6), (EMAIL, 0.4)],
    },
    TeamPlan {
        id: "team-e",
        name: "Team E",
        site: "berlin",
        size_at_60: 8,
        new_hires_at_60: 0,
        shares: &[(SALES, 1.0)],
    },
    TeamPlan {
        id: "team-f",
        name: "Team F (Atlantic Partners)",
        site: "lisbon",
        size_at_60: 12,
        new_hires_at_60: 0,
        shares: &[(OUTAGES, 0.5), (BILLING, 0.5)],
    },
];

/// Relative arrival rate by local hour for the open hours; 0 when closed.
fn hour_weight(queue: usize, weekday: Weekday, hour: i8) -> f64 {
    if queue == EMAIL {
        let by_hour = match hour {
            0..=6 => 0.15,
            7..=8 => 0.6,
            9..=17 => 1.0,
            18..=21 => 0.6,
            _ => 0.3,
        };
        let by_day = match weekday {
            Weekday::Saturday => 0.5,
            Weekday::Sunday => 0.4,
            _ => 1.0,
        };
        return by_hour * by_day;
    }
    let weekday_weight = match weekday {
        Weekday::Monday => 1.2,
        Weekday::Tuesday => 1.05,
        Weekday::Wednesday => 1.0,
        Weekday::Thursday => 0.95,
        Weekday::Friday => 0.9,
        Weekday::Saturday => 0.5,
        Weekday::Sunday => return 0.0,
    };
    let (open, profile): (i8, &[f64]) = if weekday == Weekday::Saturday {
        (9, &[0.9, 1.1, 1.1, 1.0, 0.8])
    } else {
        (
            8,
            &[
                0.75, 1.1, 1.25, 1.2, 1.0, 0.9, 1.0, 1.05, 0.95, 0.85, 0.6, 0.45,
            ],
        )
    };
    usize::try_from(hour - open)
        .ok()
        .and_then(|i| profile.get(i))
        .map_or(0.0, |w| w * weekday_weight)
}

/// Opening hours of the voice and chat queues: (first interval, intervals) in local time.
fn open_window(weekday: Weekday) -> Option<(i64, i64)> {
    match weekday {
        Weekday::Sunday => None,
        Weekday::Saturday => Some((18, 10)),
        _ => Some((16, 24)),
    }
}

fn mean_handle_time_s(plan: &QueuePlan) -> f64 {
    let talk = plan.talk_median_s * (plan.talk_sigma * plan.talk_sigma / 2.0).exp();
    let type_factor: f64 = plan.contact_types.iter().map(|t| t.1 * t.2).sum::<f64>()
        / plan.contact_types.iter().map(|t| t.1).sum::<f64>();
    talk * type_factor + 35.0
}

/// Agents needed on queue in one half hour for `arrivals_per_s`.
fn required_agents(queue: usize, arrivals_per_s: f64) -> f64 {
    let plan = &QUEUES[queue];
    let load = Load {
        arrivals_per_s,
        handle_time_s: mean_handle_time_s(plan),
    };
    match queue {
        EMAIL | SALES => load.erlangs() / 0.85,
        _ => f64::from(agents_for_service_level(
            load,
            plan.staffing_target.0,
            plan.staffing_target.1,
        )),
    }
}

/// A typical week's agent-hours needed by a queue whose weight-1 hour brings `per_hour` contacts.
fn weekly_required_hours(queue: usize, per_hour: f64) -> f64 {
    let week = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    if queue == EMAIL {
        // Email waits for business hours: workload over the week at 85 % occupancy.
        let weekly: f64 = week
            .iter()
            .flat_map(|&d| (0..24).map(move |h| hour_weight(EMAIL, d, h)))
            .sum::<f64>()
            * per_hour;
        return weekly * mean_handle_time_s(&QUEUES[EMAIL]) / 3600.0 / 0.85;
    }
    week.iter()
        .flat_map(|&d| (0..24).map(move |h| (d, h)))
        .map(|(d, h)| required_agents(queue, per_hour * hour_weight(queue, d, h) / 3600.0))
        .sum()
}

struct Person {
    id: String,
    team: usize,
    hire_day: i64,
    leave: Option<(i64, EmploymentEndReason)>,
    move_to: Option<(i64, usize)>,
    speed: f64,
    quality: f64,
    lateness_min: f64,
    lateness_sd_min: f64,
    break_overrun_min: f64,
    gamer: bool,
}

pub fn simulate_centre(config: &ScenarioConfig, sink: &mut impl CentreSink) -> CentreRecords {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let zone = TimeZone::get(CENTRE_TIME_ZONE).unwrap_or(TimeZone::UTC);
    let day_start_ms = |day: i64| -> UtcMs {
        let date = config
            .start
            .checked_add(jiff::Span::new().days(day))
            .unwrap_or(config.start);
        date.to_zoned(zone.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(0)
    };
    let days = i64::from(config.days);
    let start_ms = day_start_ms(0);
    let end_ms = day_start_ms(days);
    let weekday_of = |day: i64| {
        config
            .start
            .checked_add(jiff::Span::new().days(day))
            .map_or(Weekday::Monday, |d| d.weekday())
    };

    // People.
    let scale = f64::from(config.agents) / 60.0;
    let mut people: Vec<Person> = Vec::new();
    let mut team_sizes = Vec::new();
    for (team, plan) in TEAMS.iter().enumerate() {
        let size = ((f64::from(plan.size_at_60) * scale).round() as u32).max(1);
        let hires =
            ((f64::from(plan.new_hires_at_60) * scale).round() as u32).min(size.saturating_sub(1));
        team_sizes.push(size);
        for i in 0..size {
            let new_hire = i >= size - hires;
            people.push(Person {
                id: format!("ag{:03}", people.len() + 1),
                team,
                hire_day: if new_hire {
                    28
                } else {
                    -(rng.random_range(60..2500))
                },
                leave: None,
                move_to: None,
                speed: (0.15 * normal(&mut rng)).exp(),
                quality: (0.78 + 0.08 * normal(&mut rng)).clamp(0.55, 0.95),
                lateness_min: rng.random_range(-2.0..4.0),
                lateness_sd_min: rng.random_range(1.0..8.0),
                break_overrun_min: rng.random_range(0.3..4.0),
                gamer: false,
            });
        }
    }
    let first_of = |people: &[Person], team: usize| people.iter().position(|p| p.team == team);
    if let Some(b) = first_of(&people, 1) {
        people[b].leave = Some((45, EmploymentEndReason::Voluntary));
        if let Some(p) = people.get_mut(b + 1).filter(|p| p.team == 1) {
            p.move_to = Some((50, 0));
        }
    }
    if let Some(f) = first_of(&people, 5) {
        people[f].leave = Some((70, EmploymentEndReason::Involuntary));
    }
    if let Some(c) = first_of(&people, 2) {
        for p in people.iter_mut().skip(c).take(2).filter(|p| p.team == 2) {
            p.gamer = true;
        }
    }
    let team_on = |p: &Person, day: i64| match p.move_to {
        Some((move_day, to)) if day >= move_day => to,
        _ => p.team,
    };
    let employed =
        |p: &Person, day: i64| day >= p.hire_day && p.leave.is_none_or(|(d, _)| day <= d);

    // Demand: calibrate each queue's volume so that Erlang staffing uses the
    // agent-hours the teams give it (85 % of on-queue hours, for absences and shift fit).
    let mut supply_hours = [0.0f64; 6];
    for (team, plan) in TEAMS.iter().enumerate() {
        for &(queue, share) in plan.shares {
            supply_hours[queue] += f64::from(team_sizes[team]) * share * 36.0 * 0.82;
        }
    }
    let mut per_hour = [0.0f64; 6];
    for queue in [BILLING, OUTAGES, MOVING, CHAT, EMAIL] {
        let (mut low, mut high) = (0.0, 2000.0 * scale.max(0.05));
        for _ in 0..30 {
            let mid = (low + high) / 2.0;
            if weekly_required_hours(queue, mid) > supply_hours[queue] {
                high = mid;
            } else {
                low = mid;
            }
        }
        per_hour[queue] = low;
    }

    // Arrival rates per half hour, with day-to-day noise, the storm on day 22.
    let n_intervals = ((end_ms - start_ms) / INTERVAL_MS) as usize;
    let mut forecast = vec![vec![0.0; n_intervals]; QUEUES.len()];
    let mut actual = vec![vec![0.0; n_intervals]; QUEUES.len()];
    let mut day_noise = vec![vec![1.0; days as usize]; QUEUES.len()];
    for noise in day_noise.iter_mut() {
        for n in noise.iter_mut() {
            *n = (0.07 * normal(&mut rng)).exp();
        }
    }
    for i in 0..n_intervals {
        let at = jiff::Timestamp::from_millisecond(start_ms + i as i64 * INTERVAL_MS)
            .unwrap_or_default()
            .to_zoned(zone.clone());
        let day = at
            .date()
            .since(config.start)
            .map_or(0, |s| i64::from(s.get_days()));
        for queue in 0..QUEUES.len() {
            let rate = per_hour[queue] * hour_weight(queue, at.weekday(), at.hour()) / 3600.0;
            forecast[queue][i] = rate;
            let storm = if queue == OUTAGES && day == 21 {
                4.0
            } else {
                1.0
            };
            actual[queue][i] =
                rate * storm * day_noise[queue].get(day as usize).copied().unwrap_or(1.0);
        }
    }

    // Schedules, absences, states and on-queue windows.
    let mut records = CentreRecords::default();
    let mut windows: Vec<Vec<(UtcMs, UtcMs)>> = vec![Vec::new(); people.len()];
    let mut absent = vec![vec![false; days as usize]; people.len()];
    for (a, person) in people.iter().enumerate() {
        if rng.random::<f64>() < 0.4 && days >= 14 {
            let week = rng.random_range(0..days / 7);
            let (first, last) = (week * 7, week * 7 + 4);
            for d in first..=last.min(days - 1) {
                absent[a][d as usize] = true;
            }
            records.absences.push(Absence {
                source_id: format!("abs-{}-{week}", person.id),
                agent_id: person.id.clone(),
                start_ms: day_start_ms(first),
                end_ms: day_start_ms(last + 1),
                kind: AbsenceKind::Planned,
                reason: "holiday".into(),
            });
        }
    }
    let mut sick = vec![vec![false; days as usize]; people.len()];
    for (a, person) in people.iter().enumerate() {
        let mut day = 0;
        while day < days {
            if employed(person, day) && !absent[a][day as usize] && rng.random::<f64>() < 0.025 {
                let length = rng.random_range(1..=3).min(days - day);
                for d in day..day + length {
                    sick[a][d as usize] = true;
                }
                records.absences.push(Absence {
                    source_id: format!("abs-{}-s{day}", person.id),
                    agent_id: person.id.clone(),
                    start_ms: day_start_ms(day),
                    end_ms: day_start_ms(day + length),
                    kind: AbsenceKind::Unplanned,
                    reason: "sickness".into(),
                });
                day += length;
            } else {
                day += 1;
            }
        }
    }
    for day in 0..days {
        let weekday = weekday_of(day);
        let Some((open_interval, open_len)) = open_window(weekday) else {
            continue;
        };
        let day_ms = day_start_ms(day);
        for (team, plan) in TEAMS.iter().enumerate() {
            let members: Vec<usize> = (0..people.len())
                .filter(|&a| {
                    team_on(&people[a], day) == team
                        && employed(&people[a], day)
                        && !absent[a][day as usize]
                })
                .filter(|&a| weekday != Weekday::Saturday || (a as i64 + day / 7) % 2 == 0)
                .collect();
            // Demand per open interval from the forecast through Erlang, in this team's share.
            let mut demand: Vec<f64> = (0..open_len)
                .map(|k| {
                    let at_ms = day_ms + (open_interval + k) * INTERVAL_MS;
                    let i = ((at_ms - start_ms) / INTERVAL_MS) as usize;
                    plan.shares
                        .iter()
                        .map(|&(q, _)| {
                            required_agents(q, forecast[q].get(i).copied().unwrap_or(0.0))
                                * supply_share(team, q, &team_sizes)
                        })
                        .sum()
                })
                .collect();
            let shift_len = if weekday == Weekday::Saturday { 10 } else { 17 };
            for &a in &members {
                // Greedy: the start that covers the most uncovered demand.
                let best_start = (0..=(open_len - shift_len).max(0))
                    .max_by(|&x, &y| {
                        let gain = |s: i64| {
                            (s..s + shift_len)
                                .map(|k| demand.get(k as usize).copied().unwrap_or(0.0).max(0.0))
                                .sum::<f64>()
                        };
                        gain(x).total_cmp(&gain(y)).then(y.cmp(&x))
                    })
                    .unwrap_or(0);
                for k in best_start..best_start + shift_len {
                    if let Some(d) = demand.get_mut(k as usize) {
                        *d -= 1.0;
                    }
                }
                let person = &people[a];
                let shift_start_ms = day_ms + (open_interval + best_start) * INTERVAL_MS;
                let mut t = shift_start_ms;
                let mut planned = Vec::new();
                for (n, (activity, minutes)) in shift_segments(weekday, a).into_iter().enumerate() {
                    let end = t + minutes * 60_000;
                    records.schedules.push(ScheduleSegment {
                        source_id: format!("sch-{}-{day}-{n}", person.id),
                        agent_id: person.id.clone(),
                        start_ms: t,
                        end_ms: end,
                        activity,
                    });
                    planned.push((activity, t, end));
                    t = end;
                }
                if sick[a][day as usize] {
                    continue;
                }
                act_out_shift(
                    &mut rng,
                    person,
                    &planned,
                    &mut windows[a],
                    &mut records.states,
                );
            }
        }
    }

    // Organisation records.
    records.organisation = organisation_records(config, &people, &team_on);

    // The engine.
    let speed_by_day = |p: &Person| -> Vec<f64> {
        (0..days)
            .map(|d| {
                p.speed
                    * (1.0
                        + 0.6
                            * (-((d - p.hire_day).max(0) as f64) / 21.0).exp()
                            * f64::from(u8::from(p.hire_day >= 0)))
            })
            .collect()
    };
    let quality_by_day = |p: &Person| -> Vec<f64> {
        (0..days)
            .map(|d| {
                p.quality
                    - 0.15
                        * (-((d - p.hire_day).max(0) as f64) / 21.0).exp()
                        * f64::from(u8::from(p.hire_day >= 0))
            })
            .collect()
    };
    let agents: Vec<AgentSpec> = people
        .iter()
        .enumerate()
        .map(|(a, p)| AgentSpec {
            id: p.id.clone(),
            skills: TEAMS[p.team].shares.iter().map(|s| s.0).collect(),
            windows: std::mem::take(&mut windows[a]),
            speed_by_day: speed_by_day(p),
            quality_by_day: quality_by_day(p),
            gaming_from_ms: p.gamer.then(|| day_start_ms(30)),
        })
        .collect();
    let fault_day = 51;
    let faults = if days > fault_day {
        vec![(
            day_start_ms(fault_day) + 10 * 3_600_000,
            day_start_ms(fault_day) + 16 * 3_600_000,
            0.03,
        )]
    } else {
        vec![]
    };
    let world = World {
        start_ms,
        end_ms,
        interval_ms: INTERVAL_MS,
        queues: QUEUES
            .iter()
            .enumerate()
            .map(|(q, plan)| QueueSpec {
                id: plan.id.into(),
                channel: plan.channel,
                arrival_rate_per_s: std::mem::take(&mut actual[q]),
                handle_time: HandleTime::LogNormal {
                    median_s: plan.talk_median_s,
                    sigma: plan.talk_sigma,
                },
                mean_patience_s: plan.mean_patience_s,
                contact_types: plan
                    .contact_types
                    .iter()
                    .map(|&(n, w, f)| (n.to_owned(), w, f))
                    .collect(),
                priority: u8::from(q == EMAIL),
                outbound: q == SALES,
            })
            .collect(),
        agents,
        behaviour: Behaviour {
            voice_menu: true,
            holds: true,
            after_call_work: true,
            transfers: true,
            system_drop_probability: 0.002,
            faults,
            repeat_contacts: true,
            wrap_up_and_recordings: true,
            gaming_threshold_s: 300.0,
        },
        max_contacts: None,
        seed: config.seed ^ 0x5eed,
    };
    let mut adapter = SurveyingSink {
        sink,
        rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x50_7e7),
        n_surveys: 0,
        people: &people,
    };
    engine::run(&world, &mut adapter);
    records
}

/// The activities of one shift and their minutes; breaks are staggered by
/// agent so that a team does not leave the queue all at once.
fn shift_segments(weekday: Weekday, agent: usize) -> Vec<(Activity, i64)> {
    use Activity::{Break, Lunch, Meeting, OnQueue};
    let stagger = 15 * (agent as i64 % 3);
    match weekday {
        Weekday::Saturday => vec![
            (OnQueue, 135 + stagger),
            (Break, 15),
            (OnQueue, 150 - stagger),
        ],
        Weekday::Wednesday => vec![
            (OnQueue, 105 + stagger),
            (Break, 15),
            (OnQueue, 105),
            (Lunch, 30),
            (OnQueue, 120 - stagger),
            (Break, 15),
            (Meeting, 30),
            (OnQueue, 90),
        ],
        _ => vec![
            (OnQueue, 105 + stagger),
            (Break, 15),
            (OnQueue, 105),
            (Lunch, 30),
            (OnQueue, 120 - stagger),
            (Break, 15),
            (OnQueue, 120),
        ],
    }
}

/// The fraction of a queue's staffed hours that this team gives.
fn supply_share(team: usize, queue: usize, sizes: &[u32]) -> f64 {
    let of = |t: usize| {
        TEAMS[t]
            .shares
            .iter()
            .find(|s| s.0 == queue)
            .map_or(0.0, |s| s.1)
            * f64::from(sizes[t])
    };
    let total: f64 = (0..TEAMS.len()).map(of).sum();
    if total > 0.0 { of(team) / total } else { 0.0 }
}

/// Turns a planned shift into what the agent really did: a late or early
/// login, breaks that overrun, and the state events and on-queue windows that follow.
fn act_out_shift(
    rng: &mut ChaCha8Rng,
    person: &Person,
    planned: &[(Activity, UtcMs, UtcMs)],
    windows: &mut Vec<(UtcMs, UtcMs)>,
    states: &mut Vec<AgentStateEvent>,
) {
    let minutes = |m: f64| (m * 60_000.0) as i64;
    let (Some(first), Some(last)) = (planned.first(), planned.last()) else {
        return;
    };
    let login = first.1
        + minutes((person.lateness_min + person.lateness_sd_min * normal(rng)).clamp(-10.0, 45.0));
    let logout = last.2 + minutes((2.0 * normal(rng)).clamp(-8.0, 8.0));
    let mut events = vec![
        (login, AgentState::LoggedIn, None),
        (login, AgentState::Ready, None),
    ];
    let mut on_since = login;
    for &(activity, start, end) in planned {
        if activity == Activity::OnQueue {
            continue;
        }
        let leave = (start + minutes(normal(rng).clamp(-2.0, 2.0))).max(on_since);
        let back = end + minutes(-(1.0 - rng.random::<f64>()).ln() * person.break_overrun_min);
        if leave >= logout || back >= logout {
            break;
        }
        if leave > on_since {
            windows.push((on_since, leave));
        }
        events.push((
            leave,
            AgentState::NotReady,
            Some(activity.as_str().to_owned()),
        ));
        events.push((back, AgentState::Ready, None));
        on_since = back;
    }
    if logout > on_since {
        windows.push((on_since, logout));
    }
    events.push((logout, AgentState::LoggedOut, None));
    for (n, (at_ms, state, reason)) in events.into_iter().enumerate() {
        states.push(AgentStateEvent {
            source_id: format!("st-{}-{login}-{n}", person.id),
            agent_id: person.id.clone(),
            at_ms,
            state,
            reason,
        });
    }
}

fn organisation_records(
    config: &ScenarioConfig,
    people: &[Person],
    team_on: &dyn Fn(&Person, i64) -> usize,
) -> Organisation {
    let day = |d: i64| {
        config
            .start
            .checked_add(jiff::Span::new().days(d))
            .unwrap_or(config.start)
    };
    let sites = vec![
        Site {
            id: "berlin".into(),
            name: "Riverside Energy, Berlin".into(),
            time_zone: CENTRE_TIME_ZONE.into(),
        },
        Site {
            id: "lisbon".into(),
            name: "Atlantic Partners, Lisbon".into(),
            time_zone: "Europe/Lisbon".into(),
        },
    ];
    let teams = TEAMS
        .iter()
        .map(|t| Team {
            id: t.id.into(),
            name: t.name.into(),
            site_id: t.site.into(),
        })
        .collect();
    let queues = QUEUES
        .iter()
        .map(|q| Queue {
            id: q.id.into(),
            name: q.name.into(),
            channel: q.channel,
            site_id: "berlin".into(),
        })
        .collect();
    let mut agents = Vec::new();
    let mut memberships = Vec::new();
    for (n, p) in people.iter().enumerate() {
        let site = TEAMS[p.team].site;
        agents.push(Agent {
            id: p.id.clone(),
            name: names::person_name(n),
            site_id: site.into(),
            hire_date: day(p.hire_day),
            employment_end_date: p.leave.map(|(d, _)| day(d)),
            employment_end_reason: p.leave.map(|(_, r)| r),
        });
        let moved = p.move_to.map(|(d, _)| d);
        // A membership ends (exclusive) on a move, or the day after the last day of employment.
        let left = p.leave.map(|(d, _)| day(d + 1));
        memberships.push(TeamMembership {
            agent_id: p.id.clone(),
            team_id: TEAMS[p.team].id.into(),
            from_date: day(p.hire_day),
            to_date: moved.map(day).or(left),
        });
        if let Some(d) = moved {
            memberships.push(TeamMembership {
                agent_id: p.id.clone(),
                team_id: TEAMS[team_on(p, d)].id.into(),
                from_date: day(d),
                to_date: left,
            });
        }
    }
    Organisation {
        sites,
        teams,
        agents,
        memberships,
        queues,
    }
}

/// Passes contacts on and adds the surveys a fraction of customers answer.
struct SurveyingSink<'a, S: CentreSink> {
    sink: &'a mut S,
    rng: ChaCha8Rng,
    n_surveys: u64,
    people: &'a [Person],
}

impl<S: CentreSink> engine::Sink for SurveyingSink<'_, S> {
    fn contact(&mut self, contact: Contact, served: Option<ServedFacts>) {
        let surveyed = contact.channel != Channel::VoiceOutbound
            && contact.outcome == merit_domain::contact::Outcome::Handled;
        if let Some(facts) = served.filter(|_| surveyed)
            && self.rng.random::<f64>() < 0.18
        {
            let survey = self.survey(&contact, facts);
            self.sink.survey(survey);
        }
        self.sink.contact(contact);
    }
}

impl<S: CentreSink> SurveyingSink<'_, S> {
    fn survey(&mut self, contact: &Contact, facts: ServedFacts) -> SurveyResponse {
        let rng = &mut self.rng;
        let draw: f64 = rng.random();
        let asked_by = if draw < 0.6 {
            Asker::Automated
        } else if draw < 0.85 {
            Asker::Agent
        } else if draw < 0.95 {
            Asker::Supervisor
        } else {
            Asker::OtherAgent
        };
        let kindness = if asked_by == Asker::Agent { 0.35 } else { 0.0 };
        let gamer_penalty = if self.people[facts.agent_index].gamer {
            0.2
        } else {
            0.0
        };
        let latent = 3.7 + if facts.resolved { 0.7 } else { -0.6 }
            - 0.006 * (facts.wait_s - 20.0).max(0.0)
            + 2.0 * (facts.quality - 0.78)
            + kindness
            - gamer_penalty;
        let mut on_scale = |mean: f64, low: i32, high: i32| {
            ((mean + 0.8 * normal(rng)).round() as i32).clamp(low, high)
        };
        let satisfied = on_scale(latent, 1, 5);
        let professional = on_scale(latent + 0.3, 1, 5);
        let recommend = on_scale(latent * 2.0 - 1.0, 0, 10);
        let said_resolved = if rng.random::<f64>() < 0.9 {
            facts.resolved
        } else {
            !facts.resolved
        };
        let mut answers = vec![
            SurveyAnswer {
                question_id: questions::SATISFIED_WITH_ANSWERS.into(),
                scale: Scale::OneToFive,
                value: Some(satisfied),
                text: None,
            },
            SurveyAnswer {
                question_id: questions::ANSWERED_PROFESSIONALLY.into(),
                scale: Scale::OneToFive,
                value: Some(professional),
                text: None,
            },
            SurveyAnswer {
                question_id: questions::RECOMMEND.into(),
                scale: Scale::ZeroToTen,
                value: Some(recommend),
                text: None,
            },
            SurveyAnswer {
                question_id: questions::RESOLVED.into(),
                scale: Scale::YesNo,
                value: Some(i32::from(said_resolved)),
                text: None,
            },
        ];
        if rng.random::<f64>() < 0.25 {
            let text = names::survey_comment(satisfied, rng.random_range(0..4));
            answers.push(SurveyAnswer {
                question_id: questions::ANYTHING_ELSE.into(),
                scale: Scale::Text,
                value: None,
                text: Some(text.into()),
            });
        }
        self.n_surveys += 1;
        let delay_ms = 60_000 + (rng.random::<f64>() * 3_600_000.0) as i64;
        SurveyResponse {
            source_system: engine::SOURCE_SYSTEM.into(),
            source_id: format!("s{:08}", self.n_surveys),
            contact_source_id: Some(contact.source_id.clone()),
            agent_id: contact.agent_id.clone(),
            answered_ms: contact.after_work_end_ms.unwrap_or(contact.end_ms) + delay_ms,
            asked_by,
            answers,
        }
    }
}
