//! KPI definitions (versioned, audited) and reports with drill-down, for the
//! CLI now and the API and pages later.

use crate::invalid;
use crate::{Clock, ServiceError};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use merit_domain::TenantId;
use merit_domain::metrics::cache::CachedDay;
use merit_domain::metrics::compute::{
    FromRows, NO_GROUP, Projection, RowJob, cacheable, drill_down, from_rows, parts,
    report_from_parts,
};
use merit_domain::metrics::definition::product_defaults;
use merit_domain::metrics::fast_hash::FastSet;
use merit_domain::metrics::target::target_on;
use merit_domain::metrics::workforce::{AgentDays, agent_days, days_from_to};
use merit_domain::metrics::{
    ContactTable, DefinitionHistory, DefinitionVersion, Dimension, Direction, FigureTarget, Frame,
    Kpi, KpiOptions, OrgView, Part, Report, Source, SurveyFact, Target, TargetScope, ZoneRule,
};
use merit_store::{AuditEntry, Store};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Every definition by name, each with all its versions.
pub type Definitions = BTreeMap<String, DefinitionHistory>;

pub(crate) async fn centre_zone(store: &Store, tenant: TenantId) -> Result<TimeZone, ServiceError> {
    crate::time_zone(&store.centre(tenant).await?.1)
}

fn local_day(zone: &TimeZone, utc_ms: i64) -> Date {
    Timestamp::from_millisecond(utc_ms)
        .map(|ts| ts.to_zoned(zone.clone()).date())
        .unwrap_or(Date::MIN)
}

fn as_json(v: &DefinitionVersion) -> String {
    serde_json::json!({
        "name": v.name,
        "kpi": v.kpi.as_str(),
        "version": v.version,
        "effective_from": v.effective_from.to_string(),
        "options": v.options,
        "reason": v.reason,
    })
    .to_string()
}

/// All definitions. The first call on a centre records version 1 of each
/// KPI's default definition (audited), so later changes to the product's
/// defaults never rewrite a centre's history.
pub async fn definitions(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
) -> Result<Definitions, ServiceError> {
    let stored = store.definition_versions(tenant).await?;
    let missing: Vec<(String, Kpi, KpiOptions)> = product_defaults()
        .into_iter()
        .filter(|(name, _, _)| !stored.iter().any(|v| &v.name == name))
        .collect();
    if !missing.is_empty() {
        let now_ms = clock.now_ms();
        let recorded_on = local_day(&centre_zone(store, tenant).await?, now_ms);
        let defaults: Vec<DefinitionVersion> = missing
            .into_iter()
            .map(|(name, kpi, options)| DefinitionVersion {
                name,
                kpi,
                version: 1,
                effective_from: Date::constant(1970, 1, 1),
                options,
                recorded_ms: now_ms,
                recorded_by: "merit (product default)".into(),
                reason: None,
                recorded_on,
            })
            .collect();
        let audit: Vec<AuditEntry> = defaults
            .iter()
            .map(|v| AuditEntry {
                at_ms: now_ms,
                actor: v.recorded_by.clone(),
                action: "definition.version".into(),
                record_kind: "kpi_definition".into(),
                record_id: format!("{}@1", v.name),
                before_json: None,
                after_json: Some(as_json(v)),
            })
            .collect();
        store
            .add_definition_versions(tenant, &defaults, &audit)
            .await?;
    }
    let mut out = Definitions::new();
    for v in store.definition_versions(tenant).await? {
        out.entry(v.name.clone())
            .or_insert_with(|| DefinitionHistory {
                versions: Vec::new(),
            })
            .versions
            .push(v);
    }
    Ok(out)
}

/// A new version of a definition (or the first of a new named one, which
/// then needs `kpi`).
pub struct NewVersion<'a> {
    pub name: &'a str,
    pub kpi: Option<Kpi>,
    pub effective_from: Date,
    /// Options as JSON; keys left out keep the previous version's values.
    pub options_json: &'a str,
    pub reason: Option<&'a str>,
}

/// `base` with the options in `changes_json` (a JSON object) replaced, checked.
fn merged_options(base: &KpiOptions, changes_json: &str) -> Result<KpiOptions, ServiceError> {
    let mut merged = serde_json::to_value(base).map_err(|e| invalid("options", e.to_string()))?;
    let changes: serde_json::Value = serde_json::from_str(changes_json)
        .map_err(|e| invalid("options", format!("not JSON: {e}")))?;
    let (Some(target), Some(changes)) = (merged.as_object_mut(), changes.as_object()) else {
        return Err(invalid("options", "must be a JSON object"));
    };
    for (key, value) in changes {
        target.insert(key.clone(), value.clone());
    }
    let options: KpiOptions =
        serde_json::from_value(merged).map_err(|e| invalid("options", e.to_string()))?;
    options
        .validate()
        .map_err(|(field, reason)| invalid("options", format!("{field}: {reason}")))?;
    Ok(options)
}

