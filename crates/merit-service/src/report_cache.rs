//! Bringing the report cache up to date after an import that only added
//! contacts, without recomputing its days.
//!
//! A contact's parts depend on no other contact except, for FCR by repeat
//! contact, the other contacts of its customer. So the contacts an addition
//! can change are the added ones and the rest of their customers' contacts;
//! a cached day after the addition is the day
//! before it, less what those contacts gave, plus what they give now
//! (`CachedDay::with_difference`). Survey answers play no part: the store
//! marks days stale this way only when no stored response names an added
//! contact, so every answer stays on the day it was on.

use crate::metrics::{Definitions, centre_zone, definitions, rows_window};
use crate::{Clock, ServiceError};
use jiff::civil::Date;
use merit_domain::TenantId;
use merit_domain::metrics::cache::CachedDay;
use merit_domain::metrics::compute::{FromRows, Projection, RowJob, from_rows};
use merit_domain::metrics::fast_hash::FastSet;
use merit_domain::metrics::{ContactTable, Frame, Kpi, OrgView, ZoneRule};
use merit_store::{AddedContact, StaleCachedDay, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// What bringing the cache up to date after an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheUpdate {
    /// The (definition, day) pairs brought up to date in place, over every
    /// projection, in order.
    pub updated: Vec<(String, Date)>,
    /// Cached days deleted instead (the next report recomputes them).
    pub dropped: usize,
    /// The contacts whose parts were worked out again: the added ones and
    /// the others of their customers in the days' reach.
    pub touched_contacts: usize,
    /// How long the update took, from reading the stale days to writing
    /// them back.
    pub elapsed: Duration,
}

/// Brings the cache days import `batch` marked stale up to date, `added`
/// being the contacts it added. A day that cannot be (its definition or
/// projection is unknown, an added contact is not among the rows read) is
/// deleted instead, for the next report to recompute.
pub async fn update_after_import(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    batch: i64,
    added: &[AddedContact],
) -> Result<CacheUpdate, ServiceError> {
    let started = Instant::now();
    let stale = store.stale_cached_days(tenant, batch).await?;
    let (Some(first), Some(last)) = (
        stale.iter().map(|d| d.day).min(),
        stale.iter().map(|d| d.day).max(),
    ) else {
        return Ok(CacheUpdate::default());
    };
    let all = definitions(store, clock, tenant).await?;
    let stale_versions = stale.iter().filter_map(|d| {
        all.get(&d.definition)?
            .versions
            .iter()
            .find(|v| v.version == d.version)
    });
    // The touched contacts as they are now: the added ones and every
    // contact of their customers, in the order a report reads them.
    let customers: FastSet<&str> = added
        .iter()
        .filter_map(|c| c.customer_id.as_deref())
        .collect();
    let added_ids: FastSet<&str> = added.iter().map(|c| c.source_id.as_str()).collect();
    let after = store
        .contact_table_where(
            tenant,
            rows_window((first, last), stale_versions)?,
            true,
            |customer, id| {
                customer.is_some_and(|c| customers.contains(c)) || added_ids.contains(id)
            },
        )
        .await?;
    tracing::debug!("cache update: loaded by {:?}", started.elapsed());
    let wanted: Vec<(&str, &str)> = added
        .iter()
        .map(|c| (c.source_system.as_str(), c.source_id.as_str()))
        .collect();
    let ((replaced, dropped, updated), touched_contacts) = match after
        .rows_of(&wanted)
        .into_iter()
        .collect::<Option<Vec<usize>>>()
    {
        Some(added_rows) => {
            let organisation = store.load_organisation(tenant).await?;
            let org = OrgView::new(&organisation, centre_zone(store, tenant).await?);
            let days = differences(&after, &added_rows, &stale, &all, &org, clock.now_ms());
            (days, after.len())
        }
        // An added contact not in the rows read: nothing can be worked out.
        None => ((Vec::new(), stale.iter().collect(), BTreeSet::new()), 0),
    };
    store
        .refresh_cached_days(tenant, batch, &replaced, &dropped, clock.now_ms())
        .await?;
    Ok(CacheUpdate {
        updated: updated.into_iter().collect(),
        dropped: dropped.len(),
        touched_contacts,
        elapsed: started.elapsed(),
    })
}

