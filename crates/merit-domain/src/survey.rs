//! Post-contact survey responses: several questions of different scales, and
//! who asked (it biases the answer).

use crate::UtcMs;
use crate::activity::text_enum;
use serde::{Deserialize, Serialize};

text_enum!(
    /// Who asked the customer to answer.
    Asker {
        Agent = "agent",
        Supervisor = "supervisor",
        OtherAgent = "other_agent",
        Automated = "automated",
    }
);

text_enum!(
    /// The scale of one question.
    Scale {
        OneToFive = "1-5",
        ZeroToTen = "0-10",
        YesNo = "yes_no",
        Text = "text",
    }
);

/// One answer: a number on a numeric scale (yes = 1, no = 0) or free text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyAnswer {
    pub question_id: String,
    pub scale: Scale,
    pub value: Option<i32>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyResponse {
    pub source_system: String,
    pub source_id: String,
    /// The contact it is about (its source id in the same source system).
    pub contact_source_id: Option<String>,
    pub agent_id: Option<String>,
    pub answered_ms: UtcMs,
    pub asked_by: Asker,
    pub answers: Vec<SurveyAnswer>,
}

impl Scale {
    /// Checks a numeric answer lies on the scale.
    pub fn accepts(self, value: i32) -> bool {
        match self {
            Scale::OneToFive => (1..=5).contains(&value),
            Scale::ZeroToTen => (0..=10).contains(&value),
            Scale::YesNo => value == 0 || value == 1,
            Scale::Text => false,
        }
    }
}

/// The questions of the demo centre's survey (SCENARIOS.md).
pub mod questions {
    pub const SATISFIED_WITH_ANSWERS: &str = "satisfied_with_answers";
    pub const ANSWERED_PROFESSIONALLY: &str = "answered_professionally";
    pub const ANYTHING_ELSE: &str = "anything_else";
    pub const RECOMMEND: &str = "recommend";
    pub const RESOLVED: &str = "resolved";
}
