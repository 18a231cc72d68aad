//! What agents do over time: state events from the telephony platform,
//! scheduled activity segments and absences.

use crate::UtcMs;
use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }
        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// An agent's state as the platform reports it.
    AgentState {
        LoggedIn = "logged_in",
        Ready = "ready",
        NotReady = "not_ready",
        LoggedOut = "logged_out",
    }
);

/// A change of agent state at a moment; `reason` for not-ready (break, lunch, training...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStateEvent {
    pub source_id: String,
    pub agent_id: String,
    pub at_ms: UtcMs,
    pub state: AgentState,
    pub reason: Option<String>,
}

text_enum!(
    /// What a schedule segment plans the agent to do.
    Activity {
        OnQueue = "on_queue",
        Break = "break",
        Lunch = "lunch",
        Training = "training",
        Meeting = "meeting",
        Coaching = "coaching",
    }
);

/// One planned activity segment of an agent's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleSegment {
    pub source_id: String,
    pub agent_id: String,
    pub start_ms: UtcMs,
    pub end_ms: UtcMs,
    pub activity: Activity,
}

text_enum!(
    /// Planned (holiday, training leave) or unplanned (sickness, emergency).
    AbsenceKind {
        Planned = "planned",
        Unplanned = "unplanned",
    }
);

/// An absence: the agent is employed but not working. Not the same as leaving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    pub source_id: String,
    pub agent_id: String,
    pub start_ms: UtcMs,
    pub end_ms: UtcMs,
    pub kind: AbsenceKind,
    pub reason: String,
}
