//! The KPI engine: each KPI is a sum of per-contact (or per-answer)
//! numerator and denominator parts, grouped with a hash map; the same pass,
//! filtered to one group, is the drill-down. Figures are rolled up from
//! counts and sums, never from percentages.

use crate::contact::Outcome;
use crate::metrics::cache::CachedDay;
use crate::metrics::definition::{
    DefinitionHistory, DefinitionVersion, FcrMatch, Kpi, KpiOptions, ServiceLevelVariant, Unit,
};
use crate::metrics::fast_hash::{FastMap as HashMap, FastSet as HashSet};
use crate::metrics::table::{ContactTable, Dict, SurveyFact};
use crate::metrics::workforce::{AgentDay, AgentDays, days_from_to};
use crate::organisation::Organisation;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Agent,
    Team,
    Queue,
    Channel,
    ContactType,
    Site,
    /// Local interval of this many minutes (15, 30 or 60).
    Interval(i64),
    Day,
    /// ISO week, starting Monday.
    Week,
    Month,
}

impl Dimension {
    pub fn parse(text: &str, interval_minutes: i64) -> Option<Self> {
        Some(match text {
            "agent" => Self::Agent,
            "team" => Self::Team,
            "queue" => Self::Queue,
            "channel" => Self::Channel,
            "contact-type" | "contact_type" => Self::ContactType,
            "site" => Self::Site,
            "interval" => Self::Interval(interval_minutes),
            "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Team => "team",
            Self::Queue => "queue",
            Self::Channel => "channel",
            Self::ContactType => "contact_type",
            Self::Site => "site",
            Self::Interval(_) => "interval",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// Where each contact's local day and buckets come from: the zone of its
/// queue's site, else its agent's site, else the centre's.
pub struct OrgView {
    pub centre_zone: TimeZone,
    site_zone: HashMap<String, TimeZone>,
    queue_site: HashMap<String, String>,
    pub(crate) agent_site: HashMap<String, String>,
    /// Every agent with hire date and last day, and every team: reports by
    /// agent or team list those without data too.
    agents: Vec<(String, Date, Option<Date>)>,
    teams: Vec<String>,
    memberships: HashMap<String, Vec<(Date, Option<Date>, String)>>,
}

impl OrgView {
    pub fn new(org: &Organisation, centre_zone: TimeZone) -> Self {
        let mut memberships: HashMap<String, Vec<(Date, Option<Date>, String)>> =
            HashMap::default();
        for m in &org.memberships {
            memberships.entry(m.agent_id.clone()).or_default().push((
                m.from_date,
                m.to_date,
                m.team_id.clone(),
            ));
        }
        OrgView {
            centre_zone,
            site_zone: org
                .sites
                .iter()
                .filter_map(|s| Some((s.id.clone(), TimeZone::get(&s.time_zone).ok()?)))
                .collect(),
            queue_site: org
                .queues
                .iter()
                .map(|q| (q.id.clone(), q.site_id.clone()))
                .collect(),
            agent_site: org
                .agents
                .iter()
                .map(|a| (a.id.clone(), a.site_id.clone()))
                .collect(),
            agents: org
                .agents
                .iter()
                .map(|a| (a.id.clone(), a.hire_date, a.employment_end_date))
                .collect(),
            teams: org.teams.iter().map(|t| t.id.clone()).collect(),
            memberships,
        }
    }

    /// The team an agent was in on a day.
    pub fn team_on(&self, agent: &str, day: Date) -> Option<&str> {
        self.memberships
            .get(agent)?
            .iter()
            .find_map(|(from, to, team)| {
                (*from <= day && to.is_none_or(|to| day < to)).then_some(team.as_str())
            })
    }

    /// The zone of an agent's site (the centre's when unknown): an agent's
    /// own figures use it.
    pub fn agent_zone(&self, agent: &str) -> &TimeZone {
        self.zone_of(self.agent_site.get(agent).map(String::as_str))
    }

    fn site_of(&self, queue: Option<&str>, agent: Option<&str>) -> Option<&str> {
        queue
            .and_then(|q| self.queue_site.get(q))
            .or_else(|| agent.and_then(|a| self.agent_site.get(a)))
            .map(String::as_str)
    }

    fn zone_of(&self, site: Option<&str>) -> &TimeZone {
        site.and_then(|s| self.site_zone.get(s))
            .unwrap_or(&self.centre_zone)
    }
}

/// Which site's time zone gives a contact its local day and interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneRule {
    /// The queue's site (else the agent's, else the centre's): queue and
    /// centre reports.
    Queue,
    /// The agent's site (else the queue's, else the centre's): reports by
    /// agent or team.
    Agent,
}

impl ZoneRule {
    pub fn for_dimensions(dims: &[Dimension]) -> Self {
        if dims
            .iter()
            .any(|d| matches!(d, Dimension::Agent | Dimension::Team))
        {
            ZoneRule::Agent
        } else {
            ZoneRule::Queue
        }
    }
}

/// A report's rows: which contacts and answers fall in the period, with
/// their local time and group labels worked out once.
#[derive(Clone)]
pub struct Frame<'a> {
    pub table: &'a ContactTable,
    pub surveys: &'a [SurveyFact],
    pub org: &'a OrgView,
    /// Per contact row: local day, and local wall-clock ms (UTC ms + offset).
    local_day: Vec<Date>,
    local_ms: Vec<i64>,
    site: Vec<u32>,
    sites: Dict,
    /// Per survey answer: its local day and wall-clock ms (its contact's, if known).
    survey_local: Vec<(Date, i64)>,
    /// Agent days, and per (agent, day) the handle ms and handled contacts.
    agent_days: Vec<(String, Date, AgentDay)>,
    handled: HashMap<(String, Date), (i64, i64)>,
    cached: Vec<CachedRow>,
    cache_names: Dict,
    pub from: Date,
    pub to: Date,
    /// "Now" for the report: versions recorded later are ignored, FCR windows
    /// not closed by then are provisional, cancellations after it not seen.
    pub as_of_ms: i64,
}

/// Per-contact FCR verdicts (`fcr_verdicts`).
type Verdicts = Vec<(Option<bool>, bool)>;

/// The FCR verdicts of some rows of one table (`among`), worked out once
/// per set of FCR options for every pass that counts those rows or some of
/// them, whichever frame it is on (one per zone rule): they depend on the
/// contacts and "now", not on how a frame groups them.
pub struct SharedVerdicts<'r> {
    /// The rows marked `true`; every row when `None`.
    among: Option<&'r [bool]>,
    /// The table's `customers_by_arrival`.
    by_customer: &'r [(usize, bool)],
    by_key: std::sync::Mutex<HashMap<VerdictsKey, Arc<Verdicts>>>,
}

impl<'r> SharedVerdicts<'r> {
    /// Verdicts among the rows `among` marks (every row when `None`) of a
    /// table whose `customers_by_arrival` is `by_customer` (worked out
    /// once for every set of verdicts of the table).
    pub fn among(among: Option<&'r [bool]>, by_customer: &'r [(usize, bool)]) -> Self {
        SharedVerdicts {
            among,
            by_customer,
            by_key: Default::default(),
        }
    }

    fn get(&self, table: &ContactTable, key: VerdictsKey) -> Arc<Verdicts> {
        // Held while working: a second pass asking waits for the first's verdicts.
        let mut by_key = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        let work = || Arc::new(fcr_verdicts(table, key, self.among, self.by_customer));
        by_key.entry(key).or_insert_with(work).clone()
    }

    /// Works out now the verdicts of `table`'s rows under `options`.
    pub fn work_out(&self, table: &ContactTable, options: &KpiOptions, as_of_ms: i64) {
        self.get(table, verdicts_key(options, as_of_ms));
    }

    /// Marks in `rows` each row whose verdict differs between these and
    /// `other`, under a set of options both have worked out.
    pub fn mark_differing(&self, other: &SharedVerdicts, rows: &mut [bool]) {
        let mine = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        let theirs = other.by_key.lock().unwrap_or_else(|e| e.into_inner());
        for (key, mine) in mine.iter() {
            let Some(theirs) = theirs.get(key) else {
                continue;
            };
            for ((row, a), b) in rows.iter_mut().zip(mine.iter()).zip(theirs.iter()) {
                *row |= a.0 != b.0;
            }
        }
    }
}

/// The contact rows of a frame a pass counts (`from_rows_counting`), and
/// where FCR verdicts over them, or over rows that hold them, are shared.
#[derive(Clone, Copy, Default)]
pub struct Counting<'c> {
    /// The rows marked `true`; every row when `None`. A survey answer to
    /// a contact is counted with its contact; agent days always.
    pub only: Option<&'c [bool]>,
    /// Verdicts among these rows or more, shared with every pass counting
    /// them (each counted row's verdict is read from them); without them,
    /// verdicts among the counted rows.
    pub verdicts: Option<&'c SharedVerdicts<'c>>,
}

