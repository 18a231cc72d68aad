//! Quality scoring through the API, on every backend: forms published as
//! versions and retired, evaluations pinned to their version, release,
//! acknowledgement, disputes (window, cap, decision as a new version),
//! self-assessment, scope, calibration statistics, and refused input that
//! leaves nothing behind.

#[path = "../../merit-service/tests/stores/mod.rs"]
mod stores;
mod support;

use axum::http::{Method, StatusCode};
use merit_domain::DEFAULT_TENANT;
use merit_domain::access::{Role, Scope};
use merit_service::access::{Caller, NewUser, add_user};
use merit_store::Store;
use serde_json::{Value, json};
use std::sync::Arc;
use support::{Browser, PASSWORD, TestClock, add_organisation, add_users, app};

const FORM: &str = include_str!("../../../docs/examples/inbound-call-quality.toml");
/// 2026-08-04 09:00 UTC, the day after the test contacts.
const NOW_MS: i64 = 1_785_834_000_000;
const DAY_S: i64 = 86_400;

struct Centre {
    store: Store,
    clock: Arc<TestClock>,
}

impl Centre {
    async fn new(store: Store) -> Self {
        let clock = Arc::new(TestClock::default());
        clock.0.store(NOW_MS, std::sync::atomic::Ordering::SeqCst);
        add_users(&store, clock.as_ref()).await;
        let second_qa = NewUser {
            username: "qa2".into(),
            display_name: "qa2".into(),
            password: PASSWORD.into(),
            role: Role::QaSpecialist,
            scope: Scope::Centre,
            agent_id: None,
        };
        add_user(
            &store,
            clock.as_ref(),
            &Caller::command_line(DEFAULT_TENANT),
            second_qa,
        )
        .await
        .unwrap();
        add_organisation(&store).await;
        Centre { store, clock }
    }

    async fn user(&self, name: &str) -> Browser {
        let mut browser = Browser::new(app(&self.store, self.clock.clone()));
        browser.sign_in(name, PASSWORD).await;
        browser
    }
}

async fn call(
    browser: &mut Browser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let answer = browser.json(method, path, body).await;
    let json = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    (answer.status, json)
}

