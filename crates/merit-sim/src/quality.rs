//! Quality events of the demo centre, deterministic from the seed: which
//! calls get evaluated, what two QA specialists (one lenient, one strict)
//! and the agents themselves answer on a scorecard form, calibration
//! sessions in which both score the same calls, and the disputes agents
//! raise with their decisions. The binary applies the plan through the
//! service layer, in time order.

use merit_domain::contact::{Contact, Outcome};
use merit_domain::organisation::Channel;
use merit_domain::quality::{AnswerScale, Form};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Who scores: the lenient QA specialist, the strict one, or the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scorer {
    Lenient,
    Strict,
    Agent,
}

impl Scorer {
    /// How far this scorer moves the chance of a question's top answer.
    fn lean(self) -> f64 {
        match self {
            Scorer::Lenient => 0.06,
            Scorer::Strict => -0.25,
            Scorer::Agent => 0.08,
        }
    }
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// One planned evaluation of a call.
#[derive(Debug, Clone)]
pub struct PlannedEvaluation {
    pub at_ms: i64,
    pub scorer: Scorer,
    pub source_system: String,
    pub contact_source_id: String,
    pub agent_id: String,
    pub answers: BTreeMap<String, String>,
    /// When the agent acknowledges it (evaluators' scores are released at once).
    pub acknowledged_ms: Option<i64>,
    pub dispute: Option<PlannedDispute>,
}

/// An agent's dispute of one question, and the reviewer's decision.
#[derive(Debug, Clone)]
pub struct PlannedDispute {
    pub at_ms: i64,
    pub question: String,
    pub comment: String,
    pub decided_ms: i64,
    /// The new answer when accepted; `None` when rejected.
    pub new_answer: Option<String>,
    pub reason: String,
}

/// A calibration session: both QA specialists score the same calls.
#[derive(Debug, Clone)]
pub struct PlannedCalibration {
    pub at_ms: i64,
    pub name: String,
    pub contacts: Vec<(String, String)>,
    pub scores: Vec<PlannedEvaluation>,
}

#[derive(Debug, Clone, Default)]
pub struct QualityPlan {
    pub evaluations: Vec<PlannedEvaluation>,
    pub self_assessments: Vec<PlannedEvaluation>,
    pub calibrations: Vec<PlannedCalibration>,
}

/// A stable hash of a text, so sampling does not depend on order.
fn stable_hash(text: &str, seed: u64) -> u64 {
    merit_domain::quality::sampling::order(seed, text)
}

/// Whether a contact is one the demo's QA team evaluates: about one
/// handled inbound call in 150.
pub fn sampled_for_quality(contact: &Contact, seed: u64) -> bool {
    contact.outcome == Outcome::Handled
        && contact.channel == Channel::VoiceInbound
        && contact.agent_id.is_some()
        && stable_hash(&contact.source_id, seed).is_multiple_of(150)
}

/// How good an agent's calls are, from 0.6 to 0.95, fixed per agent.
fn agent_quality(agent: &str, seed: u64) -> f64 {
    0.6 + 0.35 * (stable_hash(agent, seed ^ 0x5eed) % 1000) as f64 / 1000.0
}

/// Answers a scorer gives on `form` for a call of true quality `quality`.
fn answers(
    form: &Form,
    contact: &Contact,
    quality: f64,
    scorer: Scorer,
    rng: &mut ChaCha8Rng,
) -> BTreeMap<String, String> {
    let mut given: BTreeMap<String, String> = BTreeMap::new();
    let resolved = contact.wrap_up_code.as_deref() == Some("resolved");
    let explained = contact.holds.is_empty() && contact.transfers.is_empty();
    for (section, q) in form.questions() {
        // Compliance: a question that can fail its section or the form, or
        // one in a section that fails the form below its mark.
        let compliance = q.auto_fail.is_some() || form.sections[section].auto_fail_below.is_some();
        if let Some(condition) = &q.shown_when
            && given.get(&condition.question) != Some(&condition.answer)
        {
            continue;
        }
        let top = (quality + scorer.lean() + rng.random_range(-0.1..0.1)).clamp(0.02, 0.99);
        let choices = q.answers();
        let answer = if q.allow_na && explained {
            "n/a".to_owned()
        } else if q.key == "resolved" {
            let yes = resolved != (rng.random::<f64>() < 0.05);
            if yes { "yes" } else { "no" }.to_owned()
        } else if q.is_bonus() {
            choices[usize::from(rng.random::<f64>() < top * 0.2)].clone()
        } else if compliance && rng.random::<f64>() < 0.02 {
            // A compliance miss is rare and seen by everyone alike.
            choices[0].clone()
        } else if compliance && matches!(q.scale, AnswerScale::YesNo | AnswerScale::PassFail) {
            choices[1].clone()
        } else {
            let lowest = usize::from(compliance);
            let index = match q.scale {
                AnswerScale::YesNo | AnswerScale::PassFail => {
                    usize::from(rng.random::<f64>() < top)
                }
                AnswerScale::OneToFive | AnswerScale::Points => {
                    let place = (top + rng.random_range(-0.15..0.15)).clamp(0.0, 1.0);
                    (place * (choices.len() - 1) as f64).round() as usize
                }
            };
            choices[index.max(lowest)].clone()
        };
        given.insert(q.key.clone(), answer);
    }
    given
}

/// The quality events of the demo: calls sampled with [`sampled_for_quality`]
/// (oldest first) are evaluated by the two QA specialists in turn, a day
/// later; one in six is also assessed by its agent; one in eleven is
/// disputed (more of the strict specialist's disputes are accepted). Every 14 days both specialists
/// calibrate on five calls of the fortnight.
pub fn plan_quality(form: &Form, sampled: &[Contact], seed: u64, end_ms: i64) -> QualityPlan {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0a11_7e57);
    let mut plan = QualityPlan::default();
    let mut sampled: Vec<&Contact> = sampled.iter().collect();
    sampled.sort_by(|a, b| (a.arrival_ms, &a.source_id).cmp(&(b.arrival_ms, &b.source_id)));
    let Some(first) = sampled.first().map(|c| c.arrival_ms) else {
        return plan;
    };
    let call_rng = |id: &str| ChaCha8Rng::seed_from_u64(stable_hash(id, seed ^ 0xca11));
    let planned = |contact: &Contact, scorer, at_ms| {
        let agent = contact.agent_id.clone().unwrap_or_default();
        let mut quality = agent_quality(&agent, seed);
        if contact.end_ms - contact.answer_ms.unwrap_or(contact.end_ms) < 60_000 {
            quality -= 0.3; // very short calls rarely get the customer what they needed
        }
        PlannedEvaluation {
            at_ms,
            scorer,
            source_system: contact.source_system.clone(),
            contact_source_id: contact.source_id.clone(),
            agent_id: agent,
            // The same draws for every scorer of a call (common random
            // numbers): scorers differ by their lean, not by chance.
            answers: answers(
                form,
                contact,
                quality,
                scorer,
                &mut call_rng(&contact.source_id),
            ),
            acknowledged_ms: None,
            dispute: None,
        }
    };
    for (n, contact) in sampled.iter().enumerate() {
        let at_ms = contact.end_ms + DAY_MS;
        if at_ms >= end_ms {
            continue;
        }
        let scorer = if n % 2 == 0 {
            Scorer::Lenient
        } else {
            Scorer::Strict
        };
        let mut evaluation = planned(contact, scorer, at_ms);
        let acknowledged = at_ms + rng.random_range(2..48) * HOUR_MS;
        if acknowledged < end_ms {
            evaluation.acknowledged_ms = Some(acknowledged);
        }
        if n % 11 == 5
            && let Some((question, answer)) = evaluation
                .answers
                .iter()
                .find(|(k, v)| {
                    k.as_str() != "resolved"
                        && form
                            .question(k)
                            .is_some_and(|q| q.answers().first() == Some(*v) && !q.is_bonus())
                })
                .map(|(k, _)| {
                    (
                        k.clone(),
                        form.question(k).and_then(|q| q.answers().last().cloned()),
                    )
                })
            && acknowledged + 2 * DAY_MS < end_ms
        {
            // The strict specialist loses more disputes.
            let accept = rng.random::<f64>() < if scorer == Scorer::Strict { 0.6 } else { 0.25 };
            evaluation.dispute = Some(PlannedDispute {
                at_ms: acknowledged + HOUR_MS,
                question: question.clone(),
                comment: format!(
                    "I did cover {question}: please listen again from the middle of the call."
                ),
                decided_ms: acknowledged + DAY_MS,
                new_answer: if accept { answer } else { None },
                reason: if accept {
                    "Heard on the recording: the agent did it.".into()
                } else {
                    "Listened again: the score stands.".into()
                },
            });
        }
        if n % 6 == 3 {
            let own = planned(contact, Scorer::Agent, contact.end_ms + 2 * HOUR_MS);
            plan.self_assessments.push(own);
        }
        plan.evaluations.push(evaluation);
    }
    let last = sampled.last().map_or(first, |c| c.arrival_ms);
    let mut session_start = first;
    while session_start < end_ms && session_start <= last {
        let session_end = session_start.saturating_add(14 * DAY_MS);
        let calls: Vec<&&Contact> = sampled
            .iter()
            .filter(|c| c.arrival_ms >= session_start && c.arrival_ms < session_end)
            .take(5)
            .collect();
        let at_ms = session_end.saturating_add(DAY_MS);
        if calls.len() >= 3 && at_ms < end_ms {
            let mut scores = Vec::new();
            for call in &calls {
                for scorer in [Scorer::Lenient, Scorer::Strict] {
                    scores.push(planned(call, scorer, at_ms + HOUR_MS));
                }
            }
            plan.calibrations.push(PlannedCalibration {
                at_ms,
                name: format!("Calibration {}", plan.calibrations.len() + 1),
                contacts: calls
                    .iter()
                    .map(|c| (c.source_system.clone(), c.source_id.clone()))
                    .collect(),
                scores,
            });
        }
        session_start = session_end;
    }
    plan
}