/// A proposed version's effect before it is recorded: one report with, per
/// group, the figure under the versions in force and the figure under the
/// proposal (labelled `NAME@N`, applied to every day of the period), side
/// by side. Nothing is stored.
pub async fn preview_version(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    name: &str,
    options_json: &str,
    request: &ReportRequest,
) -> Result<Report, ServiceError> {
    check_period(request.from, request.to)?;
    let all = definitions(store, clock, tenant).await?;
    let history = all
        .get(name)
        .ok_or_else(|| invalid("definition", format!("no definition {name:?}")))?;
    let latest = history
        .versions
        .last()
        .ok_or_else(|| invalid("definition", format!("{name:?} has no version")))?;
    let now_ms = clock.now_ms();
    let proposal = DefinitionVersion {
        version: latest.version + 1,
        effective_from: request.from,
        options: merged_options(&latest.options, options_json)?,
        recorded_ms: now_ms,
        recorded_by: "preview".into(),
        reason: None,
        ..latest.clone()
    };
    let proposed = DefinitionHistory {
        versions: history.versions.iter().cloned().chain([proposal]).collect(),
    };
    let chosen = [(history, None), (&proposed, Some(latest.version + 1))];
    let loaded = load(store, tenant, Some((request.from, request.to)), &chosen).await?;
    let frame = loaded.frame(request, now_ms);
    let all_parts: Vec<Vec<Part>> = chosen
        .iter()
        .map(|(history, pinned)| parts(&frame, history, *pinned))
        .collect();
    Ok(report_from_parts(
        &frame,
        &chosen,
        &all_parts,
        &request.dimensions,
    ))
}

/// Records a new version, never touching earlier ones. A version starting
/// before today (in the centre's zone) restates history: it needs a reason.
pub async fn new_version(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    actor: &str,
    request: NewVersion<'_>,
) -> Result<DefinitionVersion, ServiceError> {
    let all = definitions(store, clock, tenant).await?;
    let previous = all.get(request.name).and_then(|h| h.versions.last());
    let kpi = match (previous, request.kpi) {
        (Some(p), Some(k)) if p.kpi != k => {
            return Err(invalid(
                "kpi",
                format!(
                    "{} measures {}, not {}",
                    request.name,
                    p.kpi.as_str(),
                    k.as_str()
                ),
            ));
        }
        (Some(p), _) => p.kpi,
        (None, Some(k)) => k,
        (None, None) => {
            return Err(invalid(
                "name",
                format!(
                    "no definition {:?}; name its kpi to create one",
                    request.name
                ),
            ));
        }
    };
    if request.name.trim().is_empty() || request.name.contains('@') {
        return Err(invalid("name", "must be non-empty and without '@'"));
    }
    let base = previous.map_or_else(|| KpiOptions::default_for(kpi), |p| p.options.clone());
    let options = merged_options(&base, request.options_json)?;
    let now_ms = clock.now_ms();
    let today = local_day(&centre_zone(store, tenant).await?, now_ms);
    let reason = request.reason.map(str::trim).filter(|r| !r.is_empty());
    if request.effective_from < today && reason.is_none() {
        return Err(invalid(
            "reason",
            format!(
                "a version effective from {} restates history before today ({today}): give a reason",
                request.effective_from
            ),
        ));
    }
    let mut version = DefinitionVersion {
        name: request.name.to_owned(),
        kpi,
        version: 0,
        effective_from: request.effective_from,
        options,
        recorded_ms: now_ms,
        recorded_by: actor.to_owned(),
        reason: reason.map(str::to_owned),
        recorded_on: today,
    };
    let audit = AuditEntry {
        at_ms: now_ms,
        actor: actor.into(),
        action: "definition.version".into(),
        record_kind: "kpi_definition".into(),
        record_id: request.name.to_owned(),
        before_json: previous.map(as_json),
        after_json: Some(as_json(&version)),
    };
    version.version = store
        .add_definition_versions(tenant, std::slice::from_ref(&version), &[audit])
        .await?[0];
    Ok(version)
}

/// One definition in a report: by name, optionally pinned to a version for
/// every day (`NAME@VERSION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub name: String,
    pub pinned: Option<i64>,
}

impl Selected {
    pub fn parse(text: &str) -> Result<Self, ServiceError> {
        match text.split_once('@') {
            None => Ok(Selected {
                name: text.to_owned(),
                pinned: None,
            }),
            Some((name, v)) => {
                let v = v.trim_start_matches('v');
                let pinned = v.parse().map_err(|_| {
                    invalid(
                        "definition",
                        format!("{text:?}: the version after @ is not a number"),
                    )
                })?;
                Ok(Selected {
                    name: name.to_owned(),
                    pinned: Some(pinned),
                })
            }
        }
    }
}

