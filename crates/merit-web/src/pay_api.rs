//! Pay in the API (`/api/v1/pay/...`): plans and their versions, runs and
//! their statements, review, approval, payroll export, the finance summary,
//! adjustments, pay disputes, shadow runs and the agent's own pay.

use crate::AppState;
use crate::api::ApiJson;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::quality_api::record_id;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use merit_domain::pay::Decimal;
use merit_service::ServiceError;
use merit_service::pay;
use merit_service::pay_what_if;
use serde::Deserialize;
use serde_json::json;
use std::str::FromStr;

fn ok(value: impl serde::Serialize) -> Result<Response, ApiError> {
    Ok(axum::Json(value).into_response())
}

fn created(value: impl serde::Serialize) -> Result<Response, ApiError> {
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

/// A date field (YYYY-MM-DD), or the error naming it.
pub(crate) fn date_field(field: &'static str, text: &str) -> Result<Date, ServiceError> {
    Date::from_str(text.trim()).map_err(|_| ServiceError::Invalid {
        field,
        reason: format!("{text:?} is not a date (YYYY-MM-DD)"),
    })
}

/// An amount written as text ("12.50"), or the error naming the field.
pub(crate) fn amount_field(field: &'static str, text: &str) -> Result<Decimal, ServiceError> {
    Decimal::from_str(text.trim()).map_err(|_| ServiceError::Invalid {
        field,
        reason: format!("{text:?} is not an amount such as \"12.50\""),
    })
}

/// Incentive plans with their latest version number.
#[utoipa::path(get, path = "/api/v1/pay/plans", tag = "pay",
    responses((status = 200, description = "plans", body = Value), (status = 401, body = ErrorBody)))]
pub async fn plans(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    ok(pay::plans(&state.store, &caller).await?)
}

/// A plan's text (docs/formats.md, "Incentive plans") and the first day it applies.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PlanText {
    pub text: String,
    /// YYYY-MM-DD
    pub effective_from: String,
    /// Required when effective_from is before today.
    #[serde(default)]
    pub reason: Option<String>,
}

async fn publish_text(
    state: &AppState,
    caller: &merit_service::access::Caller,
    plan_id: Option<i64>,
    body: &PlanText,
) -> Result<Response, ApiError> {
    let published = pay::publish_plan(
        &state.store,
        state.clock.as_ref(),
        caller,
        plan_id,
        &body.text,
        date_field("effective_from", &body.effective_from)?,
        body.reason.as_deref(),
    )
    .await?;
    created(published)
}

/// Publishes a new plan.
#[utoipa::path(post, path = "/api/v1/pay/plans", tag = "pay", request_body = PlanText,
    responses((status = 201, description = "the plan id, version and the editor's warnings", body = Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<PlanText>,
) -> Result<Response, ApiError> {
    publish_text(&state, &caller, None, &body).await
}

/// A plan and every version it has had.
#[utoipa::path(get, path = "/api/v1/pay/plans/{id}", tag = "pay",
    params(("id" = i64, Path, description = "the plan")),
    responses((status = 200, description = "the plan and its versions", body = Value), (status = 404, body = ErrorBody)))]
pub async fn plan(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ok(pay::plan(&state.store, &caller, record_id(&id)?).await?)
}

