//! KPI definitions: what each KPI counts, its options, and its versions over
//! time. A version is never edited; a new one starts on a date.

use crate::activity::text_enum;
use crate::metrics::business_hours::BusinessHours;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

text_enum!(
    /// Every KPI the engine computes. The text is the default definition's name.
    Kpi {
        Offered = "offered",
        Answered = "answered",
        Handled = "handled",
        QueueAbandons = "queue_abandons",
        ShortAbandons = "short_abandons",
        MenuAbandons = "menu_abandons",
        SystemDrops = "system_drops",
        Overflows = "overflows",
        Refused = "refused",
        AbandonRate = "abandon_rate",
        ServiceLevel = "service_level",
        Asa = "asa",
        AbandonWait = "abandon_wait",
        WaitPercentile = "wait_percentile",
        LongestWait = "longest_wait",
        Aht = "aht",
        TalkTime = "talk_time",
        HoldTime = "hold_time",
        AfterCallWork = "after_call_work",
        TransferRate = "transfer_rate",
        HoldRatio = "hold_ratio",
        FcrRepeat = "fcr_repeat",
        FcrSurvey = "fcr_survey",
        Csat = "csat",
        CsatMean = "csat_mean",
        Nps = "nps",
        FirstResponseTime = "first_response_time",
        ResponseWithinTarget = "response_within_target",
        ResolutionTime = "resolution_time",
        SalesConversion = "sales_conversion",
        RetainedValue = "retained_value",
        Occupancy = "occupancy",
        Utilisation = "utilisation",
        Adherence = "adherence",
        Conformance = "conformance",
        ContactsPerHour = "contacts_per_hour",
        Attrition = "attrition",
        AttritionVoluntary = "attrition_voluntary",
        AttritionInvoluntary = "attrition_involuntary",
        AttritionInternalMove = "attrition_internal_move",
        Retention = "retention",
        QaScore = "qa_score",
        QaAutoFailRate = "qa_auto_fail_rate",
    }
);

/// How a figure's numerator and denominator become its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A count: the value is the numerator, there is no denominator.
    Count,
    /// numerator ÷ denominator × 100.
    Percent,
    /// A mean of milliseconds: numerator (ms) ÷ denominator ÷ 1000.
    Seconds,
    /// A mean on the answer scale: numerator ÷ denominator.
    Score,
    /// NPS: (promoters − detractors) ÷ answers × 100, from −100 to 100.
    Points,
    /// A sum of money in minor units (cents); no denominator.
    MinorUnits,
    /// numerator (count) per hour of denominator (ms): num ÷ (den ÷ 3,600,000).
    PerHour,
    /// A mean QA score: numerator (hundredths of a point) ÷ 100 ÷ denominator.
    QaPoints,
    /// numerator (leavers) ÷ average headcount × 100, where the denominator
    /// is headcount-days and average headcount = headcount-days ÷ days.
    PercentOfAverageHeadcount,
}

impl Unit {
    /// Counts and sums of money are the numerator alone.
    pub fn has_denominator(self) -> bool {
        !matches!(self, Unit::Count | Unit::MinorUnits)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Percent => "percent",
            Unit::Seconds => "seconds",
            Unit::Score => "score",
            Unit::Points => "points",
            Unit::MinorUnits => "minor_units",
            Unit::PerHour => "per_hour",
            Unit::QaPoints => "qa_points",
            Unit::PercentOfAverageHeadcount => "percent_of_average_headcount",
        }
    }
}

/// Whether a higher value is better (for targets and attainment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

impl Kpi {
    pub fn unit(self) -> Unit {
        use Kpi::*;
        match self {
            Offered | Answered | Handled | QueueAbandons | ShortAbandons | MenuAbandons
            | SystemDrops | Overflows | Refused => Unit::Count,
            AbandonRate | ServiceLevel | TransferRate | HoldRatio | FcrRepeat | FcrSurvey
            | Csat | ResponseWithinTarget | SalesConversion | QaAutoFailRate => Unit::Percent,
            QaScore => Unit::QaPoints,
            Asa | AbandonWait | WaitPercentile | LongestWait | Aht | TalkTime | HoldTime
            | AfterCallWork | FirstResponseTime | ResolutionTime => Unit::Seconds,
            CsatMean => Unit::Score,
            Nps => Unit::Points,
            RetainedValue => Unit::MinorUnits,
            Occupancy | Utilisation | Adherence | Conformance => Unit::Percent,
            ContactsPerHour => Unit::PerHour,
            Attrition
            | AttritionVoluntary
            | AttritionInvoluntary
            | AttritionInternalMove
            | Retention => Unit::PercentOfAverageHeadcount,
        }
    }

