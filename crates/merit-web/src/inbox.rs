//! The inbox, as a page and in the API: the caller's own notifications,
//! newest first, each marked read by its recipient.

use crate::AppState;
use crate::auth::{ApiCaller, PageCaller};
use crate::error::{ApiError, ErrorBody};
use crate::pages::{centre_zone, failed, local_time, respond};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use merit_service::ServiceError;
use merit_service::notifications;
use serde_json::{Value, json};

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox",
    responses((status = 200, description = "notifications", body = Value), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    Ok(axum::Json(notifications::inbox(&state.store, &caller).await?).into_response())
}

fn notification_id(id: &str) -> Result<i64, ServiceError> {
    id.parse().map_err(|_| ServiceError::NotFound)
}

/// Marks one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/read", tag = "inbox",
    params(("id" = i64, Path, description = "the notification")),
    responses((status = 200, description = "how many changed", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = notification_id(&id)?;
    let changed =
        notifications::mark_read(&state.store, state.clock.as_ref(), &caller, Some(id)).await?;
    Ok(axum::Json(json!({ "changed": changed })).into_response())
}

pub async fn page(State(state): State<AppState>, PageCaller(caller): PageCaller) -> Response {
    let context = async {
        let all = notifications::inbox(&state.store, &caller).await?;
        let (_, tz) = centre_zone(&state, &caller).await?;
        let items: Vec<Value> = all
            .iter()
            .map(|n| {
                json!({
                    "id": n.id, "kind": n.kind, "subject": n.subject, "link": n.link,
                    "created": local_time(n.created_ms, &tz), "read": n.read_ms.is_some(),
                })
            })
            .collect();
        let unread = all.iter().filter(|n| n.read_ms.is_none()).count();
        Ok::<_, ServiceError>(json!({ "items": items, "unread": unread }))
    }
    .await;
    respond(&state, &caller, "inbox.html", context)
}

/// The inbox's forms: mark one read (`/inbox/{id}/read`) or all (`/inbox/read`).
pub async fn read_from_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    id: Option<Path<String>>,
) -> Response {
    let marked = async {
        let id = id.map(|Path(id)| notification_id(&id)).transpose()?;
        notifications::mark_read(&state.store, state.clock.as_ref(), &caller, id).await
    }
    .await;
    match marked {
        Ok(_) => Redirect::to("/inbox").into_response(),
        Err(error) => failed(error),
    }
}