/// The scorecard a report shows when it names no definition.
pub const DEFAULT_KPIS: [&str; 9] = [
    "offered",
    "answered",
    "abandon_rate",
    "service_level",
    "asa",
    "aht",
    "transfer_rate",
    "fcr_repeat",
    "csat",
];

/// A report asked for by names, as the command line and the API take it.
pub struct ReportNames<'a> {
    pub from: Date,
    pub to: Date,
    /// Dimension names: agent, team, queue, channel, contact-type, site, interval, day, week, month.
    pub by: &'a [String],
    /// The width of `interval` groups: 15, 30 or 60.
    pub interval_minutes: i64,
    /// Definition names, or NAME@VERSION to pin a version.
    pub definitions: &'a [String],
    pub as_of_ms: Option<i64>,
}

impl ReportRequest {
    /// The request these names describe; no definitions means `default`.
    pub fn from_names(names: ReportNames<'_>, default: &[&str]) -> Result<Self, ServiceError> {
        if ![15, 30, 60].contains(&names.interval_minutes) {
            return Err(invalid("interval", "must be 15m, 30m or 60m"));
        }
        let dimensions = names
            .by
            .iter()
            .filter(|d| !d.is_empty())
            .map(|d| {
                Dimension::parse(d, names.interval_minutes).ok_or_else(|| {
                    invalid(
                        "by",
                        format!("{d:?}: expected agent, team, queue, channel, contact-type, site, interval, day, week or month"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let definitions = names
            .definitions
            .iter()
            .filter(|d| !d.is_empty())
            .map(|d| Selected::parse(d))
            .collect::<Result<Vec<_>, _>>()?;
        let mut request = Self::of(names.from, names.to, dimensions, default);
        request.as_of_ms = names.as_of_ms;
        if !definitions.is_empty() {
            request.definitions = definitions;
        }
        Ok(request)
    }

    /// A report of the definitions named `kpis` (their versions in force),
    /// as of now.
    pub fn of(from: Date, to: Date, dimensions: Vec<Dimension>, kpis: &[&str]) -> Self {
        ReportRequest {
            from,
            to,
            dimensions,
            definitions: kpis
                .iter()
                .map(|k| Selected {
                    name: (*k).into(),
                    pinned: None,
                })
                .collect(),
            as_of_ms: None,
        }
    }
}

/// What a report covers.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub from: Date,
    pub to: Date,
    pub dimensions: Vec<Dimension>,
    pub definitions: Vec<Selected>,
    /// Versions recorded after this are ignored; default now.
    pub as_of_ms: Option<i64>,
}

/// The rows the engine reads for a period: contacts from a day before
/// `from` (time zones) to the end of `to` plus the longest FCR window.
pub struct Loaded {
    pub table: ContactTable,
    pub surveys: Vec<SurveyFact>,
    pub org: OrgView,
    pub agent_days: AgentDays,
}

impl Loaded {
    fn frame(&self, request: &ReportRequest, as_of_ms: i64) -> Frame<'_> {
        Frame::in_zones(
            &self.table,
            &self.surveys,
            &self.org,
            (request.from, request.to),
            as_of_ms,
            ZoneRule::for_dimensions(&request.dimensions),
            None,
        )
        .with_agent_days(self.agent_days.clone())
    }
}

/// The longest FCR window among `versions` (0 without FCR by repeat contact).
pub(crate) fn longest_fcr_window_days<'v>(
    versions: impl IntoIterator<Item = &'v DefinitionVersion>,
) -> i64 {
    versions
        .into_iter()
        .filter(|v| v.kpi == Kpi::FcrRepeat)
        .map(|v| v.options.fcr_window_days)
        .max()
        .unwrap_or(0)
}

/// The UTC times whose contacts can fall on local days `from` to `to`
/// (two days either side for time zones), and after them the longest FCR
/// window among `versions` for FCR's look-ahead.
pub(crate) fn rows_window<'v>(
    (from, to): (Date, Date),
    versions: impl IntoIterator<Item = &'v DefinitionVersion>,
) -> Result<(i64, i64), ServiceError> {
    let window_days = longest_fcr_window_days(versions);
    let utc_ms = |field: &'static str, day: Result<Date, jiff::Error>| {
        day.and_then(|d| d.to_zoned(TimeZone::UTC))
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| invalid(field, e.to_string()))
    };
    Ok((
        utc_ms("from", from.checked_sub(2.days()))?,
        utc_ms("to", to.checked_add((2 + window_days).days()))?,
    ))
}

