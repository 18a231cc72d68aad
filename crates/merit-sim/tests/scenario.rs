//! The default scenario lands in the ranges SCENARIOS.md and the foundation
//! issue ask for, and is deterministic from its seed.

use merit_domain::contact::{Contact, Outcome};
use merit_domain::organisation::Channel;
use merit_sim::{Collected, ScenarioConfig, simulate_centre};

fn queue_figures(contacts: &[Contact], queue: &str) -> (f64, f64, usize) {
    let of_queue: Vec<&Contact> = contacts
        .iter()
        .filter(|c| c.queue_id.as_deref() == Some(queue))
        .collect();
    let answered: Vec<&&Contact> = of_queue.iter().filter(|c| c.answer_ms.is_some()).collect();
    let abandoned = of_queue
        .iter()
        .filter(|c| c.outcome == Outcome::QueueAbandon)
        .count();
    let within = answered
        .iter()
        .filter(|c| c.wait_ms().unwrap_or(0) <= 20_000)
        .count();
    let offered = answered.len() + abandoned;
    (
        within as f64 / offered as f64,
        abandoned as f64 / offered as f64,
        offered,
    )
}

#[test]
fn default_scenario_lands_in_realistic_ranges() {
    let mut collected = Collected::default();
    let records = simulate_centre(&ScenarioConfig::default(), &mut collected);
    assert_eq!(records.organisation.agents.len(), 60);
    assert_eq!(records.organisation.teams.len(), 6);
    assert_eq!(records.organisation.queues.len(), 6);
    for queue in ["billing", "outages", "moving_home"] {
        let (service_level, abandon_rate, offered) = queue_figures(&collected.contacts, queue);
        eprintln!(
            "{queue}: offered {offered}, SL(20) {service_level:.3}, abandoned {abandon_rate:.3}"
        );
        assert!(
            (0.70..=0.90).contains(&service_level),
            "{queue} SL {service_level}"
        );
        assert!(
            (0.03..=0.10).contains(&abandon_rate),
            "{queue} abandon {abandon_rate}"
        );
    }
    for channel in [Channel::Chat, Channel::Email, Channel::VoiceOutbound] {
        assert!(
            collected.contacts.iter().any(|c| c.channel == channel),
            "{channel:?}"
        );
    }
    for contact in &collected.contacts {
        contact
            .validate()
            .unwrap_or_else(|e| panic!("{}: {e}", contact.source_id));
    }
    assert!(collected.surveys.len() > 1000);
    // Leavers' memberships end the day after their last day; nobody belongs to a team after leaving.
    let leavers: Vec<_> = records
        .organisation
        .agents
        .iter()
        .filter(|a| a.employment_end_date.is_some())
        .collect();
    assert_eq!(leavers.len(), 2);
    for leaver in leavers {
        let last_day = leaver.employment_end_date.unwrap();
        for m in records
            .organisation
            .memberships
            .iter()
            .filter(|m| m.agent_id == leaver.id)
        {
            assert!(
                m.to_date
                    .is_some_and(|to| to <= last_day.tomorrow().unwrap()),
                "{m:?}"
            );
        }
    }
    let movers = records
        .organisation
        .memberships
        .iter()
        .filter(|m| m.to_date.is_some())
        .count();
    assert!(
        movers >= 3,
        "two leavers and one team move end a membership"
    );
    assert!(
        !records.states.is_empty() && !records.schedules.is_empty() && !records.absences.is_empty()
    );
}

#[test]
fn same_seed_same_centre() {
    let config = ScenarioConfig {
        days: 7,
        agents: 20,
        seed: 3,
        ..ScenarioConfig::default()
    };
    let run = || {
        let mut collected = Collected::default();
        let records = simulate_centre(&config, &mut collected);
        (collected.contacts, records.states.len())
    };
    let (first, first_states) = run();
    let (second, second_states) = run();
    assert!(!first.is_empty());
    assert_eq!(first, second);
    assert_eq!(first_states, second_states);
}
