//! The centre (tenant) itself: its name and the time zone used for display,
//! reporting buckets and business hours.

use crate::{Clock, ServiceError};
use merit_domain::TenantId;
use merit_store::{AuditEntry, Store};

/// The centre's name and IANA time zone.
pub async fn centre(store: &Store, tenant: TenantId) -> Result<(String, String), ServiceError> {
    Ok(store.centre(tenant).await?)
}

/// Renames the centre and sets its time zone; audited with before and after.
pub async fn configure_centre(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    actor: &str,
    name: &str,
    time_zone: &str,
) -> Result<(), ServiceError> {
    if name.trim().is_empty() {
        return Err(ServiceError::Invalid {
            field: "name",
            reason: "is empty".into(),
        });
    }
    crate::time_zone(time_zone)?;
    let before = store.centre(tenant).await?;
    let as_json = |(name, time_zone): (&str, &str)| {
        serde_json::json!({ "name": name, "time_zone": time_zone }).to_string()
    };
    let audit = AuditEntry {
        at_ms: clock.now_ms(),
        actor: actor.into(),
        action: "centre.update".into(),
        record_kind: "centre".into(),
        record_id: tenant.to_string(),
        before_json: Some(as_json((&before.0, &before.1))),
        after_json: Some(as_json((name, time_zone))),
    };
    store.set_centre(tenant, name, time_zone, &audit).await?;
    Ok(())
}
