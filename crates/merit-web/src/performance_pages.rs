//! Performance pages: the caller's own scorecard with targets and zones and
//! its trend by week, the team table, an agent's page, the rows behind any
//! figure, and a contact's timeline. They read through merit-service with
//! the caller, exactly as the API does, so they show the same figures.

use crate::AppState;
use crate::auth::PageCaller;
use crate::charts;
use crate::pages::{centre_zone, failed, local_time, respond};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use merit_domain::metrics::{Dimension, Figure, Kpi, Report};
use merit_service::ServiceError;
use merit_service::access::Caller;
use merit_service::export::versions;
use merit_service::metrics::{DEFAULT_KPIS, FigurePart, ReportRequest};
use merit_service::reports;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The period asked for; both days default to the four recent weeks.
#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
}

pub(crate) async fn period(
    state: &AppState,
    caller: &Caller,
    from: &Option<String>,
    to: &Option<String>,
) -> Result<(Date, Date), ServiceError> {
    let (recent_from, recent_to) = reports::recent_weeks(&state.store, caller, state.today).await?;
    let day = |field: &'static str, text: &Option<String>, default: Date| match text.as_deref() {
        None | Some("") => Ok(default),
        Some(text) => text.parse().map_err(|_| ServiceError::Invalid {
            field,
            reason: format!("{text:?} is not a date YYYY-MM-DD"),
        }),
    };
    Ok((day("from", from, recent_from)?, day("to", to, recent_to)?))
}

/// A value made safe for a query string.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where a figure's rows are listed: `kpi` over the period, within the
/// groups `(dimension, value)` given (none: the whole scope).
fn drill_link(kpi: &str, from: Date, to: Date, groups: &[(&str, &str)]) -> String {
    let mut link = format!("/drill?kpi={kpi}&from={from}&to={to}");
    if !groups.is_empty() {
        let by: Vec<&str> = groups.iter().map(|(by, _)| *by).collect();
        let values: Vec<String> = groups.iter().map(|(_, value)| query_value(value)).collect();
        link.push_str(&format!("&by={}&group={}", by.join(","), values.join(",")));
    }
    link
}

/// The groups of an agent's own figures: none for the caller's own scope.
fn agent_groups(agent: Option<&str>) -> Vec<(&'static str, &str)> {
    agent.map(|a| vec![("agent", a)]).unwrap_or_default()
}

fn figure(f: &Figure, drill: String) -> Value {
    json!({
        "definition": f.definition,
        "display": f.display(),
        "numerator": f.numerator,
        "denominator": f.denominator,
        "versions": format!("{} {}", f.definition, versions(f)),
        "provisional": f.provisional,
        "target": f.target.as_ref().map(|t| t.target),
        "zone": f.target.as_ref().map(|t| merit_service::export::zone_name(t.zone)),
        "drill": drill,
    })
}

/// The weekly trend of a report grouped by (agent and) week: a table row
/// per week, and a chart per KPI whose points open each week's rows.
fn trend_view(
    report: &Report,
    from: Date,
    to: Date,
    agent: Option<&str>,
) -> (Vec<Value>, Vec<Value>) {
    let week_of =
        |row: &merit_domain::metrics::ReportRow| row.group.last().cloned().unwrap_or_default();
    let link = |f: &Figure, week: &str| {
        let mut groups = agent_groups(agent);
        groups.push(("week", week));
        drill_link(&f.definition, from, to, &groups)
    };
    // By agent and week, only the agent's rows.
    let rows: Vec<&merit_domain::metrics::ReportRow> = report
        .rows
        .iter()
        .filter(|row| agent.is_none_or(|a| row.group.first().map(String::as_str) == Some(a)))
        .collect();
    let table = rows
        .iter()
        .map(|row| {
            let week = week_of(row);
            json!({
                "week": week,
                "figures": row.figures.iter().map(|f| figure(f, link(f, &week))).collect::<Vec<_>>(),
            })
        })
        .collect();
    let x: Vec<String> = rows.iter().map(|row| week_of(row)).collect();
    let charts = report
        .total
        .figures
        .iter()
        .enumerate()
        .map(|(k, total)| {
            let points = rows
                .iter()
                .map(|row| {
                    charts::point(&row.figures[k], Some(link(&row.figures[k], &week_of(row))))
                })
                .collect();
            charts::series_chart(
                "line",
                &total.definition,
                total.unit.as_str(),
                x.clone(),
                vec![(total.definition.clone(), points)],
            )
        })
        .collect();
    (table, charts)
}

