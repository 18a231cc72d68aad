//! Calling the router in process as a browser or a system would: a cookie
//! jar for the session, a clock the test moves, users of every role.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use merit_domain::DEFAULT_TENANT;
use merit_domain::access::{Role, Scope};
use merit_service::Clock;
use merit_service::access::{Caller, NewUser, add_user};
use merit_store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tower::ServiceExt;

/// A clock the test sets.
#[derive(Default)]
pub struct TestClock(pub AtomicI64);

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl TestClock {
    pub fn advance_s(&self, seconds: i64) {
        self.0.fetch_add(seconds * 1000, Ordering::SeqCst);
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// One user per role: (username, role, scope, agent).
pub fn users() -> Vec<(&'static str, Role, Scope, Option<&'static str>)> {
    vec![
        ("agent", Role::Agent, Scope::OwnRecords, Some("a1")),
        ("lead", Role::TeamLead, Scope::Team("t1".into()), None),
        ("qa", Role::QaSpecialist, Scope::Centre, None),
        ("trainer", Role::Trainer, Scope::Centre, None),
        ("workforce", Role::WorkforceManager, Scope::Centre, None),
        ("operations", Role::OperationsManager, Scope::Centre, None),
        ("payroll", Role::CompensationAdmin, Scope::Centre, None),
        ("client", Role::Client, Scope::Contract("c1".into()), None),
        ("admin", Role::Administrator, Scope::Centre, None),
    ]
}

pub async fn add_users(store: &Store, clock: &dyn Clock) {
    let cli = Caller::command_line(DEFAULT_TENANT);
    for (username, role, scope, agent) in users() {
        let new = NewUser {
            username: username.into(),
            display_name: username.into(),
            password: PASSWORD.into(),
            role,
            scope,
            agent_id: agent.map(str::to_owned),
        };
        add_user(store, clock, &cli, new).await.unwrap();
    }
}

pub fn app(store: &Store, clock: Arc<TestClock>) -> Router {
    let state = merit_web::AppState::new(
        store.clone(),
        DEFAULT_TENANT,
        jiff::civil::date(2026, 8, 3),
        clock,
    );
    merit_web::router(state)
}

/// An answer: status, headers and body (as text, and as it came).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
}

/// A browser: it keeps the session cookie between requests.
pub struct Browser {
    pub app: Router,
    pub cookie: Option<String>,
}

impl Browser {
    pub fn new(app: Router) -> Self {
        Browser { app, cookie: None }
    }

    pub async fn send(&mut self, request: Request<Body>) -> Answer {
        let mut request = request;
        if let Some(cookie) = &self.cookie {
            request
                .headers_mut()
                .insert(header::COOKIE, cookie.parse().unwrap());
        }
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        if let Some(set) = headers.get(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(pair);
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// A form posted from this site's own page.
    pub async fn post_form(&mut self, path: &str, form: &str) -> Answer {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(form.to_owned()))
            .unwrap();
        self.send(request).await
    }

    pub async fn json(
        &mut self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let builder = Request::builder()
            .method(method)
            .uri(path)
            .header("sec-fetch-site", "same-origin");
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn sign_in(&mut self, username: &str, password: &str) -> Answer {
        self.post_form(
            "/sign-in",
            &format!(
                "username={username}&password={}",
                password.replace(' ', "+")
            ),
        )
        .await
    }
}

/// One site, team t1 with agent a1 (the `agent` user), team t2 with agent
/// a2, and a handled contact of each.
pub async fn add_organisation(store: &Store) {
    use merit_domain::organisation::{Agent, OrganisationRecord, Site, Team, TeamMembership};
    let date = jiff::civil::date(2026, 1, 1);
    let mut records = vec![OrganisationRecord::Site(Site {
        id: "s1".into(),
        name: "Site".into(),
        time_zone: "Europe/Berlin".into(),
    })];
    for (team, agent) in [("t1", "a1"), ("t2", "a2")] {
        records.push(OrganisationRecord::Team(Team {
            id: team.into(),
            name: team.into(),
            site_id: "s1".into(),
        }));
        records.push(OrganisationRecord::Agent(Agent {
            id: agent.into(),
            name: agent.into(),
            site_id: "s1".into(),
            hire_date: date,
            employment_end_date: None,
            employment_end_reason: None,
        }));
        records.push(OrganisationRecord::Membership(TeamMembership {
            agent_id: agent.into(),
            team_id: team.into(),
            from_date: date,
            to_date: None,
        }));
    }
    // One handled contact each on 2026-08-03, source ids `c-a1` and `c-a2`;
    // the first with a recording on the web, the second with a link that
    // is not a web address.
    let mut contacts: Vec<merit_store::Row> = ["a1", "a2"]
        .iter()
        .map(|agent| {
            let arrival_ms = 1_785_744_000_000; // 2026-08-03 08:00 UTC
            let contact = merit_domain::contact::Contact {
                agent_id: Some((*agent).into()),
                queue_entry_ms: Some(arrival_ms),
                answer_ms: Some(arrival_ms + 10_000),
                end_ms: arrival_ms + 70_000,
                recording_url: Some(if *agent == "a1" {
                    "https://recordings.example/c-a1.wav".into()
                } else {
                    "javascript:alert(1)".into()
                }),
                ..merit_domain::contact::Contact::arriving(
                    "test",
                    format!("c-{agent}"),
                    merit_domain::organisation::Channel::VoiceInbound,
                    arrival_ms,
                )
            };
            merit_store::Row::from_contact(contact)
        })
        .collect();
    let mut tx = merit_store::ImportTx::begin(store, DEFAULT_TENANT)
        .await
        .unwrap();
    tx.write_organisation(&records).await.unwrap();
    tx.write_chunk(merit_store::RecordKind::Contacts, &mut contacts)
        .await
        .unwrap();
    finish(tx, "org").await;
}

/// Simulates a small centre and loads its organisation and contacts.
pub async fn load_simulation(
    store: &Store,
    config: &merit_sim::ScenarioConfig,
) -> merit_sim::Collected {
    let mut collected = merit_sim::Collected::default();
    let records = merit_sim::simulate_centre(config, &mut collected);
    let mut rows: Vec<merit_store::Row> = collected
        .contacts
        .iter()
        .cloned()
        .map(merit_store::Row::from_contact)
        .collect();
    let mut tx = merit_store::ImportTx::begin(store, DEFAULT_TENANT)
        .await
        .unwrap();
    tx.write_organisation(&records.organisation.records())
        .await
        .unwrap();
    tx.write_chunk(merit_store::RecordKind::Contacts, &mut rows)
        .await
        .unwrap();
    let mut surveys: Vec<merit_store::Row> = collected
        .surveys
        .iter()
        .map(merit_store::Row::from_survey)
        .collect();
    tx.write_chunk(merit_store::RecordKind::Surveys, &mut surveys)
        .await
        .unwrap();
    finish(tx, "contacts").await;
    merit_service::centre::configure_centre(
        store,
        &merit_service::FixedClock(0),
        DEFAULT_TENANT,
        "test",
        "Riverside Energy",
        merit_sim::scenario::CENTRE_TIME_ZONE,
    )
    .await
    .unwrap();
    collected
}

/// Commits a test import as one batch.
pub async fn finish(tx: merit_store::ImportTx, kind: &str) {
    tx.finish(merit_store::ImportBatchRecord {
        id: 0,
        kind: kind.into(),
        file_name: "test".into(),
        checksum: String::new(),
        actor: "test".into(),
        started_ms: 0,
        finished_ms: 0,
        n_inserted: 0,
        n_updated: 0,
        n_unchanged: 0,
        n_rejected: 0,
    })
    .await
    .unwrap();
}

/// Whether a page breaks the strict Content-Security-Policy: a style
/// attribute, or a script that is not an empty tag loading one of our files.
pub fn has_inline_script_or_style(html: &str) -> bool {
    html.contains("style=")
        || html.split("<script").skip(1).any(|tag| {
            let Some((open, rest)) = tag.split_once('>') else {
                return true;
            };
            !open.starts_with(" src=\"/static/") || !rest.starts_with("</script>")
        })
}
