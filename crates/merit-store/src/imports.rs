//! What an import leaves besides its records: its row problems, kept with
//! the batch, and the column mappings saved by name.

use crate::batch::ImportTx;
use crate::{AuditEntry, Store, StoreResult, insert_audit, on_store, on_tx};
use merit_domain::TenantId;

/// A row problem as kept with its batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct StoredProblem {
    pub file_name: String,
    pub line: i64,
    pub field: String,
    pub reason: String,
}

/// A saved column mapping.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct SavedMapping {
    pub name: String,
    pub toml: String,
    pub saved_ms: i64,
    pub saved_by: String,
}

impl ImportTx {
    /// Keeps the batch's row problems (the caller passes at most the first 1,000).
    pub async fn keep_problems(&mut self, problems: &[StoredProblem]) -> StoreResult<()> {
        let sql =
            "INSERT INTO import_problems (tenant_id, batch_id, n, file_name, line, field, reason)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let (tenant, batch) = (self.tenant, self.batch_id());
        for (n, p) in problems.iter().enumerate() {
            on_tx!(&mut self.tx, |tx| sqlx::query(sql)
                .bind(tenant)
                .bind(batch)
                .bind(n as i64)
                .bind(&p.file_name)
                .bind(p.line)
                .bind(&p.field)
                .bind(&p.reason)
                .execute(&mut **tx)
                .await
                .map(|_| ())?);
        }
        Ok(())
    }
}

impl Store {
    /// The row problems kept with a batch, in file order.
    pub async fn import_problems(
        &self,
        tenant: TenantId,
        batch_id: i64,
    ) -> StoreResult<Vec<StoredProblem>> {
        let sql = "SELECT file_name, line, field, reason FROM import_problems
                   WHERE tenant_id = $1 AND batch_id = $2 ORDER BY n";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(batch_id)
            .fetch_all(pool)
            .await?))
    }

    pub async fn mappings(&self, tenant: TenantId) -> StoreResult<Vec<SavedMapping>> {
        let sql = "SELECT name, toml, saved_ms, saved_by FROM import_mappings WHERE tenant_id = $1 ORDER BY name";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .fetch_all(pool)
            .await?))
    }

    pub async fn mapping(&self, tenant: TenantId, name: &str) -> StoreResult<Option<SavedMapping>> {
        let sql = "SELECT name, toml, saved_ms, saved_by FROM import_mappings WHERE tenant_id = $1 AND name = $2";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(name)
            .fetch_optional(pool)
            .await?))
    }

    /// Saves (or replaces) a mapping by name, with its audit entry.
    pub async fn save_mapping(
        &self,
        tenant: TenantId,
        mapping: &SavedMapping,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO import_mappings (tenant_id, name, toml, saved_ms, saved_by) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (tenant_id, name) DO UPDATE SET toml = excluded.toml, saved_ms = excluded.saved_ms, saved_by = excluded.saved_by";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                sqlx::query(sql)
                    .bind(tenant)
                    .bind(&mapping.name)
                    .bind(&mapping.toml)
                    .bind(mapping.saved_ms)
                    .bind(&mapping.saved_by)
                    .execute(&mut *tx)
                    .await?;
                insert_audit!(tenant, audit, &mut *tx)?;
                tx.commit().await?;
            }};
        }
        on_store!(self, |pool| run!(pool));
        Ok(())
    }
}
