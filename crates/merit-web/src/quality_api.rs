//! Quality scoring in the API (`/api/v1/quality/...`): forms and their
//! versions, evaluations, release and acknowledgement, disputes and their
//! decisions, calibration sessions and their statistics.

use crate::AppState;
use crate::api::{ApiJson, Page};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use merit_service::ServiceError;
use merit_service::quality::{self, Decision, GivenAnswer, NewEvaluation};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// A record's number from its path; anything else is not there.
pub(crate) fn record_id(text: &str) -> Result<i64, ServiceError> {
    text.parse().map_err(|_| ServiceError::NotFound)
}

fn ok(value: impl serde::Serialize) -> Result<Response, ApiError> {
    Ok(axum::Json(value).into_response())
}

/// Scorecard forms with their latest version number.
#[utoipa::path(get, path = "/api/v1/quality/forms", tag = "quality",
    responses((status = 200, description = "forms", body = Value), (status = 401, body = ErrorBody)))]
pub async fn forms(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    ok(quality::forms(&state.store, &caller).await?)
}

/// A form written in the text format of docs/formats.md.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FormText {
    pub text: String,
}

/// Publishes a new form from its text.
#[utoipa::path(post, path = "/api/v1/quality/forms", tag = "quality", request_body = FormText,
    responses((status = 200, description = "the form id and version", body = Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<FormText>,
) -> Result<Response, ApiError> {
    let (id, version) = quality::publish_form(
        &state.store,
        state.clock.as_ref(),
        &caller,
        None,
        &body.text,
    )
    .await?;
    ok(json!({ "id": id, "version": version }))
}

/// A form and every version it has had.
#[utoipa::path(get, path = "/api/v1/quality/forms/{id}", tag = "quality",
    params(("id" = i64, Path, description = "the form")),
    responses((status = 200, description = "the form and its versions", body = Value), (status = 404, body = ErrorBody)))]
pub async fn form(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ok(quality::form(&state.store, &caller, record_id(&id)?).await?)
}

