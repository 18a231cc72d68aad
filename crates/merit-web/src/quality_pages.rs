//! Quality scoring pages: the quality hub (forms, evaluations, what awaits
//! acknowledgement, calibration sessions), a form with its versions and
//! its text editor, the scoring page, an evaluation with its versions,
//! self-assessment gap, disputes and their decisions, and a calibration
//! session's statistics. Every form posts to the same service use cases
//! as the API and answers with a redirect.

use crate::AppState;
use crate::auth::PageCaller;
use crate::pages::{centre_zone, failed, local_time, respond};
use crate::quality_api::record_id;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use merit_domain::access::Role;
use merit_domain::quality::Form;
use merit_service::ServiceError;
use merit_service::quality::{
    self, Decision, EVALUATORS, EvaluationView, FORM_WRITERS, GivenAnswer, NewEvaluation,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A posted form's fields, in order (several may share a name).
type Fields = axum::Form<Vec<(String, String)>>;

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Fields named `{prefix}{key}` as key → value, blanks left out.
fn prefixed(fields: &[(String, String)], prefix: &str) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_owned(), v.trim().to_owned())))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// The answers of a scoring form: `answer.{key}` and `comment.{key}`.
fn given_answers(fields: &[(String, String)]) -> BTreeMap<String, GivenAnswer> {
    let comments = prefixed(fields, "comment.");
    prefixed(fields, "answer.")
        .into_iter()
        .map(|(key, answer)| {
            let comment = comments.get(&key).cloned();
            (key, GivenAnswer { answer, comment })
        })
        .collect()
}

fn redirect(path: String) -> Response {
    Redirect::to(&path).into_response()
}

/// The answer to a form that changed an evaluation: back to it, or what went wrong.
fn to_evaluation(done: Result<i64, ServiceError>) -> Response {
    match done {
        Ok(id) => redirect(format!("/quality/evaluations/{id}")),
        Err(e) => failed(e),
    }
}

/// Questions of a form for a page: their answers and, when given, the
/// answer and score of each version.
fn form_json(form: &Form) -> Value {
    let sections: Vec<Value> = form
        .sections
        .iter()
        .map(|s| {
            let questions: Vec<Value> = s
                .questions
                .iter()
                .map(|q| {
                    json!({
                        "key": q.key, "text": q.text, "guidance": q.guidance,
                        "scale": q.scale.as_str(), "weight": q.weight, "allow_na": q.allow_na,
                        "auto_fail": q.auto_fail, "bonus_points": q.bonus_points,
                        "shown_when": q.shown_when, "answers": q.answers(),
                    })
                })
                .collect();
            json!({ "key": s.key, "title": s.title, "weight": s.weight,
                    "auto_fail_below": s.auto_fail_below, "questions": questions })
        })
        .collect();
    json!({ "name": form.name, "description": form.description, "sections": sections })
}

fn score_text(score: Option<f64>) -> String {
    score.map_or_else(|| "n/a".to_owned(), |s| format!("{s:.1}"))
}

pub async fn hub(State(state): State<AppState>, PageCaller(caller): PageCaller) -> Response {
    let result = async {
        let (_, tz) = centre_zone(&state, &caller).await?;
        let forms = quality::forms(&state.store, &caller).await?;
        let evaluator = EVALUATORS.contains(&caller.role);
        let row = |e: &merit_store::EvaluationSummary| {
            json!({
                "id": e.evaluation.id, "agent": e.evaluation.agent_id, "kind": e.evaluation.kind,
                "contact": e.evaluation.contact_source_id, "evaluator": e.evaluation.evaluator,
                "contact_time": local_time(e.evaluation.contact_arrival_ms, &tz),
                "score": score_text(e.latest.score), "version": e.latest.version,
                "released": e.latest.released_ms.is_some(), "acknowledged": e.latest.acknowledged_ms.is_some(),
            })
        };
        let evaluations: Vec<Value> = quality::evaluations(&state.store, &caller, Default::default())
            .await?
            .iter()
            .take(200)
            .map(row)
            .collect();
        let (queue, quotas) = if evaluator {
            let queue: Vec<Value> = merit_service::quality_sampling::queue(&state.store, &caller)
                .await?
                .iter()
                .map(|q| json!({ "system": q.source_system, "id": q.contact_source_id, "reason": q.reason,
                                 "stratum": q.stratum }))
                .collect();
            let quotas = merit_service::quality_sampling::quota_progress(&state.store, state.clock.as_ref(), &caller).await?;
            (Some(queue), Some(quotas))
        } else {
            (None, None)
        };
        let (unacknowledged, sessions) = if evaluator {
            let pending: Vec<Value> = quality::unacknowledged(&state.store, &caller).await?.iter().map(row).collect();
            let sessions: Vec<Value> = quality::calibration_sessions(&state.store, &caller)
                .await?
                .iter()
                .map(|s| json!({ "id": s.record.id, "name": s.record.name, "contacts": s.contacts.len(),
                                 "evaluators": s.evaluators.join(", "), "created": local_time(s.record.created_ms, &tz) }))
                .collect();
            (Some(pending), Some(sessions))
        } else {
            (None, None)
        };
        Ok::<_, ServiceError>(json!({
            "forms": forms, "evaluations": evaluations, "unacknowledged": unacknowledged,
            "sessions": sessions, "writer": FORM_WRITERS.contains(&caller.role),
            "queue": queue, "quotas": quotas, "strata": merit_service::quality_sampling::STRATA,
            "agent": caller.role == Role::Agent,
        }))
    }
    .await;
    respond(&state, &caller, "quality.html", result)
}

