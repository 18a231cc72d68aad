//! One contact as stored, for the contact page and the API: its current
//! revision with the whole timeline, and how many revisions it has had.

use crate::{Store, StoreResult, on_store};
use merit_domain::TenantId;
use serde::Serialize;

/// A contact's current revision, as the store holds it (times in UTC ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StoredContact {
    pub source_system: String,
    pub source_id: String,
    pub revision: i64,
    pub channel: String,
    pub queue_id: Option<String>,
    pub contact_type: Option<String>,
    pub customer_id: Option<String>,
    pub agent_id: Option<String>,
    pub arrival_ms: i64,
    pub menu_exit_ms: Option<i64>,
    pub queue_entry_ms: Option<i64>,
    pub queue_exit_ms: Option<i64>,
    pub answer_ms: Option<i64>,
    pub end_ms: i64,
    pub after_work_end_ms: Option<i64>,
    pub outcome: String,
    /// `[{"start_ms": .., "end_ms": ..}]`
    pub holds_json: String,
    /// `[{"at_ms": .., "target": ..}]`
    pub transfers_json: String,
    pub wrap_up_code: Option<String>,
    pub recording_url: Option<String>,
    pub first_response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    pub sale_amount_minor: Option<i64>,
    pub sale_currency: Option<String>,
    pub sale_cancelled_ms: Option<i64>,
}

const CONTACT_COLUMNS: &str = "source_system, source_id, revision, channel, queue_id, contact_type, customer_id, agent_id,
    arrival_ms, menu_exit_ms, queue_entry_ms, queue_exit_ms, answer_ms, end_ms, after_work_end_ms, outcome,
    holds_json, transfers_json, wrap_up_code, recording_url, first_response_ms, resolution_ms,
    sale_amount_minor, sale_currency, sale_cancelled_ms";

/// One survey answer about a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactSurveyAnswer {
    pub response_id: String,
    pub answered_ms: i64,
    pub asked_by: String,
    pub question_id: String,
    pub scale: String,
    pub value: Option<i64>,
    pub answer_text: Option<String>,
}

impl Store {
    /// The current survey answers about a contact (linked by its source
    /// system and id), oldest response first.
    pub async fn contact_survey_answers(
        &self,
        tenant: TenantId,
        source_system: &str,
        source_id: &str,
    ) -> StoreResult<Vec<ContactSurveyAnswer>> {
        // Responses first, by the contact's index, then each one's answers
        // by their key: joined in one statement, SQLite's planner can walk
        // every answer of the tenant instead. Oldest response first.
        let responses_sql = "SELECT source_id, answered_ms, asked_by, revision FROM survey_responses
                   WHERE tenant_id = $1 AND source_system = $2 AND contact_source_id = $3 AND is_current";
        let answers_sql = "SELECT question_id, scale, value, answer_text FROM survey_answers
                   WHERE tenant_id = $1 AND answered_ms = $2 AND source_system = $3 AND source_id = $4 AND revision = $5
                   ORDER BY question_id";
        type Answer = (String, String, Option<i64>, Option<String>);
        let mut answers = Vec::new();
        macro_rules! run {
            ($pool:expr) => {{
                let mut responses: Vec<(String, i64, String, i64)> = sqlx::query_as(responses_sql)
                    .bind(tenant)
                    .bind(source_system)
                    .bind(source_id)
                    .fetch_all($pool)
                    .await?;
                // Sorted here: an ORDER BY leads SQLite to the time index instead.
                responses.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
                for (response_id, answered_ms, asked_by, revision) in responses {
                    let rows: Vec<Answer> = sqlx::query_as(answers_sql)
                        .bind(tenant)
                        .bind(answered_ms)
                        .bind(source_system)
                        .bind(&response_id)
                        .bind(revision)
                        .fetch_all($pool)
                        .await?;
                    answers.extend(rows.into_iter().map(
                        |(question_id, scale, value, answer_text)| ContactSurveyAnswer {
                            response_id: response_id.clone(),
                            answered_ms,
                            asked_by: asked_by.clone(),
                            question_id,
                            scale,
                            value,
                            answer_text,
                        },
                    ));
                }
            }};
        }
        on_store!(self, |pool| run!(pool));
        Ok(answers)
    }

    /// When the latest current contact arrived, if there is one.
    pub async fn latest_arrival_ms(&self, tenant: TenantId) -> StoreResult<Option<i64>> {
        let sql = "SELECT MAX(arrival_ms) FROM contacts WHERE tenant_id = $1 AND is_current";
        Ok(on_store!(self, |pool| sqlx::query_scalar(sql)
            .bind(tenant)
            .fetch_one(pool)
            .await?))
    }

    /// Current contacts that arrived in `[from_ms, to_ms)`, oldest first,
    /// optionally of some agents only (`None`: every contact).
    pub async fn contacts_between(
        &self,
        tenant: TenantId,
        (from_ms, to_ms): (i64, i64),
        agents: Option<&[String]>,
    ) -> StoreResult<Vec<StoredContact>> {
        let agent_filter = match agents {
            None => String::new(),
            Some(_) => match self {
                Store::Sqlite(_) => " AND agent_id IN (SELECT value FROM json_each($4))".into(),
                Store::Postgres(_) => " AND agent_id = ANY($4)".into(),
            },
        };
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND arrival_ms >= $2 AND arrival_ms < $3 AND is_current{agent_filter}
             ORDER BY arrival_ms, source_system, source_id"
        );
        let sql = sqlx::AssertSqlSafe(sql.as_str());
        let agents = agents.unwrap_or_default();
        Ok(match self {
            Store::Sqlite(pool) => {
                let query = sqlx::query_as(sql).bind(tenant).bind(from_ms).bind(to_ms);
                let query = if agent_filter.is_empty() {
                    query
                } else {
                    query.bind(serde_json::to_string(agents).unwrap_or_default())
                };
                query.fetch_all(pool).await?
            }
            Store::Postgres(pool) => {
                let query = sqlx::query_as(sql).bind(tenant).bind(from_ms).bind(to_ms);
                let query = if agent_filter.is_empty() {
                    query
                } else {
                    query.bind(agents)
                };
                query.fetch_all(pool).await?
            }
        })
    }

    /// The current revision of a contact, if there is one.
    pub async fn contact(
        &self,
        tenant: TenantId,
        source_system: &str,
        source_id: &str,
    ) -> StoreResult<Option<StoredContact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND source_system = $2 AND source_id = $3 AND is_current"
        );
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(source_system)
        .bind(source_id)
        .fetch_optional(pool)
        .await?))
    }
}
