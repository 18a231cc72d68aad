//! KPI reports, drill-down, definitions and targets in the API: every
//! option of `merit report kpi` and `merit report contacts`, JSON or CSV.
//! What a caller sees is confined to their scope by merit-service.

use crate::AppState;
use crate::api::{ApiJson, ApiQuery, date};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use merit_domain::metrics::{Direction, Kpi, TargetScope};
use merit_service::export::{drill_table, report_table};
use merit_service::metrics::{
    DEFAULT_KPIS, FigurePart, NewVersion, ReportNames, ReportRequest, SetTarget,
};
use merit_service::reports;
use serde::Deserialize;
use serde_json::{Value, json};

fn list(text: &Option<String>) -> Vec<String> {
    text.as_deref()
        .map(|t| t.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default()
}

/// The options of `merit report kpi`, as query parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// First local day (YYYY-MM-DD).
    pub from: String,
    /// Last local day, included.
    pub to: String,
    /// Group by, comma-separated: agent, team, queue, channel, contact-type,
    /// site, interval, day, week, month.
    pub by: Option<String>,
    /// Width of `interval` groups: 15m, 30m (default) or 60m.
    pub interval: Option<String>,
    /// Definitions, comma-separated; NAME@VERSION pins a version for every day.
    pub kpi: Option<String>,
    /// Use only definition versions recorded by this instant (RFC 3339).
    pub as_of: Option<String>,
    /// json (default) or csv.
    pub format: Option<String>,
}

impl ReportQuery {
    fn request(&self, default: &[&str]) -> Result<ReportRequest, ApiError> {
        let interval = self.interval.as_deref().unwrap_or("30m");
        let interval_minutes = interval
            .strip_suffix('m')
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| ApiError::invalid("interval", "must be 15m, 30m or 60m"))?;
        let as_of_ms = self
            .as_of
            .as_deref()
            .map(|t| {
                t.parse::<jiff::Timestamp>()
                    .map(|t| t.as_millisecond())
                    .map_err(|_| {
                        ApiError::invalid("as_of", format!("{t:?} is not an RFC 3339 time"))
                    })
            })
            .transpose()?;
        let names = ReportNames {
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            by: &list(&self.by),
            interval_minutes,
            definitions: &list(&self.kpi),
            as_of_ms,
        };
        Ok(ReportRequest::from_names(names, default)?)
    }

    fn csv(&self) -> Result<bool, ApiError> {
        match self.format.as_deref() {
            None | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(other) => Err(ApiError::invalid(
                "format",
                format!("{other:?}: expected json or csv"),
            )),
        }
    }
}

pub(crate) fn csv_response(table: Vec<Vec<String>>, name: &str) -> Result<Response, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for record in table {
        out.write_record(&record).map_err(ApiError::internal)?;
    }
    let bytes = out.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// KPI figures, grouped, each with numerator, denominator, unit, definition
/// versions, target zone and flags; confined to the caller's scope.
#[utoipa::path(get, path = "/api/v1/reports/kpi", tag = "metrics", params(ReportQuery),
    responses((status = 200, description = "the report (JSON, or CSV with format=csv)", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn kpi_report(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let csv = query.csv()?;
    let request = query.request(&DEFAULT_KPIS)?;
    let report = reports::report(&state.store, state.clock.as_ref(), &caller, &request).await?;
    if csv {
        return csv_response(report_table(&report), "kpi-report");
    }
    Ok(axum::Json(report).into_response())
}

/// The options of `merit report contacts`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DrillQuery {
    pub from: String,
    pub to: String,
    /// The one definition whose figure to open (NAME or NAME@VERSION).
    pub kpi: String,
    pub by: Option<String>,
    pub interval: Option<String>,
    /// The group's value for each `by` dimension, comma-separated; several groups separated by `|`.
    pub group: Option<String>,
    /// numerator, denominator (default) or all.
    pub part: Option<String>,
    pub as_of: Option<String>,
    pub format: Option<String>,
}

/// The contacts (or survey answers, or agent days) behind a figure's
/// numerator or denominator; confined to the caller's scope.
#[utoipa::path(get, path = "/api/v1/reports/contacts", tag = "metrics", params(DrillQuery),
    responses((status = 200, description = "the rows (JSON, or CSV with format=csv)", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn drill(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(query): ApiQuery<DrillQuery>,
) -> Result<Response, ApiError> {
    let as_report = ReportQuery {
        from: query.from.clone(),
        to: query.to.clone(),
        by: query.by.clone(),
        interval: query.interval.clone(),
        kpi: Some(query.kpi.clone()),
        as_of: query.as_of.clone(),
        format: query.format.clone(),
    };
    let csv = as_report.csv()?;
    let request = as_report.request(&[])?;
    let part = match query.part.as_deref() {
        None => FigurePart::Denominator,
        Some(text) => FigurePart::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "part",
                format!("{text:?}: expected numerator, denominator or all"),
            )
        })?,
    };
    let groups = reports::parse_groups(query.group.as_deref());
    let rows = reports::drill_groups(
        &state.store,
        state.clock.as_ref(),
        &caller,
        &request,
        &groups,
        part,
    )
    .await?;
    if csv {
        return csv_response(drill_table(&rows), "contacts");
    }
    Ok(axum::Json(json!({ "rows": rows, "count": rows.len() })).into_response())
}

