//! Pay records: plans and their published versions, pay runs with one
//! statement per agent, adjustments and pay disputes. Every change is
//! written with its audit entry in one transaction. An approved run is
//! immutable: every statement write below is conditional on the run's
//! state, so no path through the store changes an approved statement.

use crate::{AuditEntry, Store, StoreResult, insert_audit, on_store};
use merit_domain::TenantId;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PayPlanRecord {
    pub id: i64,
    pub name: String,
    pub created_ms: i64,
    pub latest_version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PayPlanVersionRecord {
    pub plan_id: i64,
    pub version: i64,
    pub effective_from: String,
    pub source_text: String,
    pub reason: Option<String>,
    pub published_ms: i64,
    pub published_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PayRunRecord {
    pub id: i64,
    pub plan_id: i64,
    pub plan_version: i64,
    pub period_from: String,
    pub period_to: String,
    pub state: String,
    pub currency: String,
    pub total_minor: i64,
    pub created_ms: i64,
    pub created_by: String,
    pub approved_ms: Option<i64>,
    pub approved_by: Option<String>,
    pub exported_ms: Option<i64>,
    pub exported_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PayStatementRecord {
    pub run_id: i64,
    pub agent_id: String,
    pub team_id: Option<String>,
    pub total_minor: i64,
    pub body_json: String,
    pub reviewed_ms: Option<i64>,
    pub reviewed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PayAdjustmentRecord {
    pub id: i64,
    pub plan_id: i64,
    pub agent_id: String,
    pub amount_minor: i64,
    pub reason_code: String,
    pub note: String,
    pub created_ms: i64,
    pub created_by: String,
    pub paid_in_run: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PayDisputeRecord {
    pub id: i64,
    pub run_id: i64,
    pub agent_id: String,
    pub comment: String,
    pub raised_ms: i64,
    pub raised_by: String,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub adjustment_id: Option<i64>,
    pub decided_ms: Option<i64>,
    pub decided_by: Option<String>,
}

/// Why a run could not be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunSaved {
    Saved(i64),
    /// The period's run is already approved (or exported): nothing changed.
    Approved(i64),
}

const RUN_COLUMNS: &str =
    "id, plan_id, plan_version, period_from, period_to, state, currency, total_minor, created_ms,
    created_by, approved_ms, approved_by, exported_ms, exported_by";
const STATEMENT_COLUMNS: &str =
    "run_id, agent_id, team_id, total_minor, body_json, reviewed_ms, reviewed_by";
const ADJUSTMENT_COLUMNS: &str =
    "id, plan_id, agent_id, amount_minor, reason_code, note, created_ms, created_by, paid_in_run";
const DISPUTE_COLUMNS: &str =
    "id, run_id, agent_id, comment, raised_ms, raised_by, decision, decision_reason, adjustment_id,
    decided_ms, decided_by";
/// Statements may change only while their run is open.
const RUN_OPEN: &str = "state IN ('draft', 'reviewed')";

fn audited(audit: &AuditEntry, id: i64) -> AuditEntry {
    AuditEntry {
        record_id: id.to_string(),
        ..audit.clone()
    }
}

/// Inserts an adjustment inside an open transaction; yields its id.
macro_rules! insert_adjustment {
    ($tenant:expr, $a:expr, $tx:expr) => {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO pay_adjustments (tenant_id, plan_id, agent_id, amount_minor, reason_code, note, created_ms, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind($tenant)
        .bind($a.plan_id)
        .bind(&$a.agent_id)
        .bind($a.amount_minor)
        .bind(&$a.reason_code)
        .bind(&$a.note)
        .bind($a.created_ms)
        .bind(&$a.created_by)
        .fetch_one($tx)
        .await
    };
}

impl Store {
    /// Publishes a plan's next version (`plan_id` `None`: a new plan named
    /// `name`); returns the plan id and the version number.
    #[allow(clippy::too_many_arguments)]
    pub async fn publish_pay_plan_version(
        &self,
        tenant: TenantId,
        plan_id: Option<i64>,
        name: &str,
        effective_from: &str,
        source_text: &str,
        reason: Option<&str>,
        published_ms: i64,
        published_by: &str,
        audit: &AuditEntry,
    ) -> StoreResult<(i64, i64)> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let id: i64 = match plan_id {
                    Some(id) => {
                        sqlx::query("UPDATE pay_plans SET name = $3 WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant)
                            .bind(id)
                            .bind(name)
                            .execute(&mut *tx)
                            .await?;
                        id
                    }
                    None => {
                        sqlx::query_scalar(
                            "INSERT INTO pay_plans (tenant_id, name, created_ms) VALUES ($1, $2, $3) RETURNING id",
                        )
                        .bind(tenant)
                        .bind(name)
                        .bind(published_ms)
                        .fetch_one(&mut *tx)
                        .await?
                    }
                };
                let version: i64 = sqlx::query_scalar(
                    "INSERT INTO pay_plan_versions (tenant_id, plan_id, version, effective_from, source_text, reason, published_ms, published_by)
                     VALUES ($1, $2, (SELECT COALESCE(MAX(version), 0) + 1 FROM pay_plan_versions WHERE plan_id = $2), $3, $4, $5, $6, $7)
                     RETURNING version",
                )
                .bind(tenant)
                .bind(id)
                .bind(effective_from)
                .bind(source_text)
                .bind(reason)
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

    /// Every plan with its latest version number, by name.
    pub async fn pay_plans(&self, tenant: TenantId) -> StoreResult<Vec<PayPlanRecord>> {
        let sql = "SELECT p.id, p.name, p.created_ms, MAX(v.version) AS latest_version
                   FROM pay_plans p JOIN pay_plan_versions v ON v.plan_id = p.id
                   WHERE p.tenant_id = $1 GROUP BY p.id, p.name, p.created_ms ORDER BY p.name";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .fetch_all(pool)
            .await?))
    }

    /// A plan's versions, oldest first (empty when there is no such plan).
    pub async fn pay_plan_versions(
        &self,
        tenant: TenantId,
        plan_id: i64,
    ) -> StoreResult<Vec<PayPlanVersionRecord>> {
        let sql = "SELECT plan_id, version, effective_from, source_text, reason, published_ms, published_by
                   FROM pay_plan_versions WHERE tenant_id = $1 AND plan_id = $2 ORDER BY version";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(plan_id)
            .fetch_all(pool)
            .await?))
    }

    /// Saves a run of `run.plan_id` for the period starting
    /// `run.period_from` with its statements, replacing an open run of the
    /// same period; an approved one is left as it is.
    pub async fn save_pay_run(
        &self,
        tenant: TenantId,
        run: &PayRunRecord,
        statements: &[PayStatementRecord],
        audit: &AuditEntry,
    ) -> StoreResult<RunSaved> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let existing: Option<(i64, String)> = sqlx::query_as(
                    "SELECT id, state FROM pay_runs WHERE tenant_id = $1 AND plan_id = $2 AND period_from = $3",
                )
                .bind(tenant)
                .bind(run.plan_id)
                .bind(&run.period_from)
                .fetch_optional(&mut *tx)
                .await?;
                let id = match existing {
                    Some((id, state)) if state == "approved" || state == "exported" => {
                        return Ok(RunSaved::Approved(id));
                    }
                    Some((id, _)) => {
                        sqlx::query("DELETE FROM pay_statements WHERE tenant_id = $1 AND run_id = $2")
                            .bind(tenant)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(
                            "UPDATE pay_runs SET plan_version = $3, period_to = $4, state = 'draft', currency = $5,
                             total_minor = $6, created_ms = $7, created_by = $8 WHERE tenant_id = $1 AND id = $2",
                        )
                        .bind(tenant)
                        .bind(id)
                        .bind(run.plan_version)
                        .bind(&run.period_to)
                        .bind(&run.currency)
                        .bind(run.total_minor)
                        .bind(run.created_ms)
                        .bind(&run.created_by)
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                    None => {
                        sqlx::query_scalar(
                            "INSERT INTO pay_runs (tenant_id, plan_id, plan_version, period_from, period_to, state, currency,
                             total_minor, created_ms, created_by) VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9) RETURNING id",
                        )
                        .bind(tenant)
                        .bind(run.plan_id)
                        .bind(run.plan_version)
                        .bind(&run.period_from)
                        .bind(&run.period_to)
                        .bind(&run.currency)
                        .bind(run.total_minor)
                        .bind(run.created_ms)
                        .bind(&run.created_by)
                        .fetch_one(&mut *tx)
                        .await?
                    }
                };
                for s in statements {
                    sqlx::query(
                        "INSERT INTO pay_statements (tenant_id, run_id, agent_id, team_id, total_minor, body_json)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(tenant)
                    .bind(id)
                    .bind(&s.agent_id)
                    .bind(&s.team_id)
                    .bind(s.total_minor)
                    .bind(&s.body_json)
                    .execute(&mut *tx)
                    .await?;
                }
                insert_audit!(tenant, audited(audit, id), &mut *tx)?;
                tx.commit().await?;
                RunSaved::Saved(id)
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Runs, newest period first (`plan_id` `None`: of every plan).
    pub async fn pay_runs(
        &self,
        tenant: TenantId,
        plan_id: Option<i64>,
    ) -> StoreResult<Vec<PayRunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM pay_runs WHERE tenant_id = $1 AND ($2 IS NULL OR plan_id = $2)
             ORDER BY period_from DESC, plan_id"
        );
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(plan_id)
        .fetch_all(pool)
        .await?))
    }

    pub async fn pay_run(&self, tenant: TenantId, id: i64) -> StoreResult<Option<PayRunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM pay_runs WHERE tenant_id = $1 AND id = $2");
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }

    /// A run's statements (`agent` `Some`: that agent's only), by agent.
    pub async fn pay_statements(
        &self,
        tenant: TenantId,
        run_id: i64,
        agent: Option<&str>,
    ) -> StoreResult<Vec<PayStatementRecord>> {
        let sql = format!(
            "SELECT {STATEMENT_COLUMNS} FROM pay_statements WHERE tenant_id = $1 AND run_id = $2
             AND ($3 IS NULL OR agent_id = $3) ORDER BY agent_id"
        );
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(run_id)
        .bind(agent)
        .fetch_all(pool)
        .await?))
    }

    /// Every statement of one agent, newest run first.
    pub async fn agent_pay_statements(
        &self,
        tenant: TenantId,
        agent: &str,
    ) -> StoreResult<Vec<PayStatementRecord>> {
        let sql = format!(
            "SELECT {STATEMENT_COLUMNS} FROM pay_statements WHERE tenant_id = $1 AND agent_id = $2 ORDER BY run_id DESC"
        );
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(agent)
        .fetch_all(pool)
        .await?))
    }

    /// Marks these agents' statements of an open run reviewed; when none is
    /// left unreviewed the run becomes `reviewed`. Returns how many were marked.
    pub async fn review_pay_statements(
        &self,
        tenant: TenantId,
        run_id: i64,
        agents: &[String],
        at_ms: i64,
        by: &str,
        audit: &AuditEntry,
    ) -> StoreResult<u64> {
        let mark = format!(
            "UPDATE pay_statements SET reviewed_ms = $4, reviewed_by = $5
             WHERE tenant_id = $1 AND run_id = $2 AND agent_id = $3 AND reviewed_ms IS NULL
             AND run_id IN (SELECT id FROM pay_runs WHERE tenant_id = $1 AND {RUN_OPEN})"
        );
        let settle = "UPDATE pay_runs SET state = 'reviewed' WHERE tenant_id = $1 AND id = $2 AND state = 'draft'
             AND NOT EXISTS (SELECT 1 FROM pay_statements WHERE tenant_id = $1 AND run_id = $2 AND reviewed_ms IS NULL)";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let mut marked = 0;
                for agent in agents {
                    marked += sqlx::query(sqlx::AssertSqlSafe(mark.as_str()))
                        .bind(tenant)
                        .bind(run_id)
                        .bind(agent)
                        .bind(at_ms)
                        .bind(by)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                sqlx::query(settle)
                    .bind(tenant)
                    .bind(run_id)
                    .execute(&mut *tx)
                    .await?;
                if marked > 0 {
                    insert_audit!(tenant, audited(audit, run_id), &mut *tx)?;
                }
                tx.commit().await?;
                marked
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Replaces one statement of an open run (its review is undone, and the
    /// run is a draft again); false when the run is approved or absent.
    pub async fn replace_pay_statement(
        &self,
        tenant: TenantId,
        statement: &PayStatementRecord,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let update = format!(
            "UPDATE pay_statements SET total_minor = $4, body_json = $5, reviewed_ms = NULL, reviewed_by = NULL
             WHERE tenant_id = $1 AND run_id = $2 AND agent_id = $3
             AND run_id IN (SELECT id FROM pay_runs WHERE tenant_id = $1 AND {RUN_OPEN})"
        );
        let reopen = "UPDATE pay_runs SET state = 'draft',
             total_minor = (SELECT COALESCE(SUM(total_minor), 0) FROM pay_statements WHERE tenant_id = $1 AND run_id = $2)
             WHERE tenant_id = $1 AND id = $2";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let changed = sqlx::query(sqlx::AssertSqlSafe(update.as_str()))
                    .bind(tenant)
                    .bind(statement.run_id)
                    .bind(&statement.agent_id)
                    .bind(statement.total_minor)
                    .bind(&statement.body_json)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if changed {
                    sqlx::query(reopen)
                        .bind(tenant)
                        .bind(statement.run_id)
                        .execute(&mut *tx)
                        .await?;
                    insert_audit!(tenant, audit, &mut *tx)?;
                }
                tx.commit().await?;
                changed
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Approves a reviewed run and marks the adjustments its statements pay
    /// as paid in it; false when the run is not `reviewed`.
    pub async fn approve_pay_run(
        &self,
        tenant: TenantId,
        run_id: i64,
        at_ms: i64,
        by: &str,
        adjustments_paid: &[i64],
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let changed = sqlx::query(
                    "UPDATE pay_runs SET state = 'approved', approved_ms = $3, approved_by = $4
                     WHERE tenant_id = $1 AND id = $2 AND state = 'reviewed'",
                )
                .bind(tenant)
                .bind(run_id)
                .bind(at_ms)
                .bind(by)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if changed {
                    for id in adjustments_paid {
                        sqlx::query(
                            "UPDATE pay_adjustments SET paid_in_run = $3 WHERE tenant_id = $1 AND id = $2 AND paid_in_run IS NULL",
                        )
                        .bind(tenant)
                        .bind(id)
                        .bind(run_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    insert_audit!(tenant, audit, &mut *tx)?;
                }
                tx.commit().await?;
                changed
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Marks an approved run exported (the first export); false otherwise.
    pub async fn mark_pay_run_exported(
        &self,
        tenant: TenantId,
        run_id: i64,
        at_ms: i64,
        by: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let changed = sqlx::query(
                    "UPDATE pay_runs SET state = 'exported', exported_ms = $3, exported_by = $4
                     WHERE tenant_id = $1 AND id = $2 AND state = 'approved'",
                )
                .bind(tenant)
                .bind(run_id)
                .bind(at_ms)
                .bind(by)
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

    /// Records an adjustment (to be paid in its plan's next run); its id.
    pub async fn add_pay_adjustment(
        &self,
        tenant: TenantId,
        adjustment: &PayAdjustmentRecord,
        audit: &AuditEntry,
    ) -> StoreResult<i64> {
        on_store!(self, |pool| {
            let mut tx = pool.begin().await?;
            let id = insert_adjustment!(tenant, adjustment, &mut *tx)?;
            insert_audit!(tenant, audited(audit, id), &mut *tx)?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// A plan's adjustments not yet paid in an approved run.
    pub async fn unpaid_pay_adjustments(
        &self,
        tenant: TenantId,
        plan_id: i64,
    ) -> StoreResult<Vec<PayAdjustmentRecord>> {
        let sql = format!(
            "SELECT {ADJUSTMENT_COLUMNS} FROM pay_adjustments WHERE tenant_id = $1 AND plan_id = $2 AND paid_in_run IS NULL ORDER BY id"
        );
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(plan_id)
        .fetch_all(pool)
        .await?))
    }

    /// Records an agent's dispute of a statement; its id.
    pub async fn raise_pay_dispute(
        &self,
        tenant: TenantId,
        dispute: &PayDisputeRecord,
        audit: &AuditEntry,
    ) -> StoreResult<i64> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO pay_disputes (tenant_id, run_id, agent_id, comment, raised_ms, raised_by)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(tenant)
                .bind(dispute.run_id)
                .bind(&dispute.agent_id)
                .bind(&dispute.comment)
                .bind(dispute.raised_ms)
                .bind(&dispute.raised_by)
                .fetch_one(&mut *tx)
                .await?;
                insert_audit!(tenant, audited(audit, id), &mut *tx)?;
                tx.commit().await?;
                id
            }};
        }
        Ok(on_store!(self, |pool| run!(pool)))
    }

    /// Disputes, newest first (of one run and/or one agent when given).
    pub async fn pay_disputes(
        &self,
        tenant: TenantId,
        run_id: Option<i64>,
        agent: Option<&str>,
    ) -> StoreResult<Vec<PayDisputeRecord>> {
        let sql = format!(
            "SELECT {DISPUTE_COLUMNS} FROM pay_disputes WHERE tenant_id = $1 AND ($2 IS NULL OR run_id = $2)
             AND ($3 IS NULL OR agent_id = $3) ORDER BY id DESC"
        );
        Ok(on_store!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(tenant)
        .bind(run_id)
        .bind(agent)
        .fetch_all(pool)
        .await?))
    }

    /// Decides an open dispute, with the adjustment an accepted one pays;
    /// false when it was already decided.
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_pay_dispute(
        &self,
        tenant: TenantId,
        id: i64,
        decision: &str,
        reason: &str,
        adjustment: Option<&PayAdjustmentRecord>,
        at_ms: i64,
        by: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                let adjustment_id = match adjustment {
                    Some(a) => Some(insert_adjustment!(tenant, a, &mut *tx)?),
                    None => None,
                };
                let changed = sqlx::query(
                    "UPDATE pay_disputes SET decision = $3, decision_reason = $4, adjustment_id = $5, decided_ms = $6, decided_by = $7
                     WHERE tenant_id = $1 AND id = $2 AND decision IS NULL",
                )
                .bind(tenant)
                .bind(id)
                .bind(decision)
                .bind(reason)
                .bind(adjustment_id)
                .bind(at_ms)
                .bind(by)
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

    /// Absences overlapping [from_ms, to_ms): (agent, start, end).
    pub async fn absences(
        &self,
        tenant: TenantId,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<(String, i64, i64)>> {
        let sql = "SELECT agent_id, start_ms, end_ms FROM absences
                   WHERE tenant_id = $1 AND is_current AND start_ms < $3 AND end_ms > $2 ORDER BY agent_id, start_ms";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(pool)
            .await?))
    }
}
