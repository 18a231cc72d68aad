//! The KPI engine on small hand-built data: every expected figure is worked
//! out by hand in the test.

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use merit_domain::contact::Outcome;
use merit_domain::metrics::compute::{drill_down, report};
use merit_domain::metrics::*;
use merit_domain::organisation::{Channel, Organisation, TeamMembership};

const DAY_MS: i64 = 86_400_000;
/// 2026-08-03 00:00 UTC.
const T0: i64 = 1_785_715_200_000;

fn contact(id: usize, arrival_ms: i64, outcome: Outcome, wait_s: Option<i64>) -> ContactFacts {
    let answered = outcome == Outcome::Handled;
    ContactFacts {
        source_system: "test".into(),
        source_id: format!("c{id}"),
        channel: Channel::VoiceInbound,
        queue_id: Some("billing".into()),
        contact_type: Some("question".into()),
        customer_id: None,
        agent_id: answered.then(|| "ag1".into()),
        wrap_up_code: None,
        arrival_ms,
        end_ms: arrival_ms + 60_000,
        outcome,
        wait_ms: wait_s.map(|s| s * 1000),
        answered,
        talk_ms: if answered { 100_000 } else { 0 },
        hold_ms: if answered { 20_000 } else { 0 },
        after_work_ms: if answered { 30_000 } else { 0 },
        transferred: false,
        first_response_ms: None,
        resolution_ms: None,
        sale_minor: None,
        sale_cancelled: false,
    }
}

fn version(kpi: Kpi, version: i64, from: Date, options: KpiOptions) -> DefinitionVersion {
    DefinitionVersion {
        name: kpi.as_str().into(),
        kpi,
        version,
        effective_from: from,
        options,
        recorded_ms: 0,
        recorded_by: "test".into(),
        reason: None,
        recorded_on: date(1970, 1, 1),
    }
}

fn history(kpi: Kpi) -> DefinitionHistory {
    DefinitionHistory {
        versions: vec![version(
            kpi,
            1,
            date(1970, 1, 1),
            KpiOptions::default_for(kpi),
        )],
    }
}

fn utc_org() -> OrgView {
    OrgView::new(&Organisation::default(), TimeZone::UTC)
}

fn total(table: &ContactTable, kpi: Kpi) -> Figure {
    let org = utc_org();
    let frame = Frame::new(
        table,
        &[],
        &org,
        date(2026, 1, 1),
        date(2026, 12, 31),
        i64::MAX,
    );
    let h = history(kpi);
    report(&frame, &[(&h, None)], &[]).total.figures[0].clone()
}

/// The source brief's example: 1,600 of 2,000 answered within 20 s = 80 %,
/// plus abandons: 100 after 60 s (counted), 50 within 5 s (short, excluded).
fn brief_table() -> ContactTable {
    let mut t = ContactTable::default();
    let mut id = 0;
    let mut add = |t: &mut ContactTable, n: usize, outcome, wait| {
        for _ in 0..n {
            id += 1;
            t.push(contact(id, T0 + id as i64 * 1000, outcome, wait));
        }
    };
    add(&mut t, 1_000, Outcome::Handled, None); // answered at once: wait 0
    add(&mut t, 600, Outcome::Handled, Some(20)); // within T (wait ≤ T)
    add(&mut t, 400, Outcome::Handled, Some(45));
    add(&mut t, 100, Outcome::QueueAbandon, Some(60));
    add(&mut t, 50, Outcome::ShortAbandon, Some(5));
    add(&mut t, 30, Outcome::MenuAbandon, None);
    t
}

#[test]
fn service_level_variants_side_by_side() {
    let t = brief_table();
    let sl = |variant| {
        let org = utc_org();
        let frame = Frame::new(&t, &[], &org, date(2026, 8, 1), date(2026, 8, 31), i64::MAX);
        let options = KpiOptions {
            service_level_variant: variant,
            ..KpiOptions::default()
        };
        let h = DefinitionHistory {
            versions: vec![version(Kpi::ServiceLevel, 1, date(1970, 1, 1), options)],
        };
        let f = report(&frame, &[(&h, None)], &[]).total.figures[0].clone();
        (f.numerator, f.denominator)
    };
    // Default: answered within 20 s ÷ (answered + abandons after 5 s).
    assert_eq!(
        sl(ServiceLevelVariant::AnsweredOverOffered),
        (1_600, Some(2_100))
    );
    // Answered only: the brief's 1,600 of 2,000.
    assert_eq!(sl(ServiceLevelVariant::AnsweredOnly), (1_600, Some(2_000)));
    // (answered within + abandoned within) ÷ (answered + abandoned): the
    // 100 abandons waited 60 s, none within.
    assert_eq!(
        sl(ServiceLevelVariant::AbandonsWithinCount),
        (1_600, Some(2_100))
    );
    // answered within ÷ (answered + abandoned after T): all 100 after T.
    assert_eq!(
        sl(ServiceLevelVariant::AbandonsAfterOnly),
        (1_600, Some(2_100))
    );
}