async fn publish(browser: &mut Browser, text: &str) -> i64 {
    let (status, body) = call(
        browser,
        Method::POST,
        "/api/v1/quality/forms",
        Some(json!({ "text": text })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_i64().unwrap()
}

/// The example form's answers for contact `c-{agent}`: the working of
/// their score is in `a_released_evaluation_is_acknowledged_disputed_and_corrected_as_a_new_version`.
fn evaluation(form: i64, agent: &str, resolved: &str) -> Value {
    json!({
        "source_system": "test", "contact_source_id": format!("c-{agent}"), "form_id": form,
        "method": "recording", "comment": "Clear call",
        "answers": {
            "greeting": {"answer": "yes"}, "verification": {"answer": "yes"},
            "understood": {"answer": "4"}, "resolved": {"answer": resolved, "comment": "no fix offered"},
            "next_step_confirmed": {"answer": "yes"}, "accuracy": {"answer": "8"},
            "empathy": {"answer": "5"}, "hold_explained": {"answer": "n/a"},
            "went_extra_mile": {"answer": "no"}, "recording_notice": {"answer": "pass"},
            "wrap_up_code": {"answer": "pass"}
        }
    })
}

async fn evaluate(browser: &mut Browser, body: Value) -> i64 {
    let (status, answer) = call(
        browser,
        Method::POST,
        "/api/v1/quality/evaluations",
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["id"].as_i64().unwrap()
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

async fn audit_actions(admin: &mut Browser, kind: &str) -> Vec<String> {
    let (_, log) = call(
        admin,
        Method::GET,
        &format!("/api/v1/audit?record_kind={kind}"),
        None,
    )
    .await;
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_form_is_versioned_evaluations_stay_on_their_version_and_a_retired_form_takes_none() {
    for store in stores::stores("qa_forms").await {
        let centre = Centre::new(store).await;
        let mut qa = centre.user("qa").await;
        let form = publish(&mut qa, FORM).await;
        let first = evaluate(&mut qa, evaluation(form, "a1", "no")).await;
        let changed = FORM.replace(
            "weight = 4\nauto_fail = \"section\"",
            "weight = 6\nauto_fail = \"section\"",
        );
        assert_ne!(changed, FORM);
        let path = format!("/api/v1/quality/forms/{form}/versions");
        let (status, body) = call(
            &mut qa,
            Method::POST,
            &path,
            Some(json!({ "text": changed })),
        )
        .await;
        assert_eq!(
            (status, body["version"].as_i64()),
            (StatusCode::OK, Some(2)),
            "{body}"
        );
        let (status, _) = call(
            &mut qa,
            Method::POST,
            &path,
            Some(json!({ "text": changed })),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "an unchanged form is no new version"
        );
        let second = evaluate(&mut qa, evaluation(form, "a1", "no")).await;
        let (_, old) = call(
            &mut qa,
            Method::GET,
            &format!("/api/v1/quality/evaluations/{first}"),
            None,
        )
        .await;
        let (_, new) = call(
            &mut qa,
            Method::GET,
            &format!("/api/v1/quality/evaluations/{second}"),
            None,
        )
        .await;
        assert_eq!(old["evaluation"]["form_version"], 1);
        assert_eq!(new["evaluation"]["form_version"], 2);
        // Accuracy weighs 6 in version 2: (4 + 2.25 + 2 + 0.8×6 + 2 + 2) ÷ 23 = 17.05 ÷ 23.
        assert!(
            close(&new["versions"][0]["score"], 100.0 * 17.05 / 23.0),
            "{new}"
        );
        assert!(
            close(&old["versions"][0]["score"], 100.0 * 15.45 / 21.0),
            "{old}"
        );

        let (status, _) = call(
            &mut qa,
            Method::POST,
            &format!("/api/v1/quality/forms/{form}/retire"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = call(
            &mut qa,
            Method::POST,
            "/api/v1/quality/evaluations",
            Some(evaluation(form, "a1", "no")),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (_, history) = call(
            &mut qa,
            Method::GET,
            &format!("/api/v1/quality/forms/{form}"),
            None,
        )
        .await;
        assert_eq!(history["versions"].as_array().unwrap().len(), 2);
        assert!(history["retired_ms"].is_i64());
        let (_, still) = call(
            &mut qa,
            Method::GET,
            &format!("/api/v1/quality/evaluations/{first}"),
            None,
        )
        .await;
        assert_eq!(still["evaluation"]["id"], first);

        let mut agent = centre.user("agent").await;
        let (status, _) = call(
            &mut agent,
            Method::POST,
            "/api/v1/quality/forms",
            Some(json!({ "text": FORM })),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let mut admin = centre.user("admin").await;
        assert_eq!(
            audit_actions(&mut admin, "qa_form").await,
            ["qa_form.publish", "qa_form.publish", "qa_form.retire"]
        );
        assert_eq!(
            audit_actions(&mut admin, "qa_evaluation").await,
            ["qa_evaluation.submit", "qa_evaluation.submit"]
        );
    }
}

#[tokio::test]
async fn a_form_that_breaks_a_rule_is_refused_naming_its_line_and_nothing_is_stored() {
    for store in stores::stores("qa_bad_forms").await {
        let centre = Centre::new(store).await;
        let mut qa = centre.user("qa").await;
        let negative = FORM.replacen("weight = 3", "weight = -3", 1);
        let (status, body) = call(
            &mut qa,
            Method::POST,
            "/api/v1/quality/forms",
            Some(json!({ "text": negative })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["code"], "invalid");
        let message = body["error"]["message"].as_str().unwrap();
        // Line 20 of the example sets the verification question's weight.
        assert_eq!(FORM.lines().nth(19), Some("weight = 3"));
        assert!(
            message.contains("line 20") && message.contains("verification"),
            "{message}"
        );
        let zero = FORM
            .lines()
            .map(|l| {
                if l.starts_with("weight = ") {
                    "weight = 0"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let (status, body) = call(
            &mut qa,
            Method::POST,
            "/api/v1/quality/forms",
            Some(json!({ "text": zero })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("sum to zero"),
            "{body}"
        );
        let (_, forms) = call(&mut qa, Method::GET, "/api/v1/quality/forms", None).await;
        assert_eq!(forms, json!([]));
    }
}

#[tokio::test]
async fn a_released_evaluation_is_acknowledged_disputed_and_corrected_as_a_new_version() {
    for store in stores::stores("qa_dispute").await {
        let centre = Centre::new(store).await;
        let mut qa = centre.user("qa").await;
        let mut agent = centre.user("agent").await;
        let mut lead = centre.user("lead").await;
        let form = publish(&mut qa, FORM).await;
        let id = evaluate(&mut qa, evaluation(form, "a1", "no")).await;
        let path = format!("/api/v1/quality/evaluations/{id}");
        // Score by hand, sections without weights (the flat formula):
        // opening 1 + 3 of 4; resolution 0.75×3 + 0×4 + 1×2 (shown: not
        // resolved) + 0.8×10/10×4 = 7.45 of 13; manner 1×2 of 2 (hold n/a);
        // compliance 2 of 2: 15.45 ÷ 21.
        let (_, view) = call(&mut qa, Method::GET, &path, None).await;
        assert!(
            close(&view["versions"][0]["score"], 100.0 * 15.45 / 21.0),
            "{view}"
        );

        // Not released: the agent does not see it.
        let (status, _) = call(&mut agent, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = call(&mut qa, Method::POST, &format!("{path}/release"), None).await;
        assert_eq!(status, StatusCode::OK);
        let (_, inbox) = call(&mut agent, Method::GET, "/api/v1/inbox", None).await;
        assert!(
            inbox
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["link"] == format!("/quality/evaluations/{id}")),
            "{inbox}"
        );
        let (_, pending) = call(
            &mut lead,
            Method::GET,
            "/api/v1/quality/unacknowledged",
            None,
        )
        .await;
        assert_eq!(pending.as_array().unwrap().len(), 1);

        let (status, _) = call(
            &mut agent,
            Method::POST,
            &format!("{path}/acknowledge"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (_, pending) = call(
            &mut lead,
            Method::GET,
            "/api/v1/quality/unacknowledged",
            None,
        )
        .await;
        assert_eq!(pending, json!([]));

        let dispute = json!({ "questions": ["resolved"], "comment": "The customer's bill was corrected on the call" });
        let (status, _) = call(
            &mut agent,
            Method::POST,
            &format!("{path}/disputes"),
            Some(json!({ "questions": ["resolved"], "comment": " " })),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a comment is required"
        );
        let (status, body) = call(
            &mut agent,
            Method::POST,
            &format!("{path}/disputes"),
            Some(dispute.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let dispute_id = body["id"].as_i64().unwrap();
        let (status, _) = call(
            &mut agent,
            Method::POST,
            &format!("{path}/disputes"),
            Some(dispute),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "one open dispute at a time"
        );

        let decision = format!("/api/v1/quality/disputes/{dispute_id}/decision");
        let accept = json!({ "decision": "accepted", "reason": "Heard on the recording", "answers": { "resolved": "yes" } });
        let (status, _) = call(&mut qa, Method::POST, &decision, Some(accept.clone())).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "the evaluator does not decide on their own score"
        );
        let (status, _) = call(
            &mut lead,
            Method::POST,
            &decision,
            Some(json!({ "decision": "accepted", "reason": "x", "answers": { "empathy": "5" } })),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "only disputed questions change"
        );
        let (status, body) = call(&mut lead, Method::POST, &decision, Some(accept.clone())).await;
        assert_eq!(
            (status, body["version"].as_i64()),
            (StatusCode::OK, Some(2)),
            "{body}"
        );
        let (status, _) = call(&mut lead, Method::POST, &decision, Some(accept)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "decided once");

        // Resolved: the next-step question is no longer asked.
        // (4 + 0.75×3 + 4 + 3.2 + 2 + 2) ÷ (4 + 11 + 2 + 2) = 17.45 ÷ 19.
        let (_, view) = call(&mut agent, Method::GET, &path, None).await;
        let versions = view["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 2, "{view}");
        assert!(close(&versions[0]["score"], 100.0 * 15.45 / 21.0));
        assert!(close(&versions[1]["score"], 100.0 * 17.45 / 19.0), "{view}");
        assert!(
            versions[1]["reason"]
                .as_str()
                .unwrap()
                .contains("Heard on the recording")
        );
        assert_eq!(view["disputes"][0]["decision"], "accepted");
        assert_eq!(
            versions[0]["answers"]["resolved"]["comment"],
            "no fix offered"
        );
    }
}

#[tokio::test]
async fn disputes_close_after_seven_days_and_stop_at_three_a_month() {
    for store in stores::stores("qa_dispute_rules").await {
        let centre = Centre::new(store).await;
        let mut qa = centre.user("qa").await;
        let mut agent = centre.user("agent").await;
        let form = publish(&mut qa, FORM).await;
        let mut ids = Vec::new();
        for _ in 0..5 {
            let mut body = evaluation(form, "a1", "no");
            body["release"] = json!(true);
            ids.push(evaluate(&mut qa, body).await);
        }
        let dispute = |id: i64| {
            (
                format!("/api/v1/quality/evaluations/{id}/disputes"),
                json!({ "questions": ["empathy"], "comment": "I did" }),
            )
        };
        for id in &ids[..3] {
            let (path, body) = dispute(*id);
            let (status, answer) = call(&mut agent, Method::POST, &path, Some(body)).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
        let (path, body) = dispute(ids[3]);
        let (status, answer) = call(&mut agent, Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most 3"),
            "{answer}"
        );

        // A new month, but more than 7 days after release: closed.
        centre.clock.advance_s(30 * DAY_S);
        let (status, answer) = call(&mut agent, Method::POST, &path, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("7 days"),
            "{answer}"
        );
        let (_, disputes) = call(
            &mut qa,
            Method::GET,
            &format!("/api/v1/quality/evaluations/{}", ids[3]),
            None,
        )
        .await;
        assert_eq!(
            disputes["disputes"],
            json!([]),
            "nothing stored for a refused dispute"
        );
    }
}

#[tokio::test]
async fn an_agent_self_assesses_their_own_contact_once_and_the_gap_shows() {
    for store in stores::stores("qa_self").await {
        let centre = Centre::new(store).await;
        let mut qa = centre.user("qa").await;
        let mut agent = centre.user("agent").await;
        let form = publish(&mut qa, FORM).await;
        let mut own = evaluation(form, "a1", "yes");
        own["method"] = json!("recording");
        let self_id = evaluate(&mut agent, own.clone()).await;
        let (status, _) = call(
            &mut agent,
            Method::POST,
            "/api/v1/quality/evaluations",
            Some(own),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a second self-assessment"
        );
        let (status, _) = call(
            &mut agent,
            Method::POST,
            "/api/v1/quality/evaluations",
            Some(evaluation(form, "a2", "yes")),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another agent's contact");
        let id = evaluate(&mut qa, evaluation(form, "a1", "no")).await;
        let (_, view) = call(
            &mut qa,
            Method::GET,
            &format!("/api/v1/quality/evaluations/{id}"),
            None,
        )
        .await;
        assert_eq!(view["self_assessment"]["evaluation_id"], self_id);
        // Self: resolved (17.45 ÷ 19); evaluator: not resolved (15.45 ÷ 21).
        assert!(
            close(&view["self_assessment"]["score"], 100.0 * 17.45 / 19.0),
            "{view}"
        );
        let (_, mine) = call(
            &mut agent,
            Method::GET,
            &format!("/api/v1/quality/evaluations/{self_id}"),
            None,
        )
        .await;
        assert_eq!(mine["evaluation"]["kind"], "self");
    }
}

#[tokio::test]
async fn an_evaluation_outside_scope_or_scale_is_refused_and_nothing_is_stored() {
    for store in stores::stores("qa_refused").await {
        let centre = Centre::new(store).await;
        let mut qa = centre.user("qa").await;
        let mut lead = centre.user("lead").await;
        let form = publish(&mut qa, FORM).await;
        let (status, _) = call(
            &mut lead,
            Method::POST,
            "/api/v1/quality/evaluations",
            Some(evaluation(form, "a2", "no")),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "team t2's contact is outside the lead's scope"
        );
        let mut bad = evaluation(form, "a1", "no");
        bad["answers"]["understood"] = json!({ "answer": "7" });
        let (status, body) = call(
            &mut qa,
            Method::POST,
            "/api/v1/quality/evaluations",
            Some(bad),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("understood"),
            "{body}"
        );
        let mut missing = evaluation(form, "a1", "no");
        missing["answers"]
            .as_object_mut()
            .unwrap()
            .remove("next_step_confirmed");
        let (status, _) = call(
            &mut qa,
            Method::POST,
            "/api/v1/quality/evaluations",
            Some(missing),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a shown question needs an answer"
        );
        let (_, list) = call(&mut qa, Method::GET, "/api/v1/quality/evaluations", None).await;
        assert_eq!(list["total"], 0);
        let (status, _) = call(
            &mut lead,
            Method::POST,
            "/api/v1/quality/evaluations",
            Some(evaluation(form, "a1", "no")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "the lead evaluates their own team");
    }
}

const TWO_QUESTIONS: &str = r#"name = "Two questions"
[[sections]]
key = "s"
title = "S"
[[sections.questions]]
key = "a"
text = "A?"
scale = "yes_no"
weight = 1
[[sections.questions]]
key = "b"
text = "B?"
scale = "yes_no"
weight = 1
"#;

#[tokio::test]
async fn calibration_is_blind_and_reports_agreement_and_each_evaluators_lean() {
    for store in stores::stores("qa_calibration").await {
        let centre = Centre::new(store).await;
        let mut qa = centre.user("qa").await;
        let mut qa2 = centre.user("qa2").await;
        let form = publish(&mut qa, TWO_QUESTIONS).await;
        let session = json!({
            "name": "August week 1", "form_id": form, "evaluators": ["qa", "qa2"],
            "contacts": [{"source_system": "test", "source_id": "c-a1"}, {"source_system": "test", "source_id": "c-a2"}]
        });
        let (status, body) = call(
            &mut qa,
            Method::POST,
            "/api/v1/quality/calibration",
            Some(session),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let session = body["id"].as_i64().unwrap();
        let score = |agent: &str, a: &str, b: &str| {
            json!({ "source_system": "test", "contact_source_id": format!("c-{agent}"), "form_id": form, "method": "recording",
                    "calibration_session": session, "answers": { "a": {"answer": a}, "b": {"answer": b} } })
        };
        let first = evaluate(&mut qa, score("a1", "yes", "yes")).await;
        // Blind: qa2 cannot read qa's score before scoring the contact.
        let (status, _) = call(
            &mut qa2,
            Method::GET,
            &format!("/api/v1/quality/evaluations/{first}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        evaluate(&mut qa, score("a2", "no", "yes")).await;
        evaluate(&mut qa2, score("a1", "yes", "no")).await;
        evaluate(&mut qa2, score("a2", "no", "no")).await;
        let (status, _) = call(
            &mut qa2,
            Method::GET,
            &format!("/api/v1/quality/evaluations/{first}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = call(
            &mut qa2,
            Method::POST,
            "/api/v1/quality/evaluations",
            Some(score("a2", "no", "no")),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "once per contact");

        let (_, report) = call(
            &mut qa,
            Method::GET,
            &format!("/api/v1/quality/calibration/{session}"),
            None,
        )
        .await;
        assert_eq!(
            (report["scored"].as_i64(), report["expected"].as_i64()),
            (Some(4), Some(4))
        );
        // Two evaluators: Cohen's kappa, p_e = Σ_k p_qa(k) × p_qa2(k).
        // a: (yes, yes), (no, no): agreement 1; p_e 0.5·0.5 + 0.5·0.5 = 0.5; κ 1.
        // b: (yes, no), (yes, no): agreement 0; qa always yes, qa2 always
        // no, so p_e = 1·0 + 0·1 = 0 and κ = (0 − 0) ÷ 1 = 0.
        // Over the form, four (contact, question) pairs: agreement 2/4 = 0.5;
        // qa yes 3/4, qa2 yes 1/4: p_e = 3/4·1/4 + 1/4·3/4 = 0.375;
        // κ = (0.5 − 0.375) ÷ 0.625 = 0.2.
        let questions = report["questions"].as_array().unwrap();
        assert!(
            close(&questions[0]["agreement"], 1.0) && close(&questions[0]["kappa"], 1.0),
            "{report}"
        );
        assert!(
            close(&questions[1]["agreement"], 0.0) && close(&questions[1]["kappa"], 0.0),
            "{report}"
        );
        assert!(
            close(&report["form"]["agreement"], 0.5) && close(&report["form"]["kappa"], 0.2),
            "{report}"
        );
        assert_eq!(report["form"]["statistic"], "cohen");
        // Scores: qa 100 and 50, qa2 50 and 0; contact means 75 and 25:
        // qa leans +25 (lenient), qa2 −25 (strict).
        let bias = report["bias"].as_array().unwrap();
        assert_eq!(bias[0]["evaluator"], "qa");
        assert!(
            close(&bias[0]["bias_points"], 25.0) && close(&bias[1]["bias_points"], -25.0),
            "{report}"
        );
        // Calibration scores are not the agent's evaluations.
        let mut agent = centre.user("agent").await;
        let (_, list) = call(&mut agent, Method::GET, "/api/v1/quality/evaluations", None).await;
        assert_eq!(list["total"], 0);
    }
}

/// Five more handled calls of agent a1 on 2026-08-03 (`q1`..`q5`), each
/// with a customer's answer on a 1-5 satisfaction question.
async fn calls_with_surveys(store: &Store, satisfaction: [i32; 5]) {
    use merit_domain::survey::{Asker, Scale, SurveyAnswer, SurveyResponse};
    let mut contacts = Vec::new();
    let mut surveys = Vec::new();
    for (n, value) in satisfaction.iter().enumerate() {
        let arrival_ms = 1_785_747_600_000 + n as i64 * 600_000; // from 09:00 UTC
        let contact = merit_domain::contact::Contact {
            agent_id: Some("a1".into()),
            queue_entry_ms: Some(arrival_ms),
            answer_ms: Some(arrival_ms + 10_000),
            end_ms: arrival_ms + 300_000,
            ..merit_domain::contact::Contact::arriving(
                "test",
                format!("q{}", n + 1),
                merit_domain::organisation::Channel::VoiceInbound,
                arrival_ms,
            )
        };
        contacts.push(merit_store::Row::from_contact(contact));
        surveys.push(merit_store::Row::from_survey(&SurveyResponse {
            source_system: "test".into(),
            source_id: format!("s{}", n + 1),
            contact_source_id: Some(format!("q{}", n + 1)),
            agent_id: Some("a1".into()),
            answered_ms: arrival_ms + 3_600_000,
            asked_by: Asker::Automated,
            answers: vec![SurveyAnswer {
                question_id: "satisfied".into(),
                scale: Scale::OneToFive,
                value: Some(*value),
                text: None,
            }],
        }));
    }
    let mut tx = merit_store::ImportTx::begin(store, DEFAULT_TENANT)
        .await
        .unwrap();
    tx.write_chunk(merit_store::RecordKind::Contacts, &mut contacts)
        .await
        .unwrap();
    tx.write_chunk(merit_store::RecordKind::Surveys, &mut surveys)
        .await
        .unwrap();
    support::finish(tx, "contacts").await;
}

#[tokio::test]
async fn insights_compare_qa_scores_with_the_customer_evaluators_and_self_assessment() {
    for store in stores::stores("qa_insights").await {
        let centre = Centre::new(store).await;
        calls_with_surveys(&centre.store, [1, 2, 4, 5, 1]).await;
        let mut qa = centre.user("qa").await;
        let mut agent = centre.user("agent").await;
        let mut lead = centre.user("lead").await;
        let form = publish(&mut qa, TWO_QUESTIONS).await;
        let scored = |call: &str, a: &str, b: &str| {
            json!({ "source_system": "test", "contact_source_id": call, "form_id": form, "method": "recording",
                    "release": true, "answers": { "a": {"answer": a}, "b": {"answer": b} } })
        };
        // QA scores 0, 50, 50, 100, 100 on calls the customers rated 1, 2, 4, 5, 1.
        let mut ids = Vec::new();
        for (call, a, b) in [
            ("q1", "no", "no"),
            ("q2", "yes", "no"),
            ("q3", "yes", "no"),
            ("q4", "yes", "yes"),
            ("q5", "yes", "yes"),
        ] {
            ids.push(evaluate(&mut qa, scored(call, a, b)).await);
        }
        // The agent rates q2 fully: a 100 − 100 = 0, b 100 − 0 = +100.
        let mut own = scored("q2", "yes", "yes");
        own["release"] = json!(false);
        evaluate(&mut agent, own).await;
        let path = format!("/api/v1/quality/evaluations/{}/disputes", ids[0]);
        let (status, body) = call(
            &mut agent,
            Method::POST,
            &path,
            Some(json!({ "questions": ["a"], "comment": "I did" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let decision = format!("/api/v1/quality/disputes/{}/decision", body["id"]);
        let (status, _) = call(
            &mut lead,
            Method::POST,
            &decision,
            Some(json!({ "decision": "rejected", "reason": "It stands" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK);

        let (status, found) = call(
            &mut qa,
            Method::GET,
            "/api/v1/quality/insights?from=2026-08-03&to=2026-08-03",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        let qa_row = &found["evaluators"][0];
        assert_eq!(
            (qa_row["evaluator"].as_str(), qa_row["evaluations"].as_i64()),
            (Some("qa"), Some(5))
        );
        // (0 + 50 + 50 + 100 + 100) ÷ 5 = 60; no auto-fail on this form.
        assert!(
            close(&qa_row["mean_score"], 60.0) && close(&qa_row["auto_fail_rate"], 0.0),
            "{found}"
        );
        assert_eq!(
            (
                qa_row["disputes"].as_i64(),
                qa_row["disputes_accepted"].as_i64()
            ),
            (Some(1), Some(0))
        );
        assert_eq!(
            found["disputed_questions"],
            json!([{ "question": "a", "disputes": 1, "accepted": 0 }])
        );
        let gaps = found["self_gaps"].as_array().unwrap();
        assert!(
            close(&gaps[0]["mean_gap_points"], 0.0) && close(&gaps[1]["mean_gap_points"], 100.0),
            "{found}"
        );

        // Pearson by hand: x 0, 50, 50, 100, 100 (mean 60); y 1, 2, 4, 5, 1
        // (mean 2.6); Sxy = 96 + 6 − 14 + 96 − 64 = 120, Sxx = 7000,
        // Syy = 13.2; r = 120 ÷ √92400 = 0.394771.
        let overall = found["customer"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["evaluator"].is_null() && c["qa_question"].is_null())
            .unwrap();
        assert_eq!(overall["pairs"], 5);
        assert!(
            (overall["correlation"]["r"].as_f64().unwrap() - 0.394_771).abs() < 1e-6,
            "{overall}"
        );
        assert!(
            overall["correlation"]["low"].as_f64().unwrap() < 0.0,
            "five pairs cannot rule out no relation"
        );
        // q5: QA 100 against the lowest satisfaction (0 points of 100).
        let strong = found["disagreements"].as_array().unwrap();
        assert_eq!(strong.len(), 1, "{found}");
        assert_eq!(
            (
                strong[0]["contact_source_id"].as_str(),
                strong[0]["customer_answer"].as_i64()
            ),
            (Some("q5"), Some(1))
        );
        let (status, _) = call(
            &mut agent,
            Method::GET,
            "/api/v1/quality/insights?from=2026-08-03&to=2026-08-03",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn a_sample_fills_an_evaluators_queue_with_outliers_and_quotas_count_progress() {
    for store in stores::stores("qa_sampling").await {
        let centre = Centre::new(store).await;
        // q1, q2 and q5 have low survey answers (1, 2, 1 of 5).
        calls_with_surveys(&centre.store, [1, 2, 4, 5, 1]).await;
        let mut qa = centre.user("qa").await;
        let mut qa2 = centre.user("qa2").await;
        let form = publish(&mut qa, TWO_QUESTIONS).await;
        let scored = |call: &str| {
            json!({ "source_system": "test", "contact_source_id": call, "form_id": form, "method": "recording",
                    "answers": { "a": {"answer": "yes"}, "b": {"answer": "no"} } })
        };
        evaluate(&mut qa, scored("q4")).await;

        let body = json!({ "from": "2026-08-03", "to": "2026-08-03", "size": 3, "outliers": 2, "seed": 1, "evaluator": "qa2" });
        let (status, sample) = call(
            &mut qa,
            Method::POST,
            "/api/v1/quality/samples",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{sample}");
        let sample = sample.as_array().unwrap().clone();
        // Candidates: c-a1, c-a2, q1, q2, q3, q5 (q4 is evaluated already).
        assert_eq!(sample.len(), 3);
        let reasons: Vec<&str> = sample
            .iter()
            .map(|s| s["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons
                .iter()
                .filter(|r| **r == "low survey answer")
                .count(),
            2,
            "{reasons:?}"
        );
        assert_eq!(
            reasons.iter().filter(|r| **r == "random").count(),
            1,
            "{reasons:?}"
        );
        for s in &sample {
            assert_ne!(s["source_id"], "q4");
            if s["reason"] == "low survey answer" {
                assert!(
                    ["q1", "q2", "q5"].contains(&s["source_id"].as_str().unwrap()),
                    "{s}"
                );
            }
        }
        // The same seed draws the same sample; it is queued once.
        let (_, again) = call(&mut qa, Method::POST, "/api/v1/quality/samples", Some(body)).await;
        assert_eq!(again.as_array().unwrap(), &sample);
        let (_, queue) = call(&mut qa2, Method::GET, "/api/v1/quality/queue", None).await;
        assert_eq!(queue.as_array().unwrap().len(), 3, "{queue}");
        let first = queue[0]["contact_source_id"].as_str().unwrap().to_owned();
        evaluate(&mut qa2, scored(&first)).await;
        let (_, queue) = call(&mut qa2, Method::GET, "/api/v1/quality/queue", None).await;
        assert_eq!(
            queue.as_array().unwrap().len(),
            2,
            "an evaluated contact leaves the queue"
        );

        for quota in [
            json!({ "kind": "evaluator", "subject": "qa2", "period": "week", "evaluations": 4 }),
            json!({ "kind": "agent", "subject": "*", "period": "month", "evaluations": 2 }),
        ] {
            let (status, body) =
                call(&mut qa, Method::POST, "/api/v1/quality/quotas", Some(quota)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (_, progress) = call(&mut qa, Method::GET, "/api/v1/quality/quotas", None).await;
        let rows = progress.as_array().unwrap();
        // The week of Tuesday 2026-08-04: qa2 has made 1 of 4.
        let qa2_row = rows.iter().find(|r| r["subject"] == "qa2").unwrap();
        assert_eq!(
            (qa2_row["done"].as_i64(), qa2_row["target"].as_i64()),
            (Some(1), Some(4))
        );
        assert_eq!(
            (qa2_row["from"].as_str(), qa2_row["to"].as_str()),
            (Some("2026-08-03"), Some("2026-08-09"))
        );
        // Every agent in August: the two evaluations are of a1's or a2's calls.
        let agents: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "agent").collect();
        assert_eq!(agents.len(), 2);
        assert_eq!(
            agents
                .iter()
                .map(|r| r["done"].as_i64().unwrap())
                .sum::<i64>(),
            2
        );
        let (status, _) = call(&mut qa, Method::POST, "/api/v1/quality/samples",
            Some(json!({ "from": "2026-08-03", "to": "2026-08-03", "size": 3, "evaluator": "agent" }))).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "an agent does not evaluate"
        );
    }
}

#[tokio::test]
async fn the_qa_score_and_auto_fail_rates_are_kpis_with_their_evaluations_behind_them() {
    for store in stores::stores("qa_kpis").await {
        let centre = Centre::new(store).await;
        let mut qa = centre.user("qa").await;
        let mut admin = centre.user("admin").await;
        let form = publish(&mut qa, FORM).await;
        // 15.45 ÷ 21 = 73.5714 (7357 hundredths); a missed verification
        // fails the form (0); a failed recording notice leaves compliance at
        // 50 < 100, which fails the form too (0).
        let mut verification_missed = evaluation(form, "a1", "no");
        verification_missed["answers"]["verification"] = json!({ "answer": "no" });
        let mut notice_missed = evaluation(form, "a1", "no");
        notice_missed["answers"]["recording_notice"] = json!({ "answer": "fail" });
        for body in [
            evaluation(form, "a1", "no"),
            verification_missed,
            notice_missed,
        ] {
            evaluate(&mut qa, body).await;
        }
        let section = json!({ "effective_from": "2026-08-01", "kpi": "qa_auto_fail_rate",
                              "options": { "qa_section": "compliance" }, "reason": "compliance on its own" });
        let (status, body) = call(
            &mut admin,
            Method::POST,
            "/api/v1/definitions/qa_compliance_auto_fail/versions",
            Some(section),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        let path = "/api/v1/reports/kpi?from=2026-08-03&to=2026-08-03&kpi=qa_score,qa_auto_fail_rate,qa_compliance_auto_fail";
        let (status, report) = call(&mut qa, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let figures = report["total"]["figures"].as_array().unwrap();
        // (7357 + 0 + 0) hundredths ÷ 100 ÷ 3 = 24.523.
        assert_eq!(
            (
                figures[0]["numerator"].as_i64(),
                figures[0]["denominator"].as_i64()
            ),
            (Some(7357), Some(3)),
            "{report}"
        );
        assert!(
            close(&figures[0]["value"], 7357.0 / 100.0 / 3.0),
            "{report}"
        );
        // Two of three forms failed; the compliance section failed in one.
        assert_eq!(
            (
                figures[1]["numerator"].as_i64(),
                figures[1]["denominator"].as_i64()
            ),
            (Some(2), Some(3))
        );
        assert_eq!(
            (
                figures[2]["numerator"].as_i64(),
                figures[2]["denominator"].as_i64()
            ),
            (Some(1), Some(3))
        );

        // A new evaluation counts at once: the figure is not cached away.
        evaluate(&mut qa, evaluation(form, "a1", "no")).await;
        let (_, report) = call(&mut qa, Method::GET, path, None).await;
        assert_eq!(report["total"]["figures"][0]["denominator"], 4);
    }
}

#[tokio::test]
async fn a_form_is_built_on_the_page_question_by_question_each_change_a_version() {
    for store in stores::stores("qa_builder").await {
        let centre = Centre::new(store).await;
        let mut qa = centre.user("qa").await;
        let started = qa
            .post_form(
                "/quality/forms/start",
                "name=Built+on+the+page&section_title=Opening+words&key=greet&text=Greeted%3F&scale=yes_no&weight=2",
            )
            .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let form_page = started.location().unwrap().to_owned();
        let id = form_page.rsplit('/').next().unwrap().to_owned();
        let add = format!("/quality/forms/{id}/questions");
        let added = qa
            .post_form(&add, "section_key=opening_words&key=close&text=Closed+well%3F&scale=1-5&weight=3&allow_na=yes")
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let refused = qa
            .post_form(
                &add,
                "section_key=opening_words&key=bad&text=Bad%3F&scale=yes_no&weight=-1",
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("question \"bad\", weight") && refused.body.contains("negative"),
            "{}",
            refused.body
        );
        let removed = qa
            .post_form(&format!("/quality/forms/{id}/questions/greet/remove"), "")
            .await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);

        let (_, history) = call(
            &mut qa,
            Method::GET,
            &format!("/api/v1/quality/forms/{id}"),
            None,
        )
        .await;
        let versions = history["versions"].as_array().unwrap();
        assert_eq!(
            versions.len(),
            3,
            "the refused change stored nothing: {history}"
        );
        let keys = |v: &Value| -> Vec<String> {
            v["form"]["sections"][0]["questions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["key"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(keys(&versions[0]), ["greet"]);
        assert_eq!(keys(&versions[1]), ["greet", "close"]);
        assert_eq!(keys(&versions[2]), ["close"]);
        assert_eq!(versions[1]["form"]["sections"][0]["key"], "opening_words");
        assert_eq!(
            versions[1]["form"]["sections"][0]["questions"][1]["allow_na"],
            true
        );
        // Each version is kept as text that reads back as the same form.
        let text = versions[1]["source_text"].as_str().unwrap();
        let parsed = merit_import::quality_form::parse_form(text).unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), versions[1]["form"]);
        let page = qa.get(&form_page).await;
        assert!(
            page.body.contains("Closed well?") && page.body.contains("version 3"),
            "{}",
            page.body
        );
    }
}