/// Loads the rows behind local days `rows` (`None`: no rows, only the
/// organisation, when every figure comes from the cache).
async fn load(
    store: &Store,
    tenant: TenantId,
    rows: Option<(Date, Date)>,
    chosen: &[(&DefinitionHistory, Option<i64>)],
) -> Result<Loaded, ServiceError> {
    let organisation = store.load_organisation(tenant).await?;
    let org = OrgView::new(&organisation, centre_zone(store, tenant).await?);
    let Some((from, to)) = rows else {
        return Ok(Loaded {
            table: ContactTable::default(),
            surveys: Vec::new(),
            org,
            agent_days: AgentDays::new(),
        });
    };
    let versions = || chosen.iter().flat_map(|(h, _)| &h.versions);
    let workforce = versions().any(|v| v.kpi.from_agent_days());
    let fcr = versions().any(|v| v.kpi == Kpi::FcrRepeat);
    let (start_ms, end_ms) = rows_window((from, to), versions())?;
    // Contacts and survey answers read side by side; answers only when a
    // survey KPI needs them.
    let surveys_needed = versions().any(|v| v.kpi.from_surveys());
    // Only the answers to questions a survey definition asks about count.
    let questions: BTreeSet<&str> = versions()
        .flat_map(|v| match v.kpi {
            Kpi::Csat | Kpi::CsatMean => Some(v.options.csat_question.as_str()),
            Kpi::Nps => Some(v.options.nps_question.as_str()),
            Kpi::FcrSurvey => Some(v.options.fcr_question.as_str()),
            _ => None,
        })
        .collect();
    // The answers' packed days are read beside the contacts, then decoded
    // and linked to them.
    let started = std::time::Instant::now();
    let done = |what: &str| tracing::debug!("load: {what} by {:?}", started.elapsed());
    let contacts = async {
        let table = store.contact_table(tenant, (start_ms, end_ms), fcr).await;
        done("contacts");
        table
    };
    let answer_days = async {
        let window = (start_ms, end_ms + 30 * 86_400_000);
        match surveys_needed {
            true => store.survey_answer_days(tenant, window).await.map(Some),
            false => Ok(None),
        }
    };
    let (table, answer_days) = tokio::try_join!(contacts, answer_days)?;
    let mut surveys = match answer_days {
        Some(days) => days.link(|q| questions.contains(q), &table)?,
        None => Vec::new(),
    };
    done("answers linked");
    if versions().any(|v| v.kpi.from_evaluations()) {
        surveys.extend(
            crate::quality::evaluation_facts(store, tenant, (start_ms, end_ms), &table).await?,
        );
    }
    // States, schedules and agent days only when a workforce KPI needs them.
    let agent_days = match workforce {
        true => {
            let activity = store.agent_activity(tenant, start_ms, end_ms).await?;
            agent_days(&organisation.agents, &activity, from, to, |a| {
                org.agent_zone(a)
            })
        }
        false => AgentDays::new(),
    };
    Ok(Loaded {
        table,
        surveys,
        org,
        agent_days,
    })
}

fn pick<'d>(
    all: &'d Definitions,
    selected: &[Selected],
) -> Result<Vec<(&'d DefinitionHistory, Option<i64>)>, ServiceError> {
    selected
        .iter()
        .map(|s| {
            let history = all.get(&s.name).ok_or_else(|| {
                invalid(
                    "definition",
                    format!("no definition {:?} (see `merit definitions list`)", s.name),
                )
            })?;
            if let Some(v) = s.pinned
                && !history.versions.iter().any(|h| h.version == v)
            {
                return Err(invalid(
                    "definition",
                    format!("{} has no version {v}", s.name),
                ));
            }
            Ok((history, s.pinned))
        })
        .collect()
}

/// The longest period one report covers (three years and a bit).
pub const MAX_REPORT_DAYS: i32 = 1_100;

fn check_period(from: Date, to: Date) -> Result<(), ServiceError> {
    if to < from {
        return Err(invalid("to", format!("{to} is before --from {from}")));
    }
    let days = (to - from).get_days() + 1;
    if days > MAX_REPORT_DAYS {
        return Err(invalid(
            "to",
            format!("a report covers at most {MAX_REPORT_DAYS} days ({days} asked)"),
        ));
    }
    Ok(())
}

/// Computes a KPI report.
pub async fn kpi_report(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    request: &ReportRequest,
) -> Result<Report, ServiceError> {
    Ok(kpi_report_traced(store, clock, tenant, request).await?.0)
}

/// `kpi_report`, also naming the (definition, day) pairs it computed from
/// rows rather than read from the cache (which it then filled).
pub async fn kpi_report_traced(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    request: &ReportRequest,
) -> Result<(Report, Vec<(String, Date)>), ServiceError> {
    let mut reports =
        kpi_reports_traced(store, clock, tenant, std::slice::from_ref(request)).await?;
    reports
        .pop()
        .ok_or_else(|| invalid("request", "no report".to_owned()))
}

