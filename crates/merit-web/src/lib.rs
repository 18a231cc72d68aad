//! HTTP for Merit: the axum router, its server-rendered pages and the JSON
//! API. The only crate that knows HTTP. Nothing but sign-in, the stylesheet,
//! the health check and the OpenAPI document answers without an identity;
//! what an identity may do is decided in merit-service. Pages carry no
//! inline script or style, so the strict Content-Security-Policy set on
//! every response holds.

pub mod api;
pub mod auth;
mod charts;
pub mod error;
mod import_pages;
mod imports_api;
mod inbox;
mod page_cache;
mod pages;
mod pay_api;
mod pay_pages;
mod performance_pages;
mod quality_api;
mod quality_pages;
mod report_memo;
mod reports_api;
mod sessions;
#[cfg(feature = "pdf")]
mod statement_pdf;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum_login::AuthManagerLayerBuilder;
use error::ApiError;
use merit_domain::TenantId;
use merit_service::Clock;
use merit_store::Store;
use minijinja::Environment;
use std::sync::Arc;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration as CookieDuration;
use tower_sessions::{Expiry, SessionManagerLayer};

/// The largest request body accepted (imports will stream with their own limit).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// A session ends after this long without a request.
pub const SESSION_IDLE_HOURS: i64 = 8;

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub tenant: TenantId,
    /// The date to use when there is no data yet ("today" in the centre).
    pub today: jiff::civil::Date,
    pub clock: Arc<dyn Clock>,
    /// Send the session cookie only over HTTPS (off for the loopback demo).
    pub secure_cookies: bool,
    sign_in_limits: Arc<auth::SignInLimits>,
    import_jobs: Arc<imports_api::ImportJobs>,
    reports: Arc<report_memo::ReportMemo>,
    templates: Arc<Environment<'static>>,
}

impl AppState {
    pub fn new(
        store: Store,
        tenant: TenantId,
        today: jiff::civil::Date,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut templates = Environment::new();
        templates.add_filter("decimal", decimal_places);
        for (name, text) in [
            ("base.html", include_str!("../templates/base.html")),
            ("overview.html", include_str!("../templates/overview.html")),
            ("sign_in.html", include_str!("../templates/sign_in.html")),
            ("account.html", include_str!("../templates/account.html")),
            ("header.html", include_str!("../templates/header.html")),
            ("api_docs.html", include_str!("../templates/api_docs.html")),
            (
                "performance.html",
                include_str!("../templates/performance.html"),
            ),
            ("drill.html", include_str!("../templates/drill.html")),
            ("contact.html", include_str!("../templates/contact.html")),
            (
                "definitions.html",
                include_str!("../templates/definitions.html"),
            ),
            (
                "definition.html",
                include_str!("../templates/definition.html"),
            ),
            ("admin.html", include_str!("../templates/admin.html")),
            (
                "operations.html",
                include_str!("../templates/operations.html"),
            ),
            ("imports.html", include_str!("../templates/imports.html")),
            ("inbox.html", include_str!("../templates/inbox.html")),
            (
                "import_job.html",
                include_str!("../templates/import_job.html"),
            ),
            (
                "import_batch.html",
                include_str!("../templates/import_batch.html"),
            ),
            ("quality.html", include_str!("../templates/quality.html")),
            (
                "quality_form.html",
                include_str!("../templates/quality_form.html"),
            ),
            (
                "form_refused.html",
                include_str!("../templates/form_refused.html"),
            ),
            ("evaluate.html", include_str!("../templates/evaluate.html")),
            (
                "evaluation.html",
                include_str!("../templates/evaluation.html"),
            ),
            (
                "calibration.html",
                include_str!("../templates/calibration.html"),
            ),
            (
                "question_fields.html",
                include_str!("../templates/question_fields.html"),
            ),
            (
                "quality_insights.html",
                include_str!("../templates/quality_insights.html"),
            ),
            ("pay.html", include_str!("../templates/pay.html")),
            ("pay_plan.html", include_str!("../templates/pay_plan.html")),
            ("pay_run.html", include_str!("../templates/pay_run.html")),
            (
                "pay_statement.html",
                include_str!("../templates/pay_statement.html"),
            ),
            (
                "pay_refused.html",
                include_str!("../templates/pay_refused.html"),
            ),
        ] {
            templates
                .add_template(name, text)
                .unwrap_or_else(|e| unreachable!("the bundled template {name} parses: {e}"));
        }
        AppState {
            store,
            tenant,
            today,
            sign_in_limits: Arc::new(auth::SignInLimits::new(clock.clone())),
            import_jobs: Arc::default(),
            reports: Arc::default(),
            clock,
            secure_cookies: false,
            templates: Arc::new(templates),
        }
    }
}

/// The API's routes, and the OpenAPI document that describes them.
pub fn api_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    api::routes().split_for_parts()
}

