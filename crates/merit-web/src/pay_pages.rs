//! Pay pages: the pay hub (an agent's estimate and statements; plans, runs
//! and disputes for those who handle pay), a plan with its versions, text
//! editor and shadow run, a run with its statements and workflow, and one
//! statement traced down to the contacts behind each figure. Every form
//! posts to the same service use cases as the API.

use crate::AppState;
use crate::auth::PageCaller;
use crate::pages::{centre_zone, failed, local_time, respond};
use crate::pay_api::{amount_field, csv_download, date_field, decision_of};
use crate::quality_api::record_id;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use merit_domain::access::Role;
use merit_service::ServiceError;
use merit_service::access::Caller;
use merit_service::pay::{self, PAY_ADMINS, PLAN_WRITERS, REASON_CODES};
use merit_service::pay_what_if;
use serde_json::{Value, json};

type Fields = axum::Form<Vec<(String, String)>>;

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn redirect(path: String) -> Response {
    Redirect::to(&path).into_response()
}

fn done(path: Result<String, ServiceError>) -> Response {
    match path {
        Ok(path) => redirect(path),
        Err(e) => failed(e),
    }
}

pub async fn hub(State(state): State<AppState>, PageCaller(caller): PageCaller) -> Response {
    let result = async {
        let (_, tz) = centre_zone(&state, &caller).await?;
        let plans = pay::plans(&state.store, &caller).await?;
        let handles_pay = matches!(caller.role, Role::CompensationAdmin | Role::TeamLead);
        let runs = if handles_pay {
            pay::runs(&state.store, &caller).await?
        } else {
            Vec::new()
        };
        let disputes: Vec<Value> = if PAY_ADMINS.contains(&caller.role) {
            pay::disputes(&state.store, &caller)
                .await?
                .into_iter()
                .map(|d| json!({"dispute": d, "raised": local_time(d.raised_ms, &tz)}))
                .collect()
        } else {
            Vec::new()
        };
        let estimates = pay_what_if::estimates(&state.store, state.clock.as_ref(), &caller).await?;
        let statements = pay::my_statements(&state.store, &caller).await?;
        Ok::<_, ServiceError>(json!({
            "plans": plans, "runs": runs, "disputes": disputes,
            "estimates": estimates, "statements": statements,
            "writer": PLAN_WRITERS.contains(&caller.role),
            "pay_admin": PAY_ADMINS.contains(&caller.role),
            "reason_codes": REASON_CODES,
        }))
    }
    .await;
    respond(&state, &caller, "pay.html", result)
}

/// A refused plan: the text again with what was wrong; nothing stored.
fn refused_plan(
    state: &AppState,
    caller: &Caller,
    action: &str,
    fields: &[(String, String)],
    error: ServiceError,
) -> Response {
    match error {
        ServiceError::Invalid { field: f, reason } => {
            let mut page = respond(
                state,
                caller,
                "pay_refused.html",
                Ok(json!({
                    "action": action, "text": field(fields, "text"),
                    "effective_from": field(fields, "effective_from"),
                    "reason": field(fields, "reason"), "error": format!("{f}: {reason}"),
                })),
            );
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            page
        }
        other => failed(other),
    }
}

async fn publish_fields(
    state: &AppState,
    caller: &Caller,
    plan_id: Option<i64>,
    fields: &[(String, String)],
) -> Result<i64, ServiceError> {
    let effective_from = date_field("effective_from", field(fields, "effective_from"))?;
    let reason = Some(field(fields, "reason")).filter(|r| !r.trim().is_empty());
    let published = pay::publish_plan(
        &state.store,
        state.clock.as_ref(),
        caller,
        plan_id,
        field(fields, "text"),
        effective_from,
        reason,
    )
    .await?;
    Ok(published.plan_id)
}

pub async fn publish(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    axum::Form(fields): Fields,
) -> Response {
    match publish_fields(&state, &caller, None, &fields).await {
        Ok(id) => redirect(format!("/pay/plans/{id}")),
        Err(e) => refused_plan(&state, &caller, "/pay/plans", &fields, e),
    }
}

pub async fn publish_version(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    let published = async {
        let id = record_id(&id)?;
        publish_fields(&state, &caller, Some(id), &fields).await
    }
    .await;
    match published {
        Ok(id) => redirect(format!("/pay/plans/{id}")),
        Err(e) => refused_plan(
            &state,
            &caller,
            &format!("/pay/plans/{id}/versions"),
            &fields,
            e,
        ),
    }
}

