//! The discrete-event engine: contacts arrive in queues, wait, abandon when
//! their patience runs out, and are served by the longest-idle available agent
//! with the skill. Time is integer milliseconds, so runs are exactly
//! repeatable from a seed.

use merit_domain::UtcMs;
use merit_domain::contact::Sale;
use merit_domain::contact::{Contact, HoldSegment, Outcome, Transfer};
use merit_domain::money::Money;
use merit_domain::organisation::Channel;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, StandardNormal};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

pub const SOURCE_SYSTEM: &str = "merit-sim";

/// How long service takes.
#[derive(Debug, Clone, Copy)]
pub enum HandleTime {
    /// Exponential with this mean (the textbook M/M/N case).
    Exponential { mean_s: f64 },
    /// Log-normal (skewed, as real talk times are) with this median and shape.
    LogNormal { median_s: f64, sigma: f64 },
}

impl HandleTime {
    fn sample_s(self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            HandleTime::Exponential { mean_s } => exp_sample(rng, mean_s),
            HandleTime::LogNormal { median_s, sigma } => LogNormal::new(median_s.ln(), sigma)
                .map(|d| d.sample(rng))
                .unwrap_or(median_s),
        }
    }
}

fn exp_sample(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    Exp::new(1.0 / mean).map(|d| d.sample(rng)).unwrap_or(mean)
}

#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub id: String,
    pub channel: Channel,
    /// Arrivals per second in each interval of `interval_ms` from the horizon start.
    pub arrival_rate_per_s: Vec<f64>,
    pub handle_time: HandleTime,
    /// Mean of exponential patience; `None` = never abandons.
    pub mean_patience_s: Option<f64>,
    /// Contact types with their weights and talk-time factors.
    pub contact_types: Vec<(String, f64, f64)>,
    /// Lower is served first when an agent has several skills.
    pub priority: u8,
    /// Outbound queue: agents dial; nobody waits.
    pub outbound: bool,
}

#[derive(Debug, Clone)]
pub struct AgentSpec {
    pub id: String,
    /// Queue indexes this agent serves.
    pub skills: Vec<usize>,
    /// On-queue windows [start, end), sorted, in which the agent takes contacts.
    pub windows: Vec<(UtcMs, UtcMs)>,
    /// Multiplies talk time: above 1 is slower. A function of the day for new hires.
    pub speed_by_day: Vec<f64>,
    /// Probability a handled contact is resolved, by day.
    pub quality_by_day: Vec<f64>,
    /// From this time the agent games handle time (very short calls, late transfers).
    pub gaming_from_ms: Option<UtcMs>,
}

/// Which real-world behaviours to simulate. All off gives the textbook queue.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub voice_menu: bool,
    pub holds: bool,
    pub after_call_work: bool,
    pub transfers: bool,
    pub system_drop_probability: f64,
    /// Periods [start, end) with an extra probability of system drops (a fault).
    pub faults: Vec<(UtcMs, UtcMs, f64)>,
    pub repeat_contacts: bool,
    pub wrap_up_and_recordings: bool,
    /// Handle-time threshold that gaming agents try to stay under, seconds.
    pub gaming_threshold_s: f64,
}

impl Behaviour {
    pub fn textbook() -> Self {
        Behaviour {
            voice_menu: false,
            holds: false,
            after_call_work: false,
            transfers: false,
            system_drop_probability: 0.0,
            faults: vec![],
            repeat_contacts: false,
            wrap_up_and_recordings: false,
            gaming_threshold_s: 300.0,
        }
    }
}

/// What the engine hands out while it runs.
pub trait Sink {
    fn contact(&mut self, contact: Contact, served: Option<ServedFacts>);
}

/// Facts about a served contact that surveys depend on and the record does not show.
#[derive(Debug, Clone, Copy)]
pub struct ServedFacts {
    pub agent_index: usize,
    pub resolved: bool,
    pub wait_s: f64,
    pub quality: f64,
}

pub struct World {
    pub start_ms: UtcMs,
    pub end_ms: UtcMs,
    pub interval_ms: i64,
    pub queues: Vec<QueueSpec>,
    pub agents: Vec<AgentSpec>,
    pub behaviour: Behaviour,
    /// Stop after this many contacts have arrived (validation runs).
    pub max_contacts: Option<u64>,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// An agent's window opens or closes (index into its windows; even = open).
    Window {
        agent: usize,
        edge: usize,
    },
    AgentFree {
        agent: usize,
    },
    /// A waiting contact's patience runs out; `ticket` tells a reused slot apart.
    Abandon {
        slot: usize,
        ticket: u64,
    },
    Arrival {
        queue: usize,
    },
    Repeat {
        queue: usize,
        customer: u64,
        contact_type: usize,
    },
    Dial {
        agent: usize,
    },
}