fn title(caller: &Caller) -> String {
    match caller.scope.to_string().as_str() {
        "self" => "My performance".into(),
        "centre" => "The centre's performance".into(),
        scope => format!("Performance of {scope}"),
    }
}

/// The survey answers behind the CSAT figure (optionally one agent's), for
/// the page: when, which contact, every answer and comment.
async fn surveys_view(
    state: &AppState,
    caller: &Caller,
    from: Date,
    to: Date,
    agent: Option<&str>,
) -> Result<Vec<Value>, ServiceError> {
    let by: Vec<Dimension> = agent.iter().map(|_| Dimension::Agent).collect();
    let group: Vec<String> = agent.iter().map(|a| a.to_string()).collect();
    let request = ReportRequest::of(from, to, by, &["csat"]);
    let compute = merit_service::contacts::surveys(
        &state.store,
        state.clock.as_ref(),
        caller,
        &request,
        &group,
    );
    let what = format!("surveys {request:?} {group:?}");
    let surveyed = state.reports.remember(state, caller, what, compute).await?;
    let (_, tz) = centre_zone(state, caller).await?;
    Ok(surveyed
        .iter()
        .map(|s| {
            json!({
                "arrival": local_time(s.arrival_ms, &tz),
                "link": format!("/contacts/{}/{}", s.source_system, query_value(&s.source_id)),
                "source_id": s.source_id,
                "answers": s.answers,
            })
        })
        .collect())
}

/// The caller's own scorecard (an agent's own, a lead's team's, the
/// centre's) with zones, and its trend by week.
pub async fn performance(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(query): Query<PeriodQuery>,
) -> Response {
    let result = async {
        let (from, to) = period(&state, &caller, &query.from, &query.to).await?;
        let total = state.reports.report(&state, &caller, &ReportRequest::of(from, to, vec![], &DEFAULT_KPIS)).await?;
        let trend =
            state.reports.report(&state, &caller, &ReportRequest::of(from, to, vec![Dimension::Week], &DEFAULT_KPIS)).await?;
        let (weeks, charts) = trend_view(&trend, from, to, None);
        let own = matches!(caller.scope, merit_domain::access::Scope::OwnRecords);
        let surveys = match own {
            true => Some(surveys_view(&state, &caller, from, to, None).await?),
            false => None,
        };
        let evaluations = match own {
            true => Some(own_evaluations(&state, &caller, from, to).await?),
            false => None,
        };
        Ok::<_, ServiceError>(json!({
            "surveys": surveys,
            "evaluations": evaluations,
            "title": title(&caller),
            "kpis": DEFAULT_KPIS,
            "from": from.to_string(),
            "to": to.to_string(),
            "scorecard": total.total.figures.iter().map(|f| figure(f, drill_link(&f.definition, from, to, &[]))).collect::<Vec<_>>(),
            "weeks": weeks,
            "charts": charts,
            "csv": format!("/api/v1/reports/kpi?from={from}&to={to}&by=week&format=csv"),
        }))
    }
    .await;
    respond(&state, &caller, "performance.html", result)
}

/// The caller's own evaluations of contacts in the period (released ones
/// and self-assessments), newest first, with what awaits them.
async fn own_evaluations(
    state: &AppState,
    caller: &Caller,
    from: Date,
    to: Date,
) -> Result<Vec<Value>, ServiceError> {
    let (_, tz) = centre_zone(state, caller).await?;
    Ok(merit_service::quality::evaluations_of_days(&state.store, caller, from, to)
        .await?
        .iter()
        .map(|e| {
            let status = match (e.evaluation.kind.as_str(), e.latest.acknowledged_ms) {
                ("self", _) => "your own assessment",
                (_, Some(_)) => "acknowledged",
                _ => "to acknowledge",
            };
            json!({
                "id": e.evaluation.id, "contact": e.evaluation.contact_source_id, "by": e.evaluation.evaluator,
                "arrival": local_time(e.evaluation.contact_arrival_ms, &tz),
                "score": e.latest.score.map_or_else(|| "n/a".to_owned(), |s| format!("{s:.1}")),
                "version": e.latest.version, "status": status,
            })
        })
        .collect())
}

