//! Pay for performance through the API, on every backend: a plan published
//! as a version, a month run into statements whose every figure is
//! computed by hand below, review by the team lead, approval, an approved
//! run that never changes, payroll CSV that sums to the statements, a pay
//! dispute paid as an adjustment, late data paid in the next period, and a
//! shadow plan's winners and losers.

#[path = "../../merit-service/tests/stores/mod.rs"]
mod stores;
mod support;

use axum::http::{Method, StatusCode};
use merit_domain::DEFAULT_TENANT;
use merit_domain::activity::{Absence, AbsenceKind};
use merit_domain::contact::{Contact, Outcome, Transfer};
use merit_domain::organisation::{
    Agent, Channel, EmploymentEndReason, OrganisationRecord, Site, Team, TeamMembership,
};
use merit_store::{ImportTx, RecordKind, Row, Store};
use serde_json::{Value, json};
use std::sync::Arc;
use support::{Browser, PASSWORD, TestClock, add_users, app, finish};

/// 2026-09-20 09:00 UTC: August is over.
const NOW_MS: i64 = 1_789_894_800_000;
/// 2026-08-04 08:00 UTC (10:00 in Berlin), a Tuesday.
const AUG_4_MS: i64 = 1_785_830_400_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Service level (20 s) and AHT, half each, on SPEC.md's default curve;
/// no bonus when more than 10 % of handled contacts are transferred.
const PLAN: &str = r#"
name = "Test plan"
frequency = "monthly"
currency = "EUR"
base = "100.00"
cap = "300.00"

[[kpis]]
definition = "service_level"
target = "80"
weight = "0.5"

[[kpis]]
definition = "aht"
target = "300"
weight = "0.5"

[[gates]]
definition = "transfer_rate"
at_most = "10"
"#;

fn contact(id: String, agent: &str, arrival_ms: i64, wait_s: i64, talk_s: i64) -> Contact {
    let answer_ms = arrival_ms + wait_s * 1000;
    Contact {
        agent_id: Some(agent.into()),
        queue_id: Some("q1".into()),
        queue_entry_ms: Some(arrival_ms),
        answer_ms: Some(answer_ms),
        end_ms: answer_ms + talk_s * 1000,
        ..Contact::arriving("test", id, Channel::VoiceInbound, arrival_ms)
    }
}

async fn import(store: &Store, kind: RecordKind, mut rows: Vec<Row>) {
    let mut tx = ImportTx::begin(store, DEFAULT_TENANT).await.unwrap();
    tx.write_chunk(kind, &mut rows).await.unwrap();
    finish(tx, "test").await;
}

