//! One contact with its timeline, as a caller may see it: an agent only
//! their own contacts, a team lead those their team handled (the team the
//! agent was in on the contact's day), a site's manager their site's; any
//! other contact answers `NotFound`, as if it did not exist.

use crate::ServiceError;
use crate::access::{Caller, READERS};
use merit_domain::access::Scope;
use merit_store::{ContactSurveyAnswer, Store, StoredContact};
use serde::Serialize;
use serde_json::Value;

/// The local day of an instant in `zone`.
fn local_day(ms: i64, zone: &jiff::tz::TimeZone) -> Option<jiff::civil::Date> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_zoned(zone.clone()).date())
}

/// The local day of a contact for team membership: in the zone of its
/// agent's site, as reports by agent and team count it, else the centre's.
fn agent_day(
    org: &merit_domain::organisation::Organisation,
    agent: &str,
    ms: i64,
    centre_zone: &jiff::tz::TimeZone,
) -> Option<jiff::civil::Date> {
    let site_zone = org
        .agents
        .iter()
        .find(|a| a.id == agent)
        .and_then(|a| org.sites.iter().find(|s| s.id == a.site_id))
        .and_then(|s| jiff::tz::TimeZone::get(&s.time_zone).ok());
    local_day(ms, site_zone.as_ref().unwrap_or(centre_zone))
}

/// What a caller's scope lets them see of agents' work: an agent their own,
/// a team lead the work of agents on the days they were in the team (in
/// the zone of the agent's site), a site manager their site's agents'.
pub(crate) struct ScopeView<'c> {
    caller: &'c Caller,
    org: Option<merit_domain::organisation::Organisation>,
    zone: jiff::tz::TimeZone,
}

impl<'c> ScopeView<'c> {
    pub(crate) async fn of(store: &Store, caller: &'c Caller) -> Result<Self, ServiceError> {
        let org = match &caller.scope {
            Scope::Team(_) | Scope::Site(_) => Some(store.load_organisation(caller.tenant).await?),
            _ => None,
        };
        let zone = match &caller.scope {
            Scope::Team(_) => crate::time_zone(&store.centre(caller.tenant).await?.1)?,
            _ => jiff::tz::TimeZone::UTC,
        };
        Ok(ScopeView { caller, org, zone })
    }

    /// Whether the caller sees `agent`'s work at `at_ms`.
    pub(crate) fn sees(&self, agent: &str, at_ms: i64) -> bool {
        match (&self.caller.scope, &self.org) {
            (Scope::Centre, _) => true,
            (Scope::OwnRecords, _) => self.caller.agent_id.as_deref() == Some(agent),
            (Scope::Team(team), Some(org)) => {
                agent_day(org, agent, at_ms, &self.zone).and_then(|day| org.team_on(agent, day))
                    == Some(team.as_str())
            }
            (Scope::Site(site), Some(org)) => org
                .agents
                .iter()
                .any(|a| a.id == agent && &a.site_id == site),
            _ => false,
        }
    }
}

/// A contact and its timeline.
#[derive(Debug, Clone, Serialize)]
pub struct ContactView {
    #[serde(flatten)]
    pub contact: StoredContact,
    pub holds: Value,
    pub transfers: Value,
    /// The customer's survey answers about this contact.
    pub surveys: Vec<ContactSurveyAnswer>,
}