/// Each agent of the caller's scope in one table, sortable by any KPI.
pub async fn team(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(query): Query<PeriodQuery>,
) -> Response {
    let result = async {
        let (from, to) = period(&state, &caller, &query.from, &query.to).await?;
        let report = state.reports.report(
            &state,
            &caller,
            &ReportRequest::of(from, to, vec![Dimension::Agent], &DEFAULT_KPIS),
        )
        .await?;
        let sort_index = query
            .sort
            .as_deref()
            .and_then(|k| DEFAULT_KPIS.iter().position(|d| *d == k));
        let mut rows: Vec<&merit_domain::metrics::ReportRow> = report.rows.iter().collect();
        if let Some(k) = sort_index {
            // Best first: the KPI's own direction decides.
            let lower_is_better = Kpi::parse(DEFAULT_KPIS[k])
                .is_some_and(|kpi| kpi.direction() == merit_domain::metrics::Direction::LowerIsBetter);
            rows.sort_by(|a, b| {
                let (x, y) = (a.figures[k].value, b.figures[k].value);
                let order = x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
                if lower_is_better { order } else { order.reverse() }
            });
        }
        let agents: Vec<Value> = rows
            .iter()
            .map(|row| {
                let agent = row.group.first().cloned().unwrap_or_default();
                json!({
                    "agent": agent,
                    "figures": row.figures.iter().map(|f| figure(f, drill_link(&f.definition, from, to, &[("agent", &agent)]))).collect::<Vec<_>>(),
                })
            })
            .collect();
        let (attention_from, by_agent_week) = reports::attention_request(to, &DEFAULT_KPIS)?;
        let attention = reports::missed_targets(
            &*state.reports.report(&state, &caller, &by_agent_week).await?,
            reports::ATTENTION_MISSES,
        );
        let attention: Vec<Value> = attention
            .iter()
            .map(|a| {
                json!({
                    "agent": a.agent,
                    "definition": a.definition,
                    "weeks": a.missed_weeks.join(", "),
                    "drill": drill_link(&a.definition, attention_from, to, &[("agent", &a.agent)]),
                })
            })
            .collect();
        let by_week = state.reports.report(
            &state,
            &caller,
            &ReportRequest::of(from, to, vec![Dimension::Week], &DEFAULT_KPIS),
        )
        .await?;
        let (weeks, charts) = trend_view(&by_week, from, to, None);
        Ok::<_, ServiceError>(json!({
            "weeks": weeks,
            "charts": charts,
            "attention": attention,
            "attention_from": attention_from.to_string(),
            "title": match &caller.scope {
                merit_domain::access::Scope::Team(team) => format!("Team {team}"),
                merit_domain::access::Scope::Site(site) => format!("Site {site}: every agent"),
                _ => "Every agent".to_owned(),
            },
            "kpis": DEFAULT_KPIS,
            "from": from.to_string(),
            "to": to.to_string(),
            "sort": query.sort,
            "agents": agents,
            "csv": format!("/api/v1/reports/kpi?from={from}&to={to}&by=agent&format=csv"),
        }))
    }
    .await;
    respond(&state, &caller, "performance.html", result)
}