/// A refused form text: the page again, with the text and what was wrong.
fn refused_form(
    state: &AppState,
    caller: &merit_service::access::Caller,
    text: &str,
    error: ServiceError,
) -> Response {
    match error {
        ServiceError::Invalid { reason, .. } => {
            let mut page = respond(
                state,
                caller,
                "form_refused.html",
                Ok(json!({ "text": text, "error": reason })),
            );
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            page
        }
        other => failed(other),
    }
}

pub async fn publish(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    axum::Form(fields): Fields,
) -> Response {
    let text = field(&fields, "text").unwrap_or_default();
    match quality::publish_form(&state.store, state.clock.as_ref(), &caller, None, text).await {
        Ok((id, _)) => redirect(format!("/quality/forms/{id}")),
        Err(e) => refused_form(&state, &caller, text, e),
    }
}

pub async fn publish_version(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    let text = field(&fields, "text").unwrap_or_default();
    let published = async {
        let id = record_id(&id)?;
        quality::publish_form(&state.store, state.clock.as_ref(), &caller, Some(id), text).await
    }
    .await;
    match published {
        Ok((id, _)) => redirect(format!("/quality/forms/{id}")),
        Err(e) => refused_form(&state, &caller, text, e),
    }
}

pub async fn retire(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    let retired = async {
        let id = record_id(&id)?;
        quality::retire_form(&state.store, state.clock.as_ref(), &caller, id).await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    match retired {
        Ok(id) => redirect(format!("/quality/forms/{id}")),
        Err(e) => failed(e),
    }
}

pub async fn form(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let (_, tz) = centre_zone(&state, &caller).await?;
        let history = quality::form(&state.store, &caller, record_id(&id)?).await?;
        let latest = history.latest().ok_or(ServiceError::NotFound)?;
        let versions: Vec<Value> = history
            .versions
            .iter()
            .rev()
            .map(|v| json!({ "version": v.version, "published": local_time(v.published_ms, &tz), "by": v.published_by }))
            .collect();
        Ok::<_, ServiceError>(json!({
            "id": history.form.id, "version": latest.version, "retired": history.form.retired_ms.is_some(),
            "form": form_json(&latest.form), "text": latest.source_text, "versions": versions,
            "writer": FORM_WRITERS.contains(&caller.role),
        }))
    }
    .await;
    respond(&state, &caller, "quality_form.html", result)
}

#[derive(Debug, Deserialize)]
pub struct EvaluateQuery {
    source_system: String,
    source_id: String,
    form: Option<String>,
    session: Option<String>,
    rescore: Option<String>,
}