impl Counting<'_> {
    fn counts(&self, row: usize) -> bool {
        marked(self.only, row)
    }
}

/// Whether `mask` marks `row`: every row is marked when there is no mask.
fn marked(mask: Option<&[bool]>, row: usize) -> bool {
    mask.is_none_or(|mask| mask.get(row).copied().unwrap_or(false))
}

/// What FCR verdicts depend on besides the contacts (`fcr_verdicts` reads
/// nothing else): window days, transfer grace seconds, matching rule, "now".
type VerdictsKey = (i64, i64, FcrMatch, i64);

fn verdicts_key(o: &KpiOptions, as_of_ms: i64) -> VerdictsKey {
    (o.fcr_window_days, o.transfer_grace_s, o.fcr_match, as_of_ms)
}

/// Local day and local wall-clock ms of an instant in a zone.
fn local(zone: &TimeZone, utc_ms: i64) -> (Date, i64) {
    match Timestamp::from_millisecond(utc_ms) {
        Ok(ts) => {
            let local_ms = utc_ms + zone.to_offset(ts).seconds() as i64 * 1000;
            (civil_day(local_ms.div_euclid(86_400_000)), local_ms)
        }
        Err(_) => (Date::MIN, utc_ms),
    }
}

/// `local` for many instants, most in the same few hours: a zone's
/// offset is looked up once per UTC hour, and kept for the hour only when
/// it is the same at the hour's first and last millisecond (no transition
/// inside it); otherwise each instant is looked up.
#[derive(Default)]
struct HourOffsets {
    /// (zone's address, UTC hour) → offset in ms, or `None` if it changes within the hour.
    hours: HashMap<(usize, i64), Option<i64>>,
    /// The last hour looked up (rows come in order of arrival).
    last: Option<((usize, i64), Option<i64>)>,
    /// The last local day worked out, as days since 1970-01-01 and as a date.
    last_day: Option<(i64, Date)>,
}

impl HourOffsets {
    fn local(&mut self, zone: &TimeZone, utc_ms: i64) -> (Date, i64) {
        const HOUR_MS: i64 = 3_600_000;
        let hour = utc_ms.div_euclid(HOUR_MS);
        let offset_ms = |ms: i64| {
            Timestamp::from_millisecond(ms)
                .ok()
                .map(|ts| zone.to_offset(ts).seconds() as i64 * 1000)
        };
        let key = (zone as *const TimeZone as usize, hour);
        let steady = match self.last {
            Some((last, steady)) if last == key => steady,
            _ => {
                let steady = *self.hours.entry(key).or_insert_with(|| {
                    let first = offset_ms(hour * HOUR_MS)?;
                    (offset_ms(hour * HOUR_MS + HOUR_MS - 1) == Some(first)).then_some(first)
                });
                self.last = Some((key, steady));
                steady
            }
        };
        match steady {
            Some(offset) => {
                let local_ms = utc_ms + offset;
                let days = local_ms.div_euclid(86_400_000);
                let day = match self.last_day {
                    Some((last, day)) if last == days => day,
                    _ => civil_day(days),
                };
                self.last_day = Some((days, day));
                (day, local_ms)
            }
            None => local(zone, utc_ms),
        }
    }
}

/// The civil date `days` after 1970-01-01 (Hinnant's days-to-civil).
fn civil_day(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date::new(year as i16, month as i8, day as i8).unwrap_or(Date::MIN)
}

impl<'a> Frame<'a> {
    pub fn new(
        table: &'a ContactTable,
        surveys: &'a [SurveyFact],
        org: &'a OrgView,
        from: Date,
        to: Date,
        as_of_ms: i64,
    ) -> Self {
        Self::in_zones(
            table,
            surveys,
            org,
            (from, to),
            as_of_ms,
            ZoneRule::Queue,
            None,
        )
    }

    /// `new`, with contacts' local days and intervals in the zones `zones`
    /// says, and only the contact rows `placed` marks (every row when
    /// `None`) given a day: the others fall outside the period.
    pub fn in_zones(
        table: &'a ContactTable,
        surveys: &'a [SurveyFact],
        org: &'a OrgView,
        (from, to): (Date, Date),
        as_of_ms: i64,
        zones: ZoneRule,
        placed: Option<&[bool]>,
    ) -> Self {
        let mut sites = Dict::default();
        // Sites and zones worked out once per queue and per agent, not per contact.
        let mut site_of = |queue: Option<&str>, agent: Option<&str>| {
            let s = org.site_of(queue, agent);
            (sites.intern(s), org.zone_of(s))
        };
        let by_queue: Vec<_> = table
            .queues
            .names
            .iter()
            .map(|q| site_of(Some(q), None))
            .collect();
        let by_agent: Vec<_> = table
            .agents
            .names
            .iter()
            .map(|a| site_of(None, Some(a)))
            .collect();
        let no_site = site_of(None, None);
        // Each row's local day, wall-clock ms and site, the rows in a share per core.
        let shares = crate::metrics::cores::over_shares(table.len(), |rows| {
            let mut offsets = HourOffsets::default();
            let mut out = (
                Vec::with_capacity(rows.len()),
                Vec::with_capacity(rows.len()),
                Vec::with_capacity(rows.len()),
            );
            for i in rows {
                if !marked(placed, i) {
                    out.0.push(Date::MIN);
                    out.1.push(table.arrival_ms[i]);
                    out.2.push(Dict::NONE);
                    continue;
                }
                let from_queue = by_queue
                    .get(table.queue[i] as usize)
                    .filter(|q| q.0 != Dict::NONE);
                let from_agent = by_agent
                    .get(table.agent[i] as usize)
                    .filter(|a| a.0 != Dict::NONE);
                let (s, queue_zone) = from_queue.or(from_agent).copied().unwrap_or(no_site);
                // An agent's figures use the zone of the agent's site.
                let zone = match zones {
                    ZoneRule::Queue => queue_zone,
                    ZoneRule::Agent => from_agent.or(from_queue).map_or(no_site.1, |a| a.1),
                };
                let (day, ms) = offsets.local(zone, table.arrival_ms[i]);
                out.0.push(day);
                out.1.push(ms);
                out.2.push(s);
            }
            out
        });
        let mut local_day = Vec::with_capacity(table.len());
        let mut local_ms = Vec::with_capacity(table.len());
        let mut site = Vec::with_capacity(table.len());
        for (days, ms, sites) in shares {
            local_day.extend(days);
            local_ms.extend(ms);
            site.extend(sites);
        }
        let survey_local = surveys
            .iter()
            .map(|s| match s.contact_row {
                Some(row) => (local_day[row], local_ms[row]),
                None => local(&org.centre_zone, s.answered_ms),
            })
            .collect();
        Frame {
            table,
            surveys,
            org,
            local_day,
            local_ms,
            site,
            sites,
            survey_local,
            agent_days: Vec::new(),
            handled: HashMap::default(),
            cached: Vec::new(),
            cache_names: Dict::default(),
            from,
            to,
            as_of_ms,
        }
    }

    /// The FCR verdicts a pass counting `counting`'s rows reads.
    fn fcr_verdicts(&self, o: &KpiOptions, counting: Counting) -> Arc<Verdicts> {
        let key = verdicts_key(o, self.as_of_ms);
        match counting.verdicts {
            Some(shared) => shared.get(self.table, key),
            None => {
                let by_customer = customers_by_arrival(self.table);
                Arc::new(fcr_verdicts(self.table, key, counting.only, &by_customer))
            }
        }
    }

    /// Adds one cached day of a definition version; returns its parts.
    pub fn add_cached(&mut self, day: Date, version: i64, cached: &CachedDay) -> Vec<Part> {
        let codes: Vec<u32> = cached
            .names
            .iter()
            .map(|n| self.cache_names.intern(Some(n)))
            .collect();
        let code = |n: u32| codes.get(n as usize).copied().unwrap_or(Dict::NONE);
        cached
            .entries
            .iter()
            .map(|e| {
                self.cached.push(CachedRow {
                    day,
                    interval15: e.interval,
                    agent: code(e.agent),
                    queue: code(e.queue),
                    channel: e.channel,
                    contact_type: code(e.contact_type),
                    window_end_ms: e.window_end_ms,
                });
                Part {
                    source: Source::Cached(self.cached.len() - 1),
                    numerator: e.numerator,
                    denominator: e.denominator,
                    version,
                }
            })
            .collect()
    }

    /// Where an FCR part's window ends (0 for other rows).
    pub fn window_end_ms(&self, history: &DefinitionHistory, part: &Part) -> i64 {
        match part.source {
            Source::Cached(k) => self.cached[k].window_end_ms,
            Source::Contact(i) => history
                .versions
                .iter()
                .find(|v| v.version == part.version && v.kpi == Kpi::FcrRepeat)
                .map_or(0, |v| {
                    self.table.end_ms[i] + v.options.fcr_window_days * 86_400_000
                }),
            _ => 0,
        }
    }