#[derive(Clone, Copy)]
struct Waiting {
    queue: usize,
    arrival_ms: UtcMs,
    menu_exit_ms: Option<UtcMs>,
    entry_ms: UtcMs,
    customer: u64,
    contact_type: usize,
    active: bool,
    ticket: u64,
}

struct AgentRuntime {
    in_window: bool,
    busy: bool,
    idle_since_ms: UtcMs,
}

pub fn run(world: &World, sink: &mut impl Sink) {
    Engine::new(world).run(sink);
}

struct Engine<'w> {
    w: &'w World,
    rng: ChaCha8Rng,
    events: BinaryHeap<Reverse<(UtcMs, u64, Event)>>,
    sequence: u64,
    waiting: Vec<Waiting>,
    free_slots: Vec<usize>,
    queue_lines: Vec<VecDeque<usize>>,
    agents: Vec<AgentRuntime>,
    n_arrived: u64,
    n_contacts: u64,
    next_customer: u64,
}

impl<'w> Engine<'w> {
    fn new(w: &'w World) -> Self {
        use rand::SeedableRng;
        Engine {
            w,
            rng: ChaCha8Rng::seed_from_u64(w.seed),
            events: BinaryHeap::new(),
            sequence: 0,
            waiting: Vec::new(),
            free_slots: Vec::new(),
            queue_lines: vec![VecDeque::new(); w.queues.len()],
            agents: w
                .agents
                .iter()
                .map(|_| AgentRuntime {
                    in_window: false,
                    busy: false,
                    idle_since_ms: w.start_ms,
                })
                .collect(),
            n_arrived: 0,
            n_contacts: 0,
            next_customer: 0,
        }
    }

    fn push(&mut self, at_ms: UtcMs, event: Event) {
        self.sequence += 1;
        self.events.push(Reverse((at_ms, self.sequence, event)));
    }

    fn run(mut self, sink: &mut impl Sink) {
        for queue in 0..self.w.queues.len() {
            if !self.w.queues[queue].outbound {
                self.schedule_arrival(queue, self.w.start_ms);
            }
        }
        for agent in 0..self.w.agents.len() {
            if let Some(&(start, _)) = self.w.agents[agent].windows.first() {
                self.push(start, Event::Window { agent, edge: 0 });
            }
        }
        while let Some(Reverse((now, _, event))) = self.events.pop() {
            if now >= self.w.end_ms {
                break;
            }
            match event {
                Event::Arrival { queue } => {
                    if self.w.max_contacts.is_some_and(|max| self.n_arrived >= max) {
                        continue;
                    }
                    self.schedule_arrival(queue, now);
                    self.next_customer += 1;
                    let customer = self.next_customer;
                    let contact_type = self.pick_type(queue);
                    self.arrive(now, queue, customer, contact_type, sink);
                }
                Event::Repeat {
                    queue,
                    customer,
                    contact_type,
                } => match self.next_open(queue, now) {
                    Some(open) if open > now => self.push(
                        open,
                        Event::Repeat {
                            queue,
                            customer,
                            contact_type,
                        },
                    ),
                    Some(_) => self.arrive(now, queue, customer, contact_type, sink),
                    None => {}
                },
                Event::Abandon { slot, ticket } => {
                    if self.waiting[slot].ticket == ticket {
                        self.abandon(now, slot, sink);
                    }
                }
                Event::AgentFree { agent } => {
                    self.agents[agent].busy = false;
                    self.agents[agent].idle_since_ms = now;
                    self.offer_work(now, agent, sink);
                }
                Event::Window { agent, edge } => {
                    self.agents[agent].in_window = edge % 2 == 0;
                    let windows = &self.w.agents[agent].windows;
                    let next_edge = edge + 1;
                    if let Some(&(start, end)) = windows.get(next_edge / 2) {
                        let at = if next_edge % 2 == 0 { start } else { end };
                        self.push(
                            at,
                            Event::Window {
                                agent,
                                edge: next_edge,
                            },
                        );
                    }
                    if edge % 2 == 0 && !self.agents[agent].busy {
                        self.agents[agent].idle_since_ms = now;
                        self.offer_work(now, agent, sink);
                    }
                }
                Event::Dial { agent } => self.dial(now, agent, sink),
            }
        }
    }

