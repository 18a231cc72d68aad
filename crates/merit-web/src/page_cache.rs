//! The report pages (overview, performance, team, an agent, operations,
//! drill-down) answered from memory when the same caller asked for the
//! same address since the last change: the rendered page is kept in the
//! report memo, with the same rule (the audit log's latest number, a
//! minute at most). Only a 200 HTML page is kept; anything else passes.

use crate::AppState;
use crate::auth::AuthSession;
use crate::report_memo::{Moment, key};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

const PAGES: [&str; 5] = ["/", "/performance", "/team", "/operations", "/drill"];
/// The largest page kept.
const MAX_PAGE_BYTES: usize = 16 << 20;

/// A rendered page.
struct Page(axum::body::Bytes);

fn html(page: &Page) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from(page.0.clone()),
    )
        .into_response()
}

pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let cacheable =
        request.method() == Method::GET && (PAGES.contains(&path) || path.starts_with("/agents/"));
    let caller = request
        .extensions()
        .get::<AuthSession>()
        .and_then(|session| session.user.clone())
        .map(|user| user.signed_in.caller);
    let (true, Some(caller)) = (cacheable, caller) else {
        return next.run(request).await;
    };
    let Ok(moment) = Moment::now(&state, &caller).await else {
        return next.run(request).await;
    };
    let key = key(&caller, &format!("page {}", request.uri()));
    if let Some(page) = state.reports.get::<Page>(&key, moment) {
        return html(&page);
    }
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if response.status() != StatusCode::OK || !is_html {
        return response;
    }
    match to_bytes(response.into_body(), MAX_PAGE_BYTES).await {
        Ok(bytes) => {
            let page = Arc::new(Page(bytes));
            state.reports.keep(key, moment, page.clone());
            html(&page)
        }
        Err(error) => crate::pages::internal_error(error),
    }
}