    /// The agent and local day of an agent-day row.
    pub fn agent_day(&self, k: usize) -> (&str, Date) {
        let (agent, day, _) = &self.agent_days[k];
        (agent, *day)
    }

    /// Adds agent days (states, schedules, employment) for the workforce KPIs.
    pub fn with_agent_days(mut self, days: AgentDays) -> Self {
        // Reports without workforce KPIs have no agent days: nothing to add up.
        if days.is_empty() {
            return self;
        }
        let t = self.table;
        // Summed by the agent's code first: one name per agent day, not per contact.
        let mut by_code: HashMap<(u32, Date), (i64, i64)> = HashMap::default();
        for i in 0..t.len() {
            if t.outcome[i] != Outcome::Handled || t.agent[i] == Dict::NONE {
                continue;
            }
            let entry = by_code.entry((t.agent[i], self.local_day[i])).or_default();
            entry.0 += t.talk_ms[i] + t.hold_ms[i] + t.after_work_ms[i];
            entry.1 += 1;
        }
        self.handled = by_code
            .into_iter()
            .filter_map(|((code, day), sums)| Some(((t.agents.name(code)?.to_owned(), day), sums)))
            .collect();
        self.agent_days = days
            .into_iter()
            .map(|((agent, day), d)| (agent, day, d))
            .collect();
        self
    }

    fn in_period(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
}

/// A row a figure counts: a contact, or one survey answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "row", rename_all = "snake_case")]
pub enum Source {
    Contact(usize),
    SurveyAnswer(usize),
    /// One agent on one local day (index into the frame's agent days).
    AgentDay(usize),
    /// A cached aggregate (index into the frame's cached rows).
    Cached(usize),
}

/// What a row is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowAttributes<'a> {
    pub day: Date,
    /// The 15-minute interval key: local wall-clock start plus the offset tag.
    pub interval15: i64,
    pub agent: Option<&'a str>,
    pub queue: Option<&'a str>,
    pub contact_type: Option<&'a str>,
    pub channel: Option<crate::organisation::Channel>,
    pub site: Option<&'a str>,
}

/// A cached aggregate row as the frame holds it.
#[derive(Debug, Clone, Copy)]
struct CachedRow {
    day: Date,
    interval15: i64,
    agent: u32,
    queue: u32,
    channel: Option<crate::organisation::Channel>,
    contact_type: u32,
    window_end_ms: i64,
}

/// One row's part of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Part {
    pub source: Source,
    pub numerator: i64,
    pub denominator: i64,
    pub version: i64,
}

/// A computed figure: every figure names its definition and versions and
/// carries its numerator and denominator. `value` is `None` ("n/a") when the
/// denominator is empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub kpi: Kpi,
    pub definition: String,
    pub versions: Vec<i64>,
    pub numerator: i64,
    pub denominator: Option<i64>,
    pub value: Option<f64>,
    pub unit: Unit,
    /// Some FCR windows behind it have not closed yet.
    pub provisional: bool,
    /// Some days behind it were restated by a back-dated version.
    pub restated: bool,
    /// The target it is measured against, when one applies to its group.
    pub target: Option<FigureTarget>,
}

/// A figure's target and the zone its value falls in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureTarget {
    /// `centre`, `team:<id>` or `agent:<id>`: whose target it is.
    pub scope: String,
    pub target: f64,
    pub amber_limit: f64,
    pub zone: crate::metrics::Zone,
}

impl Figure {
    /// The value as printed: "n/a" for an empty denominator.
    pub fn display(&self) -> String {
        match self.value {
            None => "n/a".into(),
            Some(v) => match self.unit {
                Unit::Count | Unit::MinorUnits => format!("{v:.0}"),
                Unit::Percent => format!("{v:.3} %"),
                Unit::Seconds => format!("{v:.3} s"),
                Unit::Score => format!("{v:.3}"),
                Unit::QaPoints => format!("{v:.1}"),
                Unit::Points => format!("{v:.1}"),
                Unit::PerHour => format!("{v:.2} /h"),
                Unit::PercentOfAverageHeadcount => format!("{v:.2} %"),
            },
        }
    }
}

/// Per definition: which version applies to each local day, worked out once.
struct Versions<'h, 'f> {
    history: &'h DefinitionHistory,
    frame: &'f Frame<'f>,
    pinned: Option<i64>,
    skip: &'h HashSet<Date>,
    /// The last day asked and its answer: rows come day by day, so most
    /// rows are answered without a look-up.
    last: Option<(Date, Option<&'h DefinitionVersion>)>,
    by_day: HashMap<Date, Option<&'h DefinitionVersion>>,
}

impl<'h> Versions<'h, '_> {
    /// The version a part on `day` counts under; `None` when the day is
    /// outside the frame's period, left out (`skip`) or has no version.
    fn on(&mut self, day: Date) -> Option<&'h DefinitionVersion> {
        if let Some((last, version)) = self.last
            && last == day
        {
            return version;
        }
        let (history, as_of, pinned) = (self.history, self.frame.as_of_ms, self.pinned);
        let counted = self.frame.in_period(day) && !self.skip.contains(&day);
        let version = *self
            .by_day
            .entry(day)
            .or_insert_with(|| history.in_force(day, as_of, pinned).filter(|_| counted));
        self.last = Some((day, version));
        version
    }
}

/// The rows of `t` that name a customer, each customer's together in
/// order of arrival, each with whether it has the customer of the row
/// before it: what FCR by repeat contact walks.
pub fn customers_by_arrival(t: &ContactTable) -> Vec<(usize, bool)> {
    t.customer.grouped(&t.arrival_ms)
}

/// Per-contact FCR verdicts under one set of options, among the rows
/// `among` marks (the others are not there; every row when `None`):
/// `Some(true)` resolved (no repeat), `Some(false)` repeated, `None` not
/// counted; and whether the window was still open at `as_of_ms`.
/// `by_customer` is `customers_by_arrival(t)`.
fn fcr_verdicts(
    t: &ContactTable,
    (window_days, grace_s, fcr_match, as_of_ms): VerdictsKey,
    among: Option<&[bool]>,
    by_customer: &[(usize, bool)],
) -> Verdicts {
    let window_ms = window_days * 86_400_000;
    let grace_ms = grace_s * 1000;
    // Each customer's counted contacts together, in order of arrival.
    let counted_only: Vec<(usize, bool)>;
    let by_customer = match among {
        None => by_customer,
        Some(_) => {
            let mut counted_before = false;
            let counted = by_customer.iter().filter_map(|&(i, same_customer)| {
                counted_before &= same_customer;
                let same_counted_customer = counted_before;
                let counted = marked(among, i);
                counted_before |= counted;
                counted.then_some((i, same_counted_customer))
            });
            counted_only = counted.collect();
            &counted_only
        }
    };
    let mut verdicts = vec![(None, false); t.len()];
    for (k, &(i, _)) in by_customer.iter().enumerate() {
        if t.outcome[i] != Outcome::Handled {
            continue;
        }
        let window_end = t.end_ms[i] + window_ms;
        let repeated = by_customer[k + 1..]
            .iter()
            .take_while(|&&(j, same_customer)| same_customer && t.arrival_ms[j] <= window_end)
            .map(|&(j, _)| j)
            .filter(|&j| !(t.transferred[i] && t.arrival_ms[j] - t.end_ms[i] <= grace_ms))
            .any(|j| match fcr_match {
                FcrMatch::AnyContact => true,
                FcrMatch::SameContactType => t.contact_type[j] == t.contact_type[i],
                FcrMatch::SameWrapUp => t.wrap_up[j] == t.wrap_up[i],
            });
        verdicts[i] = (Some(!repeated), window_end > as_of_ms);
    }
    verdicts
}

