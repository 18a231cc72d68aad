//! The metrics engine on the simulated demo centre: drill-down rows add up
//! to every figure, and the acceptance scenario of a service-level threshold
//! changed on day 40.

mod stores;

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use merit_domain::DEFAULT_TENANT;
use merit_domain::contact::{Contact, Outcome};
use merit_domain::metrics::compute::{drill_down, report};
use merit_domain::metrics::definition::product_defaults;
use merit_domain::metrics::workforce::{AgentActivity, agent_days};
use merit_domain::metrics::{
    ContactFacts, ContactTable, DefinitionHistory, DefinitionVersion, Dimension, Frame, Kpi,
    OrgView, SurveyFact,
};
use merit_domain::metrics::{Report, TargetScope, Zone};
use merit_import::native::NativeWriter;
use merit_import::{ImportFormat, ImportKind};
use merit_service::FixedClock;
use merit_service::import::{ImportReport, ImportRequest, import_file};
use merit_service::metrics::{
    NewVersion, ReportRequest, Selected, SetTarget, kpi_report, kpi_report_traced, new_version,
    set_target,
};
use merit_sim::{Collected, ScenarioConfig, simulate_centre};
use merit_store::Store;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// 2026-11-23 12:00 UTC: "today" for these tests, after the demo's 90 days.
const NOW_MS: i64 = 1_795_953_600_000;

fn histories() -> Vec<DefinitionHistory> {
    product_defaults()
        .into_iter()
        .map(|(name, kpi, options)| DefinitionHistory {
            versions: vec![DefinitionVersion {
                name,
                kpi,
                version: 1,
                effective_from: date(1970, 1, 1),
                options,
                recorded_ms: 0,
                recorded_by: "test".into(),
                reason: None,
                recorded_on: date(1970, 1, 1),
            }],
        })
        .collect()
}

