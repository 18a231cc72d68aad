//! Access identifiers: roles and scopes, as SPEC.md names them.

use crate::activity::text_enum;
use serde::{Deserialize, Serialize};

text_enum!(
    Role {
        Agent = "agent",
        TeamLead = "team_lead",
        QaSpecialist = "qa_specialist",
        Trainer = "trainer",
        WorkforceManager = "workforce_manager",
        OperationsManager = "operations_manager",
        CompensationAdmin = "compensation_admin",
        Client = "client",
        Administrator = "administrator",
    }
);

/// What part of the centre a user's role applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Only the user's own agent record.
    OwnRecords,
    Team(String),
    Site(String),
    Centre,
    Contract(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scope {0:?} is not one of self, team:<id>, site:<id>, centre, contract:<id>")]
pub struct ScopeError(pub String);

impl Scope {
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        let with_id = |prefix: &str| {
            text.strip_prefix(prefix)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
        };
        match text {
            "self" => Ok(Scope::OwnRecords),
            "centre" => Ok(Scope::Centre),
            _ => with_id("team:")
                .map(Scope::Team)
                .or_else(|| with_id("site:").map(Scope::Site))
                .or_else(|| with_id("contract:").map(Scope::Contract))
                .ok_or_else(|| ScopeError(text.to_owned())),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::OwnRecords => f.write_str("self"),
            Scope::Centre => f.write_str("centre"),
            Scope::Team(id) => write!(f, "team:{id}"),
            Scope::Site(id) => write!(f, "site:{id}"),
            Scope::Contract(id) => write!(f, "contract:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_identifiers() {
        for text in ["self", "centre", "team:a", "site:berlin", "contract:c-7"] {
            assert_eq!(Scope::parse(text).unwrap().to_string(), text);
        }
        for bad in ["", "team:", "teams:a", "Centre"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Role::parse("compensation_admin"),
            Some(Role::CompensationAdmin)
        );
        assert_eq!(Role::ALL.len(), 9);
    }
}
