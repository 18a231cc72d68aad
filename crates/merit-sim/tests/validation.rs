//! The engine against queueing theory: a single M/M/N queue must give Erlang
//! C's waiting probability and service level, and with exponential patience
//! Erlang A's, within 2 percentage points over 200,000 contacts.

use merit_domain::contact::{Contact, Outcome};
use merit_domain::erlang::{
    Load, erlang_a, erlang_a_service_level, erlang_c, erlang_c_service_level,
};
use merit_sim::{SingleQueue, simulate_single_queue};

/// Share of arrivals that waited, and share answered within 20 s of all
/// arrivals, counted from the contacts. The first 5 % are dropped as warm-up.
fn measured(contacts: &[Contact]) -> (f64, f64, f64) {
    let mut sorted: Vec<&Contact> = contacts.iter().collect();
    sorted.sort_by_key(|c| c.arrival_ms);
    let steady = &sorted[sorted.len() / 20..];
    let n = steady.len() as f64;
    let waited = steady
        .iter()
        .filter(|c| c.wait_ms().unwrap_or(0) > 0)
        .count() as f64;
    let within = steady
        .iter()
        .filter(|c| c.outcome == Outcome::Handled && c.wait_ms().unwrap_or(0) <= 20_000)
        .count() as f64;
    let abandoned = steady
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::QueueAbandon | Outcome::ShortAbandon))
        .count() as f64;
    (waited / n, within / n, abandoned / n)
}

#[test]
fn matches_erlang_c_without_abandonment() {
    // SPEC.md's published case: 100 calls per 30 min, AHT 180 s, 14 agents.
    let model = SingleQueue {
        arrivals_per_s: 100.0 / 1800.0,
        mean_handle_time_s: 180.0,
        agents: 14,
        mean_patience_s: None,
        n_contacts: 200_000,
        seed: 7,
    };
    let contacts = simulate_single_queue(model);
    assert_eq!(contacts.len(), 200_000);
    let (wait, service_level, abandoned) = measured(&contacts);
    let load = Load {
        arrivals_per_s: model.arrivals_per_s,
        handle_time_s: 180.0,
    };
    let theory_wait = erlang_c(14, load).wait_probability;
    let theory_sl = erlang_c_service_level(14, load, 20.0);
    assert_eq!(abandoned, 0.0);
    assert!(
        (wait - theory_wait).abs() < 0.02,
        "P(wait) {wait} vs Erlang C {theory_wait}"
    );
    assert!(
        (service_level - theory_sl).abs() < 0.02,
        "SL {service_level} vs Erlang C {theory_sl}"
    );
}

#[test]
fn matches_erlang_a_with_exponential_patience() {
    // A busier queue where abandonment matters: 12 Erlangs on 12 agents, patience 60 s.
    let model = SingleQueue {
        arrivals_per_s: 12.0 / 180.0,
        mean_handle_time_s: 180.0,
        agents: 12,
        mean_patience_s: Some(60.0),
        n_contacts: 200_000,
        seed: 11,
    };
    let contacts = simulate_single_queue(model);
    let (wait, service_level, abandoned) = measured(&contacts);
    let load = Load {
        arrivals_per_s: model.arrivals_per_s,
        handle_time_s: 180.0,
    };
    let theory = erlang_a(12, load, 60.0);
    let theory_sl = erlang_a_service_level(12, load, 60.0, 20.0);
    assert!(
        (wait - theory.wait_probability).abs() < 0.02,
        "P(wait) {wait} vs {theory:?}"
    );
    assert!(
        (abandoned - theory.abandon_probability).abs() < 0.02,
        "abandon {abandoned} vs {theory:?}"
    );
    assert!(
        (service_level - theory_sl).abs() < 0.02,
        "SL {service_level} vs Erlang A {theory_sl}"
    );
}
