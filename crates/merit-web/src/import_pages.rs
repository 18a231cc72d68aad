//! The imports pages: upload a file (a multipart form, so no script is
//! needed), follow its job until the report with the row problems, and
//! read the history of batches with each batch's stored problems. Uploads
//! go through the same checks and background jobs as the API.

use crate::AppState;
use crate::auth::PageCaller;
use crate::error::ApiError;
use crate::imports_api::{UploadQuery, check_size, job_json, plan, start};
use crate::pages::{centre_zone, local_time, respond};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use merit_service::ServiceError;
use merit_service::imports;
use serde_json::{Value, json};
use std::io::Write;

/// The formats a file can be read as (docs/formats.md).
const FORMATS: [&str; 6] = [
    "native",
    "anonymous-bank",
    "asterisk-queue-log",
    "asterisk-cdr",
    "amazon-connect",
    "mapped",
];
const KINDS: [&str; 6] = [
    "contacts",
    "surveys",
    "states",
    "schedules",
    "absences",
    "org",
];

/// The upload form and the history of batches, newest first.
async fn page_context(
    state: &AppState,
    caller: &merit_service::access::Caller,
) -> Result<Value, ServiceError> {
    let batches = imports::batches(&state.store, caller).await?;
    let mappings = imports::mappings(&state.store, caller).await?;
    let (_, tz) = centre_zone(state, caller).await?;
    let batches: Vec<Value> = batches
        .iter()
        .rev()
        .map(|b| {
            json!({
                "id": b.id, "kind": b.kind, "file_name": b.file_name, "actor": b.actor,
                "finished": local_time(b.finished_ms, &tz),
                "inserted": b.n_inserted, "updated": b.n_updated, "unchanged": b.n_unchanged, "rejected": b.n_rejected,
            })
        })
        .collect();
    Ok(json!({
        "kinds": KINDS,
        "formats": FORMATS,
        "mappings": mappings.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        "batches": batches,
    }))
}

pub async fn imports_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
) -> Response {
    let context = page_context(&state, &caller).await;
    respond(&state, &caller, "imports.html", context)
}

/// Takes the form's fields and streams its file to a temporary file.
async fn read_form(
    mut form: Multipart,
) -> Result<(UploadQuery, tempfile::NamedTempFile), ApiError> {
    let mut query = UploadQuery {
        kind: String::new(),
        format: None,
        mapping: None,
        time_zone: None,
        cdr_layout: None,
        file_name: None,
    };
    let mut file = tempfile::NamedTempFile::new().map_err(ApiError::internal)?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text())
    };
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            query.file_name = field.file_name().map(str::to_owned);
            let mut written = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                written += chunk.len() as u64;
                check_size(written)?;
                file.write_all(&chunk).map_err(ApiError::internal)?;
            }
            continue;
        }
        let value = field.text().await.map_err(bad)?;
        match name.as_str() {
            "kind" => query.kind = value,
            "format" => query.format = Some(value),
            "mapping" => query.mapping = Some(value),
            "time_zone" => query.time_zone = Some(value),
            _ => {}
        }
    }
    file.flush().map_err(ApiError::internal)?;
    if query.file_name.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid("file", "choose a file to import"));
    }
    Ok((query, file))
}

/// Starts the import and shows its job; a refused upload shows the form
/// again with what was wrong.
pub async fn upload(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    form: Multipart,
) -> Response {
    let started = async {
        let (query, file) = read_form(form).await?;
        let plan = plan(&state, &caller, &query).await?;
        Ok::<_, ApiError>(start(&state, caller.clone(), plan, file))
    }
    .await;
    match started {
        Ok(id) => Redirect::to(&format!("/imports/jobs/{id}")).into_response(),
        Err(error)
            if error.status.is_client_error()
                && error.status != StatusCode::FORBIDDEN
                && error.status != StatusCode::NOT_FOUND =>
        {
            let context = page_context(&state, &caller).await.map(|mut c| {
                c["message"] = error.message.clone().into();
                c
            });
            (
                error.status,
                respond(&state, &caller, "imports.html", context),
            )
                .into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// A job: its progress while it runs (the page asks again each second),
/// then its counts and row problems, or why the file was refused.
pub async fn job_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    match job_json(&state, &caller, &id) {
        Ok(job) => respond(&state, &caller, "import_job.html", Ok(json!({ "j": job }))),
        Err(error) if error.status == StatusCode::NOT_FOUND => crate::pages::not_found_page(),
        Err(error) => (error.status, error.message).into_response(),
    }
}

/// The row problems kept with a batch.
pub async fn batch_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Response {
    let context = async {
        let id: i64 = id.parse().map_err(|_| ServiceError::NotFound)?;
        let problems = imports::problems(&state.store, &caller, id).await?;
        Ok(json!({ "batch": id, "problems": problems }))
    }
    .await;
    respond(&state, &caller, "import_batch.html", context)
}