    /// Next arrival of a piecewise-constant Poisson process: memorylessness
    /// lets us restart the exponential draw at each interval boundary.
    fn schedule_arrival(&mut self, queue: usize, from_ms: UtcMs) {
        let spec = &self.w.queues[queue];
        let mut t = from_ms;
        loop {
            let index = ((t - self.w.start_ms) / self.w.interval_ms) as usize;
            let Some(&rate) = spec.arrival_rate_per_s.get(index) else {
                return;
            };
            let boundary = self.w.start_ms + (index as i64 + 1) * self.w.interval_ms;
            if rate > 0.0 {
                let gap_ms = (exp_sample(&mut self.rng, 1.0 / rate) * 1000.0).round() as i64;
                if t + gap_ms < boundary {
                    self.push(t + gap_ms, Event::Arrival { queue });
                    return;
                }
            }
            t = boundary;
        }
    }

    /// `at_ms` if the queue takes arrivals then, else a moment in the next
    /// interval that does (customers call back when the centre is open).
    fn next_open(&mut self, queue: usize, at_ms: UtcMs) -> Option<UtcMs> {
        let rates = &self.w.queues[queue].arrival_rate_per_s;
        let index = usize::try_from((at_ms - self.w.start_ms) / self.w.interval_ms).ok()?;
        if rates.get(index).is_some_and(|&r| r > 0.0) {
            return Some(at_ms);
        }
        let open = index + rates.get(index..)?.iter().position(|&r| r > 0.0)?;
        // Spread over the first three hours of opening, not all at the door.
        let offset = (self.rng.random::<f64>() * 6.0 * self.w.interval_ms as f64) as i64;
        Some(self.w.start_ms + open as i64 * self.w.interval_ms + offset)
    }

    fn pick_type(&mut self, queue: usize) -> usize {
        let types = &self.w.queues[queue].contact_types;
        let total: f64 = types.iter().map(|t| t.1).sum();
        let mut draw = self.rng.random::<f64>() * total;
        for (i, t) in types.iter().enumerate() {
            if draw < t.1 {
                return i;
            }
            draw -= t.1;
        }
        types.len().saturating_sub(1)
    }

    fn arrive(
        &mut self,
        now: UtcMs,
        queue: usize,
        customer: u64,
        contact_type: usize,
        sink: &mut impl Sink,
    ) {
        self.n_arrived += 1;
        let spec = &self.w.queues[queue];
        let mut menu_exit_ms = None;
        let mut entry_ms = now;
        if self.w.behaviour.voice_menu && spec.channel == Channel::VoiceInbound {
            let menu_ms = (8_000.0 + exp_sample(&mut self.rng, 12_000.0)) as i64;
            if self.rng.random::<f64>() < 0.03 {
                let contact = self.record(queue, customer, contact_type, now, None);
                let end = now + menu_ms;
                sink.contact(
                    Contact {
                        queue_id: None,
                        end_ms: end,
                        outcome: Outcome::MenuAbandon,
                        ..contact
                    },
                    None,
                );
                return;
            }
            menu_exit_ms = Some(now + menu_ms);
            entry_ms = now + menu_ms;
        }
        let slot = self.free_slots.pop().unwrap_or_else(|| {
            self.waiting.push(Waiting {
                queue: 0,
                arrival_ms: 0,
                menu_exit_ms: None,
                entry_ms: 0,
                customer: 0,
                contact_type: 0,
                active: false,
                ticket: 0,
            });
            self.waiting.len() - 1
        });
        self.waiting[slot] = Waiting {
            queue,
            arrival_ms: now,
            menu_exit_ms,
            entry_ms,
            customer,
            contact_type,
            active: true,
            ticket: self.n_arrived,
        };
        // An idle agent with the skill takes it at once (longest idle first).
        let idle = (0..self.agents.len())
            .filter(|&a| {
                let r = &self.agents[a];
                r.in_window && !r.busy && self.w.agents[a].skills.contains(&queue)
            })
            .min_by_key(|&a| (self.agents[a].idle_since_ms, a));
        match idle {
            Some(agent) => self.serve(entry_ms, agent, slot, sink),
            None => {
                self.queue_lines[queue].push_back(slot);
                if let Some(mean) = spec.mean_patience_s {
                    let patience_ms = (exp_sample(&mut self.rng, mean) * 1000.0).round() as i64;
                    let ticket = self.waiting[slot].ticket;
                    self.push(entry_ms + patience_ms, Event::Abandon { slot, ticket });
                }
            }
        }
    }

