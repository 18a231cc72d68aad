//! The inbox: notifications per recipient (a username), added once per
//! key, read newest first, marked read by their recipient only.

use crate::{Store, StoreResult, on_store};
use merit_domain::TenantId;

/// A notification to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub recipient: String,
    pub kind: String,
    pub subject: String,
    pub link: String,
    /// Telling a recipient twice under the same key adds nothing.
    pub dedupe_key: String,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct NotificationRecord {
    pub id: i64,
    pub created_ms: i64,
    pub kind: String,
    pub subject: String,
    pub link: String,
    pub read_ms: Option<i64>,
}

impl Store {
    /// Adds notifications (those already given under their key are skipped).
    pub async fn notify(
        &self,
        tenant: TenantId,
        created_ms: i64,
        notifications: &[NewNotification],
    ) -> StoreResult<()> {
        let sql = "INSERT INTO notifications (tenant_id, recipient, created_ms, kind, subject, link, dedupe_key)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, recipient, dedupe_key) DO NOTHING";
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                for n in notifications {
                    sqlx::query(sql)
                        .bind(tenant)
                        .bind(&n.recipient)
                        .bind(created_ms)
                        .bind(&n.kind)
                        .bind(&n.subject)
                        .bind(&n.link)
                        .bind(&n.dedupe_key)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }};
        }
        on_store!(self, |pool| run!(pool));
        Ok(())
    }

    /// A recipient's notifications, newest first.
    pub async fn notifications(
        &self,
        tenant: TenantId,
        recipient: &str,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let sql = "SELECT id, created_ms, kind, subject, link, read_ms FROM notifications
                   WHERE tenant_id = $1 AND recipient = $2 ORDER BY created_ms DESC, id DESC";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .bind(recipient)
            .fetch_all(pool)
            .await?))
    }

    /// Marks one of the recipient's notifications read (`None`: all of
    /// them); returns how many changed. Someone else's are never touched.
    pub async fn mark_read(
        &self,
        tenant: TenantId,
        recipient: &str,
        id: Option<i64>,
        read_ms: i64,
    ) -> StoreResult<u64> {
        let sql = "UPDATE notifications SET read_ms = $4 WHERE tenant_id = $1 AND recipient = $2
                   AND ($3 IS NULL OR id = $3) AND read_ms IS NULL";
        Ok(on_store!(self, |pool| sqlx::query(sql)
            .bind(tenant)
            .bind(recipient)
            .bind(id)
            .bind(read_ms)
            .execute(pool)
            .await?
            .rows_affected()))
    }
}
