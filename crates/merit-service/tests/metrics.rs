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
use merit_domain::metrics::{
    ContactFacts, ContactTable, DefinitionHistory, DefinitionVersion, Dimension, Frame, Kpi,
    OrgView, SurveyFact, Unit,
};
use merit_import::native::NativeWriter;
use merit_import::{ImportFormat, ImportKind};
use merit_service::FixedClock;
use merit_service::import::{ImportRequest, import_file};
use merit_service::metrics::{NewVersion, ReportRequest, Selected, kpi_report, new_version};
use merit_sim::{Collected, ScenarioConfig, simulate_centre};
use std::collections::HashMap;

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
    let org = OrgView::new(
        &records.organisation,
        TimeZone::get("Europe/Berlin").unwrap(),
    );
    let frame = Frame::new(
        &table,
        &surveys,
        &org,
        config.start,
        date(2026, 8, 12),
        NOW_MS,
    );
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
                        if figure.kpi.unit() != Unit::Count && figure.kpi.unit() != Unit::MinorUnits
                        {
                            let denominator: i64 = parts.iter().map(|p| p.denominator).sum();
                            assert_eq!(Some(denominator), figure.denominator, "{what}");
                        }
                    }
                }
            }
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

#[tokio::test]
async fn service_level_threshold_changed_on_day_40() {
    let config = ScenarioConfig::default();
    let mut collected = Collected::default();
    simulate_centre(&config, &mut collected);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.csv");
    let mut writer =
        NativeWriter::new(std::fs::File::create(&path).unwrap(), ImportKind::Contacts).unwrap();
    for c in &collected.contacts {
        writer.contact(c).unwrap();
    }
    writer.flush().unwrap();
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
        let import = ImportRequest {
            tenant: DEFAULT_TENANT,
            actor: "test",
            kind: ImportKind::Contacts,
            format: ImportFormat::Native,
            time_zone: None,
            path: &path,
            progress: &|_| {},
        };
        assert_eq!(
            import_file(&store, &clock, import).await.unwrap().rejected,
            0
        );
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
