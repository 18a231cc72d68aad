//! Imports over the API: a file is uploaded as the request body with its
//! kind and format (or a saved mapping), kept in a temporary file, and
//! imported in the background; its job reports progress and, when done,
//! the counts and the row problems. Batches and their problems stay in the
//! store; mappings are saved by name.

use crate::AppState;
use crate::api::{ApiJson, ApiQuery, Page};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use merit_import::asterisk_cdr::CdrLayout;
use merit_import::{ImportFormat, ImportKind};
use merit_service::access::Caller;
use merit_service::import::{ImportReport, ImportRequest};
use merit_service::imports;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The largest file an upload may carry.
pub const MAX_IMPORT_BYTES: u64 = 1 << 30;
/// Row problems shown in a job's answer (all are kept with the batch).
const SHOWN_PROBLEMS: usize = 100;

/// Import jobs of this process, by id.
#[derive(Default)]
pub struct ImportJobs {
    next_id: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Job>>,
}

struct Job {
    owner: Caller,
    file_name: String,
    rows_read: Arc<AtomicU64>,
    outcome: Option<Result<Value, ApiError>>,
}

impl ImportJobs {
    fn start(&self, owner: Caller, file_name: String) -> (u64, Arc<AtomicU64>) {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let rows_read = Arc::new(AtomicU64::new(0));
        let job = Job {
            owner,
            file_name,
            rows_read: rows_read.clone(),
            outcome: None,
        };
        self.lock().insert(id, job);
        (id, rows_read)
    }

    fn finish(&self, id: u64, outcome: Result<Value, ApiError>) {
        if let Some(job) = self.lock().get_mut(&id) {
            job.outcome = Some(outcome);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the uploaded file is.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// contacts, states, schedules, absences, surveys or org.
    pub kind: String,
    /// native (default), anonymous-bank, asterisk-queue-log, asterisk-cdr,
    /// amazon-connect or mapped.
    pub format: Option<String>,
    /// The saved mapping of a `mapped` file.
    pub mapping: Option<String>,
    /// IANA zone of local times in the file (default: the centre's).
    pub time_zone: Option<String>,
    /// cdr_csv or cdr_custom (default: detected).
    pub cdr_layout: Option<String>,
    /// The file's name, for the report and the history.
    pub file_name: Option<String>,
}

fn report_json(report: &ImportReport) -> Value {
    json!({
        "file_name": report.file,
        "batch_id": report.batch_id,
        "inserted": report.inserted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
        "records": report.records,
        "skipped": report.skipped,
        "unmatched_surveys": report.unmatched_surveys,
        "notices": report.notices,
        "warnings": report.warnings.iter().take(SHOWN_PROBLEMS).map(ToString::to_string).collect::<Vec<_>>(),
        "problems": report.problems.iter().take(SHOWN_PROBLEMS).map(|p| json!({
            "line": p.line, "field": p.field, "reason": p.reason, "text": p.to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// An upload checked before its file is read: what it is and how to read it.
pub(crate) struct Plan {
    kind: ImportKind,
    format: ImportFormat,
    mapping: Option<std::sync::Arc<merit_import::mapped::Mapping>>,
    cdr_layout: Option<CdrLayout>,
    time_zone: Option<String>,
    file_name: String,
}

/// Checks what an upload says it is, and that the caller may import it.
pub(crate) async fn plan(
    state: &AppState,
    caller: &Caller,
    query: &UploadQuery,
) -> Result<Plan, ApiError> {
    let kind = ImportKind::parse(&query.kind).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            "expected contacts, states, schedules, absences, surveys or org",
        )
    })?;
    imports::check_import(caller, kind)?;
    let format_text = query
        .format
        .as_deref()
        .filter(|f| !f.is_empty())
        .unwrap_or("native");
    let format = ImportFormat::parse(format_text)
        .ok_or_else(|| ApiError::invalid("format", format!("{format_text:?} is not a format")))?;
    let cdr_layout = query
        .cdr_layout
        .as_deref()
        .filter(|l| !l.is_empty())
        .map(|l| {
            CdrLayout::parse(l)
                .ok_or_else(|| ApiError::invalid("cdr_layout", "expected cdr_csv or cdr_custom"))
        })
        .transpose()?;
    let mapping = match (format, query.mapping.as_deref().filter(|m| !m.is_empty())) {
        (ImportFormat::Mapped, Some(name)) => {
            Some(imports::mapping(&state.store, caller, name).await?)
        }
        (ImportFormat::Mapped, None) => {
            return Err(ApiError::invalid(
                "mapping",
                "the mapped format needs a saved mapping",
            ));
        }
        (_, Some(_)) => return Err(ApiError::invalid("mapping", "goes with format=mapped only")),
        (_, None) => None,
    };
    Ok(Plan {
        kind,
        format,
        mapping,
        cdr_layout,
        time_zone: query.time_zone.clone().filter(|z| !z.is_empty()),
        file_name: query
            .file_name
            .clone()
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| "upload".into()),
    })
}

/// Refuses an upload once it holds more than [`MAX_IMPORT_BYTES`].
pub(crate) fn check_size(written: u64) -> Result<(), ApiError> {
    if written > MAX_IMPORT_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("an upload may hold at most {MAX_IMPORT_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Imports the uploaded file in the background; returns the job's id.
pub(crate) fn start(
    state: &AppState,
    caller: Caller,
    plan: Plan,
    file: tempfile::NamedTempFile,
) -> u64 {
    let (id, rows_read) = state
        .import_jobs
        .start(caller.clone(), plan.file_name.clone());
    let state = state.clone();
    tokio::spawn(async move {
        let progress = |rows: u64| rows_read.store(rows, Ordering::SeqCst);
        let request = ImportRequest {
            tenant: caller.tenant,
            actor: &caller.name,
            kind: plan.kind,
            format: plan.format,
            time_zone: plan.time_zone.as_deref(),
            mapping: plan.mapping,
            cdr_layout: plan.cdr_layout,
            path: file.path(),
            display_name: Some(&plan.file_name),
            progress: &progress,
            alone: false,
        };
        let outcome = imports::import(&state.store, state.clock.as_ref(), &caller, request)
            .await
            .map(|report| report_json(&report))
            .map_err(ApiError::from);
        state.import_jobs.finish(id, outcome);
        drop(file);
    });
    id
}

/// A job as the caller may see it: running with the rows read so far,
/// done with its report, or failed with the error.
pub(crate) fn job_json(state: &AppState, caller: &Caller, id: &str) -> Result<Value, ApiError> {
    imports::check_history(caller)?;
    let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
    let jobs = state.import_jobs.lock();
    let job = jobs
        .get(&id)
        .filter(|job| job.owner.tenant == caller.tenant)
        .ok_or_else(ApiError::not_found)?;
    let mut body = json!({
        "job": id,
        "file_name": job.file_name,
        "by": job.owner.name,
        "rows_read": job.rows_read.load(Ordering::SeqCst),
    });
    let (status, detail) = match &job.outcome {
        None => ("running", Value::Null),
        Some(Ok(report)) => ("done", report.clone()),
        Some(Err(error)) => (
            "failed",
            json!({ "code": error.code, "message": error.message }),
        ),
    };
    body["status"] = status.into();
    body[if status == "failed" {
        "error"
    } else {
        "report"
    }] = detail;
    Ok(body)
}

/// Uploads a file and imports it in the background: answers 202 with the
/// job to follow. Who may import which kind is merit-service's.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(UploadQuery),
    request_body(content = String, description = "the file itself", content_type = "application/octet-stream"),
    responses((status = 202, description = "the job", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(query): ApiQuery<UploadQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let plan = plan(&state, &caller, &query).await?;
    // The body goes to a temporary file, chunk by chunk, up to the limit.
    let mut file = tempfile::NamedTempFile::new().map_err(ApiError::internal)?;
    let mut body = body;
    let mut written: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            written += data.len() as u64;
            check_size(written)?;
            file.write_all(&data).map_err(ApiError::internal)?;
        }
    }
    file.flush().map_err(ApiError::internal)?;
    let id = start(&state, caller, plan, file);
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "job": id, "status": format!("/api/v1/imports/jobs/{id}") })),
    )
        .into_response())
}