/// A contact's (numerator, denominator) for a contact KPI, or `None` when it
/// is not part of the figure.
fn contact_part(kpi: Kpi, o: &KpiOptions, t: &ContactTable, i: usize) -> Option<(i64, i64)> {
    let outcome = t.outcome[i];
    let answered = t.answered[i] && outcome == Outcome::Handled;
    let wait_ms = t.wait_ms[i].max(0);
    let in_queue_abandon = matches!(outcome, Outcome::QueueAbandon | Outcome::ShortAbandon);
    // An abandon whose source gives no wait (a spreadsheet with a blank
    // wait): an abandon, never short, never within T, outside wait statistics.
    let wait_unknown = in_queue_abandon && t.wait_ms[i] < 0;
    let short = in_queue_abandon && !wait_unknown && wait_ms <= o.short_abandon_s * 1000;
    let abandon = in_queue_abandon && !short;
    let callback = outcome == Outcome::Callback;
    let offered = answered || abandon || (callback && o.callbacks_offered);
    let within = !wait_unknown && wait_ms <= o.threshold_s * 1000;
    let count = |yes: bool| yes.then_some((1, 0));
    let rate = |num: bool, den: bool| den.then_some((num as i64, 1));
    let mean = |value: i64, den: bool| den.then_some((value, 1));
    let handle_ms = t.talk_ms[i] + t.hold_ms[i] + t.after_work_ms[i];
    let digital_ms = |at: i64| {
        (at >= 0).then(|| match &o.business_hours {
            Some(hours) => hours.business_ms(t.arrival_ms[i], at),
            None => (at - t.arrival_ms[i]).max(0),
        })
    };
    use Kpi::*;
    match kpi {
        Offered => count(offered),
        Answered => count(answered),
        Handled => count(outcome == Outcome::Handled),
        QueueAbandons => count(abandon),
        ShortAbandons => count(short),
        MenuAbandons => count(outcome == Outcome::MenuAbandon),
        SystemDrops => count(outcome == Outcome::SystemDrop),
        Overflows => count(outcome == Outcome::Overflow),
        Refused => count(outcome == Outcome::Refused),
        AbandonRate => rate(abandon, offered),
        ServiceLevel => match o.service_level_variant {
            ServiceLevelVariant::AnsweredOverOffered => {
                rate(answered && within, answered || abandon)
            }
            ServiceLevelVariant::AnsweredOnly => rate(answered && within, answered),
            ServiceLevelVariant::AbandonsWithinCount => {
                rate(within && (answered || abandon), answered || abandon)
            }
            ServiceLevelVariant::AbandonsAfterOnly => {
                rate(answered && within, answered || (abandon && !within))
            }
        },
        Asa => mean(wait_ms, answered),
        AbandonWait => mean(wait_ms, in_queue_abandon && !wait_unknown),
        // Ranked statistics are worked out from the parts by `figure`.
        WaitPercentile | LongestWait => mean(wait_ms, offered && !wait_unknown),
        Aht => mean(handle_ms, outcome == Outcome::Handled),
        TalkTime => mean(t.talk_ms[i], outcome == Outcome::Handled),
        HoldTime => mean(t.hold_ms[i], outcome == Outcome::Handled),
        AfterCallWork => mean(t.after_work_ms[i], outcome == Outcome::Handled),
        TransferRate => rate(t.transferred[i], outcome == Outcome::Handled),
        HoldRatio => (outcome == Outcome::Handled).then_some((t.hold_ms[i], handle_ms)),
        FirstResponseTime => digital_ms(t.first_response_ms[i]).map(|ms| (ms, 1)),
        ResponseWithinTarget => {
            digital_ms(t.first_response_ms[i]).map(|ms| ((ms <= o.threshold_s * 1000) as i64, 1))
        }
        ResolutionTime => digital_ms(t.resolution_ms[i]).map(|ms| (ms, 1)),
        SalesConversion => rate(t.sale_minor[i] > 0, outcome == Outcome::Handled),
        RetainedValue => {
            (t.sale_minor[i] > 0 && !t.sale_cancelled[i]).then_some((t.sale_minor[i], 0))
        }
        _ => None,
    }
}

/// An agent day's (numerator, denominator) for a workforce KPI.
fn agent_day_part(kpi: Kpi, d: &AgentDay, handle_ms: i64, handled: i64) -> Option<(i64, i64)> {
    use crate::organisation::EmploymentEndReason::*;
    let leaver = |reason: Option<crate::organisation::EmploymentEndReason>| {
        d.employed.then_some((
            (d.left.is_some() && (reason.is_none() || d.left == reason)) as i64,
            1,
        ))
    };
    match kpi {
        Kpi::Occupancy => {
            let available_ms = (d.ready_ms - handle_ms).max(0);
            (handle_ms + available_ms > 0).then_some((handle_ms, handle_ms + available_ms))
        }
        Kpi::Utilisation => (d.logged_in_ms > 0).then_some((handle_ms, d.logged_in_ms)),
        Kpi::Adherence => {
            (d.scheduled_ms > 0).then_some((d.scheduled_ms - d.out_of_adherence_ms, d.scheduled_ms))
        }
        Kpi::Conformance => {
            (d.scheduled_on_queue_ms > 0).then_some((d.ready_ms, d.scheduled_on_queue_ms))
        }
        Kpi::ContactsPerHour => (d.logged_in_ms > 0).then_some((handled, d.logged_in_ms)),
        Kpi::Attrition | Kpi::Retention => leaver(None),
        Kpi::AttritionVoluntary => leaver(Some(Voluntary)),
        Kpi::AttritionInvoluntary => leaver(Some(Involuntary)),
        Kpi::AttritionInternalMove => leaver(Some(InternalMove)),
        _ => None,
    }
}

/// A survey answer's (numerator, denominator) for a survey KPI.
fn survey_part(kpi: Kpi, o: &KpiOptions, s: &SurveyFact) -> Option<(i64, i64)> {
    let v = s.value as i64;
    match kpi {
        Kpi::Csat if s.question_id == o.csat_question => {
            Some((o.csat_positive_values.contains(&s.value) as i64, 1))
        }
        Kpi::CsatMean if s.question_id == o.csat_question => Some((v, 1)),
        Kpi::Nps if s.question_id == o.nps_question => Some(((v >= 9) as i64 - (v <= 6) as i64, 1)),
        Kpi::FcrSurvey if s.question_id == o.fcr_question => Some(((v == 1) as i64, 1)),
        Kpi::QaScore => {
            let form = s.question_id.strip_prefix(QA_SCORE)?;
            o.qa_form
                .as_deref()
                .is_none_or(|f| f == form)
                .then_some((v, 1))
        }
        Kpi::QaAutoFailRate => {
            let (form, section) = s.question_id.strip_prefix(QA_AUTO_FAIL)?.rsplit_once(':')?;
            let wanted = o.qa_section.as_deref().unwrap_or(QA_WHOLE_FORM);
            (o.qa_form.as_deref().is_none_or(|f| f == form) && section == wanted).then_some((v, 1))
        }
        _ => None,
    }
}

/// The fact of an evaluation's score: `qa_score:{form name}`, valued in
/// hundredths of a point.
pub const QA_SCORE: &str = "qa_score:";
/// The facts of an evaluation's auto-fails: `qa_auto_fail:{form}:{section
/// key}` (or `:*` for the whole form), valued 1 when it was set to 0.
pub const QA_AUTO_FAIL: &str = "qa_auto_fail:";
pub const QA_WHOLE_FORM: &str = "*";

/// The label of a group whose rows have no value for a dimension (a contact
/// nobody answered has no agent).
pub const NO_GROUP: &str = "(none)";

/// Interval keys carry OFFSET_TAG − offset in minutes below the minute.
const OFFSET_TAG: i64 = 1_000;

/// The 15-minute interval key of a local wall-clock time and its instant.
fn interval15(local_ms: i64, utc_ms: i64) -> i64 {
    let width = 15 * 60_000;
    local_ms.div_euclid(width) * width + OFFSET_TAG - (local_ms - utc_ms) / 60_000
}

/// Group key of one row under the report's dimensions: small integer codes,
/// turned into labels once per group.
type Key = Vec<i64>;

