//! Quality scoring records: forms and their published versions,
//! evaluations and their versions, disputes and calibration sessions. Every
//! change is written with its audit entry in one transaction; published
//! form versions and evaluation versions are inserted, never updated
//! (release and acknowledgement are stamps on a version, not its content).

use crate::{AuditEntry, Store, StoreResult, insert_audit, on_store};
use merit_domain::TenantId;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct FormRecord {
    pub id: i64,
    pub name: String,
    pub created_ms: i64,
    pub retired_ms: Option<i64>,
    pub latest_version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct FormVersionRecord {
    pub form_id: i64,
    pub version: i64,
    pub form_json: String,
    pub source_text: String,
    pub published_ms: i64,
    pub published_by: String,
}

/// What an evaluation is of, by whom (the parts no version changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EvaluationRecord {
    pub id: i64,
    pub form_id: i64,
    pub form_version: i64,
    pub source_system: String,
    pub contact_source_id: String,
    pub agent_id: String,
    pub kind: String,
    pub method: String,
    pub evaluator: String,
    pub contact_arrival_ms: i64,
    pub calibration_session_id: Option<i64>,
    /// An imported evaluation's id in its source.
    pub source_id: Option<String>,
    pub created_ms: i64,
}

/// One version of an evaluation's answers and score.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EvaluationVersionRecord {
    pub evaluation_id: i64,
    pub version: i64,
    pub answers_json: String,
    pub comment: Option<String>,
    pub score: Option<f64>,
    pub auto_fail_by: Option<String>,
    pub created_ms: i64,
    pub created_by: String,
    pub reason: Option<String>,
    pub released_ms: Option<i64>,
    pub acknowledged_ms: Option<i64>,
}

/// An evaluation with its latest version, for lists.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EvaluationSummary {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub evaluation: EvaluationRecord,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub latest: EvaluationVersionRecord,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DisputeRecord {
    pub id: i64,
    pub evaluation_id: i64,
    pub evaluation_version: i64,
    pub agent_id: String,
    pub questions_json: String,
    pub comment: String,
    pub raised_ms: i64,
    pub raised_by: String,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_ms: Option<i64>,
    pub decided_by: Option<String>,
    pub new_version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CalibrationSessionRecord {
    pub id: i64,
    pub name: String,
    pub form_id: i64,
    pub form_version: i64,
    pub contacts_json: String,
    pub evaluators_json: String,
    pub created_ms: i64,
    pub created_by: String,
}

/// A sampling quota: evaluations an evaluator should make, or an agent
/// (`*`: every agent) should get, per week or month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct QuotaRecord {
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub period: String,
    pub evaluations: i64,
    pub created_ms: i64,
    pub created_by: String,
}

/// A contact in an evaluator's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct WorkItemRecord {
    pub id: i64,
    pub evaluator: String,
    pub source_system: String,
    pub contact_source_id: String,
    pub reason: String,
    pub stratum: String,
    pub created_ms: i64,
    pub created_by: String,
}

/// Which evaluations a list holds.
#[derive(Debug, Clone, Default)]
pub struct EvaluationFilter<'a> {
    /// Only these agents' (`None`: every agent).
    pub agents: Option<&'a [String]>,
    pub calibration_session: Option<i64>,
    pub contact: Option<(&'a str, &'a str)>,
    /// Contacts that arrived in [from, to).
    pub arrival_ms: Option<(i64, i64)>,
}

const EVALUATION_COLUMNS: &str = "e.id, e.form_id, e.form_version, e.source_system, e.contact_source_id, e.agent_id, e.kind, e.method,
    e.evaluator, e.contact_arrival_ms, e.calibration_session_id, e.source_id, e.created_ms";
const VERSION_COLUMNS: &str =
    "v.evaluation_id, v.version, v.answers_json, v.comment, v.score, v.auto_fail_by, v.created_ms,
    v.created_by, v.reason, v.released_ms, v.acknowledged_ms";
