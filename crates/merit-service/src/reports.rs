//! Reports, drill-downs, definitions and targets as a caller may see and
//! change them. A caller's scope becomes a leading dimension of the report
//! and only its own group is kept: an agent sees the figures of their own
//! contacts, a team lead their team's (the team an agent was in on each
//! day), a site's manager their site's; totals are the scope's, never the
//! centre's. Definitions and targets are read by everyone signed in and
//! changed by operations managers and administrators.

use crate::access::{Caller, READERS};
use crate::metrics::{
    self, Definitions, DrillRow, FigurePart, NewVersion, ReportRequest, SetTarget,
};
use crate::{Clock, ServiceError};
use merit_domain::access::{Role, Scope};
use merit_domain::metrics::{DefinitionVersion, Dimension, Report, Target, TargetScope};
use merit_store::Store;

/// Who sets definitions and targets (SPEC.md: the CX / operations manager).
const SETTERS: &[Role] = &[Role::OperationsManager, Role::Administrator];

/// The dimension and group value a caller's figures are confined to, if any.
fn confinement(caller: &Caller) -> Result<Option<(Dimension, String)>, ServiceError> {
    caller.may_read(READERS)?;
    Ok(match &caller.scope {
        Scope::Centre => None,
        Scope::Site(id) => Some((Dimension::Site, id.clone())),
        Scope::Team(id) => Some((Dimension::Team, id.clone())),
        Scope::OwnRecords => Some((
            Dimension::Agent,
            caller.agent_id.clone().ok_or(ServiceError::NotFound)?,
        )),
        Scope::Contract(_) => return Err(ServiceError::NotFound),
    })
}

/// A KPI report, confined to the caller's scope.
pub async fn report(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    request: &ReportRequest,
) -> Result<Report, ServiceError> {
    let Some((dimension, value)) = confinement(caller)? else {
        return metrics::kpi_report(store, clock, caller.tenant, request).await;
    };
    let mut detail_request = request.clone();
    detail_request.dimensions.insert(0, dimension);
    let mut total_request = request.clone();
    total_request.dimensions = vec![dimension];
    // Both from one load of the period's rows.
    let [detail, totals]: [Report; 2] = metrics::kpi_reports(
        store,
        clock,
        caller.tenant,
        &[detail_request, total_request],
    )
    .await?
    .try_into()
    .map_err(|_| crate::invalid("request", "a report is missing".to_owned()))?;
    let total = totals
        .rows
        .into_iter()
        .find(|row| row.group.first() == Some(&value))
        .map(|mut row| {
            row.group.clear();
            row
        })
        .ok_or(ServiceError::NotFound)?;
    Ok(Report {
        dimensions: detail.dimensions.into_iter().skip(1).collect(),
        rows: detail
            .rows
            .into_iter()
            .filter(|row| row.group.first() == Some(&value))
            .map(|mut row| {
                row.group.remove(0);
                row
            })
            .collect(),
        total,
        flags: detail.flags,
    })
}

/// The rows behind one figure, confined to the caller's scope: a group
/// outside it has no rows (as if it did not exist).
pub async fn drill(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    request: &ReportRequest,
    group: &[String],
    part: FigurePart,
) -> Result<Vec<DrillRow>, ServiceError> {
    let Some((dimension, value)) = confinement(caller)? else {
        return metrics::drill(store, clock, caller.tenant, request, group, part).await;
    };
    let mut confined = request.clone();
    confined.dimensions.insert(0, dimension);
    let group: Vec<String> = std::iter::once(value)
        .chain(group.iter().cloned())
        .collect();
    metrics::drill(store, clock, caller.tenant, &confined, &group, part).await
}