/// a1 (team t1, absent on Monday 10 August) and a2 (team t2, left on
/// Friday 14 August); August 2026 has 21 working days.
async fn centre(store: &Store) {
    let hired = jiff::civil::date(2026, 1, 1);
    let mut records = vec![OrganisationRecord::Site(Site {
        id: "s1".into(),
        name: "Site".into(),
        time_zone: "Europe/Berlin".into(),
    })];
    for (team, agent, end) in [
        ("t1", "a1", None),
        ("t2", "a2", Some(jiff::civil::date(2026, 8, 14))),
    ] {
        records.push(OrganisationRecord::Team(Team {
            id: team.into(),
            name: team.into(),
            site_id: "s1".into(),
        }));
        records.push(OrganisationRecord::Agent(Agent {
            id: agent.into(),
            name: format!("Agent {agent}"),
            site_id: "s1".into(),
            hire_date: hired,
            employment_end_date: end,
            employment_end_reason: end.map(|_| EmploymentEndReason::Voluntary),
        }));
        records.push(OrganisationRecord::Membership(TeamMembership {
            agent_id: agent.into(),
            team_id: team.into(),
            from_date: hired,
            to_date: None,
        }));
    }
    let mut tx = ImportTx::begin(store, DEFAULT_TENANT).await.unwrap();
    tx.write_organisation(&records).await.unwrap();
    finish(tx, "org").await;
    merit_service::centre::configure_centre(
        store,
        &merit_service::FixedClock(0),
        DEFAULT_TENANT,
        "test",
        "Test centre",
        "Europe/Berlin",
    )
    .await
    .unwrap();
    // a1: ten handled calls of 240 s, nine answered within 20 s, one after
    // 30 s; and one call the system dropped after 600 s, with a transfer.
    let mut contacts: Vec<Contact> = (0..10)
        .map(|i| {
            let wait_s = if i == 9 { 30 } else { 10 };
            contact(
                format!("a1-{i}"),
                "a1",
                AUG_4_MS + i * HOUR_MS / 2,
                wait_s,
                240,
            )
        })
        .collect();
    let mut dropped = contact("a1-drop".into(), "a1", AUG_4_MS + 6 * HOUR_MS, 5, 600);
    dropped.outcome = Outcome::SystemDrop;
    dropped.transfers.push(Transfer {
        at_ms: dropped.end_ms - 1000,
        target: "q2".into(),
    });
    contacts.push(dropped);
    // a2: four handled calls of 300 s, all within 20 s.
    contacts.extend((0..4).map(|i| {
        contact(
            format!("a2-{i}"),
            "a2",
            AUG_4_MS + DAY_MS + i * HOUR_MS,
            5,
            300,
        )
    }));
    import(
        store,
        RecordKind::Contacts,
        contacts.into_iter().map(Row::from_contact).collect(),
    )
    .await;
    // Monday 10 August, 08:00 to 17:00 in Berlin.
    let absence = Absence {
        source_id: "abs-1".into(),
        agent_id: "a1".into(),
        start_ms: AUG_4_MS + 6 * DAY_MS - 2 * HOUR_MS,
        end_ms: AUG_4_MS + 6 * DAY_MS + 7 * HOUR_MS,
        kind: AbsenceKind::Unplanned,
        reason: "sick".into(),
    };
    import(
        store,
        RecordKind::Absences,
        vec![Row::from_absence("test", &absence)],
    )
    .await;
}

struct Pay {
    store: Store,
    clock: Arc<TestClock>,
}

impl Pay {
    async fn new(store: Store) -> Self {
        let clock = Arc::new(TestClock::default());
        clock.0.store(NOW_MS, std::sync::atomic::Ordering::SeqCst);
        add_users(&store, clock.as_ref()).await;
        centre(&store).await;
        Pay { store, clock }
    }

    async fn user(&self, name: &str) -> Browser {
        let mut browser = Browser::new(app(&self.store, self.clock.clone()));
        browser.sign_in(name, PASSWORD).await;
        browser
    }
}

/// Publishes a plan through the API; its id.
async fn published_plan(operations: &mut Browser, publish: Value) -> i64 {
    let published = operations
        .json(Method::POST, "/api/v1/pay/plans", Some(publish))
        .await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{:?}",
        published.body
    );
    published.json()["plan_id"].as_i64().unwrap()
}

