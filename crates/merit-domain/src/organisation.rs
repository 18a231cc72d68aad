//! The organisation: sites, teams, agents, team membership over time, queues
//! and channels.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A physical or virtual site. Reporting buckets and business hours use its zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub site_id: String,
}

/// Why employment ended. "Leaving" is not "absence": absences are separate records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmploymentEndReason {
    Voluntary,
    Involuntary,
    InternalMove,
}

impl EmploymentEndReason {
    pub const ALL: [Self; 3] = [Self::Voluntary, Self::Involuntary, Self::InternalMove];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Voluntary => "voluntary",
            Self::Involuntary => "involuntary",
            Self::InternalMove => "internal_move",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub site_id: String,
    pub hire_date: Date,
    /// Last day of employment, if the agent left.
    pub employment_end_date: Option<Date>,
    pub employment_end_reason: Option<EmploymentEndReason>,
}

/// An agent's membership of a team from `from_date` (inclusive) to `to_date`
/// (exclusive; `None` = still a member). An agent's history follows the team
/// they were in on that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMembership {
    pub agent_id: String,
    pub team_id: String,
    pub from_date: Date,
    pub to_date: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    VoiceInbound,
    VoiceOutbound,
    Chat,
    Email,
    Messaging,
}

impl Channel {
    pub const ALL: [Self; 5] = [
        Self::VoiceInbound,
        Self::VoiceOutbound,
        Self::Chat,
        Self::Email,
        Self::Messaging,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VoiceInbound => "voice_inbound",
            Self::VoiceOutbound => "voice_outbound",
            Self::Chat => "chat",
            Self::Email => "email",
            Self::Messaging => "messaging",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
    pub fn is_voice(self) -> bool {
        matches!(self, Self::VoiceInbound | Self::VoiceOutbound)
    }
    /// Digital channels carry first-response and resolution times.
    pub fn is_digital(self) -> bool {
        matches!(self, Self::Chat | Self::Email | Self::Messaging)
    }
}

/// A queue (skill) contacts wait in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub id: String,
    pub name: String,
    pub channel: Channel,
    pub site_id: String,
}

/// One record of the organisation, as imported or saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum OrganisationRecord {
    Site(Site),
    Team(Team),
    Agent(Agent),
    Membership(TeamMembership),
    Queue(Queue),
}

/// The whole organisation as one import unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub sites: Vec<Site>,
    pub teams: Vec<Team>,
    pub agents: Vec<Agent>,
    pub memberships: Vec<TeamMembership>,
    pub queues: Vec<Queue>,
}

impl Organisation {
    /// The team `agent` was in on `day` (memberships run from `from_date`
    /// up to, not including, `to_date`).
    pub fn team_on(&self, agent: &str, day: Date) -> Option<&str> {
        self.memberships
            .iter()
            .find(|m| {
                m.agent_id == agent && m.from_date <= day && m.to_date.is_none_or(|to| day < to)
            })
            .map(|m| m.team_id.as_str())
    }

    /// Every record, parents before children (sites, teams, queues, agents, memberships).
    pub fn records(&self) -> Vec<OrganisationRecord> {
        let sites = self.sites.iter().cloned().map(OrganisationRecord::Site);
        let teams = self.teams.iter().cloned().map(OrganisationRecord::Team);
        let queues = self.queues.iter().cloned().map(OrganisationRecord::Queue);
        let agents = self.agents.iter().cloned().map(OrganisationRecord::Agent);
        let memberships = self
            .memberships
            .iter()
            .cloned()
            .map(OrganisationRecord::Membership);
        sites
            .chain(teams)
            .chain(queues)
            .chain(agents)
            .chain(memberships)
            .collect()
    }
}
