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

use crate::metrics::{Definitions, centre_zone, definitions, longest_fcr_window_days, rows_window};
use crate::{Clock, ServiceError};
use jiff::civil::Date;
use merit_domain::TenantId;
use merit_domain::metrics::cache::CachedDay;
use merit_domain::metrics::compute::{
    Cells, Counting, FromRows, Projection, RowJob, SharedVerdicts, customers_by_arrival,
    from_rows_counting,
};
use merit_domain::metrics::cores::on_cores;
use merit_domain::metrics::fast_hash::{FastSet, bytes_hash};
use merit_domain::metrics::packed::RowFilter;
use merit_domain::metrics::{ContactTable, Frame, Kpi, KpiOptions, OrgView, ZoneRule};
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
    tracing::debug!(
        "cache update: {} stale days read by {:?}",
        stale.len(),
        started.elapsed()
    );
    let all = definitions(store, clock, tenant).await?;
    let stale_versions: Vec<_> = stale
        .iter()
        .filter_map(|d| {
            all.get(&d.definition)?
                .versions
                .iter()
                .find(|v| v.version == d.version)
        })
        .collect();
    // Within the stale days' rows, only contacts within reach of an added
    // one can give another verdict or be needed for one: those ending at
    // most an FCR window before an added arrival (two days more for long
    // contacts), and those arriving at most a window after an added end.
    let reach_ms = (2 + longest_fcr_window_days(stale_versions.iter().copied())) * 86_400_000;
    let (from_ms, to_ms) = rows_window((first, last), stale_versions)?;
    let window = (
        added
            .iter()
            .map(|c| c.arrival_ms.saturating_sub(reach_ms))
            .min()
            .map_or(from_ms, |ms| ms.max(from_ms)),
        added
            .iter()
            .map(|c| c.end_ms.saturating_add(reach_ms))
            .max()
            .map_or(to_ms, |ms| ms.min(to_ms)),
    );
    // The touched contacts as they are now: the added ones and every
    // contact of their customers, in the order a report reads them.
    // Customers are found by their ids' hashes (no id compared on each row
    // read), and only rows whose match key is one of theirs are read: a
    // contact of another customer whose id shares a hash is read too and
    // changes nothing, its parts being the same before and after. Added
    // contacts without a customer are found by id (their match key is
    // their id's).
    let (with_customer, without): (Vec<&AddedContact>, Vec<&AddedContact>) =
        added.iter().partition(|c| c.customer_id.is_some());
    let keys = HashFilter::new(
        with_customer
            .iter()
            .filter_map(|c| c.customer_id.as_deref())
            .chain(without.iter().map(|c| c.source_id.as_str()))
            .map(|id| bytes_hash(id.as_bytes())),
    );
    let added_ids: FastSet<&str> = without.iter().map(|c| c.source_id.as_str()).collect();
    let filter = RowFilter::new(
        |key| keys.may_hold_key(key),
        |customer, id| match customer {
            Some((_, hash)) => keys.contains(hash),
            None => added_ids.contains(id),
        },
    );
    let after = store
        .contact_table_where(tenant, window, true, &filter)
        .await?;
    tracing::debug!("cache update: loaded by {:?}", started.elapsed());
    let wanted: Vec<(&str, &str)> = added
        .iter()
        .map(|c| (c.source_system.as_str(), c.source_id.as_str()))
        .collect();
    // Each customer's contacts in turn, which every FCR verdict walks, on
    // another core while this one finds the added rows.
    let (added_rows, by_customer) = std::thread::scope(|scope| {
        let by_customer = scope.spawn(|| customers_by_arrival(&after));
        let added_rows: Option<Vec<usize>> = after.rows_of(&wanted).into_iter().collect();
        let by_customer = by_customer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (added_rows, by_customer)
    });
    tracing::debug!("cache update: added rows found by {:?}", started.elapsed());
    let ((replaced, dropped, updated), touched_contacts) = match added_rows {
        Some(added_rows) => {
            let organisation = store.load_organisation(tenant).await?;
            let org = OrgView::new(&organisation, centre_zone(store, tenant).await?);
            tracing::debug!("cache update: organisation read by {:?}", started.elapsed());
            let rows = Touched {
                table: &after,
                added: &added_rows,
                by_customer: &by_customer,
            };
            let days = differences(rows, &stale, &all, &org, clock.now_ms());
            tracing::debug!("cache update: worked out by {:?}", started.elapsed());
            (days, after.len())
        }
        // An added contact not in the rows read: nothing can be worked out.
        None => ((Vec::new(), stale.iter().collect(), BTreeSet::new()), 0),
    };
    store
        .refresh_cached_days(tenant, batch, &replaced, &dropped, clock.now_ms())
        .await?;
    tracing::debug!("cache update: written by {:?}", started.elapsed());
    Ok(CacheUpdate {
        updated: updated.into_iter().collect(),
        dropped: dropped.len(),
        touched_contacts,
        elapsed: started.elapsed(),
    })
}

