//! The JSON API under `/api/v1`: each handler names its route in
//! `#[utoipa::path]`, and `OpenApiRouter` builds the router and the OpenAPI
//! document from the same list, so they cannot disagree. Permissions are
//! merit-service's; a handler only translates.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::{AppState, imports_api, pay_api, quality_api, reports_api};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use merit_domain::access::{Role, Scope};
use merit_service::access::{self, AuditFilter, NewUser, UserChange};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The most entries one page of a list holds.
pub const MAX_PAGE_SIZE: usize = 500;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Merit API",
        description = "Contact-centre performance: every figure with its definition, version and the records behind it. Errors: docs/api.md."
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// The API's routes and their OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(centre))
        .routes(routes!(list_users, add_user))
        .routes(routes!(change_user))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(audit_log))
        .routes(routes!(contacts))
        .routes(routes!(contact))
        .routes(routes!(reports_api::kpi_report))
        .routes(routes!(reports_api::drill))
        .routes(routes!(reports_api::definitions))
        .routes(routes!(reports_api::new_version))
        .routes(routes!(reports_api::preview_version))
        .routes(routes!(reports_api::targets, reports_api::set_target))
        .routes(routes!(imports_api::batches, imports_api::upload))
        .routes(routes!(imports_api::job))
        .routes(routes!(imports_api::problems))
        .routes(routes!(imports_api::mappings))
        .routes(routes!(imports_api::save_mapping))
        .routes(routes!(crate::inbox::list))
        .routes(routes!(crate::inbox::read))
        .routes(routes!(quality_api::forms, quality_api::publish))
        .routes(routes!(quality_api::form))
        .routes(routes!(quality_api::publish_version))
        .routes(routes!(quality_api::retire))
        .routes(routes!(quality_api::evaluations, quality_api::evaluate))
        .routes(routes!(quality_api::evaluation))
        .routes(routes!(quality_api::rescore))
        .routes(routes!(quality_api::release))
        .routes(routes!(quality_api::acknowledge))
        .routes(routes!(quality_api::dispute))
        .routes(routes!(quality_api::decide))
        .routes(routes!(quality_api::unacknowledged))
        .routes(routes!(
            quality_api::calibration_sessions,
            quality_api::start_calibration
        ))
        .routes(routes!(quality_api::calibration_report))
        .routes(routes!(quality_api::insights))
        .routes(routes!(quality_api::sample))
        .routes(routes!(quality_api::queue))
        .routes(routes!(quality_api::quotas, quality_api::set_quota))
        .routes(routes!(pay_api::plans, pay_api::publish))
        .routes(routes!(pay_api::plan))
        .routes(routes!(pay_api::publish_version))
        .routes(routes!(pay_api::shadow))
        .routes(routes!(pay_api::runs, pay_api::start_run))
        .routes(routes!(pay_api::run))
        .routes(routes!(pay_api::review))
        .routes(routes!(pay_api::approve))
        .routes(routes!(pay_api::payroll))
        .routes(routes!(pay_api::summary))
        .routes(routes!(pay_api::statement))
        .routes(routes!(pay_api::dispute))
        .routes(routes!(pay_api::disputes))
        .routes(routes!(pay_api::decide))
        .routes(routes!(pay_api::adjust))
        .routes(routes!(pay_api::me))
}

/// A JSON body whose rejections use the API's error body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let (status, code) = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        }
        JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
        JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        JsonRejection::BytesRejection(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        _ => (StatusCode::BAD_REQUEST, "invalid_body"),
    };
    ApiError::new(status, code, rejection.body_text())
}

/// Query parameters whose rejections use the API's error body.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for ApiQuery<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
    }
}

/// One page of a list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// Entries to skip (default 0).
    pub offset: Option<usize>,
    /// Entries to return (default and maximum 500).
    pub limit: Option<usize>,
    /// json (default), or csv for the whole list.
    pub format: Option<String>,
}

impl Page {
    /// The page as JSON (`items`, `offset`, `limit`, `total`), or the whole
    /// list as CSV, one column per field.
    pub(crate) fn of<T: Serialize>(&self, items: Vec<T>, name: &str) -> Result<Response, ApiError> {
        match self.format.as_deref() {
            None | Some("json") => {}
            Some("csv") => return crate::reports_api::csv_response(csv_table(&items)?, name),
            Some(other) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("format {other:?}: expected json or csv"),
                ));
            }
        }
        let limit = self.limit.unwrap_or(MAX_PAGE_SIZE);
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("limit must be from 1 to {MAX_PAGE_SIZE}"),
            ));
        }
        let offset = self.offset.unwrap_or(0);
        let total = items.len();
        let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
        Ok(json_ok(
            json!({ "items": page, "offset": offset, "limit": limit, "total": total }),
        ))
    }
}