/// Every KPI definition with all its versions.
#[utoipa::path(get, path = "/api/v1/definitions", tag = "metrics",
    responses((status = 200, description = "definitions by name, each with its versions", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn definitions(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    let all = reports::definitions(&state.store, state.clock.as_ref(), &caller).await?;
    let body: Vec<Value> = all
        .into_iter()
        .map(|(name, history)| {
            let kpi = history.versions[0].kpi;
            json!({
                "name": name,
                "kpi": kpi.as_str(),
                "formula": kpi.formula(),
                "unit": kpi.unit().as_str(),
                "versions": history.versions,
            })
        })
        .collect();
    Ok(axum::Json(body).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersionBody {
    /// First local day it applies to (YYYY-MM-DD).
    pub effective_from: String,
    /// Options to change; keys left out keep the previous version's values.
    #[serde(default)]
    pub options: serde_json::Map<String, Value>,
    /// The KPI it measures, to create a new named definition.
    pub kpi: Option<String>,
    /// Why; required when it starts before today (a restatement).
    pub reason: Option<String>,
}

/// Records a new version of a definition from a day (operations managers,
/// administrators); earlier versions never change.
#[utoipa::path(post, path = "/api/v1/definitions/{name}/versions", tag = "metrics", request_body = NewVersionBody,
    params(("name" = String, Path, description = "the definition")),
    responses((status = 201, description = "the new version", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn new_version(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<NewVersionBody>,
) -> Result<Response, ApiError> {
    let kpi = body
        .kpi
        .as_deref()
        .map(|k| {
            Kpi::parse(k).ok_or_else(|| ApiError::invalid("kpi", format!("{k:?} is not a KPI")))
        })
        .transpose()?;
    let options_json = Value::Object(body.options).to_string();
    let request = NewVersion {
        name: &name,
        kpi,
        effective_from: date("effective_from", &body.effective_from)?,
        options_json: &options_json,
        reason: body.reason.as_deref(),
    };
    let version =
        reports::new_version(&state.store, state.clock.as_ref(), &caller, request).await?;
    Ok((StatusCode::CREATED, axum::Json(version)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// The options to change, as for a new version.
    #[serde(default)]
    pub options: serde_json::Map<String, Value>,
    /// The period to show (local days, YYYY-MM-DD).
    pub from: String,
    pub to: String,
    /// Group by, comma-separated, as in reports.
    pub by: Option<String>,
    pub interval: Option<String>,
}

/// A proposed version's effect on a period, before it is recorded: per
/// group, the figure under the versions in force and, beside it, under the
/// proposal (labelled NAME@N). Nothing is stored.
#[utoipa::path(post, path = "/api/v1/definitions/{name}/preview", tag = "metrics", request_body = PreviewBody,
    params(("name" = String, Path, description = "the definition")),
    responses((status = 200, description = "the report with both figures", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview_version(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<PreviewBody>,
) -> Result<Response, ApiError> {
    let query = ReportQuery {
        from: body.from,
        to: body.to,
        by: body.by,
        interval: body.interval,
        kpi: Some(name.clone()),
        as_of: None,
        format: None,
    };
    let request = query.request(&[])?;
    let options_json = Value::Object(body.options).to_string();
    let report = reports::preview_version(
        &state.store,
        state.clock.as_ref(),
        &caller,
        &name,
        &options_json,
        &request,
    )
    .await?;
    Ok(axum::Json(report).into_response())
}

/// The targets the caller may see, oldest first per definition and scope.
#[utoipa::path(get, path = "/api/v1/targets", tag = "metrics",
    responses((status = 200, description = "targets", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn targets(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    Ok(axum::Json(reports::targets(&state.store, &caller).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    pub definition: String,
    /// centre, team:<id> or agent:<id>.
    pub scope: String,
    pub effective_from: String,
    pub target: f64,
    /// Where amber ends and red begins.
    pub amber_limit: f64,
    /// higher_is_better or lower_is_better (default: the KPI's own).
    pub direction: Option<String>,
}

/// Sets a target from a day (operations managers, administrators).
#[utoipa::path(post, path = "/api/v1/targets", tag = "metrics", request_body = TargetBody,
    responses((status = 201, description = "the target", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_target(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<TargetBody>,
) -> Result<Response, ApiError> {
    let scope = TargetScope::parse(&body.scope)
        .ok_or_else(|| ApiError::invalid("scope", "expected centre, team:<id> or agent:<id>"))?;
    let direction = match body.direction.as_deref() {
        None => None,
        Some("higher_is_better") => Some(Direction::HigherIsBetter),
        Some("lower_is_better") => Some(Direction::LowerIsBetter),
        Some(other) => {
            return Err(ApiError::invalid(
                "direction",
                format!("{other:?}: expected higher_is_better or lower_is_better"),
            ));
        }
    };
    let request = SetTarget {
        definition: &body.definition,
        scope,
        effective_from: date("effective_from", &body.effective_from)?,
        target: body.target,
        amber_limit: body.amber_limit,
        direction,
    };
    let target = reports::set_target(&state.store, state.clock.as_ref(), &caller, request).await?;
    Ok((StatusCode::CREATED, axum::Json(target)).into_response())
}
