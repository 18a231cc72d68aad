//! Server-rendered pages: sign-in and sign-out, the account page with the
//! password change, and the centre overview; and what every page shares
//! (rendering with the caller in the header, the answer to a service
//! error, times in the centre's zone). No inline script or style.

use crate::AppState;
use crate::auth::{AuthSession, Credentials, PageCaller};
use axum::Form;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use merit_domain::access::Role;
use merit_service::ServiceError;
use merit_service::access::{Caller, MIN_PASSWORD_CHARS, change_own_password};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

/// A failure on our side: logged once, answered with a generic body.
pub(crate) fn internal_error(error: impl std::fmt::Display) -> Response {
    tracing::error!("page failed: {error}");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

pub(crate) fn render(state: &AppState, template: &str, context: minijinja::Value) -> Response {
    match state
        .templates
        .get_template(template)
        .and_then(|t| t.render(context))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => internal_error(e),
    }
}

/// The signed-in caller, for the header of every page.
pub(crate) fn caller_json(caller: &Caller) -> Value {
    json!({"name": caller.name, "role": caller.role.as_str(), "scope": caller.scope.to_string()})
}

/// The centre's zone, by name and as a zone, for showing times.
pub(crate) async fn centre_zone(
    state: &AppState,
    caller: &Caller,
) -> Result<(String, jiff::tz::TimeZone), ServiceError> {
    let (_, name) = merit_service::centre::centre(&state.store, caller.tenant).await?;
    let zone = jiff::tz::TimeZone::get(&name).unwrap_or(jiff::tz::TimeZone::UTC);
    Ok((name, zone))
}

/// A UTC instant as local wall time, `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn local_time(ms: i64, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(zone.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// A page's answer to a service error: not there, refused, or our fault.
pub(crate) fn failed(error: ServiceError) -> Response {
    match error {
        ServiceError::NotFound => not_found_page(),
        ServiceError::Forbidden { .. } => {
            (StatusCode::FORBIDDEN, error.to_string()).into_response()
        }
        ServiceError::Invalid { field, reason } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{field}: {reason}"),
        )
            .into_response(),
        ServiceError::Conflict { reason, .. } => (StatusCode::CONFLICT, reason).into_response(),
        other => internal_error(other),
    }
}

/// Renders `template` with `context` and the caller (for the header), or
/// the page a service error calls for.
pub(crate) fn respond(
    state: &AppState,
    caller: &Caller,
    template: &str,
    result: Result<Value, ServiceError>,
) -> Response {
    match result {
        Ok(mut context) => {
            context["caller"] = caller_json(caller);
            render(
                state,
                template,
                minijinja::Value::from(minijinja::value::Serde(&context)),
            )
        }
        Err(e) => failed(e),
    }
}

pub async fn sign_in_page(State(state): State<AppState>) -> Response {
    render(&state, "sign_in.html", minijinja::context! {})
}

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
}

/// Checks the limits, then the password; on success the session gets a new id.
pub async fn sign_in(
    State(state): State<AppState>,
    mut session: AuthSession,
    request: Request,
) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    let Ok(Form(form)) = Form::<SignInForm>::from_request(request, &state).await else {
        return (StatusCode::BAD_REQUEST, "send username and password").into_response();
    };
    let again = |status: StatusCode, message: String| {
        let page = render(
            &state,
            "sign_in.html",
            minijinja::context! { message => message, username => form.username.clone() },
        );
        (status, page).into_response()
    };
    let now = Duration::from_millis(u64::try_from(state.clock.now_ms()).unwrap_or(0));
    if let Err(wait_s) = state.sign_in_limits.attempt(&form.username, &address, now) {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many sign-in attempts. Try again in {wait_s} seconds."),
        );
    }
    let credentials = Credentials {
        username: form.username.clone(),
        password: form.password.clone(),
    };
    match session.authenticate(credentials).await {
        Ok(Some(user)) => match session.login(&user).await {
            Ok(()) => Redirect::to("/").into_response(),
            Err(e) => internal_error(e),
        },
        Ok(None) => again(
            StatusCode::UNAUTHORIZED,
            "Wrong username or password, or the account is disabled.".into(),
        ),
        Err(e) => internal_error(e),
    }
}

pub async fn sign_out(mut session: AuthSession) -> Response {
    match session.logout().await {
        Ok(_) => Redirect::to("/sign-in").into_response(),
        Err(e) => internal_error(e),
    }
}

/// A page a caller may not see: the same answer as a page that does not exist.
pub fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><title>Not found</title><p>Not found.</p>"),
    )
        .into_response()
}

pub async fn account_page(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
) -> Response {
    if caller.may_read(Role::ALL).is_err() {
        return not_found_page();
    }
    account(&state, &caller, None)
}

fn account(state: &AppState, caller: &Caller, message: Option<&str>) -> Response {
    render(
        state,
        "account.html",
        minijinja::context! {
            caller => minijinja::value::Serde(caller_json(caller)),
            min_chars => MIN_PASSWORD_CHARS,
            message => message,
        },
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Form(form): Form<PasswordForm>,
) -> Response {
    if caller.may_read(Role::ALL).is_err() {
        return not_found_page();
    }
    let result = change_own_password(
        &state.store,
        state.clock.as_ref(),
        caller.tenant,
        &caller.name,
        &form.current_password,
        &form.new_password,
    )
    .await;
    match result {
        // The password is part of the session's check: sign in again.
        Ok(()) => Redirect::to("/sign-in").into_response(),
        Err(ServiceError::Invalid { field, reason }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            account(
                &state,
                &caller,
                Some(&format!("{}: {reason}", field.replace('_', " "))),
            ),
        )
            .into_response(),
        Err(e) => internal_error(e),
    }
}

/// The centre overview for callers who see the whole centre; their own
/// performance for the others.
pub async fn home(State(state): State<AppState>, PageCaller(caller): PageCaller) -> Response {
    let (centre_name, time_zone) =
        match merit_service::centre::centre(&state.store, caller.tenant).await {
            Ok(centre) => centre,
            Err(e) => return internal_error(e),
        };
    let overview =
        match merit_service::overview::overview(&state.store, &caller, &time_zone, state.today)
            .await
        {
            Ok(overview) => overview,
            Err(ServiceError::NotFound) if caller.may_read(Role::ALL).is_ok() => {
                return Redirect::to("/performance").into_response();
            }
            Err(ServiceError::NotFound) => return not_found_page(),
            Err(e) => return internal_error(e),
        };
    let max_day = overview
        .days
        .iter()
        .map(|d| d.total)
        .max()
        .unwrap_or(0)
        .max(1);
    render(
        &state,
        "overview.html",
        minijinja::context! {
            caller => minijinja::value::Serde(caller_json(&caller)),
            centre_name => centre_name,
            overview => minijinja::value::Serde(overview),
            max_day => max_day,
        },
    )
}

/// The API reference, rendered from the OpenAPI document (public: it
/// describes the API and holds no data).
pub async fn api_docs(State(state): State<AppState>) -> Response {
    let (_, openapi) = crate::api_routes();
    let api = match serde_json::to_value(&openapi) {
        Ok(api) => api,
        Err(e) => return internal_error(e),
    };
    render(
        &state,
        "api_docs.html",
        minijinja::context! { api => minijinja::value::Serde(api) },
    )
}
