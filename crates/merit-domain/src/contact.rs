//! A contact (call, chat, email, message) with its whole timeline and outcome,
//! and the rules a timeline must satisfy.

use crate::UtcMs;
use crate::money::Money;
use crate::organisation::Channel;
use serde::{Deserialize, Serialize};

/// How a contact ended. See the glossary in ARCHITECTURE.md: `handled` means
/// an agent answered and finished it; the abandons differ by where the
/// customer gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Handled,
    /// Gave up after entering the queue, after the short-abandon threshold.
    QueueAbandon,
    /// Gave up in the voice menu, before reaching a queue.
    MenuAbandon,
    /// Gave up in the queue within the short-abandon threshold.
    ShortAbandon,
    /// Lost by the system (network, telephony fault): outside the agent's control.
    SystemDrop,
    /// Left the queue with a callback request (or by a key the caller pressed to leave).
    Callback,
    /// Taken out of the queue by the queue's own rule (a maximum wait, no
    /// agents left) and routed elsewhere: neither answered nor abandoned.
    Overflow,
    /// Refused before it could queue (queue full or closed, no agents, line
    /// busy, call failed): never offered, never abandoned, counted apart.
    Refused,
}

impl Outcome {
    pub const ALL: [Self; 8] = [
        Self::Handled,
        Self::QueueAbandon,
        Self::MenuAbandon,
        Self::ShortAbandon,
        Self::SystemDrop,
        Self::Callback,
        Self::Overflow,
        Self::Refused,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Handled => "handled",
            Self::QueueAbandon => "queue_abandon",
            Self::MenuAbandon => "menu_abandon",
            Self::ShortAbandon => "short_abandon",
            Self::SystemDrop => "system_drop",
            Self::Callback => "callback",
            Self::Overflow => "overflow",
            Self::Refused => "refused",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// A hold segment inside the talk time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldSegment {
    pub start_ms: UtcMs,
    pub end_ms: UtcMs,
}

/// A transfer: when it happened and where it went (a queue, an agent or a number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub at_ms: UtcMs,
    pub target: String,
}

/// A sale on a sales contact, and its cancellation if the customer cancelled later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub value: Money,
    pub cancelled_at_ms: Option<UtcMs>,
}

/// One contact as imported. Identity is (`source_system`, `source_id`); the
/// store keeps every revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub source_system: String,
    pub source_id: String,
    pub channel: Channel,
    /// The queue it was routed to; `None` for a menu abandon that never reached one.
    pub queue_id: Option<String>,
    pub contact_type: Option<String>,
    pub customer_id: Option<String>,
    /// `None` on a handled contact when the source did not record who
    /// answered (the Anonymous Bank's `NO_SERVER`).
    pub agent_id: Option<String>,
    pub arrival_ms: UtcMs,
    pub menu_exit_ms: Option<UtcMs>,
    pub queue_entry_ms: Option<UtcMs>,
    pub queue_exit_ms: Option<UtcMs>,
    pub answer_ms: Option<UtcMs>,
    pub holds: Vec<HoldSegment>,
    pub transfers: Vec<Transfer>,
    pub end_ms: UtcMs,
    pub after_work_end_ms: Option<UtcMs>,
    pub outcome: Outcome,
    pub wrap_up_code: Option<String>,
    pub recording_url: Option<String>,
    /// Digital channels: first agent reply.
    pub first_response_ms: Option<UtcMs>,
    /// Digital channels: when the case was resolved.
    pub resolution_ms: Option<UtcMs>,
    pub sale: Option<Sale>,
}

/// A broken timeline rule, naming the field and the values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct TimelineError {
    pub field: &'static str,
    pub reason: String,
}

fn before(
    field: &'static str,
    earlier_name: &str,
    earlier: UtcMs,
    later: UtcMs,
) -> Result<(), TimelineError> {
    if later < earlier {
        return Err(TimelineError {
            field,
            reason: format!("is {} ms before {earlier_name}", earlier - later),
        });
    }
    Ok(())
}