/// Several reports, in the order asked, from one load of the rows they
/// need (the union of their days not in the cache and of their
/// definitions); reports over the same period in the same time zones
/// also share the rows' local days and intervals.
pub async fn kpi_reports(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    requests: &[ReportRequest],
) -> Result<Vec<Report>, ServiceError> {
    let reports = kpi_reports_traced(store, clock, tenant, requests).await?;
    Ok(reports.into_iter().map(|(report, _)| report).collect())
}

/// What one report reads from the cache, before any row is loaded.
struct Planned<'d, 'r> {
    request: &'r ReportRequest,
    chosen: Vec<(&'d DefinitionHistory, Option<i64>)>,
    as_of_ms: i64,
    days: Vec<Date>,
    projection: Projection,
    on_day: Vec<Vec<Option<i64>>>,
    cached: Vec<Vec<(Date, i64, CachedDay)>>,
    /// Per definition, the days to compute from rows.
    missing: Vec<BTreeSet<Date>>,
}

async fn plan<'d, 'r>(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    all: &'d Definitions,
    request: &'r ReportRequest,
) -> Result<Planned<'d, 'r>, ServiceError> {
    check_period(request.from, request.to)?;
    let chosen = pick(all, &request.definitions)?;
    let as_of_ms = request.as_of_ms.unwrap_or_else(|| clock.now_ms());
    let days: Vec<Date> = days_from_to(request.from, request.to).collect();
    let projection = Projection::for_dimensions(&request.dimensions);
    let (on_day, cached) =
        read_cached_days(store, tenant, &chosen, &days, as_of_ms, &projection.name()).await?;
    let missing = cached
        .iter()
        .map(|found| {
            let have: BTreeSet<Date> = found.iter().map(|(d, _, _)| *d).collect();
            days.iter().filter(|d| !have.contains(d)).copied().collect()
        })
        .collect();
    Ok(Planned {
        request,
        chosen,
        as_of_ms,
        days,
        projection,
        on_day,
        cached,
        missing,
    })
}

/// `kpi_reports`, each report with the (definition, day) pairs it
/// computed from rows.
pub async fn kpi_reports_traced(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    requests: &[ReportRequest],
) -> Result<Vec<(Report, Vec<(String, Date)>)>, ServiceError> {
    tracing::debug!("reports: {} asked", requests.len());
    let started = std::time::Instant::now();
    let all = definitions(store, clock, tenant).await?;
    let mut plans = Vec::with_capacity(requests.len());
    for request in requests {
        plans.push(plan(store, clock, tenant, &all, request).await?);
    }
    let missing = || plans.iter().flat_map(|p| p.missing.iter().flatten());
    let range = missing().min().copied().zip(missing().max().copied());
    let every_chosen: Vec<_> = plans.iter().flat_map(|p| p.chosen.clone()).collect();
    let planned_at = started.elapsed();
    let loaded = load(store, tenant, range, &every_chosen).await?;
    tracing::debug!(
        "reports: definitions and cache read in {planned_at:?}, rows {range:?} loaded by {:?} ({} contacts)",
        started.elapsed(),
        loaded.table.len()
    );
    let targets = store.targets(tenant).await?;
    // A frame per (period, as of, zone rule), built once; kept (cloned)
    // only while a later report still needs it.
    let keys: Vec<(Date, Date, i64, ZoneRule)> = plans
        .iter()
        .map(|p| {
            let r = p.request;
            let rule = ZoneRule::for_dimensions(&r.dimensions);
            (r.from, r.to, p.as_of_ms, rule)
        })
        .collect();
    let mut kept: Vec<((Date, Date, i64, ZoneRule), Frame)> = Vec::new();
    let mut out = Vec::with_capacity(plans.len());
    for (k, planned) in plans.into_iter().enumerate() {
        let r = planned.request;
        let key = keys[k];
        let frame = match kept.iter().position(|(kept_key, _)| *kept_key == key) {
            Some(at) => kept.swap_remove(at).1,
            None => loaded.frame(r, planned.as_of_ms),
        };
        if keys[k + 1..].contains(&key) {
            kept.push((key, frame.clone()));
        }
        let (mut report, recomputed) = finish(store, clock, tenant, planned, frame).await?;
        attach_targets(&mut report, &r.dimensions, &targets, &loaded.org, r.to);
        out.push((report, recomputed));
    }
    Ok(out)
}

/// A planned report from its frame: the cached days counted, the missing
/// ones computed from rows (and stored in the cache), the figures made.
async fn finish(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    planned: Planned<'_, '_>,
    mut frame: Frame<'_>,
) -> Result<(Report, Vec<(String, Date)>), ServiceError> {
    let Planned {
        request,
        chosen,
        days,
        projection,
        on_day,
        cached,
        missing,
        ..
    } = planned;
    let projection_name = projection.name();
    let mut all_parts: Vec<Vec<Part>> = cached
        .iter()
        .map(|found| {
            found
                .iter()
                .flat_map(|(day, version, c)| frame.add_cached(*day, *version, c))
                .collect()
        })
        .collect();
    let mut recomputed = Vec::new();
    let jobs: Vec<RowJob> = chosen
        .iter()
        .zip(&cached)
        .map(|((history, pinned), found)| {
            let skip: FastSet<Date> = found.iter().map(|(d, _, _)| *d).collect();
            (*history, *pinned, skip)
        })
        .collect();
    let started = std::time::Instant::now();
    let worked = from_rows(&frame, &jobs, projection);
    let computed_in = started.elapsed();
    for (k, worked) in worked.into_iter().enumerate() {
        let computed = match worked {
            FromRows::Parts(parts) => {
                all_parts[k].extend(parts);
                continue;
            }
            FromRows::Days(computed) => computed,
        };
        // The report counts the day aggregates just made, as a warm
        // report reads them, instead of a part per row: the same sums.
        for ((version, day), day_cache) in &computed {
            all_parts[k].extend(frame.add_cached(*day, *version, day_cache));
        }
        let name = &chosen[k].0.versions[0].name;
        let stored = days
            .iter()
            .zip(&on_day[k])
            .filter(|(day, _)| missing[k].contains(*day))
            .filter_map(|(day, version)| Some((*day, (*version)?)));
        let key = (name.as_str(), projection_name.as_str());
        for day in write_cached_days(store, tenant, clock, key, computed, stored).await? {
            recomputed.push((name.clone(), day));
        }
    }
    let stored_by = started.elapsed();
    let report = report_from_parts(&frame, &chosen, &all_parts, &request.dimensions);
    tracing::debug!(
        "report: computed from rows in {computed_in:?}, cache written by {stored_by:?}, figures by {:?}",
        started.elapsed()
    );
    Ok((report, recomputed))
}

/// Per definition: the version in force on each day (`None`: no version),
/// and the days the cache holds for that version and projection.
type CachedDays = (Vec<Vec<Option<i64>>>, Vec<Vec<(Date, i64, CachedDay)>>);

async fn read_cached_days(
    store: &Store,
    tenant: TenantId,
    chosen: &[(&DefinitionHistory, Option<i64>)],
    days: &[Date],
    as_of_ms: i64,
    projection: &str,
) -> Result<CachedDays, ServiceError> {
    let (Some(&from), Some(&to)) = (days.first(), days.last()) else {
        return Ok((
            vec![Vec::new(); chosen.len()],
            vec![Vec::new(); chosen.len()],
        ));
    };
    let mut on_day = Vec::new();
    let mut cached = Vec::new();
    for (history, pinned) in chosen {
        let versions: Vec<Option<i64>> = days
            .iter()
            .map(|d| history.in_force(*d, as_of_ms, *pinned).map(|v| v.version))
            .collect();
        let mut found = Vec::new();
        if cacheable(history.versions[0].kpi) {
            let name = history.versions[0].name.as_str();
            let distinct: BTreeSet<i64> = versions.iter().flatten().copied().collect();
            for version in distinct {
                for (day, bytes) in store
                    .cached_days(tenant, (name, version, projection), from, to)
                    .await?
                {
                    let in_force = days
                        .iter()
                        .position(|d| *d == day)
                        .and_then(|k| versions[k]);
                    if let (Some(day_cache), true) =
                        (CachedDay::decode(&bytes), in_force == Some(version))
                    {
                        found.push((day, version, day_cache));
                    }
                }
            }
        }
        on_day.push(versions);
        cached.push(found);
    }
    Ok((on_day, cached))
}

/// Stores the days computed from rows (an empty day too, so it is not
/// computed again) under their versions; returns the days stored.
async fn write_cached_days(
    store: &Store,
    tenant: TenantId,
    clock: &dyn Clock,
    (definition, projection): (&str, &str),
    mut computed: std::collections::HashMap<(i64, Date), CachedDay, impl std::hash::BuildHasher>,
    days: impl Iterator<Item = (Date, i64)>,
) -> Result<Vec<Date>, ServiceError> {
    let mut by_version: BTreeMap<i64, Vec<(Date, Vec<u8>)>> = BTreeMap::new();
    let mut stored = Vec::new();
    for (day, version) in days {
        let day_cache = computed.remove(&(version, day)).unwrap_or_default();
        by_version
            .entry(version)
            .or_default()
            .push((day, day_cache.encode()));
        stored.push(day);
    }
    for (version, encoded) in by_version {
        store
            .put_cached_days(
                tenant,
                (definition, version, projection),
                &encoded,
                clock.now_ms(),
            )
            .await?;
    }
    Ok(stored)
}

/// Whose targets a report row is measured against, most specific first: an
/// agent's own, then their team's on the period's last day, then the
/// centre's; a team's, then the centre's; the centre's for the total and for
/// rows split only by time. Time splits (an agent's weeks) and the scope a
/// caller is confined to (a lead's team) keep the row's owner; rows by
/// queue, channel and the like have none.
fn scopes_for(
    dimensions: &[Dimension],
    group: &[String],
    org: &OrgView,
    day: Date,
) -> Vec<TargetScope> {
    let by_time = |d: &Dimension| {
        matches!(
            d,
            Dimension::Interval(_) | Dimension::Day | Dimension::Week | Dimension::Month
        )
    };
    if group.iter().any(|g| g == NO_GROUP) {
        return Vec::new();
    }
    // Time dimensions split a figure without changing whose it is.
    let whose: Vec<(&Dimension, &String)> = dimensions
        .iter()
        .zip(group)
        .filter(|(d, _)| !by_time(d))
        .collect();
    let find = |wanted: Dimension| whose.iter().find(|(d, _)| **d == wanted).map(|(_, g)| *g);
    let organisational = whose
        .iter()
        .all(|(d, _)| matches!(d, Dimension::Agent | Dimension::Team | Dimension::Site));
    if whose.is_empty() {
        vec![TargetScope::Centre]
    } else if !organisational {
        Vec::new()
    } else if let Some(agent) = find(Dimension::Agent) {
        let mut scopes = vec![TargetScope::Agent(agent.clone())];
        if let Some(team) = org.team_on(agent, day) {
            scopes.push(TargetScope::Team(team.to_owned()));
        }
        scopes.push(TargetScope::Centre);
        scopes
    } else if let Some(team) = find(Dimension::Team) {
        vec![TargetScope::Team(team.clone()), TargetScope::Centre]
    } else {
        Vec::new()
    }
}

/// The definition's name in a figure label (`NAME` or `NAME@VERSION`).
fn definition_name(label: &str) -> &str {
    label.split('@').next().unwrap_or(label)
}

fn attach_targets(
    report: &mut Report,
    dimensions: &[Dimension],
    targets: &[Target],
    org: &OrgView,
    day: Date,
) {
    let rows = report
        .rows
        .iter_mut()
        .map(|r| (scopes_for(dimensions, &r.group, org, day), r));
    let total_scopes = vec![TargetScope::Centre];
    for (scopes, row) in rows.chain(std::iter::once((total_scopes, &mut report.total))) {
        for figure in &mut row.figures {
            let (Some(value), Some(target)) = (
                figure.value,
                scopes
                    .iter()
                    .find_map(|s| target_on(targets, definition_name(&figure.definition), s, day)),
            ) else {
                continue;
            };
            figure.target = Some(FigureTarget {
                scope: target.scope.label(),
                target: target.target,
                amber_limit: target.amber_limit,
                zone: target.zone(value),
            });
        }
    }
}

/// A new target for a definition and scope from a day.
pub struct SetTarget<'a> {
    pub definition: &'a str,
    pub scope: TargetScope,
    pub effective_from: Date,
    pub target: f64,
    pub amber_limit: f64,
    /// Default: the KPI's own direction.
    pub direction: Option<Direction>,
}