/// An import job: running with the rows read so far, done with its
/// report, or failed with the error (a file refused whole, say).
#[utoipa::path(get, path = "/api/v1/imports/jobs/{id}", tag = "imports",
    params(("id" = u64, Path, description = "the job")),
    responses((status = 200, description = "the job", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn job(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let body = job_json(&state, &caller, &id)?;
    Ok(axum::Json(body).into_response())
}

/// Every import batch: file, checksum, who, when and counts.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(Page),
    responses((status = 200, description = "a page of batches", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn batches(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Response, ApiError> {
    page.of(imports::batches(&state.store, &caller).await?, "imports")
}

/// The row problems of a batch, in file order (the first 1,000).
#[utoipa::path(get, path = "/api/v1/imports/{batch_id}/problems", tag = "imports", params(("batch_id" = i64, Path, description = "the batch"), Page),
    responses((status = 200, description = "a page of row problems", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn problems(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(batch_id): Path<String>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Response, ApiError> {
    let batch_id: i64 = batch_id.parse().map_err(|_| ApiError::not_found())?;
    page.of(
        imports::problems(&state.store, &caller, batch_id).await?,
        "problems",
    )
}

/// Saved column mappings.
#[utoipa::path(get, path = "/api/v1/mappings", tag = "imports",
    responses((status = 200, description = "mappings", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn mappings(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    Ok(axum::Json(imports::mappings(&state.store, &caller).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingBody {
    /// The mapping's TOML (docs/formats.md).
    pub toml: String,
}

/// Saves a column mapping by name (checked; a mistake names its line).
#[utoipa::path(put, path = "/api/v1/mappings/{name}", tag = "imports", request_body = MappingBody,
    params(("name" = String, Path, description = "the mapping's name")),
    responses((status = 200, description = "the saved mapping", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn save_mapping(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<MappingBody>,
) -> Result<Response, ApiError> {
    let saved = imports::save_mapping(
        &state.store,
        state.clock.as_ref(),
        &caller,
        &name,
        &body.toml,
    )
    .await?;
    Ok(axum::Json(saved).into_response())
}