/// One agent's page, as they see it themselves, for those whose scope
/// holds the agent; anyone else gets 404.
pub async fn agent(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(agent): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Response {
    let result = async {
        let (from, to) = period(&state, &caller, &query.from, &query.to).await?;
        let by_agent = state.reports.report(&state, &caller, &ReportRequest::of(from, to, vec![Dimension::Agent], &DEFAULT_KPIS)).await?;
        let row = by_agent
            .rows
            .iter()
            .find(|r| r.group.first() == Some(&agent))
            .ok_or(ServiceError::NotFound)?;
        let trend = state.reports.report(
            &state,
            &caller,
            &ReportRequest::of(from, to, vec![Dimension::Agent, Dimension::Week], &DEFAULT_KPIS),
        )
        .await?;
        let (weeks, charts) = trend_view(&trend, from, to, Some(&agent));
        let surveys = surveys_view(&state, &caller, from, to, Some(&agent)).await?;
        Ok::<_, ServiceError>(json!({
            "surveys": surveys,
            "title": format!("Agent {agent}"),
            "kpis": DEFAULT_KPIS,
            "from": from.to_string(),
            "to": to.to_string(),
            "scorecard": row.figures.iter().map(|f| figure(f, drill_link(&f.definition, from, to, &[("agent", &agent)]))).collect::<Vec<_>>(),
            "weeks": weeks,
            "charts": charts,
            "csv": format!("/api/v1/reports/kpi?from={from}&to={to}&by=agent,week&format=csv"),
        }))
    }
    .await;
    respond(&state, &caller, "performance.html", result)
}

#[derive(Debug, Deserialize)]
pub struct DrillQuery {
    kpi: String,
    from: String,
    to: String,
    by: Option<String>,
    group: Option<String>,
    part: Option<String>,
    interval: Option<String>,
}

/// The interval asked for (`15m`, `30m` or `60m`), in minutes; 30 unless given.
fn interval_minutes(interval: Option<&str>) -> i64 {
    match interval {
        Some("15m") => 15,
        Some("60m") => 60,
        _ => 30,
    }
}

/// The rows behind a figure, each contact linked to its page.
pub async fn drill(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(query): Query<DrillQuery>,
) -> Response {
    let result = async {
        let (from, to) = period(&state, &caller, &Some(query.from.clone()), &Some(query.to.clone())).await?;
        let by: Vec<String> = query.by.iter().flat_map(|b| b.split(',')).map(str::to_owned).collect();
        let names = merit_service::metrics::ReportNames {
            from,
            to,
            by: &by,
            interval_minutes: interval_minutes(query.interval.as_deref()),
            definitions: std::slice::from_ref(&query.kpi),
            as_of_ms: None,
        };
        let request = ReportRequest::from_names(names, &[])?;
        let part = query
            .part
            .as_deref()
            .and_then(FigurePart::parse)
            .unwrap_or(FigurePart::Denominator);
        let groups = reports::parse_groups(query.group.as_deref());
        let rows = reports::drill_groups(&state.store, state.clock.as_ref(), &caller, &request, &groups, part).await?;
        let (zone, tz) = centre_zone(&state, &caller).await?;
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "source_system": r.source_system,
                    "contact_source_id": r.contact_source_id,
                    "link_id": r.contact_source_id.replace('/', "%2F"),
                    "arrival": local_time(r.arrival_ms, &tz),
                    "agent_id": r.agent_id,
                    "queue_id": r.queue_id,
                    "outcome": r.outcome,
                    "wait_s": r.wait_ms.map(|w| format!("{:.1}", w as f64 / 1000.0)).unwrap_or_default(),
                    "survey": r.survey.as_ref().map(|(response, question)| format!("{response}: {question}")).unwrap_or_default(),
                    "numerator": r.numerator,
                    "denominator": r.denominator,
                })
            })
            .collect();
        let mut base = format!("kpi={}&from={from}&to={to}", query.kpi);
        if let Some(by) = &query.by {
            base.push_str(&format!("&by={by}"));
        }
        if let Some(group) = &query.group {
            base.push_str(&format!("&group={}", query_value(group)));
        }
        if let Some(interval) = &query.interval {
            base.push_str(&format!("&interval={}", query_value(interval)));
        }
        let part_name = part.as_str();
        Ok::<_, ServiceError>(json!({
            "kpi": query.kpi,
            "from": from.to_string(),
            "to": to.to_string(),
            "group": query.group,
            "part": part_name,
            "rows": rows,
            "query": base,
            "time_zone": zone,
            "csv": format!("/api/v1/reports/contacts?{base}&part={part_name}&format=csv"),
        }))
    }
    .await;
    respond(&state, &caller, "drill.html", result)
}