/// Records as a table: the fields of the first as the header; nested
/// values as their JSON text; formula-like cells neutralised.
fn csv_table<T: Serialize>(items: &[T]) -> Result<Vec<Vec<String>>, ApiError> {
    let rows: Vec<serde_json::Map<String, Value>> = items
        .iter()
        .map(|item| match serde_json::to_value(item) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(ApiError::internal(format!("not a record: {other}"))),
            Err(e) => Err(ApiError::internal(e)),
        })
        .collect::<Result<_, _>>()?;
    let header: Vec<String> = rows
        .first()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default();
    let mut table = vec![header.clone()];
    for row in &rows {
        table.push(
            header
                .iter()
                .map(|key| {
                    let cell = match row.get(key) {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                    };
                    merit_service::export::spreadsheet_safe(cell)
                })
                .collect(),
        );
    }
    Ok(table)
}

fn json_ok(value: impl Serialize) -> Response {
    axum::Json(value).into_response()
}

fn role(text: &str) -> Result<Role, ApiError> {
    Role::parse(text).ok_or_else(|| ApiError::invalid("role", format!("{text:?} is not a role")))
}

fn scope(text: &str) -> Result<Scope, ApiError> {
    Scope::parse(text).map_err(|e| ApiError::invalid("scope", e))
}

/// A local day as given in a query or body.
pub(crate) fn date(field: &str, text: &str) -> Result<jiff::civil::Date, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid(field, format!("{text:?} is not a date YYYY-MM-DD")))
}