/// Every route outside the API, with its method: the router is built from
/// this table, and the access matrix test checks it row by row.
pub fn page_routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/", get(pages::home)),
        (Method::GET, "/sign-in", get(pages::sign_in_page)),
        (Method::POST, "/sign-in", post(pages::sign_in)),
        (Method::POST, "/sign-out", post(pages::sign_out)),
        (Method::GET, "/account", get(pages::account_page)),
        (
            Method::POST,
            "/account/password",
            post(pages::change_password),
        ),
        (Method::GET, "/static/{file}", get(static_file)),
        (Method::GET, "/healthz", get(|| async { "ok" })),
        (Method::GET, "/api/docs", get(pages::api_docs)),
        (
            Method::GET,
            "/performance",
            get(performance_pages::performance),
        ),
        (Method::GET, "/team", get(performance_pages::team)),
        (
            Method::GET,
            "/agents/{agent}",
            get(performance_pages::agent),
        ),
        (Method::GET, "/drill", get(performance_pages::drill)),
        (Method::GET, "/admin", get(performance_pages::admin)),
        (Method::GET, "/inbox", get(inbox::page)),
        (Method::POST, "/inbox/read", post(inbox::read_from_page)),
        (
            Method::POST,
            "/inbox/{id}/read",
            post(inbox::read_from_page),
        ),
        (Method::GET, "/imports", get(import_pages::imports_page)),
        (
            Method::POST,
            "/imports",
            post(import_pages::upload).layer(DefaultBodyLimit::max(
                usize::try_from(imports_api::MAX_IMPORT_BYTES).unwrap_or(usize::MAX),
            )),
        ),
        (
            Method::GET,
            "/imports/jobs/{id}",
            get(import_pages::job_page),
        ),
        (
            Method::GET,
            "/imports/batches/{id}",
            get(import_pages::batch_page),
        ),
        (
            Method::GET,
            "/operations",
            get(performance_pages::operations),
        ),
        (
            Method::GET,
            "/definitions",
            get(performance_pages::definitions),
        ),
        (
            Method::GET,
            "/definitions/{name}",
            get(performance_pages::definition),
        ),
        (
            Method::POST,
            "/definitions/{name}/versions",
            post(performance_pages::save_version),
        ),
        (
            Method::GET,
            "/contacts/{source_system}/{source_id}",
            get(performance_pages::contact),
        ),
        (Method::GET, "/quality", get(quality_pages::hub)),
        (
            Method::GET,
            "/quality/insights",
            get(quality_pages::insights),
        ),
        (Method::POST, "/quality/sample", post(quality_pages::sample)),
        (
            Method::POST,
            "/quality/quotas",
            post(quality_pages::set_quota),
        ),
        (Method::POST, "/quality/forms", post(quality_pages::publish)),
        (
            Method::POST,
            "/quality/forms/start",
            post(quality_pages::start_form),
        ),
        (
            Method::POST,
            "/quality/forms/{id}/questions",
            post(quality_pages::add_question),
        ),
        (
            Method::POST,
            "/quality/forms/{id}/questions/{key}/remove",
            post(quality_pages::remove_question),
        ),
        (Method::GET, "/quality/forms/{id}", get(quality_pages::form)),
        (
            Method::POST,
            "/quality/forms/{id}/versions",
            post(quality_pages::publish_version),
        ),
        (
            Method::POST,
            "/quality/forms/{id}/retire",
            post(quality_pages::retire),
        ),
        (
            Method::GET,
            "/quality/evaluate",
            get(quality_pages::evaluate_page),
        ),
        (
            Method::POST,
            "/quality/evaluations",
            post(quality_pages::submit),
        ),
        (
            Method::GET,
            "/quality/evaluations/{id}",
            get(quality_pages::evaluation),
        ),
        (
            Method::POST,
            "/quality/evaluations/{id}/versions",
            post(quality_pages::rescore),
        ),
        (
            Method::POST,
            "/quality/evaluations/{id}/release",
            post(quality_pages::release),
        ),
        (
            Method::POST,
            "/quality/evaluations/{id}/acknowledge",
            post(quality_pages::acknowledge),
        ),
        (
            Method::POST,
            "/quality/evaluations/{id}/disputes",
            post(quality_pages::dispute),
        ),
        (
            Method::POST,
            "/quality/disputes/{id}/decision",
            post(quality_pages::decide),
        ),
        (
            Method::POST,
            "/quality/calibration",
            post(quality_pages::start_calibration),
        ),
        (
            Method::GET,
            "/quality/calibration/{id}",
            get(quality_pages::calibration),
        ),
        (Method::GET, "/pay", get(pay_pages::hub)),
        (Method::POST, "/pay/plans", post(pay_pages::publish)),
        (Method::GET, "/pay/plans/{id}", get(pay_pages::plan)),
        (
            Method::POST,
            "/pay/plans/{id}/versions",
            post(pay_pages::publish_version),
        ),
        (
            Method::POST,
            "/pay/plans/{id}/shadow",
            post(pay_pages::shadow),
        ),
        (Method::POST, "/pay/runs", post(pay_pages::start_run)),
        (Method::GET, "/pay/runs/{id}", get(pay_pages::run)),
        (
            Method::POST,
            "/pay/runs/{id}/review",
            post(pay_pages::review),
        ),
        (
            Method::POST,
            "/pay/runs/{id}/approve",
            post(pay_pages::approve),
        ),
        (
            Method::GET,
            "/pay/runs/{id}/payroll.csv",
            get(pay_pages::payroll),
        ),
        (
            Method::POST,
            "/pay/runs/{id}/adjustments",
            post(pay_pages::adjust),
        ),
        (
            Method::GET,
            "/pay/runs/{id}/statements/{agent}",
            get(pay_pages::statement),
        ),
        (
            Method::GET,
            "/pay/runs/{id}/statements/{agent}/pdf",
            get(pay_pages::statement_pdf),
        ),
        (
            Method::POST,
            "/pay/runs/{id}/disputes",
            post(pay_pages::dispute),
        ),
        (
            Method::POST,
            "/pay/disputes/{id}/decision",
            post(pay_pages::decide),
        ),
    ]
}