    fn record(
        &mut self,
        queue: usize,
        customer: u64,
        contact_type: usize,
        arrival_ms: UtcMs,
        agent: Option<usize>,
    ) -> Contact {
        self.n_contacts += 1;
        let spec = &self.w.queues[queue];
        Contact {
            source_system: SOURCE_SYSTEM.into(),
            source_id: format!("c{:09}", self.n_contacts),
            channel: spec.channel,
            queue_id: Some(spec.id.clone()),
            contact_type: spec.contact_types.get(contact_type).map(|t| t.0.clone()),
            customer_id: Some(format!("cust{customer:07}")),
            agent_id: agent.map(|a| self.w.agents[a].id.clone()),
            arrival_ms,
            menu_exit_ms: None,
            queue_entry_ms: None,
            queue_exit_ms: None,
            answer_ms: None,
            holds: vec![],
            transfers: vec![],
            end_ms: arrival_ms,
            after_work_end_ms: None,
            outcome: Outcome::Handled,
            wrap_up_code: None,
            recording_url: None,
            first_response_ms: None,
            resolution_ms: None,
            sale: None,
        }
    }

    /// Takes a waiting contact out of the queue and starts its record: arrival,
    /// menu exit and queue entry filled in.
    fn leave_queue(&mut self, slot: usize, agent: Option<usize>) -> (Waiting, Contact) {
        self.waiting[slot].active = false;
        let waiting = self.waiting[slot];
        let base = self.record(
            waiting.queue,
            waiting.customer,
            waiting.contact_type,
            waiting.arrival_ms,
            agent,
        );
        let contact = Contact {
            menu_exit_ms: waiting.menu_exit_ms,
            queue_entry_ms: Some(waiting.entry_ms),
            ..base
        };
        (waiting, contact)
    }

    fn abandon(&mut self, now: UtcMs, slot: usize, sink: &mut impl Sink) {
        if !self.waiting[slot].active {
            return;
        }
        let (waiting, base) = self.leave_queue(slot, None);
        let Waiting {
            queue,
            entry_ms,
            customer,
            contact_type,
            ..
        } = waiting;
        // Within 5 s (the default short-abandon threshold) it is recorded as a
        // short abandon; the wait is kept, so a report may use another threshold.
        let outcome = if now - entry_ms <= 5_000 {
            Outcome::ShortAbandon
        } else {
            Outcome::QueueAbandon
        };
        sink.contact(
            Contact {
                queue_exit_ms: Some(now),
                end_ms: now,
                outcome,
                ..base
            },
            None,
        );
        if self.w.behaviour.repeat_contacts && self.rng.random::<f64>() < 0.5 {
            let delay_ms = (exp_sample(&mut self.rng, 3_600.0 * 4.0) * 1000.0) as i64 + 60_000;
            self.push(
                now + delay_ms,
                Event::Repeat {
                    queue,
                    customer,
                    contact_type,
                },
            );
        }
    }

    /// An agent who is free and in a window takes the longest-waiting contact
    /// of its best-priority skill, or dials if it works an outbound queue.
    fn offer_work(&mut self, now: UtcMs, agent: usize, sink: &mut impl Sink) {
        if !self.agents[agent].in_window || self.agents[agent].busy {
            return;
        }
        let mut best: Option<(u8, UtcMs, usize)> = None;
        for &queue in &self.w.agents[agent].skills {
            let line = &mut self.queue_lines[queue];
            while line.front().is_some_and(|&s| !self.waiting[s].active) {
                let stale = line.pop_front().unwrap_or_default();
                self.free_slots.push(stale);
            }
            if let Some(&slot) = line.front() {
                let key = (
                    self.w.queues[queue].priority,
                    self.waiting[slot].entry_ms,
                    queue,
                );
                if best.is_none_or(|b| key < b) {
                    best = Some(key);
                }
            }
            if self.w.queues[queue].outbound && best.is_none() {
                let gap_ms = (15_000.0 + exp_sample(&mut self.rng, 30_000.0)) as i64;
                self.agents[agent].busy = true;
                self.push(now + gap_ms, Event::Dial { agent });
                return;
            }
        }
        if let Some((_, _, queue)) = best {
            let slot = self.queue_lines[queue].pop_front().unwrap_or_default();
            self.serve(now, agent, slot, sink);
        }
    }