/// Days from 1970-01-01 to a civil date (Hinnant's days-from-civil).
fn days_since_epoch(day: Date) -> i64 {
    let (month, d) = (i64::from(day.month()), i64::from(day.day()));
    let year = i64::from(day.year()) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Interns the labels that are not already small codes (team and site ids).
#[derive(Default)]
struct Labels {
    names: Dict,
}

impl Frame<'_> {
    /// What a row is grouped by, whatever its source.
    pub fn attributes(&self, source: Source) -> RowAttributes<'_> {
        let t = self.table;
        let contact = |i: usize, day: Date, interval: i64| RowAttributes {
            day,
            interval15: interval,
            agent: t.agents.name(t.agent[i]),
            queue: t.queues.name(t.queue[i]),
            contact_type: t.contact_types.name(t.contact_type[i]),
            channel: Some(t.channel[i]),
            site: self.sites.name(self.site[i]),
        };
        match source {
            Source::Contact(i) => contact(
                i,
                self.local_day[i],
                interval15(self.local_ms[i], t.arrival_ms[i]),
            ),
            Source::SurveyAnswer(s) => {
                let answer = &self.surveys[s];
                let (day, ms) = self.survey_local[s];
                match answer.contact_row {
                    Some(i) => contact(i, day, interval15(ms, t.arrival_ms[i])),
                    None => self.agent_only(
                        answer.agent_id.as_deref(),
                        day,
                        interval15(ms, answer.answered_ms),
                    ),
                }
            }
            Source::AgentDay(k) => {
                let (agent, day, _) = &self.agent_days[k];
                self.agent_only(
                    Some(agent),
                    *day,
                    days_since_epoch(*day) * 86_400_000 + OFFSET_TAG,
                )
            }
            Source::Cached(k) => {
                let c = &self.cached[k];
                let name = |n: u32| self.cache_names.name(n);
                let (agent, queue) = (name(c.agent), name(c.queue));
                RowAttributes {
                    day: c.day,
                    interval15: c.interval15,
                    agent,
                    queue,
                    contact_type: name(c.contact_type),
                    channel: c.channel,
                    site: self.org.site_of(queue, agent),
                }
            }
        }
    }

    fn agent_only<'s>(
        &'s self,
        agent: Option<&'s str>,
        day: Date,
        interval15: i64,
    ) -> RowAttributes<'s> {
        RowAttributes {
            day,
            interval15,
            agent,
            queue: None,
            contact_type: None,
            channel: None,
            site: agent
                .and_then(|a| self.org.agent_site.get(a))
                .map(String::as_str),
        }
    }

    fn key(&self, source: Source, dims: &[Dimension], labels: &mut Labels) -> Key {
        let a = self.attributes(source);
        dims.iter()
            .map(|dim| match dim {
                Dimension::Agent => labels.names.intern(a.agent) as i64,
                Dimension::Team => labels
                    .names
                    .intern(a.agent.and_then(|x| self.org.team_on(x, a.day)))
                    as i64,
                Dimension::Site => labels.names.intern(a.site) as i64,
                Dimension::Queue => labels.names.intern(a.queue) as i64,
                Dimension::ContactType => labels.names.intern(a.contact_type) as i64,
                Dimension::Channel => a.channel.map_or(-1, |c| c as i64),
                // The wall-clock start plus a tag for the offset, so the hour
                // repeated when clocks go back makes two intervals, in order.
                Dimension::Interval(minutes) => {
                    let width = minutes * 60_000;
                    let tag = a.interval15.rem_euclid(60_000);
                    (a.interval15 - tag).div_euclid(width) * width + tag
                }
                Dimension::Day => days_since_epoch(a.day),
                Dimension::Week => {
                    days_since_epoch(a.day) - a.day.weekday().to_monday_zero_offset() as i64
                }
                Dimension::Month => a.day.year() as i64 * 12 + a.day.month() as i64 - 1,
            })
            .collect()
    }

    /// Every group a one-dimension report lists even without data: each
    /// day, week or month of the period; each agent employed in it; each team.
    fn all_keys(&self, dim: Dimension, labels: &mut Labels) -> Vec<i64> {
        let mut keys = Vec::new();
        match dim {
            Dimension::Day | Dimension::Week | Dimension::Month => {
                for day in days_from_to(self.from, self.to) {
                    keys.push(match dim {
                        Dimension::Day => days_since_epoch(day),
                        Dimension::Week => {
                            days_since_epoch(day) - day.weekday().to_monday_zero_offset() as i64
                        }
                        _ => day.year() as i64 * 12 + day.month() as i64 - 1,
                    });
                }
                keys.dedup();
            }
            Dimension::Agent => {
                for (id, hired, last) in &self.org.agents {
                    if *hired <= self.to && last.is_none_or(|l| l >= self.from) {
                        keys.push(labels.names.intern(Some(id)) as i64);
                    }
                }
            }
            Dimension::Team => {
                for id in &self.org.teams {
                    keys.push(labels.names.intern(Some(id)) as i64);
                }
            }
            _ => {}
        }
        keys
    }

    fn label(&self, dims: &[Dimension], key: &Key, labels: &Labels) -> Vec<String> {
        let name = |dict: &Dict, code: i64| {
            u32::try_from(code)
                .ok()
                .and_then(|c| dict.name(c))
                .unwrap_or(NO_GROUP)
                .to_owned()
        };
        dims.iter()
            .zip(key)
            .map(|(dim, &code)| match dim {
                Dimension::Agent
                | Dimension::Team
                | Dimension::Site
                | Dimension::Queue
                | Dimension::ContactType => name(&labels.names, code),
                Dimension::Channel => crate::organisation::Channel::ALL
                    .get(code as usize)
                    .map_or(NO_GROUP, |c| c.as_str())
                    .to_owned(),
                Dimension::Interval(_) => {
                    let offset_min = OFFSET_TAG - code.rem_euclid(60_000);
                    let wall = Timestamp::from_millisecond(code - code.rem_euclid(60_000))
                        .map(|ts| {
                            ts.to_zoned(TimeZone::UTC)
                                .strftime("%Y-%m-%d %H:%M")
                                .to_string()
                        })
                        .unwrap_or_default();
                    let sign = if offset_min < 0 { '-' } else { '+' };
                    let abs = offset_min.abs();
                    format!("{wall}{sign}{:02}:{:02}", abs / 60, abs % 60)
                }
                Dimension::Day => civil_day(code).to_string(),
                Dimension::Week => {
                    let monday = civil_day(code);
                    let week = monday.iso_week_date();
                    format!("{}-W{:02}", week.year(), week.week())
                }
                Dimension::Month => {
                    format!("{}-{:02}", code.div_euclid(12), code.rem_euclid(12) + 1)
                }
            })
            .collect()
    }
}

/// Every row's part of one definition's figure over the frame's period,
/// each under the version in force on its local day (or the pinned one).
pub fn parts(frame: &Frame, history: &DefinitionHistory, pinned: Option<i64>) -> Vec<Part> {
    parts_except(frame, history, pinned, &HashSet::default())
}

/// `parts`, leaving out the local days in `skip` (those read from the cache).
pub fn parts_except(
    frame: &Frame,
    history: &DefinitionHistory,
    pinned: Option<i64>,
    skip: &HashSet<Date>,
) -> Vec<Part> {
    parts_counting(frame, history, (pinned, skip), Counting::default())
}

/// `parts_except` of the rows `counting` counts.
fn parts_counting(
    frame: &Frame,
    history: &DefinitionHistory,
    job: (Option<i64>, &HashSet<Date>),
    counting: Counting,
) -> Vec<Part> {
    let mut out = Vec::new();
    each_part(frame, history, job, counting, |part| out.push(part));
    out
}

/// Hands each part of `parts_except` (of the rows `counting` counts) to
/// `out`, in the same order.
fn each_part(
    frame: &Frame,
    history: &DefinitionHistory,
    (pinned, skip): (Option<i64>, &HashSet<Date>),
    counting: Counting,
    mut out: impl FnMut(Part),
) {
    let Some(first) = history.versions.first() else {
        return;
    };
    let kpi = first.kpi;
    let mut versions = Versions {
        history,
        frame,
        pinned,
        skip,
        last: None,
        by_day: HashMap::default(),
    };
    if kpi.from_surveys() {
        for (s, answer) in frame.surveys.iter().enumerate() {
            if answer.contact_row.is_some_and(|row| !counting.counts(row)) {
                continue;
            }
            let day = frame.survey_local[s].0;
            let Some(v) = versions.on(day) else { continue };
            if let Some((numerator, denominator)) = survey_part(kpi, &v.options, answer) {
                out(Part {
                    source: Source::SurveyAnswer(s),
                    numerator,
                    denominator,
                    version: v.version,
                });
            }
        }
        return;
    }
    if kpi.from_agent_days() {
        for (k, (agent, day, d)) in frame.agent_days.iter().enumerate() {
            let Some(v) = versions.on(*day) else { continue };
            let (handle_ms, handled) = frame
                .handled
                .get(&(agent.clone(), *day))
                .copied()
                .unwrap_or_default();
            if let Some((numerator, denominator)) = agent_day_part(kpi, d, handle_ms, handled) {
                out(Part {
                    source: Source::AgentDay(k),
                    numerator,
                    denominator,
                    version: v.version,
                });
            }
        }
        return;
    }
    let t = frame.table;
    let mut fcr: HashMap<i64, Arc<Verdicts>> = HashMap::default();
    for i in 0..t.len() {
        if !counting.counts(i) {
            continue;
        }
        let day = frame.local_day[i];
        let Some(v) = versions.on(day) else { continue };
        let part = if kpi == Kpi::FcrRepeat {
            let verdicts = fcr
                .entry(v.version)
                .or_insert_with(|| frame.fcr_verdicts(&v.options, counting));
            verdicts[i].0.map(|resolved| (resolved as i64, 1))
        } else {
            contact_part(kpi, &v.options, t, i)
        };
        if let Some((numerator, denominator)) = part {
            out(Part {
                source: Source::Contact(i),
                numerator,
                denominator,
                version: v.version,
            });
        }
    }
}

/// Whether an FCR part's window was still open at the frame's `as_of_ms`.
fn provisional(frame: &Frame, history: &DefinitionHistory, part: &Part) -> bool {
    frame.window_end_ms(history, part) > frame.as_of_ms
}

