//! The inbox. Everyone signed in has one (a client too) and reads and marks
//! only their own. Notifications come from events: an import that finished
//! with row problems tells whoever uploaded it; each import that brings
//! data also tells every agent and team lead whose own figure missed a
//! target in the last whole week of data (once per KPI and week).

use crate::access::Caller;
use crate::import::ImportReport;
use crate::metrics::{DEFAULT_KPIS, ReportRequest};
use crate::{Clock, ServiceError};
use merit_domain::TenantId;
use merit_domain::access::{Role, Scope};
use merit_domain::metrics::{Dimension, Report, Zone};
use merit_store::{NewNotification, NotificationRecord, Store};

/// The caller's notifications, newest first.
pub async fn inbox(
    store: &Store,
    caller: &Caller,
) -> Result<Vec<NotificationRecord>, ServiceError> {
    Ok(store.notifications(caller.tenant, &caller.name).await?)
}

/// Marks one of the caller's notifications read (`None`: all). Another
/// user's notification, or none with that id, is `NotFound`.
pub async fn mark_read(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    id: Option<i64>,
) -> Result<u64, ServiceError> {
    if let Some(id) = id
        && !inbox(store, caller).await?.iter().any(|n| n.id == id)
    {
        return Err(ServiceError::NotFound);
    }
    Ok(store
        .mark_read(caller.tenant, &caller.name, id, clock.now_ms())
        .await?)
}

/// What an import tells: its problems to the user who uploaded it (the
/// command line and tokens have no inbox), then the targets missed.
pub async fn after_import(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    report: &ImportReport,
) -> Result<(), ServiceError> {
    let is_user = caller.name != "cli" && !caller.name.starts_with("token:");
    if report.rejected > 0 && is_user {
        let problems = NewNotification {
            recipient: caller.name.clone(),
            kind: "import_problems".into(),
            subject: format!(
                "The import of {} finished with {} rejected rows",
                report.file, report.rejected
            ),
            link: format!("/imports/batches/{}", report.batch_id),
            dedupe_key: format!("import:{}", report.batch_id),
        };
        store
            .notify(caller.tenant, clock.now_ms(), &[problems])
            .await?;
    }
    if report.inserted + report.updated > 0 {
        targets_missed(store, clock, caller.tenant).await?;
    }
    Ok(())
}

/// The last ISO week (Monday to Sunday) that is over, up to the week of
/// the latest contact: that week once its Sunday has passed (by `clock`,
/// in the centre's zone), else the week before.
async fn last_whole_week(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
) -> Result<Option<(jiff::civil::Date, jiff::civil::Date)>, ServiceError> {
    let Some(latest_ms) = store.latest_arrival_ms(tenant).await? else {
        return Ok(None);
    };
    let (_, zone) = store.centre(tenant).await?;
    let zone = crate::time_zone(&zone)?;
    let local_day = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(zone.clone()).date())
            .map_err(|e| ServiceError::Invalid {
                field: "time",
                reason: e.to_string(),
            })
    };
    let (latest, today) = (local_day(latest_ms)?, local_day(clock.now_ms())?);
    let span = |days: i64| jiff::Span::new().days(days);
    let week = |sunday: jiff::civil::Date| {
        sunday
            .checked_sub(span(6))
            .ok()
            .map(|monday| (monday, sunday))
    };
    let to_sunday = 6 - i64::from(latest.weekday().to_monday_zero_offset());
    let Ok(sunday) = latest.checked_add(span(to_sunday)) else {
        return Ok(None);
    };
    Ok(if sunday < today {
        week(sunday)
    } else {
        sunday.checked_sub(span(7)).ok().and_then(week)
    })
}

/// The figures of `group` in a report by one dimension that missed their target.
fn missed<'r>(
    report: &'r Report,
    group: &str,
) -> impl Iterator<Item = &'r merit_domain::metrics::Figure> {
    report
        .rows
        .iter()
        .filter(move |row| row.group.first().map(String::as_str) == Some(group))
        .flat_map(|row| &row.figures)
        .filter(|f| f.target.as_ref().is_some_and(|t| t.zone != Zone::Green))
}

/// Tells each agent and team lead whose own figure (the team's, for a
/// lead) missed a target in the last whole week of data. Returns how many
/// notifications were due (those already given are not given again).
pub async fn targets_missed(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
) -> Result<usize, ServiceError> {
    // No target: nothing can be missed, and no report is computed (a demo's start-up).
    if store.targets(tenant).await?.is_empty() {
        return Ok(0);
    }
    let centre = Caller::command_line(tenant);
    let Some((monday, sunday)) = last_whole_week(store, clock, tenant).await? else {
        return Ok(0);
    };
    let mut reports = Vec::new();
    for dimension in [Dimension::Agent, Dimension::Team] {
        let request = ReportRequest::of(monday, sunday, vec![dimension], &DEFAULT_KPIS);
        reports.push(crate::reports::report(store, clock, &centre, &request).await?);
    }
    let (by_agent, by_team) = (&reports[0], &reports[1]);
    let mut due = Vec::new();
    for user in store
        .users(tenant)
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
    {
        let (figures, page): (Vec<_>, _) =
            match (Role::parse(&user.role), Scope::parse(&user.scope)) {
                (Some(Role::Agent), Ok(Scope::OwnRecords)) => match &user.agent_id {
                    Some(agent) => (missed(by_agent, agent).collect(), "performance"),
                    None => continue,
                },
                (Some(Role::TeamLead), Ok(Scope::Team(team))) => {
                    (missed(by_team, &team).collect(), "team")
                }
                _ => continue,
            };
        for figure in figures {
            let Some(target) = &figure.target else {
                continue;
            };
            due.push(NewNotification {
                recipient: user.username.clone(),
                kind: "target_missed".into(),
                subject: format!(
                    "{} was {} in the week of {monday}, against a target of {}",
                    figure.definition,
                    figure.display(),
                    target.target
                ),
                link: format!("/{page}?from={monday}&to={sunday}"),
                dedupe_key: format!("target:{}:{monday}", figure.definition),
            });
        }
    }
    store.notify(tenant, clock.now_ms(), &due).await?;
    Ok(due.len())
}