/// A contact's timeline, if it is in the caller's scope.
pub async fn contact(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path((source_system, source_id)): Path<(String, String)>,
) -> Response {
    let result = async {
        let view =
            merit_service::contacts::contact(&state.store, &caller, &source_system, &source_id)
                .await?;
        let (zone, tz) = centre_zone(&state, &caller).await?;
        let at = |ms: i64| local_time(ms, &tz);
        let c = &view.contact;
        let mut timeline: Vec<(i64, String)> = vec![(c.arrival_ms, "arrived".into())];
        let mut add = |ms: Option<i64>, what: String| {
            if let Some(ms) = ms {
                timeline.push((ms, what));
            }
        };
        add(c.menu_exit_ms, "left the voice menu".into());
        add(
            c.queue_entry_ms,
            format!("entered queue {}", c.queue_id.as_deref().unwrap_or("")),
        );
        add(c.queue_exit_ms, "left the queue".into());
        add(
            c.answer_ms,
            format!(
                "answered by {}",
                c.agent_id.as_deref().unwrap_or("an agent")
            ),
        );
        for hold in view.holds.as_array().into_iter().flatten() {
            add(hold.get(0).and_then(Value::as_i64), "put on hold".into());
            add(hold.get(1).and_then(Value::as_i64), "taken off hold".into());
        }
        for transfer in view.transfers.as_array().into_iter().flatten() {
            let target = transfer.get(1).and_then(Value::as_str).unwrap_or("");
            add(
                transfer.get(0).and_then(Value::as_i64),
                format!("transferred to {target}"),
            );
        }
        add(Some(c.end_ms), format!("ended ({})", c.outcome));
        add(c.after_work_end_ms, "after-call work done".into());
        timeline.sort_by_key(|(ms, _)| *ms);
        let timeline: Vec<Value> = timeline
            .into_iter()
            .map(|(ms, what)| json!({"at": at(ms), "what": what}))
            .collect();
        let filter = merit_store::EvaluationFilter {
            contact: Some((&source_system, &source_id)),
            ..Default::default()
        };
        let evaluations: Vec<Value> =
            merit_service::quality::evaluations(&state.store, &caller, filter)
                .await?
                .iter()
                .map(|e| {
                    json!({"id": e.evaluation.id, "kind": e.evaluation.kind, "by": e.evaluation.evaluator,
                           "score": e.latest.score.map(|s| format!("{s:.1}")), "version": e.latest.version})
                })
                .collect();
        let evaluator = merit_service::quality::EVALUATORS.contains(&caller.role);
        let agent = caller.role == merit_domain::access::Role::Agent;
        Ok::<_, ServiceError>(json!({
            "c": c,
            "evaluations": evaluations,
            "can_evaluate": evaluator || agent,
            "self_assessment": agent,
            "surveys": view.surveys,
            "timeline": timeline,
            "time_zone": zone,
        }))
    }
    .await;
    respond(&state, &caller, "contact.html", result)
}

fn definition_json(name: &str, history: &merit_domain::metrics::DefinitionHistory) -> Value {
    let kpi = history.versions[0].kpi;
    json!({
        "name": name,
        "formula": kpi.formula(),
        "unit": kpi.unit().as_str(),
        "versions": history.versions.iter().map(|v| json!({
            "version": v.version,
            "effective_from": v.effective_from.to_string(),
            "recorded_on": v.recorded_on.to_string(),
            "recorded_by": v.recorded_by,
            "reason": v.reason,
            "options_text": serde_json::to_string(&v.options).unwrap_or_default(),
        })).collect::<Vec<_>>(),
    })
}

/// Every definition: formula, unit, versions.
pub async fn definitions(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
) -> Response {
    let result = reports::definitions(&state.store, state.clock.as_ref(), &caller)
        .await
        .map(|all| {
            json!({
                "definitions": all.iter().map(|(name, h)| definition_json(name, h)).collect::<Vec<_>>(),
            })
        });
    respond(&state, &caller, "definitions.html", result)
}

#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    options: Option<String>,
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
}

/// One definition's versions, and for those who may change it, the preview
/// of a proposed version beside the one in force.
pub async fn definition(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(name): Path<String>,
    Query(query): Query<PreviewQuery>,
) -> Response {
    definition_page(&state, &caller, &name, &query, None).await
}

