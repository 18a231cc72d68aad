//! Edge cases of the metrics engine: a DST change, contacts crossing
//! midnight, an agent with no contacts, a queue nobody staffed, events out
//! of order, and clock skew between sources.

use jiff::civil::date;
use jiff::tz::TimeZone;
use merit_domain::contact::{Contact, Outcome};
use merit_domain::metrics::compute::report;
use merit_domain::metrics::*;
use merit_domain::organisation::{Agent, Channel, Organisation};

const H: i64 = 3_600_000;
/// 2026-10-25 00:00 UTC; Berlin leaves summer time at 01:00 UTC that day.
const DST_DAY: i64 = 1_792_886_400_000;

fn contact(id: &str, arrival_ms: i64, agent: Option<&str>, queue: &str, wait_s: i64) -> Contact {
    let answer = agent.map(|_| arrival_ms + wait_s * 1000);
    Contact {
        source_system: "test".into(),
        source_id: id.into(),
        channel: Channel::VoiceInbound,
        queue_id: Some(queue.into()),
        contact_type: None,
        customer_id: None,
        agent_id: agent.map(str::to_owned),
        arrival_ms,
        menu_exit_ms: None,
        queue_entry_ms: Some(arrival_ms),
        queue_exit_ms: answer.is_none().then_some(arrival_ms + wait_s * 1000),
        answer_ms: answer,
        holds: vec![],
        transfers: vec![],
        end_ms: answer.map_or(arrival_ms + wait_s * 1000, |a| a + 2 * H),
        after_work_end_ms: None,
        outcome: if agent.is_some() {
            Outcome::Handled
        } else {
            Outcome::QueueAbandon
        },
        wrap_up_code: None,
        recording_url: None,
        first_response_ms: None,
        resolution_ms: None,
        sale: None,
    }
}

fn definition(kpi: Kpi) -> DefinitionHistory {
    DefinitionHistory {
        versions: vec![DefinitionVersion {
            name: kpi.as_str().into(),
            kpi,
            version: 1,
            effective_from: date(1970, 1, 1),
            options: KpiOptions::default_for(kpi),
            recorded_ms: 0,
            recorded_by: "test".into(),
            reason: None,
            recorded_on: date(1970, 1, 1),
        }],
    }
}

fn table(contacts: &[Contact]) -> ContactTable {
    let mut t = ContactTable::default();
    for c in contacts {
        t.push(ContactFacts::from_contact(c));
    }
    t
}

fn org() -> Organisation {
    let agent = |id: &str| Agent {
        id: id.into(),
        name: id.into(),
        site_id: "berlin".into(),
        hire_date: date(2026, 1, 1),
        employment_end_date: None,
        employment_end_reason: None,
    };
    Organisation {
        agents: vec![agent("busy"), agent("idle")],
        ..Organisation::default()
    }
}

/// (group, numerator, denominator) of one KPI by the given dimension.
fn rows(contacts: &[Contact], kpi: Kpi, dim: Dimension) -> Vec<(String, i64, Option<i64>)> {
    let t = table(contacts);
    let view = OrgView::new(&org(), TimeZone::get("Europe/Berlin").unwrap());
    let frame = Frame::new(
        &t,
        &[],
        &view,
        date(2026, 10, 25),
        date(2026, 10, 26),
        i64::MAX,
    );
    let h = definition(kpi);
    report(&frame, &[(&h, None)], &[dim])
        .rows
        .into_iter()
        .map(|r| {
            (
                r.group[0].clone(),
                r.figures[0].numerator,
                r.figures[0].denominator,
            )
        })
        .collect()
}

fn dst_contacts() -> Vec<Contact> {
    vec![
        // 02:30 summer time (+02:00), then 02:30 winter time (+01:00).
        contact("a", DST_DAY + H / 2, Some("busy"), "billing", 10),
        contact("b", DST_DAY + H + H / 2, Some("busy"), "billing", 10),
        // 23:30 local on the 25th, talking past midnight.
        contact("c", DST_DAY + 22 * H + H / 2, Some("busy"), "billing", 10),
    ]
}