/// Records a target (audited). The definition, team or agent must exist.
pub async fn set_target(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    actor: &str,
    request: SetTarget<'_>,
) -> Result<Target, ServiceError> {
    let all = definitions(store, clock, tenant).await?;
    let Some(history) = all.get(request.definition) else {
        return Err(invalid(
            "definition",
            format!("no definition {:?}", request.definition),
        ));
    };
    let org = store.load_organisation(tenant).await?;
    let known = match &request.scope {
        TargetScope::Centre => true,
        TargetScope::Team(id) => org.teams.iter().any(|t| &t.id == id),
        TargetScope::Agent(id) => org.agents.iter().any(|a| &a.id == id),
    };
    if !known {
        return Err(invalid(
            "scope",
            format!("{} is not in the organisation", request.scope.label()),
        ));
    }
    let target = Target {
        definition: request.definition.to_owned(),
        scope: request.scope,
        effective_from: request.effective_from,
        target: request.target,
        amber_limit: request.amber_limit,
        direction: request
            .direction
            .unwrap_or_else(|| history.versions[0].kpi.direction()),
        recorded_ms: clock.now_ms(),
        recorded_by: actor.to_owned(),
    };
    target
        .validate()
        .map_err(|(field, reason)| invalid(field, reason))?;
    let audit = AuditEntry {
        at_ms: target.recorded_ms,
        actor: actor.into(),
        action: "target.set".into(),
        record_kind: "kpi_target".into(),
        record_id: format!("{}/{}", target.definition, target.scope.label()),
        before_json: None,
        after_json: Some(
            serde_json::to_string(&target).map_err(|e| invalid("target", e.to_string()))?,
        ),
    };
    store.add_target(tenant, &target, &audit).await?;
    Ok(target)
}