    pub fn direction(self) -> Direction {
        use Kpi::*;
        match self {
            AbandonRate
            | QueueAbandons
            | ShortAbandons
            | MenuAbandons
            | SystemDrops
            | Overflows
            | Refused
            | Asa
            | AbandonWait
            | WaitPercentile
            | LongestWait
            | Aht
            | TalkTime
            | HoldTime
            | AfterCallWork
            | TransferRate
            | HoldRatio
            | FirstResponseTime
            | ResolutionTime
            | Attrition
            | AttritionVoluntary
            | AttritionInvoluntary
            | AttritionInternalMove
            | QaAutoFailRate => Direction::LowerIsBetter,
            _ => Direction::HigherIsBetter,
        }
    }

    /// True for KPIs computed from survey answers, or from evaluations
    /// (which reach the engine the same way: one fact per evaluation,
    /// linked to its contact), rather than contacts.
    pub fn from_surveys(self) -> bool {
        matches!(
            self,
            Kpi::FcrSurvey
                | Kpi::Csat
                | Kpi::CsatMean
                | Kpi::Nps
                | Kpi::QaScore
                | Kpi::QaAutoFailRate
        )
    }

    /// True for KPIs computed from quality evaluations.
    pub fn from_evaluations(self) -> bool {
        matches!(self, Kpi::QaScore | Kpi::QaAutoFailRate)
    }

    /// True for KPIs computed from agent days (states, schedules, employment).
    pub fn from_agent_days(self) -> bool {
        use Kpi::*;
        matches!(
            self,
            Occupancy
                | Utilisation
                | Adherence
                | Conformance
                | ContactsPerHour
                | Attrition
                | AttritionVoluntary
                | AttritionInvoluntary
                | AttritionInternalMove
                | Retention
        )
    }

    /// The formula in words, as `definitions show` prints it.
    pub fn formula(self) -> &'static str {
        use Kpi::*;
        match self {
            Offered => {
                "answered contacts (queued or not) + queue abandons that waited more than the short-abandon threshold (+ callbacks if callbacks_offered)"
            }
            Answered => "contacts an agent answered",
            Handled => "contacts an agent answered and finished (outcome handled)",
            QueueAbandons => {
                "contacts abandoned in the queue after more than the short-abandon threshold"
            }
            ShortAbandons => {
                "contacts abandoned in the queue within the short-abandon threshold (wait <= short_abandon_s)"
            }
            MenuAbandons => "contacts abandoned in the voice menu, before any queue",
            SystemDrops => "contacts lost by the system (outside the agent's control)",
            Overflows => {
                "contacts taken out of the queue by its own rule (maximum wait, no agents) and routed elsewhere (never offered)"
            }
            Refused => {
                "contacts refused before they could queue: queue full or closed, no agents, line busy, call failed (never offered)"
            }
            AbandonRate => "queue abandons / offered",
            ServiceLevel => {
                "depends on service_level_variant; default: answered within threshold_s / (answered + queue abandons)"
            }
            Asa => {
                "total queue wait of answered contacts / answered contacts (not queued counts as 0 s)"
            }
            AbandonWait => {
                "total queue wait of contacts abandoned in the queue / those contacts (short abandons included)"
            }
            WaitPercentile => "nearest-rank percentile of the queue wait of offered contacts",
            LongestWait => "longest queue wait of an offered contact",
            Aht => "(talk + hold + after-call work) / handled contacts",
            TalkTime => "talk time without hold / handled contacts",
            HoldTime => "hold time / handled contacts",
            AfterCallWork => "after-call work / handled contacts",
            TransferRate => "handled contacts with at least one transfer / handled contacts",
            HoldRatio => "total hold time / total handle time of handled contacts",
            FcrRepeat => {
                "handled contacts of an identified customer with no further contact from that customer within fcr_window_days x 24 h after the end / handled contacts of an identified customer"
            }
            FcrSurvey => "'yes' answers to fcr_question / answers to it",
            Csat => {
                "answers to csat_question in csat_positive_values / answers to it (top-two-box by default)"
            }
            CsatMean => "sum of answers to csat_question / answers to it (a mean, not a rate)",
            Nps => "% answers 9-10 - % answers 0-6 to nps_question",
            FirstResponseTime => {
                "first agent reply - contact created (in business hours when business_hours is set) / contacts with a reply"
            }
            ResponseWithinTarget => {
                "contacts with a first reply within threshold_s (business hours when set) / contacts with a reply"
            }
            ResolutionTime => {
                "resolution - contact created (in business hours when business_hours is set) / resolved contacts"
            }
            SalesConversion => "handled contacts with a sale / handled contacts",
            RetainedValue => "sale value of contacts whose sale was not cancelled, in minor units",
            Occupancy => {
                "handle time / (handle time + available time), available = ready time not spent handling"
            }
            Utilisation => "handle time / logged-in time",
            Adherence => {
                "1 - time out of adherence / scheduled time (out: not ready during on-queue segments, ready during other activities)"
            }
            Conformance => "ready (on-queue) time / scheduled on-queue time",
            ContactsPerHour => "handled contacts / logged-in hours",
            Attrition => "leavers / average headcount (headcount-days / days), all reasons",
            AttritionVoluntary => "voluntary leavers / average headcount",
            AttritionInvoluntary => "involuntary leavers / average headcount",
            AttritionInternalMove => "internal moves / average headcount",
            Retention => "100 % - attrition",
            QaScore => {
                "mean QA score of evaluators' evaluations (latest version) of contacts in the period: sum of scores / evaluations (docs/metrics.md, QA score)"
            }
            QaAutoFailRate => {
                "evaluations whose form (or, with qa_section, that section) was set to 0 by an auto-fail / evaluations"
            }
        }
    }
}