/// `{{ value | decimal(3) }}`: an exact decimal (written as text) shown
/// to `places` decimals, half to even; anything else as it is.
fn decimal_places(value: minijinja::Value, places: u32) -> String {
    match value.as_str().map(str::parse::<merit_domain::pay::Decimal>) {
        Some(Ok(d)) => d.round_dp(places).normalize().to_string(),
        _ => value.to_string(),
    }
}

/// The route of the OpenAPI document (public: it describes, it holds no data).
pub const OPENAPI_PATH: &str = "/api/openapi.json";

pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_routes();
    let openapi_json = Arc::new(openapi.to_json().unwrap_or_default());
    let sessions = SessionManagerLayer::new(sessions::DatabaseSessions {
        store: state.store.clone(),
        tenant: state.tenant,
    })
    .with_name("merit_session")
    .with_http_only(true)
    .with_same_site(SameSite::Strict)
    .with_secure(state.secure_cookies)
    .with_expiry(Expiry::OnInactivity(CookieDuration::hours(
        SESSION_IDLE_HOURS,
    )));
    let auth = AuthManagerLayerBuilder::new(
        auth::Backend {
            store: state.store.clone(),
            tenant: state.tenant,
        },
        sessions,
    )
    .build();
    let mut router = Router::new();
    for (_, path, handler) in page_routes() {
        router = router.route(path, handler);
    }
    router
        .route(
            OPENAPI_PATH,
            get(move || {
                let json = openapi_json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        (*json).clone(),
                    )
                }
            }),
        )
        .merge(api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            page_cache::serve,
        ))
        .layer(axum::middleware::from_fn(cross_site_guard))
        .layer(auth)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

fn is_api(request: &Request) -> bool {
    request.uri().path().starts_with("/api/")
}

async fn not_found(request: Request) -> Response {
    if is_api(&request) {
        ApiError::not_found().into_response()
    } else {
        pages::not_found_page()
    }
}

async fn method_not_allowed(request: Request) -> Response {
    if is_api(&request) {
        ApiError::method_not_allowed().into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, "method not allowed").into_response()
    }
}

/// Refuses a state-changing request that a browser says comes from another
/// site (Sec-Fetch-Site), or whose Origin is not this host: with SameSite
/// cookies, this is the CSRF protection of every form. Requests with an
/// API token carry no cookie and are not checked.
async fn cross_site_guard(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let headers = request.headers();
    if safe || headers.contains_key(header::AUTHORIZATION) {
        return next.run(request).await;
    }
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let cross_site = match fetch_site {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let origin_host = headers
                .get(header::ORIGIN)
                .and_then(|v| v.to_str().ok())
                .map(|origin| origin.split_once("://").map_or(origin, |(_, rest)| rest));
            matches!((origin_host, host), (Some(origin), Some(host)) if origin != host)
                || matches!((origin_host, host), (Some(_), None))
        }
    };
    if cross_site {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "a request from another site may not change anything here",
        )
        .into_response();
    }
    next.run(request).await
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

/// The stylesheet, our script and the vendored libraries, from the binary.
async fn static_file(Path(file): Path<String>) -> Response {
    const JS: &str = "text/javascript; charset=utf-8";
    let (content_type, bytes): (&str, &[u8]) = match file.as_str() {
        "merit.css" => (
            "text/css; charset=utf-8",
            include_bytes!("../static/merit.css"),
        ),
        "merit.js" => (JS, include_bytes!("../static/merit.js")),
        "echarts.min.js" => (JS, include_bytes!("../static/vendor/echarts.min.js")),
        "htmx.min.js" => (JS, include_bytes!("../static/vendor/htmx.min.js")),
        _ => return pages::not_found_page(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        bytes,
    )
        .into_response()
}