/// Every target ever set.
pub async fn targets(store: &Store, tenant: TenantId) -> Result<Vec<Target>, ServiceError> {
    Ok(store.targets(tenant).await?)
}

/// One row behind a figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrillRow {
    pub source_system: String,
    pub contact_source_id: String,
    /// Set for a survey answer: the response and question.
    pub survey: Option<(String, String)>,
    pub arrival_ms: i64,
    pub agent_id: Option<String>,
    pub queue_id: Option<String>,
    pub outcome: Option<String>,
    pub wait_ms: Option<i64>,
    pub numerator: i64,
    pub denominator: i64,
    pub version: i64,
}

/// Which part of a figure to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigurePart {
    /// Rows whose numerator part is not zero.
    Numerator,
    /// Rows whose denominator part is not zero (for counts: every row).
    Denominator,
    All,
}

impl FigurePart {
    pub fn as_str(self) -> &'static str {
        match self {
            FigurePart::Numerator => "numerator",
            FigurePart::Denominator => "denominator",
            FigurePart::All => "all",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [
            FigurePart::Numerator,
            FigurePart::Denominator,
            FigurePart::All,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

/// The contacts (or survey answers) behind one figure: the definition
/// `selected`, over the request's period, in the group `group` of the
/// request's dimensions (empty for the total).
pub async fn drill(
    store: &Store,
    clock: &dyn Clock,
    tenant: TenantId,
    request: &ReportRequest,
    group: &[String],
    part: FigurePart,
) -> Result<Vec<DrillRow>, ServiceError> {
    check_period(request.from, request.to)?;
    let [selected] = request.definitions.as_slice() else {
        return Err(invalid("kpi", "name exactly one definition to drill into"));
    };
    if group.len() != request.dimensions.len() {
        return Err(invalid(
            "group",
            format!(
                "give one value per --by dimension ({} given, {} dimensions)",
                group.len(),
                request.dimensions.len()
            ),
        ));
    }
    let all = definitions(store, clock, tenant).await?;
    let chosen = pick(&all, std::slice::from_ref(selected))?;
    let (history, pinned) = chosen[0];
    let loaded = load(store, tenant, Some((request.from, request.to)), &chosen).await?;
    let frame = loaded.frame(request, request.as_of_ms.unwrap_or_else(|| clock.now_ms()));
    let count_kpi = !history.versions[0].kpi.unit().has_denominator();
    let keep = |p: &Part| match part {
        FigurePart::Numerator => p.numerator != 0,
        FigurePart::Denominator => count_kpi || p.denominator != 0,
        FigurePart::All => true,
    };
    let t = &loaded.table;
    Ok(
        drill_down(&frame, history, pinned, &request.dimensions, group)
            .into_iter()
            .filter(keep)
            .map(|p| {
                let (row, survey) = match p.source {
                    Source::Contact(i) => (Some(i), None),
                    // Drill-downs read rows, never the cache.
                    Source::Cached(_) => (None, None),
                    Source::AgentDay(k) => {
                        let (agent, day) = frame.agent_day(k);
                        (
                            None,
                            Some((format!("{agent} on {day}"), "agent_day".to_owned())),
                        )
                    }
                    Source::SurveyAnswer(s) => {
                        let answer = &loaded.surveys[s];
                        (
                            answer.contact_row,
                            Some((answer.source_id.clone(), answer.question_id.clone())),
                        )
                    }
                };
                DrillRow {
                    source_system: row
                        .and_then(|i| t.source_systems.name(t.source_system[i]))
                        .unwrap_or("")
                        .to_owned(),
                    contact_source_id: row.map(|i| t.source_id[i].to_owned()).unwrap_or_default(),
                    survey,
                    arrival_ms: row.map_or(0, |i| t.arrival_ms[i]),
                    agent_id: row
                        .and_then(|i| t.agents.name(t.agent[i]))
                        .map(str::to_owned),
                    queue_id: row
                        .and_then(|i| t.queues.name(t.queue[i]))
                        .map(str::to_owned),
                    outcome: row.map(|i| t.outcome[i].as_str().to_owned()),
                    wait_ms: row.and_then(|i| (t.wait_ms[i] >= 0).then_some(t.wait_ms[i])),
                    numerator: p.numerator,
                    denominator: p.denominator,
                    version: p.version,
                }
            })
            .collect(),
    )
}