#[test]
fn every_kpi_and_grouping_drills_down_to_its_figure() {
    let config = ScenarioConfig {
        days: 14,
        agents: 30,
        ..ScenarioConfig::default()
    };
    let mut collected = Collected::default();
    let records = simulate_centre(&config, &mut collected);
    let mut table = ContactTable::default();
    let mut row_of = HashMap::new();
    for c in &collected.contacts {
        row_of.insert(c.source_id.clone(), table.len());
        table.push(ContactFacts::from_contact(c));
    }
    let surveys: Vec<SurveyFact> = collected
        .surveys
        .iter()
        .flat_map(|s| {
            let row = s
                .contact_source_id
                .as_ref()
                .and_then(|id| row_of.get(id).copied());
            s.answers.iter().filter_map(move |a| {
                Some(SurveyFact {
                    source_id: s.source_id.clone(),
                    question_id: a.question_id.clone(),
                    value: a.value?,
                    answered_ms: s.answered_ms,
                    contact_row: row,
                    agent_id: s.agent_id.clone(),
                })
            })
        })
        .collect();
    // The QA specialists' evaluations of the sampled calls, as the service
    // hands them to the engine: a score and an auto-fail fact each.
    let mut surveys = surveys;
    let form = merit_import::quality_form::parse_form(include_str!(
        "../../../docs/examples/inbound-call-quality.toml"
    ))
    .unwrap();
    let sampled: Vec<_> = collected
        .contacts
        .iter()
        .filter(|c| merit_sim::quality::sampled_for_quality(c, config.seed))
        .cloned()
        .collect();
    for (n, e) in merit_sim::quality::plan_quality(&form, &sampled, config.seed, i64::MAX)
        .evaluations
        .iter()
        .enumerate()
    {
        let scored = merit_domain::quality::score(&form, &e.answers).unwrap();
        let row = row_of[&e.contact_source_id];
        let fact = |question_id: String, value: i64| SurveyFact {
            source_id: format!("evaluation:{n}"),
            question_id,
            value: value as i32,
            answered_ms: table.arrival_ms[row],
            contact_row: Some(row),
            agent_id: Some(e.agent_id.clone()),
        };
        let points = (scored.score.unwrap() * 100.0).round() as i64;
        surveys.push(fact(format!("qa_score:{}", form.name), points));
        let failed = i64::from(scored.form_auto_fail.is_some());
        surveys.push(fact(format!("qa_auto_fail:{}:*", form.name), failed));
    }
    let org = OrgView::new(
        &records.organisation,
        TimeZone::get("Europe/Berlin").unwrap(),
    );
    let mut activity: BTreeMap<String, AgentActivity> = BTreeMap::new();
    for st in &records.states {
        activity
            .entry(st.agent_id.clone())
            .or_default()
            .states
            .push((st.at_ms, st.state));
    }
    for seg in &records.schedules {
        activity
            .entry(seg.agent_id.clone())
            .or_default()
            .schedule
            .push((seg.start_ms, seg.end_ms, seg.activity));
    }
    for a in activity.values_mut() {
        a.states.sort_by_key(|s| s.0);
        a.schedule.sort_by_key(|s| s.0);
    }
    let (from, to) = (config.start, date(2026, 8, 12));
    let days = agent_days(&records.organisation.agents, &activity, from, to, |a| {
        org.agent_zone(a)
    });
    let frame = Frame::new(&table, &surveys, &org, from, to, NOW_MS).with_agent_days(days);
    let histories = histories();
    let dimensions = [
        Dimension::Agent,
        Dimension::Team,
        Dimension::Queue,
        Dimension::Channel,
        Dimension::ContactType,
        Dimension::Site,
        Dimension::Interval(30),
        Dimension::Day,
        Dimension::Week,
        Dimension::Month,
    ];
    let asked: Vec<(&DefinitionHistory, Option<i64>)> =
        histories.iter().map(|h| (h, None)).collect();
    for dim in dimensions {
        let dims = [dim];
        let r = report(&frame, &asked, &dims);
        assert!(!r.rows.is_empty(), "{dim:?}: no rows");
        // Two groups per dimension (the first and the busiest) keep the test quick.
        let busiest = r
            .rows
            .iter()
            .max_by_key(|row| row.figures[0].numerator)
            .unwrap();
        for row in [&r.rows[0], busiest] {
            for (history, figure) in histories.iter().zip(&row.figures) {
                let parts = drill_down(&frame, history, None, &dims, &row.group);
                let what = format!("{} by {dim:?} = {:?}", figure.definition, row.group);
                match figure.kpi {
                    Kpi::WaitPercentile | Kpi::LongestWait => {
                        assert_eq!(Some(parts.len() as i64), figure.denominator, "{what}");
                        let mut waits: Vec<i64> = parts.iter().map(|p| p.numerator).collect();
                        waits.sort_unstable();
                        let p = if figure.kpi == Kpi::LongestWait {
                            100
                        } else {
                            90
                        };
                        let rank = (p * waits.len()).div_ceil(100).max(1);
                        assert_eq!(
                            waits.get(rank - 1).copied().unwrap_or(0),
                            figure.numerator,
                            "{what}"
                        );
                    }
                    _ => {
                        let numerator: i64 = parts.iter().map(|p| p.numerator).sum();
                        assert_eq!(numerator, figure.numerator, "{what}");
                        if figure.kpi.unit().has_denominator() {
                            let denominator: i64 = parts.iter().map(|p| p.denominator).sum();
                            assert_eq!(Some(denominator), figure.denominator, "{what}");
                        }
                    }
                }
            }
        }
        // Every KPI has data in the demo centre.
        for figure in &r.total.figures {
            assert!(figure.value.is_some(), "{} has no value", figure.definition);
        }
        // Groups partition the total: counts add up across rows.
        for (k, total) in r.total.figures.iter().enumerate() {
            if matches!(total.kpi, Kpi::WaitPercentile | Kpi::LongestWait) {
                continue;
            }
            let sum: i64 = r.rows.iter().map(|row| row.figures[k].numerator).sum();
            assert_eq!(sum, total.numerator, "{} by {dim:?}", total.definition);
        }
    }
}

/// Local day of an instant in the demo centre's zone.
fn local_day(utc_ms: i64) -> Date {
    jiff::Timestamp::from_millisecond(utc_ms)
        .unwrap()
        .to_zoned(TimeZone::get("Europe/Berlin").unwrap())
        .date()
}

