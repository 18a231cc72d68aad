//! HTTP for Merit: the axum router and its server-rendered pages. The only
//! crate that knows HTTP. Pages carry no inline script or style, so the
//! strict Content-Security-Policy set on every response holds.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use merit_domain::TenantId;
use merit_store::Store;
use minijinja::Environment;
use std::sync::Arc;

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub tenant: TenantId,
    /// The date to use when there is no data yet ("today" in the centre).
    pub today: jiff::civil::Date,
    templates: Arc<Environment<'static>>,
}

impl AppState {
    pub fn new(store: Store, tenant: TenantId, today: jiff::civil::Date) -> Self {
        let mut templates = Environment::new();
        templates
            .add_template("overview.html", include_str!("../templates/overview.html"))
            .unwrap_or_else(|e| unreachable!("the bundled template parses: {e}"));
        AppState {
            store,
            tenant,
            today,
            templates: Arc::new(templates),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(overview_page))
        .route("/static/merit.css", get(stylesheet))
        .route("/healthz", get(|| async { "ok" }))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/merit.css"),
    )
}

/// A failure on our side: logged once, answered with a generic body.
fn internal_error(error: impl std::fmt::Display) -> Response {
    tracing::error!("overview failed: {error}");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

async fn overview_page(State(state): State<AppState>) -> Response {
    let (centre_name, time_zone) =
        match merit_service::centre::centre(&state.store, state.tenant).await {
            Ok(centre) => centre,
            Err(e) => return internal_error(e),
        };
    let overview = match merit_service::overview::overview(
        &state.store,
        state.tenant,
        &time_zone,
        state.today,
    )
    .await
    {
        Ok(overview) => overview,
        Err(e) => return internal_error(e),
    };
    let max_day = overview
        .days
        .iter()
        .map(|d| d.total)
        .max()
        .unwrap_or(0)
        .max(1);
    let context = minijinja::context! {
        centre_name => centre_name,
        overview => minijinja::value::Serde(overview),
        max_day => max_day,
    };
    match state
        .templates
        .get_template("overview.html")
        .and_then(|t| t.render(context))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => internal_error(e),
    }
}