/// A set of hashes with a bitmap in front, for a set probed by many more
/// rows than it holds: a row whose hash's bit is clear (most of them) is
/// refused by one load, without a probe of the set.
struct HashFilter {
    bits: Vec<u64>,
    set: FastSet<u64>,
}

impl HashFilter {
    /// Bits in the bitmap (128 KiB, within a core's cache), by a hash's top bits.
    const BITS_LOG2: u32 = 20;

    fn new(hashes: impl Iterator<Item = u64>) -> Self {
        // Room for as many hashes as there may be (most are distinct).
        let room = hashes.size_hint().1.unwrap_or(0);
        let mut filter = HashFilter {
            bits: vec![0; 1 << (Self::BITS_LOG2 - 6)],
            set: FastSet::with_capacity_and_hasher(room, Default::default()),
        };
        for hash in hashes {
            let bit = Self::bit(hash);
            filter.bits[bit >> 6] |= 1 << (bit & 63);
            filter.set.insert(hash);
        }
        filter
    }

    fn bit(hash: u64) -> usize {
        (hash >> (64 - Self::BITS_LOG2)) as usize
    }

    fn contains(&self, hash: u64) -> bool {
        self.bit_is_set(Self::bit(hash)) && self.set.contains(&hash)
    }

    /// Whether a hash whose top 32 bits are `key` (a packed row's match
    /// key) may be held: false for most keys not held, never for one held.
    fn may_hold_key(&self, key: u32) -> bool {
        self.bit_is_set((key >> (32 - Self::BITS_LOG2)) as usize)
    }

    fn bit_is_set(&self, bit: usize) -> bool {
        self.bits[bit >> 6] & (1 << (bit & 63)) != 0
    }
}

/// The stale days of one projection and the jobs that work them out: one
/// per definition version they are under, FCR by repeat contact apart.
struct Plan<'s> {
    projection: Projection,
    days: Vec<&'s StaleCachedDay>,
    period: (Date, Date),
    repeat_jobs: Vec<RowJob<'s>>,
    own_jobs: Vec<RowJob<'s>>,
    /// (definition, version) → (is a repeat job, its index).
    job_of: HashMap<(&'s str, i64), (bool, usize)>,
}

impl<'s> Plan<'s> {
    fn new(projection: Projection, days: Vec<&'s StaleCachedDay>, all: &'s Definitions) -> Self {
        let (mut repeat_jobs, mut own_jobs): (Vec<RowJob>, Vec<RowJob>) = Default::default();
        let mut job_of = HashMap::new();
        for day in &days {
            let key = (day.definition.as_str(), day.version);
            let Some(history) = all.get(&day.definition) else {
                continue;
            };
            if job_of.contains_key(&key) {
                continue;
            }
            let repeat = history.versions.first().map(|v| v.kpi) == Some(Kpi::FcrRepeat);
            let jobs = match repeat {
                true => &mut repeat_jobs,
                false => &mut own_jobs,
            };
            job_of.insert(key, (repeat, jobs.len()));
            jobs.push((history, Some(day.version), Default::default()));
        }
        let period = (
            days.iter().map(|d| d.day).min().unwrap_or(Date::MIN),
            days.iter().map(|d| d.day).max().unwrap_or(Date::MAX),
        );
        Plan {
            projection,
            days,
            period,
            repeat_jobs,
            own_jobs,
            job_of,
        }
    }
}

