//! The engine's input: contacts and survey answers as columns in memory
//! (struct of arrays), text values interned in dictionaries.

use crate::UtcMs;
use crate::contact::{Contact, Outcome};
use crate::metrics::fast_hash::FastMap;
use crate::organisation::Channel;

/// Interned text: each distinct value gets a small index; `NONE` stands for
/// "empty".
#[derive(Debug, Clone, Default)]
pub struct Dict {
    pub names: Vec<String>,
    index: FastMap<String, u32>,
}

impl Dict {
    pub const NONE: u32 = u32::MAX;

    pub fn intern(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else { return Self::NONE };
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        i
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn name(&self, i: u32) -> Option<&str> {
        self.names.get(i as usize).map(String::as_str)
    }
}

/// One contact as the engine needs it, before it goes into columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFacts {
    pub source_system: String,
    pub source_id: String,
    pub channel: Channel,
    pub queue_id: Option<String>,
    pub contact_type: Option<String>,
    pub customer_id: Option<String>,
    pub agent_id: Option<String>,
    pub wrap_up_code: Option<String>,
    pub arrival_ms: UtcMs,
    pub end_ms: UtcMs,
    pub outcome: Outcome,
    /// Queue wait; `None` when the contact never queued.
    pub wait_ms: Option<i64>,
    pub answered: bool,
    /// Talk without hold, hold and after-call work of an answered contact.
    pub talk_ms: i64,
    pub hold_ms: i64,
    pub after_work_ms: i64,
    pub transferred: bool,
    pub first_response_ms: Option<UtcMs>,
    pub resolution_ms: Option<UtcMs>,
    pub sale_minor: Option<i64>,
    pub sale_cancelled: bool,
}

impl ContactFacts {
    pub fn from_contact(c: &Contact) -> Self {
        let talk_with_hold = c.talk_ms().unwrap_or(0);
        let hold_ms = if c.answer_ms.is_some() {
            c.hold_ms()
        } else {
            0
        };
        ContactFacts {
            source_system: c.source_system.clone(),
            source_id: c.source_id.clone(),
            channel: c.channel,
            queue_id: c.queue_id.clone(),
            contact_type: c.contact_type.clone(),
            customer_id: c.customer_id.clone(),
            agent_id: c.agent_id.clone(),
            wrap_up_code: c.wrap_up_code.clone(),
            arrival_ms: c.arrival_ms,
            end_ms: c.end_ms,
            outcome: c.outcome,
            wait_ms: c.wait_ms(),
            answered: c.answer_ms.is_some(),
            talk_ms: (talk_with_hold - hold_ms).max(0),
            hold_ms,
            after_work_ms: c.after_work_ms(),
            transferred: !c.transfers.is_empty(),
            first_response_ms: c.first_response_ms,
            resolution_ms: c.resolution_ms,
            sale_minor: c.sale.as_ref().map(|s| s.value.amount_minor),
            sale_cancelled: c.sale.as_ref().is_some_and(|s| s.cancelled_at_ms.is_some()),
        }
    }
}

/// Contacts as columns. Row `i` of every column is the same contact.
#[derive(Debug, Clone, Default)]
pub struct ContactTable {
    pub source_system: Vec<u32>,
    pub source_id: Vec<String>,
    pub channel: Vec<Channel>,
    pub queue: Vec<u32>,
    pub contact_type: Vec<u32>,
    pub customer: Vec<u32>,
    pub agent: Vec<u32>,
    pub wrap_up: Vec<u32>,
    pub arrival_ms: Vec<UtcMs>,
    pub end_ms: Vec<UtcMs>,
    pub outcome: Vec<Outcome>,
    /// Queue wait in ms; −1 when the contact never queued.
    pub wait_ms: Vec<i64>,
    pub answered: Vec<bool>,
    pub talk_ms: Vec<i64>,
    pub hold_ms: Vec<i64>,
    pub after_work_ms: Vec<i64>,
    pub transferred: Vec<bool>,
    /// −1 when absent.
    pub first_response_ms: Vec<UtcMs>,
    pub resolution_ms: Vec<UtcMs>,
    /// −1 when the contact has no sale.
    pub sale_minor: Vec<i64>,
    pub sale_cancelled: Vec<bool>,
    pub source_systems: Dict,
    pub queues: Dict,
    pub contact_types: Dict,
    pub customers: Dict,
    pub agents: Dict,
    pub wrap_ups: Dict,
}

impl ContactTable {
    /// Each row by its (source system code, source id), to link facts
    /// about contacts (survey answers, evaluations) to their rows.
    pub fn rows_by_source(&self) -> crate::metrics::fast_hash::FastMap<(u32, &str), usize> {
        let mut rows = crate::metrics::fast_hash::FastMap::default();
        rows.reserve(self.len());
        for i in 0..self.len() {
            rows.insert((self.source_system[i], self.source_id[i].as_str()), i);
        }
        rows
    }

    /// The row of a contact, when it is loaded.
    pub fn row_of(
        &self,
        rows: &crate::metrics::fast_hash::FastMap<(u32, &str), usize>,
        source_system: &str,
        source_id: &str,
    ) -> Option<usize> {
        let system = self.source_systems.get(source_system)?;
        rows.get(&(system, source_id)).copied()
    }

    pub fn len(&self) -> usize {
        self.arrival_ms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.arrival_ms.is_empty()
    }

    pub fn push(&mut self, c: ContactFacts) {
        self.source_system
            .push(self.source_systems.intern(Some(&c.source_system)));
        self.source_id.push(c.source_id);
        self.channel.push(c.channel);
        self.queue.push(self.queues.intern(c.queue_id.as_deref()));
        self.contact_type
            .push(self.contact_types.intern(c.contact_type.as_deref()));
        self.customer
            .push(self.customers.intern(c.customer_id.as_deref()));
        self.agent.push(self.agents.intern(c.agent_id.as_deref()));
        self.wrap_up
            .push(self.wrap_ups.intern(c.wrap_up_code.as_deref()));
        self.arrival_ms.push(c.arrival_ms);
        self.end_ms.push(c.end_ms);
        self.outcome.push(c.outcome);
        self.wait_ms.push(c.wait_ms.unwrap_or(-1));
        self.answered.push(c.answered);
        self.talk_ms.push(c.talk_ms);
        self.hold_ms.push(c.hold_ms);
        self.after_work_ms.push(c.after_work_ms);
        self.transferred.push(c.transferred);
        self.first_response_ms
            .push(c.first_response_ms.unwrap_or(-1));
        self.resolution_ms.push(c.resolution_ms.unwrap_or(-1));
        self.sale_minor.push(c.sale_minor.unwrap_or(-1));
        self.sale_cancelled.push(c.sale_cancelled);
    }
}

/// One numeric survey answer, linked to its contact when the contact is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyFact {
    pub source_id: String,
    pub question_id: String,
    pub value: i32,
    pub answered_ms: UtcMs,
    /// Row of the contact it is about in the `ContactTable`, if loaded.
    pub contact_row: Option<usize>,
    pub agent_id: Option<String>,
}