impl Contact {
    /// A contact known so far only by its identity, channel and arrival:
    /// no queue, agent or timeline yet, ending where it arrived, handled.
    /// Readers fill in what their source knows.
    pub fn arriving(
        source_system: &str,
        source_id: String,
        channel: Channel,
        arrival_ms: UtcMs,
    ) -> Self {
        Contact {
            source_system: source_system.to_owned(),
            source_id,
            channel,
            queue_id: None,
            contact_type: None,
            customer_id: None,
            agent_id: None,
            arrival_ms,
            menu_exit_ms: None,
            queue_entry_ms: None,
            queue_exit_ms: None,
            answer_ms: None,
            holds: Vec::new(),
            transfers: Vec::new(),
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

    /// Queue wait: queue entry to answer (answered) or to queue exit (abandoned).
    pub fn wait_ms(&self) -> Option<i64> {
        let entry = self.queue_entry_ms?;
        let left = self.answer_ms.or(self.queue_exit_ms)?;
        Some(left - entry)
    }

    /// Total hold time.
    pub fn hold_ms(&self) -> i64 {
        self.holds.iter().map(|h| h.end_ms - h.start_ms).sum()
    }

    /// Talk time: answer to end, hold included (AHT adds hold once, never twice).
    pub fn talk_ms(&self) -> Option<i64> {
        Some(self.end_ms - self.answer_ms?)
    }

    /// After-call work: end to after-work end.
    pub fn after_work_ms(&self) -> i64 {
        self.after_work_end_ms.map_or(0, |e| e - self.end_ms)
    }

    /// Checks the rules every timeline must satisfy: events in order, no
    /// negative durations, an answered contact has an agent and an answer time.
    pub fn validate(&self) -> Result<(), TimelineError> {
        let arrival = self.arrival_ms;
        if let Some(menu_exit) = self.menu_exit_ms {
            before("menu_exit", "arrival", arrival, menu_exit)?;
        }
        let queue_floor = self.menu_exit_ms.unwrap_or(arrival);
        if let Some(entry) = self.queue_entry_ms {
            before("queue_entry", "arrival or menu_exit", queue_floor, entry)?;
        }
        if let Some(exit) = self.queue_exit_ms {
            let entry = self.queue_entry_ms.ok_or(TimelineError {
                field: "queue_exit",
                reason: "is set but queue_entry is empty".into(),
            })?;
            before("queue_exit", "queue_entry", entry, exit)?;
        }
        if let Some(answer) = self.answer_ms {
            before("answer", "arrival", arrival, answer)?;
            if let Some(entry) = self.queue_entry_ms {
                before("answer", "queue_entry", entry, answer)?;
            }
            before("end", "answer", answer, self.end_ms)?;
        }
        before("end", "arrival", arrival, self.end_ms)?;
        if let Some(after_work_end) = self.after_work_end_ms {
            before("after_work_end", "end", self.end_ms, after_work_end)?;
        }
        match self.outcome {
            Outcome::Handled => {
                if self.answer_ms.is_none() {
                    return Err(TimelineError {
                        field: "answer",
                        reason: "is empty but the outcome is handled".into(),
                    });
                }
            }
            Outcome::QueueAbandon
            | Outcome::ShortAbandon
            | Outcome::Callback
            | Outcome::Overflow => {
                if self.answer_ms.is_some() {
                    return Err(TimelineError {
                        field: "answer",
                        reason: format!("is set but the outcome is {}", self.outcome.as_str()),
                    });
                }
                if self.queue_entry_ms.is_none() {
                    return Err(TimelineError {
                        field: "queue_entry",
                        reason: format!("is empty but the outcome is {}", self.outcome.as_str()),
                    });
                }
            }
            Outcome::MenuAbandon => {
                if self.queue_entry_ms.is_some() {
                    return Err(TimelineError {
                        field: "queue_entry",
                        reason: "is set but the outcome is menu_abandon".into(),
                    });
                }
            }
            Outcome::SystemDrop => {}
            Outcome::Refused => {
                if self.answer_ms.is_some() {
                    return Err(TimelineError {
                        field: "answer",
                        reason: "is set but the outcome is refused".into(),
                    });
                }
            }
        }
        for hold in &self.holds {
            before(
                "holds",
                "its own start (negative hold)",
                hold.start_ms,
                hold.end_ms,
            )?;
            let answer = self.answer_ms.ok_or(TimelineError {
                field: "holds",
                reason: "hold on a contact that was never answered".into(),
            })?;
            before("holds", "answer", answer, hold.start_ms)?;
            before(
                "holds",
                "the hold's end (hold after end)",
                hold.end_ms,
                self.end_ms,
            )?;
        }
        for transfer in &self.transfers {
            before("transfers", "arrival", arrival, transfer.at_ms)?;
            if transfer.target.is_empty() {
                return Err(TimelineError {
                    field: "transfers",
                    reason: "a transfer has no target".into(),
                });
            }
        }
        if let Some(first_response) = self.first_response_ms {
            before("first_response", "arrival", arrival, first_response)?;
        }
        if let Some(resolution) = self.resolution_ms {
            before("resolution", "arrival", arrival, resolution)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered() -> Contact {
        Contact {
            source_system: "t".into(),
            source_id: "1".into(),
            channel: Channel::VoiceInbound,
            queue_id: Some("billing".into()),
            contact_type: None,
            customer_id: None,
            agent_id: Some("a1".into()),
            arrival_ms: 0,
            menu_exit_ms: Some(10_000),
            queue_entry_ms: Some(10_000),
            queue_exit_ms: Some(25_000),
            answer_ms: Some(25_000),
            holds: vec![HoldSegment {
                start_ms: 60_000,
                end_ms: 90_000,
            }],
            transfers: vec![],
            end_ms: 200_000,
            after_work_end_ms: Some(230_000),
            outcome: Outcome::Handled,
            wrap_up_code: None,
            recording_url: None,
            first_response_ms: None,
            resolution_ms: None,
            sale: None,
        }
    }

    #[test]
    fn durations_come_from_the_timeline() {
        let c = answered();
        assert_eq!(c.wait_ms(), Some(15_000));
        assert_eq!(c.hold_ms(), 30_000);
        // Talk is answer to end (175 s) and includes the 30 s hold.
        assert_eq!(c.talk_ms(), Some(175_000));
        assert_eq!(c.after_work_ms(), 30_000);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn broken_timelines_name_the_field() {
        type BreakIt = fn(&mut Contact);
        let cases: Vec<(BreakIt, &str)> = vec![
            (|c| c.end_ms = 20_000, "end"),
            (|c| c.after_work_end_ms = Some(100), "after_work_end"),
            (|c| c.holds[0].end_ms = 50_000, "holds"),
            (|c| c.answer_ms = None, "answer"),
            (|c| c.queue_entry_ms = Some(5_000), "queue_entry"),
            (|c| c.outcome = Outcome::QueueAbandon, "answer"),
            (|c| c.outcome = Outcome::MenuAbandon, "queue_entry"),
        ];
        for (break_it, field) in cases {
            let mut c = answered();
            break_it(&mut c);
            assert_eq!(c.validate().map_err(|e| e.field), Err(field));
        }
    }
}