/// Whether a part's day was restated: its version is back-dated over that day.
fn restated(frame: &Frame, history: &DefinitionHistory, part: &Part) -> bool {
    let day = match part.source {
        Source::Contact(i) => frame.local_day[i],
        Source::SurveyAnswer(s) => frame.survey_local[s].0,
        Source::AgentDay(k) => frame.agent_days[k].1,
        Source::Cached(k) => frame.cached[k].day,
    };
    history
        .versions
        .iter()
        .any(|v| v.version == part.version && v.is_back_dated() && day < v.recorded_on)
}

/// Folds parts into one figure.
pub fn figure(frame: &Frame, history: &DefinitionHistory, parts: &[&Part]) -> Figure {
    let first = &history.versions[0];
    let kpi = first.kpi;
    let unit = kpi.unit();
    let versions: BTreeSet<i64> = parts.iter().map(|p| p.version).collect();
    let mut numerator: i64 = parts.iter().map(|p| p.numerator).sum();
    let mut denominator: i64 = parts.iter().map(|p| p.denominator).sum();
    if matches!(kpi, Kpi::WaitPercentile | Kpi::LongestWait) {
        // Nearest rank: the ceil(p/100 × n)-th smallest wait; numerator is
        // that wait in ms, denominator the number of waits ranked.
        let mut waits: Vec<i64> = parts.iter().map(|p| p.numerator).collect();
        waits.sort_unstable();
        let percentile = match kpi {
            Kpi::LongestWait => 100,
            _ => parts
                .first()
                .and_then(|p| history.versions.iter().find(|v| v.version == p.version))
                .map_or(first.options.percentile, |v| v.options.percentile),
        } as usize;
        denominator = waits.len() as i64;
        let rank = (percentile * waits.len()).div_ceil(100).max(1);
        numerator = waits.get(rank - 1).copied().unwrap_or(0);
    }
    let value = match unit {
        Unit::Count | Unit::MinorUnits => Some(numerator as f64),
        _ if denominator == 0 => None,
        Unit::PerHour => Some(numerator as f64 * 3_600_000.0 / denominator as f64),
        Unit::PercentOfAverageHeadcount => {
            let days = frame
                .to
                .since(frame.from)
                .map_or(1, |s| s.get_days() as i64 + 1);
            let attrition = numerator as f64 * days as f64 * 100.0 / denominator as f64;
            Some(if kpi == Kpi::Retention {
                100.0 - attrition
            } else {
                attrition
            })
        }
        Unit::Percent | Unit::Points => Some(numerator as f64 * 100.0 / denominator as f64),
        Unit::Seconds if matches!(kpi, Kpi::WaitPercentile | Kpi::LongestWait) => {
            Some(numerator as f64 / 1000.0)
        }
        Unit::Seconds => Some(numerator as f64 / denominator as f64 / 1000.0),
        Unit::Score => Some(numerator as f64 / denominator as f64),
        Unit::QaPoints => Some(numerator as f64 / 100.0 / denominator as f64),
    };
    Figure {
        kpi,
        definition: first.name.clone(),
        versions: versions.into_iter().collect(),
        numerator,
        denominator: unit.has_denominator().then_some(denominator),
        value,
        unit,
        provisional: parts.iter().any(|p| provisional(frame, history, p)),
        restated: parts.iter().any(|p| restated(frame, history, p)),
        target: None,
    }
}

/// One group's figures, in the order the definitions were asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    pub group: Vec<String>,
    pub figures: Vec<Figure>,
}

/// A report: rows by group, plus a total row, and flags that apply to the
/// whole period (a definition changed inside it, days restated, a variant
/// that ignores abandons).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub dimensions: Vec<String>,
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
    pub flags: Vec<String>,
}

/// Computes the definitions' figures grouped by `dims`. `pinned[k]` forces a
/// version of definition `k` for every day (recompute under another version).
pub fn report(
    frame: &Frame,
    definitions: &[(&DefinitionHistory, Option<i64>)],
    dims: &[Dimension],
) -> Report {
    let all_parts: Vec<Vec<Part>> = definitions
        .iter()
        .map(|(history, pinned)| parts(frame, history, *pinned))
        .collect();
    report_from_parts(frame, definitions, &all_parts, dims)
}

