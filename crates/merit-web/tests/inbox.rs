//! The inbox: an import with a bad row tells its uploader; an import that
//! brings data tells an agent whose figure missed a target in the last
//! whole week, once; each marks only their own notifications read.

#[path = "../../merit-service/tests/stores/mod.rs"]
mod stores;
mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use merit_domain::DEFAULT_TENANT;
use merit_domain::access::{Role, Scope};
use merit_service::access::{Caller, NewUser, add_user};
use serde_json::{Value, json};
use std::sync::Arc;
use support::{Browser, PASSWORD, TestClock, add_users, app, load_simulation};

/// Uploads a native contacts file as `browser` and waits for its report.
async fn import(browser: &mut Browser, body: &str) -> Value {
    let request = Request::post("/api/v1/imports?kind=contacts&file_name=late.csv")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let job = browser.send(request).await.json();
    let path = job["status"].as_str().unwrap().to_owned();
    for _ in 0..100_000 {
        let state = browser.get(&path).await.json();
        if state["status"] != "running" {
            assert_eq!(state["status"], "done", "{state}");
            return state["report"].clone();
        }
        tokio::task::yield_now().await;
    }
    panic!("the import did not finish");
}

#[tokio::test]
async fn imports_tell_the_uploader_of_problems_and_agents_of_missed_targets_once() {
    for store in stores::stores("inbox").await {
        let config = merit_sim::ScenarioConfig {
            days: 14,
            agents: 12,
            ..merit_sim::ScenarioConfig::default()
        };
        load_simulation(&store, &config).await;
        // Now is Thursday 2026-08-20: the simulated weeks are over.
        let clock = Arc::new(TestClock::default());
        clock.advance_s(
            jiff::civil::date(2026, 8, 20)
                .to_zoned(jiff::tz::TimeZone::UTC)
                .unwrap()
                .timestamp()
                .as_second(),
        );
        add_users(&store, clock.as_ref()).await;
        let organisation = store.load_organisation(DEFAULT_TENANT).await.unwrap();
        let me = organisation.agents[0].id.clone();
        let new = NewUser {
            username: "me".into(),
            display_name: "me".into(),
            password: PASSWORD.into(),
            role: Role::Agent,
            scope: Scope::OwnRecords,
            agent_id: Some(me.clone()),
        };
        add_user(
            &store,
            clock.as_ref(),
            &Caller::command_line(DEFAULT_TENANT),
            new,
        )
        .await
        .unwrap();
        let mut ops = Browser::new(app(&store, clock.clone()));
        ops.sign_in("operations", PASSWORD).await;
        let mut agent = Browser::new(app(&store, clock.clone()));
        agent.sign_in("me", PASSWORD).await;

        // The simulation runs Monday 2026-08-03 to Sunday 2026-08-16: the
        // last whole week is the second. My handle time then, and a target
        // one second under it (lower is better: missed, amber).
        let (monday, sunday) = ("2026-08-10", "2026-08-16");
        let week = ops
            .get(&format!(
                "/api/v1/reports/kpi?from={monday}&to={sunday}&kpi=aht&by=agent"
            ))
            .await
            .json();
        let mine = week["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"][0] == me.as_str())
            .unwrap()["figures"][0]["value"]
            .as_f64()
            .unwrap();
        let target = (mine - 1.0).floor();
        let set = ops
            .json(
                Method::POST,
                "/api/v1/targets",
                Some(json!({"definition": "aht", "scope": "centre", "effective_from": "2026-08-03", "target": target, "amber_limit": target + 600.0})),
            )
            .await;
        assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);

        // One good contact on the first day and one bad row.
        let file = "source_id,channel,arrival,end,outcome,queue_id,agent_id,queue_entry,answer,holds\n\
                    late1,voice_inbound,2026-08-03T08:00:00Z,2026-08-03T08:05:00Z,handled,billing,ag001,2026-08-03T08:00:00Z,2026-08-03T08:00:20Z,\n\
                    late2,voice_inbound,yesterday,2026-08-03T08:05:00Z,handled,billing,ag001,,2026-08-03T08:00:20Z,\n";
        let report = import(&mut ops, file).await;
        assert_eq!(report["rejected"], 1);

        let inbox = ops.get("/api/v1/inbox").await.json();
        let problems: Vec<&Value> = inbox
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "import_problems")
            .collect();
        assert_eq!(problems.len(), 1, "{inbox}");
        assert_eq!(
            problems[0]["link"],
            format!("/imports/batches/{}", report["batch_id"])
        );
        let mine_now = agent.get("/api/v1/inbox").await.json();
        let missed: Vec<&Value> = mine_now.as_array().unwrap().iter().collect();
        assert_eq!(missed.len(), 1, "{mine_now}");
        assert_eq!(missed[0]["kind"], "target_missed");
        assert_eq!(
            missed[0]["link"],
            format!("/performance?from={monday}&to={sunday}")
        );
        assert!(
            missed[0]["subject"]
                .as_str()
                .unwrap()
                .starts_with("aht was ")
        );

        // The same file again: its own bad row is news (a new batch), the
        // same missed week is not.
        import(&mut ops, file).await;
        assert_eq!(
            agent
                .get("/api/v1/inbox")
                .await
                .json()
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            ops.get("/api/v1/inbox")
                .await
                .json()
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // Only its recipient marks a notification read.
        let id = problems[0]["id"].as_i64().unwrap();
        let path = format!("/api/v1/inbox/{id}/read");
        assert_eq!(
            agent.json(Method::POST, &path, None).await.status,
            StatusCode::NOT_FOUND
        );
        let marked = ops.json(Method::POST, &path, None).await;
        assert_eq!(marked.json()["changed"], 1);
        let page = ops.get("/inbox").await;
        assert!(
            page.body.contains("<p id=\"unread\">1 unread.</p>"),
            "{}",
            page.body
        );
        // The agent marks all of theirs read from the page.
        assert_eq!(
            agent.post_form("/inbox/read", "").await.status,
            StatusCode::SEE_OTHER
        );
        let after = agent.get("/api/v1/inbox").await.json();
        assert!(after[0]["read_ms"].is_i64(), "{after}");
    }
}
