//! The read-only overview of a centre: sites, teams, agents, queues and
//! contacts per day in the centre's time zone.

use crate::ServiceError;
use crate::access::Caller;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use merit_domain::access::{Role, Scope};
use merit_domain::organisation::{Channel, Site};
use merit_store::Store;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TeamSummary {
    pub id: String,
    pub name: String,
    pub site_id: String,
    /// Agents whose membership covers `as_of`.
    pub n_agents: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AgentSummary {
    pub id: String,
    pub name: String,
    pub site_id: String,
    pub team_id: Option<String>,
    pub hire_date: String,
    pub employment_end: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QueueSummary {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub n_contacts: i64,
}

/// Contacts that arrived on one local day, by channel.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DayCount {
    pub date: String,
    pub by_channel: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Overview {
    pub time_zone: String,
    pub as_of: String,
    pub sites: Vec<Site>,
    pub teams: Vec<TeamSummary>,
    pub agents: Vec<AgentSummary>,
    pub queues: Vec<QueueSummary>,
    pub channels: Vec<&'static str>,
    pub days: Vec<DayCount>,
    pub n_contacts: i64,
}

/// Builds the overview; team membership is taken on the last day with contacts
/// (or `today` when there are none), and days are the centre's local days.
///
/// The overview names every agent and team: it is for callers whose scope
/// is the whole centre (others get `NotFound`).
pub async fn overview(
    store: &Store,
    caller: &Caller,
    time_zone: &str,
    today: Date,
) -> Result<Overview, ServiceError> {
    if caller.scope != Scope::Centre || caller.role == Role::Client {
        return Err(ServiceError::NotFound);
    }
    let tenant = caller.tenant;
    let zone = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
    let organisation = store.load_organisation(tenant).await?;
    let hourly = store.contacts_by_hour(tenant).await?;
    let by_queue: BTreeMap<String, i64> =
        store.contacts_by_queue(tenant).await?.into_iter().collect();
    let mut days: BTreeMap<Date, Vec<i64>> = BTreeMap::new();
    for count in &hourly {
        let Ok(at) = Timestamp::from_millisecond(count.hour_start_ms) else {
            continue;
        };
        let date = at.to_zoned(zone.clone()).date();
        let slot = Channel::ALL
            .iter()
            .position(|c| c.as_str() == count.channel)
            .unwrap_or(0);
        days.entry(date)
            .or_insert_with(|| vec![0; Channel::ALL.len()])[slot] += count.n_contacts;
    }
    let as_of = days.keys().next_back().copied().unwrap_or(today);
    let team_on = |agent: &str| organisation.team_on(agent, as_of).map(str::to_owned);
    let agents: Vec<AgentSummary> = organisation
        .agents
        .iter()
        .map(|a| AgentSummary {
            id: a.id.clone(),
            name: a.name.clone(),
            site_id: a.site_id.clone(),
            team_id: team_on(&a.id),
            hire_date: a.hire_date.to_string(),
            employment_end: a.employment_end_date.map(|d| {
                format!(
                    "{d} ({})",
                    a.employment_end_reason.map_or("", |r| r.as_str())
                )
            }),
        })
        .collect();
    let teams = organisation
        .teams
        .iter()
        .map(|t| TeamSummary {
            id: t.id.clone(),
            name: t.name.clone(),
            site_id: t.site_id.clone(),
            n_agents: agents
                .iter()
                .filter(|a| a.team_id.as_deref() == Some(&t.id))
                .count(),
        })
        .collect();
    let queues = organisation
        .queues
        .iter()
        .map(|q| QueueSummary {
            id: q.id.clone(),
            name: q.name.clone(),
            channel: q.channel.as_str().into(),
            n_contacts: by_queue.get(&q.id).copied().unwrap_or(0),
        })
        .collect();
    let days: Vec<DayCount> = days
        .into_iter()
        .map(|(date, by_channel)| DayCount {
            date: date.to_string(),
            total: by_channel.iter().sum(),
            by_channel,
        })
        .collect();
    Ok(Overview {
        time_zone: time_zone.into(),
        as_of: as_of.to_string(),
        sites: organisation.sites,
        teams,
        agents,
        queues,
        channels: Channel::ALL.iter().map(|c| c.as_str()).collect(),
        n_contacts: days.iter().map(|d| d.total).sum(),
        days,
    })
}