/// A report from parts already worked out (from rows, or from the cache):
/// `all_parts[k]` are the parts of `definitions[k]`.
pub fn report_from_parts(
    frame: &Frame,
    definitions: &[(&DefinitionHistory, Option<i64>)],
    all_parts: &[Vec<Part>],
    dims: &[Dimension],
) -> Report {
    let mut labels = Labels::default();
    // Groups in a Vec, found by key; each row's group is worked out once,
    // however many definitions count it.
    let mut groups: Vec<(Key, Vec<Vec<&Part>>)> = Vec::new();
    let mut group_of_key: HashMap<Key, usize> = HashMap::default();
    let mut group_index =
        |key: Key, groups: &mut Vec<(Key, Vec<Vec<&Part>>)>| match group_of_key.get(&key) {
            Some(&g) => g,
            None => {
                group_of_key.insert(key.clone(), groups.len());
                groups.push((key, vec![Vec::new(); definitions.len()]));
                groups.len() - 1
            }
        };
    // The group of each row already seen, by source kind and index.
    let mut group_of_row: [Vec<u32>; 4] = Default::default();
    let slot = |source: Source| match source {
        Source::Contact(i) => (0, i),
        Source::SurveyAnswer(i) => (1, i),
        Source::AgentDay(i) => (2, i),
        Source::Cached(i) => (3, i),
    };
    for (k, parts) in all_parts.iter().enumerate() {
        for part in parts {
            let (kind, i) = slot(part.source);
            let seen = &mut group_of_row[kind];
            if seen.len() <= i {
                seen.resize(i + 1, u32::MAX);
            }
            let g = match seen[i] {
                u32::MAX => {
                    let g = group_index(frame.key(part.source, dims, &mut labels), &mut groups);
                    group_of_row[kind][i] = g as u32;
                    g
                }
                g => g as usize,
            };
            groups[g].1[k].push(part);
        }
    }
    if let [dim] = dims {
        for key in frame.all_keys(*dim, &mut labels) {
            group_index(vec![key], &mut groups);
        }
    }
    let mut keyed: Vec<(&Key, ReportRow)> = groups
        .iter()
        .map(|(key, per_definition)| {
            let row = ReportRow {
                group: frame.label(dims, key, &labels),
                figures: definitions
                    .iter()
                    .zip(per_definition)
                    .map(|((history, _), parts)| figure(frame, history, parts))
                    .collect(),
            };
            (key, row)
        })
        .collect();
    // Names sort by label, times by their key (chronological).
    let is_time = |d: &Dimension| {
        matches!(
            d,
            Dimension::Interval(_) | Dimension::Day | Dimension::Week | Dimension::Month
        )
    };
    keyed.sort_by(|(ka, a), (kb, b)| {
        dims.iter()
            .enumerate()
            .map(|(n, d)| {
                if is_time(d) {
                    ka[n].cmp(&kb[n])
                } else {
                    a.group[n].cmp(&b.group[n])
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut rows: Vec<ReportRow> = keyed.into_iter().map(|(_, row)| row).collect();
    let mut total = ReportRow {
        group: vec!["total".into()],
        figures: definitions
            .iter()
            .zip(all_parts)
            .map(|((history, _), parts)| figure(frame, history, &parts.iter().collect::<Vec<_>>()))
            .collect(),
    };
    // A pinned definition is labelled NAME@VERSION, so one report can show
    // the same definition under two versions side by side.
    for row in rows.iter_mut().chain(std::iter::once(&mut total)) {
        for (figure, (_, pinned)) in row.figures.iter_mut().zip(definitions) {
            if let Some(version) = pinned {
                figure.definition = format!("{}@{version}", figure.definition);
            }
        }
    }
    let flags = flags(frame, definitions, &total);
    Report {
        dimensions: dims.iter().map(|d| d.name().to_owned()).collect(),
        rows,
        total,
        flags,
    }
}

fn flags(
    frame: &Frame,
    definitions: &[(&DefinitionHistory, Option<i64>)],
    total: &ReportRow,
) -> Vec<String> {
    let mut flags = Vec::new();
    for ((history, _), figure) in definitions.iter().zip(&total.figures) {
        if figure.versions.len() > 1 {
            let used: Vec<String> = figure
                .versions
                .iter()
                .filter_map(|n| history.versions.iter().find(|v| v.version == *n))
                .map(|v| format!("v{} from {}", v.version, v.effective_from))
                .collect();
            flags.push(format!(
                "{}: the definition changed within the period ({}); figures mix versions",
                figure.definition,
                used.join(", ")
            ));
        }
        for v in history.versions.iter().filter(|v| {
            figure.versions.contains(&v.version)
                && v.is_back_dated()
                && v.effective_from <= frame.to
                && v.recorded_on > frame.from
        }) {
            flags.push(format!(
                "{}: restated by v{} (recorded {}, effective from {}): {}; earlier figures: --as-of before it",
                figure.definition,
                v.version,
                v.recorded_on,
                v.effective_from,
                v.reason.as_deref().unwrap_or("no reason given")
            ));
        }
        let ignores_abandons = figure.kpi == Kpi::ServiceLevel
            && history.versions.iter().any(|v| {
                figure.versions.contains(&v.version)
                    && v.options.service_level_variant == ServiceLevelVariant::AnsweredOnly
            });
        if ignores_abandons {
            flags.push(format!(
                "{}: the answered_only variant ignores abandoned contacts",
                figure.definition
            ));
        }
        if figure.provisional {
            flags.push(format!(
                "{}: provisional, some repeat-contact windows have not closed",
                figure.definition
            ));
        }
    }
    flags
}

/// The rows behind one group of a report (the drill-down): each with its
/// numerator and denominator part, which sum to the figure's.
pub fn drill_down(
    frame: &Frame,
    history: &DefinitionHistory,
    pinned: Option<i64>,
    dims: &[Dimension],
    group: &[String],
) -> Vec<Part> {
    let mut labels = Labels::default();
    parts(frame, history, pinned)
        .into_iter()
        .filter(|p| {
            let key = frame.key(p.source, dims, &mut labels);
            frame.label(dims, &key, &labels) == group
        })
        .collect()
}

/// Whether a definition's figures can come from the cache: ranked waits
/// need every wait, and workforce KPIs are worked out per agent day.
pub fn cacheable(kpi: Kpi) -> bool {
    // Evaluations change without an import (which is what clears the cache).
    !matches!(kpi, Kpi::WaitPercentile | Kpi::LongestWait)
        && !kpi.from_agent_days()
        && !kpi.from_evaluations()
}

/// The row attributes a report grouped by `dims` needs; cached aggregates
/// keep only these (the local day is always kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Projection {
    pub agent: bool,
    pub queue: bool,
    pub interval: bool,
    pub channel: bool,
    pub contact_type: bool,
    /// Local days and intervals in the agents' zones (`ZoneRule::Agent`).
    pub agent_zones: bool,
}

impl Projection {
    pub fn for_dimensions(dims: &[Dimension]) -> Self {
        let mut p = Projection {
            agent_zones: ZoneRule::for_dimensions(dims) == ZoneRule::Agent,
            ..Projection::default()
        };
        for dim in dims {
            match dim {
                Dimension::Agent | Dimension::Team => p.agent = true,
                Dimension::Site => (p.agent, p.queue) = (true, true),
                Dimension::Queue => p.queue = true,
                Dimension::Channel => p.channel = true,
                Dimension::ContactType => p.contact_type = true,
                Dimension::Interval(_) => p.interval = true,
                Dimension::Day | Dimension::Week | Dimension::Month => {}
            }
        }
        p
    }

    /// The name the cache stores it under, e.g. `agent,interval`; agent
    /// and team reports keep days in the agents' zones (`ZoneRule`).
    pub fn name(self) -> String {
        let kept = [
            (self.agent, "agent"),
            (self.queue, "queue"),
            (self.interval, "interval"),
            (self.channel, "channel"),
            (self.contact_type, "contact_type"),
        ];
        let names: Vec<&str> = kept.iter().filter(|k| k.0).map(|k| k.1).collect();
        let kept = if names.is_empty() {
            "day".into()
        } else {
            names.join(",")
        };
        if self.agent_zones {
            format!("{kept}@agent_zones")
        } else {
            kept
        }
    }

    /// The projection `name` gave this name (`None` for other text).
    pub fn parse(name: &str) -> Option<Self> {
        let (kept, agent_zones) = match name.strip_suffix("@agent_zones") {
            Some(kept) => (kept, true),
            None => (name, false),
        };
        let mut p = Projection {
            agent_zones,
            ..Projection::default()
        };
        if kept != "day" {
            for attribute in kept.split(',') {
                let flag = match attribute {
                    "agent" => &mut p.agent,
                    "queue" => &mut p.queue,
                    "interval" => &mut p.interval,
                    "channel" => &mut p.channel,
                    "contact_type" => &mut p.contact_type,
                    _ => return None,
                };
                *flag = true;
            }
        }
        (p.name() == name).then_some(p)
    }
}

/// A dictionary that finds text by its address first: a frame's names
/// point into a few dictionaries that do not move while it lives, so most
/// lookups hash a pointer, not the text.
#[derive(Default)]
struct NamesByAddress {
    dict: Dict,
    by_address: HashMap<(usize, usize), u32>,
}

impl NamesByAddress {
    fn code(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else {
            return Dict::NONE;
        };
        let address = (name.as_ptr() as usize, name.len());
        *self
            .by_address
            .entry(address)
            .or_insert_with(|| self.dict.intern(Some(name)))
    }
}

type CellKey = (
    Date,
    i64,
    u32,
    u32,
    Option<crate::organisation::Channel>,
    u32,
);

/// Every row of a frame that can make a part in the period, put in a cell:
/// the local day and the attributes `projection` keeps (names coded once
/// here), so each definition sums its parts by cell index instead of
/// hashing every part's attributes again.
pub struct Cells {
    names: NamesByAddress,
    keys: Vec<CellKey>,
    contact: Vec<u32>,
    survey: Vec<u32>,
    agent_day: Vec<u32>,
}

impl Cells {
    const NONE: u32 = u32::MAX;

    pub fn new(frame: &Frame, p: Projection) -> Self {
        let mut cells = Cells {
            names: NamesByAddress::default(),
            keys: Vec::new(),
            contact: Vec::new(),
            survey: Vec::new(),
            agent_day: Vec::new(),
        };
        let mut by_key: HashMap<CellKey, u32> = HashMap::default();
        let mut cell_of = |key: CellKey, cells: &mut Cells| {
            let next = cells.keys.len() as u32;
            let cell = *by_key.entry(key).or_insert(next);
            if cell == next {
                cells.keys.push(key);
            }
            cell
        };
        let day_key = |day: Date| days_since_epoch(day) * 86_400_000 + OFFSET_TAG;
        let key_of = |a: RowAttributes, names: &mut NamesByAddress| {
            (
                a.day,
                if p.interval {
                    a.interval15
                } else {
                    day_key(a.day)
                },
                names.code(a.agent.filter(|_| p.agent)),
                names.code(a.queue.filter(|_| p.queue)),
                a.channel.filter(|_| p.channel),
                names.code(a.contact_type.filter(|_| p.contact_type)),
            )
        };
        // Contacts' names coded once per dictionary value, not per row.
        let t = frame.table;
        let coded = |dict: &Dict, kept: bool, names: &mut NamesByAddress| -> Vec<u32> {
            match kept {
                true => dict.names.iter().map(|n| names.code(Some(n))).collect(),
                false => Vec::new(),
            }
        };
        let agents = coded(&t.agents, p.agent, &mut cells.names);
        let queues = coded(&t.queues, p.queue, &mut cells.names);
        let kinds = coded(&t.contact_types, p.contact_type, &mut cells.names);
        let code = |codes: &[u32], i: u32| codes.get(i as usize).copied().unwrap_or(Dict::NONE);
        for i in 0..t.len() {
            let day = frame.local_day[i];
            if !frame.in_period(day) {
                cells.contact.push(Self::NONE);
                continue;
            }
            let key = (
                day,
                match p.interval {
                    true => interval15(frame.local_ms[i], t.arrival_ms[i]),
                    false => day_key(day),
                },
                code(&agents, t.agent[i]),
                code(&queues, t.queue[i]),
                Some(t.channel[i]).filter(|_| p.channel),
                code(&kinds, t.contact_type[i]),
            );
            let cell = cell_of(key, &mut cells);
            cells.contact.push(cell);
        }
        // An answer to a contact is grouped as its contact is.
        for (s, answer) in frame.surveys.iter().enumerate() {
            let cell = match answer.contact_row {
                Some(row) => cells.contact.get(row).copied().unwrap_or(Self::NONE),
                None => {
                    let a = frame.attributes(Source::SurveyAnswer(s));
                    match frame.in_period(a.day) {
                        true => cell_of(key_of(a, &mut cells.names), &mut cells),
                        false => Self::NONE,
                    }
                }
            };
            cells.survey.push(cell);
        }
        for k in 0..frame.agent_days.len() {
            let a = frame.attributes(Source::AgentDay(k));
            let cell = match frame.in_period(a.day) {
                true => cell_of(key_of(a, &mut cells.names), &mut cells),
                false => Self::NONE,
            };
            cells.agent_day.push(cell);
        }
        cells
    }

    fn of(&self, source: Source) -> u32 {
        let cell = match source {
            Source::Contact(i) => self.contact.get(i),
            Source::SurveyAnswer(s) => self.survey.get(s),
            Source::AgentDay(k) => self.agent_day.get(k),
            Source::Cached(_) => None,
        };
        cell.copied().unwrap_or(Self::NONE)
    }
}

/// Folds the parts of `parts_except` (of the rows `counting` counts) into
/// per-day cache aggregates, by version and local day, keeping the
/// attributes of `cells`' projection (the parts are not kept).
fn to_cache(
    frame: &Frame,
    history: &DefinitionHistory,
    job: (Option<i64>, &HashSet<Date>),
    cells: &Cells,
    counting: Counting,
) -> HashMap<(i64, Date), CachedDay> {
    use crate::metrics::cache::CacheEntry;
    // Per cell, its entry, filed under the version of its first part (a
    // cell is one local day, and a day has one version); each day's names
    // coded in order of first use.
    let mut sums: Vec<Option<CacheEntry>> = vec![None; cells.keys.len()];
    let mut days: HashMap<(i64, Date), (NamesByAddress, Vec<u32>)> = HashMap::default();
    each_part(frame, history, job, counting, |part| {
        let cell = cells.of(part.source);
        let Some(slot) = sums.get_mut(cell as usize) else {
            return;
        };
        let entry = slot.get_or_insert_with(|| {
            let (day, interval, agent, queue, channel, contact_type) = cells.keys[cell as usize];
            let (names, in_day) = days.entry((part.version, day)).or_default();
            in_day.push(cell);
            let name = |code: u32| cells.names.dict.name(code);
            let agent = names.code(name(agent));
            let queue = names.code(name(queue));
            CacheEntry {
                interval,
                agent,
                queue,
                channel,
                contact_type: names.code(name(contact_type)),
                numerator: 0,
                denominator: 0,
                window_end_ms: 0,
            }
        });
        entry.numerator += part.numerator;
        entry.denominator += part.denominator;
        entry.window_end_ms = entry.window_end_ms.max(frame.window_end_ms(history, &part));
    });
    days.into_iter()
        .map(|(day, (names, in_day))| {
            let mut entries: Vec<CacheEntry> = in_day
                .iter()
                .filter_map(|&cell| sums[cell as usize])
                .collect();
            entries.sort_by_key(|e| (e.interval, e.agent, e.queue, e.contact_type));
            (
                day,
                CachedDay {
                    names: names.dict.names,
                    entries,
                },
            )
        })
        .collect()
}

/// What a definition's rows give a report: per-day aggregates for the
/// cache (`cacheable` KPIs), or its parts.
pub enum FromRows {
    Days(HashMap<(i64, Date), CachedDay>),
    Parts(Vec<Part>),
}

/// One definition to work out from rows: its history, pinned version and
/// the local days to leave out (read from the cache).
pub type RowJob<'h> = (&'h DefinitionHistory, Option<i64>, HashSet<Date>);

/// Works out each job from the frame's rows, the definitions shared out
/// over the machine's cores (each definition is a pass of its own over
/// the same rows); results in the order of `jobs`.
pub fn from_rows(frame: &Frame, jobs: &[RowJob], projection: Projection) -> Vec<FromRows> {
    let cached = jobs
        .iter()
        .any(|(h, _, _)| h.versions.first().is_some_and(|v| cacheable(v.kpi)));
    let cells = cached.then(|| Cells::new(frame, projection));
    from_rows_counting(frame, jobs, cells.as_ref(), Counting::default())
}

/// `from_rows` over the rows `counting` counts, with the frame's `cells`
/// of the projection (needed for the `cacheable` jobs) made beforehand:
/// several passes over one frame, each counting other rows, share them.
pub fn from_rows_counting(
    frame: &Frame,
    jobs: &[RowJob],
    cells: Option<&Cells>,
    counting: Counting,
) -> Vec<FromRows> {
    let work = |(history, pinned, skip): &RowJob| {
        let job = (*pinned, skip);
        match (history.versions.first(), cells) {
            (Some(v), Some(cells)) if cacheable(v.kpi) => {
                FromRows::Days(to_cache(frame, history, job, cells, counting))
            }
            _ => FromRows::Parts(parts_counting(frame, history, job, counting)),
        }
    };
    // The costliest first (repeat-contact FCR sorts every contact by
    // customer), so no core is left with it at the end.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&k| jobs[k].0.versions.first().map(|v| v.kpi) != Some(Kpi::FcrRepeat));
    let mut done: Vec<(usize, FromRows)> =
        crate::metrics::cores::on_cores(jobs.len(), |n| (order[n], work(&jobs[order[n]])));
    done.sort_by_key(|(k, _)| *k);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_projection_is_read_back_from_its_name_and_only_from_it() {
        for bits in 0..64u32 {
            let on = |k: u32| bits & (1 << k) != 0;
            let p = Projection {
                agent: on(0),
                queue: on(1),
                interval: on(2),
                channel: on(3),
                contact_type: on(4),
                agent_zones: on(5),
            };
            assert_eq!(Projection::parse(&p.name()), Some(p), "{}", p.name());
        }
        for other in [
            "queue,agent",
            "agent,agent",
            "agent,team",
            "",
            "day,agent",
            "agent@zones",
        ] {
            assert_eq!(Projection::parse(other), None, "{other}");
        }
    }

    #[test]
    fn fcr_verdicts_counting_some_rows_are_those_of_a_table_of_those_rows() {
        use crate::metrics::table::ContactFacts;
        use crate::organisation::Channel;
        // Four customers' contacts and some without a customer, an hour
        // apart, taken in turn; a one-day window, so most have a repeat.
        let contact = |n: i64| ContactFacts {
            source_system: "acd".into(),
            source_id: format!("c{n}"),
            channel: Channel::VoiceInbound,
            queue_id: None,
            contact_type: None,
            customer_id: (n % 5 != 4).then(|| format!("cust{}", n % 5)),
            agent_id: None,
            wrap_up_code: None,
            arrival_ms: n * 3_600_000,
            end_ms: n * 3_600_000 + 600_000,
            outcome: Outcome::Handled,
            wait_ms: None,
            answered: true,
            talk_ms: 600_000,
            hold_ms: 0,
            after_work_ms: 0,
            transferred: false,
            first_response_ms: None,
            resolution_ms: None,
            sale_minor: None,
            sale_cancelled: false,
        };
        let rows: Vec<ContactFacts> = (0..60).map(contact).collect();
        let mut whole = ContactTable::default();
        for c in &rows {
            whole.push(c.clone());
        }
        let key = (1, 0, FcrMatch::AnyContact, 0);
        // Leaving out every third row, each customer's first rows (so a
        // group starts with a row left out), or all but a few.
        let masks: [Vec<bool>; 3] = [
            (0..60).map(|n| n % 3 != 0).collect(),
            (0..60).map(|n| n >= 10).collect(),
            (0..60).map(|n| n % 7 == 2 || n % 11 == 0).collect(),
        ];
        for only in &masks {
            let counted = fcr_verdicts(&whole, key, Some(only), &customers_by_arrival(&whole));
            let mut alone = ContactTable::default();
            for (c, _) in rows.iter().zip(only).filter(|(_, counted)| **counted) {
                alone.push(c.clone());
            }
            let by_alone = fcr_verdicts(&alone, key, None, &customers_by_arrival(&alone));
            let kept: Vec<_> = (0..60).filter(|&i| only[i]).map(|i| counted[i]).collect();
            assert_eq!(kept, by_alone);
            assert!(kept.iter().any(|v| v.0 == Some(false)));
            assert!(kept.iter().any(|v| v.0 == Some(true)));
            assert!(
                (0..60)
                    .filter(|&i| !only[i])
                    .all(|i| counted[i].0.is_none())
            );
        }
    }

    #[test]
    fn hour_offsets_agree_with_each_instant_looked_up_across_dst_changes() {
        // Europe/Dublin's and Australia/Lord_Howe's (a 30-minute step)
        // changes in 2026, every 7 minutes and 13 seconds through them.
        let mut offsets = HourOffsets::default();
        for (zone, around) in [
            (
                "Europe/Dublin",
                ["2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z"],
            ),
            (
                "Australia/Lord_Howe",
                ["2026-04-04T15:00:00Z", "2026-10-03T15:30:00Z"],
            ),
        ] {
            let zone = TimeZone::get(zone).unwrap();
            for at in around {
                let change: Timestamp = at.parse().unwrap();
                let mid = change.as_millisecond();
                for ms in (mid - 3 * 3_600_000..mid + 3 * 3_600_000).step_by(433_000) {
                    assert_eq!(offsets.local(&zone, ms), local(&zone, ms), "{ms}");
                }
            }
        }
    }

    #[test]
    fn civil_day_arithmetic_agrees_with_jiff() {
        let epoch = Date::constant(1970, 1, 1);
        for days in (-800_000..800_000).step_by(997) {
            let by_jiff = epoch.checked_add(jiff::Span::new().days(days)).unwrap();
            assert_eq!(civil_day(days), by_jiff, "{days}");
            assert_eq!(days_since_epoch(by_jiff), days);
        }
    }
}