    fn day_index(&self, at_ms: UtcMs) -> usize {
        ((at_ms - self.w.start_ms) / 86_400_000).max(0) as usize
    }

    fn serve(&mut self, now: UtcMs, agent: usize, slot: usize, sink: &mut impl Sink) {
        self.free_slots.push(slot);
        let (waiting, base) = self.leave_queue(slot, Some(agent));
        let Waiting {
            queue,
            entry_ms,
            customer,
            contact_type,
            ..
        } = waiting;
        let answer_ms = now.max(entry_ms);
        let mut contact = Contact {
            queue_exit_ms: Some(answer_ms),
            answer_ms: Some(answer_ms),
            ..base
        };
        let resolved = self.handle(answer_ms, agent, queue, contact_type, &mut contact);
        let wait_s = (answer_ms - entry_ms) as f64 / 1000.0;
        let quality = self.quality(agent, answer_ms);
        self.finish(
            agent,
            contact,
            resolved,
            wait_s,
            quality,
            customer,
            contact_type,
            sink,
        );
    }

    fn quality(&self, agent: usize, at_ms: UtcMs) -> f64 {
        let by_day = &self.w.agents[agent].quality_by_day;
        by_day
            .get(self.day_index(at_ms))
            .or(by_day.last())
            .copied()
            .unwrap_or(0.8)
    }

    /// Fills in talk, holds, transfers, drops and after-call work; returns
    /// whether the customer's issue was resolved.
    fn handle(
        &mut self,
        answer_ms: UtcMs,
        agent: usize,
        queue: usize,
        contact_type: usize,
        contact: &mut Contact,
    ) -> bool {
        let w = self.w;
        let behaviour = &w.behaviour;
        let spec = &w.queues[queue];
        let spec_agent = &w.agents[agent];
        let day = self.day_index(answer_ms);
        let speed = spec_agent
            .speed_by_day
            .get(day)
            .or(spec_agent.speed_by_day.last())
            .copied()
            .unwrap_or(1.0);
        let type_factor = spec.contact_types.get(contact_type).map_or(1.0, |t| t.2);
        let mut talk_s = spec.handle_time.sample_s(&mut self.rng) * speed * type_factor;
        let mut resolved = self.rng.random::<f64>() < self.quality(agent, answer_ms);
        let gaming = spec_agent
            .gaming_from_ms
            .is_some_and(|from| answer_ms >= from);
        let mut transfer_at_s = None;
        if gaming && spec.channel == Channel::VoiceInbound {
            if self.rng.random::<f64>() < 0.2 {
                talk_s = 8.0 + self.rng.random::<f64>() * 22.0; // hang-up
                resolved = false;
            } else if talk_s > behaviour.gaming_threshold_s - 40.0 && self.rng.random::<f64>() < 0.7
            {
                let before_threshold =
                    behaviour.gaming_threshold_s - 5.0 - self.rng.random::<f64>() * 35.0;
                talk_s = before_threshold;
                transfer_at_s = Some(before_threshold);
                resolved = self.rng.random::<f64>() < 0.3;
            }
        }
        if behaviour.transfers && transfer_at_s.is_none() && self.rng.random::<f64>() < 0.05 {
            transfer_at_s = Some(talk_s * (0.5 + 0.5 * self.rng.random::<f64>()));
        }
        if let Some(at_s) = transfer_at_s {
            let target = w
                .queues
                .iter()
                .find(|q| q.channel == spec.channel && q.id != spec.id)
                .map_or("supervisor", |q| q.id.as_str());
            contact.transfers.push(Transfer {
                at_ms: answer_ms + (at_s * 1000.0) as i64,
                target: target.to_owned(),
            });
            talk_s = at_s;
        }
        let mut talk_ms = (talk_s.max(1.0) * 1000.0).round() as i64;
        let drop_probability = behaviour.system_drop_probability
            + behaviour
                .faults
                .iter()
                .filter(|(s, e, _)| (*s..*e).contains(&answer_ms))
                .map(|f| f.2)
                .sum::<f64>();
        if drop_probability > 0.0 && self.rng.random::<f64>() < drop_probability {
            talk_ms = (talk_ms as f64 * self.rng.random::<f64>()).max(1_000.0) as i64;
            contact.outcome = Outcome::SystemDrop;
            resolved = false;
        }
        if behaviour.holds
            && spec.channel.is_voice()
            && talk_ms > 60_000
            && self.rng.random::<f64>() < 0.25
        {
            let hold_ms = ((10.0 + exp_sample(&mut self.rng, 40.0)) * 1000.0) as i64;
            let start = answer_ms + talk_ms / 3;
            let end = (start + hold_ms).min(answer_ms + talk_ms - 1_000);
            if end > start {
                contact.holds.push(HoldSegment {
                    start_ms: start,
                    end_ms: end,
                });
            }
        }
        contact.end_ms = answer_ms + talk_ms;
        if behaviour.after_call_work && contact.outcome == Outcome::Handled {
            let acw_s = match spec.channel {
                Channel::Email => 10.0 + exp_sample(&mut self.rng, 20.0),
                _ => 10.0 + exp_sample(&mut self.rng, 30.0) * speed,
            };
            contact.after_work_end_ms = Some(contact.end_ms + (acw_s * 1000.0) as i64);
        }
        if spec.channel.is_digital() {
            let reply_ms = if spec.channel == Channel::Chat {
                3_000 + (self.rng.random::<f64>() * 20_000.0) as i64
            } else {
                0
            };
            contact.first_response_ms = Some(answer_ms + reply_ms.min(talk_ms));
            if resolved {
                contact.resolution_ms = Some(contact.end_ms);
            }
        }
        if behaviour.wrap_up_and_recordings {
            contact.wrap_up_code = Some(if resolved { "resolved" } else { "follow_up" }.into());
            if spec.channel.is_voice() {
                contact.recording_url =
                    Some(format!("https://recordings.example/{}", contact.source_id));
            }
        }
        resolved
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        agent: usize,
        contact: Contact,
        resolved: bool,
        wait_s: f64,
        quality: f64,
        customer: u64,
        contact_type: usize,
        sink: &mut impl Sink,
    ) {
        let busy_until = contact.after_work_end_ms.unwrap_or(contact.end_ms);
        self.agents[agent].busy = true;
        self.push(busy_until, Event::AgentFree { agent });
        let queue = self
            .w
            .queues
            .iter()
            .position(|q| Some(&q.id) == contact.queue_id.as_ref())
            .unwrap_or(0);
        if self.w.behaviour.repeat_contacts && !self.w.queues[queue].outbound {
            let repeat_probability = if resolved { 0.04 } else { 0.6 };
            if self.rng.random::<f64>() < repeat_probability {
                let delay_ms =
                    ((600.0 + exp_sample(&mut self.rng, 86_400.0 * 1.5)) * 1000.0) as i64;
                self.push(
                    contact.end_ms + delay_ms,
                    Event::Repeat {
                        queue,
                        customer,
                        contact_type,
                    },
                );
            }
        }
        sink.contact(
            contact,
            Some(ServedFacts {
                agent_index: agent,
                resolved,
                wait_s,
                quality,
            }),
        );
    }