/// The scoring page: the form's questions for one contact (a new
/// evaluation, a self-assessment, a calibration score, or a re-score).
pub async fn evaluate_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(query): Query<EvaluateQuery>,
) -> Response {
    let result = async {
        if caller.role != Role::Agent {
            caller.require(EVALUATORS, "evaluate a contact")?;
        }
        let contact = merit_service::contacts::contact(
            &state.store,
            &caller,
            &query.source_system,
            &query.source_id,
        )
        .await?;
        let number = |text: &Option<String>| text.as_deref().map(record_id).transpose();
        let (session, rescore) = (number(&query.session)?, number(&query.rescore)?);
        let live_forms: Vec<_> = quality::forms(&state.store, &caller)
            .await?
            .into_iter()
            .filter(|f| f.retired_ms.is_none())
            .collect();
        let (form, given, action) = if let Some(id) = rescore {
            let view = quality::evaluation(&state.store, state.clock.as_ref(), &caller, id).await?;
            let given = view
                .versions
                .last()
                .map(|v| v.answers.clone())
                .unwrap_or_default();
            (
                view.form,
                given,
                format!("/quality/evaluations/{id}/versions"),
            )
        } else {
            // A calibration session fixes the form and its version.
            let pinned = match session {
                Some(s) => {
                    let record = quality::calibration_session(&state.store, &caller, s)
                        .await?
                        .record;
                    Some((record.form_id, record.form_version))
                }
                None => None,
            };
            let form_id = match (number(&query.form)?, pinned) {
                (_, Some((id, _))) => id,
                (Some(id), None) => id,
                (None, None) => live_forms.first().ok_or(ServiceError::NotFound)?.id,
            };
            let history = quality::form(&state.store, &caller, form_id).await?;
            let version = match pinned {
                Some((_, version)) => version,
                None => history.latest().ok_or(ServiceError::NotFound)?.version,
            };
            let form = history
                .version(version)
                .ok_or(ServiceError::NotFound)?
                .form
                .clone();
            (form, BTreeMap::new(), "/quality/evaluations".to_owned())
        };
        let form_id = number(&query.form)?;
        Ok::<_, ServiceError>(json!({
            "contact": contact.contact, "form": form_json(&form), "given": given, "action": action,
            "form_id": form_id.or_else(|| live_forms.first().map(|f| f.id)), "forms": live_forms,
            "session": session, "rescore": rescore, "methods": &quality::METHODS[..4],
            "self_assessment": caller.role == Role::Agent,
        }))
    }
    .await;
    respond(&state, &caller, "evaluate.html", result)
}

pub async fn submit(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    axum::Form(fields): Fields,
) -> Response {
    let submitted = async {
        let number = |name: &str| {
            field(&fields, name)
                .filter(|v| !v.is_empty())
                .map(record_id)
                .transpose()
        };
        let new = NewEvaluation {
            source_system: field(&fields, "source_system")
                .unwrap_or_default()
                .to_owned(),
            contact_source_id: field(&fields, "source_id").unwrap_or_default().to_owned(),
            form_id: number("form_id")?.ok_or(ServiceError::Invalid {
                field: "form_id",
                reason: "choose a form".into(),
            })?,
            method: field(&fields, "method").unwrap_or("recording").to_owned(),
            answers: given_answers(&fields),
            comment: field(&fields, "comment").map(str::to_owned),
            release: field(&fields, "release").is_some(),
            calibration_session: number("session")?,
        };
        quality::evaluate(&state.store, state.clock.as_ref(), &caller, new).await
    }
    .await;
    to_evaluation(submitted)
}

/// One question's row on the evaluation page: each version's answer and
/// score, the self-assessment's, and the gap between them.
fn question_rows(view: &EvaluationView) -> Vec<Value> {
    view.form
        .questions()
        .map(|(s, q)| {
            let of = |v: &quality::VersionView| {
                let scored = v
                    .scored
                    .as_ref()
                    .and_then(|sc| sc.questions.iter().find(|x| x.key == q.key));
                let answer = scored
                    .and_then(|x| x.answer.clone())
                    .unwrap_or_else(|| "not asked".into());
                let comment = v.answers.get(&q.key).and_then(|a| a.comment.clone());
                (
                    json!({ "answer": answer, "comment": comment }),
                    scored.and_then(|x| x.score),
                )
            };
            let versions: Vec<Value> = view.versions.iter().map(|v| of(v).0).collect();
            let latest = view.versions.last().and_then(|v| of(v).1);
            let own = view.self_assessment.as_ref().map(of);
            let gap = match (latest, own.as_ref().and_then(|o| o.1)) {
                (Some(e), Some(s)) => Some(format!("{:+.0}", s - e)),
                _ => None,
            };
            json!({
                "key": q.key, "text": q.text, "section": view.form.sections[s].title,
                "versions": versions, "self": own.map(|o| o.0), "gap": gap,
            })
        })
        .collect()
}