fn amount(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn line_amount(statement: &Value, code: &str) -> Option<String> {
    statement["statement"]["lines"]
        .as_array()?
        .iter()
        .find(|l| l["code"] == code)
        .map(|l| amount(&l["amount"]))
}

/// A PDF rendered by poppler: the share of dark pixels of its first page
/// (pdftoppm, 50 dpi greyscale) and its text (pdftotext).
fn rendered(pdf: &[u8]) -> (f64, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("statement.pdf");
    std::fs::write(&file, pdf).unwrap();
    let page = dir.path().join("page");
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", "50", "-gray", "-singlefile"])
        .arg(&file)
        .arg(&page)
        .status()
        .expect("pdftoppm (Debian's poppler-utils, installed by `cargo xtask test`)");
    assert!(status.success());
    // A binary PGM: "P5\n<width> <height>\n255\n" and a byte per pixel.
    let image = std::fs::read(dir.path().join("page.pgm")).unwrap();
    let mut header = image.splitn(4, |b| *b == b'\n');
    assert_eq!(header.next(), Some(&b"P5"[..]));
    let (size, _, pixels) = (
        header.next().unwrap(),
        header.next(),
        header.next().unwrap(),
    );
    let size = String::from_utf8_lossy(size);
    let (w, h) = size.split_once(' ').unwrap();
    let (w, h): (usize, usize) = (w.parse().unwrap(), h.parse().unwrap());
    assert_eq!(pixels.len(), w * h);
    let dark = pixels.iter().filter(|p| **p < 128).count();
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap()
        .stdout;
    (
        dark as f64 / pixels.len() as f64,
        String::from_utf8_lossy(&text).into_owned(),
    )
}

#[tokio::test]
async fn a_month_is_run_reviewed_approved_exported_disputed_and_corrected() {
    for store in stores::stores("pay_month").await {
        let centre = Pay::new(store).await;
        let mut operations = centre.user("operations").await;
        let mut payroll = centre.user("payroll").await;
        let mut lead = centre.user("lead").await;
        let mut agent = centre.user("agent").await;

        // A plan effective before today needs a reason; a bad plan is
        // refused naming its line and field, and nothing is stored.
        let mut publish = json!({"text": PLAN, "effective_from": "2026-08-01"});
        let refused = operations
            .json(Method::POST, "/api/v1/pay/plans", Some(publish.clone()))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.json()["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("reason:")
        );
        let bad = PLAN.replace(
            "weight = \"0.5\"\n\n[[gates]]",
            "weight = \"0.4\"\n\n[[gates]]",
        );
        let refused = operations
            .json(
                Method::POST,
                "/api/v1/pay/plans",
                Some(json!({"text": bad, "effective_from": "2026-10-01"})),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let message = refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("line 8, kpis"), "{message}");
        assert!(message.contains("sum to 0.9"), "{message}");
        publish["reason"] = json!("the August programme, agreed with the works council");
        let plan_id = published_plan(&mut operations, publish).await;
        let plans = agent.json(Method::GET, "/api/v1/pay/plans", None).await;
        assert_eq!(plans.json().as_array().unwrap().len(), 1);

        // Only the compensation admin runs pay.
        let run_request = json!({"plan_id": plan_id, "day": "2026-08-15"});
        for user in [&mut operations, &mut lead, &mut agent] {
            let refused = user
                .json(Method::POST, "/api/v1/pay/runs", Some(run_request.clone()))
                .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
        }
        let run = payroll
            .json(Method::POST, "/api/v1/pay/runs", Some(run_request.clone()))
            .await;
        assert_eq!(run.status, StatusCode::CREATED, "{:?}", run.body);
        let run_id = run.json()["run_id"].as_i64().unwrap();
        let run_path = format!("/api/v1/pay/runs/{run_id}");

        // a1: service level 9 of 10 = 90 % → a = 1.125, f = 1 + 1.5 ×
        // 0.125 ÷ 0.2 = 1.9375; AHT 240 s → a = 300 ÷ 240 = 1.25, f =
        // 2.875. Score 0.5 × 1.9375 + 0.5 × 2.875 = 2.40625; bonus 100 ×
        // 2.40625 × 20 ÷ 21 working days (absent on the 10th) =
        // 229.1666… → 229.17. The dropped call is in neither figure, nor
        // in the transfer gate (0 of 10).
        let view = payroll.json(Method::GET, &run_path, None).await.json();
        assert_eq!(view["summary"]["period_from"], "2026-08-01");
        assert_eq!(view["summary"]["period_to"], "2026-08-31");
        let statements = view["statements"].as_array().unwrap();
        assert_eq!(statements.len(), 2);
        let a1 = &statements[0];
        assert_eq!(a1["agent_id"], "a1");
        let components = a1["statement"]["components"].as_array().unwrap();
        assert_eq!(components[0]["measure"]["numerator"], 9);
        assert_eq!(components[0]["measure"]["denominator"], 10);
        assert_eq!(amount(&components[0]["factor"]), "1.9375");
        assert_eq!(components[1]["measure"]["numerator"], 10 * 240_000);
        assert_eq!(components[1]["measure"]["denominator"], 10);
        assert_eq!(amount(&components[1]["attainment"]), "1.25");
        assert_eq!(a1["statement"]["gates"][0]["passed"], true);
        assert_eq!(a1["statement"]["system_drops"], 1);
        assert_eq!(a1["statement"]["proration"]["eligible_days"], 20);
        assert_eq!(a1["statement"]["proration"]["working_days"], 21);
        assert_eq!(line_amount(a1, "BONUS").as_deref(), Some("229.17"));
        // a2: service level 4 of 4 → a 1.25, f 2.875; AHT 300 → f 1; score
        // 1.9375; employed 10 of 21 working days: 193.75 × 10 ÷ 21 =
        // 92.2619… → 92.26.
        let a2 = &statements[1];
        assert_eq!(a2["statement"]["proration"]["eligible_days"], 10);
        assert_eq!(line_amount(a2, "BONUS").as_deref(), Some("92.26"));
        assert_eq!(amount(&view["summary"]["total"]), "321.43");

        // The lead of t1 sees and reviews a1's statement only; the run is
        // approved once every statement is reviewed.
        let seen = lead.json(Method::GET, &run_path, None).await.json();
        assert_eq!(seen["statements"].as_array().unwrap().len(), 1);
        assert_eq!(seen["statements"][0]["agent_id"], "a1");
        let refused = agent.json(Method::GET, &run_path, None).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        let reviewed = lead
            .json(Method::POST, &format!("{run_path}/review"), None)
            .await;
        assert_eq!(reviewed.json()["reviewed"], 1);
        let refused = lead
            .json(Method::POST, &format!("{run_path}/approve"), None)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let early = payroll
            .json(Method::POST, &format!("{run_path}/approve"), None)
            .await;
        assert_eq!(early.status, StatusCode::CONFLICT);
        assert_eq!(early.json()["error"]["code"], "not_reviewed");
        let draft_statement = agent
            .json(Method::GET, &format!("{run_path}/statements/a1"), None)
            .await;
        assert_eq!(draft_statement.status, StatusCode::NOT_FOUND);
        let reviewed = payroll
            .json(Method::POST, &format!("{run_path}/review"), None)
            .await;
        assert_eq!(reviewed.json()["reviewed"], 1);
        let approved = payroll
            .json(Method::POST, &format!("{run_path}/approve"), None)
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);

        // Approved is final: running the period again changes nothing.
        let before = payroll.json(Method::GET, &run_path, None).await.json();
        let again = payroll
            .json(Method::POST, "/api/v1/pay/runs", Some(run_request.clone()))
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.json()["error"]["code"], "run_approved");
        let after = payroll.json(Method::GET, &run_path, None).await.json();
        assert_eq!(before["statements"], after["statements"]);

        // Payroll: one line per agent per pay code, summing to the run.
        let csv = payroll
            .get(&format!("/api/v1/pay/runs/{run_id}/payroll"))
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let lines: Vec<(String, String, String, String)> = rows
            .iter()
            .map(|r| (r[0].into(), r[1].into(), r[2].into(), r[3].into()))
            .collect();
        assert_eq!(
            lines,
            [
                ("a1".into(), "BONUS".into(), "229.17".into(), "EUR".into()),
                ("a2".into(), "BONUS".into(), "92.26".into(), "EUR".into())
            ]
        );
        // The file sums to the statements to the cent.
        let cents: i64 = rows
            .iter()
            .map(|r| r[2].replace('.', "").parse::<i64>().unwrap())
            .sum();
        assert_eq!(cents, 22_917 + 9_226);
        let state = payroll.json(Method::GET, &run_path, None).await.json();
        assert_eq!(state["summary"]["state"], "exported");
        let finance = payroll
            .json(Method::GET, &format!("{run_path}/summary"), None)
            .await
            .json();
        assert_eq!(finance["handled_contacts"], 14);
        // 321.43 ÷ 14 = 22.959… → 22.96
        assert_eq!(amount(&finance["cost_per_contact"]), "22.96");

        // The statement as a PDF, rendered to an image and read back.
        let pdf = agent
            .get(&format!("/pay/runs/{run_id}/statements/a1/pdf"))
            .await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert!(pdf.bytes.starts_with(b"%PDF-"));
        let (pixels, text) = rendered(&pdf.bytes);
        assert!(pixels > 0.005, "the page is blank: {pixels}");
        for expected in ["Agent a1", "2026-08-01 to 2026-08-31", "229.17", "BONUS"] {
            assert!(text.contains(expected), "{expected:?} not in {text}");
        }
        let refused = lead
            .get(&format!("/pay/runs/{run_id}/statements/a2/pdf"))
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);

        // The agent reads the statement, disputes it once; the decision
        // pays 10.00 in the next run.
        let mine = agent.json(Method::GET, "/api/v1/pay/me", None).await.json();
        assert_eq!(mine["statements"][0]["run_id"], run_id);
        let disputed = agent
            .json(
                Method::POST,
                &format!("{run_path}/disputes"),
                Some(json!({"comment": "two calls on the 4th were not mine"})),
            )
            .await;
        assert_eq!(disputed.status, StatusCode::CREATED);
        let dispute_id = disputed.json()["id"].as_i64().unwrap();
        let second = agent
            .json(
                Method::POST,
                &format!("{run_path}/disputes"),
                Some(json!({"comment": "again"})),
            )
            .await;
        assert_eq!(second.json()["error"]["code"], "dispute_open");
        let decided = payroll
            .json(
                Method::POST,
                &format!("/api/v1/pay/disputes/{dispute_id}/decision"),
                Some(
                    json!({"decision": "accepted", "amount": "10.00", "reason": "misrouted calls"}),
                ),
            )
            .await;
        assert_eq!(decided.status, StatusCode::OK, "{:?}", decided.body);

        // Late data: a call of a1's on 4 August arrives after approval,
        // answered after 40 s. August now earns: service level 9 of 11 →
        // a = 81.8181… ÷ 80 = 1.022727…, f = 1 + 7.5 × 0.022727… =
        // 1.170454…; score 0.5 × (1.170454… + 2.875) = 2.022727…; × 100 ×
        // 20 ÷ 21 = 192.6406… → 192.64, paid 229.17: −36.53 in September,
        // with the dispute's 10.00 and no September bonus (no calls).
        import(
            &centre.store,
            RecordKind::Contacts,
            vec![Row::from_contact(contact(
                "a1-late".into(),
                "a1",
                AUG_4_MS + 8 * HOUR_MS,
                40,
                240,
            ))],
        )
        .await;
        // The agent's estimate of the running period: the data stops on 5
        // August (a2's calls), so August to date: service level 9 of 11 and
        // AHT 240 s as above, 3 working days of 3: 100 × 2.022727… = 202.27. Five points
        // more attainment on either KPI adds 0.5 × 7.5 × 0.05 × 100 =
        // 18.75 (both are above target, on the accelerator); the tie goes
        // to the KPI listed first.
        let me = agent.json(Method::GET, "/api/v1/pay/me", None).await.json();
        let estimate = &me["estimates"][0];
        assert_eq!(estimate["period"], json!(["2026-08-01", "2026-08-31"]));
        assert_eq!(estimate["to_date"], "2026-08-05");
        assert_eq!(amount(&estimate["statement"]["total"]), "202.27");
        assert_eq!(estimate["best_lever"], json!(["service_level", "18.75"]));
        let september = payroll
            .json(
                Method::POST,
                "/api/v1/pay/runs",
                Some(json!({"plan_id": plan_id, "day": "2026-09-01"})),
            )
            .await;
        let september_id = september.json()["run_id"].as_i64().unwrap();
        let view = payroll
            .json(
                Method::GET,
                &format!("/api/v1/pay/runs/{september_id}"),
                None,
            )
            .await
            .json();
        let statements = view["statements"].as_array().unwrap();
        assert_eq!(statements.len(), 1, "a2 left in August");
        let a1 = &statements[0];
        assert_eq!(line_amount(a1, "BONUS").as_deref(), Some("0.00"));
        assert_eq!(line_amount(a1, "ADJUSTMENT").as_deref(), Some("10.00"));
        assert_eq!(line_amount(a1, "LATE_DATA").as_deref(), Some("-36.53"));
        assert_eq!(amount(&a1["statement"]["total"]), "-26.53");

        // A proposed plan on AHT alone, in shadow over August: a1 would
        // earn 100 × 2.875 × 20 ÷ 21 = 273.81 (now 192.64), a2 100 × 1 ×
        // 10 ÷ 21 = 47.62 (now 92.26).
        let proposed = PLAN
            .replace("Test plan", "AHT only")
            .replace(
                "[[kpis]]\ndefinition = \"service_level\"\ntarget = \"80\"\nweight = \"0.5\"\n",
                "",
            )
            .replace("weight = \"0.5\"", "weight = \"1\"");
        let shadow = payroll
            .json(
                Method::POST,
                &format!("/api/v1/pay/plans/{plan_id}/shadow"),
                Some(json!({"text": proposed, "from": "2026-08-01", "to": "2026-08-31"})),
            )
            .await;
        assert_eq!(shadow.status, StatusCode::OK, "{:?}", shadow.body);
        let shadow = shadow.json();
        let agents = shadow["agents"].as_array().unwrap();
        assert_eq!(amount(&agents[0]["live"]), "192.64");
        assert_eq!(amount(&agents[0]["proposed"]), "273.81");
        assert_eq!(amount(&agents[1]["change"]), "-44.64");
        assert_eq!(shadow["gainers"], 1);
        assert_eq!(shadow["losers"], 1);
        assert_eq!(amount(&shadow["proposed_cost"]), "321.43");
        let refused = operations
            .json(
                Method::POST,
                &format!("/api/v1/pay/plans/{plan_id}/shadow"),
                Some(json!({"text": proposed, "from": "2026-08-01", "to": "2026-08-31"})),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
}