#[test]
fn the_repeated_hour_makes_two_intervals_and_midnight_crossers_stay_on_their_day() {
    let by_hour = rows(&dst_contacts(), Kpi::Answered, Dimension::Interval(60));
    assert_eq!(
        by_hour,
        vec![
            ("2026-10-25 02:00+02:00".into(), 1, None),
            ("2026-10-25 02:00+01:00".into(), 1, None),
            ("2026-10-25 23:00+01:00".into(), 1, None),
        ]
    );
    let by_day = rows(&dst_contacts(), Kpi::Answered, Dimension::Day);
    assert_eq!(
        by_day,
        vec![
            ("2026-10-25".into(), 3, None),
            ("2026-10-26".into(), 0, None)
        ]
    );
}

#[test]
fn an_agent_with_no_contacts_is_listed_with_no_figures() {
    let by_agent = rows(&dst_contacts(), Kpi::Aht, Dimension::Agent);
    // AHT of "busy": 3 contacts of 2 h each; "idle": no denominator, n/a.
    assert_eq!(
        by_agent,
        vec![
            ("busy".into(), 3 * 2 * H, Some(3)),
            ("idle".into(), 0, Some(0))
        ]
    );
}

#[test]
fn a_queue_nobody_answered_has_a_service_level_of_zero_and_no_asa() {
    let mut contacts = dst_contacts();
    contacts.push(contact("n1", DST_DAY + 3 * H, None, "night", 60));
    contacts.push(contact("n2", DST_DAY + 4 * H, None, "night", 90));
    let sl = rows(&contacts, Kpi::ServiceLevel, Dimension::Queue);
    assert_eq!(sl[1], ("night".into(), 0, Some(2)));
    let asa = rows(&contacts, Kpi::Asa, Dimension::Queue);
    assert_eq!(
        asa.iter().find(|r| r.0 == "night"),
        None,
        "no answered contact: no ASA row part"
    );
}

#[test]
fn the_order_contacts_arrive_in_does_not_change_any_figure() {
    let mut contacts = dst_contacts();
    contacts.push(contact("n1", DST_DAY + 3 * H, None, "night", 60));
    let mut reversed = contacts.clone();
    reversed.reverse();
    for kpi in [
        Kpi::ServiceLevel,
        Kpi::Aht,
        Kpi::AbandonRate,
        Kpi::WaitPercentile,
    ] {
        assert_eq!(
            rows(&contacts, kpi, Dimension::Interval(30)),
            rows(&reversed, kpi, Dimension::Interval(30)),
            "{kpi:?}"
        );
    }
}

#[test]
fn an_answer_before_queue_entry_is_refused_naming_the_field() {
    let mut skewed = contact("s", DST_DAY, Some("busy"), "billing", 10);
    skewed.answer_ms = Some(DST_DAY - 5_000);
    let error = skewed.validate().unwrap_err();
    assert_eq!(error.field, "answer");
}

#[test]
fn an_agents_figures_use_the_zone_of_the_agents_site() {
    use merit_domain::organisation::{Queue, Site};
    // 2026-08-31 22:30 UTC: already 1 September in Berlin (the queue's
    // site), still 31 August in Lisbon (the agent's site).
    let arrival = 1_788_215_400_000;
    let site = |id: &str, zone: &str| Site {
        id: id.into(),
        name: id.into(),
        time_zone: zone.into(),
    };
    let org = Organisation {
        sites: vec![
            site("berlin", "Europe/Berlin"),
            site("lisbon", "Europe/Lisbon"),
        ],
        agents: vec![Agent {
            id: "lx".into(),
            name: "lx".into(),
            site_id: "lisbon".into(),
            hire_date: date(2026, 1, 1),
            employment_end_date: None,
            employment_end_reason: None,
        }],
        queues: vec![Queue {
            id: "billing".into(),
            name: "Billing".into(),
            channel: Channel::VoiceInbound,
            site_id: "berlin".into(),
        }],
        ..Organisation::default()
    };
    let t = table(&[contact("x", arrival, Some("lx"), "billing", 5)]);
    let view = OrgView::new(&org, TimeZone::get("Europe/Berlin").unwrap());
    let h = definition(Kpi::Answered);
    let september = |dims: &[Dimension]| {
        let zones = ZoneRule::for_dimensions(dims);
        let frame = Frame::in_zones(
            &t,
            &[],
            &view,
            (date(2026, 9, 1), date(2026, 9, 30)),
            i64::MAX,
            zones,
            None,
        );
        report(&frame, &[(&h, None)], dims).total.figures[0].numerator
    };
    assert_eq!(september(&[Dimension::Queue]), 1);
    assert_eq!(september(&[Dimension::Agent]), 0);
}
