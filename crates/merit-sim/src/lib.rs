//! The contact-centre simulator that makes demo and benchmark data: a
//! discrete-event simulation of a multi-queue, multi-channel centre,
//! deterministic from a seed. `scenario` is the demo centre of SCENARIOS.md;
//! `single_queue` is the textbook M/M/N(+M) queue used to validate the engine
//! against Erlang C and Erlang A.

pub mod engine;
mod names;
pub mod quality;
pub mod scenario;

use engine::{AgentSpec, Behaviour, HandleTime, QueueSpec, ServedFacts, World};
use merit_domain::contact::Contact;
use merit_domain::organisation::Channel;

pub use scenario::{CentreRecords, CentreSink, Collected, ScenarioConfig, simulate_centre};

/// A single queue with Poisson arrivals, exponential service and optional
/// exponential patience: the model behind Erlang C and Erlang A.
#[derive(Debug, Clone, Copy)]
pub struct SingleQueue {
    pub arrivals_per_s: f64,
    pub mean_handle_time_s: f64,
    pub agents: u32,
    pub mean_patience_s: Option<f64>,
    pub n_contacts: u64,
    pub seed: u64,
}

/// Runs the single-queue model and returns its contacts.
pub fn simulate_single_queue(model: SingleQueue) -> Vec<Contact> {
    // Long enough for n_contacts arrivals with room to spare; arrivals stop at the count.
    let horizon_ms =
        ((model.n_contacts as f64 / model.arrivals_per_s) * 1.2 * 1000.0) as i64 + 3_600_000;
    let world = World {
        start_ms: 0,
        end_ms: horizon_ms * 2,
        interval_ms: horizon_ms,
        queues: vec![QueueSpec {
            id: "q".into(),
            channel: Channel::VoiceInbound,
            arrival_rate_per_s: vec![model.arrivals_per_s],
            handle_time: HandleTime::Exponential {
                mean_s: model.mean_handle_time_s,
            },
            mean_patience_s: model.mean_patience_s,
            contact_types: vec![("call".into(), 1.0, 1.0)],
            priority: 0,
            outbound: false,
        }],
        agents: (0..model.agents)
            .map(|a| AgentSpec {
                id: format!("a{a}"),
                skills: vec![0],
                windows: vec![(0, horizon_ms * 2)],
                speed_by_day: vec![1.0],
                quality_by_day: vec![1.0],
                gaming_from_ms: None,
            })
            .collect(),
        behaviour: Behaviour::textbook(),
        max_contacts: Some(model.n_contacts),
        seed: model.seed,
    };
    struct Keep(Vec<Contact>);
    impl engine::Sink for Keep {
        fn contact(&mut self, contact: Contact, _: Option<ServedFacts>) {
            self.0.push(contact);
        }
    }
    let mut kept = Keep(Vec::with_capacity(model.n_contacts as usize));
    engine::run(&world, &mut kept);
    kept.0
}