/// A weekly plan with a team component: AHT for each agent, the team's
/// service level for the team share.
const TEAM_PLAN: &str = r#"
name = "Team week"
frequency = "weekly"
currency = "EUR"
base = "20.00"
individual_share = "0.5"
team_share = "0.5"

[[kpis]]
definition = "aht"
target = "300"
weight = "1"

[team]
definition = "service_level"
target = "80"
"#;

/// `merit pay run` without `--plan`: every plan in force on the day, their
/// figures from one load of the period's rows, gives each plan the
/// statements its own run gives (a monthly and a weekly plan, one with a
/// team component); the monthly plan's a1 earns the 229.17 worked out by
/// hand in the test above.
#[tokio::test]
async fn every_plan_of_a_day_runs_together_as_each_runs_alone() {
    use merit_service::access::Caller;
    use merit_service::pay;
    for store in stores::stores("pay_all_plans").await {
        let centre = Pay::new(store).await;
        let (store, clock) = (&centre.store, centre.clock.as_ref());
        let cli = Caller {
            role: merit_domain::access::Role::CompensationAdmin,
            ..Caller::command_line(DEFAULT_TENANT)
        };
        let mut operations = centre.user("operations").await;
        let mut plans = Vec::new();
        for text in [PLAN, TEAM_PLAN] {
            let publish = json!({"text": text, "effective_from": "2026-08-01", "reason": "test"});
            plans.push(published_plan(&mut operations, publish).await);
        }
        let day = jiff::civil::date(2026, 8, 5);
        let caller = &cli;
        let views = |ids: Vec<i64>| async move {
            let mut out = Vec::new();
            for id in ids {
                let view = pay::run(store, caller, id).await.unwrap();
                let statements: Vec<Value> = view
                    .statements
                    .iter()
                    .map(|s| json!([s.agent_id, s.statement]))
                    .collect();
                out.push((
                    view.summary.plan_name.clone(),
                    view.summary.run.period_from.clone(),
                    view.summary.run.period_to.clone(),
                    statements,
                ));
            }
            out
        };
        let together = views(pay::run_all_periods(store, clock, &cli, day).await.unwrap()).await;
        let mut alone = Vec::new();
        for &plan in &plans {
            alone.push(
                pay::run_period(store, clock, &cli, plan, day)
                    .await
                    .unwrap(),
            );
        }
        let alone = views(alone).await;
        assert_eq!(together, alone);
        assert_eq!(
            together
                .iter()
                .map(|(name, from, to, _)| (name.as_str(), from.as_str(), to.as_str()))
                .collect::<Vec<_>>(),
            [
                ("Test plan", "2026-08-01", "2026-08-31"),
                ("Team week", "2026-08-03", "2026-08-09")
            ]
        );
        let a1 = &together[0].3[0];
        assert_eq!(a1[0], "a1");
        assert_eq!(a1[1]["total"], "229.17");
        // The weekly plan's team share comes from the team figure: a1's
        // team t1 answered 9 of 10 within 20 s, a = 90 ÷ 80 = 1.125, f = 1
        // + 1.5 × 0.125 ÷ 0.2 = 1.9375.
        let team = &together[1].3[0][1]["team"];
        assert_eq!(
            (
                &team["measure"]["numerator"],
                &team["measure"]["denominator"]
            ),
            (&json!(9), &json!(10))
        );
        assert_eq!(team["factor"], "1.9375");
    }
}
