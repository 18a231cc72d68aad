//! What the quality programme's own records say about it, over a period
//! (contacts that arrived on its local days) and the caller's scope: each
//! evaluator's scores, auto-fails and disputes; which questions are
//! disputed; the gap between agents' self-assessments and evaluators'
//! scores per question; QA scores against the customer's own survey
//! answers on the same contacts (Pearson's r with its interval per form
//! version and evaluator, per question, and the strong disagreements);
//! and the trend of calibration sessions.

use crate::ServiceError;
use crate::access::Caller;
use crate::quality::{EVALUATORS, FormHistory, calibration_report, calibration_sessions, form};
use merit_domain::access::Role;
use merit_domain::quality::agreement::{Correlation, pearson};
use merit_domain::quality::{Form, score};
use merit_store::{EvaluationSummary, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// Who reads the insights: those who evaluate, coach or run the centre.
pub const INSIGHT_READERS: &[Role] = &[
    Role::QaSpecialist,
    Role::TeamLead,
    Role::Trainer,
    Role::OperationsManager,
    Role::Administrator,
];

/// A QA score and a customer's answer this far apart (points of 100) is a
/// strong disagreement.
pub const STRONG_DISAGREEMENT_POINTS: f64 = 60.0;
/// The most disagreements listed.
pub const MAX_DISAGREEMENTS: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct EvaluatorStats {
    pub evaluator: String,
    pub evaluations: usize,
    pub mean_score: Option<f64>,
    /// Share of their evaluations whose form auto-failed.
    pub auto_fail_rate: Option<f64>,
    pub disputes: usize,
    pub disputes_accepted: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionDisputes {
    pub question: String,
    pub disputes: usize,
    pub accepted: usize,
}

/// Self − evaluator on one question, in points of 100, over the contacts
/// with both an evaluator's score and the agent's own.
#[derive(Debug, Clone, Serialize)]
pub struct SelfGap {
    pub question: String,
    pub pairs: usize,
    pub mean_gap_points: Option<f64>,
}

/// QA scores against one survey question's answers.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerCorrelation {
    pub form: String,
    pub form_version: i64,
    /// `None`: every evaluator.
    pub evaluator: Option<String>,
    /// `None`: the whole form's score; else one QA question's.
    pub qa_question: Option<String>,
    pub survey_question: String,
    pub pairs: usize,
    pub correlation: Option<Correlation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    pub evaluation_id: i64,
    pub source_system: String,
    pub contact_source_id: String,
    pub agent_id: String,
    pub evaluator: String,
    pub qa_score: f64,
    pub survey_question: String,
    pub customer_answer: i64,
    /// The customer's answer in points of 100 (its place on its scale).
    pub customer_points: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalibrationTrend {
    pub session_id: i64,
    pub name: String,
    pub created_ms: i64,
    pub agreement: Option<f64>,
    pub kappa: Option<f64>,
    /// (evaluator, bias in points of 100)
    pub bias: Vec<(String, Option<f64>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Insights {
    pub evaluators: Vec<EvaluatorStats>,
    pub disputed_questions: Vec<QuestionDisputes>,
    pub self_gaps: Vec<SelfGap>,
    pub customer: Vec<CustomerCorrelation>,
    pub disagreements: Vec<Disagreement>,
    pub calibration: Vec<CalibrationTrend>,
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// A survey answer's place on its scale, in points of 100.
fn survey_points(scale: &str, value: i64) -> Option<f64> {
    match scale {
        "1-5" => Some((value - 1) as f64 * 25.0),
        "0-10" => Some(value as f64 * 10.0),
        "yes_no" => Some(value as f64 * 100.0),
        _ => None,
    }
}

/// The scores of one evaluation's latest answers on its form.
fn question_scores(form: &Form, e: &EvaluationSummary) -> BTreeMap<String, f64> {
    let answers: BTreeMap<String, crate::quality::GivenAnswer> =
        serde_json::from_str(&e.latest.answers_json).unwrap_or_default();
    let plain = answers.into_iter().map(|(k, a)| (k, a.answer)).collect();
    score(form, &plain)
        .map(|s| {
            s.questions
                .into_iter()
                .filter_map(|q| Some((q.key, q.score?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The insights over contacts that arrived on the centre's local days `from` to `to`.
pub async fn insights(
    store: &Store,
    caller: &Caller,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<Insights, ServiceError> {
    caller.require(INSIGHT_READERS, "read quality insights")?;
    if to < from {
        return Err(ServiceError::Invalid {
            field: "to",
            reason: format!("{to} is before from {from}"),
        });
    }
    let all = crate::quality::evaluations_of_days(store, caller, from, to).await?;
    let mut forms: BTreeMap<i64, FormHistory> = BTreeMap::new();
    for e in &all {
        if let std::collections::btree_map::Entry::Vacant(slot) = forms.entry(e.evaluation.form_id)
        {
            slot.insert(form(store, caller, e.evaluation.form_id).await?);
        }
    }
    let form_of = |e: &EvaluationSummary| {
        forms
            .get(&e.evaluation.form_id)
            .and_then(|h| h.version(e.evaluation.form_version))
            .map(|v| (h_name(&forms, e.evaluation.form_id), &v.form))
    };
    let human: Vec<&EvaluationSummary> = all
        .iter()
        .filter(|e| e.evaluation.kind == "human")
        .collect();
    let ids: BTreeMap<i64, &EvaluationSummary> =
        human.iter().map(|e| (e.evaluation.id, *e)).collect();
    let disputes: Vec<_> = store
        .disputes(caller.tenant, None)
        .await?
        .into_iter()
        .filter(|d| ids.contains_key(&d.evaluation_id))
        .collect();

    let mut evaluators: BTreeMap<&str, (Vec<f64>, usize, usize, usize, usize)> = BTreeMap::new();
    for e in &human {
        let entry = evaluators
            .entry(e.evaluation.evaluator.as_str())
            .or_default();
        entry.1 += 1;
        if let Some(s) = e.latest.score {
            entry.0.push(s);
        }
        // Auto-fail as the latest version stands (an accepted dispute may lift it).
        if e.latest.auto_fail_by.is_some() {
            entry.2 += 1;
        }
    }
    let mut questions: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for d in &disputes {
        let accepted = matches!(d.decision.as_deref(), Some("accepted" | "partly_accepted"));
        if let Some(e) = ids.get(&d.evaluation_id) {
            let entry = evaluators
                .entry(e.evaluation.evaluator.as_str())
                .or_default();
            entry.3 += 1;
            entry.4 += usize::from(accepted);
        }
        let keys: Vec<String> = serde_json::from_str(&d.questions_json).unwrap_or_default();
        for key in keys {
            let entry = questions.entry(key).or_default();
            entry.0 += 1;
            entry.1 += usize::from(accepted);
        }
    }
    let evaluators = evaluators
        .into_iter()
        .map(
            |(name, (scores, n, failed, raised, accepted))| EvaluatorStats {
                evaluator: name.to_owned(),
                evaluations: n,
                mean_score: mean(&scores),
                auto_fail_rate: (n > 0).then(|| failed as f64 / n as f64),
                disputes: raised,
                disputes_accepted: accepted,
            },
        )
        .collect();
    let mut disputed_questions: Vec<QuestionDisputes> = questions
        .into_iter()
        .map(|(question, (disputes, accepted))| QuestionDisputes {
            question,
            disputes,
            accepted,
        })
        .collect();
    disputed_questions.sort_by(|a, b| {
        b.disputes
            .cmp(&a.disputes)
            .then(a.question.cmp(&b.question))
    });

    // Self-assessment against the evaluators' scores of the same contact.
    let mut gaps: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for own in all.iter().filter(|e| e.evaluation.kind == "self") {
        let Some((_, form)) = form_of(own) else {
            continue;
        };
        let mine = question_scores(form, own);
        for e in human.iter().filter(|e| {
            e.evaluation.source_system == own.evaluation.source_system
                && e.evaluation.contact_source_id == own.evaluation.contact_source_id
                && e.evaluation.form_id == own.evaluation.form_id
                && e.evaluation.form_version == own.evaluation.form_version
        }) {
            for (key, theirs) in question_scores(form, e) {
                if let Some(m) = mine.get(&key) {
                    gaps.entry(key).or_default().push(m - theirs);
                }
            }
        }
    }
    let self_gaps = gaps
        .into_iter()
        .map(|(question, values)| SelfGap {
            question,
            pairs: values.len(),
            mean_gap_points: mean(&values),
        })
        .collect();

    // QA against the customer: each evaluated contact's survey answers.
    type Key = (String, i64, Option<String>, Option<String>, String);
    let mut pairs: BTreeMap<Key, Vec<(f64, f64)>> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for e in &human {
        let (Some((name, form)), Some(qa)) = (form_of(e), e.latest.score) else {
            continue;
        };
        let answers = store
            .contact_survey_answers(
                caller.tenant,
                &e.evaluation.source_system,
                &e.evaluation.contact_source_id,
            )
            .await?;
        let per_question = question_scores(form, e);
        for a in &answers {
            let Some(value) = a.value else { continue };
            let Some(points) = survey_points(&a.scale, value) else {
                continue;
            };
            let version = e.evaluation.form_version;
            for evaluator in [None, Some(e.evaluation.evaluator.clone())] {
                let key = (
                    name.clone(),
                    version,
                    evaluator,
                    None,
                    a.question_id.clone(),
                );
                pairs.entry(key).or_default().push((qa, value as f64));
            }
            for (question, q_points) in &per_question {
                let key = (
                    name.clone(),
                    version,
                    None,
                    Some(question.clone()),
                    a.question_id.clone(),
                );
                pairs
                    .entry(key)
                    .or_default()
                    .push((*q_points, value as f64));
            }
            if (qa - points).abs() >= STRONG_DISAGREEMENT_POINTS {
                disagreements.push(Disagreement {
                    evaluation_id: e.evaluation.id,
                    source_system: e.evaluation.source_system.clone(),
                    contact_source_id: e.evaluation.contact_source_id.clone(),
                    agent_id: e.evaluation.agent_id.clone(),
                    evaluator: e.evaluation.evaluator.clone(),
                    qa_score: qa,
                    survey_question: a.question_id.clone(),
                    customer_answer: value,
                    customer_points: points,
                });
            }
        }
    }
    disagreements.sort_by(|a, b| {
        let gap = |d: &Disagreement| (d.qa_score - d.customer_points).abs();
        gap(b)
            .total_cmp(&gap(a))
            .then(a.evaluation_id.cmp(&b.evaluation_id))
    });
    disagreements.truncate(MAX_DISAGREEMENTS);
    let customer = pairs
        .into_iter()
        .map(
            |((form, form_version, evaluator, qa_question, survey_question), values)| {
                CustomerCorrelation {
                    form,
                    form_version,
                    evaluator,
                    qa_question,
                    survey_question,
                    pairs: values.len(),
                    correlation: pearson(&values),
                }
            },
        )
        .collect();

    let mut calibration = Vec::new();
    if EVALUATORS.contains(&caller.role) {
        for session in calibration_sessions(store, caller).await? {
            let report = calibration_report(store, caller, session.record.id).await?;
            calibration.push(CalibrationTrend {
                session_id: session.record.id,
                name: session.record.name.clone(),
                created_ms: session.record.created_ms,
                agreement: report.form.agreement,
                kappa: report.form.kappa,
                bias: report
                    .bias
                    .iter()
                    .map(|b| (b.evaluator.clone(), b.bias_points))
                    .collect(),
            });
        }
        calibration.sort_by_key(|c| c.created_ms);
    }
    Ok(Insights {
        evaluators,
        disputed_questions,
        self_gaps,
        customer,
        disagreements,
        calibration,
    })
}

fn h_name(forms: &BTreeMap<i64, FormHistory>, id: i64) -> String {
    forms
        .get(&id)
        .map(|h| h.form.name.clone())
        .unwrap_or_default()
}