pub async fn contact(
    store: &Store,
    caller: &Caller,
    source_system: &str,
    source_id: &str,
) -> Result<ContactView, ServiceError> {
    caller.may_read(READERS)?;
    let contact = store
        .contact(caller.tenant, source_system, source_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let visible = match contact.agent_id.as_deref() {
        None => matches!(caller.scope, Scope::Centre),
        Some(agent) => ScopeView::of(store, caller)
            .await?
            .sees(agent, contact.arrival_ms),
    };
    if !visible {
        return Err(ServiceError::NotFound);
    }
    let parse = |json: &str| serde_json::from_str(json).unwrap_or(Value::Array(Vec::new()));
    let surveys = store
        .contact_survey_answers(caller.tenant, source_system, source_id)
        .await?;
    Ok(ContactView {
        surveys,
        holds: parse(&contact.holds_json),
        transfers: parse(&contact.transfers_json),
        contact,
    })
}

/// The UTC bounds [start, end) of the centre's local days `from` to `to`,
/// and the centre's zone.
pub(crate) async fn local_days_ms(
    store: &Store,
    tenant: merit_domain::TenantId,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<((i64, i64), jiff::tz::TimeZone), ServiceError> {
    let invalid = |field: &'static str, reason: String| ServiceError::Invalid { field, reason };
    let zone = crate::time_zone(&store.centre(tenant).await?.1)?;
    let start_ms = |day: jiff::civil::Date| {
        day.to_zoned(zone.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| invalid("from", e.to_string()))
    };
    let next = to
        .checked_add(jiff::Span::new().days(1))
        .map_err(|e| invalid("to", e.to_string()))?;
    Ok(((start_ms(from)?, start_ms(next)?), zone))
}

/// The longest period one contact list covers.
pub const MAX_LIST_DAYS: i64 = 31;

/// The contacts that arrived on the local days `from` to `to` (the centre's
/// zone) that the caller may see, oldest first.
pub async fn list(
    store: &Store,
    caller: &Caller,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<Vec<StoredContact>, ServiceError> {
    caller.may_read(READERS)?;
    let invalid = |field: &'static str, reason: String| ServiceError::Invalid { field, reason };
    if to < from {
        return Err(invalid("to", format!("{to} is before from {from}")));
    }
    let days = (to - from).get_days() as i64 + 1;
    if days > MAX_LIST_DAYS {
        return Err(invalid(
            "to",
            format!("a list covers at most {MAX_LIST_DAYS} days ({days} asked)"),
        ));
    }
    let (bounds, zone) = local_days_ms(store, caller.tenant, from, to).await?;
    let org = match &caller.scope {
        Scope::Team(_) | Scope::Site(_) => Some(store.load_organisation(caller.tenant).await?),
        _ => None,
    };
    let agents: Option<Vec<String>> = match (&caller.scope, &org) {
        (Scope::Centre, _) => None,
        (Scope::OwnRecords, _) => Some(caller.agent_id.iter().cloned().collect()),
        (Scope::Team(team), Some(org)) => Some(
            org.memberships
                .iter()
                .filter(|m| &m.team_id == team)
                .map(|m| m.agent_id.clone())
                .collect(),
        ),
        (Scope::Site(site), Some(org)) => Some(
            org.agents
                .iter()
                .filter(|a| &a.site_id == site)
                .map(|a| a.id.clone())
                .collect(),
        ),
        _ => return Err(ServiceError::NotFound),
    };
    let contacts = store
        .contacts_between(caller.tenant, bounds, agents.as_deref())
        .await?;
    if !matches!(caller.scope, Scope::Team(_)) {
        return Ok(contacts);
    }
    // A team's contacts are those of its agents on the days they were in it.
    let view = ScopeView { caller, org, zone };
    Ok(contacts
        .into_iter()
        .filter(|c| {
            c.agent_id
                .as_deref()
                .is_some_and(|agent| view.sees(agent, c.arrival_ms))
        })
        .collect())
}

/// The most survey responses one list shows.
pub const MAX_SURVEY_CONTACTS: usize = 200;

/// A contact the customer answered a survey about, with the answers.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyedContact {
    pub source_system: String,
    pub source_id: String,
    pub arrival_ms: i64,
    pub agent_id: Option<String>,
    pub answers: Vec<ContactSurveyAnswer>,
}

/// The surveys behind a survey KPI's figure (`request` names one survey
/// definition, such as `csat`): the contacts of its denominator within
/// `group` and the caller's scope, newest first, each with every answer
/// and comment the customer gave about it; at most [`MAX_SURVEY_CONTACTS`].
pub async fn surveys(
    store: &Store,
    clock: &dyn crate::Clock,
    caller: &Caller,
    request: &crate::metrics::ReportRequest,
    group: &[String],
) -> Result<Vec<SurveyedContact>, ServiceError> {
    let mut rows = crate::reports::drill(
        store,
        clock,
        caller,
        request,
        group,
        crate::metrics::FigurePart::Denominator,
    )
    .await?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.arrival_ms));
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| seen.insert((r.source_system.clone(), r.contact_source_id.clone())));
    let mut surveyed = Vec::new();
    for row in rows.into_iter().take(MAX_SURVEY_CONTACTS) {
        let answers = store
            .contact_survey_answers(caller.tenant, &row.source_system, &row.contact_source_id)
            .await?;
        surveyed.push(SurveyedContact {
            source_system: row.source_system,
            source_id: row.contact_source_id,
            arrival_ms: row.arrival_ms,
            agent_id: row.agent_id,
            answers,
        });
    }
    Ok(surveyed)
}