/// Publishes the next version of a plan, effective from a date.
#[utoipa::path(post, path = "/api/v1/pay/plans/{id}/versions", tag = "pay", request_body = PlanText,
    params(("id" = i64, Path, description = "the plan")),
    responses((status = 201, description = "the plan id, new version and warnings", body = Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_version(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PlanText>,
) -> Result<Response, ApiError> {
    publish_text(&state, &caller, Some(record_id(&id)?), &body).await
}

/// A proposed plan to run beside a live one over its periods from `from` to `to`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ShadowRequest {
    pub text: String,
    pub from: String,
    pub to: String,
}

/// Runs a proposed plan in shadow beside the live plan: who gains, who loses, the cost. Nothing is paid or stored.
#[utoipa::path(post, path = "/api/v1/pay/plans/{id}/shadow", tag = "pay", request_body = ShadowRequest,
    params(("id" = i64, Path, description = "the live plan")),
    responses((status = 200, description = "per agent and in total", body = Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn shadow(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ShadowRequest>,
) -> Result<Response, ApiError> {
    let period = (date_field("from", &body.from)?, date_field("to", &body.to)?);
    ok(pay_what_if::shadow(
        &state.store,
        state.clock.as_ref(),
        &caller,
        record_id(&id)?,
        &body.text,
        period,
    )
    .await?)
}

/// Pay runs the caller may open.
#[utoipa::path(get, path = "/api/v1/pay/runs", tag = "pay",
    responses((status = 200, description = "runs, newest period first", body = Value), (status = 404, body = ErrorBody)))]
pub async fn runs(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    ok(pay::runs(&state.store, &caller).await?)
}

/// Which period of which plan to run: the period holding `day`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RunRequest {
    pub plan_id: i64,
    /// YYYY-MM-DD, any day of the period.
    pub day: String,
}