/// Counted straight from the simulator's contacts, not through Merit:
/// answered contacts whose queue wait is over 20 s and at most 30 s.
fn answered_between_20_and_30_s(contacts: &[Contact], from: Date, to: Date) -> i64 {
    contacts
        .iter()
        .filter(|c| c.outcome == Outcome::Handled)
        .filter(|c| (from..=to).contains(&local_day(c.arrival_ms)))
        .filter_map(|c| Some(c.answer_ms? - c.queue_entry_ms?))
        .filter(|&wait| wait > 20_000 && wait <= 30_000)
        .count() as i64
}

fn request(from: Date, to: Date, definition: Selected, as_of_ms: Option<i64>) -> ReportRequest {
    ReportRequest {
        from,
        to,
        dimensions: vec![],
        definitions: vec![definition],
        as_of_ms,
    }
}

/// Simulates the centre, writes its organisation and contacts as native
/// files in `dir` and returns what it wrote, to import into each store.
fn simulate_files(config: &ScenarioConfig, dir: &Path) -> Collected {
    let mut collected = Collected::default();
    let records = simulate_centre(config, &mut collected);
    let file = |kind: ImportKind| std::fs::File::create(dir.join(kind.as_str())).unwrap();
    let mut org =
        NativeWriter::new(file(ImportKind::Organisation), ImportKind::Organisation).unwrap();
    for record in records.organisation.records() {
        org.organisation(&record).unwrap();
    }
    org.flush().unwrap();
    let mut contacts = NativeWriter::new(file(ImportKind::Contacts), ImportKind::Contacts).unwrap();
    for c in &collected.contacts {
        contacts.contact(c).unwrap();
    }
    contacts.flush().unwrap();
    collected
}

/// Imports one native file; no row may be refused.
async fn import_path(
    store: &Store,
    clock: &FixedClock,
    kind: ImportKind,
    path: &Path,
) -> ImportReport {
    let request = ImportRequest {
        tenant: DEFAULT_TENANT,
        actor: "test",
        kind,
        format: ImportFormat::Native,
        time_zone: None,
        mapping: None,
        cdr_layout: None,
        display_name: None,
        path,
        progress: &|_| {},
        alone: false,
    };
    let report = import_file(store, clock, request).await.unwrap();
    assert_eq!(report.rejected, 0);
    report
}

async fn import_files(store: &Store, clock: &FixedClock, dir: &Path) {
    for kind in [ImportKind::Organisation, ImportKind::Contacts] {
        import_path(store, clock, kind, &dir.join(kind.as_str())).await;
    }
}

