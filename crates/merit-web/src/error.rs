//! One error body for every failure of the API:
//! `{ "error": { "code": "snake_case", "message": "..." } }`. The codes and
//! their statuses are the table in docs/api.md; 5xx bodies say nothing
//! internal (the cause is logged once).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use merit_service::ServiceError;
use serde::Serialize;

/// An API failure: its status, stable code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case; see docs/api.md.
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    /// A value Merit refuses: `422 invalid`, naming the field.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{field}: {reason}"),
        )
    }
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in, or send an API token as Authorization: Bearer <token>",
        )
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this resource does not answer that method",
        )
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; it has been logged",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid { field, reason } => Self::invalid(field, reason),
            ServiceError::NotFound => Self::not_found(),
            ServiceError::Forbidden { .. } => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", error.to_string())
            }
            ServiceError::Conflict { code, reason } => {
                Self::new(StatusCode::CONFLICT, code, reason)
            }
            ServiceError::Refused(refused) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "file_refused",
                refused.to_string(),
            ),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.into(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