/// Runs a period as a draft (again, while it is not approved).
#[utoipa::path(post, path = "/api/v1/pay/runs", tag = "pay", request_body = RunRequest,
    responses((status = 201, description = "the run id", body = Value), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_run(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<RunRequest>,
) -> Result<Response, ApiError> {
    let id = pay::run_period(
        &state.store,
        state.clock.as_ref(),
        &caller,
        body.plan_id,
        date_field("day", &body.day)?,
    )
    .await?;
    created(json!({ "run_id": id }))
}

/// A run with the statements the caller may see, and its disputes.
#[utoipa::path(get, path = "/api/v1/pay/runs/{id}", tag = "pay",
    params(("id" = i64, Path, description = "the run")),
    responses((status = 200, description = "the run", body = Value), (status = 404, body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ok(pay::run(&state.store, &caller, record_id(&id)?).await?)
}

/// Marks reviewed the statements the caller reviews (a team lead: their team's).
#[utoipa::path(post, path = "/api/v1/pay/runs/{id}/review", tag = "pay",
    params(("id" = i64, Path, description = "the run")),
    responses((status = 200, description = "how many were marked", body = Value), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let n = pay::review(&state.store, state.clock.as_ref(), &caller, record_id(&id)?).await?;
    ok(json!({ "reviewed": n }))
}

/// Approves a reviewed run: its statements never change again.
#[utoipa::path(post, path = "/api/v1/pay/runs/{id}/approve", tag = "pay",
    params(("id" = i64, Path, description = "the run")),
    responses((status = 200, description = "approved", body = Value), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    pay::approve(&state.store, state.clock.as_ref(), &caller, record_id(&id)?).await?;
    ok(json!({ "approved": true }))
}

/// The payroll file of an approved run (CSV: one line per agent per pay code).
#[utoipa::path(get, path = "/api/v1/pay/runs/{id}/payroll", tag = "pay",
    params(("id" = i64, Path, description = "the run")),
    responses((status = 200, description = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn payroll(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = record_id(&id)?;
    let csv = pay::payroll_csv(&state.store, state.clock.as_ref(), &caller, id).await?;
    Ok(csv_download(csv, &format!("payroll-run-{id}.csv")))
}

pub(crate) fn csv_download(csv: String, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        csv,
    )
        .into_response()
}

/// A run's cost for finance: total, by pay code, per contact, and the spread of payouts.
#[utoipa::path(get, path = "/api/v1/pay/runs/{id}/summary", tag = "pay",
    params(("id" = i64, Path, description = "the run")),
    responses((status = 200, description = "the summary", body = Value), (status = 404, body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ok(pay::finance_summary(&state.store, &caller, record_id(&id)?).await?)
}

/// One agent's statement of a run.
#[utoipa::path(get, path = "/api/v1/pay/runs/{id}/statements/{agent}", tag = "pay",
    params(("id" = i64, Path, description = "the run"), ("agent" = String, Path, description = "the agent")),
    responses((status = 200, description = "the statement", body = Value), (status = 404, body = ErrorBody)))]
pub async fn statement(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((id, agent)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    ok(pay::statement_of(&state.store, &caller, record_id(&id)?, &agent).await?)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DisputeRequest {
    pub comment: String,
}

/// The agent disputes their statement of an approved run.
#[utoipa::path(post, path = "/api/v1/pay/runs/{id}/disputes", tag = "pay", request_body = DisputeRequest,
    params(("id" = i64, Path, description = "the run")),
    responses((status = 201, description = "the dispute id", body = Value), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn dispute(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DisputeRequest>,
) -> Result<Response, ApiError> {
    let id = pay::raise_dispute(
        &state.store,
        state.clock.as_ref(),
        &caller,
        record_id(&id)?,
        &body.comment,
    )
    .await?;
    created(json!({ "id": id }))
}

/// Every pay dispute, newest first.
#[utoipa::path(get, path = "/api/v1/pay/disputes", tag = "pay",
    responses((status = 200, description = "disputes", body = Value), (status = 404, body = ErrorBody)))]
pub async fn disputes(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    ok(pay::disputes(&state.store, &caller).await?)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionRequest {
    /// accepted | rejected
    pub decision: String,
    /// For an accepted dispute: what it pays, as text ("25.00").
    #[serde(default)]
    pub amount: Option<String>,
    pub reason: String,
}

/// Parses a decision: accepted with its amount, or rejected.
pub(crate) fn decision_of(
    decision: &str,
    amount: Option<&str>,
) -> Result<Option<Decimal>, ServiceError> {
    match decision {
        "accepted" => {
            let amount = amount
                .filter(|a| !a.trim().is_empty())
                .ok_or(ServiceError::Invalid {
                    field: "amount",
                    reason: "an accepted dispute says what it pays".into(),
                })?;
            Ok(Some(amount_field("amount", amount)?))
        }
        "rejected" => Ok(None),
        other => Err(ServiceError::Invalid {
            field: "decision",
            reason: format!("{other:?} is not accepted or rejected"),
        }),
    }
}

/// Decides a pay dispute; an accepted one is paid as an adjustment in the plan's next run.
#[utoipa::path(post, path = "/api/v1/pay/disputes/{id}/decision", tag = "pay", request_body = DecisionRequest,
    params(("id" = i64, Path, description = "the dispute")),
    responses((status = 200, description = "decided", body = Value), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> Result<Response, ApiError> {
    let accept = decision_of(&body.decision, body.amount.as_deref())?;
    pay::decide_dispute(
        &state.store,
        state.clock.as_ref(),
        &caller,
        record_id(&id)?,
        accept,
        &body.reason,
    )
    .await?;
    ok(json!({ "decided": body.decision }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdjustmentRequest {
    pub plan_id: i64,
    pub agent_id: String,
    /// As text, e.g. "-12.50".
    pub amount: String,
    pub reason_code: String,
    pub note: String,
}

/// Adjusts an agent's pay with a reason code: on the plan's open run now, or in its next run.
#[utoipa::path(post, path = "/api/v1/pay/adjustments", tag = "pay", request_body = AdjustmentRequest,
    responses((status = 201, description = "the adjustment id", body = Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn adjust(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<AdjustmentRequest>,
) -> Result<Response, ApiError> {
    let id = pay::adjust(
        &state.store,
        state.clock.as_ref(),
        &caller,
        body.plan_id,
        &body.agent_id,
        amount_field("amount", &body.amount)?,
        &body.reason_code,
        &body.note,
    )
    .await?;
    created(json!({ "id": id }))
}

/// The caller's own pay: this period's estimate per plan, with the KPI that would raise it most, and approved statements.
#[utoipa::path(get, path = "/api/v1/pay/me", tag = "pay",
    responses((status = 200, description = "estimates and statements", body = Value), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    let estimates = pay_what_if::estimates(&state.store, state.clock.as_ref(), &caller).await?;
    let statements = pay::my_statements(&state.store, &caller).await?;
    ok(json!({ "estimates": estimates, "statements": statements }))
}