#[tokio::test]
async fn service_level_threshold_changed_on_day_40() {
    let config = ScenarioConfig::default();
    let dir = tempfile::tempdir().unwrap();
    let collected = simulate_files(&config, dir.path());
    let day = |n: i64| {
        config
            .start
            .checked_add(jiff::Span::new().days(n - 1))
            .unwrap()
    };
    let sl = |pinned| Selected {
        name: "service_level".into(),
        pinned,
    };
    for store in stores::stores("threshold_day_40").await {
        let clock = FixedClock(NOW_MS);
        import_files(&store, &clock, dir.path()).await;
        let before_change = kpi_report(
            &store,
            &clock,
            DEFAULT_TENANT,
            &request(day(1), day(39), sl(None), None),
        )
        .await
        .unwrap()
        .total
        .figures[0]
            .clone();
        assert_eq!(before_change.versions, [1]);

        // Day 40 is in the past on this clock: the change restates history and needs a reason.
        let change = |reason| NewVersion {
            name: "service_level",
            kpi: None,
            effective_from: day(40),
            options_json: r#"{"threshold_s": 30}"#,
            reason,
        };
        let refused = new_version(&store, &clock, DEFAULT_TENANT, "ops", change(None)).await;
        assert!(refused.unwrap_err().to_string().contains("give a reason"));
        let recorded_at = NOW_MS + 60_000;
        let later = FixedClock(recorded_at);
        let v2 = new_version(
            &store,
            &later,
            DEFAULT_TENANT,
            "ops",
            change(Some("contract moved to 80/30")),
        )
        .await
        .unwrap();
        assert_eq!(v2.version, 2);

        // Days 1-39: unchanged, version 1.
        let after = kpi_report(
            &store,
            &later,
            DEFAULT_TENANT,
            &request(day(1), day(39), sl(None), None),
        )
        .await
        .unwrap();
        assert_eq!(after.total.figures[0], before_change);
        assert!(after.flags.is_empty(), "{:?}", after.flags);

        // Days 30-50 span the change: flagged, and restated from day 40.
        let spanning = kpi_report(
            &store,
            &later,
            DEFAULT_TENANT,
            &request(day(30), day(50), sl(None), None),
        )
        .await
        .unwrap();
        assert_eq!(spanning.total.figures[0].versions, [1, 2]);
        assert!(
            spanning
                .flags
                .iter()
                .any(|f| f.contains("changed within the period")),
            "{:?}",
            spanning.flags
        );
        assert!(
            spanning.flags.iter().any(|f| f.contains("restated by v2")),
            "{:?}",
            spanning.flags
        );
        // The earlier figures stay available: as of before v2 was recorded.
        let earlier = kpi_report(
            &store,
            &later,
            DEFAULT_TENANT,
            &request(day(40), day(50), sl(None), Some(recorded_at - 1)),
        )
        .await
        .unwrap();
        assert_eq!(earlier.total.figures[0].versions, [1]);

        // Days 1-39 recomputed under version 2 differ by exactly the
        // contacts answered after 20 s and within 30 s.
        let under_v2 = kpi_report(
            &store,
            &later,
            DEFAULT_TENANT,
            &request(day(1), day(39), sl(Some(2)), None),
        )
        .await
        .unwrap()
        .total
        .figures[0]
            .clone();
        assert_eq!(under_v2.versions, [2]);
        assert_eq!(under_v2.denominator, before_change.denominator);
        let expected = answered_between_20_and_30_s(&collected.contacts, day(1), day(39));
        assert!(expected > 0);
        assert_eq!(under_v2.numerator - before_change.numerator, expected);
    }
}

#[tokio::test]
async fn targets_zone_each_group_with_the_most_specific_target() {
    let config = ScenarioConfig {
        days: 7,
        agents: 18,
        ..ScenarioConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    simulate_files(&config, dir.path());
    let (from, to) = (config.start, date(2026, 8, 9));
    for store in stores::stores("targets").await {
        let clock = FixedClock(NOW_MS);
        import_files(&store, &clock, dir.path()).await;
        let org = store.load_organisation(DEFAULT_TENANT).await.unwrap();
        let agent = org.agents[0].id.clone();
        let team = org
            .memberships
            .iter()
            .find(|m| m.agent_id == agent)
            .unwrap()
            .team_id
            .clone();
        let set = |scope, target, amber_limit| SetTarget {
            definition: "aht",
            scope,
            effective_from: date(2026, 8, 1),
            target,
            amber_limit,
            direction: None,
        };
        // Lower is better for AHT: amber must be above the target.
        let refused = set_target(
            &store,
            &clock,
            DEFAULT_TENANT,
            "ops",
            set(TargetScope::Centre, 300.0, 250.0),
        )
        .await;
        assert!(refused.unwrap_err().to_string().starts_with("amber:"));
        let unknown = set_target(
            &store,
            &clock,
            DEFAULT_TENANT,
            "ops",
            set(TargetScope::Team("nope".into()), 300.0, 330.0),
        )
        .await;
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("not in the organisation")
        );
        // A centre target nobody meets (1 s), a team target everyone meets (1 h)
        // and, for one agent, a target with a wide amber band.
        set_target(
            &store,
            &clock,
            DEFAULT_TENANT,
            "ops",
            set(TargetScope::Centre, 1.0, 2.0),
        )
        .await
        .unwrap();
        set_target(
            &store,
            &clock,
            DEFAULT_TENANT,
            "ops",
            set(TargetScope::Team(team.clone()), 3600.0, 4000.0),
        )
        .await
        .unwrap();
        set_target(
            &store,
            &clock,
            DEFAULT_TENANT,
            "ops",
            set(TargetScope::Agent(agent.clone()), 1.0, 3600.0),
        )
        .await
        .unwrap();
        let by_agent = ReportRequest {
            from,
            to,
            dimensions: vec![Dimension::Agent],
            definitions: vec![Selected {
                name: "aht".into(),
                pinned: None,
            }],
            as_of_ms: None,
        };
        let report = kpi_report(&store, &clock, DEFAULT_TENANT, &by_agent)
            .await
            .unwrap();
        for row in &report.rows {
            let figure = &row.figures[0];
            let Some(target) = &figure.target else {
                assert!(
                    figure.value.is_none() || row.group[0] == "(none)",
                    "{row:?}"
                );
                continue;
            };
            let member_of_team = org.memberships.iter().any(|m| {
                m.agent_id == row.group[0]
                    && m.team_id == team
                    && m.from_date <= to
                    && m.to_date.is_none_or(|d| d > to)
            });
            let (scope, zone) = if row.group[0] == agent {
                (format!("agent:{agent}"), Zone::Amber)
            } else if member_of_team {
                (format!("team:{team}"), Zone::Green)
            } else {
                ("centre".to_owned(), Zone::Red)
            };
            assert_eq!(
                (target.scope.as_str(), target.zone),
                (scope.as_str(), zone),
                "{row:?}"
            );
        }
        assert_eq!(
            report.total.figures[0].target.as_ref().map(|t| t.zone),
            Some(Zone::Red)
        );
        let audit = store.audit_entries(DEFAULT_TENANT).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "target.set").count(), 3);
    }
}