/// Publishes the next version of a form.
#[utoipa::path(post, path = "/api/v1/quality/forms/{id}/versions", tag = "quality", request_body = FormText,
    params(("id" = i64, Path, description = "the form")),
    responses((status = 200, description = "the form id and new version", body = Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_version(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FormText>,
) -> Result<Response, ApiError> {
    let id = record_id(&id)?;
    let (id, version) = quality::publish_form(
        &state.store,
        state.clock.as_ref(),
        &caller,
        Some(id),
        &body.text,
    )
    .await?;
    ok(json!({ "id": id, "version": version }))
}

/// Retires a form: no new evaluations on it; nothing is deleted.
#[utoipa::path(post, path = "/api/v1/quality/forms/{id}/retire", tag = "quality",
    params(("id" = i64, Path, description = "the form")),
    responses((status = 200, description = "retired", body = Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn retire(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    quality::retire_form(&state.store, state.clock.as_ref(), &caller, record_id(&id)?).await?;
    ok(json!({ "retired": true }))
}

/// Evaluations the caller may see, with their latest version.
#[utoipa::path(get, path = "/api/v1/quality/evaluations", tag = "quality", params(Page),
    responses((status = 200, description = "a page of evaluations", body = Value), (status = 401, body = ErrorBody)))]
pub async fn evaluations(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    page.of(
        quality::evaluations(&state.store, &caller, Default::default()).await?,
        "evaluations",
    )
}

/// Scores a contact (an agent: their own contact, a self-assessment).
#[utoipa::path(post, path = "/api/v1/quality/evaluations", tag = "quality", request_body = Value,
    responses((status = 200, description = "the evaluation id", body = Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn evaluate(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<NewEvaluation>,
) -> Result<Response, ApiError> {
    let id = quality::evaluate(&state.store, state.clock.as_ref(), &caller, body).await?;
    ok(json!({ "id": id }))
}

/// An evaluation with its form version, versions, disputes and the agent's self-assessment.
#[utoipa::path(get, path = "/api/v1/quality/evaluations/{id}", tag = "quality",
    params(("id" = i64, Path, description = "the evaluation")),
    responses((status = 200, description = "the evaluation", body = Value), (status = 404, body = ErrorBody)))]
pub async fn evaluation(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ok(quality::evaluation(&state.store, state.clock.as_ref(), &caller, record_id(&id)?).await?)
}

/// A re-score: the new answers and why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Rescore {
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, GivenAnswer>,
    pub comment: Option<String>,
    pub reason: String,
}

/// Re-scores an evaluation as a new version; the earlier ones stay.
#[utoipa::path(post, path = "/api/v1/quality/evaluations/{id}/versions", tag = "quality", request_body = Rescore,
    params(("id" = i64, Path, description = "the evaluation")),
    responses((status = 200, description = "the new version", body = Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rescore(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rescore>,
) -> Result<Response, ApiError> {
    let id = record_id(&id)?;
    let version = quality::rescore(
        &state.store,
        state.clock.as_ref(),
        &caller,
        id,
        body.answers,
        body.comment,
        &body.reason,
    )
    .await?;
    ok(json!({ "version": version }))
}

/// Releases the latest version to the agent (who is told in their inbox).
#[utoipa::path(post, path = "/api/v1/quality/evaluations/{id}/release", tag = "quality",
    params(("id" = i64, Path, description = "the evaluation")),
    responses((status = 200, description = "released", body = Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn release(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    quality::release(&state.store, state.clock.as_ref(), &caller, record_id(&id)?).await?;
    ok(json!({ "released": true }))
}

/// The agent acknowledges the released evaluation.
#[utoipa::path(post, path = "/api/v1/quality/evaluations/{id}/acknowledge", tag = "quality",
    params(("id" = i64, Path, description = "the evaluation")),
    responses((status = 200, description = "acknowledged", body = Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    quality::acknowledge(&state.store, state.clock.as_ref(), &caller, record_id(&id)?).await?;
    ok(json!({ "acknowledged": true }))
}

/// The questions an agent disputes and why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewDispute {
    pub questions: Vec<String>,
    pub comment: String,
}

/// The agent disputes questions of a released evaluation.
#[utoipa::path(post, path = "/api/v1/quality/evaluations/{id}/disputes", tag = "quality", request_body = NewDispute,
    params(("id" = i64, Path, description = "the evaluation")),
    responses((status = 200, description = "the dispute id", body = Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dispute(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewDispute>,
) -> Result<Response, ApiError> {
    let id = record_id(&id)?;
    let dispute = quality::dispute(
        &state.store,
        state.clock.as_ref(),
        &caller,
        id,
        &body.questions,
        &body.comment,
    )
    .await?;
    ok(json!({ "id": dispute }))
}

/// A reviewer's decision: accepted (new answers to every disputed
/// question), partly accepted (to some) or rejected (none), with a reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DisputeDecision {
    #[schema(value_type = String)]
    pub decision: Decision,
    pub reason: String,
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

/// Decides a dispute; an accepted one makes a new evaluation version.
#[utoipa::path(post, path = "/api/v1/quality/disputes/{id}/decision", tag = "quality", request_body = DisputeDecision,
    params(("id" = i64, Path, description = "the dispute")),
    responses((status = 200, description = "the new evaluation version, if any", body = Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DisputeDecision>,
) -> Result<Response, ApiError> {
    let id = record_id(&id)?;
    let version = quality::decide(
        &state.store,
        state.clock.as_ref(),
        &caller,
        id,
        body.decision,
        &body.reason,
        body.answers,
    )
    .await?;
    ok(json!({ "version": version }))
}

/// Evaluations released to agents in the caller's scope and not yet acknowledged.
#[utoipa::path(get, path = "/api/v1/quality/unacknowledged", tag = "quality",
    responses((status = 200, description = "evaluations", body = Value), (status = 404, body = ErrorBody)))]
pub async fn unacknowledged(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    ok(quality::unacknowledged(&state.store, &caller).await?)
}

/// Calibration sessions, newest first.
#[utoipa::path(get, path = "/api/v1/quality/calibration", tag = "quality",
    responses((status = 200, description = "sessions", body = Value), (status = 404, body = ErrorBody)))]
pub async fn calibration_sessions(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    ok(quality::calibration_sessions(&state.store, &caller).await?)
}

/// A contact by its source.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ContactRef {
    pub source_system: String,
    pub source_id: String,
}

/// A new calibration session.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewSession {
    pub name: String,
    pub form_id: i64,
    pub contacts: Vec<ContactRef>,
    pub evaluators: Vec<String>,
}

/// Starts a calibration session: the evaluators score the contacts blind.
#[utoipa::path(post, path = "/api/v1/quality/calibration", tag = "quality", request_body = NewSession,
    responses((status = 200, description = "the session id", body = Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_calibration(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<NewSession>,
) -> Result<Response, ApiError> {
    let contacts = body
        .contacts
        .into_iter()
        .map(|c| (c.source_system, c.source_id))
        .collect();
    let id = quality::start_calibration(
        &state.store,
        state.clock.as_ref(),
        &caller,
        &body.name,
        body.form_id,
        contacts,
        body.evaluators,
    )
    .await?;
    ok(json!({ "id": id }))
}

/// A session's agreement per question and over the form, and each evaluator's bias.
#[utoipa::path(get, path = "/api/v1/quality/calibration/{id}", tag = "quality",
    params(("id" = i64, Path, description = "the session")),
    responses((status = 200, description = "the statistics", body = Value), (status = 404, body = ErrorBody)))]
pub async fn calibration_report(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ok(quality::calibration_report(&state.store, &caller, record_id(&id)?).await?)
}

/// The period of the insights: the centre's local days `from` to `to`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InsightsQuery {
    /// First local day, YYYY-MM-DD.
    pub from: String,
    /// Last local day, YYYY-MM-DD.
    pub to: String,
}

/// Each evaluator's scores, auto-fails and disputes; disputed questions;
/// the self-assessment gap; QA scores against the customer's answers; the
/// calibration trend (docs/metrics.md).
#[utoipa::path(get, path = "/api/v1/quality/insights", tag = "quality", params(InsightsQuery),
    responses((status = 200, description = "the insights", body = Value), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn insights(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    crate::api::ApiQuery(query): crate::api::ApiQuery<InsightsQuery>,
) -> Result<Response, ApiError> {
    let from = crate::api::date("from", &query.from)?;
    let to = crate::api::date("to", &query.to)?;
    ok(merit_service::quality_insights::insights(&state.store, &caller, from, to).await?)
}

/// A sample to draw (docs/metrics.md, "Sampling").
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SampleBody {
    pub from: String,
    pub to: String,
    pub size: usize,
    /// none (default), queue, contact_type, outcome or duration.
    #[serde(default)]
    pub stratify_by: Option<String>,
    /// Outliers to include on purpose (default 0).
    #[serde(default)]
    pub outliers: usize,
    /// Fixes the draw (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Put the sample in this evaluator's queue.
    #[serde(default)]
    pub evaluator: Option<String>,
}

pub(crate) fn sample_request(
    body: SampleBody,
) -> Result<merit_service::quality_sampling::SampleRequest, ApiError> {
    Ok(merit_service::quality_sampling::SampleRequest {
        from: crate::api::date("from", &body.from)?,
        to: crate::api::date("to", &body.to)?,
        size: body.size,
        stratify_by: body.stratify_by.unwrap_or_else(|| "none".into()),
        outliers: body.outliers,
        seed: body.seed.unwrap_or(1),
        evaluator: body.evaluator.filter(|e| !e.trim().is_empty()),
    })
}

/// Draws a sample of the period's handled, not yet evaluated contacts.
#[utoipa::path(post, path = "/api/v1/quality/samples", tag = "quality", request_body = SampleBody,
    responses((status = 200, description = "the sampled contacts", body = Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn sample(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<SampleBody>,
) -> Result<Response, ApiError> {
    let request = sample_request(body)?;
    ok(merit_service::quality_sampling::sample(
        &state.store,
        state.clock.as_ref(),
        &caller,
        request,
    )
    .await?)
}

/// The caller's queue of contacts to evaluate.
#[utoipa::path(get, path = "/api/v1/quality/queue", tag = "quality",
    responses((status = 200, description = "queued contacts", body = Value), (status = 403, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    ok(merit_service::quality_sampling::queue(&state.store, &caller).await?)
}

/// Progress against every sampling quota this week or month.
#[utoipa::path(get, path = "/api/v1/quality/quotas", tag = "quality",
    responses((status = 200, description = "progress per quota and subject", body = Value), (status = 403, body = ErrorBody)))]
pub async fn quotas(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    ok(
        merit_service::quality_sampling::quota_progress(
            &state.store,
            state.clock.as_ref(),
            &caller,
        )
        .await?,
    )
}

/// A sampling quota.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct QuotaBody {
    /// evaluator or agent.
    pub kind: String,
    /// A username, an agent id, or * for every agent.
    pub subject: String,
    /// week or month.
    pub period: String,
    pub evaluations: i64,
}

/// Sets a sampling quota.
#[utoipa::path(post, path = "/api/v1/quality/quotas", tag = "quality", request_body = QuotaBody,
    responses((status = 200, description = "the quota id", body = Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_quota(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<QuotaBody>,
) -> Result<Response, ApiError> {
    let id = merit_service::quality_sampling::set_quota(
        &state.store,
        state.clock.as_ref(),
        &caller,
        &body.kind,
        &body.subject,
        &body.period,
        body.evaluations,
    )
    .await?;
    ok(json!({ "id": id }))
}
