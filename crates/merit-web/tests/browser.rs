//! Browser tests: the real server on loopback, driven in headless Debian
//! Chromium through chromedriver (both installed by `cargo xtask test`).
//! Each story signs in as a demo role, clicks through the pages, checks the
//! figures a page shows against the API's for the same query, and saves a
//! screenshot of each page under `target/screenshots/`.

mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use merit_domain::DEFAULT_TENANT;
use merit_store::Store;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use support::{PASSWORD, TestClock, add_users, load_simulation};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";

/// chromedriver, stopped when the test ends.
struct Driver {
    process: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    /// Starts chromedriver on a free port and waits for its "started" line.
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {CHROMEDRIVER} ({e}): install Debian's chromium and chromium-driver \
                     (`cargo xtask test` does it when run as root)"
                )
            });
        let stdout = process.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("started successfully") => break,
                Some(Ok(_)) => continue,
                other => panic!("{CHROMEDRIVER} stopped before it started: {other:?}"),
            }
        }
        // Keep reading so chromedriver never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Driver { process, port }
    }

    async fn browser(&self) -> Client {
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"],
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

/// The application on a loopback port, with the simulated centre and the
/// demo users; returns its base URL.
async fn serve(store: &Store) -> String {
    let clock = Arc::new(TestClock::default());
    add_users(store, clock.as_ref()).await;
    let state = merit_web::AppState::new(
        store.clone(),
        DEFAULT_TENANT,
        jiff::civil::date(2026, 8, 3),
        clock,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, merit_web::router(state)).await });
    format!("http://{address}")
}

/// A store holding two weeks of a small simulated centre.
async fn centre() -> (Store, merit_sim::ScenarioConfig, merit_sim::Collected) {
    let store = Store::open(":memory:").await.unwrap();
    store.migrate().await.unwrap();
    let config = merit_sim::ScenarioConfig {
        days: 14,
        agents: 12,
        ..merit_sim::ScenarioConfig::default()
    };
    let collected = load_simulation(&store, &config).await;
    (store, config, collected)
}

struct Session {
    client: Client,
    base: String,
}

impl Session {
    async fn open(driver: &Driver, base: &str) -> Session {
        Session {
            client: driver.browser().await,
            base: base.to_owned(),
        }
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }

    async fn sign_in(&self, username: &str) {
        self.goto("/sign-in").await;
        let c = &self.client;
        c.find(Locator::Id("username"))
            .await
            .unwrap()
            .send_keys(username)
            .await
            .unwrap();
        c.find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(PASSWORD)
            .await
            .unwrap();
        c.find(Locator::Css("main button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.wait()
            .for_element(Locator::Css("header.bar"))
            .await
            .unwrap_or_else(|e| panic!("{username} did not get in: {e}"));
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Clicks what submits a form or follows a link, and waits until the
    /// next page has replaced this one (the old page's root goes stale).
    async fn click_and_load(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.click(css).await;
        for _ in 0..100_000 {
            if old.tag_name().await.is_err() {
                break;
            }
            tokio::task::yield_now().await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("main"))
            .await
            .unwrap_or_else(|e| panic!("after {css}: {e}"));
    }

    /// The JSON the API answers for `path`, read in the same signed-in browser.
    async fn api(&self, path: &str) -> serde_json::Value {
        self.goto(path).await;
        let body = self.text("body").await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    /// Saves the page as `target/screenshots/NAME.png`.
    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The charts the page describes, and how many merit.js drew (the page
    /// has loaded, deferred scripts included, when `goto` returns).
    async fn charts(&self) -> (usize, usize) {
        let described = self
            .client
            .find_all(Locator::Css("[data-chart]"))
            .await
            .unwrap();
        let drawn = self
            .client
            .find_all(Locator::Css("[data-chart][data-drawn] svg"))
            .await
            .unwrap();
        (described.len(), drawn.len())
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Users for the simulated centre: a lead of its first team, an agent of
/// that team, and the centre-wide roles of the demo.
async fn add_centre_users(store: &Store) -> (String, String, String) {
    let organisation = store.load_organisation(DEFAULT_TENANT).await.unwrap();
    let team = organisation.teams[0].id.clone();
    let members: Vec<String> = organisation
        .memberships
        .iter()
        .filter(|m| m.team_id == team)
        .map(|m| m.agent_id.clone())
        .collect();
    let other = organisation
        .agents
        .iter()
        .find(|a| !members.contains(&a.id))
        .unwrap()
        .id
        .clone();
    let cli = merit_service::access::Caller::command_line(DEFAULT_TENANT);
    let clock = TestClock::default();
    use merit_domain::access::{Role, Scope};
    for (username, role, scope, agent) in [
        ("teamlead", Role::TeamLead, Scope::Team(team.clone()), None),
        (
            "member",
            Role::Agent,
            Scope::OwnRecords,
            Some(members[0].clone()),
        ),
    ] {
        let new = merit_service::access::NewUser {
            username: username.into(),
            display_name: username.into(),
            password: PASSWORD.into(),
            role,
            scope,
            agent_id: agent,
        };
        merit_service::access::add_user(store, &clock, &cli, new)
            .await
            .unwrap();
    }
    (team, members[0].clone(), other)
}

fn period(config: &merit_sim::ScenarioConfig) -> String {
    let last = config
        .start
        .checked_add(jiff::Span::new().days(config.days as i64 - 1))
        .unwrap();
    format!("from={}&to={last}", config.start)
}

/// A percent figure as pages print it.
fn percent(value: &serde_json::Value) -> String {
    format!("{:.3} %", value.as_f64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_lead_goes_from_an_agents_csat_to_the_surveys_and_a_contact() {
    let driver = Driver::start();
    let (store, config, _) = centre().await;
    let base = serve(&store).await;
    let (_, member, _) = add_centre_users(&store).await;
    let period = period(&config);
    let lead = Session::open(&driver, &base).await;
    lead.sign_in("teamlead").await;

    // The team table shows each agent's CSAT as the API gives it.
    let api = lead
        .api(&format!("/api/v1/reports/kpi?{period}&kpi=csat&by=agent"))
        .await;
    lead.goto(&format!("/team?{period}")).await;
    lead.screenshot("team").await;
    let row = api["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"][0] == member.as_str())
        .unwrap();
    let csat = &row["figures"][0];
    let cell = format!("td[data-agent='{member}'][data-kpi='csat']");
    assert!(lead.text(&cell).await.starts_with(&percent(&csat["value"])));

    // Its link lists the surveys behind it: one row per answer in the denominator.
    lead.click(&format!("{cell} a")).await;
    lead.screenshot("drill").await;
    let denominator = csat["denominator"].as_i64().unwrap();
    assert!(
        lead.text("main p")
            .await
            .starts_with(&format!("The denominator: {denominator} rows")),
    );
    let survey = lead.text("table.drill tbody tr td:nth-child(7)").await;
    assert!(survey.contains("satisfied_with_answers"), "{survey}");

    // And on to the contact, answered by that agent, with the customer's answers.
    lead.click("table.drill tbody tr a").await;
    lead.screenshot("contact").await;
    let page = lead.text("main").await;
    assert!(page.contains(&format!("answered by {member}")), "{page}");
    assert!(page.contains("satisfied_with_answers"), "{page}");
    lead.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sees_their_own_figures_and_charts_and_not_another_agents_page() {
    let driver = Driver::start();
    let (store, config, _) = centre().await;
    let base = serve(&store).await;
    let (_, member, other) = add_centre_users(&store).await;
    let period = period(&config);
    let agent = Session::open(&driver, &base).await;
    agent.sign_in("member").await;

    let api = agent.api(&format!("/api/v1/reports/kpi?{period}")).await;
    agent.goto(&format!("/performance?{period}")).await;
    agent.screenshot("performance").await;
    for figure in api["total"]["figures"].as_array().unwrap() {
        let name = figure["definition"].as_str().unwrap();
        let expected = match figure["denominator"].as_i64() {
            Some(d) => format!("{} / {d}", figure["numerator"]),
            None => figure["numerator"].to_string(),
        };
        assert_eq!(
            agent.text(&format!("td[data-kpi='{name}']")).await,
            expected,
            "{name}"
        );
    }
    // One weekly chart per KPI, drawn by ECharts under the strict CSP.
    let (described, drawn) = agent.charts().await;
    assert_eq!(described, api["total"]["figures"].as_array().unwrap().len());
    assert_eq!(drawn, described);
    // My surveys: as many contacts as the CSAT denominator's distinct contacts.
    assert!(agent.text("#surveys").await.starts_with("Surveys"));

    // On a phone the page fits the screen's width: wide tables scroll inside.
    agent.client.set_window_size(390, 844).await.unwrap();
    agent.goto(&format!("/performance?{period}")).await;
    agent.screenshot("performance-phone").await;
    let overflow = agent
        .client
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "wider than the phone by {overflow} px"
    );
    agent.client.set_window_size(1280, 1000).await.unwrap();

    agent.goto(&format!("/agents/{other}?{period}")).await;
    assert_eq!(agent.text("body").await, "Not found.");
    agent.goto(&format!("/agents/{member}?{period}")).await;
    assert!(agent.text("h1").await.contains(&member));
    agent.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operations_manager_previews_a_definition_change_beside_the_version_in_force() {
    let driver = Driver::start();
    let (store, config, _) = centre().await;
    let base = serve(&store).await;
    let period = period(&config);
    let (from, to) = period.split_once('&').unwrap();
    let ops = Session::open(&driver, &base).await;
    ops.sign_in("operations").await;

    ops.goto("/definitions/service_level").await;
    let form = ops.client.form(Locator::Css("main form")).await.unwrap();
    form.set_by_name("options", r#"{"threshold_s": 30}"#)
        .await
        .unwrap();
    form.set_by_name("from", &from["from=".len()..])
        .await
        .unwrap();
    form.set_by_name("to", &to["to=".len()..]).await.unwrap();
    form.submit().await.unwrap();
    ops.client
        .wait()
        .for_element(Locator::Css("table.preview"))
        .await
        .unwrap();
    ops.screenshot("definition-preview").await;
    let current = ops.text("table.preview td[data-version='current']").await;
    let proposed = ops.text("table.preview td[data-version='proposed']").await;

    // The same preview through the API, from the same signed-in browser.
    let body = serde_json::json!({
        "options": {"threshold_s": 30},
        "from": &from["from=".len()..],
        "to": &to["to=".len()..],
    });
    let api = ops
        .client
        .execute_async(
            "const done = arguments[2];
             fetch(arguments[0], {method: 'POST', headers: {'content-type': 'application/json'}, body: arguments[1]})
               .then(r => r.json()).then(done);",
            vec![
                serde_json::json!("/api/v1/definitions/service_level/preview"),
                serde_json::json!(body.to_string()),
            ],
        )
        .await
        .unwrap();
    let figures = &api["total"]["figures"];
    assert_eq!(current, percent(&figures[0]["value"]), "{api}");
    assert_eq!(proposed, percent(&figures[1]["value"]), "{api}");
    // A longer threshold can only count more contacts as answered in time.
    assert!(figures[1]["numerator"].as_i64() >= figures[0]["numerator"].as_i64());

    // Saved as version 2 from a later day, with who saved it and why; the
    // page and the API list it.
    let save = ops
        .client
        .form(Locator::Css("form.save-version"))
        .await
        .unwrap();
    save.set_by_name("effective_from", "2030-01-01")
        .await
        .unwrap();
    save.set_by_name("reason", "Threshold agreed with the client")
        .await
        .unwrap();
    save.submit().await.unwrap();
    ops.client
        .wait()
        .for_element(Locator::Css("main table tbody tr:nth-child(2)"))
        .await
        .unwrap();
    let version = ops.text("main table tbody tr:nth-child(2)").await;
    assert!(version.starts_with("2 2030-01-01"), "{version}");
    assert!(
        version.contains("operations Threshold agreed with the client"),
        "{version}"
    );
    let definitions = ops.api("/api/v1/definitions").await;
    let saved = definitions
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "service_level")
        .unwrap()["versions"][1]
        .clone();
    assert_eq!(saved["options"]["threshold_s"], 30, "{saved}");

    // The operations page draws its three charts and shows the API's volume.
    let offered = ops
        .api(&format!("/api/v1/reports/kpi?{period}&kpi=offered"))
        .await["total"]["figures"][0]["numerator"]
        .clone();
    ops.goto(&format!("/operations?{period}")).await;
    ops.screenshot("operations").await;
    assert_eq!(
        ops.text("td[data-kpi='offered']").await,
        offered.to_string()
    );
    assert_eq!(ops.charts().await, (3, 3));
    ops.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_imports_a_file_and_reads_its_bad_row_by_line() {
    let driver = Driver::start();
    let (store, _, _) = centre().await;
    let base = serve(&store).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.csv");
    std::fs::write(
        &file,
        "source_id,channel,arrival,end,outcome,queue_id,agent_id,queue_entry,answer,holds\n\
         x1,voice_inbound,2026-08-03T08:00:00Z,2026-08-03T08:05:00Z,handled,billing,ag001,2026-08-03T08:00:00Z,2026-08-03T08:00:20Z,\n\
         x2,voice_inbound,yesterday,2026-08-03T08:05:00Z,handled,billing,ag001,,2026-08-03T08:00:20Z,\n",
    )
    .unwrap();
    let admin = Session::open(&driver, &base).await;
    admin.sign_in("admin").await;
    admin.goto("/imports").await;
    admin
        .client
        .find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    admin.click("form.upload button[type=submit]").await;
    // The job page asks again each second until the import is done.
    admin
        .client
        .wait()
        .for_element(Locator::Css("#job[data-status='done']"))
        .await
        .unwrap();
    admin.screenshot("import").await;
    assert_eq!(admin.text("#rejected").await, "1");
    let problem = admin.text("table.problems tbody tr").await;
    assert!(problem.starts_with("3 arrival"), "{problem}");

    // The history lists the batch under the file's name, and its problem stays.
    admin.goto("/imports").await;
    let latest = admin.text("table.batches tbody tr").await;
    assert!(
        latest.contains("calls.csv") && latest.contains("admin"),
        "{latest}"
    );
    admin.click("table.batches tbody tr th a").await;
    let kept = admin.text("table.problems tbody tr").await;
    assert!(kept.starts_with("calls.csv 3 arrival"), "{kept}");
    admin.close().await;
}

/// The rows of the table in the section whose heading has `id`.
async fn rows(session: &Session, section: &str) -> usize {
    session
        .client
        .find_all(Locator::Css(&format!(
            "section[aria-labelledby='{section}'] tbody tr"
        )))
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_pages_show_what_the_api_gives() {
    let driver = Driver::start();
    let (store, config, _) = centre().await;
    let base = serve(&store).await;
    let (_, member, _) = add_centre_users(&store).await;
    let period = period(&config);
    let admin = Session::open(&driver, &base).await;
    admin.goto("/sign-in").await;
    admin.screenshot("sign-in").await;
    admin.sign_in("admin").await;

    // The overview counts the centre's contacts as the API does.
    let centre = admin.api("/api/v1/centre").await;
    admin.goto("/").await;
    admin.screenshot("overview").await;
    let figures = admin.text(".figures").await;
    let n_contacts = centre["overview"]["n_contacts"].to_string();
    assert!(figures.contains(&n_contacts), "{figures}: {n_contacts}");

    // Administration: a row per user and per audit entry, as listed by the API.
    let users = admin.api("/api/v1/users").await;
    let audit = admin.api("/api/v1/audit?limit=200").await;
    admin.goto("/admin").await;
    admin.screenshot("admin").await;
    assert_eq!(
        rows(&admin, "users").await as u64,
        users["total"].as_u64().unwrap()
    );
    assert_eq!(
        rows(&admin, "audit").await as u64,
        audit["total"].as_u64().unwrap().min(200)
    );

    // Definitions: one row per definition, each with its versions.
    let definitions = admin.api("/api/v1/definitions").await;
    admin.goto("/definitions").await;
    admin.screenshot("definitions").await;
    let listed = admin
        .client
        .find_all(Locator::Css("main tbody tr"))
        .await
        .unwrap();
    assert_eq!(listed.len(), definitions.as_array().unwrap().len());

    // The inbox and the account page.
    let inbox = admin.api("/api/v1/inbox").await;
    admin.goto("/inbox").await;
    admin.screenshot("inbox").await;
    let unread = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["read_ms"].is_null())
        .count();
    assert_eq!(admin.text("#unread").await, format!("{unread} unread."));
    admin.goto("/account").await;
    admin.screenshot("account").await;
    // The keyboard's first stop is the link past the header to the page.
    admin
        .client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = admin
        .client
        .execute(
            "return document.activeElement.getAttribute('href');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(focused, "#main");
    assert!(
        admin
            .text("header.bar")
            .await
            .contains("admin (administrator)")
    );

    // An agent's page, as the lead sees it: their scorecard as the API gives it.
    let by_agent = admin
        .api(&format!("/api/v1/reports/kpi?{period}&by=agent"))
        .await;
    let row = by_agent["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"][0] == member.as_str())
        .unwrap();
    admin.goto(&format!("/agents/{member}?{period}")).await;
    admin.screenshot("agent").await;
    for figure in row["figures"].as_array().unwrap() {
        let name = figure["definition"].as_str().unwrap();
        let expected = match figure["denominator"].as_i64() {
            Some(d) => format!("{} / {d}", figure["numerator"]),
            None => figure["numerator"].to_string(),
        };
        assert_eq!(
            admin.text(&format!("td[data-kpi='{name}']")).await,
            expected,
            "{name}"
        );
    }
    admin.close().await;
}

/// Answers the scoring form: one radio per question key (`key=answer`).
async fn answer(session: &Session, answers: &[(&str, &str)]) {
    for (key, value) in answers {
        session
            .click(&format!("input[name='answer.{key}'][value='{value}']"))
            .await;
    }
}

/// The evaluation id the browser is looking at (`/quality/evaluations/{id}`).
async fn evaluation_id(session: &Session) -> String {
    let url = session.client.current_url().await.unwrap();
    let id = url.path().rsplit('/').next().unwrap().to_owned();
    assert!(url.path().starts_with("/quality/evaluations/"), "{url}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluation_is_self_assessed_acknowledged_disputed_and_corrected() {
    let driver = Driver::start();
    let (store, config, collected) = centre().await;
    let base = serve(&store).await;
    let (_, member, _) = add_centre_users(&store).await;
    let qa_caller = merit_service::access::Caller {
        name: "qa".into(),
        role: merit_domain::access::Role::QaSpecialist,
        ..merit_service::access::Caller::command_line(DEFAULT_TENANT)
    };
    let form = include_str!("../../../docs/examples/inbound-call-quality.toml");
    merit_service::quality::publish_form(&store, &TestClock::default(), &qa_caller, None, form)
        .await
        .unwrap();
    let contact = collected
        .contacts
        .iter()
        .find(|c| {
            c.agent_id.as_deref() == Some(member.as_str())
                && c.outcome == merit_domain::contact::Outcome::Handled
        })
        .unwrap();
    let contact_page = format!("/contacts/{}/{}", contact.source_system, contact.source_id);
    let all = [
        ("greeting", "yes"),
        ("verification", "yes"),
        ("understood", "4"),
        ("accuracy", "8"),
        ("empathy", "5"),
        ("hold_explained", "n/a"),
        ("went_extra_mile", "no"),
        ("recording_notice", "pass"),
        ("wrap_up_code", "pass"),
    ];

    // The QA specialist scores the call from its contact page and releases it.
    let qa = Session::open(&driver, &base).await;
    qa.sign_in("qa").await;
    qa.goto(&contact_page).await;
    qa.click_and_load("#evaluate").await;
    answer(&qa, &all).await;
    answer(&qa, &[("resolved", "no"), ("next_step_confirmed", "yes")]).await;
    qa.click("input[name='release']").await;
    qa.screenshot("evaluate").await;
    qa.click_and_load("form.scoring button[type=submit]").await;
    let id = evaluation_id(&qa).await;
    // 15.45 of 21 weighted points (the working is in tests/quality.rs): 73.6.
    assert_eq!(qa.text("tr[data-version='1'] td.score").await, "73.6");

    // The agent assesses the same call themself: resolved, so 17.45 of 19.
    let agent = Session::open(&driver, &base).await;
    agent.sign_in("member").await;
    agent.goto(&contact_page).await;
    agent.click_and_load("#evaluate").await;
    answer(&agent, &all).await;
    answer(&agent, &[("resolved", "yes")]).await;
    agent
        .click_and_load("form.scoring button[type=submit]")
        .await;
    assert_eq!(agent.text("tr[data-version='1'] td.score").await, "91.8");

    // The inbox leads to the released evaluation, with the gap per question.
    agent.goto("/inbox").await;
    agent
        .click_and_load(&format!("a[href='/quality/evaluations/{id}']"))
        .await;
    agent.screenshot("evaluation-agent").await;
    let resolved_row = agent.text("tr[data-question='resolved']").await;
    assert!(resolved_row.contains("+100"), "{resolved_row}");
    agent.click_and_load("#acknowledge").await;
    agent.click("#dispute summary").await;
    agent
        .click("#dispute input[name='question'][value='resolved']")
        .await;
    agent
        .client
        .find(Locator::Id("dispute-comment"))
        .await
        .unwrap()
        .send_keys("The bill was corrected on the call")
        .await
        .unwrap();
    agent.click_and_load("#dispute button[type=submit]").await;
    assert!(agent.text("article.dispute").await.contains("Open."));

    // The team lead accepts it: version 2 scores the call resolved.
    let lead = Session::open(&driver, &base).await;
    lead.sign_in("teamlead").await;
    lead.goto(&format!("/quality/evaluations/{id}")).await;
    lead.click("article.dispute select[name='answer.resolved'] option[value='yes']")
        .await;
    lead.client
        .find(Locator::Css("article.dispute input[name='reason']"))
        .await
        .unwrap()
        .send_keys("Heard on the recording")
        .await
        .unwrap();
    lead.click_and_load("article.dispute button[type=submit]")
        .await;
    lead.screenshot("evaluation-decided").await;
    assert!(
        lead.text("p.decision")
            .await
            .starts_with("accepted by teamlead")
    );

    // The agent sees the new version, and the original beside it.
    agent.goto(&format!("/quality/evaluations/{id}")).await;
    assert_eq!(agent.text("tr[data-version='1'] td.score").await, "73.6");
    assert_eq!(agent.text("tr[data-version='2'] td.score").await, "91.8");
    // The corrected version waits for the agent on their performance page,
    // until they acknowledge it too.
    let my_page = format!("/performance?{}", period(&config));
    agent.goto(&my_page).await;
    let mine = agent.text("table.my-evaluations").await;
    assert!(
        mine.contains(&format!("#{id}")) && mine.contains("to acknowledge"),
        "{mine}"
    );
    agent.goto(&format!("/quality/evaluations/{id}")).await;
    agent.click_and_load("#acknowledge").await;
    agent.goto(&my_page).await;
    let mine = agent.text("table.my-evaluations").await;
    assert!(!mine.contains("to acknowledge"), "{mine}");
    for session in [qa, agent, lead] {
        session.close().await;
    }
}

impl Session {
    /// Sets a form field's value (date inputs included) by its id.
    async fn set(&self, id: &str, value: &str) {
        self.client
            .execute(
                "document.getElementById(arguments[0]).value = arguments[1];",
                vec![id.into(), value.into()],
            )
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
    }

    /// Opens the `<details>` that holds `css`.
    async fn open_details(&self, css: &str) {
        self.click(&format!("details:has({css}) > summary")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qa_specialist_builds_a_form_samples_evaluates_and_calibrates() {
    let driver = Driver::start();
    let (store, config, _) = centre().await;
    let base = serve(&store).await;
    let clock = TestClock::default();
    let cli = merit_service::access::Caller::command_line(DEFAULT_TENANT);
    let strict = merit_service::access::NewUser {
        username: "qa2".into(),
        display_name: "qa2".into(),
        password: PASSWORD.into(),
        role: merit_domain::access::Role::QaSpecialist,
        scope: merit_domain::access::Scope::Centre,
        agent_id: None,
    };
    merit_service::access::add_user(&store, &clock, &cli, strict)
        .await
        .unwrap();
    let qa = Session::open(&driver, &base).await;
    qa.sign_in("qa").await;

    // A form built on the page: started with one question, then a second
    // added as version 2.
    qa.goto("/quality").await;
    qa.open_details("form.builder").await;
    qa.set("b-name", "Call basics").await;
    qa.set("b-section", "Basics").await;
    qa.set("b-key", "greeting").await;
    qa.set("b-text", "Did the agent greet the customer?").await;
    qa.click_and_load("form.builder button[type=submit]").await;
    qa.set("a-key", "resolved").await;
    qa.set("a-text", "Was the issue resolved?").await;
    qa.click_and_load("form.builder button[type=submit]").await;
    qa.screenshot("quality-form").await;
    assert!(qa.text("main h1").await.contains("version 2"));

    // Ten calls sampled into the queue, two of them outliers on purpose.
    let last = config
        .start
        .checked_add(jiff::Span::new().days(6))
        .unwrap()
        .to_string();
    qa.goto("/quality").await;
    qa.open_details("form.sample").await;
    qa.set("s-from", &config.start.to_string()).await;
    qa.set("s-to", &last).await;
    qa.set("s-size", "10").await;
    qa.click_and_load("form.sample button[type=submit]").await;
    qa.screenshot("quality-queue").await;
    let queued = qa
        .client
        .find_all(Locator::Css("table.queue tbody tr"))
        .await
        .unwrap();
    assert_eq!(queued.len(), 10);

    // Two evaluated from the queue: they leave it.
    for _ in 0..2 {
        qa.click_and_load("table.queue tbody tr a[href^='/quality/evaluate']")
            .await;
        answer(&qa, &[("greeting", "yes"), ("resolved", "yes")]).await;
        qa.click_and_load("form.scoring button[type=submit]").await;
        qa.goto("/quality").await;
    }
    let queued = qa
        .client
        .find_all(Locator::Css("table.queue tbody tr"))
        .await
        .unwrap();
    assert_eq!(queued.len(), 8);

    // A calibration session on two queued calls, with the strict specialist.
    let mut calls = Vec::new();
    for row in queued.iter().take(2) {
        let link = row.find(Locator::Css("td a")).await.unwrap();
        let href = link.attr("href").await.unwrap().unwrap();
        calls.push(href.trim_start_matches("/contacts/").to_owned());
    }
    qa.open_details("form[action='/quality/calibration']").await;
    qa.set("cal-name", "Week 1").await;
    qa.set("cal-contacts", &calls.join("\n")).await;
    qa.set("cal-evaluators", "qa qa2").await;
    qa.click_and_load("form[action='/quality/calibration'] button[type=submit]")
        .await;
    let session_page = qa.client.current_url().await.unwrap().path().to_owned();
    let session_id: i64 = session_page.rsplit('/').next().unwrap().parse().unwrap();
    // Each call scored leaves the list of those still to score.
    for _ in 0..2 {
        qa.goto(&session_page).await;
        qa.click_and_load("table.contacts a[href^='/quality/evaluate']")
            .await;
        answer(&qa, &[("greeting", "yes"), ("resolved", "yes")]).await;
        qa.click_and_load("form.scoring button[type=submit]").await;
    }
    qa.goto(&session_page).await;
    let left = qa
        .client
        .find_all(Locator::Css("table.contacts a[href^='/quality/evaluate']"))
        .await
        .unwrap();
    assert!(left.is_empty());
    // The strict specialist scores the same calls lower.
    let form_id = merit_service::quality::forms(&store, &cli).await.unwrap()[0].id;
    let strict = merit_service::access::Caller {
        name: "qa2".into(),
        role: merit_domain::access::Role::QaSpecialist,
        ..cli.clone()
    };
    for call in &calls {
        let (system, id) = call.split_once('/').unwrap();
        let answers = merit_service::quality::given(&std::collections::BTreeMap::from([
            ("greeting".to_owned(), "yes".to_owned()),
            ("resolved".to_owned(), "no".to_owned()),
        ]));
        let new = merit_service::quality::NewEvaluation {
            source_system: system.into(),
            contact_source_id: id.into(),
            form_id,
            method: "recording".into(),
            answers,
            comment: None,
            release: false,
            calibration_session: Some(session_id),
        };
        merit_service::quality::evaluate(&store, &clock, &strict, new)
            .await
            .unwrap();
    }
    // 100 against 50 on both calls: qa leans +25, qa2 −25.
    qa.goto(&session_page).await;
    qa.screenshot("calibration").await;
    assert_eq!(qa.text("tr[data-evaluator='qa2'] td.lean").await, "strict");
    assert_eq!(qa.text("tr[data-evaluator='qa'] td.lean").await, "lenient");
    assert!(qa.text("tr[data-evaluator='qa2']").await.contains("-25.0"));
    qa.close().await;
}

/// A plan over every agent: CSAT (at least 5 answers) and AHT, 20 % on
/// the team's service level.
const BROWSER_PLAN: &str = r#"name = "Browser plan"
frequency = "monthly"
currency = "EUR"
base = "100.00"
cap = "250.00"
individual_share = "0.8"
team_share = "0.2"

[[kpis]]
definition = "csat"
target = "85"
weight = "0.5"
minimum_sample = 5

[[kpis]]
definition = "aht"
target = "400"
weight = "0.5"

[team]
definition = "service_level"
target = "80"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pay_period_is_run_reviewed_approved_and_traced_to_a_contact() {
    let driver = Driver::start();
    let (store, _, _) = centre().await;
    let base = serve(&store).await;
    let (team, member, _) = add_centre_users(&store).await;

    // The compensation admin publishes the plan and runs August.
    let payroll = Session::open(&driver, &base).await;
    payroll.sign_in("payroll").await;
    payroll.goto("/pay").await;
    payroll.set("plan-text", BROWSER_PLAN).await;
    payroll.set("plan-from", "2026-08-01").await;
    payroll
        .click_and_load("form[action='/pay/plans'] button")
        .await;
    assert!(payroll.text("h1").await.starts_with("Browser plan"));
    payroll.goto("/pay").await;
    payroll.set("run-day", "2026-08-10").await;
    payroll.click_and_load("form.run-period button").await;
    assert_eq!(payroll.text("#run-state").await, "draft");
    let url = payroll.client.current_url().await.unwrap();
    let run_id = url.path().rsplit('/').next().unwrap().to_owned();
    let api = payroll.api(&format!("/api/v1/pay/runs/{run_id}")).await;
    let statements = api["statements"].as_array().unwrap();
    assert!(statements.len() >= 12, "{}", statements.len());

    // The team lead reviews their team's statements only.
    let lead = Session::open(&driver, &base).await;
    lead.sign_in("teamlead").await;
    lead.goto("/pay").await;
    lead.click_and_load(&format!("a[href='/pay/runs/{run_id}']"))
        .await;
    let rows = lead
        .client
        .find_all(Locator::Css("table.statements tbody tr"))
        .await
        .unwrap()
        .len();
    let team_statements = statements
        .iter()
        .filter(|s| s["team_id"] == team.as_str())
        .count();
    assert_eq!(rows, team_statements);
    lead.click_and_load("#review").await;
    lead.screenshot("pay-run-lead").await;
    assert_eq!(lead.text("#run-state").await, "draft");

    // The admin reviews the rest, approves, and the payroll file is there.
    payroll.goto(&format!("/pay/runs/{run_id}")).await;
    payroll.click_and_load("#review").await;
    assert_eq!(payroll.text("#run-state").await, "reviewed");
    payroll.click_and_load("#approve").await;
    assert_eq!(payroll.text("#run-state").await, "approved");
    payroll.screenshot("pay-run-approved").await;
    assert!(payroll.text("#payroll").await.contains("Payroll CSV"));

    // The agent opens the statement: its total is the API's, and a figure
    // leads to the contacts behind it and on to one of them.
    let agent = Session::open(&driver, &base).await;
    agent.sign_in("member").await;
    agent.goto("/pay").await;
    agent
        .click_and_load(&format!("a[href='/pay/runs/{run_id}/statements/{member}']"))
        .await;
    agent.screenshot("pay-statement").await;
    let mine = agent
        .api(&format!("/api/v1/pay/runs/{run_id}/statements/{member}"))
        .await;
    agent
        .goto(&format!("/pay/runs/{run_id}/statements/{member}"))
        .await;
    let total = agent.text("#statement-total").await;
    assert_eq!(
        total,
        format!("{} EUR", mine["statement"]["total"].as_str().unwrap())
    );
    // AHT's denominator: the contacts the agent handled.
    let handled = mine["statement"]["components"][1]["measure"]["denominator"]
        .as_i64()
        .unwrap();
    assert!(handled > 0);
    agent
        .click_and_load("table.components tbody tr:nth-child(2) td:nth-child(4) a.drill")
        .await;
    let drilled = agent
        .client
        .find_all(Locator::Css("table.drill tbody tr"))
        .await
        .unwrap()
        .len();
    assert_eq!(drilled as i64, handled);
    agent
        .click_and_load("table.drill tbody tr:first-child a")
        .await;
    assert!(
        agent.text("h1").await.contains("Contact"),
        "{}",
        agent.text("h1").await
    );
    for session in [payroll, lead, agent] {
        session.close().await;
    }
}