text_enum!(
    /// The service-level variants of SPEC.md.
    ServiceLevelVariant {
        /// answered within T ÷ (answered + queue abandons): the default.
        AnsweredOverOffered = "answered_over_offered",
        /// answered within T ÷ answered: ignores abandons (flagged).
        AnsweredOnly = "answered_only",
        /// (answered within T + abandoned within T) ÷ (answered + abandoned).
        AbandonsWithinCount = "abandons_within_count",
        /// answered within T ÷ (answered + abandoned after T).
        AbandonsAfterOnly = "abandons_after_only",
    }
);

text_enum!(
    /// Which later contacts of the same customer count as a repeat.
    FcrMatch {
        AnyContact = "any_contact",
        SameContactType = "same_contact_type",
        SameWrapUp = "same_wrap_up",
    }
);

/// Every option a definition can set. Each KPI reads the ones it names in
/// its formula; the rest keep their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KpiOptions {
    /// Service level: answered within this many seconds (wait ≤ T). Response
    /// within target: first reply within this many seconds.
    pub threshold_s: i64,
    /// Queue abandons that waited this long or less are short abandons.
    pub short_abandon_s: i64,
    pub service_level_variant: ServiceLevelVariant,
    /// Whether callbacks count as offered (and abandons neither way).
    pub callbacks_offered: bool,
    /// Wait percentile, 1-100, nearest rank.
    pub percentile: u8,
    pub fcr_window_days: i64,
    pub fcr_match: FcrMatch,
    /// A later contact arriving within this many seconds of a transferred
    /// contact's end is its continuation, not a repeat.
    pub transfer_grace_s: i64,
    pub csat_question: String,
    pub csat_positive_values: Vec<i32>,
    pub nps_question: String,
    pub fcr_question: String,
    /// Business hours for response and resolution times; none = calendar time.
    pub business_hours: Option<BusinessHours>,
    /// QA score and auto-fail rate: only this form's evaluations (by its
    /// name); none = every form.
    pub qa_form: Option<String>,
    /// QA auto-fail rate: the share of evaluations in which this section
    /// (by its key) was set to 0; none = the whole form.
    pub qa_section: Option<String>,
}