    fn dial(&mut self, now: UtcMs, agent: usize, sink: &mut impl Sink) {
        self.agents[agent].busy = false;
        if !self.agents[agent].in_window {
            return;
        }
        let Some(&queue) = self.w.agents[agent]
            .skills
            .iter()
            .find(|&&q| self.w.queues[q].outbound)
        else {
            return;
        };
        if self.rng.random::<f64>() >= 0.45 {
            // Nobody answered: no contact was made; dial again.
            self.offer_work(now, agent, sink);
            return;
        }
        self.next_customer += 1;
        let customer = self.next_customer;
        let contact_type = self.pick_type(queue);
        let base = self.record(queue, customer, contact_type, now, Some(agent));
        let mut contact = Contact {
            queue_entry_ms: None,
            answer_ms: Some(now),
            ..base
        };
        let resolved = self.handle(now, agent, queue, contact_type, &mut contact);
        if contact.outcome == Outcome::Handled && resolved && self.rng.random::<f64>() < 0.35 {
            let value_cents = 20_000 + (self.rng.random::<f64>() * 180_000.0) as i64;
            let cancelled_at_ms = (self.rng.random::<f64>() < 0.1).then(|| {
                contact.end_ms + ((1.0 + self.rng.random::<f64>() * 29.0) * 86_400_000.0) as i64
            });
            contact.sale = Some(Sale {
                value: Money {
                    amount_minor: value_cents,
                    currency: "EUR".into(),
                },
                cancelled_at_ms,
            });
            contact.wrap_up_code = Some("retained".into());
        }
        let quality = self.quality(agent, now);
        self.finish(
            agent,
            contact,
            resolved,
            0.0,
            quality,
            customer,
            contact_type,
            sink,
        );
    }
}

/// A standard normal draw, for callers that shape their own distributions.
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}