async fn plan_context(state: &AppState, caller: &Caller, id: &str) -> Result<Value, ServiceError> {
    let (_, tz) = centre_zone(state, caller).await?;
    let history = pay::plan(&state.store, caller, record_id(id)?).await?;
    let latest = history.versions.last().ok_or(ServiceError::NotFound)?;
    let versions: Vec<Value> = history
        .versions
        .iter()
        .rev()
        .map(|v| {
            json!({"version": v.version, "effective_from": v.effective_from, "reason": v.reason,
                   "published": local_time(v.published_ms, &tz), "by": v.published_by})
        })
        .collect();
    let warnings = if PLAN_WRITERS.contains(&caller.role) {
        pay::check_plan(
            &state.store,
            state.clock.as_ref(),
            caller,
            &latest.source_text,
        )
        .await
        .map(|(_, w)| w)
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(json!({
        "id": history.id, "name": history.name, "plan": latest.plan, "version": latest.version,
        "text": latest.source_text, "versions": versions, "warnings": warnings,
        "writer": PLAN_WRITERS.contains(&caller.role),
        "pay_admin": PAY_ADMINS.contains(&caller.role),
    }))
}

pub async fn plan(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    let result = plan_context(&state, &caller, &id).await;
    respond(&state, &caller, "pay_plan.html", result)
}

/// The plan page again with the shadow run's comparison.
pub async fn shadow(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    let result = async {
        let mut context = plan_context(&state, &caller, &id).await?;
        let period = (
            date_field("from", field(&fields, "from"))?,
            date_field("to", field(&fields, "to"))?,
        );
        let report = pay_what_if::shadow(
            &state.store,
            state.clock.as_ref(),
            &caller,
            record_id(&id)?,
            field(&fields, "text"),
            period,
        )
        .await?;
        context["shadow"] = json!(report);
        context["shadow_text"] = json!(field(&fields, "text"));
        Ok(context)
    }
    .await;
    respond(&state, &caller, "pay_plan.html", result)
}

pub async fn start_run(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    axum::Form(fields): Fields,
) -> Response {
    done(
        async {
            let plan_id =
                record_id(field(&fields, "plan_id")).map_err(|_| ServiceError::Invalid {
                    field: "plan_id",
                    reason: "choose a plan".into(),
                })?;
            let day = date_field("day", field(&fields, "day"))?;
            let id =
                pay::run_period(&state.store, state.clock.as_ref(), &caller, plan_id, day).await?;
            Ok(format!("/pay/runs/{id}"))
        }
        .await,
    )
}

pub async fn run(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let (_, tz) = centre_zone(&state, &caller).await?;
        let id = record_id(&id)?;
        let view = pay::run(&state.store, &caller, id).await?;
        let finance = if PAY_ADMINS.contains(&caller.role) {
            Some(pay::finance_summary(&state.store, &caller, id).await?)
        } else {
            None
        };
        let statements: Vec<Value> = view
            .statements
            .iter()
            .map(|s| {
                json!({"agent_id": s.agent_id, "agent_name": s.agent_name, "team_id": s.team_id,
                       "total": s.statement.total, "reviewed_by": s.reviewed_by,
                       "notes": s.statement.notes.len()})
            })
            .collect();
        Ok::<_, ServiceError>(json!({
            "run": view.summary, "statements": statements, "disputes": view.disputes,
            "may_review": view.may_review, "may_approve": view.may_approve,
            "pay_admin": PAY_ADMINS.contains(&caller.role), "finance": finance,
            "created": local_time(view.summary.run.created_ms, &tz),
            "approved": view.summary.run.approved_ms.map(|ms| local_time(ms, &tz)),
            "reason_codes": REASON_CODES,
        }))
    }
    .await;
    respond(&state, &caller, "pay_run.html", result)
}

/// A step of a run's workflow, then back to the run.
async fn run_step(state: &AppState, caller: &Caller, id: &str, approve: bool) -> Response {
    done(
        async {
            let id = record_id(id)?;
            let clock = state.clock.as_ref();
            match approve {
                true => pay::approve(&state.store, clock, caller, id).await?,
                false => pay::review(&state.store, clock, caller, id)
                    .await
                    .map(drop)?,
            }
            Ok(format!("/pay/runs/{id}"))
        }
        .await,
    )
}

pub async fn review(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    run_step(&state, &caller, &id, false).await
}

pub async fn approve(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    run_step(&state, &caller, &id, true).await
}