impl Default for KpiOptions {
    fn default() -> Self {
        KpiOptions {
            threshold_s: 20,
            short_abandon_s: 5,
            service_level_variant: ServiceLevelVariant::AnsweredOverOffered,
            callbacks_offered: false,
            percentile: 90,
            fcr_window_days: 7,
            fcr_match: FcrMatch::AnyContact,
            transfer_grace_s: 120,
            csat_question: crate::survey::questions::SATISFIED_WITH_ANSWERS.into(),
            csat_positive_values: vec![4, 5],
            nps_question: crate::survey::questions::RECOMMEND.into(),
            fcr_question: crate::survey::questions::RESOLVED.into(),
            business_hours: None,
            qa_form: None,
            qa_section: None,
        }
    }
}

impl KpiOptions {
    /// The options a KPI's default definition starts with.
    pub fn default_for(kpi: Kpi) -> Self {
        let mut options = KpiOptions::default();
        if matches!(kpi, Kpi::ResponseWithinTarget) {
            options.threshold_s = 3600;
        }
        options
    }

    /// Checks values a definition cannot take, naming the option.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.threshold_s < 0 {
            return Err(("threshold_s", "must be 0 or more".into()));
        }
        if self.short_abandon_s < 0 {
            return Err(("short_abandon_s", "must be 0 or more".into()));
        }
        if !(1..=100).contains(&self.percentile) {
            return Err(("percentile", "must be from 1 to 100".into()));
        }
        if self.fcr_window_days < 1 {
            return Err(("fcr_window_days", "must be at least 1".into()));
        }
        if self.transfer_grace_s < 0 {
            return Err(("transfer_grace_s", "must be 0 or more".into()));
        }
        if self.csat_positive_values.is_empty() {
            return Err((
                "csat_positive_values",
                "must name at least one value".into(),
            ));
        }
        if let Some(hours) = &self.business_hours {
            hours.validate().map_err(|e| ("business_hours", e))?;
        }
        Ok(())
    }
}

/// The definitions every centre starts with, as version 1: one per KPI
/// named after it, and the other service-level variants side by side.
pub fn product_defaults() -> Vec<(String, Kpi, KpiOptions)> {
    let mut defaults: Vec<(String, Kpi, KpiOptions)> = Kpi::ALL
        .iter()
        .map(|&k| (k.as_str().to_owned(), k, KpiOptions::default_for(k)))
        .collect();
    for &variant in &ServiceLevelVariant::ALL[1..] {
        defaults.push((
            format!("service_level_{}", variant.as_str()),
            Kpi::ServiceLevel,
            KpiOptions {
                service_level_variant: variant,
                ..KpiOptions::default()
            },
        ));
    }
    defaults
}

/// One version of a named definition. Never edited once recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionVersion {
    pub name: String,
    pub kpi: Kpi,
    pub version: i64,
    /// First local day the version applies to.
    pub effective_from: Date,
    pub options: KpiOptions,
    /// When it was recorded (UTC ms) and by whom.
    pub recorded_ms: i64,
    pub recorded_by: String,
    /// Required when back-dated: why history is restated.
    pub reason: Option<String>,
    /// The first local day it was recorded on; a version whose
    /// `effective_from` is earlier restates the days in between.
    pub recorded_on: Date,
}

impl DefinitionVersion {
    /// A later version that starts before the day it was recorded. Version 1
    /// is the original, covering all time: it restates nothing.
    pub fn is_back_dated(&self) -> bool {
        self.version > 1 && self.effective_from < self.recorded_on
    }
}

/// All versions of one named definition, in version order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionHistory {
    pub versions: Vec<DefinitionVersion>,
}

impl DefinitionHistory {
    /// The version in force on a local day, as known at `as_of_ms` (versions
    /// recorded later are ignored, except version 1, the original that was
    /// in force before anything was recorded): the newest version whose
    /// `effective_from` is on or before the day. `pinned` forces one version
    /// for every day.
    pub fn in_force(
        &self,
        day: Date,
        as_of_ms: i64,
        pinned: Option<i64>,
    ) -> Option<&DefinitionVersion> {
        if let Some(version) = pinned {
            return self.versions.iter().find(|v| v.version == version);
        }
        self.versions
            .iter()
            .filter(|v| (v.version == 1 || v.recorded_ms <= as_of_ms) && v.effective_from <= day)
            .max_by_key(|v| v.version)
    }
}