#[test]
fn offered_abandons_and_waits_follow_the_spec() {
    let t = brief_table();
    assert_eq!(total(&t, Kpi::Offered).numerator, 2_100);
    assert_eq!(total(&t, Kpi::ShortAbandons).numerator, 50);
    assert_eq!(total(&t, Kpi::MenuAbandons).numerator, 30);
    let abandon = total(&t, Kpi::AbandonRate);
    assert_eq!((abandon.numerator, abandon.denominator), (100, Some(2_100)));
    // ASA: (600 × 20 + 400 × 45) s ÷ 2,000 answered = 15 s.
    let asa = total(&t, Kpi::Asa);
    assert_eq!(asa.numerator, (600 * 20 + 400 * 45) * 1000);
    assert_eq!(asa.value, Some(15.0));
    // Mean wait of abandoners, short ones included: (100 × 60 + 50 × 5) ÷ 150.
    assert_eq!(total(&t, Kpi::AbandonWait).value, Some(6_250.0 / 150.0));
    // Waits of the 2,100 offered sorted: 1,000 × 0, 600 × 20, 400 × 45,
    // 100 × 60. p90 = the ceil(0.9 × 2,100) = 1,890th: 45 s. Longest 60 s.
    assert_eq!(total(&t, Kpi::WaitPercentile).value, Some(45.0));
    assert_eq!(total(&t, Kpi::LongestWait).value, Some(60.0));
    // AHT: talk 100 + hold 20 + after-call work 30 = 150 s.
    assert_eq!(total(&t, Kpi::Aht).value, Some(150.0));
    let hold_ratio = total(&t, Kpi::HoldRatio);
    assert_eq!(hold_ratio.value, Some(20.0 / 150.0 * 100.0));
}

#[test]
fn an_empty_denominator_is_not_a_number() {
    let mut t = ContactTable::default();
    t.push(contact(1, T0, Outcome::MenuAbandon, None));
    let sl = total(&t, Kpi::ServiceLevel);
    assert_eq!((sl.numerator, sl.denominator, sl.value), (0, Some(0), None));
    assert_eq!(sl.display(), "n/a");
    assert_eq!(total(&t, Kpi::Aht).display(), "n/a");
}

#[test]
fn a_version_applies_from_its_day_and_a_pinned_version_to_every_day() {
    let mut t = ContactTable::default();
    // Day 1 and day 3, both answered after 25 s.
    t.push(contact(1, T0, Outcome::Handled, Some(25)));
    t.push(contact(2, T0 + 2 * DAY_MS, Outcome::Handled, Some(25)));
    let thirty = KpiOptions {
        threshold_s: 30,
        ..KpiOptions::default()
    };
    let h = DefinitionHistory {
        versions: vec![
            version(
                Kpi::ServiceLevel,
                1,
                date(1970, 1, 1),
                KpiOptions::default(),
            ),
            version(Kpi::ServiceLevel, 2, date(2026, 8, 4), thirty),
        ],
    };
    let org = utc_org();
    let frame = Frame::new(&t, &[], &org, date(2026, 8, 3), date(2026, 8, 5), i64::MAX);
    let r = report(&frame, &[(&h, None)], &[Dimension::Day]);
    let by_day: Vec<(String, i64, Vec<i64>)> = r
        .rows
        .iter()
        .map(|row| {
            (
                row.group[0].clone(),
                row.figures[0].numerator,
                row.figures[0].versions.clone(),
            )
        })
        .collect();
    assert_eq!(
        by_day,
        vec![
            ("2026-08-03".into(), 0, vec![1]),
            // A day with no contacts is listed, its rate n/a.
            ("2026-08-04".into(), 0, vec![]),
            ("2026-08-05".into(), 1, vec![2])
        ]
    );
    assert_eq!(r.rows[1].figures[0].value, None);
    assert!(
        r.flags
            .iter()
            .any(|f| f.contains("changed within the period"))
    );
    // Both versions side by side over the same days.
    let side_by_side = report(&frame, &[(&h, Some(1)), (&h, Some(2))], &[]);
    let labelled: Vec<(&str, i64)> = side_by_side
        .total
        .figures
        .iter()
        .map(|f| (f.definition.as_str(), f.numerator))
        .collect();
    assert_eq!(labelled, [("service_level@1", 0), ("service_level@2", 2)]);
    assert!(side_by_side.flags.is_empty());
}

