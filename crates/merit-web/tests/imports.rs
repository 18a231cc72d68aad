//! Imports through the API: a saved mapping, an upload imported in the
//! background, its job followed to the end, the batch and its row problems
//! in the history, and a file refused whole.

#[path = "../../merit-service/tests/stores/mod.rs"]
mod stores;
mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use support::{Browser, PASSWORD, TestClock, add_users, app};

const MAPPING: &str = "[contact]\nsource_id = \"Call Id\"\narrival = \"At\"\nanswered = \"Answered\"\nwait = \"Wait\"\n";

const CALLS: &str = "Call Id,At,Answered,Wait\n\
                     c1,2026-08-03 09:00:00,Y,12\n\
                     c2,2026-08-03 09:05:00,perhaps,3\n\
                     c3,2026-08-03 09:10:00,N,40\n";

async fn upload(browser: &mut Browser, query: &str, body: &str) -> Value {
    let request = Request::post(format!("/api/v1/imports?{query}"))
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let answer = browser.send(request).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    answer.json()
}

/// Follows a job until it is no longer running, letting the import task run in between.
async fn finished(browser: &mut Browser, job: &Value) -> Value {
    let path = job["status"].as_str().unwrap().to_owned();
    for _ in 0..100_000 {
        let state = browser.get(&path).await.json();
        if state["status"] != "running" {
            return state;
        }
        tokio::task::yield_now().await;
    }
    panic!("the import did not finish");
}

#[tokio::test]
async fn an_upload_through_a_saved_mapping_is_imported_and_kept_in_the_history() {
    for store in stores::stores("api_imports").await {
        let clock = Arc::new(TestClock::default());
        add_users(&store, clock.as_ref()).await;
        merit_service::centre::configure_centre(
            &store,
            clock.as_ref(),
            merit_domain::DEFAULT_TENANT,
            "test",
            "Test",
            "UTC",
        )
        .await
        .unwrap();
        let mut ops = Browser::new(app(&store, clock.clone()));
        ops.sign_in("operations", PASSWORD).await;

        // A mapping with a mistake is refused, naming the line.
        let wrong = ops
            .json(
                Method::PUT,
                "/api/v1/mappings/calls",
                Some(json!({"toml": "[contact]\nsource_id = \"Call Id\"\narival = 1\n"})),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            wrong.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("line 3"),
            "{}",
            wrong.body
        );
        let saved = ops
            .json(
                Method::PUT,
                "/api/v1/mappings/calls",
                Some(json!({"toml": MAPPING})),
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

        let job = upload(
            &mut ops,
            "kind=contacts&format=mapped&mapping=calls&file_name=calls.csv",
            CALLS,
        )
        .await;
        let done = finished(&mut ops, &job).await;
        assert_eq!(done["status"], "done", "{done}");
        let report = &done["report"];
        assert_eq!(
            (report["inserted"].as_i64(), report["rejected"].as_i64()),
            (Some(2), Some(1))
        );
        assert_eq!(
            report["problems"][0]["text"],
            "calls.csv:3: answered: \"perhaps\" is neither yes (y, yes, true, 1) nor no (n, no, false, 0)"
        );
        assert_eq!(done["rows_read"], 3);

        // The history: the batch under the file's own name, its problem kept.
        let batches = ops.get("/api/v1/imports").await.json();
        let batch = batches["items"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(batch["file_name"], "calls.csv");
        assert_eq!(batch["actor"], "operations");
        assert_eq!(
            (batch["n_inserted"].as_i64(), batch["n_rejected"].as_i64()),
            (Some(2), Some(1))
        );
        let problems = ops
            .get(&format!("/api/v1/imports/{}/problems", batch["id"]))
            .await
            .json();
        assert_eq!(problems["items"][0]["line"], 3);
        assert_eq!(problems["items"][0]["field"], "answered");
        let csv = ops
            .get(&format!(
                "/api/v1/imports/{}/problems?format=csv",
                batch["id"]
            ))
            .await;
        assert!(
            csv.body
                .starts_with("field,file_name,line,reason\nanswered,calls.csv,3,"),
            "{}",
            csv.body
        );

        // The same file again changes nothing.
        let job_again = upload(
            &mut ops,
            "kind=contacts&format=mapped&mapping=calls&file_name=calls.csv",
            CALLS,
        )
        .await;
        let again = finished(&mut ops, &job_again).await;
        assert_eq!(again["report"]["unchanged"], 2);

        // A file of another format is refused whole: the job fails, nothing is written.
        let job_refused = upload(
            &mut ops,
            "kind=contacts&format=asterisk-cdr&file_name=calls.csv",
            CALLS,
        )
        .await;
        let refused = finished(&mut ops, &job_refused).await;
        assert_eq!(refused["status"], "failed");
        assert_eq!(refused["error"]["code"], "file_refused");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not an Asterisk CDR"),
            "{refused}"
        );

        // A workforce manager may load schedules but not contacts.
        let mut workforce = Browser::new(app(&store, clock.clone()));
        workforce.sign_in("workforce", PASSWORD).await;
        let request = Request::post("/api/v1/imports?kind=contacts&file_name=x.csv")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(CALLS))
            .unwrap();
        assert_eq!(workforce.send(request).await.status, StatusCode::FORBIDDEN);
        // Another user's job is not there for them.
        assert_eq!(
            workforce.get(job["status"].as_str().unwrap()).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

/// An upload is kept under a temporary path; what Merit says about it
/// names the file the user sent, whether it refuses the whole file or
/// reports a row.
#[tokio::test]
async fn a_refused_upload_is_named_by_its_own_file_name() {
    let store = stores::stores("upload_names").await.remove(0);
    let clock = Arc::new(TestClock::default());
    add_users(&store, clock.as_ref()).await;
    merit_service::centre::configure_centre(
        &store,
        clock.as_ref(),
        merit_domain::DEFAULT_TENANT,
        "test",
        "Test",
        "UTC",
    )
    .await
    .unwrap();
    let mut ops = Browser::new(app(&store, clock.clone()));
    ops.sign_in("operations", PASSWORD).await;
    let job = upload(
        &mut ops,
        "kind=contacts&format=amazon-connect&file_name=export.json",
        "this is not JSON at all\n",
    )
    .await;
    let failed = finished(&mut ops, &job).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("export.json: "), "{message}");
    assert!(!message.contains("/tmp"), "{message}");
}
