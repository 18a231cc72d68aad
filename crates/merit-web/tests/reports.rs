//! Reports and drill-down through the API, confined to the caller's scope:
//! an agent sees their own contacts, a team lead their team's, on a
//! simulated centre; the figures are checked against the simulator's own
//! records and against the centre-wide report.

#[path = "../../merit-service/tests/stores/mod.rs"]
mod stores;
mod support;

use axum::http::{Method, StatusCode};
use merit_domain::DEFAULT_TENANT;
use merit_domain::access::{Role, Scope};
use merit_domain::contact::Outcome;
use merit_service::access::{Caller, NewUser, add_user};
use std::collections::BTreeMap;
use std::sync::Arc;
use support::{Browser, PASSWORD, TestClock, add_users, app, load_simulation};

#[tokio::test]
async fn each_caller_sees_the_figures_of_their_scope_only() {
    for store in stores::stores("scoped_reports").await {
        let config = merit_sim::ScenarioConfig {
            days: 5,
            agents: 12,
            ..merit_sim::ScenarioConfig::default()
        };
        let collected = load_simulation(&store, &config).await;
        let organisation = store.load_organisation(DEFAULT_TENANT).await.unwrap();
        let me = &organisation.agents[0];
        let my_team = organisation
            .memberships
            .iter()
            .find(|m| m.agent_id == me.id)
            .unwrap()
            .team_id
            .clone();
        let other = organisation
            .memberships
            .iter()
            .find(|m| m.team_id != my_team)
            .unwrap()
            .agent_id
            .clone();
        let clock = Arc::new(TestClock::default());
        let cli = Caller::command_line(DEFAULT_TENANT);
        for (username, role, scope, agent_id) in [
            ("me", Role::Agent, Scope::OwnRecords, Some(me.id.clone())),
            ("lead", Role::TeamLead, Scope::Team(my_team.clone()), None),
            ("ops", Role::OperationsManager, Scope::Centre, None),
        ] {
            let new = NewUser {
                username: username.into(),
                display_name: username.into(),
                password: PASSWORD.into(),
                role,
                scope,
                agent_id,
            };
            add_user(&store, clock.as_ref(), &cli, new).await.unwrap();
        }
        let last = config.start.checked_add(jiff::Span::new().days(4)).unwrap();
        let period = format!("from={}&to={last}", config.start);
        let mut agent = Browser::new(app(&store, clock.clone()));
        agent.sign_in("me", PASSWORD).await;
        let mut lead = Browser::new(app(&store, clock.clone()));
        lead.sign_in("lead", PASSWORD).await;
        let mut ops = Browser::new(app(&store, clock.clone()));
        ops.sign_in("ops", PASSWORD).await;

        // The agent: one group, theirs; the total is theirs, counted here from the simulator.
        let mine = collected
            .contacts
            .iter()
            .filter(|c| {
                c.agent_id.as_deref() == Some(me.id.as_str()) && c.outcome == Outcome::Handled
            })
            .count() as i64;
        assert!(mine > 0);
        let report = agent
            .get(&format!(
                "/api/v1/reports/kpi?{period}&kpi=handled&by=agent"
            ))
            .await
            .json();
        let groups: Vec<&str> = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["group"][0].as_str().unwrap())
            .collect();
        assert_eq!(groups, [me.id.as_str()]);
        assert_eq!(report["total"]["figures"][0]["numerator"], mine);

        // Another agent's contacts: none, as if they did not exist; the agent's own: all.
        let drill = |group: &str| {
            format!("/api/v1/reports/contacts?{period}&kpi=handled&by=agent&group={group}&part=all")
        };
        assert_eq!(agent.get(&drill(&other)).await.json()["count"], 0);
        assert_eq!(agent.get(&drill(&me.id)).await.json()["count"], mine);
        let csv = agent.get(&format!("{}&format=csv", drill(&other))).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.body.lines().count(), 1, "the header only: {}", csv.body);
        let csv = agent.get(&format!("{}&format=csv", drill(&me.id))).await;
        assert_eq!(csv.body.lines().count() as i64, mine + 1);
        assert!(csv.body.lines().skip(1).all(|l| l.contains(&me.id)));

        // The lead: only the team's agents, and the team's total as the
        // centre-wide report by team has it (a second method).
        let team_report = lead
            .get(&format!(
                "/api/v1/reports/kpi?{period}&kpi=handled&by=agent"
            ))
            .await
            .json();
        let members: Vec<&str> = organisation
            .memberships
            .iter()
            .filter(|m| m.team_id == my_team)
            .map(|m| m.agent_id.as_str())
            .collect();
        for row in team_report["rows"].as_array().unwrap() {
            let agent = row["group"][0].as_str().unwrap();
            assert!(members.contains(&agent), "{agent} is not in {my_team}");
        }
        let by_team = ops
            .get(&format!("/api/v1/reports/kpi?{period}&kpi=handled&by=team"))
            .await
            .json();
        let centre_view = by_team["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"][0] == my_team.as_str())
            .unwrap()["figures"][0]["numerator"]
            .clone();
        assert_eq!(team_report["total"]["figures"][0]["numerator"], centre_view);
        let centre_total = by_team["total"]["figures"][0]["numerator"]
            .as_i64()
            .unwrap();
        assert!(centre_view.as_i64().unwrap() < centre_total);

        // Contact pages: the agent's own, with its timeline; another's is not there.
        let path = |c: &merit_domain::contact::Contact| {
            format!(
                "/api/v1/contacts/{}/{}",
                c.source_system,
                c.source_id.replace('/', "%2F")
            )
        };
        let own = collected
            .contacts
            .iter()
            .find(|c| {
                c.agent_id.as_deref() == Some(me.id.as_str()) && c.outcome == Outcome::Handled
            })
            .unwrap();
        let page = agent.get(&path(own)).await.json();
        assert_eq!(page["agent_id"], me.id.as_str());
        assert_eq!(page["answer_ms"], own.answer_ms.unwrap());
        assert_eq!(page["holds"].as_array().unwrap().len(), own.holds.len());
        let theirs = collected
            .contacts
            .iter()
            .find(|c| c.agent_id.as_deref() == Some(other.as_str()))
            .unwrap();
        assert_eq!(agent.get(&path(theirs)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(lead.get(&path(theirs)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(ops.get(&path(theirs)).await.status, StatusCode::OK);

        // Contact lists: the agent's own contacts, the lead's team's, the centre's.
        let list = format!("/api/v1/contacts?{period}&format=csv");
        let own_count = collected
            .contacts
            .iter()
            .filter(|c| c.agent_id.as_deref() == Some(me.id.as_str()))
            .count();
        let agent_list = agent.get(&list).await.body;
        assert_eq!(agent_list.lines().count(), own_count + 1);
        let lead_list = lead
            .get(&format!("/api/v1/contacts?{period}&limit=500"))
            .await
            .json();
        for contact in lead_list["items"].as_array().unwrap() {
            let agent = contact["agent_id"].as_str().unwrap();
            assert!(members.contains(&agent), "{agent}");
        }
        let everything = ops
            .get(&format!("/api/v1/contacts?{period}&limit=1"))
            .await
            .json();
        assert_eq!(everything["total"], collected.contacts.len());

        // The lead asking for another team's agent gets nothing.
        assert_eq!(lead.get(&drill(&other)).await.json()["count"], 0);
    }
}

#[tokio::test]
async fn a_proposed_version_is_previewed_beside_the_one_in_force_and_not_stored() {
    for store in stores::stores("preview").await {
        let config = merit_sim::ScenarioConfig {
            days: 5,
            agents: 12,
            ..merit_sim::ScenarioConfig::default()
        };
        let collected = load_simulation(&store, &config).await;
        let clock = Arc::new(TestClock::default());
        support::add_users(&store, clock.as_ref()).await;
        let mut ops = Browser::new(app(&store, clock.clone()));
        ops.sign_in("operations", PASSWORD).await;
        let last = config.start.checked_add(jiff::Span::new().days(4)).unwrap();
        let body = serde_json::json!({
            "options": {"threshold_s": 120},
            "from": config.start.to_string(),
            "to": last.to_string(),
        });
        let answer = ops
            .json(
                axum::http::Method::POST,
                "/api/v1/definitions/service_level/preview",
                Some(body),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let figures = answer.json()["total"]["figures"].clone();
        assert_eq!(figures[0]["definition"], "service_level");
        assert_eq!(figures[1]["definition"], "service_level@2");
        // Counted here: answered after more than 20 s and within 120 s.
        let between = collected
            .contacts
            .iter()
            .filter(|c| c.outcome == Outcome::Handled && c.answer_ms.is_some())
            .filter(|c| c.wait_ms().is_some_and(|w| w > 20_000 && w <= 120_000))
            .count() as i64;
        assert!(between > 0);
        let (now, proposed) = (
            figures[0]["numerator"].as_i64().unwrap(),
            figures[1]["numerator"].as_i64().unwrap(),
        );
        assert_eq!(proposed - now, between);
        assert_eq!(figures[0]["denominator"], figures[1]["denominator"]);
        // The definition page shows the same two figures, side by side.
        let options = "%7B%22threshold_s%22%3A120%7D";
        let page = ops
            .get(&format!(
                "/definitions/service_level?options={options}&from={}&to={last}",
                config.start
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for (version, f) in [("current", &figures[0]), ("proposed", &figures[1])] {
            let shown = format!(
                "data-version=\"{version}\">{:.3} %<",
                f["value"].as_f64().unwrap()
            );
            assert!(page.body.contains(&shown), "{shown} in {}", page.body);
        }
        // Nothing was recorded.
        let definitions = ops.get("/api/v1/definitions").await.json();
        let service_level = definitions
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "service_level")
            .unwrap();
        assert_eq!(service_level["versions"].as_array().unwrap().len(), 1);
    }
}

/// The numbers a page shows for each KPI: `data-kpi="NAME">NUM[ / DEN]`,
/// the number perhaps inside its drill-down link.
fn shown(html: &str, kpi: &str) -> Option<String> {
    let marker = format!("data-kpi=\"{kpi}\">");
    let mut start = html.find(&marker)? + marker.len();
    if html[start..].starts_with("<a ") {
        start += html[start..].find('>')? + 1;
    }
    let end = start + html[start..].find('<')?;
    Some(html[start..end].to_owned())
}

#[tokio::test]
async fn the_pages_show_the_figures_the_api_gives_for_the_same_query() {
    for store in stores::stores("pages_vs_api").await {
        let config = merit_sim::ScenarioConfig {
            days: 5,
            agents: 12,
            ..merit_sim::ScenarioConfig::default()
        };
        let collected = load_simulation(&store, &config).await;
        let organisation = store.load_organisation(DEFAULT_TENANT).await.unwrap();
        let me = organisation.agents[0].id.clone();
        let clock = Arc::new(TestClock::default());
        let cli = Caller::command_line(DEFAULT_TENANT);
        let new = NewUser {
            username: "me".into(),
            display_name: "me".into(),
            password: PASSWORD.into(),
            role: Role::Agent,
            scope: Scope::OwnRecords,
            agent_id: Some(me.clone()),
        };
        add_user(&store, clock.as_ref(), &cli, new).await.unwrap();
        let mut agent = Browser::new(app(&store, clock.clone()));
        agent.sign_in("me", PASSWORD).await;
        let last = config.start.checked_add(jiff::Span::new().days(4)).unwrap();
        let period = format!("from={}&to={last}", config.start);
        let page = agent.get(&format!("/performance?{period}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let api = agent
            .get(&format!("/api/v1/reports/kpi?{period}"))
            .await
            .json();
        for f in api["total"]["figures"].as_array().unwrap() {
            let name = f["definition"].as_str().unwrap();
            let expected = match f["denominator"].as_i64() {
                Some(d) => format!("{} / {d}", f["numerator"]),
                None => f["numerator"].to_string(),
            };
            assert_eq!(
                shown(&page.body, name).as_deref(),
                Some(expected.as_str()),
                "{name}"
            );
        }
        // From a figure to the rows behind it, and on to a contact's page.
        let drill = agent
            .get(&format!(
                "/drill?kpi=handled&{period}&by=agent&group={me}&part=numerator"
            ))
            .await;
        assert_eq!(drill.status, StatusCode::OK);
        let handled = collected
            .contacts
            .iter()
            .filter(|c| c.agent_id.as_deref() == Some(me.as_str()) && c.outcome == Outcome::Handled)
            .collect::<Vec<_>>();
        assert!(
            drill
                .body
                .contains(&format!("The numerator: {} rows", handled.len())),
            "{}",
            drill.body
        );
        let first = handled[0];
        assert!(
            drill
                .body
                .contains(&format!("href=\"/contacts/{}/", first.source_system))
        );
        let contact = agent
            .get(&format!(
                "/contacts/{}/{}",
                first.source_system,
                first.source_id.replace('/', "%2F")
            ))
            .await;
        assert_eq!(contact.status, StatusCode::OK);
        assert!(
            contact.body.contains(&format!("answered by {me}")),
            "{}",
            contact.body
        );
        assert!(!support::has_inline_script_or_style(&contact.body));
        // A surveyed contact's page shows the customer's answers.
        let surveyed = collected
            .surveys
            .iter()
            .find(|s| s.agent_id.as_deref() == Some(me.as_str()) && s.contact_source_id.is_some())
            .unwrap();
        let contact_id = surveyed.contact_source_id.clone().unwrap();
        let page = agent
            .get(&format!(
                "/contacts/{}/{}",
                surveyed.source_system,
                contact_id.replace('/', "%2F")
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        for answer in &surveyed.answers {
            if let Some(value) = answer.value {
                let cell = format!(
                    "<td>{}</td><td>{value} ({})",
                    answer.question_id,
                    answer.scale.as_str()
                );
                assert!(page.body.contains(&cell), "{cell} in {}", page.body);
            }
        }
        // My performance lists every contact whose customer answered the
        // CSAT question, each once, with the answers.
        let mine = agent.get(&format!("/performance?{period}")).await;
        let mine = mine.body.replace("&#x2f;", "/");
        let section = &mine[mine.find("id=\"surveys\"").unwrap()..];
        let csat = merit_domain::survey::questions::SATISFIED_WITH_ANSWERS;
        let mut answered: Vec<&str> = collected
            .surveys
            .iter()
            .filter(|s| s.agent_id.as_deref() == Some(me.as_str()))
            .filter(|s| {
                s.answers
                    .iter()
                    .any(|a| a.question_id == csat && a.value.is_some())
            })
            .filter_map(|s| s.contact_source_id.as_deref())
            .collect();
        answered.sort();
        answered.dedup();
        assert!(!answered.is_empty());
        assert_eq!(
            section
                .matches("<tr><th scope=\"row\"><a href=\"/contacts/")
                .count(),
            answered.len()
        );
        for id in answered {
            assert!(section.contains(&format!(">{id}</a></th>")), "{id}");
        }
        assert!(section.contains(&format!("<li>{csat}: ")));
        // Another agent's page is not there for them.
        let other = &organisation.agents[1].id;
        assert_eq!(
            agent.get(&format!("/agents/{other}?{period}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn the_operations_page_adds_up_the_apis_counts() {
    let store = stores::stores("operations_page").await.remove(0);
    let config = merit_sim::ScenarioConfig {
        days: 7,
        agents: 12,
        ..merit_sim::ScenarioConfig::default()
    };
    load_simulation(&store, &config).await;
    let clock = Arc::new(TestClock::default());
    support::add_users(&store, clock.as_ref()).await;
    let mut ops = Browser::new(app(&store, clock.clone()));
    ops.sign_in("operations", PASSWORD).await;
    let last = config.start.checked_add(jiff::Span::new().days(6)).unwrap();
    let period = format!("from={}&to={last}", config.start);
    let page = ops.get(&format!("/operations?{period}&interval=60m")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!support::has_inline_script_or_style(&page.body));
    // This period's offered is the API's.
    let api = ops
        .get(&format!("/api/v1/reports/kpi?{period}&kpi=offered"))
        .await
        .json();
    let offered = api["total"]["figures"][0]["numerator"].as_i64().unwrap();
    let page_body = page.body.replace("&#x2f;", "/");
    assert!(
        page_body
            .contains(&format!("data-kpi=\"offered\"><a href=\"/drill?kpi=offered&amp;from={}&amp;to={last}\">{offered}<", config.start)),
        "{offered}"
    );
    // Every channel's offered count is the API's by channel.
    let by_channel = ops
        .get(&format!(
            "/api/v1/reports/kpi?{period}&kpi=offered&by=channel"
        ))
        .await
        .json();
    for row in by_channel["rows"].as_array().unwrap() {
        let n = row["figures"][0]["numerator"].as_i64().unwrap();
        if n > 0 {
            let channel = row["group"][0].as_str().unwrap();
            let cell = format!(
                "<th scope=\"row\">{channel}</th><td class=\"num\" data-kpi=\"offered\"><a href=\"/drill?kpi=offered&amp;from={}&amp;to={last}&amp;by=channel&amp;group={channel}\">{n}</a></td>",
                config.start
            );
            assert!(page_body.contains(&cell), "{cell}");
        }
    }
    // A heatmap cell: the API's hourly numerators and denominators summed
    // over the same weekday and hour (the heatmap covers 28 days to `to`).
    let from28 = last.checked_sub(jiff::Span::new().days(27)).unwrap();
    let hourly = ops
        .get(&format!(
            "/api/v1/reports/kpi?from={from28}&to={last}&kpi=service_level&by=interval&interval=60m"
        ))
        .await
        .json();
    let (mut n, mut d) = (0i64, 0i64);
    for row in hourly["rows"].as_array().unwrap() {
        let label = row["group"][0].as_str().unwrap();
        let day: jiff::civil::Date = label[..10].parse().unwrap();
        if day.weekday() == jiff::civil::Weekday::Tuesday && &label[11..13] == "10" {
            n += row["figures"][0]["numerator"].as_i64().unwrap();
            d += row["figures"][0]["denominator"].as_i64().unwrap_or(0);
        }
    }
    assert!(d > 0);
    let tuesday = page
        .body
        .split("<th scope=\"row\">Tuesday</th>")
        .nth(1)
        .unwrap();
    assert!(
        tuesday.contains(&format!("{:.0} %", n as f64 * 100.0 / d as f64)),
        "{n}/{d} in {}",
        &tuesday[..tuesday.find("</tr>").unwrap()]
    );
    // The cell opens the contacts behind it: those of every Tuesday at 10.
    let row = &tuesday[..tuesday.find("</tr>").unwrap()];
    let link = row
        .split("href=\"")
        .skip(1)
        .map(|h| &h[..h.find('"').unwrap()])
        .find(|h| h.contains("%2010%3A00"))
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#x2f;", "/");
    let drill = ops.get(&link).await;
    assert_eq!(drill.status, StatusCode::OK, "{link}");
    assert!(
        drill.body.contains(&format!("The denominator: {d} rows")),
        "{link}: {}",
        &drill.body[..drill.body.len().min(600)]
    );
    // And its CSV, through the API, holds the same rows.
    let body = drill.body.replace("&amp;", "&").replace("&#x2f;", "/");
    let csv_link = body
        .split("href=\"")
        .map(|h| &h[..h.find('"').unwrap_or(0)])
        .find(|h| h.starts_with("/api/v1/reports/contacts?"))
        .unwrap();
    let csv = ops.get(csv_link).await.body;
    assert_eq!(csv.lines().count() as i64, d + 1, "{csv_link}");
}

/// "Needs attention": an agent is listed for a KPI when its weekly figure
/// missed the target in 2 of the 3 weeks, counted here from the API's
/// weekly values and the target itself.
#[tokio::test]
async fn the_team_page_lists_who_missed_a_target_in_two_of_three_weeks() {
    let store = stores::stores("needs_attention").await.remove(0);
    let config = merit_sim::ScenarioConfig {
        days: 21,
        agents: 12,
        ..merit_sim::ScenarioConfig::default()
    };
    load_simulation(&store, &config).await;
    let clock = Arc::new(TestClock::default());
    add_users(&store, clock.as_ref()).await;
    let mut ops = Browser::new(app(&store, clock.clone()));
    ops.sign_in("operations", PASSWORD).await;
    // Three whole weeks: from the Monday on or before the start.
    let back = i64::from(config.start.weekday().to_monday_zero_offset());
    let monday = config
        .start
        .checked_sub(jiff::Span::new().days(back))
        .unwrap();
    let sunday = monday.checked_add(jiff::Span::new().days(20)).unwrap();
    let period = format!("from={monday}&to={sunday}");
    let weekly = ops
        .get(&format!(
            "/api/v1/reports/kpi?{period}&kpi=aht&by=agent,week"
        ))
        .await
        .json();
    // A target of the median weekly handle time: about half the weeks miss it.
    let mut values: Vec<f64> = weekly["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["figures"][0]["value"].as_f64())
        .collect();
    values.sort_by(f64::total_cmp);
    let target = values[values.len() / 2];
    let set = ops
        .json(
            Method::POST,
            "/api/v1/targets",
            Some(serde_json::json!({"definition": "aht", "scope": "centre", "effective_from": monday.to_string(), "target": target, "amber_limit": target + 30.0})),
        )
        .await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);
    let mut misses: BTreeMap<String, usize> = BTreeMap::new();
    for row in weekly["rows"].as_array().unwrap() {
        // Lower handle time is better: a week above the target missed it.
        if row["figures"][0]["value"]
            .as_f64()
            .is_some_and(|v| v > target)
        {
            *misses
                .entry(row["group"][0].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    let expected: Vec<&String> = misses
        .iter()
        .filter(|(_, n)| **n >= 2)
        .map(|(a, _)| a)
        .collect();
    assert!(!expected.is_empty() && expected.len() < 12, "{misses:?}");
    let page = ops.get(&format!("/team?{period}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let section = &page.body
        [page.body.find("id=\"attention\"").unwrap()..page.body.find("</section>").unwrap()];
    let listed: Vec<&str> = section
        .split("<tr><th scope=\"row\"><a href=\"/agents/")
        .skip(1)
        .filter(|row| row.contains(">aht</a>"))
        .map(|row| &row[..row.find('?').unwrap()])
        .collect();
    assert_eq!(listed, expected, "{section}");
}

/// A contact's recording is a link only when it is a web address: a
/// `javascript:` address from an import is shown as text, never linked.
#[tokio::test]
async fn a_recording_is_linked_only_when_it_is_a_web_address() {
    let store = stores::stores("recording_links").await.remove(0);
    let clock = Arc::new(TestClock::default());
    add_users(&store, clock.as_ref()).await;
    support::add_organisation(&store).await;
    let mut admin = Browser::new(app(&store, clock));
    admin.sign_in("admin", PASSWORD).await;
    let web = admin
        .get("/contacts/test/c-a1")
        .await
        .body
        .replace("&#x2f;", "/");
    assert!(
        web.contains("<a href=\"https://recordings.example/c-a1.wav\" rel=\"noreferrer\">"),
        "{web}"
    );
    let script = admin.get("/contacts/test/c-a2").await.body;
    assert!(!script.contains("href=\"javascript:"), "{script}");
    assert!(
        script.contains("javascript:alert(1) (not a web address, so not a link)"),
        "{script}"
    );
}

/// Pages keep the reports they read until something changes: a target set
/// after a page was seen shows at once on the next view.
#[tokio::test]
async fn a_page_seen_before_a_change_shows_the_change_next_time() {
    let store = stores::stores("page_memo").await.remove(0);
    let config = merit_sim::ScenarioConfig {
        days: 7,
        agents: 6,
        ..merit_sim::ScenarioConfig::default()
    };
    load_simulation(&store, &config).await;
    let clock = Arc::new(TestClock::default());
    add_users(&store, clock.as_ref()).await;
    let mut ops = Browser::new(app(&store, clock.clone()));
    ops.sign_in("operations", PASSWORD).await;
    let page = format!("/performance?from={}&to={}", config.start, config.start);
    let before = ops.get(&page).await.body;
    assert!(!before.contains("zone-"), "no target yet");
    let set = ops
        .json(
            Method::POST,
            "/api/v1/targets",
            Some(serde_json::json!({"definition": "offered", "scope": "centre", "effective_from": config.start.to_string(), "target": 1_000_000, "amber_limit": 0})),
        )
        .await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);
    let after = ops.get(&page).await.body;
    assert!(after.contains("zone zone-amber"), "{after}");
    // A page kept for one user is never shown to another (same server).
    let mut admin = Browser::new(ops.app.clone());
    admin.sign_in("admin", PASSWORD).await;
    let theirs = admin.get(&page).await.body;
    assert!(theirs.contains("(administrator)") && !theirs.contains("(operations_manager)"));
}