#[test]
fn fcr_counts_repeats_within_the_window_but_not_transfer_continuations() {
    let mut t = ContactTable::default();
    let c = |id, customer: &str, arrival, transferred| {
        let mut f = contact(id, arrival, Outcome::Handled, Some(0));
        f.customer_id = Some(customer.into());
        f.transferred = transferred;
        f
    };
    t.push(c(1, "alice", T0, false)); // repeated by 2 within 7 days
    t.push(c(2, "alice", T0 + 3 * DAY_MS, false)); // resolved: next is 9 days later
    t.push(c(3, "alice", T0 + 12 * DAY_MS, true)); // transferred; 4 is within grace
    t.push(c(4, "alice", T0 + 12 * DAY_MS + 60_000 + 30_000, false)); // resolved
    t.push(c(5, "bob", T0, false)); // resolved
    let mut unknown = contact(6, T0, Outcome::Handled, Some(0));
    unknown.customer_id = None;
    t.push(unknown); // not counted: unidentified
    let f = total(&t, Kpi::FcrRepeat);
    assert_eq!((f.numerator, f.denominator), (4, Some(5)));
    assert!(!f.provisional);
    // As of one day after contact 5's end, windows are still open.
    let org = utc_org();
    let frame = Frame::new(
        &t,
        &[],
        &org,
        date(2026, 1, 1),
        date(2026, 12, 31),
        T0 + DAY_MS,
    );
    let h = history(Kpi::FcrRepeat);
    let r = report(&frame, &[(&h, None)], &[]);
    assert!(r.total.figures[0].provisional);
    assert!(r.flags.iter().any(|f| f.contains("provisional")));
}