const DISPUTE_COLUMNS: &str = "id, evaluation_id, evaluation_version, agent_id, questions_json, comment, raised_ms, raised_by,
    decision, decision_reason, decided_ms, decided_by, new_version";

/// The audit entry with the new record's id.
fn audited(audit: &AuditEntry, id: i64) -> AuditEntry {
    AuditEntry {
        record_id: id.to_string(),
        ..audit.clone()
    }
}

const INSERT_VERSION: &str = "INSERT INTO qa_evaluation_versions (tenant_id, evaluation_id, version, answers_json, comment, score,
    auto_fail_by, created_ms, created_by, reason, released_ms, acknowledged_ms)
    VALUES ($1, $2, (SELECT COALESCE(MAX(version), 0) + 1 FROM qa_evaluation_versions WHERE evaluation_id = $2),
    $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING version";

/// Inserts an evaluation version inside an open transaction; yields its number.
macro_rules! insert_version {
    ($tenant:expr, $id:expr, $v:expr, $tx:expr) => {
        sqlx::query_scalar::<_, i64>(INSERT_VERSION)
            .bind($tenant)
            .bind($id)
            .bind(&$v.answers_json)
            .bind(&$v.comment)
            .bind($v.score)
            .bind(&$v.auto_fail_by)
            .bind($v.created_ms)
            .bind(&$v.created_by)
            .bind(&$v.reason)
            .bind($v.released_ms)
            .bind($v.acknowledged_ms)
            .fetch_one($tx)
            .await
    };
}

impl Store {
    /// Publishes a form's next version (`form_id` `None`: a new form, named
    /// `name`); returns the form id and the version number.
    #[allow(clippy::too_many_arguments)]
    pub async fn publish_form_version(
        &self,
        tenant: TenantId,
        form_id: Option<i64>,
        name: &str,
        form_json: &str,
        source_text: &str,
        published_ms: i64,
        published_by: &str,
        audit: &AuditEntry,
    ) -> StoreResult<(i64, i64)> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let id: i64 = match form_id {
                    Some(id) => {
                        sqlx::query("UPDATE qa_forms SET name = $3 WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant)
                            .bind(id)
                            .bind(name)
                            .execute(&mut *tx)
                            .await?;
                        id
                    }
                    None => {
                        sqlx::query_scalar(
                            "INSERT INTO qa_forms (tenant_id, name, created_ms) VALUES ($1, $2, $3) RETURNING id",
                        )
                        .bind(tenant)
                        .bind(name)
                        .bind(published_ms)
                        .fetch_one(&mut *tx)
                        .await?
                    }
                };
                let version: i64 = sqlx::query_scalar(
                    "INSERT INTO qa_form_versions (tenant_id, form_id, version, form_json, source_text, published_ms, published_by)
                     VALUES ($1, $2, (SELECT COALESCE(MAX(version), 0) + 1 FROM qa_form_versions WHERE form_id = $2), $3, $4, $5, $6)
                     RETURNING version",
                )
                .bind(tenant)
                .bind(id)
                .bind(form_json)
                .bind(source_text)
                .bind(published_ms)
                .bind(published_by)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit!(tenant, audited(audit, id), &mut *tx)?;
                tx.commit().await?;
                (id, version)
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Every form with its latest version number, by name.
    pub async fn forms(&self, tenant: TenantId) -> StoreResult<Vec<FormRecord>> {
        let sql = "SELECT f.id, f.name, f.created_ms, f.retired_ms, MAX(v.version) AS latest_version
                   FROM qa_forms f JOIN qa_form_versions v ON v.form_id = f.id
                   WHERE f.tenant_id = $1 GROUP BY f.id, f.name, f.created_ms, f.retired_ms ORDER BY f.name, f.id";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .fetch_all(pool)
            .await?))
    }

    /// A form's versions, oldest first (empty when there is no such form).
    pub async fn form_versions(
        &self,
        tenant: TenantId,
        form_id: i64,
    ) -> StoreResult<Vec<FormVersionRecord>> {
        let sql = "SELECT form_id, version, form_json, source_text, published_ms, published_by
                   FROM qa_form_versions WHERE tenant_id = $1 AND form_id = $2 ORDER BY version";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(form_id)
            .fetch_all(pool)
            .await?))
    }

    /// Retires a form (once); false when there is no such live form.
    pub async fn retire_form(
        &self,
        tenant: TenantId,
        form_id: i64,
        retired_ms: i64,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let sql = "UPDATE qa_forms SET retired_ms = $3 WHERE tenant_id = $1 AND id = $2 AND retired_ms IS NULL";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let changed = sqlx::query(sql)
                    .bind(tenant)
                    .bind(form_id)
                    .bind(retired_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if changed {
                    insert_audit!(tenant, audit, &mut *tx)?;
                }
                tx.commit().await?;
                changed
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Adds an evaluation with its first version; returns its id.
    pub async fn add_evaluation(
        &self,
        tenant: TenantId,
        evaluation: &EvaluationRecord,
        first: &EvaluationVersionRecord,
        audit: &AuditEntry,
    ) -> StoreResult<i64> {
        let ids = self
            .add_evaluations(
                tenant,
                &[(evaluation.clone(), first.clone(), audit.clone())],
            )
            .await?;
        Ok(ids[0])
    }

    /// Adds evaluations, each with its first version and audit entry, in
    /// one transaction (all or none); returns their ids.
    pub async fn add_evaluations(
        &self,
        tenant: TenantId,
        evaluations: &[(EvaluationRecord, EvaluationVersionRecord, AuditEntry)],
    ) -> StoreResult<Vec<i64>> {
        let sql = "INSERT INTO qa_evaluations (tenant_id, form_id, form_version, source_system, contact_source_id, agent_id,
                   kind, method, evaluator, contact_arrival_ms, calibration_session_id, source_id, created_ms)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let mut ids = Vec::with_capacity(evaluations.len());
                for (e, first, audit) in evaluations {
                    let id: i64 = sqlx::query_scalar(sql)
                        .bind(tenant)
                        .bind(e.form_id)
                        .bind(e.form_version)
                        .bind(&e.source_system)
                        .bind(&e.contact_source_id)
                        .bind(&e.agent_id)
                        .bind(&e.kind)
                        .bind(&e.method)
                        .bind(&e.evaluator)
                        .bind(e.contact_arrival_ms)
                        .bind(e.calibration_session_id)
                        .bind(&e.source_id)
                        .bind(e.created_ms)
                        .fetch_one(&mut *tx)
                        .await?;
                    insert_version!(tenant, id, first, &mut *tx)?;
                    insert_audit!(tenant, audited(audit, id), &mut *tx)?;
                    ids.push(id);
                }
                tx.commit().await?;
                ids
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// The source ids of imported evaluations already stored.
    pub async fn evaluation_source_ids(&self, tenant: TenantId) -> StoreResult<Vec<String>> {
        let sql =
            "SELECT source_id FROM qa_evaluations WHERE tenant_id = $1 AND source_id IS NOT NULL";
        Ok(on_store!(self, |pool| sqlx::query_scalar(sql)
            .bind(tenant)
            .fetch_all(pool)
            .await?))
    }

    /// Adds the next version of an evaluation; returns its number.
    pub async fn add_evaluation_version(
        &self,
        tenant: TenantId,
        version: &EvaluationVersionRecord,
        audit: &AuditEntry,
    ) -> StoreResult<i64> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let number = insert_version!(tenant, version.evaluation_id, version, &mut *tx)?;
                insert_audit!(tenant, audit, &mut *tx)?;
                tx.commit().await?;
                number
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Stamps a version released (`acknowledged` false) or acknowledged,
    /// once; false when it already was.
    pub async fn stamp_evaluation(
        &self,
        tenant: TenantId,
        evaluation_id: i64,
        version: i64,
        acknowledged: bool,
        at_ms: i64,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let sql = if acknowledged {
            "UPDATE qa_evaluation_versions SET acknowledged_ms = $4 WHERE tenant_id = $1 AND evaluation_id = $2
             AND version = $3 AND acknowledged_ms IS NULL AND released_ms IS NOT NULL"
        } else {
            "UPDATE qa_evaluation_versions SET released_ms = $4 WHERE tenant_id = $1 AND evaluation_id = $2
             AND version = $3 AND released_ms IS NULL"
        };
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let changed = sqlx::query(sql)
                    .bind(tenant)
                    .bind(evaluation_id)
                    .bind(version)
                    .bind(at_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if changed {
                    insert_audit!(tenant, audit, &mut *tx)?;
                }
                tx.commit().await?;
                changed
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// An evaluation and its versions, oldest first.
    pub async fn evaluation(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> StoreResult<Option<(EvaluationRecord, Vec<EvaluationVersionRecord>)>> {
        let head = format!(
            "SELECT {EVALUATION_COLUMNS} FROM qa_evaluations e WHERE e.tenant_id = $1 AND e.id = $2"
        );
        let versions = format!(
            "SELECT {VERSION_COLUMNS} FROM qa_evaluation_versions v WHERE v.tenant_id = $1 AND v.evaluation_id = $2 ORDER BY v.version"
        );
        macro_rules! run {
            ($pool:expr) => {{
                let head: Option<EvaluationRecord> =
                    sqlx::query_as(sqlx::AssertSqlSafe(head.as_str()))
                        .bind(tenant)
                        .bind(id)
                        .fetch_optional($pool)
                        .await?;
                match head {
                    None => None,
                    Some(head) => Some((
                        head,
                        sqlx::query_as(sqlx::AssertSqlSafe(versions.as_str()))
                            .bind(tenant)
                            .bind(id)
                            .fetch_all($pool)
                            .await?,
                    )),
                }
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Evaluations with their latest version, newest contact first.
    pub async fn evaluations(
        &self,
        tenant: TenantId,
        filter: &EvaluationFilter<'_>,
    ) -> StoreResult<Vec<EvaluationSummary>> {
        let sql = format!(
            "SELECT {EVALUATION_COLUMNS}, {VERSION_COLUMNS} FROM qa_evaluations e
             JOIN qa_evaluation_versions v ON v.evaluation_id = e.id
             AND v.version = (SELECT MAX(version) FROM qa_evaluation_versions WHERE evaluation_id = e.id)
             WHERE e.tenant_id = $1
             AND ($2 IS NULL OR e.calibration_session_id = $2)
             AND ($3 IS NULL OR (e.source_system = $3 AND e.contact_source_id = $4))
             AND ($5 IS NULL OR (e.contact_arrival_ms >= $5 AND e.contact_arrival_ms < $6))
             ORDER BY e.contact_arrival_ms DESC, e.id DESC"
        );
        let contact = filter.contact.unzip();
        let arrival = filter.arrival_ms.unzip();
        let rows: Vec<EvaluationSummary> = on_store!(self, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(tenant)
        .bind(filter.calibration_session)
        .bind(contact.0)
        .bind(contact.1)
        .bind(arrival.0)
        .bind(arrival.1)
        .fetch_all(pool)
        .await?);
        Ok(match filter.agents {
            None => rows,
            Some(agents) => rows
                .into_iter()
                .filter(|r| agents.contains(&r.evaluation.agent_id))
                .collect(),
        })
    }

    /// Adds a dispute; returns its id.
    pub async fn add_dispute(
        &self,
        tenant: TenantId,
        dispute: &DisputeRecord,
        audit: &AuditEntry,
    ) -> StoreResult<i64> {
        let sql = "INSERT INTO qa_disputes (tenant_id, evaluation_id, evaluation_version, agent_id, questions_json, comment,
                   raised_ms, raised_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let d = dispute;
                let id: i64 = sqlx::query_scalar(sql)
                    .bind(tenant)
                    .bind(d.evaluation_id)
                    .bind(d.evaluation_version)
                    .bind(&d.agent_id)
                    .bind(&d.questions_json)
                    .bind(&d.comment)
                    .bind(d.raised_ms)
                    .bind(&d.raised_by)
                    .fetch_one(&mut *tx)
                    .await?;
                insert_audit!(tenant, audited(audit, id), &mut *tx)?;
                tx.commit().await?;
                id
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Records a dispute's decision (once), with the evaluation version an
    /// accepted dispute produces; false when it was already decided.
    pub async fn decide_dispute(
        &self,
        tenant: TenantId,
        decided: &DisputeRecord,
        new_version: Option<&EvaluationVersionRecord>,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let sql = "UPDATE qa_disputes SET decision = $3, decision_reason = $4, decided_ms = $5, decided_by = $6, new_version = $7
                   WHERE tenant_id = $1 AND id = $2 AND decision IS NULL";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let number = match new_version {
                    Some(v) => Some(insert_version!(tenant, v.evaluation_id, v, &mut *tx)?),
                    None => None,
                };
                let changed = sqlx::query(sql)
                    .bind(tenant)
                    .bind(decided.id)
                    .bind(&decided.decision)
                    .bind(&decided.decision_reason)
                    .bind(decided.decided_ms)
                    .bind(&decided.decided_by)
                    .bind(number)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if changed {
                    insert_audit!(tenant, audit, &mut *tx)?;
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                changed
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Disputes, newest first: of one evaluation, or every one.
    pub async fn disputes(
        &self,
        tenant: TenantId,
        evaluation_id: Option<i64>,
    ) -> StoreResult<Vec<DisputeRecord>> {
        let sql = format!(
            "SELECT {DISPUTE_COLUMNS} FROM qa_disputes WHERE tenant_id = $1 AND ($2 IS NULL OR evaluation_id = $2)
             ORDER BY raised_ms DESC, id DESC"
        );
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(evaluation_id)
        .fetch_all(pool)
        .await?))
    }

    /// Adds a calibration session; returns its id.
    pub async fn add_calibration_session(
        &self,
        tenant: TenantId,
        session: &CalibrationSessionRecord,
        audit: &AuditEntry,
    ) -> StoreResult<i64> {
        let sql = "INSERT INTO qa_calibration_sessions (tenant_id, name, form_id, form_version, contacts_json, evaluators_json,
                   created_ms, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let s = session;
                let id: i64 = sqlx::query_scalar(sql)
                    .bind(tenant)
                    .bind(&s.name)
                    .bind(s.form_id)
                    .bind(s.form_version)
                    .bind(&s.contacts_json)
                    .bind(&s.evaluators_json)
                    .bind(s.created_ms)
                    .bind(&s.created_by)
                    .fetch_one(&mut *tx)
                    .await?;
                insert_audit!(tenant, audited(audit, id), &mut *tx)?;
                tx.commit().await?;
                id
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Calibration sessions, newest first.
    pub async fn calibration_sessions(
        &self,
        tenant: TenantId,
    ) -> StoreResult<Vec<CalibrationSessionRecord>> {
        let sql = "SELECT id, name, form_id, form_version, contacts_json, evaluators_json, created_ms, created_by
                   FROM qa_calibration_sessions WHERE tenant_id = $1 ORDER BY created_ms DESC, id DESC";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .fetch_all(pool)
            .await?))
    }

    /// Adds a sampling quota; returns its id.
    pub async fn add_quota(
        &self,
        tenant: TenantId,
        quota: &QuotaRecord,
        audit: &AuditEntry,
    ) -> StoreResult<i64> {
        let sql = "INSERT INTO qa_quotas (tenant_id, kind, subject, period, evaluations, created_ms, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let id: i64 = sqlx::query_scalar(sql)
                    .bind(tenant)
                    .bind(&quota.kind)
                    .bind(&quota.subject)
                    .bind(&quota.period)
                    .bind(quota.evaluations)
                    .bind(quota.created_ms)
                    .bind(&quota.created_by)
                    .fetch_one(&mut *tx)
                    .await?;
                insert_audit!(tenant, audited(audit, id), &mut *tx)?;
                tx.commit().await?;
                id
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    pub async fn quotas(&self, tenant: TenantId) -> StoreResult<Vec<QuotaRecord>> {
        let sql =
            "SELECT id, kind, subject, period, evaluations, created_ms, created_by FROM qa_quotas
                   WHERE tenant_id = $1 ORDER BY kind, subject, id";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .fetch_all(pool)
            .await?))
    }

    /// Adds contacts to evaluators' queues (one already queued for its
    /// evaluator is skipped) with one audit entry; returns how many were added.
    pub async fn add_work_items(
        &self,
        tenant: TenantId,
        items: &[WorkItemRecord],
        audit: &AuditEntry,
    ) -> StoreResult<u64> {
        let sql = "INSERT INTO qa_work_items (tenant_id, evaluator, source_system, contact_source_id, reason, stratum,
                   created_ms, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (tenant_id, evaluator, source_system, contact_source_id) DO NOTHING";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let mut added = 0;
                for item in items {
                    added += sqlx::query(sql)
                        .bind(tenant)
                        .bind(&item.evaluator)
                        .bind(&item.source_system)
                        .bind(&item.contact_source_id)
                        .bind(&item.reason)
                        .bind(&item.stratum)
                        .bind(item.created_ms)
                        .bind(&item.created_by)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                insert_audit!(tenant, audit, &mut *tx)?;
                tx.commit().await?;
                added
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Evaluators' queues (`None`: every evaluator's), oldest first.
    pub async fn work_items(
        &self,
        tenant: TenantId,
        evaluator: Option<&str>,
    ) -> StoreResult<Vec<WorkItemRecord>> {
        let sql = "SELECT id, evaluator, source_system, contact_source_id, reason, stratum, created_ms, created_by
                   FROM qa_work_items WHERE tenant_id = $1 AND ($2 IS NULL OR evaluator = $2) ORDER BY created_ms, id";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(evaluator)
            .fetch_all(pool)
            .await?))
    }

    /// Contacts (source system, id) that arrived in [from, to) whose
    /// customer gave a low survey answer: 1-2 of 5, 0-4 of 10, or "no".
    pub async fn contacts_with_low_survey_answers(
        &self,
        tenant: TenantId,
        arrival_ms: (i64, i64),
    ) -> StoreResult<Vec<(String, String)>> {
        // Answers come after the contact; a week covers late ones.
        const LATE_MS: i64 = 7 * 86_400_000;
        let sql = "SELECT DISTINCT r.source_system, r.contact_source_id FROM survey_responses r
                   JOIN survey_answers a ON a.tenant_id = r.tenant_id AND a.answered_ms = r.answered_ms
                   AND a.source_system = r.source_system AND a.source_id = r.source_id AND a.revision = r.revision
                   WHERE r.tenant_id = $1 AND r.answered_ms >= $2 AND r.answered_ms < $3 AND r.is_current
                   AND r.contact_source_id IS NOT NULL
                   AND ((a.scale = '1-5' AND a.value <= 2) OR (a.scale = '0-10' AND a.value <= 4)
                        OR (a.scale = 'yes_no' AND a.value = 0))";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(arrival_ms.0)
            .bind(arrival_ms.1 + LATE_MS)
            .fetch_all(pool)
            .await?))
    }
}