async fn definition_page(
    state: &AppState,
    caller: &Caller,
    name: &str,
    query: &PreviewQuery,
    refused: Option<String>,
) -> Response {
    let name = name.to_owned();
    let result = async {
        let all = reports::definitions(&state.store, state.clock.as_ref(), caller).await?;
        let history = all.get(&name).ok_or(ServiceError::NotFound)?;
        let (from, to) = period(state, caller, &query.from, &query.to).await?;
        let may_change = reports::may_set(caller);
        let mut context = json!({
            "d": definition_json(&name, history),
            "may_change": may_change,
            "from": from.to_string(),
            "to": to.to_string(),
            "by": query.by,
            "options": query.options,
            "message": refused,
        });
        let options = query.options.as_deref().filter(|o| !o.trim().is_empty());
        if let (true, Some(options)) = (may_change, options) {
            let by: Vec<String> = query.by.iter().filter(|b| !b.is_empty()).cloned().collect();
            let names = merit_service::metrics::ReportNames {
                from,
                to,
                by: &by,
                interval_minutes: 30,
                definitions: std::slice::from_ref(&name),
                as_of_ms: None,
            };
            let request = ReportRequest::from_names(names, &[])?;
            match reports::preview_version(&state.store, state.clock.as_ref(), caller, &name, options, &request).await {
                Ok(report) => {
                    let rows: Vec<&merit_domain::metrics::ReportRow> = if report.dimensions.is_empty() {
                        vec![&report.total]
                    } else {
                        report.rows.iter().chain([&report.total]).collect()
                    };
                    context["preview"] = json!({
                        "proposed": report.total.figures.get(1).map(|f| f.definition.clone()),
                        "rows": rows.iter().map(|r| json!({
                            "group": if r.group.is_empty() { "total".to_owned() } else { r.group.join(" · ") },
                            "current": r.figures.first().map(Figure::display),
                            "proposed": r.figures.get(1).map(Figure::display),
                        })).collect::<Vec<_>>(),
                    });
                }
                Err(ServiceError::Invalid { field, reason }) => {
                    context["message"] = json!(format!("{field}: {reason}"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok::<_, ServiceError>(context)
    }
    .await;
    match &refused {
        Some(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            respond(state, caller, "definition.html", result),
        )
            .into_response(),
        None => respond(state, caller, "definition.html", result),
    }
}

/// A new version saved from the definition page.
#[derive(Debug, Deserialize)]
pub struct SaveVersionForm {
    options: String,
    effective_from: String,
    reason: Option<String>,
}

/// Records the previewed options as a new version (operations managers and
/// administrators; audited by the service), then shows the definition.
pub async fn save_version(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<SaveVersionForm>,
) -> Response {
    let saved = async {
        let effective_from: Date =
            form.effective_from
                .parse()
                .map_err(|_| ServiceError::Invalid {
                    field: "effective_from",
                    reason: format!("{:?} is not a date YYYY-MM-DD", form.effective_from),
                })?;
        let request = merit_service::metrics::NewVersion {
            name: &name,
            kpi: None,
            effective_from,
            options_json: &form.options,
            reason: form.reason.as_deref().filter(|r| !r.trim().is_empty()),
        };
        reports::new_version(&state.store, state.clock.as_ref(), &caller, request).await
    }
    .await;
    match saved {
        Ok(_) => axum::response::Redirect::to(&format!("/definitions/{name}")).into_response(),
        Err(ServiceError::Invalid { field, reason }) => {
            let query = PreviewQuery {
                options: Some(form.options.clone()),
                from: None,
                to: None,
                by: None,
            };
            definition_page(
                &state,
                &caller,
                &name,
                &query,
                Some(format!("{field}: {reason}")),
            )
            .await
        }
        Err(other) => failed(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct AuditFilterQuery {
    actor: Option<String>,
    action: Option<String>,
    record_kind: Option<String>,
}

/// Users, API tokens and the audit log with filters (administrators).
pub async fn admin(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(query): Query<AuditFilterQuery>,
) -> Response {
    use merit_service::access;
    let result = async {
        let users = access::list_users(&state.store, &caller).await?;
        let tokens = access::list_tokens(&state.store, &caller).await?;
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let filter = access::AuditFilter {
            actor: nonempty(&query.actor),
            action: nonempty(&query.action),
            record_kind: nonempty(&query.record_kind),
            ..access::AuditFilter::default()
        };
        let entries = access::audit_log(&state.store, &caller, &filter).await?;
        let (zone, tz) = centre_zone(&state, &caller).await?;
        let at = |ms: i64| local_time(ms, &tz);
        let audit: Vec<Value> = entries
            .iter()
            .rev()
            .take(200)
            .map(|e| json!({"at": at(e.at_ms), "actor": e.actor, "action": e.action, "record_kind": e.record_kind, "record_id": e.record_id}))
            .collect();
        let tokens: Vec<Value> = tokens
            .iter()
            .map(|t| json!({"name": t.name, "role": t.role, "scope": t.scope, "created_by": t.created_by, "last_used": t.last_used_ms.map(at), "revoked_ms": t.revoked_ms}))
            .collect();
        Ok::<_, ServiceError>(json!({
            "users": users,
            "tokens": tokens,
            "audit": audit,
            "time_zone": zone,
            "filter": {"actor": query.actor, "action": query.action, "record_kind": query.record_kind},
        }))
    }
    .await;
    // An administrator's page: to anyone else it does not exist.
    let result = result.map_err(|e| match e {
        ServiceError::Forbidden { .. } => ServiceError::NotFound,
        other => other,
    });
    respond(&state, &caller, "admin.html", result)
}

#[derive(Debug, Deserialize)]
pub struct OperationsQuery {
    from: Option<String>,
    to: Option<String>,
    interval: Option<String>,
}

/// Queues by interval, service level by weekday and hour, the channel mix,
/// and this period against the previous one; the last day with contacts
/// by default.
pub async fn operations(
    State(state): State<AppState>,
    PageCaller(caller): PageCaller,
    Query(query): Query<OperationsQuery>,
) -> Response {
    let result = async {
        let latest = reports::latest_day(&state.store, &caller, state.today).await?;
        let latest = Some(latest.to_string());
        let pick = |given: &Option<String>| given.clone().filter(|s| !s.is_empty()).or(latest.clone());
        let (from, to) = period(&state, &caller, &pick(&query.from), &pick(&query.to)).await?;
        let interval = query.interval.clone().unwrap_or_else(|| "30m".into());
        let minutes = interval_minutes(Some(&interval));
        let span = |days: i64| jiff::Span::new().days(days);
        let invalid = |e: jiff::Error| ServiceError::Invalid { field: "from", reason: e.to_string() };
        // This period against the previous one of the same length.
        let length = (to - from).get_days() as i64 + 1;
        let (previous_from, previous_to) = (
            from.checked_sub(span(length)).map_err(invalid)?,
            from.checked_sub(span(1)).map_err(invalid)?,
        );
        let kpis = ["offered", "service_level", "abandon_rate", "asa", "aht"];
        let now = state.reports.report(&state, &caller, &ReportRequest::of(from, to, vec![], &kpis)).await?;
        let before = state.reports.report(&state, &caller, &ReportRequest::of(previous_from, previous_to, vec![], &kpis)).await?;
        let compare: Vec<Value> = now
            .total
            .figures
            .iter()
            .zip(&before.total.figures)
            .map(|(n, b)| {
                json!({
                    "kpi": n.definition,
                    "now": figure(n, drill_link(&n.definition, from, to, &[])),
                    "before": figure(b, drill_link(&b.definition, previous_from, previous_to, &[])),
                })
            })
            .collect();
        // The channel mix.
        let by_channel = state.reports.report(&state, &caller, &ReportRequest::of(from, to, vec![Dimension::Channel], &["offered"])).await?;
        let total_offered = by_channel.total.figures[0].numerator.max(1);
        let channel_rows: Vec<&merit_domain::metrics::ReportRow> =
            by_channel.rows.iter().filter(|r| r.figures[0].numerator > 0).collect();
        let channel_link = |r: &merit_domain::metrics::ReportRow| drill_link("offered", from, to, &[("channel", &r.group[0])]);
        let channels: Vec<Value> = channel_rows
            .iter()
            .map(|r| {
                let n = r.figures[0].numerator;
                json!({
                    "channel": r.group[0],
                    "offered": figure(&r.figures[0], channel_link(r)),
                    "share": format!("{:.1} %", n as f64 * 100.0 / total_offered as f64),
                })
            })
            .collect();
        let channel_chart = charts::series_chart(
            "bar",
            "Contacts offered by channel",
            "count",
            channel_rows.iter().map(|r| r.group[0].clone()).collect(),
            vec![("offered".into(), channel_rows.iter().map(|r| charts::point(&r.figures[0], Some(channel_link(r)))).collect())],
        );
        // Service level by weekday and hour over four weeks, summed from counts.
        let heat_from = to.checked_sub(span(27)).map_err(invalid)?;
        let hourly = state.reports.report(
            &state,
            &caller,
            &ReportRequest::of(heat_from, to, vec![Dimension::Interval(60)], &["service_level"]),
        )
        .await?;
        let mut sums: BTreeMap<(i8, i64), (i64, i64)> = BTreeMap::new();
        let mut labels: BTreeMap<(i8, i64), Vec<&str>> = BTreeMap::new();
        for row in &hourly.rows {
            let label = &row.group[0];
            let (Some(day), Some(hour)) = (
                label.get(..10).and_then(|d| d.parse::<Date>().ok()),
                label.get(11..13).and_then(|h| h.parse::<i64>().ok()),
            ) else {
                continue;
            };
            let f = &row.figures[0];
            let cell = (day.weekday().to_monday_zero_offset(), hour);
            labels.entry(cell).or_default().push(label);
            let entry = sums.entry(cell).or_default();
            entry.0 += f.numerator;
            entry.1 += f.denominator.unwrap_or(0);
        }
        let hours: Vec<i64> = sums
            .iter()
            .filter(|(_, (_, d))| *d > 0)
            .map(|((_, h), _)| *h)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
        let hour_labels: Vec<String> = hours.iter().map(|h| format!("{h:02}")).collect();
        let mut heat_cells = Vec::new();
        let heat: Vec<Value> = (0..7i8)
            .map(|weekday| {
                let cells: Vec<Value> = hours
                    .iter()
                    .enumerate()
                    .map(|(column, hour)| match sums.get(&(weekday, *hour)) {
                        Some((n, d)) if *d > 0 => {
                            let percent = *n as f64 * 100.0 / *d as f64;
                            let text = format!("{percent:.0} %");
                            let hours = labels.get(&(weekday, *hour)).map(|l| l.join("|")).unwrap_or_default();
                            let url = format!(
                                "/drill?kpi=service_level&from={heat_from}&to={to}&by=interval&interval=60m&group={}",
                                query_value(&hours)
                            );
                            heat_cells.push(json!({"x": column, "y": weekday, "value": (percent * 10.0).round() / 10.0, "label": text, "url": url}));
                            json!({
                                "url": url,
                                "text": text,
                                "level": match n * 100 / d { 0..=59 => 0, 60..=74 => 1, 75..=84 => 2, _ => 3 },
                            })
                        }
                        _ => json!({"text": "", "level": "none"}),
                    })
                    .collect();
                json!({"weekday": names[weekday as usize], "cells": cells})
            })
            .collect();
        let heat_chart = charts::heatmap(
            "Service level by weekday and hour",
            hour_labels.clone(),
            names.iter().map(|n| n.to_string()).collect(),
            heat_cells,
            100.0,
        );
        // Queues by interval.
        let by_interval = state.reports.report(
            &state,
            &caller,
            &ReportRequest::of(from, to, vec![Dimension::Queue, Dimension::Interval(minutes)], &["offered", "service_level", "abandon_rate", "asa"]),
        )
        .await?;
        let intervals: Vec<Value> = by_interval
            .rows
            .iter()
            .filter(|r| r.figures[0].numerator > 0)
            .map(|r| {
                let groups = [("queue", r.group[0].as_str()), ("interval", r.group[1].as_str())];
                json!({
                    "queue": r.group[0],
                    "interval": r.group[1],
                    "figures": r.figures.iter().map(|f| figure(f, format!("{}&interval={interval}", drill_link(&f.definition, from, to, &groups)))).collect::<Vec<_>>(),
                })
            })
            .collect();
        // Service level by interval, all queues together.
        let centre_intervals = state.reports.report(
            &state,
            &caller,
            &ReportRequest::of(from, to, vec![Dimension::Interval(minutes)], &["service_level"]),
        )
        .await?;
        let busy: Vec<&merit_domain::metrics::ReportRow> =
            centre_intervals.rows.iter().filter(|r| r.figures[0].denominator.unwrap_or(0) > 0).collect();
        let interval_chart = charts::series_chart(
            "line",
            "Service level by interval, all queues",
            "percent",
            busy.iter().map(|r| r.group[0].clone()).collect(),
            vec![(
                "service_level".into(),
                busy.iter()
                    .map(|r| {
                        let link = format!("{}&interval={interval}", drill_link("service_level", from, to, &[("interval", &r.group[0])]));
                        charts::point(&r.figures[0], Some(link))
                    })
                    .collect(),
            )],
        );
        Ok::<_, ServiceError>(json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "interval": interval,
            "previous_from": previous_from.to_string(),
            "previous_to": previous_to.to_string(),
            "compare": compare,
            "channels": channels,
            "heat_from": heat_from.to_string(),
            "hours": hour_labels,
            "heat": heat,
            "charts": {"channels": channel_chart, "heat": heat_chart, "intervals": interval_chart},
            "intervals": intervals,
            "csv": format!("/api/v1/reports/kpi?from={from}&to={to}&by=queue,interval&interval={interval}&kpi=offered,service_level,abandon_rate,asa&format=csv"),
        }))
    }
    .await;
    respond(&state, &caller, "operations.html", result)
}
