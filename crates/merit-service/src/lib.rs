//! Use cases shared by the web server, the API and the CLI: imports and the
//! organisation overview. The only place that decides who may do what (from
//! the access issue on), and the only writer of the audit log.

pub mod access;
mod agent_names;
pub mod centre;
pub mod contacts;
pub mod export;
pub mod import;
pub mod imports;
pub mod metrics;
pub mod notifications;
pub mod overview;
pub mod pay;
pub mod pay_what_if;
pub mod quality;
pub mod quality_insights;
pub mod quality_sampling;
pub mod report_cache;
pub mod reports;

/// The source of the current time, injected so tests and simulations control it.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// A clock that always says the same time.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0
    }
}

/// Bytes (a digest, a secret) as lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A value refused, naming its field.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// The audit entry of a change by `caller` to a record, now: what it is after.
pub(crate) fn audit_entry(
    caller: &access::Caller,
    clock: &dyn Clock,
    action: &str,
    kind: &str,
    id: String,
    after: &impl serde::Serialize,
) -> merit_store::AuditEntry {
    merit_store::AuditEntry {
        at_ms: clock.now_ms(),
        actor: caller.name.clone(),
        action: action.into(),
        record_kind: kind.into(),
        record_id: id,
        before_json: None,
        after_json: serde_json::to_string(after).ok(),
    }
}

/// An IANA time zone by name, or the error naming the field.
pub(crate) fn time_zone(name: &str) -> Result<jiff::tz::TimeZone, ServiceError> {
    jiff::tz::TimeZone::get(name).map_err(|_| ServiceError::Invalid {
        field: "time_zone",
        reason: format!("{name:?} is not an IANA time zone"),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Refused(#[from] merit_import::FileRefused),
    #[error(transparent)]
    Store(#[from] merit_store::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Not there, or not the caller's to see (existence is not leaked).
    #[error("not found")]
    NotFound,
    /// A change the record's state does not allow (an approved pay run, a
    /// decided dispute...); `code` is stable (docs/api.md).
    #[error("{reason}")]
    Conflict { code: &'static str, reason: String },
    /// A write the caller's role does not allow.
    #[error("a {role} may not {action}")]
    Forbidden {
        action: &'static str,
        role: &'static str,
    },
}
