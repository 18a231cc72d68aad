//! Agent columns that hold names rather than Merit's ids (a spreadsheet's
//! "Agent" column): matched to the organisation's agents, and, when the
//! mapping says so, unknown names created as agents.

use jiff::tz::TimeZone;
use merit_domain::UtcMs;
use merit_domain::organisation::{Agent, Organisation};
use merit_import::mapped::AgentColumn;
use std::collections::{BTreeMap, HashMap};

/// Turns names into agent ids for one import.
pub(crate) struct AgentNames {
    create_at_site: Option<String>,
    zone: TimeZone,
    /// Lower-cased name → id, for the organisation's agents and those created here.
    ids_by_name: HashMap<String, String>,
    taken_ids: BTreeMap<String, ()>,
    pub(crate) created: Vec<Agent>,
}

fn local_day(at_ms: UtcMs, zone: &TimeZone) -> Result<jiff::civil::Date, String> {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|t| t.to_zoned(zone.clone()).date())
        .map_err(|e| e.to_string())
}

impl AgentNames {
    /// `None` when the agent column already holds ids.
    pub(crate) fn new(
        column: AgentColumn,
        site: Option<&str>,
        organisation: &Organisation,
        zone: TimeZone,
    ) -> Option<Self> {
        if column == AgentColumn::Ids {
            return None;
        }
        Some(AgentNames {
            create_at_site: (column == AgentColumn::Create)
                .then(|| site.map(str::to_owned))
                .flatten(),
            zone,
            ids_by_name: organisation
                .agents
                .iter()
                .map(|a| (a.name.to_lowercase(), a.id.clone()))
                .collect(),
            taken_ids: organisation
                .agents
                .iter()
                .map(|a| (a.id.clone(), ()))
                .collect(),
            created: Vec::new(),
        })
    }

    /// The id of the agent called `name`, creating the agent (hired on the
    /// local day of `at_ms`) when allowed; otherwise why not.
    pub(crate) fn id(&mut self, name: &str, at_ms: UtcMs) -> Result<String, String> {
        let key = name.trim().to_lowercase();
        if let Some(id) = self.ids_by_name.get(&key) {
            // An agent created here is hired on the day of their earliest contact.
            if let Some(agent) = self.created.iter_mut().find(|a| &a.id == id) {
                agent.hire_date = agent.hire_date.min(local_day(at_ms, &self.zone)?);
            }
            return Ok(id.clone());
        }
        let Some(site) = &self.create_at_site else {
            return Err(format!(
                "{name:?} is the name of no agent in the organisation (agents = \"match\")"
            ));
        };
        let slug: String = key
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let slug = if slug.is_empty() {
            "agent".to_owned()
        } else {
            slug
        };
        let id = (1..)
            .map(|n| {
                if n == 1 {
                    slug.clone()
                } else {
                    format!("{slug}-{n}")
                }
            })
            .find(|id| !self.taken_ids.contains_key(id))
            .unwrap_or(slug);
        let hire_date = local_day(at_ms, &self.zone)?;
        self.created.push(Agent {
            id: id.clone(),
            name: name.trim().to_owned(),
            site_id: site.clone(),
            hire_date,
            employment_end_date: None,
            employment_end_reason: None,
        });
        self.taken_ids.insert(id.clone(), ());
        self.ids_by_name.insert(key, id.clone());
        Ok(id)
    }
}
