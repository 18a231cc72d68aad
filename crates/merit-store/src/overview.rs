//! Read queries behind the overview: contact counts by hour and channel, and by queue.

use crate::{Store, StoreResult, on_store};
use merit_domain::TenantId;

/// Current contacts that arrived in one UTC hour on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlyCount {
    pub hour_start_ms: i64,
    pub channel: String,
    pub n_contacts: i64,
}

impl Store {
    pub async fn contacts_by_hour(&self, tenant: TenantId) -> StoreResult<Vec<HourlyCount>> {
        let sql = "SELECT (arrival_ms / 3600000) * 3600000 AS hour_ms, channel, COUNT(*)
                   FROM contacts WHERE tenant_id = $1 AND is_current
                   GROUP BY (arrival_ms / 3600000) * 3600000, channel ORDER BY 1, 2";
        let rows: Vec<(i64, String, i64)> = on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(hour_start_ms, channel, n_contacts)| HourlyCount {
                hour_start_ms,
                channel,
                n_contacts,
            })
            .collect())
    }

    /// (queue id, current contacts) for every queue with contacts.
    pub async fn contacts_by_queue(&self, tenant: TenantId) -> StoreResult<Vec<(String, i64)>> {
        let sql = "SELECT COALESCE(queue_id, ''), COUNT(*) FROM contacts WHERE tenant_id = $1 AND is_current
                   GROUP BY COALESCE(queue_id, '') ORDER BY 1";
        Ok(on_store!(self, |pool| sqlx::query_as(sql)
            .bind(tenant)
            .fetch_all(pool)
            .await?))
    }
}