/// A report, and the (definition, day) pairs it computed from rows.
async fn traced(store: &Store, request: &ReportRequest) -> (Report, Vec<(String, Date)>) {
    kpi_report_traced(store, &FixedClock(NOW_MS), DEFAULT_TENANT, request)
        .await
        .unwrap()
}

/// Writes the contacts that satisfy `keep` as a native file.
fn write_contacts(path: &Path, contacts: &[Contact], keep: impl Fn(&Contact) -> bool) {
    let mut writer =
        NativeWriter::new(std::fs::File::create(path).unwrap(), ImportKind::Contacts).unwrap();
    for c in contacts.iter().filter(|c| keep(c)) {
        writer.contact(c).unwrap();
    }
    writer.flush().unwrap();
}

#[tokio::test]
async fn a_day_added_updates_only_the_cached_days_it_can_change_and_matches_a_full_recompute() {
    let config = ScenarioConfig {
        days: 16,
        agents: 24,
        ..ScenarioConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let collected = simulate_files(&config, dir.path());
    let day = |n: i64| {
        config
            .start
            .checked_add(jiff::Span::new().days(n - 1))
            .unwrap()
    };
    let (first_14, day_15, all_15, revised) = (
        dir.path().join("1-14"),
        dir.path().join("15"),
        dir.path().join("1-15"),
        dir.path().join("revised"),
    );
    write_contacts(&first_14, &collected.contacts, |c| {
        local_day(c.arrival_ms) <= day(14)
    });
    write_contacts(&day_15, &collected.contacts, |c| {
        local_day(c.arrival_ms) == day(15)
    });
    write_contacts(&all_15, &collected.contacts, |c| {
        local_day(c.arrival_ms) <= day(15)
    });
    let kpis = [
        "offered",
        "answered",
        "abandon_rate",
        "service_level",
        "asa",
        "aht",
        "transfer_rate",
        "fcr_repeat",
    ];
    let request = |dimensions| ReportRequest {
        from: day(1),
        to: day(15),
        dimensions,
        definitions: kpis
            .iter()
            .map(|k| Selected {
                name: (*k).into(),
                pinned: None,
            })
            .collect(),
        as_of_ms: None,
    };
    let clock = FixedClock(NOW_MS);
    // The days each definition computed from rows.
    let days_computed = |recomputed: &[(String, Date)]| {
        let mut by_definition: BTreeMap<String, BTreeSet<Date>> = BTreeMap::new();
        for (definition, day) in recomputed {
            by_definition
                .entry(definition.clone())
                .or_default()
                .insert(*day);
        }
        by_definition
    };
    let all_days: BTreeSet<Date> = (1..=15).map(day).collect();
    // Invalidated by the added day (docs/metrics.md): its contacts' UTC
    // days and 2 days either side for time zones, and for FCR also the
    // 7-day window before them.
    let earliest = collected
        .contacts
        .iter()
        .filter(|c| local_day(c.arrival_ms) == day(15))
        .min_by_key(|c| c.arrival_ms)
        .unwrap();
    let earliest_new = earliest.arrival_ms;
    // A revision of that contact (another wrap-up code).
    let mut revision = earliest.clone();
    revision.wrap_up_code = Some("revised".into());
    write_contacts(&revised, std::slice::from_ref(&revision), |_| true);
    let utc_day = jiff::Timestamp::from_millisecond(earliest_new)
        .unwrap()
        .to_zoned(TimeZone::UTC)
        .date();
    let days_from = |back: i64| -> BTreeSet<Date> {
        let first = utc_day.checked_sub(jiff::Span::new().days(back)).unwrap();
        all_days.iter().filter(|d| **d >= first).copied().collect()
    };
    let stale: BTreeMap<String, BTreeSet<Date>> = kpis
        .iter()
        .map(|k| {
            (
                k.to_string(),
                if *k == "fcr_repeat" {
                    days_from(9)
                } else {
                    days_from(2)
                },
            )
        })
        .collect();
    assert!(
        stale["fcr_repeat"].len() < all_days.len()
            && stale["aht"].len() < stale["fcr_repeat"].len()
    );
    let every_day: BTreeMap<String, BTreeSet<Date>> = kpis
        .iter()
        .map(|k| (k.to_string(), all_days.clone()))
        .collect();
    for (store, fresh) in stores::stores("incremental")
        .await
        .into_iter()
        .zip(stores::stores("incremental_full").await)
    {
        let org = dir.path().join(ImportKind::Organisation.as_str());
        import_path(&store, &clock, ImportKind::Organisation, &org).await;
        // Nothing cached yet: no day to bring up to date.
        let first_import = import_path(&store, &clock, ImportKind::Contacts, &first_14).await;
        assert_eq!(first_import.cache_update, None);
        let (_, first) = traced(&store, &request(vec![Dimension::Agent])).await;
        assert_eq!(days_computed(&first), every_day);
        // Nothing new: every day from the cache.
        let (_, again) = traced(&store, &request(vec![Dimension::Agent])).await;
        assert!(again.is_empty());
        // Day 15 arrives: the cached days it changes are brought up to
        // date as it is imported, every one of them among those it can
        // change; the day itself for every definition, and for FCR earlier
        // days too (earlier contacts of its customers became repeats).
        let added = import_path(&store, &clock, ImportKind::Contacts, &day_15).await;
        let update = added
            .cache_update
            .expect("the cache was brought up to date");
        assert_eq!(update.dropped, 0);
        let updated = days_computed(&update.updated);
        assert_eq!(
            updated.keys().collect::<Vec<_>>(),
            stale.keys().collect::<Vec<_>>()
        );
        for (definition, days) in &updated {
            assert!(days.is_subset(&stale[definition]), "{definition}: {days:?}");
            assert!(days.contains(&day(15)), "{definition}: {days:?}");
        }
        assert!(updated["fcr_repeat"].len() > updated["aht"].len());
        // Importing it twice changes nothing the second time.
        let again = import_path(&store, &clock, ImportKind::Contacts, &day_15).await;
        assert_eq!((again.inserted, again.cache_update), (0, None));
        // Every day is read from the cache.
        let (by_agent, incremental) = traced(&store, &request(vec![Dimension::Agent])).await;
        assert!(incremental.is_empty(), "{incremental:?}");
        let (by_queue, _) = traced(
            &store,
            &request(vec![Dimension::Queue, Dimension::Interval(30)]),
        )
        .await;
        // The same figures as a store that got all 15 days at once.
        import_path(&fresh, &clock, ImportKind::Organisation, &org).await;
        import_path(&fresh, &clock, ImportKind::Contacts, &all_15).await;
        let (full_by_agent, full_by_queue) = (
            request(vec![Dimension::Agent]),
            request(vec![Dimension::Queue, Dimension::Interval(30)]),
        );
        assert_eq!(
            by_agent,
            kpi_report(&fresh, &clock, DEFAULT_TENANT, &full_by_agent)
                .await
                .unwrap()
        );
        assert_eq!(
            by_queue,
            kpi_report(&fresh, &clock, DEFAULT_TENANT, &full_by_queue)
                .await
                .unwrap()
        );
        // A revision changes a contact already counted: the days it can
        // change are deleted and recomputed by the next report, to the
        // figures of a store that got the revision too.
        for target in [&store, &fresh] {
            let report = import_path(target, &clock, ImportKind::Contacts, &revised).await;
            assert_eq!((report.updated, report.cache_update), (1, None));
        }
        let (revised_by_agent, recomputed) = traced(&store, &request(vec![Dimension::Agent])).await;
        assert_eq!(days_computed(&recomputed), stale);
        assert_eq!(
            revised_by_agent,
            kpi_report(&fresh, &clock, DEFAULT_TENANT, &full_by_agent)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn a_day_marked_stale_is_left_out_until_brought_up_to_date_or_computed_again() {
    let key = ("aht", 1, "agent");
    let days = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)];
    let bytes = |text: &str| text.as_bytes().to_vec();
    for store in stores::stores("stale_marks").await {
        let tenant = DEFAULT_TENANT;
        let cached = async |store: &Store| {
            let cached = store.cached_days(tenant, key, days[0], days[2]);
            cached.await.unwrap()
        };
        let stale = async |store: &Store, batch| {
            let stale = store.stale_cached_days(tenant, batch).await.unwrap();
            let mut stale: Vec<_> = stale.into_iter().map(|d| (d.day, d.aggregates)).collect();
            stale.sort();
            stale
        };
        let texts = ["one", "two", "three"];
        let first: Vec<_> = days
            .iter()
            .zip(texts)
            .map(|(d, t)| (*d, bytes(t)))
            .collect();
        store.put_cached_days(tenant, key, &first, 1).await.unwrap();
        assert_eq!(cached(&store).await, first);
        // An import of added contacts marks the three days with its batch
        // (the statement of ImportTx's cache invalidation).
        let marked = store
            .execute_raw(
                "INSERT INTO kpi_cache_stale (tenant_id, definition, version, projection, day, batch)
                 SELECT tenant_id, definition, version, projection, day, 7 FROM kpi_cache",
            )
            .await
            .unwrap();
        assert_eq!(marked, 3);
        assert!(cached(&store).await.is_empty());
        assert_eq!(stale(&store, 7).await, first);
        assert!(stale(&store, 8).await.is_empty());
        // The update of batch 7 reads the marked days; meanwhile a report
        // computes the first one again from rows: it is current, and no
        // longer marked.
        let marked_days = store.stale_cached_days(tenant, 7).await.unwrap();
        let recomputed = vec![(days[0], bytes("one, from rows"))];
        store
            .put_cached_days(tenant, key, &recomputed, 2)
            .await
            .unwrap();
        assert_eq!(cached(&store).await, recomputed);
        assert_eq!(stale(&store, 7).await, first[1..]);
        // The update replaces the first two days and drops the third: the
        // first, no longer its to change, keeps the report's figures.
        let day_of = |d: Date| marked_days.iter().find(|s| s.day == d).unwrap();
        let replaced = [
            (day_of(days[0]), bytes("one, updated")),
            (day_of(days[1]), bytes("two, updated")),
        ];
        store
            .refresh_cached_days(tenant, 7, &replaced, &[day_of(days[2])], 3)
            .await
            .unwrap();
        assert_eq!(
            cached(&store).await,
            [
                (days[0], bytes("one, from rows")),
                (days[1], bytes("two, updated"))
            ]
        );
        assert!(stale(&store, 7).await.is_empty());
        // No mark is left, not even the dropped day's.
        let left = "DELETE FROM kpi_cache_stale";
        assert_eq!(store.execute_raw(left).await.unwrap(), 0);
    }
}