/// The groups of a drill-down as written in a query: one group's values
/// separated by commas (one per dimension of `by`), several groups by `|`
/// (a heatmap cell: the same hour on each of its days). None: the total.
pub fn parse_groups(text: Option<&str>) -> Vec<Vec<String>> {
    text.unwrap_or("")
        .split('|')
        .map(|group| {
            group
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// [`drill`] over several groups, their rows one after the other.
pub async fn drill_groups(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    request: &ReportRequest,
    groups: &[Vec<String>],
    part: FigurePart,
) -> Result<Vec<DrillRow>, ServiceError> {
    let mut rows = Vec::new();
    for group in groups {
        rows.extend(drill(store, clock, caller, request, group, part).await?);
    }
    Ok(rows)
}

pub async fn definitions(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
) -> Result<Definitions, ServiceError> {
    caller.may_read(READERS)?;
    metrics::definitions(store, clock, caller.tenant).await
}

/// Whether the caller may record definition versions and targets (pages
/// show the forms only to them; the writes check again).
pub fn may_set(caller: &Caller) -> bool {
    caller.require(SETTERS, "change KPI definitions").is_ok()
}

pub async fn new_version(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    request: NewVersion<'_>,
) -> Result<DefinitionVersion, ServiceError> {
    caller.require(SETTERS, "change KPI definitions")?;
    metrics::new_version(store, clock, caller.tenant, &caller.name, request).await
}

/// A proposed version's effect beside the versions in force (nothing is
/// stored). For those who set definitions and see the whole centre.
pub async fn preview_version(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    name: &str,
    options_json: &str,
    request: &ReportRequest,
) -> Result<Report, ServiceError> {
    caller.require(SETTERS, "preview definition versions")?;
    if confinement(caller)?.is_some() {
        return Err(ServiceError::NotFound);
    }
    metrics::preview_version(store, clock, caller.tenant, name, options_json, request).await
}

/// The targets a caller may see: the centre's, and those of the teams and
/// agents in their scope (an agent: their own and their teams').
pub async fn targets(store: &Store, caller: &Caller) -> Result<Vec<Target>, ServiceError> {
    let confined = confinement(caller)?;
    let all = metrics::targets(store, caller.tenant).await?;
    let Some((dimension, value)) = confined else {
        return Ok(all);
    };
    let org = store.load_organisation(caller.tenant).await?;
    let agent_site = |agent: &str| {
        org.agents
            .iter()
            .find(|a| a.id == agent)
            .map(|a| a.site_id.as_str())
    };
    let team_site = |team: &str| {
        org.teams
            .iter()
            .find(|t| t.id == team)
            .map(|t| t.site_id.as_str())
    };
    let in_team = |agent: &str, team: &str| {
        org.memberships
            .iter()
            .any(|m| m.agent_id == agent && m.team_id == team)
    };
    let visible = |scope: &TargetScope| match (scope, dimension) {
        (TargetScope::Centre, _) => true,
        (TargetScope::Team(team), Dimension::Team) => *team == value,
        (TargetScope::Agent(agent), Dimension::Team) => in_team(agent, &value),
        (TargetScope::Team(team), Dimension::Site) => team_site(team) == Some(value.as_str()),
        (TargetScope::Agent(agent), Dimension::Site) => agent_site(agent) == Some(value.as_str()),
        (TargetScope::Agent(agent), _) => *agent == value,
        (TargetScope::Team(team), _) => in_team(&value, team),
    };
    Ok(all.into_iter().filter(|t| visible(&t.scope)).collect())
}

pub async fn set_target(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    request: SetTarget<'_>,
) -> Result<Target, ServiceError> {
    caller.require(SETTERS, "set targets")?;
    metrics::set_target(store, clock, caller.tenant, &caller.name, request).await
}

/// The four ISO weeks (Monday to Sunday) up to the week of the latest
/// contact, in the centre's zone; `today`'s when there are no contacts.
/// The default period of the performance pages.
pub async fn recent_weeks(
    store: &Store,
    caller: &Caller,
    today: jiff::civil::Date,
) -> Result<(jiff::civil::Date, jiff::civil::Date), ServiceError> {
    let last = latest_day(store, caller, today).await?;
    let days_from_monday = i64::from(last.weekday().to_monday_zero_offset());
    let span = |days: i64| jiff::Span::new().days(days);
    let invalid = |e: jiff::Error| ServiceError::Invalid {
        field: "period",
        reason: e.to_string(),
    };
    let sunday = last
        .checked_add(span(6 - days_from_monday))
        .map_err(invalid)?;
    let monday = sunday.checked_sub(span(27)).map_err(invalid)?;
    Ok((monday, sunday))
}

/// The last local day with a contact (the centre's zone), or `today`.
pub async fn latest_day(
    store: &Store,
    caller: &Caller,
    today: jiff::civil::Date,
) -> Result<jiff::civil::Date, ServiceError> {
    let (_, zone) = store.centre(caller.tenant).await?;
    let zone = crate::time_zone(&zone)?;
    Ok(match store.latest_arrival_ms(caller.tenant).await? {
        Some(ms) => jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(zone).date())
            .unwrap_or(today),
        None => today,
    })
}

/// How many recent weeks "needs attention" looks at, and how many of them
/// must miss a target.
pub const ATTENTION_WEEKS: i64 = 3;
pub const ATTENTION_MISSES: usize = 2;

/// An agent who missed a KPI's target (amber or red) in enough recent weeks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attention {
    pub agent: String,
    pub definition: String,
    /// The weeks missed, oldest first.
    pub missed_weeks: Vec<String>,
}

/// From a report grouped by agent then week: each agent and KPI whose
/// figure missed its target in at least `misses` of the weeks. A week
/// with no value, or a KPI with no target, misses nothing.
pub fn missed_targets(report: &Report, misses: usize) -> Vec<Attention> {
    let mut missed: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    for row in &report.rows {
        let (Some(agent), Some(week)) = (row.group.first(), row.group.get(1)) else {
            continue;
        };
        for figure in &row.figures {
            let zone = figure.target.as_ref().map(|t| t.zone);
            if figure.value.is_some()
                && zone.is_some_and(|z| z != merit_domain::metrics::Zone::Green)
            {
                missed
                    .entry((agent.clone(), figure.definition.clone()))
                    .or_default()
                    .push(week.clone());
            }
        }
    }
    missed
        .into_iter()
        .filter(|(_, weeks)| weeks.len() >= misses)
        .map(|((agent, definition), mut missed_weeks)| {
            missed_weeks.sort();
            Attention {
                agent,
                definition,
                missed_weeks,
            }
        })
        .collect()
}

/// The report "needs attention" reads (for [`missed_targets`]): the
/// [`ATTENTION_WEEKS`] ISO weeks ending with the week of `last_day`, by
/// agent and week, and the first day of those weeks.
pub fn attention_request(
    last_day: jiff::civil::Date,
    definitions: &[&str],
) -> Result<(jiff::civil::Date, ReportRequest), ServiceError> {
    let invalid = |e: jiff::Error| ServiceError::Invalid {
        field: "to",
        reason: e.to_string(),
    };
    let span = |days: i64| jiff::Span::new().days(days);
    let to_sunday = 6 - i64::from(last_day.weekday().to_monday_zero_offset());
    let sunday = last_day.checked_add(span(to_sunday)).map_err(invalid)?;
    let monday = sunday
        .checked_sub(span(7 * ATTENTION_WEEKS - 1))
        .map_err(invalid)?;
    let by_agent_week = ReportRequest::of(
        monday,
        sunday,
        vec![Dimension::Agent, Dimension::Week],
        definitions,
    );
    Ok((monday, by_agent_week))
}
