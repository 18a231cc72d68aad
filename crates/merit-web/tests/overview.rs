//! The overview page, called in process: it shows the imported centre and
//! every response carries the security headers.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use merit_domain::DEFAULT_TENANT;
use merit_domain::organisation::OrganisationRecord;
use merit_sim::{Collected, ScenarioConfig, simulate_centre};
use merit_store::{RecordKind, Row, Store};
use tower::ServiceExt;

#[tokio::test]
async fn overview_lists_teams_queues_and_contacts_per_day() {
    let store = Store::open(":memory:").await.unwrap();
    store.migrate().await.unwrap();
    let config = ScenarioConfig {
        days: 3,
        agents: 12,
        ..ScenarioConfig::default()
    };
    let mut collected = Collected::default();
    let records = simulate_centre(&config, &mut collected);
    let org: Vec<OrganisationRecord> = records.organisation.records();

    let rows: Vec<Row> = collected.contacts.iter().map(Row::from_contact).collect();
    let mut tx = merit_store::ImportTx::begin(&store, DEFAULT_TENANT)
        .await
        .unwrap();
    tx.write_organisation(&org).await.unwrap();
    tx.write_chunk(RecordKind::Contacts, &rows).await.unwrap();
    tx.finish(merit_store::ImportBatchRecord {
        id: 0,
        kind: "contacts".into(),
        file_name: "test".into(),
        checksum: String::new(),
        actor: "test".into(),
        started_ms: 0,
        finished_ms: 0,
        n_inserted: rows.len() as i64,
        n_updated: 0,
        n_unchanged: 0,
        n_rejected: 0,
    })
    .await
    .unwrap();

    let clock = merit_service::FixedClock(0);
    merit_service::centre::configure_centre(
        &store,
        &clock,
        DEFAULT_TENANT,
        "test",
        "Riverside Energy",
        "Europe/Berlin",
    )
    .await
    .unwrap();
    let state = merit_web::AppState::new(store.clone(), DEFAULT_TENANT, config.start);
    let response = merit_web::router(state)
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let html = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    // minijinja escapes "/" in HTML.
    assert!(html.contains("<h1>Riverside Energy</h1>") && html.contains("Europe&#x2f;Berlin"));
    assert!(html.contains("Team F (Atlantic Partners)") && html.contains("Moving home"));
    // Days 1-3 from Monday 2026-08-03 in Berlin, each with its own row; the total is every contact.
    for day in ["2026-08-03", "2026-08-04", "2026-08-05"] {
        assert!(html.contains(&format!("<td>{day}</td>")), "{day}");
    }
    assert!(html.contains(&format!("<dd>{}</dd>", collected.contacts.len())));
    assert!(!html.contains("style=") && !html.contains("<script"));
}
