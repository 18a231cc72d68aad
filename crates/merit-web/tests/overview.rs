//! The overview page, called in process: it shows the imported centre and
//! every response carries the security headers.

use axum::http::StatusCode;
use merit_domain::DEFAULT_TENANT;
use merit_sim::ScenarioConfig;
use merit_store::Store;
use std::sync::Arc;

mod support;

#[tokio::test]
async fn overview_lists_teams_queues_and_contacts_per_day() {
    let store = Store::open(":memory:").await.unwrap();
    store.migrate().await.unwrap();
    let config = ScenarioConfig {
        days: 3,
        agents: 12,
        ..ScenarioConfig::default()
    };
    let collected = support::load_simulation(&store, &config).await;
    let clock = merit_service::FixedClock(0);
    support::add_users(&store, &clock).await;
    let clock = Arc::new(support::TestClock::default());
    let state = merit_web::AppState::new(store.clone(), DEFAULT_TENANT, config.start, clock);
    let mut browser = support::Browser::new(merit_web::router(state));
    assert_eq!(
        browser
            .sign_in("operations", support::PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let response = browser.get("/").await;
    assert_eq!(response.status, StatusCode::OK);
    let csp = response.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(response.headers["x-content-type-options"], "nosniff");
    let html = response.body;
    // minijinja escapes "/" in HTML.
    assert!(html.contains("<h1>Riverside Energy</h1>") && html.contains("Europe&#x2f;Berlin"));
    assert!(html.contains("Team F (Atlantic Partners)") && html.contains("Moving home"));
    // Days 1-3 from Monday 2026-08-03 in Berlin, each with its own row; the total is every contact.
    for day in ["2026-08-03", "2026-08-04", "2026-08-05"] {
        assert!(html.contains(&format!("<td>{day}</td>")), "{day}");
    }
    assert!(html.contains(&format!("<dd>{}</dd>", collected.contacts.len())));
    assert!(!support::has_inline_script_or_style(&html));
}
