//! Choosing what to evaluate: samples of a period's handled contacts in the
//! caller's scope (random or stratified, with outliers included on purpose),
//! evaluators' queues of contacts to evaluate, and quotas per evaluator and
//! per agent with their progress this week or month.

use crate::access::Caller;
use crate::invalid;
use crate::quality::{EVALUATORS, FORM_WRITERS};
use crate::{Clock, ServiceError};
use merit_domain::access::Role;
use merit_domain::contact::Outcome;
use merit_domain::quality::sampling::{Candidate, Drawn, draw_sample};
use merit_store::{AuditEntry, EvaluationFilter, QuotaRecord, Store, WorkItemRecord};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What a sample can be stratified by.
pub const STRATA: [&str; 5] = ["none", "queue", "contact_type", "outcome", "duration"];
/// The largest sample drawn at once.
pub const MAX_SAMPLE: usize = 200;
/// A call whose talk lasted less than this is "very short".
pub const VERY_SHORT_MS: i64 = 30_000;
/// A contact by the same customer this soon after another is a repeat.
pub const REPEAT_WITHIN_MS: i64 = 72 * 3_600_000;

/// What to sample.
#[derive(Debug, Clone)]
pub struct SampleRequest {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub size: usize,
    /// One of [`STRATA`].
    pub stratify_by: String,
    /// How many outliers to include on purpose (at most `size`).
    pub outliers: usize,
    pub seed: u64,
    /// Put the sample in this evaluator's queue.
    pub evaluator: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SampledContact {
    pub source_system: String,
    pub source_id: String,
    pub agent_id: Option<String>,
    pub queue_id: Option<String>,
    pub arrival_ms: i64,
    pub stratum: String,
    /// "random", or why it was included on purpose.
    pub reason: String,
}

/// A duration band of a contact's handle time.
fn duration_band(handle_ms: i64) -> &'static str {
    match handle_ms {
        ..120_000 => "under 2 min",
        120_000..600_000 => "2 to 10 min",
        _ => "over 10 min",
    }
}

