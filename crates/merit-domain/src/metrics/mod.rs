//! The metrics engine: versioned KPI definitions, contacts and survey
//! answers as columns, and reports with drill-down. Formulas are in
//! docs/metrics.md.

pub mod business_hours;
pub mod cache;
pub mod compute;
pub mod cores;
pub mod definition;
pub mod fast_hash;
pub mod packed;
pub mod table;
pub mod target;
pub mod workforce;

pub use compute::{
    Dimension, Figure, FigureTarget, Frame, OrgView, Part, Report, ReportRow, Source, ZoneRule,
};
pub use definition::{
    DefinitionHistory, DefinitionVersion, Direction, FcrMatch, Kpi, KpiOptions,
    ServiceLevelVariant, Unit,
};
pub use table::{ContactFacts, ContactTable, Dict, SurveyFact};
pub use target::{Target, TargetScope, Zone};