pub async fn payroll(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    let csv = async {
        let id = record_id(&id)?;
        pay::payroll_csv(&state.store, state.clock.as_ref(), &caller, id).await
    }
    .await;
    match csv {
        Ok(csv) => csv_download(csv, &format!("payroll-run-{id}.csv")),
        Err(e) => failed(e),
    }
}

pub async fn adjust(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    done(
        async {
            let id = record_id(&id)?;
            pay::adjust_in_run(
                &state.store,
                state.clock.as_ref(),
                &caller,
                id,
                field(&fields, "agent_id"),
                amount_field("amount", field(&fields, "amount"))?,
                field(&fields, "reason_code"),
                field(&fields, "note"),
            )
            .await?;
            Ok(format!("/pay/runs/{id}"))
        }
        .await,
    )
}

/// One statement: each figure with its definition version and links to
/// the contacts behind its numerator and denominator.
pub async fn statement(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((id, agent)): Path<(String, String)>,
) -> Response {
    let result = async {
        let (_, tz) = centre_zone(&state, &caller).await?;
        let id = record_id(&id)?;
        let view = pay::statement_of(&state.store, &caller, id, &agent).await?;
        let disputes: Vec<Value> = pay::statement_disputes(&state.store, &caller, id, &agent)
                .await?
                .into_iter()
                .map(|d| json!({"dispute": d, "raised": local_time(d.raised_ms, &tz)}))
                .collect();
        let drill = |kpi: &str, part: &str| {
            format!(
                "/drill?kpi={kpi}&from={}&to={}&by=agent&group={}&part={part}",
                view.period_from, view.period_to, view.agent_id
            )
        };
        let components: Vec<Value> = view
            .statement
            .components
            .iter()
            .map(|c| json!({"c": c, "numerator": drill(&c.definition, "numerator"), "denominator": drill(&c.definition, "denominator")}))
            .collect();
        let gates: Vec<Value> = view
            .statement
            .gates
            .iter()
            .map(|g| json!({"g": g, "numerator": drill(&g.definition, "numerator"), "denominator": drill(&g.definition, "denominator")}))
            .collect();
        let open_dispute = disputes.iter().any(|d| d["dispute"]["decision"].is_null());
        Ok::<_, ServiceError>(json!({
            "view": view, "components": components, "gates": gates,
            "system_drops": drill("system_drops", "numerator"),
            "disputes": disputes,
            "may_dispute": caller.role == Role::Agent && !open_dispute,
            "pay_admin": PAY_ADMINS.contains(&caller.role),
        }))
    }
    .await;
    respond(&state, &caller, "pay_statement.html", result)
}

pub async fn dispute(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    done(
        async {
            let id = record_id(&id)?;
            pay::raise_dispute(
                &state.store,
                state.clock.as_ref(),
                &caller,
                id,
                field(&fields, "comment"),
            )
            .await?;
            let agent = caller.agent_id.clone().unwrap_or_default();
            Ok(format!("/pay/runs/{id}/statements/{agent}"))
        }
        .await,
    )
}

pub async fn decide(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
    axum::Form(fields): Fields,
) -> Response {
    done(
        async {
            let id = record_id(&id)?;
            let amount = Some(field(&fields, "amount"));
            let accept = decision_of(field(&fields, "decision"), amount)?;
            pay::decide_dispute(
                &state.store,
                state.clock.as_ref(),
                &caller,
                id,
                accept,
                field(&fields, "reason"),
            )
            .await?;
            Ok("/pay".to_owned())
        }
        .await,
    )
}

/// One statement as a PDF (built with the `pdf` feature; without it, 404).
pub async fn statement_pdf(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((id, agent)): Path<(String, String)>,
) -> Response {
    let view = async {
        let id = record_id(&id)?;
        pay::statement_of(&state.store, &caller, id, &agent).await
    }
    .await;
    match view {
        Ok(view) => pdf_response(&view),
        Err(e) => failed(e),
    }
}

#[cfg(feature = "pdf")]
pub(crate) fn pdf_response(view: &pay::StatementView) -> Response {
    match crate::statement_pdf::render(view) {
        Ok(pdf) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "application/pdf".to_owned(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"statement-run-{}-{}.pdf\"",
                        view.run_id, view.agent_id
                    ),
                ),
            ],
            pdf,
        )
            .into_response(),
        Err(cause) => crate::pages::internal_error(cause),
    }
}

#[cfg(not(feature = "pdf"))]
pub(crate) fn pdf_response(_: &pay::StatementView) -> Response {
    (
        StatusCode::NOT_FOUND,
        "this build of Merit has no PDF statements (the pdf feature is off)",
    )
        .into_response()
}