/// Draws a sample of the handled contacts of the period that no evaluator
/// has evaluated yet; with `evaluator`, queues it for them.
pub async fn sample(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    request: SampleRequest,
) -> Result<Vec<SampledContact>, ServiceError> {
    caller.require(EVALUATORS, "sample contacts to evaluate")?;
    if !(1..=MAX_SAMPLE).contains(&request.size) {
        return Err(invalid(
            "size",
            format!("a sample holds 1 to {MAX_SAMPLE} contacts"),
        ));
    }
    if !STRATA.contains(&request.stratify_by.as_str()) {
        return Err(invalid(
            "stratify_by",
            format!(
                "{:?} is not one of {}",
                request.stratify_by,
                STRATA.join(", ")
            ),
        ));
    }
    if let Some(name) = &request.evaluator {
        let users = store.users(caller.tenant).await?;
        let evaluates = users.iter().any(|u| {
            &u.username == name
                && !u.disabled
                && Role::parse(&u.role).is_some_and(|r| EVALUATORS.contains(&r))
        });
        if !evaluates {
            return Err(invalid(
                "evaluator",
                format!("{name:?} is not a user who evaluates"),
            ));
        }
    }
    let contacts = crate::contacts::list(store, caller, request.from, request.to).await?;
    let (bounds, _) =
        crate::contacts::local_days_ms(store, caller.tenant, request.from, request.to).await?;
    let evaluated: BTreeSet<(String, String)> = store
        .evaluations(
            caller.tenant,
            &EvaluationFilter {
                arrival_ms: Some(bounds),
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .filter(|e| e.evaluation.kind == "human")
        .map(|e| (e.evaluation.source_system, e.evaluation.contact_source_id))
        .collect();
    let low: BTreeSet<(String, String)> = store
        .contacts_with_low_survey_answers(caller.tenant, bounds)
        .await?
        .into_iter()
        .collect();
    let mut last_by_customer: BTreeMap<&str, i64> = BTreeMap::new();
    let mut pool = Vec::new();
    let mut candidates = Vec::new();
    for c in &contacts {
        let repeat = c.customer_id.as_deref().is_some_and(|customer| {
            let previous = last_by_customer.insert(customer, c.arrival_ms);
            previous.is_some_and(|ms| c.arrival_ms - ms <= REPEAT_WITHIN_MS)
        });
        let key = (c.source_system.clone(), c.source_id.clone());
        if c.outcome != Outcome::Handled.as_str()
            || c.agent_id.is_none()
            || evaluated.contains(&key)
        {
            continue;
        }
        let talk_ms = c.answer_ms.map(|a| c.end_ms - a);
        let outlier = if talk_ms.is_some_and(|t| t < VERY_SHORT_MS) {
            Some("very short call")
        } else if low.contains(&key) {
            Some("low survey answer")
        } else if repeat {
            Some("repeat contact")
        } else {
            None
        };
        let stratum = match request.stratify_by.as_str() {
            "queue" => c.queue_id.clone().unwrap_or_else(|| "no queue".into()),
            "contact_type" => c.contact_type.clone().unwrap_or_else(|| "no type".into()),
            "outcome" => c
                .wrap_up_code
                .clone()
                .unwrap_or_else(|| "no wrap-up".into()),
            "duration" => duration_band(talk_ms.unwrap_or(0)).into(),
            _ => "all".into(),
        };
        candidates.push(Candidate {
            key: format!("{}/{}", key.0, key.1),
            stratum,
            outlier,
        });
        pool.push(c);
    }
    let drawn = draw_sample(&candidates, request.size, request.outliers, request.seed);
    let sampled: Vec<SampledContact> = drawn
        .into_iter()
        .map(|(i, why)| SampledContact {
            source_system: pool[i].source_system.clone(),
            source_id: pool[i].source_id.clone(),
            agent_id: pool[i].agent_id.clone(),
            queue_id: pool[i].queue_id.clone(),
            arrival_ms: pool[i].arrival_ms,
            stratum: candidates[i].stratum.clone(),
            reason: match why {
                Drawn::Random => "random".into(),
                Drawn::Outlier(reason) => reason.into(),
            },
        })
        .collect();
    if let Some(evaluator) = request.evaluator {
        let items: Vec<WorkItemRecord> = sampled
            .iter()
            .map(|s| WorkItemRecord {
                id: 0,
                evaluator: evaluator.clone(),
                source_system: s.source_system.clone(),
                contact_source_id: s.source_id.clone(),
                reason: s.reason.clone(),
                stratum: s.stratum.clone(),
                created_ms: clock.now_ms(),
                created_by: caller.name.clone(),
            })
            .collect();
        let entry = AuditEntry {
            at_ms: clock.now_ms(),
            actor: caller.name.clone(),
            action: "qa_sample.queue".into(),
            record_kind: "qa_work_item".into(),
            record_id: evaluator.clone(),
            before_json: None,
            after_json: serde_json::to_string(&sampled).ok(),
        };
        store.add_work_items(caller.tenant, &items, &entry).await?;
    }
    Ok(sampled)
}

/// The caller's queue: contacts sampled for them, not yet evaluated by them.
pub async fn queue(store: &Store, caller: &Caller) -> Result<Vec<WorkItemRecord>, ServiceError> {
    caller.require(EVALUATORS, "read an evaluation queue")?;
    let items = store.work_items(caller.tenant, Some(&caller.name)).await?;
    let mut open = Vec::new();
    for item in items {
        let done = store
            .evaluations(
                caller.tenant,
                &EvaluationFilter {
                    contact: Some((&item.source_system, &item.contact_source_id)),
                    ..Default::default()
                },
            )
            .await?
            .iter()
            .any(|e| e.evaluation.evaluator == caller.name && e.evaluation.kind == "human");
        if !done {
            open.push(item);
        }
    }
    Ok(open)
}

/// Sets a quota: `kind` evaluator (subject a username) or agent (an agent
/// id, or `*` for every agent), `period` week or month.
pub async fn set_quota(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    kind: &str,
    subject: &str,
    period: &str,
    evaluations: i64,
) -> Result<i64, ServiceError> {
    caller.require(FORM_WRITERS, "set a sampling quota")?;
    if !["evaluator", "agent"].contains(&kind) {
        return Err(invalid(
            "kind",
            format!("{kind:?} is not evaluator or agent"),
        ));
    }
    if !["week", "month"].contains(&period) {
        return Err(invalid(
            "period",
            format!("{period:?} is not week or month"),
        ));
    }
    if !(1..=1000).contains(&evaluations) {
        return Err(invalid(
            "evaluations",
            format!("{evaluations} is not from 1 to 1000"),
        ));
    }
    if subject.trim().is_empty() {
        return Err(invalid(
            "subject",
            "name the evaluator or the agent (* for every agent)",
        ));
    }
    let record = QuotaRecord {
        id: 0,
        kind: kind.into(),
        subject: subject.trim().into(),
        period: period.into(),
        evaluations,
        created_ms: clock.now_ms(),
        created_by: caller.name.clone(),
    };
    let entry = AuditEntry {
        at_ms: clock.now_ms(),
        actor: caller.name.clone(),
        action: "qa_quota.set".into(),
        record_kind: "qa_quota".into(),
        record_id: String::new(),
        before_json: None,
        after_json: serde_json::to_string(&record).ok(),
    };
    Ok(store.add_quota(caller.tenant, &record, &entry).await?)
}

/// One subject's progress against a quota in the current period.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaProgress {
    pub kind: String,
    pub subject: String,
    pub period: String,
    /// The period's first and last local day.
    pub from: String,
    pub to: String,
    pub done: usize,
    pub target: i64,
}

/// Progress this week (Monday to Sunday) or month, in the centre's zone,
/// of every quota: evaluations made by an evaluator, or evaluations of an
/// agent's contacts (each agent in the caller's scope for `*`). The latest
/// quota set for a subject and period counts.
pub async fn quota_progress(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
) -> Result<Vec<QuotaProgress>, ServiceError> {
    caller.require(EVALUATORS, "read sampling quotas")?;
    let zone = crate::time_zone(&store.centre(caller.tenant).await?.1)?;
    let today = jiff::Timestamp::from_millisecond(clock.now_ms())
        .map_err(|e| invalid("now", e.to_string()))?
        .to_zoned(zone)
        .date();
    let mut latest: BTreeMap<(String, String, String), QuotaRecord> = BTreeMap::new();
    for q in store.quotas(caller.tenant).await? {
        latest.insert((q.kind.clone(), q.subject.clone(), q.period.clone()), q);
    }
    let all = crate::quality::evaluations(store, caller, EvaluationFilter::default()).await?;
    let human: Vec<_> = all
        .iter()
        .filter(|e| e.evaluation.kind == "human")
        .collect();
    let mut progress = Vec::new();
    // Loaded once, for the first quota on every agent.
    let (mut org, mut view) = (None, None);
    for q in latest.into_values() {
        let (from, to) = match q.period.as_str() {
            "week" => {
                let monday = today
                    - jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset()));
                (monday, monday + jiff::Span::new().days(6))
            }
            _ => (today.first_of_month(), today.last_of_month()),
        };
        let ((start, end), _) =
            crate::contacts::local_days_ms(store, caller.tenant, from, to).await?;
        let in_period: Vec<_> = human
            .iter()
            .filter(|e| e.evaluation.created_ms >= start && e.evaluation.created_ms < end)
            .collect();
        let subjects: Vec<String> = if q.kind == "agent" && q.subject == "*" {
            let org = match &org {
                Some(org) => org,
                None => org.insert(store.load_organisation(caller.tenant).await?),
            };
            let view = match &view {
                Some(view) => view,
                None => view.insert(crate::contacts::ScopeView::of(store, caller).await?),
            };
            org.agents
                .iter()
                .filter(|a| view.sees(&a.id, start))
                .map(|a| a.id.clone())
                .collect()
        } else {
            vec![q.subject.clone()]
        };
        for subject in subjects {
            let done = in_period
                .iter()
                .filter(|e| {
                    if q.kind == "agent" {
                        e.evaluation.agent_id == subject
                    } else {
                        e.evaluation.evaluator == subject
                    }
                })
                .count();
            progress.push(QuotaProgress {
                kind: q.kind.clone(),
                subject,
                period: q.period.clone(),
                from: from.to_string(),
                to: to.to_string(),
                done,
                target: q.evaluations,
            });
        }
    }
    Ok(progress)
}