/// What the stale days become: (replaced with new aggregates, dropped,
/// the (definition, day) pairs replaced).
type Differences<'s> = (
    Vec<(&'s StaleCachedDay, Vec<u8>)>,
    Vec<&'s StaleCachedDay>,
    BTreeSet<(String, Date)>,
);

/// The touched contacts as they are now.
struct Touched<'t> {
    table: &'t ContactTable,
    /// The added ones' rows.
    added: &'t [usize],
    /// `customers_by_arrival(table)`.
    by_customer: &'t [(usize, bool)],
}

/// Works out each stale day anew from the touched contacts.
fn differences<'s>(
    touched: Touched,
    stale: &'s [StaleCachedDay],
    all: &'s Definitions,
    org: &OrgView,
    as_of_ms: i64,
) -> Differences<'s> {
    let after = touched.table;
    // As they were: the same rows without the added ones; and the added ones.
    let mut is_added = vec![false; after.len()];
    for &i in touched.added {
        is_added[i] = true;
    }
    let is_not_added: Vec<bool> = is_added.iter().map(|added| !added).collect();
    let mut by_projection: BTreeMap<&str, Vec<&StaleCachedDay>> = BTreeMap::new();
    for day in stale {
        by_projection.entry(&day.projection).or_default().push(day);
    }
    let (mut replaced, mut dropped) = (Vec::new(), Vec::new());
    let mut plans = Vec::new();
    for (name, days) in by_projection {
        match Projection::parse(name) {
            Some(projection) => plans.push(Plan::new(projection, days, all)),
            None => dropped.extend(days),
        }
    }
    // FCR verdicts among the touched contacts before and after, under the
    // options of every version a stale day is under, on every core.
    let (verdicts_before, verdicts_after) = (
        SharedVerdicts::among(Some(&is_not_added), touched.by_customer),
        SharedVerdicts::among(None, touched.by_customer),
    );
    let fcr_options: Vec<&KpiOptions> = plans
        .iter()
        .flat_map(|plan| &plan.repeat_jobs)
        .flat_map(|(history, pinned, _)| {
            history
                .versions
                .iter()
                .filter(|v| Some(v.version) == *pinned)
        })
        .map(|v| &v.options)
        .collect();
    on_cores(fcr_options.len() * 2, |k| {
        let verdicts = [&verdicts_before, &verdicts_after][k % 2];
        verdicts.work_out(after, fcr_options[k / 2], as_of_ms)
    });
    // A contact neither added nor given another verdict gives each day
    // what it gave: only the others are counted, and placed in frames.
    let mut counted_after = is_added.clone();
    verdicts_before.mark_differing(&verdicts_after, &mut counted_after);
    let counted_before: Vec<bool> = counted_after
        .iter()
        .zip(&is_added)
        .map(|(counted, added)| *counted && !added)
        .collect();
    // One frame per plan over the counted contacts, and its cells.
    let frames = on_cores(plans.len(), |k| {
        let plan = &plans[k];
        let rule = match plan.projection.agent_zones {
            true => ZoneRule::Agent,
            false => ZoneRule::Queue,
        };
        let placed = Some(counted_after.as_slice());
        let frame = Frame::in_zones(after, &[], org, plan.period, as_of_ms, rule, placed);
        let cells = Cells::new(&frame, plan.projection);
        (frame, cells)
    });
    // Every plan's three passes over its frame (FCR by repeat contact over
    // the counted contacts before and after, the other KPIs over the added
    // ones) on every core: FCR is one job of one pass and would keep a
    // core idle.
    const PASSES: usize = 3;
    let countings = [
        Counting {
            only: Some(&counted_before),
            verdicts: Some(&verdicts_before),
        },
        Counting {
            only: Some(&counted_after),
            verdicts: Some(&verdicts_after),
        },
        Counting {
            only: Some(&is_added),
            verdicts: None,
        },
    ];
    let passes = on_cores(plans.len() * PASSES, |k| {
        let (plan, (frame, cells)) = (&plans[k / PASSES], &frames[k / PASSES]);
        let jobs = [&plan.repeat_jobs, &plan.repeat_jobs, &plan.own_jobs][k % PASSES];
        match jobs.is_empty() {
            true => Vec::new(),
            false => from_rows_counting(frame, jobs, Some(cells), countings[k % PASSES]),
        }
    });
    let nothing = FromRows::Days(Default::default());
    let empty = CachedDay::default();
    let days: Vec<(&Plan, &[Vec<FromRows>], &StaleCachedDay)> = plans
        .iter()
        .zip(passes.chunks(PASSES))
        .flat_map(|(plan, passes)| plan.days.iter().map(move |&day| (plan, passes, day)))
        .collect();
    // Each day decoded, changed and encoded again on every core.
    let new_aggregates = on_cores(days.len(), |k| {
        let (plan, passes, day) = days[k];
        let (repeat_job, job) = *plan.job_of.get(&(day.definition.as_str(), day.version))?;
        let (FromRows::Days(gave), FromRows::Days(give)) = (match repeat_job {
            true => (&passes[0][job], &passes[1][job]),
            false => (&nothing, &passes[2][job]),
        }) else {
            return None;
        };
        let key = (day.version, day.day);
        let (gave, give) = (gave.get(&key), give.get(&key));
        // The touched contacts give the day what they gave (as for most
        // days but the added one): the cached day stands, unread.
        let unchanged = match (gave, give) {
            (None, None) => true,
            (Some(gave), Some(give)) => gave.same_sums(give),
            _ => false,
        };
        if unchanged {
            return Some(None);
        }
        let cached = CachedDay::decode(&day.aggregates)?;
        let new = cached.with_difference(gave.unwrap_or(&empty), give.unwrap_or(&empty))?;
        Some((!new.same_sums(&cached)).then(|| new.encode()))
    });
    let mut updated = BTreeSet::new();
    for ((_, _, day), new_aggregates) in days.into_iter().zip(new_aggregates) {
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
    (replaced, dropped, updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_filter_holds_exactly_its_hashes() {
        let held: Vec<u64> = (0..5_000u64)
            .map(|i| bytes_hash(format!("cust{i:07}").as_bytes()))
            .collect();
        let filter = HashFilter::new(held.iter().copied());
        assert!(held.iter().all(|&h| filter.contains(h)));
        // Other customers' hashes, and hashes sharing a held one's bit (its
        // top 20 bits) but not held, are refused.
        let others = (5_000..50_000u64).map(|i| bytes_hash(format!("cust{i:07}").as_bytes()));
        assert_eq!(others.filter(|&h| filter.contains(h)).count(), 0);
        assert!(!filter.contains(held[0] ^ 1));
        // By match key (a hash's top 32 bits) every held hash may be held,
        // and others only when they share a held one's top 20 bits: about
        // 5,000 / 2^20 of them (0.5 %).
        let key = |h: u64| (h >> 32) as u32;
        assert!(held.iter().all(|&h| filter.may_hold_key(key(h))));
        let others = (5_000..50_000u64).map(|i| bytes_hash(format!("cust{i:07}").as_bytes()));
        let passed = others.filter(|&h| filter.may_hold_key(key(h))).count();
        assert!(passed < 450, "{passed} of 45,000 others' keys pass");
    }
}