pub async fn evaluation(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let (_, tz) = centre_zone(&state, &caller).await?;
        let view = quality::evaluation(&state.store, state.clock.as_ref(), &caller, record_id(&id)?).await?;
        let versions: Vec<Value> = view
            .versions
            .iter()
            .map(|v| {
                json!({
                    "version": v.record.version, "score": score_text(v.record.score),
                    "auto_fail_by": v.record.auto_fail_by, "by": v.record.created_by,
                    "created": local_time(v.record.created_ms, &tz), "reason": v.record.reason,
                    "comment": v.record.comment,
                    "released": v.record.released_ms.map(|ms| local_time(ms, &tz)),
                    "acknowledged": v.record.acknowledged_ms.map(|ms| local_time(ms, &tz)),
                })
            })
            .collect();
        let disputes: Vec<Value> = view
            .disputes
            .iter()
            .map(|d| {
                let questions: Vec<String> = serde_json::from_str(&d.questions_json).unwrap_or_default();
                json!({
                    "id": d.id, "version": d.evaluation_version, "questions": questions, "comment": d.comment,
                    "raised": local_time(d.raised_ms, &tz), "by": d.raised_by, "decision": d.decision,
                    "reason": d.decision_reason, "decided_by": d.decided_by, "new_version": d.new_version,
                    "answers": questions.iter().map(|q| json!({ "key": q, "answers": view.form.question(q).map(|x| x.answers()).unwrap_or_default() })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let e = &view.evaluation;
        let latest = view.versions.last().map(|v| &v.record);
        let evaluator = EVALUATORS.contains(&caller.role);
        Ok::<_, ServiceError>(json!({
            "e": e, "form_name": view.form_name, "versions": versions, "questions": question_rows(&view),
            "disputes": disputes, "self_score": view.self_assessment.as_ref().map(|s| score_text(s.record.score)),
            "contact_time": local_time(e.contact_arrival_ms, &tz),
            "can_dispute": view.can_dispute, "can_acknowledge": view.can_acknowledge,
            "can_release": evaluator && e.kind == "human" && latest.is_some_and(|v| v.released_ms.is_none()),
            "can_rescore": evaluator && e.kind == "human",
            "can_decide": evaluator,
            "question_keys": view.form.questions().map(|(_, q)| json!({ "key": q.key, "text": q.text })).collect::<Vec<_>>(),
        }))
    }
    .await;
    respond(&state, &caller, "evaluation.html", result)
}

/// The evaluation actions that take no fields: release, acknowledge.
pub async fn release(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    stamp(state, caller, id, false).await
}

pub async fn acknowledge(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    stamp(state, caller, id, true).await
}

async fn stamp(
    state: AppState,
    caller: merit_service::access::Caller,
    id: String,
    acknowledge: bool,
) -> Response {
    let done = async {
        let id = record_id(&id)?;
        if acknowledge {
            quality::acknowledge(&state.store, state.clock.as_ref(), &caller, id).await?;
        } else {
            quality::release(&state.store, state.clock.as_ref(), &caller, id).await?;
        }
        Ok::<_, ServiceError>(id)
    }
    .await;
    to_evaluation(done)
}

pub async fn rescore(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    let done = async {
        let id = record_id(&id)?;
        let reason = field(&fields, "reason").unwrap_or_default();
        let comment = field(&fields, "comment").map(str::to_owned);
        quality::rescore(
            &state.store,
            state.clock.as_ref(),
            &caller,
            id,
            given_answers(&fields),
            comment,
            reason,
        )
        .await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    to_evaluation(done)
}

pub async fn dispute(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    let done = async {
        let id = record_id(&id)?;
        let questions: Vec<String> = fields
            .iter()
            .filter(|(k, _)| k == "question")
            .map(|(_, v)| v.clone())
            .collect();
        let comment = field(&fields, "comment").unwrap_or_default();
        quality::dispute(
            &state.store,
            state.clock.as_ref(),
            &caller,
            id,
            &questions,
            comment,
        )
        .await?;
        Ok::<_, ServiceError>(id)
    }
    .await;
    to_evaluation(done)
}

pub async fn decide(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    let done = async {
        let dispute_id = record_id(&id)?;
        let decision = match field(&fields, "decision") {
            Some("accepted") => Decision::Accepted,
            Some("partly_accepted") => Decision::PartlyAccepted,
            Some("rejected") => Decision::Rejected,
            other => {
                return Err(ServiceError::Invalid {
                    field: "decision",
                    reason: format!("{other:?} is not accepted, partly_accepted or rejected"),
                });
            }
        };
        let reason = field(&fields, "reason").unwrap_or_default();
        let answers = prefixed(&fields, "answer.");
        quality::decide(
            &state.store,
            state.clock.as_ref(),
            &caller,
            dispute_id,
            decision,
            reason,
            answers,
        )
        .await?;
        field(&fields, "evaluation").map(record_id).transpose()
    }
    .await;
    match done {
        Ok(Some(evaluation)) => redirect(format!("/quality/evaluations/{evaluation}")),
        Ok(None) => redirect("/quality".into()),
        Err(e) => failed(e),
    }
}

pub async fn start_calibration(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    axum::Form(fields): Fields,
) -> Response {
    let started = async {
        let form_id = record_id(field(&fields, "form_id").unwrap_or_default())?;
        let contacts = field(&fields, "contacts")
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match l.trim().split_once('/') {
                Some((system, id)) => Ok((system.to_owned(), id.to_owned())),
                None => Err(ServiceError::Invalid {
                    field: "contacts",
                    reason: format!("{l:?}: one contact per line, as source_system/source_id"),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let evaluators = field(&fields, "evaluators")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let name = field(&fields, "name").unwrap_or_default();
        quality::start_calibration(
            &state.store,
            state.clock.as_ref(),
            &caller,
            name,
            form_id,
            contacts,
            evaluators,
        )
        .await
    }
    .await;
    match started {
        Ok(id) => redirect(format!("/quality/calibration/{id}")),
        Err(e) => failed(e),
    }
}

pub async fn calibration(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let report = quality::calibration_report(&state.store, &caller, record_id(&id)?).await?;
        let figure = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"));
        let agreement = |a: &quality::QuestionAgreement| {
            json!({ "question": a.question, "subjects": a.subjects, "statistic": a.statistic, "agreement": a.agreement.map_or_else(|| "n/a".to_owned(), |v| format!("{:.0} %", v * 100.0)), "kappa": figure(a.kappa) })
        };
        let bias: Vec<Value> = report
            .bias
            .iter()
            .map(|b| {
                let lean = match b.bias_points {
                    Some(p) if p >= 5.0 => "lenient",
                    Some(p) if p <= -5.0 => "strict",
                    Some(_) => "in line",
                    None => "not enough scores",
                };
                json!({ "evaluator": b.evaluator, "contacts": b.contacts, "mean": score_text(b.mean_score),
                        "bias": b.bias_points.map(|p| format!("{p:+.1}")), "lean": lean })
            })
            .collect();
        let s = &report.session;
        let contacts: Vec<Value> = s
            .contacts
            .iter()
            .zip(&report.scored_by)
            .map(|((system, id), by)| json!({ "system": system, "id": id, "mine": by.contains(&caller.name), "scores": by.len() }))
            .collect();
        Ok::<_, ServiceError>(json!({
            "s": s.record, "contacts": contacts, "evaluators": s.evaluators.join(", "),
            "scored": report.scored, "expected": report.expected,
            "questions": report.questions.iter().map(agreement).collect::<Vec<_>>(), "form": agreement(&report.form),
            "bias": bias, "mine": s.evaluators.contains(&caller.name),
        }))
    }
    .await;
    respond(&state, &caller, "calibration.html", result)
}

#[derive(Debug, Deserialize)]
pub struct InsightsQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The quality programme's own figures over a period (default: the recent weeks).
pub async fn insights(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(query): Query<InsightsQuery>,
) -> Response {
    let result = async {
        let (from, to) = crate::performance_pages::period(&state, &caller, &query.from, &query.to).await?;
        let (_, tz) = centre_zone(&state, &caller).await?;
        let found = merit_service::quality_insights::insights(&state.store, &caller, from, to).await?;
        let points = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:+.1}"));
        let share = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{:.1} %", v * 100.0));
        let r = |c: &Option<merit_domain::quality::agreement::Correlation>| match c {
            Some(c) => json!({ "r": format!("{:.2}", c.r), "interval": format!("{:.2} to {:.2}", c.low, c.high),
                               "weak": c.low <= 0.0 }),
            None => json!({ "r": "n/a", "interval": "fewer than 4 pairs", "weak": true }),
        };
        let overall: Vec<Value> = found
            .customer
            .iter()
            .filter(|c| c.qa_question.is_none())
            .map(|c| json!({ "form": c.form, "version": c.form_version, "evaluator": c.evaluator.clone().unwrap_or_else(|| "all".into()),
                             "survey": c.survey_question, "pairs": c.pairs, "r": r(&c.correlation) }))
            .collect();
        let by_question: Vec<Value> = found
            .customer
            .iter()
            .filter_map(|c| Some((c.qa_question.as_ref()?, c)))
            .map(|(q, c)| json!({ "form": c.form, "version": c.form_version, "question": q, "survey": c.survey_question,
                                  "pairs": c.pairs, "r": r(&c.correlation) }))
            .collect();
        Ok::<_, ServiceError>(json!({
            "from": from.to_string(), "to": to.to_string(),
            "evaluators": found.evaluators.iter().map(|e| json!({ "evaluator": e.evaluator, "evaluations": e.evaluations,
                "mean": score_text(e.mean_score), "auto_fail": share(e.auto_fail_rate), "disputes": e.disputes, "accepted": e.disputes_accepted })).collect::<Vec<_>>(),
            "disputed": found.disputed_questions,
            "gaps": found.self_gaps.iter().map(|g| json!({ "question": g.question, "pairs": g.pairs, "gap": points(g.mean_gap_points) })).collect::<Vec<_>>(),
            "overall": overall, "by_question": by_question,
            "disagreements": found.disagreements.iter().map(|d| json!({ "id": d.evaluation_id, "contact": d.contact_source_id,
                "agent": d.agent_id, "evaluator": d.evaluator, "qa": format!("{:.1}", d.qa_score), "survey": d.survey_question,
                "answer": d.customer_answer })).collect::<Vec<_>>(),
            "calibration": found.calibration.iter().map(|c| json!({ "id": c.session_id, "name": c.name,
                "when": local_time(c.created_ms, &tz), "agreement": share(c.agreement),
                "kappa": c.kappa.map_or_else(|| "n/a".to_owned(), |k| format!("{k:.2}")),
                "bias": c.bias.iter().map(|(e, b)| format!("{e} {}", points(*b))).collect::<Vec<_>>().join(", ") })).collect::<Vec<_>>(),
        }))
    }
    .await;
    respond(&state, &caller, "quality_insights.html", result)
}

/// Draws a sample from the hub's form into an evaluator's queue (default: the caller's).
pub async fn sample(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    axum::Form(fields): Fields,
) -> Response {
    let drawn = async {
        caller.require(EVALUATORS, "sample contacts to evaluate")?;
        let number = |name: &'static str, default: usize| -> Result<usize, ServiceError> {
            match field(&fields, name).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| ServiceError::Invalid {
                    field: name,
                    reason: format!("{v:?} is not a number"),
                }),
            }
        };
        let date = |name: &'static str| -> Result<jiff::civil::Date, ServiceError> {
            let v = field(&fields, name).unwrap_or_default();
            v.parse().map_err(|_| ServiceError::Invalid {
                field: name,
                reason: format!("{v:?} is not a date YYYY-MM-DD"),
            })
        };
        let request = merit_service::quality_sampling::SampleRequest {
            from: date("from")?,
            to: date("to")?,
            size: number("size", 10)?,
            stratify_by: field(&fields, "stratify_by").unwrap_or("none").to_owned(),
            outliers: number("outliers", 0)?,
            seed: number("seed", 1)? as u64,
            evaluator: Some(
                field(&fields, "evaluator")
                    .filter(|e| !e.is_empty())
                    .unwrap_or(&caller.name)
                    .to_owned(),
            ),
        };
        merit_service::quality_sampling::sample(
            &state.store,
            state.clock.as_ref(),
            &caller,
            request,
        )
        .await
    }
    .await;
    match drawn {
        Ok(_) => redirect("/quality#queue-h".into()),
        Err(e) => failed(e),
    }
}

/// Sets a quota from the hub's form.
pub async fn set_quota(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    axum::Form(fields): Fields,
) -> Response {
    let text = |name: &str| field(&fields, name).unwrap_or_default().to_owned();
    let set = async {
        caller.require(FORM_WRITERS, "set a sampling quota")?;
        let evaluations = text("evaluations")
            .parse()
            .map_err(|_| ServiceError::Invalid {
                field: "evaluations",
                reason: format!("{:?} is not a number", text("evaluations")),
            })?;
        merit_service::quality_sampling::set_quota(
            &state.store,
            state.clock.as_ref(),
            &caller,
            &text("kind"),
            &text("subject"),
            &text("period"),
            evaluations,
        )
        .await
    }
    .await;
    match set {
        Ok(_) => redirect("/quality#quotas-h".into()),
        Err(e) => failed(e),
    }
}

/// A question from the builder's fields; numbers that do not parse are refused by name.
fn question_from(
    fields: &[(String, String)],
) -> Result<merit_domain::quality::Question, ServiceError> {
    use merit_domain::quality::{AnswerScale, AutoFailLevel, Question, ShownWhen};
    let text = |name: &str| field(fields, name).map(str::trim).filter(|v| !v.is_empty());
    let number = |name: &'static str| -> Result<Option<i64>, ServiceError> {
        text(name)
            .map(|v| {
                v.parse().map_err(|_| ServiceError::Invalid {
                    field: name,
                    reason: format!("{v:?} is not a whole number"),
                })
            })
            .transpose()
    };
    let scale = text("scale").unwrap_or("yes_no");
    let scale = AnswerScale::ALL
        .into_iter()
        .find(|s| s.as_str() == scale)
        .ok_or_else(|| ServiceError::Invalid {
            field: "scale",
            reason: format!("{scale:?} is not a scale"),
        })?;
    let auto_fail = match text("auto_fail") {
        None => None,
        Some("section") => Some(AutoFailLevel::Section),
        Some("form") => Some(AutoFailLevel::Form),
        Some(other) => {
            return Err(ServiceError::Invalid {
                field: "auto_fail",
                reason: format!("{other:?} is not section or form"),
            });
        }
    };
    let bonus_points = number("bonus_points")?;
    Ok(Question {
        key: text("key").unwrap_or_default().to_owned(),
        text: text("text").unwrap_or_default().to_owned(),
        guidance: text("guidance").map(str::to_owned),
        scale,
        max_points: if scale == AnswerScale::Points {
            number("max_points")?
        } else {
            None
        },
        weight: if bonus_points.is_some() {
            0
        } else {
            number("weight")?.unwrap_or(1)
        },
        allow_na: text("allow_na").is_some(),
        auto_fail,
        bonus_points,
        shown_when: text("shown_question").map(|q| ShownWhen {
            question: q.to_owned(),
            answer: text("shown_answer").unwrap_or_default().to_owned(),
        }),
    })
}

async fn apply_edit(
    state: &AppState,
    caller: &merit_service::access::Caller,
    form_id: Option<i64>,
    edit: impl FnOnce() -> Result<quality::FormEdit, ServiceError>,
) -> Response {
    let edited = async {
        caller.require(FORM_WRITERS, "build a scorecard form")?;
        quality::edit_form(&state.store, state.clock.as_ref(), caller, form_id, edit()?).await
    }
    .await;
    match edited {
        Ok((id, _)) => redirect(format!("/quality/forms/{id}")),
        Err(e) => failed(e),
    }
}

/// Starts a form on the page: its name, first section and first question.
pub async fn start_form(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    axum::Form(fields): Fields,
) -> Response {
    apply_edit(&state, &caller, None, || {
        Ok(quality::FormEdit::Start {
            name: field(&fields, "name").unwrap_or_default().to_owned(),
            section_title: field(&fields, "section_title")
                .unwrap_or_default()
                .to_owned(),
            question: question_from(&fields)?,
        })
    })
    .await
}

/// Adds a question to a section (or a new section) as the next version.
pub async fn add_question(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    let Ok(id) = record_id(&id) else {
        return failed(ServiceError::NotFound);
    };
    apply_edit(&state, &caller, Some(id), || {
        Ok(quality::FormEdit::AddQuestion {
            section_key: field(&fields, "section_key").unwrap_or_default().to_owned(),
            section_title: field(&fields, "section_title")
                .unwrap_or_default()
                .to_owned(),
            question: question_from(&fields)?,
        })
    })
    .await
}

/// Removes a question as the next version.
pub async fn remove_question(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((id, key)): Path<(String, String)>,
) -> Response {
    let Ok(id) = record_id(&id) else {
        return failed(ServiceError::NotFound);
    };
    apply_edit(&state, &caller, Some(id), || {
        Ok(quality::FormEdit::RemoveQuestion { key })
    })
    .await
}
