//! Merit's vocabulary and engines: the organisation, contacts and their
//! timelines, agent activity, surveys, access identifiers, QA scoring and
//! calibration statistics, and the Erlang staffing formulas. Pure: no IO, no clock, no async. Time comes in as a
//! parameter, as UTC milliseconds since the Unix epoch (`*_ms`).

pub mod access;
pub mod activity;
pub mod contact;
pub mod erlang;
pub mod metrics;
pub mod money;
pub mod organisation;
pub mod pay;
pub mod quality;
pub mod survey;

/// A point in time: UTC milliseconds since the Unix epoch.
pub type UtcMs = i64;

/// The tenant (centre) every record belongs to.
pub type TenantId = i64;

/// The tenant created by `merit migrate` and used by the CLI unless told otherwise.
pub const DEFAULT_TENANT: TenantId = 1;
