//! Who may call what, through the router in process, on SQLite and (in CI)
//! PostgreSQL: the access matrix over every route and role, sign-in and
//! sessions, rate limits, the cross-site guard, API tokens, the audit log
//! and the API's one error body.

#[path = "../../merit-service/tests/stores/mod.rs"]
mod stores;
mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use support::{Browser, PASSWORD, TestClock, add_users, app};

const ROLES: [&str; 9] = [
    "agent",
    "lead",
    "qa",
    "trainer",
    "workforce",
    "operations",
    "payroll",
    "client",
    "admin",
];

/// One row of the matrix: the route as documented, the request made, and
/// the status expected for [anonymous, then each of ROLES].
struct Row {
    method: Method,
    route: &'static str,
    path: &'static str,
    body: Option<serde_json::Value>,
    expected: [u16; 10],
}

fn row(
    method: Method,
    route: &'static str,
    path: &'static str,
    body: Option<serde_json::Value>,
    expected: [u16; 10],
) -> Row {
    Row {
        method,
        route,
        path,
        body,
        expected,
    }
}

/// Every route × every role. Signed in: 303 redirects to sign-in (pages)
/// or 401 (API) for the anonymous; a client sees nothing yet (404); a read
/// outside one's scope is 404; a write or an administrator's list the role
/// may not touch is 403.
fn matrix() -> Vec<Row> {
    use Method as M;
    let all = |status| [status; 10];
    //                      anon agent lead  qa  trainer wf  ops  pay client admin
    let admin_read = [401, 403, 403, 403, 403, 403, 403, 403, 404, 200];
    let admin_create = [401, 403, 403, 403, 403, 403, 403, 403, 404, 201];
    let readers = [401, 200, 200, 200, 200, 200, 200, 200, 404, 200];
    let setters = [401, 403, 403, 403, 403, 403, 201, 403, 404, 201];
    let history = [401, 403, 403, 403, 403, 200, 200, 403, 404, 200];
    let pages = [303, 200, 200, 200, 200, 200, 200, 200, 404, 200];
    let evaluator_reads = [401, 403, 200, 200, 403, 403, 403, 403, 404, 200];
    let evaluator_writes = [401, 403, 404, 404, 403, 403, 403, 403, 404, 404];
    let agent_writes = [401, 404, 403, 403, 403, 403, 403, 403, 404, 403];
    let page_scoring = [303, 404, 404, 404, 403, 403, 403, 403, 404, 404];
    let page_evaluator_writes = [303, 403, 404, 404, 403, 403, 403, 403, 404, 404];
    let page_agent_writes = [303, 404, 403, 403, 403, 403, 403, 403, 404, 403];
    let none_stored = [401, 404, 404, 404, 404, 404, 404, 404, 404, 404];
    let plan_writes = [401, 403, 403, 403, 403, 403, 422, 422, 404, 403];
    let pay_writes = [401, 403, 403, 403, 403, 403, 403, 404, 404, 403];
    let page_none_stored = [303, 404, 404, 404, 404, 404, 404, 404, 404, 404];
    let page_plan_writes = [303, 403, 403, 403, 403, 403, 422, 422, 404, 403];
    let page_pay_writes = [303, 403, 403, 403, 403, 403, 403, 404, 404, 403];
    vec![
        row(
            M::GET,
            "/",
            "/",
            None,
            [303, 303, 303, 200, 200, 200, 200, 200, 404, 200],
        ),
        row(M::GET, "/sign-in", "/sign-in", None, all(200)),
        row(
            M::GET,
            "/account",
            "/account",
            None,
            [303, 200, 200, 200, 200, 200, 200, 200, 404, 200],
        ),
        row(
            M::POST,
            "/account/password",
            "/account/password",
            None,
            [303, 422, 422, 422, 422, 422, 422, 422, 404, 422],
        ),
        row(
            M::GET,
            "/static/{file}",
            "/static/merit.css",
            None,
            all(200),
        ),
        row(M::GET, "/healthz", "/healthz", None, all(200)),
        row(M::GET, "/api/docs", "/api/docs", None, all(200)),
        row(
            M::GET,
            "/performance",
            "/performance?from=2026-08-03&to=2026-08-09",
            None,
            pages,
        ),
        row(
            M::GET,
            "/team",
            "/team?from=2026-08-03&to=2026-08-09&sort=aht",
            None,
            pages,
        ),
        row(
            M::GET,
            "/agents/{agent}",
            "/agents/a1?from=2026-08-03&to=2026-08-09",
            None,
            pages,
        ),
        row(
            M::GET,
            "/agents/{agent}",
            "/agents/a2?from=2026-08-03&to=2026-08-09",
            None,
            [303, 404, 404, 200, 200, 200, 200, 200, 404, 200],
        ),
        row(
            M::GET,
            "/drill",
            "/drill?kpi=offered&from=2026-08-03&to=2026-08-09",
            None,
            pages,
        ),
        row(M::GET, "/definitions", "/definitions", None, pages),
        row(M::GET, "/operations", "/operations", None, pages),
        // An administrator's page: to anyone else it does not exist.
        row(
            M::GET,
            "/admin",
            "/admin?action=user.create",
            None,
            [303, 404, 404, 404, 404, 404, 404, 404, 404, 200],
        ),
        row(
            M::GET,
            "/definitions/{name}",
            "/definitions/service_level?options=%7B%22threshold_s%22%3A30%7D&from=2026-08-03&to=2026-08-09",
            None,
            pages,
        ),
        row(
            M::GET,
            "/contacts/{source_system}/{source_id}",
            "/contacts/test/c-a1",
            None,
            pages,
        ),
        row(
            M::GET,
            "/contacts/{source_system}/{source_id}",
            "/contacts/test/c-a2",
            None,
            [303, 404, 404, 200, 200, 200, 200, 200, 404, 200],
        ),
        row(
            M::GET,
            "/api/openapi.json",
            "/api/openapi.json",
            None,
            all(200),
        ),
        row(
            M::GET,
            "/api/v1/me",
            "/api/v1/me",
            None,
            [401, 200, 200, 200, 200, 200, 200, 200, 404, 200],
        ),
        row(
            M::GET,
            "/api/v1/centre",
            "/api/v1/centre",
            None,
            [401, 404, 404, 200, 200, 200, 200, 200, 404, 200],
        ),
        row(
            M::GET,
            "/api/v1/contacts",
            "/api/v1/contacts?from=2026-08-03&to=2026-08-03",
            None,
            readers,
        ),
        row(
            M::GET,
            "/api/v1/contacts/{source_system}/{source_id}",
            "/api/v1/contacts/test/c-a1",
            None,
            readers,
        ),
        // Agent a2 is not the agent user and not in the lead's team t1.
        row(
            M::GET,
            "/api/v1/contacts/{source_system}/{source_id}",
            "/api/v1/contacts/test/c-a2",
            None,
            [401, 404, 404, 200, 200, 200, 200, 200, 404, 200],
        ),
        row(
            M::GET,
            "/api/v1/contacts/{source_system}/{source_id}",
            "/api/v1/contacts/test/no-such-contact",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        row(M::GET, "/api/v1/users", "/api/v1/users", None, admin_read),
        row(
            M::POST,
            "/api/v1/users",
            "/api/v1/users",
            Some(
                json!({"username": "new-user", "password": PASSWORD, "role": "trainer", "scope": "centre"}),
            ),
            admin_create,
        ),
        row(
            M::PATCH,
            "/api/v1/users/{username}",
            "/api/v1/users/qa",
            Some(json!({"disabled": false})),
            admin_read,
        ),
        row(M::GET, "/api/v1/tokens", "/api/v1/tokens", None, admin_read),
        row(
            M::POST,
            "/api/v1/tokens",
            "/api/v1/tokens",
            Some(json!({"name": "wallboard", "role": "operations_manager", "scope": "centre"})),
            admin_create,
        ),
        row(
            M::DELETE,
            "/api/v1/tokens/{id}",
            "/api/v1/tokens/1",
            None,
            [401, 403, 403, 403, 403, 403, 403, 403, 404, 204],
        ),
        row(M::GET, "/api/v1/audit", "/api/v1/audit", None, admin_read),
        row(
            M::GET,
            "/api/v1/reports/kpi",
            "/api/v1/reports/kpi?from=2026-08-03&to=2026-08-09&by=day",
            None,
            readers,
        ),
        row(
            M::GET,
            "/api/v1/reports/contacts",
            "/api/v1/reports/contacts?from=2026-08-03&to=2026-08-09&kpi=offered&format=csv",
            None,
            readers,
        ),
        row(
            M::GET,
            "/api/v1/definitions",
            "/api/v1/definitions",
            None,
            readers,
        ),
        row(
            M::POST,
            "/api/v1/definitions/{name}/versions",
            "/api/v1/definitions/service_level/versions",
            Some(json!({"effective_from": "2030-01-01", "options": {"threshold_s": 30}})),
            setters,
        ),
        row(
            M::POST,
            "/api/v1/definitions/{name}/preview",
            "/api/v1/definitions/service_level/preview",
            Some(json!({"options": {"threshold_s": 30}, "from": "2026-08-03", "to": "2026-08-03"})),
            [401, 403, 403, 403, 403, 403, 200, 403, 404, 200],
        ),
        row(M::GET, "/api/v1/targets", "/api/v1/targets", None, readers),
        row(
            M::POST,
            "/api/v1/targets",
            "/api/v1/targets",
            Some(
                json!({"definition": "service_level", "scope": "centre", "effective_from": "2030-01-01", "target": 80, "amber_limit": 70}),
            ),
            setters,
        ),
        row(
            M::POST,
            "/api/v1/imports",
            "/api/v1/imports?kind=org&file_name=org.csv",
            None,
            [401, 403, 403, 403, 403, 403, 202, 403, 404, 202],
        ),
        // The job of this session's own upload (each role has its own server here).
        row(
            M::GET,
            "/api/v1/imports/jobs/{id}",
            "/api/v1/imports/jobs/1",
            None,
            [401, 403, 403, 403, 403, 404, 200, 403, 404, 200],
        ),
        row(M::GET, "/api/v1/imports", "/api/v1/imports", None, history),
        row(
            M::GET,
            "/api/v1/imports/{batch_id}/problems",
            "/api/v1/imports/1/problems",
            None,
            history,
        ),
        row(
            M::GET,
            "/api/v1/mappings",
            "/api/v1/mappings",
            None,
            history,
        ),
        row(
            M::PUT,
            "/api/v1/mappings/{name}",
            "/api/v1/mappings/calls",
            Some(
                json!({"toml": "[contact]\nsource_id = \"id\"\narrival = \"at\"\nanswered = \"a\"\n"}),
            ),
            [401, 403, 403, 403, 403, 403, 200, 403, 404, 200],
        ),
        // A wrong password, then signing out: last, as they end the session.
        row(
            M::GET,
            "/imports",
            "/imports",
            None,
            [303, 403, 403, 403, 403, 200, 200, 403, 404, 200],
        ),
        // An organisation file: for operations managers and administrators.
        row(
            M::POST,
            "/imports",
            "/imports",
            None,
            [303, 403, 403, 403, 403, 403, 303, 403, 404, 303],
        ),
        // The job each role's own earlier API upload started, if any.
        row(
            M::GET,
            "/imports/jobs/{id}",
            "/imports/jobs/1",
            None,
            [303, 403, 403, 403, 403, 404, 200, 403, 404, 200],
        ),
        row(
            M::GET,
            "/imports/batches/{id}",
            "/imports/batches/1",
            None,
            [303, 403, 403, 403, 403, 200, 200, 403, 404, 200],
        ),
        // Everyone has an inbox, a client too; another's notification is not there.
        row(
            M::GET,
            "/inbox",
            "/inbox",
            None,
            [303, 200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        row(M::POST, "/inbox/read", "/inbox/read", None, all(303)),
        row(
            M::POST,
            "/inbox/{id}/read",
            "/inbox/999/read",
            None,
            [303, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        row(
            M::GET,
            "/api/v1/inbox",
            "/api/v1/inbox",
            None,
            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        row(
            M::POST,
            "/api/v1/inbox/{id}/read",
            "/api/v1/inbox/999/read",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        row(M::GET, "/quality", "/quality", None, pages),
        row(
            M::POST,
            "/quality/forms/start",
            "/quality/forms/start",
            None,
            [303, 403, 403, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::POST,
            "/quality/forms/{id}/questions",
            "/quality/forms/999/questions",
            None,
            [303, 403, 403, 404, 403, 403, 403, 403, 404, 404],
        ),
        row(
            M::POST,
            "/quality/forms/{id}/questions/{key}/remove",
            "/quality/forms/999/questions/a/remove",
            None,
            [303, 403, 403, 404, 403, 403, 403, 403, 404, 404],
        ),
        row(
            M::POST,
            "/quality/sample",
            "/quality/sample",
            None,
            [303, 403, 422, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::POST,
            "/quality/quotas",
            "/quality/quotas",
            None,
            [303, 403, 403, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::POST,
            "/api/v1/quality/samples",
            "/api/v1/quality/samples",
            Some(json!({ "from": "2026-08-01", "to": "2026-08-31", "size": 0 })),
            [401, 403, 422, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::GET,
            "/api/v1/quality/queue",
            "/api/v1/quality/queue",
            None,
            evaluator_reads,
        ),
        row(
            M::GET,
            "/api/v1/quality/quotas",
            "/api/v1/quality/quotas",
            None,
            evaluator_reads,
        ),
        row(
            M::POST,
            "/api/v1/quality/quotas",
            "/api/v1/quality/quotas",
            Some(json!({ "kind": "x", "subject": "a", "period": "week", "evaluations": 1 })),
            [401, 403, 403, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::GET,
            "/quality/insights",
            "/quality/insights",
            None,
            [303, 403, 200, 200, 200, 403, 200, 403, 404, 200],
        ),
        row(
            M::GET,
            "/api/v1/quality/insights",
            "/api/v1/quality/insights?from=2026-08-01&to=2026-08-31",
            None,
            [401, 403, 200, 200, 200, 403, 200, 403, 404, 200],
        ),
        row(
            M::POST,
            "/quality/forms",
            "/quality/forms",
            None,
            [303, 403, 403, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::GET,
            "/quality/forms/{id}",
            "/quality/forms/999",
            None,
            [303, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        row(
            M::POST,
            "/quality/forms/{id}/versions",
            "/quality/forms/999/versions",
            None,
            [303, 403, 403, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::POST,
            "/quality/forms/{id}/retire",
            "/quality/forms/999/retire",
            None,
            [303, 403, 403, 404, 403, 403, 403, 403, 404, 404],
        ),
        row(
            M::GET,
            "/quality/evaluate",
            "/quality/evaluate?source_system=test&source_id=c-a1",
            None,
            page_scoring,
        ),
        row(
            M::POST,
            "/quality/evaluations",
            "/quality/evaluations",
            None,
            page_scoring,
        ),
        row(
            M::GET,
            "/quality/evaluations/{id}",
            "/quality/evaluations/999",
            None,
            [303, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        row(
            M::POST,
            "/quality/evaluations/{id}/versions",
            "/quality/evaluations/999/versions",
            None,
            page_evaluator_writes,
        ),
        row(
            M::POST,
            "/quality/evaluations/{id}/release",
            "/quality/evaluations/999/release",
            None,
            page_evaluator_writes,
        ),
        row(
            M::POST,
            "/quality/evaluations/{id}/acknowledge",
            "/quality/evaluations/999/acknowledge",
            None,
            page_agent_writes,
        ),
        row(
            M::POST,
            "/quality/evaluations/{id}/disputes",
            "/quality/evaluations/999/disputes",
            None,
            page_agent_writes,
        ),
        row(
            M::POST,
            "/quality/disputes/{id}/decision",
            "/quality/disputes/999/decision",
            None,
            page_evaluator_writes,
        ),
        row(
            M::POST,
            "/quality/calibration",
            "/quality/calibration",
            None,
            [303, 403, 403, 404, 403, 403, 403, 403, 404, 404],
        ),
        row(
            M::GET,
            "/quality/calibration/{id}",
            "/quality/calibration/999",
            None,
            page_evaluator_writes,
        ),
        // Quality: nothing stored yet, so reads of a record are 404 and
        // writes the role may make are refused for their input (422/404).
        row(
            M::GET,
            "/api/v1/quality/forms",
            "/api/v1/quality/forms",
            None,
            readers,
        ),
        row(
            M::POST,
            "/api/v1/quality/forms",
            "/api/v1/quality/forms",
            Some(json!({ "text": "not a form [" })),
            [401, 403, 403, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::GET,
            "/api/v1/quality/forms/{id}",
            "/api/v1/quality/forms/999",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        row(
            M::POST,
            "/api/v1/quality/forms/{id}/versions",
            "/api/v1/quality/forms/999/versions",
            Some(json!({ "text": "not a form [" })),
            [401, 403, 403, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::POST,
            "/api/v1/quality/forms/{id}/retire",
            "/api/v1/quality/forms/999/retire",
            None,
            [401, 403, 403, 404, 403, 403, 403, 403, 404, 404],
        ),
        row(
            M::GET,
            "/api/v1/quality/evaluations",
            "/api/v1/quality/evaluations",
            None,
            readers,
        ),
        // The agent's own contact: a self-assessment; no form 999.
        row(
            M::POST,
            "/api/v1/quality/evaluations",
            "/api/v1/quality/evaluations",
            Some(
                json!({ "source_system": "test", "contact_source_id": "c-a1", "form_id": 999,
                         "method": "recording", "answers": {} }),
            ),
            [401, 404, 404, 404, 403, 403, 403, 403, 404, 404],
        ),
        row(
            M::GET,
            "/api/v1/quality/evaluations/{id}",
            "/api/v1/quality/evaluations/999",
            None,
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        row(
            M::POST,
            "/api/v1/quality/evaluations/{id}/versions",
            "/api/v1/quality/evaluations/999/versions",
            Some(json!({ "answers": {}, "reason": "recheck" })),
            evaluator_writes,
        ),
        row(
            M::POST,
            "/api/v1/quality/evaluations/{id}/release",
            "/api/v1/quality/evaluations/999/release",
            None,
            evaluator_writes,
        ),
        row(
            M::POST,
            "/api/v1/quality/evaluations/{id}/acknowledge",
            "/api/v1/quality/evaluations/999/acknowledge",
            None,
            agent_writes,
        ),
        row(
            M::POST,
            "/api/v1/quality/evaluations/{id}/disputes",
            "/api/v1/quality/evaluations/999/disputes",
            Some(json!({ "questions": ["a"], "comment": "I did" })),
            agent_writes,
        ),
        row(
            M::POST,
            "/api/v1/quality/disputes/{id}/decision",
            "/api/v1/quality/disputes/999/decision",
            Some(json!({ "decision": "rejected", "reason": "heard it" })),
            evaluator_writes,
        ),
        row(
            M::GET,
            "/api/v1/quality/unacknowledged",
            "/api/v1/quality/unacknowledged",
            None,
            evaluator_reads,
        ),
        row(
            M::GET,
            "/api/v1/quality/calibration",
            "/api/v1/quality/calibration",
            None,
            evaluator_reads,
        ),
        row(
            M::POST,
            "/api/v1/quality/calibration",
            "/api/v1/quality/calibration",
            Some(json!({ "name": " ", "form_id": 999, "contacts": [], "evaluators": [] })),
            [401, 403, 403, 422, 403, 403, 403, 403, 404, 422],
        ),
        row(
            M::GET,
            "/api/v1/quality/calibration/{id}",
            "/api/v1/quality/calibration/999",
            None,
            evaluator_writes,
        ),
        row(M::GET, "/pay", "/pay", None, pages),
        row(M::POST, "/pay/plans", "/pay/plans", None, page_plan_writes),
        row(
            M::GET,
            "/pay/plans/{id}",
            "/pay/plans/999",
            None,
            page_none_stored,
        ),
        row(
            M::POST,
            "/pay/plans/{id}/versions",
            "/pay/plans/999/versions",
            None,
            page_plan_writes,
        ),
        row(
            M::POST,
            "/pay/plans/{id}/shadow",
            "/pay/plans/999/shadow",
            None,
            page_none_stored,
        ),
        row(M::POST, "/pay/runs", "/pay/runs", None, page_pay_writes),
        row(
            M::GET,
            "/pay/runs/{id}",
            "/pay/runs/999",
            None,
            page_none_stored,
        ),
        row(
            M::POST,
            "/pay/runs/{id}/review",
            "/pay/runs/999/review",
            None,
            [303, 403, 404, 403, 403, 403, 403, 404, 404, 403],
        ),
        row(
            M::POST,
            "/pay/runs/{id}/approve",
            "/pay/runs/999/approve",
            None,
            page_pay_writes,
        ),
        row(
            M::GET,
            "/pay/runs/{id}/payroll.csv",
            "/pay/runs/999/payroll.csv",
            None,
            page_pay_writes,
        ),
        row(
            M::POST,
            "/pay/runs/{id}/adjustments",
            "/pay/runs/999/adjustments",
            None,
            page_pay_writes,
        ),
        row(
            M::GET,
            "/pay/runs/{id}/statements/{agent}",
            "/pay/runs/999/statements/a1",
            None,
            page_none_stored,
        ),
        row(
            M::GET,
            "/pay/runs/{id}/statements/{agent}/pdf",
            "/pay/runs/999/statements/a1/pdf",
            None,
            page_none_stored,
        ),
        row(
            M::POST,
            "/pay/runs/{id}/disputes",
            "/pay/runs/999/disputes",
            None,
            page_agent_writes,
        ),
        row(
            M::POST,
            "/pay/disputes/{id}/decision",
            "/pay/disputes/999/decision",
            None,
            page_pay_writes,
        ),
        // Pay: nothing stored yet. Another agent's pay is the compensation
        // admin's and the team lead's (their team) only: not the administrator's.
        row(
            M::GET,
            "/api/v1/pay/plans",
            "/api/v1/pay/plans",
            None,
            readers,
        ),
        row(
            M::POST,
            "/api/v1/pay/plans",
            "/api/v1/pay/plans",
            Some(json!({ "text": "not a plan [", "effective_from": "2030-01-01" })),
            plan_writes,
        ),
        row(
            M::GET,
            "/api/v1/pay/plans/{id}",
            "/api/v1/pay/plans/999",
            None,
            none_stored,
        ),
        row(
            M::POST,
            "/api/v1/pay/plans/{id}/versions",
            "/api/v1/pay/plans/999/versions",
            Some(json!({ "text": "not a plan [", "effective_from": "2030-01-01" })),
            plan_writes,
        ),
        row(
            M::POST,
            "/api/v1/pay/plans/{id}/shadow",
            "/api/v1/pay/plans/999/shadow",
            Some(json!({ "text": "not a plan [", "from": "2026-08-01", "to": "2026-08-31" })),
            [401, 403, 403, 403, 403, 403, 403, 422, 404, 403],
        ),
        row(
            M::GET,
            "/api/v1/pay/runs",
            "/api/v1/pay/runs",
            None,
            [401, 404, 200, 404, 404, 404, 404, 200, 404, 404],
        ),
        row(
            M::POST,
            "/api/v1/pay/runs",
            "/api/v1/pay/runs",
            Some(json!({ "plan_id": 999, "day": "2026-08-01" })),
            pay_writes,
        ),
        row(
            M::GET,
            "/api/v1/pay/runs/{id}",
            "/api/v1/pay/runs/999",
            None,
            none_stored,
        ),
        row(
            M::POST,
            "/api/v1/pay/runs/{id}/review",
            "/api/v1/pay/runs/999/review",
            None,
            [401, 403, 404, 403, 403, 403, 403, 404, 404, 403],
        ),
        row(
            M::POST,
            "/api/v1/pay/runs/{id}/approve",
            "/api/v1/pay/runs/999/approve",
            None,
            pay_writes,
        ),
        row(
            M::GET,
            "/api/v1/pay/runs/{id}/payroll",
            "/api/v1/pay/runs/999/payroll",
            None,
            pay_writes,
        ),
        row(
            M::GET,
            "/api/v1/pay/runs/{id}/summary",
            "/api/v1/pay/runs/999/summary",
            None,
            none_stored,
        ),
        row(
            M::GET,
            "/api/v1/pay/runs/{id}/statements/{agent}",
            "/api/v1/pay/runs/999/statements/a1",
            None,
            none_stored,
        ),
        row(
            M::POST,
            "/api/v1/pay/runs/{id}/disputes",
            "/api/v1/pay/runs/999/disputes",
            Some(json!({ "comment": "not my calls" })),
            agent_writes,
        ),
        row(
            M::GET,
            "/api/v1/pay/disputes",
            "/api/v1/pay/disputes",
            None,
            [401, 404, 404, 404, 404, 404, 404, 200, 404, 404],
        ),
        row(
            M::POST,
            "/api/v1/pay/disputes/{id}/decision",
            "/api/v1/pay/disputes/999/decision",
            Some(json!({ "decision": "rejected", "reason": "checked the calls" })),
            pay_writes,
        ),
        row(
            M::POST,
            "/api/v1/pay/adjustments",
            "/api/v1/pay/adjustments",
            Some(json!({ "plan_id": 999, "agent_id": "a1", "amount": "1.00",
                         "reason_code": "other", "note": "x" })),
            pay_writes,
        ),
        row(M::GET, "/api/v1/pay/me", "/api/v1/pay/me", None, readers),
        row(
            M::POST,
            "/definitions/{name}/versions",
            "/definitions/aht/versions",
            None,
            [303, 403, 403, 403, 403, 403, 303, 403, 404, 303],
        ),
        row(M::POST, "/sign-in", "/sign-in", None, all(401)),
        row(M::POST, "/sign-out", "/sign-out", None, all(303)),
    ]
}

async fn request(browser: &mut Browser, row: &Row, username: &str) -> StatusCode {
    match (&row.method, row.path) {
        (&Method::POST, "/sign-in") => browser.sign_in(username, "not the password").await.status,
        (&Method::POST, "/account/password") => {
            let form = "current_password=wrong-password&new_password=long+enough+password";
            browser.post_form(row.path, form).await.status
        }
        (&Method::POST, "/sign-out") => browser.post_form(row.path, "").await.status,
        (&Method::POST, "/definitions/aht/versions") => {
            // Each role that may save one saves its own day's version.
            let day = if username == "admin" { "02" } else { "01" };
            let form = format!("options=%7B%7D&effective_from=2030-01-{day}&reason=");
            browser.post_form(row.path, &form).await.status
        }
        (&Method::POST, "/imports") => {
            let org = "record,id,name,site_id,time_zone\nsite,s8,Eighth,,UTC\n";
            let form = format!(
                "--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\norg\r\n\
                 --X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"org.csv\"\r\n\r\n{org}\r\n--X--\r\n"
            );
            let request = Request::post(row.path)
                .header("sec-fetch-site", "same-origin")
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=X")
                .body(Body::from(form))
                .unwrap();
            browser.send(request).await.status
        }
        (&Method::POST, path) if path.starts_with("/quality") => {
            // Enough for each form to reach its check; no form 999 exists.
            let form = "text=x&reason=x&comment=x&name=x&form_id=999&decision=rejected\
                        &source_system=test&source_id=c-a1&method=recording\
                        &contacts=test%2Fc-a1&evaluators=qa+admin&question=a";
            browser.post_form(path, form).await.status
        }
        (&Method::POST, path) if path.starts_with("/pay") => {
            // Enough for each form to reach its check; no plan or run 999 exists.
            let form = "text=x&effective_from=2030-01-01&reason=x&plan_id=999&day=2026-08-01\
                        &from=2026-08-01&to=2026-08-31&comment=x&decision=rejected&agent_id=a1\
                        &amount=1.00&reason_code=other&note=x";
            browser.post_form(path, form).await.status
        }
        (&Method::POST, path) if path.starts_with("/api/v1/imports") => {
            let org = "record,id,name,site_id,time_zone\nsite,s9,Ninth,,UTC\n";
            let request = Request::post(path)
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(org))
                .unwrap();
            browser.send(request).await.status
        }
        _ => {
            browser
                .json(row.method.clone(), row.path, row.body.clone())
                .await
                .status
        }
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_matrix_says() {
    let matrix = matrix();
    // The matrix has a row for every route: the pages' table and the API's document.
    let rows: BTreeSet<(String, String)> = matrix
        .iter()
        .map(|r| (r.method.to_string(), r.route.to_owned()))
        .collect();
    let mut routes: BTreeSet<(String, String)> = merit_web::page_routes()
        .into_iter()
        .map(|(method, path, _)| (method.to_string(), path.to_owned()))
        .collect();
    routes.insert(("GET".into(), merit_web::OPENAPI_PATH.into()));
    let (_, openapi) = merit_web::api_routes();
    for (path, item) in &openapi.paths.paths {
        for (method, present) in [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ] {
            if present {
                routes.insert((method.into(), path.clone()));
            }
        }
    }
    assert_eq!(
        rows, routes,
        "a route without a row, or a row without a route"
    );

    for store in stores::stores("access_matrix").await {
        let clock = Arc::new(TestClock::default());
        add_users(&store, clock.as_ref()).await;
        support::add_organisation(&store).await;
        let cli = merit_service::access::Caller::command_line(merit_domain::DEFAULT_TENANT);
        merit_service::access::create_token(
            &store,
            clock.as_ref(),
            &cli,
            "to revoke",
            merit_domain::access::Role::OperationsManager,
            merit_domain::access::Scope::Centre,
            None,
        )
        .await
        .unwrap();
        let mut failures = Vec::new();
        for (column, username) in std::iter::once("").chain(ROLES).enumerate() {
            // Each role at its own moment: records keyed on the time they were made stay apart.
            clock.advance_s(1);
            let mut browser = Browser::new(app(&store, clock.clone()));
            if !username.is_empty() {
                assert_eq!(
                    browser.sign_in(username, PASSWORD).await.status,
                    StatusCode::SEE_OTHER
                );
            }
            for row in &matrix {
                let got = request(&mut browser, row, username).await;
                if got.as_u16() != row.expected[column] {
                    failures.push(format!(
                        "{} {} as {}: expected {}, got {}",
                        row.method,
                        row.path,
                        if username.is_empty() {
                            "anonymous"
                        } else {
                            username
                        },
                        row.expected[column],
                        got
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

#[tokio::test]
async fn the_api_reference_page_lists_every_documented_route() {
    let store = stores::stores("api_docs").await.remove(0);
    let mut browser = Browser::new(app(&store, Arc::default()));
    let page = browser.get("/api/docs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!support::has_inline_script_or_style(&page.body));
    let (_, openapi) = merit_web::api_routes();
    for path in openapi.paths.paths.keys() {
        // minijinja escapes "/" in HTML.
        assert!(page.body.contains(&path.replace('/', "&#x2f;")), "{path}");
    }
    assert!(page.body.contains("PATCH"));
}

#[tokio::test]
async fn anonymous_api_calls_get_401_with_the_error_body() {
    let store = stores::stores("anonymous").await.remove(0);
    let mut browser = Browser::new(app(&store, Arc::default()));
    let answer = browser.get("/api/v1/me").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    // The bodies, as they are sent.
    assert_eq!(
        answer.body,
        r#"{"error":{"code":"unauthenticated","message":"sign in, or send an API token as Authorization: Bearer <token>"}}"#
    );
    assert_eq!(
        browser.get("/api/v1/no-such-route").await.body,
        r#"{"error":{"code":"not_found","message":"no such resource"}}"#
    );
    let answer = browser.get("/").await;
    assert_eq!(
        (answer.status, answer.location()),
        (StatusCode::SEE_OTHER, Some("/sign-in"))
    );
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_sign_out_and_password_changes_end_it() {
    for store in stores::stores("sessions").await {
        let clock = Arc::new(TestClock::default());
        add_users(&store, clock.as_ref()).await;
        let mut first = Browser::new(app(&store, clock.clone()));
        // A session id chosen by someone else (fixation) is never used: sign-in makes its own.
        first.cookie = Some("merit_session=chosen-by-an-attacker".into());
        assert_eq!(
            first.sign_in("qa", "wrong password").await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            first.sign_in("qa", PASSWORD).await.status,
            StatusCode::SEE_OTHER
        );
        let cookie = first.cookie.clone().unwrap();
        assert!(
            cookie.starts_with("merit_session=") && !cookie.contains("attacker"),
            "{cookie}"
        );
        assert_eq!(
            first.get("/api/v1/me").await.json()["role"],
            "qa_specialist"
        );
        // Sign-out ends the session; the old cookie no longer works.
        let ended = first.cookie.clone();
        first.post_form("/sign-out", "").await;
        let mut replay = Browser::new(app(&store, clock.clone()));
        replay.cookie = ended;
        assert_eq!(
            replay.get("/api/v1/me").await.status,
            StatusCode::UNAUTHORIZED
        );

        // A password change ends the user's other sessions.
        let mut laptop = Browser::new(app(&store, clock.clone()));
        let mut phone = Browser::new(app(&store, clock.clone()));
        laptop.sign_in("trainer", PASSWORD).await;
        phone.sign_in("trainer", PASSWORD).await;
        let short = laptop
            .post_form(
                "/account/password",
                &format!(
                    "current_password={}&new_password=short",
                    PASSWORD.replace(' ', "+")
                ),
            )
            .await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            short.body.contains("at least 10 characters"),
            "{}",
            short.body
        );
        let changed = laptop
            .post_form(
                "/account/password",
                &format!(
                    "current_password={}&new_password=a+much+longer+secret",
                    PASSWORD.replace(' ', "+")
                ),
            )
            .await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER);
        assert_eq!(
            phone.get("/api/v1/me").await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            phone.sign_in("trainer", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            phone
                .sign_in("trainer", "a much longer secret")
                .await
                .status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn repeated_sign_in_attempts_lock_the_account_until_the_allowance_refills() {
    let store = stores::stores("rate_limit").await.remove(0);
    let clock = Arc::new(TestClock::default());
    add_users(&store, clock.as_ref()).await;
    let mut browser = Browser::new(app(&store, clock.clone()));
    for _ in 0..5 {
        assert_eq!(
            browser.sign_in("admin", "guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked: even the right password is refused, saying for how long.
    let locked = browser.sign_in("admin", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        locked.body.contains("Try again in 60 seconds"),
        "{}",
        locked.body
    );
    // Another account from elsewhere is not affected by this account's lock.
    assert_eq!(
        browser.sign_in("qa", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    // A minute later one more attempt is allowed.
    clock.advance_s(60);
    assert_eq!(
        browser.sign_in("admin", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_post_from_another_site_changes_nothing() {
    let store = stores::stores("cross_site").await.remove(0);
    let clock = Arc::new(TestClock::default());
    add_users(&store, clock.as_ref()).await;
    let mut browser = Browser::new(app(&store, clock.clone()));
    browser.sign_in("admin", PASSWORD).await;
    let body = json!({"username": "mallory", "password": PASSWORD, "role": "administrator", "scope": "centre"});
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let request = Request::post("/api/v1/users")
            .header(header::HOST, "merit.example")
            .header(header::CONTENT_TYPE, "application/json")
            .header(name, value)
            .body(Body::from(body.to_string()))
            .unwrap();
        let answer = browser.send(request).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{name}");
        assert_eq!(answer.json()["error"]["code"], "cross_site_request");
    }
    let users = browser.get("/api/v1/users").await.json();
    assert!(
        !users["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "mallory")
    );
    // The same origin is fine.
    let request = Request::post("/api/v1/users")
        .header(header::HOST, "merit.example")
        .header(header::ORIGIN, "https://merit.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    assert_eq!(browser.send(request).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn every_api_failure_has_the_same_body() {
    let store = stores::stores("errors").await.remove(0);
    let clock = Arc::new(TestClock::default());
    add_users(&store, clock.as_ref()).await;
    let mut browser = Browser::new(app(&store, clock.clone()));
    browser.sign_in("admin", PASSWORD).await;
    let post = |content_type: Option<&str>, body: String| {
        let mut builder = Request::post("/api/v1/users").header("sec-fetch-site", "same-origin");
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        builder.body(Body::from(body)).unwrap()
    };
    let cases = [
        (Request::get("/api/v1/nothing-here").body(Body::empty()).unwrap(), 404, "not_found"),
        (
            Request::delete("/api/v1/me").header("sec-fetch-site", "same-origin").body(Body::empty()).unwrap(),
            405,
            "method_not_allowed",
        ),
        (post(Some("text/plain"), "{}".into()), 415, "unsupported_media_type"),
        (post(Some("application/json"), "{not json".into()), 400, "invalid_json"),
        (post(Some("application/json"), r#"{"username": 7}"#.into()), 422, "invalid_body"),
        (
            post(Some("application/json"), json!({"username": "x", "password": "p", "role": "r", "scope": "centre", "extra": 1}).to_string()),
            422,
            "invalid_body",
        ),
        (
            post(Some("application/json"), json!({"username": "x", "password": "short", "role": "trainer", "scope": "centre"}).to_string()),
            422,
            "invalid",
        ),
        (
            post(Some("application/json"), format!("{{\"username\": \"{}\"}}", "x".repeat(merit_web::MAX_BODY_BYTES))),
            413,
            "body_too_large",
        ),
        (Request::get("/api/v1/users?limit=100000").body(Body::empty()).unwrap(), 400, "invalid_query"),
        (
            Request::get("/api/v1/reports/kpi?from=0001-01-01&to=9999-12-31").body(Body::empty()).unwrap(),
            422,
            "invalid",
        ),
        (Request::get("/api/v1/audit?from_ms=yesterday").body(Body::empty()).unwrap(), 400, "invalid_query"),
    ];
    for (request, status, code) in cases {
        let described = format!("{} {}", request.method(), request.uri());
        let answer = browser.send(request).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{described}: {}",
            answer.body
        );
        let body = answer.json();
        assert_eq!(body["error"]["code"], code, "{described}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(body.as_object().unwrap().len(), 1, "only the error");
    }
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_and_revocable() {
    for store in stores::stores("tokens").await {
        let clock = Arc::new(TestClock::default());
        add_users(&store, clock.as_ref()).await;
        let mut admin = Browser::new(app(&store, clock.clone()));
        admin.sign_in("admin", PASSWORD).await;
        let created = admin
            .json(
                Method::POST,
                "/api/v1/tokens",
                Some(json!({"name": "wallboard", "role": "operations_manager", "scope": "centre"})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let token = created.json()["token"].as_str().unwrap().to_owned();
        let id = created.json()["details"]["id"].as_i64().unwrap();
        clock.advance_s(10);
        let mut system = Browser::new(app(&store, clock.clone()));
        let with_token = |path: &str| {
            Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap()
        };
        let me = system.send(with_token("/api/v1/me")).await.json();
        assert_eq!(
            (me["name"].as_str(), me["role"].as_str()),
            (Some("token:wallboard"), Some("operations_manager"))
        );
        // The list never shows the token; it shows when it was last used.
        let listed = admin.get("/api/v1/tokens").await;
        assert!(!listed.body.contains(&token));
        assert_eq!(listed.json()["items"][0]["last_used_ms"], 10_000);
        let revoked = admin
            .json(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
            .await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT);
        assert_eq!(
            system.send(with_token("/api/v1/me")).await.status,
            StatusCode::UNAUTHORIZED
        );
        let wrong = Request::get("/api/v1/me")
            .header(header::AUTHORIZATION, "Bearer merit_0000")
            .body(Body::empty())
            .unwrap();
        assert_eq!(system.send(wrong).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn user_changes_are_audited_and_the_audit_log_cannot_be_changed() {
    for store in stores::stores("audit_api").await {
        let clock = Arc::new(TestClock::default());
        add_users(&store, clock.as_ref()).await;
        let mut admin = Browser::new(app(&store, clock.clone()));
        admin.sign_in("admin", PASSWORD).await;
        clock.advance_s(5);
        let changed = admin
            .json(
                Method::PATCH,
                "/api/v1/users/lead",
                Some(json!({"role": "team_lead", "scope": "team:t2"})),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        let entries = admin
            .get("/api/v1/audit?actor=admin&action=user.set_role")
            .await
            .json();
        let items = entries["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["before"]["scope"], "team:t1");
        assert_eq!(items[0]["after"]["scope"], "team:t2");
        assert_eq!(items[0]["at_ms"], 5_000);
        // The administration page shows the same entry under the same filter.
        let page = admin.get("/admin?actor=admin&action=user.set_role").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("<td>user.set_role</td><td>user")
                && page.body.contains("1 entries shown"),
            "{}",
            page.body
        );
        // Nine users were created by the command line, before the clock moved.
        let created = admin
            .get("/api/v1/audit?action=user.create&to_ms=1")
            .await
            .json();
        assert_eq!(created["total"], 9);
        // Every list exports as CSV; a cell a spreadsheet would run is neutralised.
        let sneaky = json!({"username": "eve", "display_name": "=HYPERLINK(\"http://x\")", "password": PASSWORD, "role": "trainer", "scope": "centre"});
        assert_eq!(
            admin
                .json(Method::POST, "/api/v1/users", Some(sneaky))
                .await
                .status,
            StatusCode::CREATED
        );
        let users = admin.get("/api/v1/users?format=csv").await;
        assert_eq!(
            users.headers[header::CONTENT_TYPE],
            "text/csv; charset=utf-8"
        );
        assert!(
            users
                .body
                .starts_with("agent_id,created_ms,disabled,display_name,id,role,scope,username\n"),
            "{}",
            users.body
        );
        assert!(
            users
                .body
                .contains(",\"'=HYPERLINK(\"\"http://x\"\")\",10,trainer,centre,eve"),
            "{}",
            users.body
        );
        assert_eq!(users.body.lines().count(), 1 + 10);
        let audit = admin
            .get("/api/v1/audit?format=csv&action=user.create")
            .await;
        assert_eq!(audit.body.lines().count(), 1 + 10, "{}", audit.body);
        // No interface changes or deletes an entry.
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let answer = admin
                .json(method.clone(), "/api/v1/audit", Some(json!({})))
                .await;
            assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        }
        for sql in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"] {
            assert!(store.execute_raw(sql).await.is_err(), "{sql}");
        }
        assert_eq!(admin.get("/api/v1/audit").await.json()["total"], 11);
    }
}

mod no_input_gives_a_5xx {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn query_strings_and_json_bodies(query in "[ -~]{0,40}", body in "[ -~]{0,80}") {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let store = merit_store::Store::open(":memory:").await.unwrap();
                store.migrate().await.unwrap();
                let clock = Arc::new(TestClock::default());
                add_users(&store, clock.as_ref()).await;
                let mut admin = Browser::new(app(&store, clock.clone()));
                admin.sign_in("admin", PASSWORD).await;
                let query: String = query.chars().filter(|c| !c.is_whitespace() && *c != '#').collect();
                for path in [
                    "/api/v1/audit",
                    "/api/v1/users",
                    "/api/v1/tokens",
                    "/api/v1/imports",
                    "/api/v1/reports/kpi",
                    "/api/v1/reports/contacts",
                    "/performance",
                    "/team",
                    "/drill",
                    "/agents/a1",
                    "/definitions/service_level",
                    "/operations",
                ] {
                    let uri = format!("{path}?{query}");
                    if let Ok(request) = Request::get(uri.as_str()).body(Body::empty()) {
                        let answer = admin.send(request).await;
                        assert!(answer.status.as_u16() < 500, "{uri}: {}", answer.body);
                    }
                }
                for (method, path) in [
                    (Method::POST, "/api/v1/users"),
                    (Method::POST, "/api/v1/tokens"),
                    (Method::PATCH, "/api/v1/users/qa"),
                    (Method::POST, "/api/v1/targets"),
                    (Method::POST, "/api/v1/definitions/service_level/versions"),
                    (Method::POST, "/api/v1/definitions/service_level/preview"),
                    (Method::PUT, "/api/v1/mappings/m"),
                ] {
                    let request = Request::builder()
                        .method(method)
                        .uri(path)
                        .header(header::CONTENT_TYPE, "application/json")
                        .header("sec-fetch-site", "same-origin")
                        .body(Body::from(body.clone()))
                        .unwrap();
                    let answer = admin.send(request).await;
                    assert!(answer.status.as_u16() < 500, "{path} {body}: {}", answer.body);
                }
            });
        }
    }
}