/// Who the caller is: name, role and scope.
#[utoipa::path(get, path = "/api/v1/me", tag = "access",
    responses((status = 200, description = "the caller", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn me(ApiCaller(caller): ApiCaller) -> Result<Response, ApiError> {
    caller.may_read(Role::ALL)?;
    Ok(json_ok(json!({
        "name": caller.name,
        "role": caller.role.as_str(),
        "scope": caller.scope.to_string(),
        "agent_id": caller.agent_id,
    })))
}

/// The centre: sites, teams, agents, queues and contacts per day.
#[utoipa::path(get, path = "/api/v1/centre", tag = "organisation",
    responses((status = 200, description = "the overview", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn centre(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
) -> Result<Response, ApiError> {
    let (name, time_zone) = merit_service::centre::centre(&state.store, caller.tenant).await?;
    let overview =
        merit_service::overview::overview(&state.store, &caller, &time_zone, state.today).await?;
    Ok(json_ok(json!({ "name": name, "overview": overview })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ContactsQuery {
    /// First local day (YYYY-MM-DD, the centre's zone).
    pub from: String,
    /// Last local day, included (at most 31 days).
    pub to: String,
    pub offset: Option<usize>,
    pub limit: Option<usize>,
    /// json (default) or csv (every contact of the period).
    pub format: Option<String>,
}

/// The contacts of a period that the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactsQuery),
    responses((status = 200, description = "a page of contacts", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn contacts(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(query): ApiQuery<ContactsQuery>,
) -> Result<Response, ApiError> {
    let (from, to) = (date("from", &query.from)?, date("to", &query.to)?);
    let listed = merit_service::contacts::list(&state.store, &caller, from, to).await?;
    let page = Page {
        offset: query.offset,
        limit: query.limit,
        format: query.format,
    };
    page.of(listed, "contacts")
}

/// One contact with its timeline (queue, answer, holds, transfers,
/// wrap-up), if it is in the caller's scope; a source id holding `/` is
/// percent-encoded (`%2F`).
#[utoipa::path(get, path = "/api/v1/contacts/{source_system}/{source_id}", tag = "contacts",
    params(("source_system" = String, Path, description = "the system it came from"), ("source_id" = String, Path, description = "its id there")),
    responses((status = 200, description = "the contact", body = Value), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn contact(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path((source_system, source_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let view =
        merit_service::contacts::contact(&state.store, &caller, &source_system, &source_id).await?;
    Ok(json_ok(view))
}

/// Every user (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "access", params(Page),
    responses((status = 200, description = "a page of users", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Response, ApiError> {
    page.of(access::list_users(&state.store, &caller).await?, "users")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
    pub role: String,
    pub scope: String,
    pub agent_id: Option<String>,
}

/// Adds a user (administrators).
#[utoipa::path(post, path = "/api/v1/users", tag = "access", request_body = NewUserBody,
    responses((status = 201, description = "the new user", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_user(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<Response, ApiError> {
    let new = NewUser {
        display_name: body.display_name.unwrap_or_else(|| body.username.clone()),
        username: body.username,
        password: body.password,
        role: role(&body.role)?,
        scope: scope(&body.scope)?,
        agent_id: body.agent_id,
    };
    let user = access::add_user(&state.store, state.clock.as_ref(), &caller, new).await?;
    Ok((StatusCode::CREATED, axum::Json(user)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeBody {
    /// A new role, with its scope.
    pub role: Option<String>,
    pub scope: Option<String>,
    pub agent_id: Option<String>,
    pub disabled: Option<bool>,
    /// A new password (a reset by an administrator).
    pub password: Option<String>,
}

/// Changes a user's role and scope, disables or enables them, or resets
/// their password (administrators).
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "access", request_body = UserChangeBody,
    params(("username" = String, Path, description = "the user")),
    responses((status = 200, description = "the user after the change", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_user(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(username): Path<String>,
    ApiJson(body): ApiJson<UserChangeBody>,
) -> Result<Response, ApiError> {
    let mut changes = Vec::new();
    match (&body.role, &body.scope) {
        (Some(r), Some(s)) => changes.push(UserChange::Role {
            role: role(r)?,
            scope: scope(s)?,
            agent_id: body.agent_id.clone(),
        }),
        (None, None) => {}
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "role and scope change together",
            ));
        }
    }
    if let Some(disabled) = body.disabled {
        changes.push(UserChange::Disabled(disabled));
    }
    if let Some(password) = body.password {
        changes.push(UserChange::Password(password));
    }
    if changes.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "nothing to change: give role and scope, disabled or password",
        ));
    }
    let mut user = None;
    for change in changes {
        user = Some(
            access::change_user(
                &state.store,
                state.clock.as_ref(),
                &caller,
                &username,
                change,
            )
            .await?,
        );
    }
    Ok(json_ok(user))
}

/// Every API token, live and revoked (administrators); never the tokens themselves.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "access", params(Page),
    responses((status = 200, description = "a page of tokens", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_tokens(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Response, ApiError> {
    page.of(access::list_tokens(&state.store, &caller).await?, "tokens")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    pub name: String,
    pub role: String,
    pub scope: String,
    pub agent_id: Option<String>,
}

/// Creates an API token for a system (administrators). The token is in
/// this answer only; Merit keeps its hash.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "access", request_body = NewTokenBody,
    responses((status = 201, description = "the token, shown once", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> Result<Response, ApiError> {
    let (token, secret) = access::create_token(
        &state.store,
        state.clock.as_ref(),
        &caller,
        &body.name,
        role(&body.role)?,
        scope(&body.scope)?,
        body.agent_id,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "token": secret, "details": token })),
    )
        .into_response())
}

/// Revokes an API token (administrators).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "access",
    params(("id" = i64, Path, description = "the token's id")),
    responses((status = 204, description = "revoked"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    access::revoke_token(&state.store, state.clock.as_ref(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Who made the change (a username, `token:<name>`, `cli`).
    pub actor: Option<String>,
    /// What was done, e.g. `user.create`, `definition.new_version`.
    pub action: Option<String>,
    /// The kind of record changed, e.g. `user`, `definition`.
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    /// From this time (ms since the epoch, inclusive) ...
    pub from_ms: Option<i64>,
    /// ... to this time (exclusive).
    pub to_ms: Option<i64>,
    pub offset: Option<usize>,
    pub limit: Option<usize>,
    /// json (default), or csv for every matching entry.
    pub format: Option<String>,
}

/// The audit log, oldest first, filtered (administrators). Entries cannot
/// be changed or deleted through any interface.
#[utoipa::path(get, path = "/api/v1/audit", tag = "access", params(AuditQuery),
    responses((status = 200, description = "a page of audit entries", body = Value), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn audit_log(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        record_kind: query.record_kind,
        record_id: query.record_id,
        from_ms: query.from_ms,
        to_ms: query.to_ms,
    };
    let entries: Vec<Value> = access::audit_log(&state.store, &caller, &filter)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "at_ms": e.at_ms,
                "actor": e.actor,
                "action": e.action,
                "record_kind": e.record_kind,
                "record_id": e.record_id,
                "before": e.before_json.and_then(|j| serde_json::from_str::<Value>(&j).ok()),
                "after": e.after_json.and_then(|j| serde_json::from_str::<Value>(&j).ok()),
            })
        })
        .collect();
    let page = Page {
        offset: query.offset,
        limit: query.limit,
        format: query.format,
    };
    page.of(entries, "audit")
}
