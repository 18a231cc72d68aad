//! The organisation tables: load them whole (they are small) and save a set
//! of changes with their audit entries in one transaction.

use crate::batch::ImportTx;
use crate::{Store, StoreResult, on_store, on_tx};
use jiff::civil::Date;
use merit_domain::TenantId;
use merit_domain::organisation::{
    Agent, Channel, EmploymentEndReason, Organisation, OrganisationRecord, Queue, Site, Team,
    TeamMembership,
};

fn date(text: &str) -> Date {
    text.parse().unwrap_or_default()
}

fn date_text(date: Date) -> String {
    date.to_string()
}

impl Store {
    pub async fn load_organisation(&self, tenant: TenantId) -> StoreResult<Organisation> {
        let sites: Vec<(String, String, String)> = on_store!(self, |pool| sqlx::query_as(
            "SELECT id, name, time_zone FROM sites WHERE tenant_id = $1 ORDER BY id"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await?);
        let teams: Vec<(String, String, String)> = on_store!(self, |pool| sqlx::query_as(
            "SELECT id, name, site_id FROM teams WHERE tenant_id = $1 ORDER BY id"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await?);
        type AgentRow = (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let agents: Vec<AgentRow> = on_store!(self, |pool| {
            sqlx::query_as(
            "SELECT id, name, site_id, hire_date, employment_end_date, employment_end_reason FROM agents WHERE tenant_id = $1 ORDER BY id"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await?
        });
        let memberships: Vec<(String, String, String, Option<String>)> = on_store!(self, |pool| {
            sqlx::query_as(
            "SELECT agent_id, team_id, from_date, to_date FROM team_memberships WHERE tenant_id = $1 ORDER BY agent_id, from_date"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await?
        });
        let queues: Vec<(String, String, String, String)> = on_store!(self, |pool| sqlx::query_as(
            "SELECT id, name, channel, site_id FROM queues WHERE tenant_id = $1 ORDER BY id"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await?);
        Ok(Organisation {
            sites: sites
                .into_iter()
                .map(|(id, name, time_zone)| Site {
                    id,
                    name,
                    time_zone,
                })
                .collect(),
            teams: teams
                .into_iter()
                .map(|(id, name, site_id)| Team { id, name, site_id })
                .collect(),
            agents: agents
                .into_iter()
                .map(|(id, name, site_id, hire, end, reason)| Agent {
                    id,
                    name,
                    site_id,
                    hire_date: date(&hire),
                    employment_end_date: end.as_deref().map(date),
                    employment_end_reason: reason.as_deref().and_then(EmploymentEndReason::parse),
                })
                .collect(),
            memberships: memberships
                .into_iter()
                .map(|(agent_id, team_id, from, to)| TeamMembership {
                    agent_id,
                    team_id,
                    from_date: date(&from),
                    to_date: to.as_deref().map(date),
                })
                .collect(),
            queues: queues
                .into_iter()
                .map(|(id, name, channel, site_id)| Queue {
                    id,
                    name,
                    channel: Channel::parse(&channel).unwrap_or(Channel::VoiceInbound),
                    site_id,
                })
                .collect(),
        })
    }
}

impl ImportTx {
    /// Inserts or replaces each record, inside the import's transaction.
    pub async fn write_organisation(&mut self, changes: &[OrganisationRecord]) -> StoreResult<()> {
        let tenant = self.tenant;
        self.organisation_changed |= !changes.is_empty();
        macro_rules! apply {
            ($tx:expr) => {{
                let tx = $tx;
                for change in changes {
                    let query = match change {
                        OrganisationRecord::Site(s) => sqlx::query(
                            "INSERT INTO sites (tenant_id, id, name, time_zone) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone",
                        )
                        .bind(tenant)
                        .bind(&s.id)
                        .bind(&s.name)
                        .bind(&s.time_zone),
                        OrganisationRecord::Team(t) => sqlx::query(
                            "INSERT INTO teams (tenant_id, id, name, site_id) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, site_id = excluded.site_id",
                        )
                        .bind(tenant)
                        .bind(&t.id)
                        .bind(&t.name)
                        .bind(&t.site_id),
                        OrganisationRecord::Agent(a) => sqlx::query(
                            "INSERT INTO agents (tenant_id, id, name, site_id, hire_date, employment_end_date, employment_end_reason)
                             VALUES ($1, $2, $3, $4, $5, $6, $7)
                             ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, site_id = excluded.site_id,
                             hire_date = excluded.hire_date, employment_end_date = excluded.employment_end_date,
                             employment_end_reason = excluded.employment_end_reason",
                        )
                        .bind(tenant)
                        .bind(&a.id)
                        .bind(&a.name)
                        .bind(&a.site_id)
                        .bind(date_text(a.hire_date))
                        .bind(a.employment_end_date.map(date_text))
                        .bind(a.employment_end_reason.map(|r| r.as_str())),
                        OrganisationRecord::Membership(m) => sqlx::query(
                            "INSERT INTO team_memberships (tenant_id, agent_id, team_id, from_date, to_date) VALUES ($1, $2, $3, $4, $5)
                             ON CONFLICT (tenant_id, agent_id, from_date) DO UPDATE SET team_id = excluded.team_id, to_date = excluded.to_date",
                        )
                        .bind(tenant)
                        .bind(&m.agent_id)
                        .bind(&m.team_id)
                        .bind(date_text(m.from_date))
                        .bind(m.to_date.map(date_text)),
                        OrganisationRecord::Queue(q) => sqlx::query(
                            "INSERT INTO queues (tenant_id, id, name, channel, site_id) VALUES ($1, $2, $3, $4, $5)
                             ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, channel = excluded.channel, site_id = excluded.site_id",
                        )
                        .bind(tenant)
                        .bind(&q.id)
                        .bind(&q.name)
                        .bind(q.channel.as_str())
                        .bind(&q.site_id),
                    };
                    query.execute(&mut **tx).await?;
                }
            }};
        }
        on_tx!(&mut self.tx, |tx| apply!(tx));
        Ok(())
    }
}