#[test]
fn survey_kpis_and_team_history_and_drill_down() {
    let mut t = ContactTable::default();
    // ag1 answers on day 1 and 10; changes from team A to team B on day 5.
    t.push(contact(1, T0, Outcome::Handled, Some(10)));
    t.push(contact(2, T0 + 9 * DAY_MS, Outcome::Handled, Some(30)));
    let org = Organisation {
        memberships: vec![
            TeamMembership {
                agent_id: "ag1".into(),
                team_id: "A".into(),
                from_date: date(2026, 1, 1),
                to_date: Some(date(2026, 8, 8)),
            },
            TeamMembership {
                agent_id: "ag1".into(),
                team_id: "B".into(),
                from_date: date(2026, 8, 8),
                to_date: None,
            },
        ],
        ..Organisation::default()
    };
    let view = OrgView::new(&org, TimeZone::UTC);
    let answer = |row, question: &str, value| SurveyFact {
        source_id: format!("s{row}{question}"),
        question_id: question.into(),
        value,
        answered_ms: T0 + DAY_MS,
        contact_row: Some(row),
        agent_id: None,
    };
    let surveys = vec![
        answer(0, "satisfied_with_answers", 5),
        answer(0, "recommend", 10),
        answer(1, "satisfied_with_answers", 3),
        answer(1, "recommend", 4),
        answer(1, "resolved", 1),
    ];
    let frame = Frame::new(
        &t,
        &surveys,
        &view,
        date(2026, 8, 1),
        date(2026, 8, 31),
        i64::MAX,
    );
    let (csat, nps, sl) = (
        history(Kpi::Csat),
        history(Kpi::Nps),
        history(Kpi::ServiceLevel),
    );
    let r = report(
        &frame,
        &[(&csat, None), (&nps, None), (&sl, None)],
        &[Dimension::Team],
    );
    type Fractions = Vec<(i64, Option<i64>)>;
    let rows: Vec<(String, Fractions)> = r
        .rows
        .iter()
        .map(|row| {
            (
                row.group[0].clone(),
                row.figures
                    .iter()
                    .map(|f| (f.numerator, f.denominator))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("A".into(), vec![(1, Some(1)), (1, Some(1)), (1, Some(1))]),
            ("B".into(), vec![(0, Some(1)), (-1, Some(1)), (0, Some(1))]),
        ]
    );
    // NPS over both: 1 promoter, 1 detractor of 2 = 0 points.
    assert_eq!(r.total.figures[1].value, Some(0.0));
    let behind = drill_down(&frame, &sl, None, &[Dimension::Team], &["B".into()]);
    assert_eq!(behind.len(), 1);
    assert_eq!(behind[0].source, Source::Contact(1));
}

#[test]
fn workforce_kpis_from_agent_days() {
    use merit_domain::activity::{Activity, AgentState};
    use merit_domain::metrics::workforce::{AgentActivity, agent_days};
    use merit_domain::organisation::{Agent, EmploymentEndReason};
    use std::collections::BTreeMap;
    const H: i64 = 3_600_000;
    // ag1 answers one contact (talk 100 + hold 20 + wrap 30 = 150 s) on day 1,
    // ready 08:00-16:00 UTC, scheduled on queue 08:00-16:00.
    let mut t = ContactTable::default();
    t.push(contact(1, T0 + 9 * H, Outcome::Handled, Some(0)));
    let agent = |id: &str, end: Option<Date>| Agent {
        id: id.into(),
        name: id.into(),
        site_id: "s".into(),
        hire_date: date(2026, 1, 1),
        employment_end_date: end,
        employment_end_reason: end.map(|_| EmploymentEndReason::Voluntary),
    };
    // Over 10 days ag2 leaves on day 5: headcount-days 10 + 5 = 15,
    // average headcount 1.5, attrition 1 ÷ 1.5 = 66.67 %.
    let agents = [agent("ag1", None), agent("ag2", Some(date(2026, 8, 7)))];
    let activity = BTreeMap::from([(
        "ag1".to_owned(),
        AgentActivity {
            states: vec![
                (T0 + 8 * H, AgentState::Ready),
                (T0 + 16 * H, AgentState::LoggedOut),
            ],
            schedule: vec![(T0 + 8 * H, T0 + 16 * H, Activity::OnQueue)],
        },
    )]);
    let org = utc_org();
    let (from, to) = (date(2026, 8, 3), date(2026, 8, 12));
    let utc = TimeZone::UTC;
    let days = agent_days(&agents, &activity, from, to, |_| &utc);
    let frame = Frame::new(&t, &[], &org, from, to, i64::MAX).with_agent_days(days);
    let figure = |kpi| {
        let h = history(kpi);
        report(&frame, &[(&h, None)], &[]).total.figures[0].clone()
    };
    let utilisation = figure(Kpi::Utilisation);
    assert_eq!(
        (utilisation.numerator, utilisation.denominator),
        (150_000, Some(8 * H))
    );
    assert_eq!(figure(Kpi::Occupancy).denominator, Some(8 * H));
    assert_eq!(figure(Kpi::Adherence).value, Some(100.0));
    assert_eq!(figure(Kpi::Conformance).value, Some(100.0));
    assert_eq!(figure(Kpi::ContactsPerHour).value, Some(1.0 / 8.0));
    let attrition = figure(Kpi::Attrition);
    assert_eq!((attrition.numerator, attrition.denominator), (1, Some(15)));
    assert!((attrition.value.unwrap() - 100.0 / 1.5).abs() < 1e-9);
    assert_eq!(figure(Kpi::AttritionInvoluntary).numerator, 0);
    assert!((figure(Kpi::Retention).value.unwrap() - (100.0 - 100.0 / 1.5)).abs() < 1e-9);
}

#[test]
fn first_response_time_counts_business_hours_only_when_the_definition_says_so() {
    use merit_domain::metrics::business_hours::{BusinessHours, OpeningPeriod};
    const H: i64 = 3_600_000;
    // An email on Friday 2026-08-07 at 16:00 UTC, first reply on Monday
    // 2026-08-10 at 10:00 UTC; open Monday to Friday 09:00-17:00 UTC.
    let friday_16 = T0 + 4 * DAY_MS + 16 * H;
    let mut email = contact(1, friday_16, Outcome::Handled, Some(0));
    email.channel = Channel::Email;
    email.first_response_ms = Some(T0 + 7 * DAY_MS + 10 * H);
    let mut t = ContactTable::default();
    t.push(email);
    let hours = BusinessHours {
        time_zone: "UTC".into(),
        periods: (1..=5)
            .map(|weekday| OpeningPeriod {
                weekday,
                opens: "09:00".into(),
                closes: "17:00".into(),
            })
            .collect(),
        holidays: vec![],
    };
    let org = utc_org();
    let frame = Frame::new(&t, &[], &org, date(2026, 8, 1), date(2026, 8, 31), i64::MAX);
    let figure = |kpi, business_hours: Option<BusinessHours>, threshold_s| {
        let options = KpiOptions {
            business_hours,
            threshold_s,
            ..KpiOptions::default()
        };
        let h = DefinitionHistory {
            versions: vec![version(kpi, 1, date(1970, 1, 1), options)],
        };
        report(&frame, &[(&h, None)], &[]).total.figures[0].clone()
    };
    // Calendar time: 2 days 18 hours. Business time: 1 h Friday + 1 h Monday.
    assert_eq!(
        figure(Kpi::FirstResponseTime, None, 0).value,
        Some((2.0 * 24.0 + 18.0) * 3600.0)
    );
    assert_eq!(
        figure(Kpi::FirstResponseTime, Some(hours.clone()), 0).value,
        Some(2.0 * 3600.0)
    );
    // Within a 4-hour response target only in business hours.
    assert_eq!(
        figure(Kpi::ResponseWithinTarget, Some(hours), 4 * 3600).numerator,
        1
    );
    assert_eq!(
        figure(Kpi::ResponseWithinTarget, None, 4 * 3600).numerator,
        0
    );
}