/// What the stale days become: (replaced with new aggregates, dropped,
/// the (definition, day) pairs replaced).
type Differences<'s> = (
    Vec<(&'s StaleCachedDay, Vec<u8>)>,
    Vec<&'s StaleCachedDay>,
    BTreeSet<(String, Date)>,
);

/// Works out each stale day anew from the touched contacts `after` (read
/// as they are now), `added_rows` being the added ones among them.
fn differences<'s>(
    after: &ContactTable,
    added_rows: &[usize],
    stale: &'s [StaleCachedDay],
    all: &Definitions,
    org: &OrgView,
    as_of_ms: i64,
) -> Differences<'s> {
    // As they were: the same rows without the added ones; and the added ones.
    let mut is_added = vec![false; after.len()];
    for &i in added_rows {
        is_added[i] = true;
    }
    let before = after.select(&is_added.iter().map(|added| !added).collect::<Vec<_>>());
    let added_only = after.select(&is_added);
    let mut by_projection: BTreeMap<&str, Vec<&StaleCachedDay>> = BTreeMap::new();
    for day in stale {
        by_projection.entry(&day.projection).or_default().push(day);
    }
    let (mut replaced, mut dropped) = (Vec::new(), Vec::new());
    let mut updated = BTreeSet::new();
    for (name, days) in by_projection {
        let Some(projection) = Projection::parse(name) else {
            dropped.extend(days);
            continue;
        };
        // One job per definition version the stale days are under. FCR by
        // repeat contact is worked out over every touched contact, before
        // and after; any other KPI's parts are each contact's own, so only
        // the added contacts change it (the others give what they gave).
        let (mut repeat_jobs, mut own_jobs): (Vec<RowJob>, Vec<RowJob>) = Default::default();
        let mut job_of: HashMap<(&str, i64), (bool, usize)> = HashMap::new();
        for day in &days {
            let key = (day.definition.as_str(), day.version);
            let Some(history) = all.get(&day.definition) else {
                continue;
            };
            if job_of.contains_key(&key) {
                continue;
            }
            let repeat = history.versions.first().map(|v| v.kpi) == Some(Kpi::FcrRepeat);
            let jobs = if repeat {
                &mut repeat_jobs
            } else {
                &mut own_jobs
            };
            job_of.insert(key, (repeat, jobs.len()));
            jobs.push((history, Some(day.version), Default::default()));
        }
        let period = (
            days.iter().map(|d| d.day).min().unwrap_or(Date::MIN),
            days.iter().map(|d| d.day).max().unwrap_or(Date::MAX),
        );
        let rule = match projection.agent_zones {
            true => ZoneRule::Agent,
            false => ZoneRule::Queue,
        };
        let aggregates = |rows: &ContactTable, jobs: &[RowJob]| -> Vec<FromRows> {
            if jobs.is_empty() {
                return Vec::new();
            }
            let frame = Frame::in_zones(rows, &[], org, period, as_of_ms, rule);
            from_rows(&frame, jobs, projection)
        };
        let repeat = (
            aggregates(&before, &repeat_jobs),
            aggregates(after, &repeat_jobs),
        );
        let own = aggregates(&added_only, &own_jobs);
        let nothing = FromRows::Days(Default::default());
        let gave_and_give = |(repeat_job, k): (bool, usize)| match repeat_job {
            true => (&repeat.0[k], &repeat.1[k]),
            false => (&nothing, &own[k]),
        };
        let empty = CachedDay::default();
        for day in days {
            let new_aggregates = job_of
                .get(&(day.definition.as_str(), day.version))
                .and_then(|&job| match gave_and_give(job) {
                    (FromRows::Days(gave), FromRows::Days(give)) => Some((gave, give)),
                    _ => None,
                })
                .and_then(|(gave, give)| {
                    let key = (day.version, day.day);
                    let (gave, give) = (gave.get(&key), give.get(&key));
                    if gave.is_none() && give.is_none() {
                        return Some(None);
                    }
                    let cached = CachedDay::decode(&day.aggregates)?;
                    let new =
                        cached.with_difference(gave.unwrap_or(&empty), give.unwrap_or(&empty))?;
                    Some((!new.same_sums(&cached)).then(|| new.encode()))
                });
            match new_aggregates {
                // The touched contacts give this day what they gave: kept.
                Some(None) => {}
                Some(Some(bytes)) => {
                    updated.insert((day.definition.clone(), day.day));
                    replaced.push((day, bytes));
                }
                None => dropped.push(day),
            }
        }
    }
    (replaced, dropped, updated)
}
