//! Quality scoring use cases: publishing and retiring scorecard forms,
//! evaluating contacts (by an evaluator, by the agent themself, or in a
//! calibration session), re-scoring as a new version, releasing to the
//! agent and acknowledging, disputes with their window, cap and decision,
//! and calibration statistics. Each use case checks the caller's role and
//! scope and writes its audit entry.

use crate::access::{Caller, READERS};
use crate::contacts::ScopeView;
use crate::{Clock, ServiceError};
use crate::{audit_entry, invalid};
use merit_domain::access::Role;
use merit_domain::quality::agreement::{
    RaterAgreement, category_counts, cohen_kappa, fleiss_kappa,
};
use merit_domain::quality::{Form, Scored, score};
use merit_store::{
    CalibrationSessionRecord, DisputeRecord, EvaluationFilter, EvaluationRecord, EvaluationSummary,
    EvaluationVersionRecord, FormRecord, FormVersionRecord, NewNotification, Store,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Who builds forms and runs calibration.
pub const FORM_WRITERS: &[Role] = &[Role::QaSpecialist, Role::Administrator];
/// Who evaluates contacts, re-scores, releases and decides disputes.
pub const EVALUATORS: &[Role] = &[Role::QaSpecialist, Role::TeamLead, Role::Administrator];
/// Days after its release an evaluation can be disputed.
pub const DISPUTE_WINDOW_DAYS: i64 = 7;
/// Disputes one agent may raise per calendar month (the centre's zone).
pub const DISPUTES_PER_MONTH: usize = 3;

const DAY_MS: i64 = 86_400_000;

/// How an evaluator came to the contact.
pub const METHODS: [&str; 5] = [
    "observation",
    "recording",
    "live",
    "transcript",
    "automated",
];

/// One published version of a form.
#[derive(Debug, Clone, Serialize)]
pub struct FormVersion {
    pub form_id: i64,
    pub version: i64,
    pub form: Form,
    pub source_text: String,
    pub published_ms: i64,
    pub published_by: String,
}

impl TryFrom<FormVersionRecord> for FormVersion {
    type Error = ServiceError;
    fn try_from(r: FormVersionRecord) -> Result<Self, ServiceError> {
        let form = serde_json::from_str(&r.form_json).map_err(|e| {
            ServiceError::Io(std::io::Error::other(format!(
                "stored form {}: {e}",
                r.form_id
            )))
        })?;
        Ok(FormVersion {
            form_id: r.form_id,
            version: r.version,
            form,
            source_text: r.source_text,
            published_ms: r.published_ms,
            published_by: r.published_by,
        })
    }
}

/// A form and every version it has had, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct FormHistory {
    #[serde(flatten)]
    pub form: FormRecord,
    pub versions: Vec<FormVersion>,
}

impl FormHistory {
    pub fn latest(&self) -> Option<&FormVersion> {
        self.versions.last()
    }
    pub fn version(&self, version: i64) -> Option<&FormVersion> {
        self.versions.iter().find(|v| v.version == version)
    }
}

pub async fn forms(store: &Store, caller: &Caller) -> Result<Vec<FormRecord>, ServiceError> {
    caller.may_read(READERS)?;
    Ok(store.forms(caller.tenant).await?)
}

pub async fn form(store: &Store, caller: &Caller, id: i64) -> Result<FormHistory, ServiceError> {
    caller.may_read(READERS)?;
    let form = store
        .forms(caller.tenant)
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or(ServiceError::NotFound)?;
    let versions = store
        .form_versions(caller.tenant, id)
        .await?
        .into_iter()
        .map(FormVersion::try_from)
        .collect::<Result<_, _>>()?;
    Ok(FormHistory { form, versions })
}

/// Parses a form's text (docs/formats.md) and refuses it naming the line.
pub fn parse_form_text(text: &str) -> Result<Form, ServiceError> {
    merit_import::quality_form::parse_form(text).map_err(|e| invalid("form", e.to_string()))
}

/// Publishes a form written as text: a new form (`form_id` `None`) or the
/// next version of a live one. Evaluations already scored stay on their version.
pub async fn publish_form(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    form_id: Option<i64>,
    text: &str,
) -> Result<(i64, i64), ServiceError> {
    caller.require(FORM_WRITERS, "publish a scorecard form")?;
    let form = parse_form_text(text)?;
    if let Some(id) = form_id {
        let history = self::form(store, caller, id).await?;
        if history.form.retired_ms.is_some() {
            return Err(invalid(
                "form",
                "this form is retired; publish a new form instead",
            ));
        }
        if history.latest().is_some_and(|v| v.form == form) {
            return Err(invalid("form", "nothing changed since the latest version"));
        }
    }
    let json = serde_json::to_string(&form).map_err(|e| invalid("form", e.to_string()))?;
    let entry = audit_entry(
        caller,
        clock,
        "qa_form.publish",
        "qa_form",
        String::new(),
        &form,
    );
    Ok(store
        .publish_form_version(
            caller.tenant,
            form_id,
            &form.name,
            &json,
            text,
            clock.now_ms(),
            &caller.name,
            &entry,
        )
        .await?)
}

/// A change made through the form builder on the page.
#[derive(Debug, Clone)]
pub enum FormEdit {
    /// A new form with its first section and question.
    Start {
        name: String,
        section_title: String,
        question: merit_domain::quality::Question,
    },
    /// A question added at the end of a section (a new one when no section
    /// has `section_key`; it is then titled `section_title`).
    AddQuestion {
        section_key: String,
        section_title: String,
        question: merit_domain::quality::Question,
    },
    /// A question removed (a section left empty goes with it).
    RemoveQuestion { key: String },
}

/// A section key made from a title: lowercase letters and digits joined by `_`.
fn key_of(title: &str) -> String {
    title
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// Applies a builder change to a form's latest version (or starts one) and
/// publishes the result as its next version, written out as text.
pub async fn edit_form(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    form_id: Option<i64>,
    edit: FormEdit,
) -> Result<(i64, i64), ServiceError> {
    use merit_domain::quality::Section;
    caller.require(FORM_WRITERS, "build a scorecard form")?;
    let mut built = match (form_id, &edit) {
        (None, FormEdit::Start { name, .. }) => Form {
            name: name.trim().into(),
            description: None,
            sections: Vec::new(),
        },
        (Some(id), FormEdit::AddQuestion { .. } | FormEdit::RemoveQuestion { .. }) => {
            form(store, caller, id)
                .await?
                .latest()
                .ok_or(ServiceError::NotFound)?
                .form
                .clone()
        }
        _ => return Err(invalid("form", "start a form, or change an existing one")),
    };
    match edit {
        FormEdit::Start {
            section_title,
            question,
            ..
        } => built.sections.push(Section {
            key: key_of(&section_title),
            title: section_title.trim().into(),
            weight: None,
            auto_fail_below: None,
            questions: vec![question],
        }),
        FormEdit::AddQuestion {
            section_key,
            section_title,
            question,
        } => match built.sections.iter_mut().find(|s| s.key == section_key) {
            Some(section) => section.questions.push(question),
            None => built.sections.push(Section {
                key: if section_key.is_empty() {
                    key_of(&section_title)
                } else {
                    section_key
                },
                title: section_title.trim().into(),
                weight: None,
                auto_fail_below: None,
                questions: vec![question],
            }),
        },
        FormEdit::RemoveQuestion { key } => {
            if built.question(&key).is_none() {
                return Err(invalid(
                    "question",
                    format!("{key:?} is not a question of this form"),
                ));
            }
            for section in &mut built.sections {
                section.questions.retain(|q| q.key != key);
            }
            built.sections.retain(|s| !s.questions.is_empty());
        }
    }
    built.check().map_err(|e| {
        let field = match (
            e.place.section.and_then(|s| built.sections.get(s)),
            e.place.question,
        ) {
            (Some(s), Some(q)) => format!(
                "section {:?}, question {:?}, {}",
                s.key,
                s.questions.get(q).map_or("", |q| q.key.as_str()),
                e.place.field
            ),
            (Some(s), None) => format!("section {:?}, {}", s.key, e.place.field),
            _ => e.place.field.to_owned(),
        };
        invalid("form", format!("{field}: {}", e.reason))
    })?;
    let text = merit_import::quality_form::form_text(&built);
    publish_form(store, clock, caller, form_id, &text).await
}

/// Retires a form: it takes no new evaluations; its versions and every
/// evaluation on them stay.
pub async fn retire_form(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    id: i64,
) -> Result<(), ServiceError> {
    caller.require(FORM_WRITERS, "retire a scorecard form")?;
    let history = form(store, caller, id).await?;
    let entry = audit_entry(
        caller,
        clock,
        "qa_form.retire",
        "qa_form",
        id.to_string(),
        &history.form,
    );
    if !store
        .retire_form(caller.tenant, id, clock.now_ms(), &entry)
        .await?
    {
        return Err(invalid("form", "this form is already retired"));
    }
    Ok(())
}

/// One answer as given: the answer text and an optional comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GivenAnswer {
    pub answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A new evaluation of a contact.
#[derive(Debug, Clone, Deserialize)]
pub struct NewEvaluation {
    pub source_system: String,
    pub contact_source_id: String,
    pub form_id: i64,
    /// observation, recording, live or transcript.
    pub method: String,
    pub answers: BTreeMap<String, GivenAnswer>,
    #[serde(default)]
    pub comment: Option<String>,
    /// Release it to the agent at once.
    #[serde(default)]
    pub release: bool,
    /// Part of this calibration session (scored blind, never released).
    #[serde(default)]
    pub calibration_session: Option<i64>,
}

/// Answers without comments, as given answers.
pub fn given(answers: &BTreeMap<String, String>) -> BTreeMap<String, GivenAnswer> {
    answers
        .iter()
        .map(|(k, a)| {
            let answer = GivenAnswer {
                answer: a.clone(),
                comment: None,
            };
            (k.clone(), answer)
        })
        .collect()
}

fn plain_answers(answers: &BTreeMap<String, GivenAnswer>) -> BTreeMap<String, String> {
    answers
        .iter()
        .map(|(k, a)| (k.clone(), a.answer.clone()))
        .collect()
}

/// A new, unreleased version of an evaluation's answers with their score.
fn version_record(
    caller: &Caller,
    clock: &dyn Clock,
    evaluation_id: i64,
    form: &Form,
    answers: &BTreeMap<String, GivenAnswer>,
    comment: Option<String>,
) -> Result<EvaluationVersionRecord, ServiceError> {
    let scored =
        score(form, &plain_answers(answers)).map_err(|e| invalid("answers", e.to_string()))?;
    Ok(EvaluationVersionRecord {
        evaluation_id,
        version: 0,
        answers_json: serde_json::to_string(answers)
            .map_err(|e| invalid("answers", e.to_string()))?,
        comment: comment.filter(|c| !c.trim().is_empty()),
        score: scored.score,
        auto_fail_by: scored.form_auto_fail.as_ref().map(|a| a.by.clone()),
        created_ms: clock.now_ms(),
        created_by: caller.name.clone(),
        reason: None,
        released_ms: None,
        acknowledged_ms: None,
    })
}

/// Scores a contact. An agent scores their own contact (a self-assessment,
/// one per contact); an evaluator a contact in their scope; a calibration
/// evaluation needs the caller to be one of the session's evaluators, once
/// per contact of the session.
pub async fn evaluate(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    new: NewEvaluation,
) -> Result<i64, ServiceError> {
    let kind = if new.calibration_session.is_some() {
        "calibration"
    } else if caller.role == Role::Agent {
        "self"
    } else {
        "human"
    };
    if kind != "self" {
        caller.require(EVALUATORS, "evaluate a contact")?;
    } else {
        caller.require(&[Role::Agent], "assess their own contact")?;
    }
    if !METHODS[..4].contains(&new.method.as_str()) {
        return Err(invalid(
            "method",
            format!("{:?} is not one of {}", new.method, METHODS[..4].join(", ")),
        ));
    }
    // A contact outside the caller's scope is, to them, not there.
    let contact =
        crate::contacts::contact(store, caller, &new.source_system, &new.contact_source_id).await?;
    let agent_id = contact
        .contact
        .agent_id
        .clone()
        .ok_or_else(|| invalid("contact_source_id", "no agent handled this contact"))?;
    let history = form(store, caller, new.form_id).await?;
    if history.form.retired_ms.is_some() {
        return Err(invalid("form_id", "this form is retired"));
    }
    let mut form_version = history.latest().ok_or(ServiceError::NotFound)?;
    let existing = store
        .evaluations(
            caller.tenant,
            &EvaluationFilter {
                contact: Some((&new.source_system, &new.contact_source_id)),
                ..Default::default()
            },
        )
        .await?;
    if let Some(session_id) = new.calibration_session {
        let session = calibration_session(store, caller, session_id).await?;
        if !session.evaluators.contains(&caller.name) {
            return Err(invalid(
                "calibration_session",
                "you are not an evaluator of this session",
            ));
        }
        if !session
            .contacts
            .contains(&(new.source_system.clone(), new.contact_source_id.clone()))
        {
            return Err(invalid(
                "contact_source_id",
                "this contact is not part of the session",
            ));
        }
        if session.record.form_id != new.form_id {
            return Err(invalid("form_id", "the session uses another form"));
        }
        form_version = history
            .version(session.record.form_version)
            .ok_or(ServiceError::NotFound)?;
        if existing.iter().any(|e| {
            e.evaluation.calibration_session_id == Some(session_id)
                && e.evaluation.evaluator == caller.name
        }) {
            return Err(invalid(
                "contact_source_id",
                "you have already scored this contact in this session",
            ));
        }
    }
    if kind == "self" && existing.iter().any(|e| e.evaluation.kind == "self") {
        return Err(invalid(
            "contact_source_id",
            "this contact already has your self-assessment",
        ));
    }
    let record = EvaluationRecord {
        id: 0,
        form_id: new.form_id,
        form_version: form_version.version,
        source_system: new.source_system,
        contact_source_id: new.contact_source_id,
        agent_id: agent_id.clone(),
        kind: kind.into(),
        method: new.method,
        evaluator: caller.name.clone(),
        contact_arrival_ms: contact.contact.arrival_ms,
        calibration_session_id: new.calibration_session,
        source_id: None,
        created_ms: clock.now_ms(),
    };
    let release = new.release && kind == "human";
    let mut first = version_record(
        caller,
        clock,
        0,
        &form_version.form,
        &new.answers,
        new.comment,
    )?;
    first.released_ms = release.then(|| clock.now_ms());
    let entry = audit_entry(
        caller,
        clock,
        "qa_evaluation.submit",
        "qa_evaluation",
        String::new(),
        &(&record, &first),
    );
    let id = store
        .add_evaluation(caller.tenant, &record, &first, &entry)
        .await?;
    if release {
        tell_agent(
            store,
            clock,
            caller.tenant,
            released_notice(&agent_id, id, 1),
        )
        .await?;
    }
    Ok(id)
}

/// What an agent is told about one of their evaluations.
struct AgentNotice<'a> {
    agent_id: &'a str,
    evaluation_id: i64,
    version: i64,
    kind: &'static str,
    subject: String,
}

async fn tell_agent(
    store: &Store,
    clock: &dyn Clock,
    tenant: merit_domain::TenantId,
    notice: AgentNotice<'_>,
) -> Result<(), ServiceError> {
    let due: Vec<NewNotification> = store
        .users(tenant)
        .await?
        .into_iter()
        .filter(|u| {
            !u.disabled
                && u.agent_id.as_deref() == Some(notice.agent_id)
                && u.role == Role::Agent.as_str()
        })
        .map(|u| NewNotification {
            recipient: u.username,
            kind: notice.kind.into(),
            subject: notice.subject.clone(),
            link: format!("/quality/evaluations/{}", notice.evaluation_id),
            dedupe_key: format!(
                "{}:{}:{}",
                notice.kind, notice.evaluation_id, notice.version
            ),
        })
        .collect();
    store.notify(tenant, clock.now_ms(), &due).await?;
    Ok(())
}

/// The notice of a released evaluation version.
fn released_notice(agent_id: &str, evaluation_id: i64, version: i64) -> AgentNotice<'_> {
    AgentNotice {
        agent_id,
        evaluation_id,
        version,
        kind: "evaluation_released",
        subject: "An evaluation of your contact is ready to acknowledge".into(),
    }
}

/// One version of an evaluation as shown: its answers and their scores.
#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    #[serde(flatten)]
    pub record: EvaluationVersionRecord,
    pub answers: BTreeMap<String, GivenAnswer>,
    pub scored: Option<Scored>,
}

/// An evaluation with the form version it is pinned to, its versions
/// (oldest first), its disputes and, for an evaluator's evaluation, the
/// agent's self-assessment of the same contact.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationView {
    pub evaluation: EvaluationRecord,
    pub form_name: String,
    pub form: Form,
    pub versions: Vec<VersionView>,
    pub disputes: Vec<DisputeRecord>,
    pub self_assessment: Option<VersionView>,
    /// Whether the caller may dispute it now (the agent, within the window and cap).
    pub can_dispute: bool,
    pub can_acknowledge: bool,
}

fn version_view(form: &Form, record: EvaluationVersionRecord) -> VersionView {
    let answers: BTreeMap<String, GivenAnswer> =
        serde_json::from_str(&record.answers_json).unwrap_or_default();
    let scored = score(form, &plain_answers(&answers)).ok();
    VersionView {
        record,
        answers,
        scored,
    }
}

/// Whether the caller may see this evaluation (and which versions).
async fn visible(
    store: &Store,
    caller: &Caller,
    e: &EvaluationRecord,
) -> Result<bool, ServiceError> {
    if caller.role == Role::Agent {
        return Ok(caller.agent_id.as_deref() == Some(e.agent_id.as_str())
            && matches!(e.kind.as_str(), "human" | "automated" | "self"));
    }
    if !ScopeView::of(store, caller)
        .await?
        .sees(&e.agent_id, e.contact_arrival_ms)
    {
        return Ok(false);
    }
    // Calibration is blind: an evaluator of the session sees the others'
    // scores of a contact once they have scored it themselves.
    if let Some(session) = e.calibration_session_id
        && e.evaluator != caller.name
    {
        let mine = store
            .evaluations(
                caller.tenant,
                &EvaluationFilter {
                    calibration_session: Some(session),
                    contact: Some((&e.source_system, &e.contact_source_id)),
                    ..Default::default()
                },
            )
            .await?
            .iter()
            .any(|s| s.evaluation.evaluator == caller.name);
        let evaluator = store
            .calibration_sessions(caller.tenant)
            .await?
            .into_iter()
            .find(|s| s.id == session)
            .is_some_and(|s| session_of(s).evaluators.contains(&caller.name));
        if evaluator && !mine {
            return Ok(false);
        }
    }
    Ok(true)
}

pub async fn evaluation(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    id: i64,
) -> Result<EvaluationView, ServiceError> {
    caller.may_read(READERS)?;
    let (evaluation, versions) = store
        .evaluation(caller.tenant, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !visible(store, caller, &evaluation).await? {
        return Err(ServiceError::NotFound);
    }
    let history = form(store, caller, evaluation.form_id).await?;
    let form = history
        .version(evaluation.form_version)
        .ok_or(ServiceError::NotFound)?
        .form
        .clone();
    let agent = caller.role == Role::Agent;
    // An agent sees released versions of an evaluator's scores.
    let versions: Vec<VersionView> = versions
        .into_iter()
        .filter(|v| !agent || evaluation.kind == "self" || v.released_ms.is_some())
        .map(|v| version_view(&form, v))
        .collect();
    if versions.is_empty() {
        return Err(ServiceError::NotFound);
    }
    let self_assessment = if evaluation.kind == "self" {
        None
    } else {
        let same_contact = store
            .evaluations(
                caller.tenant,
                &EvaluationFilter {
                    contact: Some((&evaluation.source_system, &evaluation.contact_source_id)),
                    ..Default::default()
                },
            )
            .await?;
        same_contact
            .into_iter()
            .find(|e| {
                e.evaluation.kind == "self"
                    && e.evaluation.form_id == evaluation.form_id
                    && e.evaluation.form_version == evaluation.form_version
            })
            .map(|e| version_view(&form, e.latest))
    };
    let disputes = store.disputes(caller.tenant, Some(id)).await?;
    let latest = versions.last().map(|v| &v.record);
    let own = agent
        && caller.agent_id.as_deref() == Some(evaluation.agent_id.as_str())
        && evaluation.kind != "self";
    let can_acknowledge =
        own && latest.is_some_and(|v| v.released_ms.is_some() && v.acknowledged_ms.is_none());
    let can_dispute = own
        && dispute_refusal(store, clock, caller, &evaluation, latest, &disputes)
            .await?
            .is_none();
    Ok(EvaluationView {
        form_name: history.form.name,
        evaluation,
        form,
        versions,
        disputes,
        self_assessment,
        can_dispute,
        can_acknowledge,
    })
}

/// Evaluations the caller may see (an agent: their own released ones and
/// self-assessments; no calibration scores), newest contact first.
pub async fn evaluations(
    store: &Store,
    caller: &Caller,
    filter: EvaluationFilter<'_>,
) -> Result<Vec<EvaluationSummary>, ServiceError> {
    caller.may_read(READERS)?;
    let all = store.evaluations(caller.tenant, &filter).await?;
    let view = ScopeView::of(store, caller).await?;
    let agent = caller.role == Role::Agent;
    Ok(all
        .into_iter()
        .filter(|e| view.sees(&e.evaluation.agent_id, e.evaluation.contact_arrival_ms))
        .filter(|e| e.evaluation.calibration_session_id.is_none())
        .filter(|e| !agent || e.evaluation.kind == "self" || e.latest.released_ms.is_some())
        .collect())
}

/// The evaluations the caller may see of contacts that arrived on the
/// centre's local days `from` to `to`.
pub async fn evaluations_of_days(
    store: &Store,
    caller: &Caller,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<Vec<EvaluationSummary>, ServiceError> {
    let (bounds, _) = crate::contacts::local_days_ms(store, caller.tenant, from, to).await?;
    let filter = EvaluationFilter {
        arrival_ms: Some(bounds),
        ..Default::default()
    };
    evaluations(store, caller, filter).await
}

/// A re-score: a new version with its reason; the earlier ones stay.
pub async fn rescore(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    id: i64,
    answers: BTreeMap<String, GivenAnswer>,
    comment: Option<String>,
    reason: &str,
) -> Result<i64, ServiceError> {
    caller.require(EVALUATORS, "re-score an evaluation")?;
    if reason.trim().is_empty() {
        return Err(invalid("reason", "say why the evaluation is re-scored"));
    }
    let view = evaluation(store, clock, caller, id).await?;
    if view.evaluation.kind != "human" {
        return Err(invalid(
            "id",
            format!("a {} evaluation is not re-scored", view.evaluation.kind),
        ));
    }
    let mut record = version_record(caller, clock, id, &view.form, &answers, comment)?;
    record.reason = Some(reason.trim().into());
    let entry = audit_entry(
        caller,
        clock,
        "qa_evaluation.rescore",
        "qa_evaluation",
        id.to_string(),
        &record,
    );
    Ok(store
        .add_evaluation_version(caller.tenant, &record, &entry)
        .await?)
}

/// Releases the latest version of an evaluation to its agent.
pub async fn release(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    id: i64,
) -> Result<(), ServiceError> {
    caller.require(EVALUATORS, "release an evaluation")?;
    let view = evaluation(store, clock, caller, id).await?;
    if view.evaluation.kind != "human" {
        return Err(invalid(
            "id",
            format!("a {} evaluation is not released", view.evaluation.kind),
        ));
    }
    let version = view.versions.last().map_or(1, |v| v.record.version);
    let entry = audit_entry(
        caller,
        clock,
        "qa_evaluation.release",
        "qa_evaluation",
        id.to_string(),
        &version,
    );
    if !store
        .stamp_evaluation(caller.tenant, id, version, false, clock.now_ms(), &entry)
        .await?
    {
        return Err(invalid("id", "this version is already released"));
    }
    let notice = released_notice(&view.evaluation.agent_id, id, version);
    tell_agent(store, clock, caller.tenant, notice).await
}

/// The agent acknowledges the released latest version.
pub async fn acknowledge(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    id: i64,
) -> Result<(), ServiceError> {
    caller.require(&[Role::Agent], "acknowledge an evaluation")?;
    let view = evaluation(store, clock, caller, id).await?;
    if !view.can_acknowledge {
        return Err(invalid(
            "id",
            "there is nothing to acknowledge on this evaluation",
        ));
    }
    let version = view.versions.last().map_or(1, |v| v.record.version);
    let entry = audit_entry(
        caller,
        clock,
        "qa_evaluation.acknowledge",
        "qa_evaluation",
        id.to_string(),
        &version,
    );
    store
        .stamp_evaluation(caller.tenant, id, version, true, clock.now_ms(), &entry)
        .await?;
    Ok(())
}

/// The start of the calendar month of `ms` in `zone`, in UTC ms.
fn month_start_ms(ms: i64, zone: &jiff::tz::TimeZone) -> Option<i64> {
    let day = jiff::Timestamp::from_millisecond(ms)
        .ok()?
        .to_zoned(zone.clone())
        .date();
    let first = day.first_of_month();
    Some(
        first
            .to_zoned(zone.clone())
            .ok()?
            .timestamp()
            .as_millisecond(),
    )
}

/// Why the caller may not dispute the evaluation now, if they may not.
async fn dispute_refusal(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    evaluation: &EvaluationRecord,
    latest: Option<&EvaluationVersionRecord>,
    disputes: &[DisputeRecord],
) -> Result<Option<String>, ServiceError> {
    let Some(latest) = latest.filter(|v| v.released_ms.is_some()) else {
        return Ok(Some("it has not been released to you".into()));
    };
    if disputes.iter().any(|d| d.decision.is_none()) {
        return Ok(Some("a dispute of it is already open".into()));
    }
    let now = clock.now_ms();
    let released = latest.released_ms.unwrap_or(now);
    if now > released + DISPUTE_WINDOW_DAYS * DAY_MS {
        return Ok(Some(format!(
            "disputes are accepted for {DISPUTE_WINDOW_DAYS} days after release"
        )));
    }
    let zone = crate::time_zone(&store.centre(caller.tenant).await?.1)?;
    let month_start = month_start_ms(now, &zone).unwrap_or(now);
    let raised = store
        .disputes(caller.tenant, None)
        .await?
        .iter()
        .filter(|d| d.agent_id == evaluation.agent_id && d.raised_ms >= month_start)
        .count();
    if raised >= DISPUTES_PER_MONTH {
        return Ok(Some(format!(
            "at most {DISPUTES_PER_MONTH} disputes a month ({raised} raised this month)"
        )));
    }
    Ok(None)
}

/// The agent disputes questions of the latest released version, with a comment.
pub async fn dispute(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    id: i64,
    questions: &[String],
    comment: &str,
) -> Result<i64, ServiceError> {
    caller.require(&[Role::Agent], "dispute an evaluation")?;
    let view = evaluation(store, clock, caller, id).await?;
    if view.evaluation.kind == "self" {
        return Err(invalid("id", "a self-assessment is not disputed"));
    }
    let latest = view.versions.last().map(|v| &v.record);
    if let Some(reason) = dispute_refusal(
        store,
        clock,
        caller,
        &view.evaluation,
        latest,
        &view.disputes,
    )
    .await?
    {
        return Err(invalid(
            "id",
            format!("this evaluation cannot be disputed: {reason}"),
        ));
    }
    if comment.trim().is_empty() {
        return Err(invalid("comment", "say why you dispute the score"));
    }
    let questions: BTreeSet<&String> = questions.iter().collect();
    if questions.is_empty() {
        return Err(invalid("questions", "name the questions you dispute"));
    }
    if let Some(q) = questions.iter().find(|q| view.form.question(q).is_none()) {
        return Err(invalid(
            "questions",
            format!("{q:?} is not a question of this form"),
        ));
    }
    let record = DisputeRecord {
        id: 0,
        evaluation_id: id,
        evaluation_version: latest.map_or(1, |v| v.version),
        agent_id: view.evaluation.agent_id.clone(),
        questions_json: serde_json::to_string(&questions)
            .map_err(|e| invalid("questions", e.to_string()))?,
        comment: comment.trim().into(),
        raised_ms: clock.now_ms(),
        raised_by: caller.name.clone(),
        decision: None,
        decision_reason: None,
        decided_ms: None,
        decided_by: None,
        new_version: None,
    };
    let entry = audit_entry(
        caller,
        clock,
        "qa_dispute.raise",
        "qa_dispute",
        String::new(),
        &record,
    );
    Ok(store.add_dispute(caller.tenant, &record, &entry).await?)
}

/// A reviewer's decision on a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accepted,
    PartlyAccepted,
    Rejected,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accepted => "accepted",
            Decision::PartlyAccepted => "partly_accepted",
            Decision::Rejected => "rejected",
        }
    }
}

/// Decides a dispute. An accepted or partly accepted dispute gives new
/// answers to some of the disputed questions (all of them when accepted),
/// which become a new, released version of the evaluation. The evaluator
/// whose score is disputed does not decide.
pub async fn decide(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    dispute_id: i64,
    decision: Decision,
    reason: &str,
    new_answers: BTreeMap<String, String>,
) -> Result<Option<i64>, ServiceError> {
    caller.require(EVALUATORS, "decide a dispute")?;
    let dispute = store
        .disputes(caller.tenant, None)
        .await?
        .into_iter()
        .find(|d| d.id == dispute_id)
        .ok_or(ServiceError::NotFound)?;
    let view = evaluation(store, clock, caller, dispute.evaluation_id).await?;
    if dispute.decision.is_some() {
        return Err(invalid("dispute", "this dispute is already decided"));
    }
    if reason.trim().is_empty() {
        return Err(invalid("reason", "give the reason for the decision"));
    }
    let disputed = view
        .versions
        .iter()
        .find(|v| v.record.version == dispute.evaluation_version)
        .ok_or(ServiceError::NotFound)?;
    if disputed.record.created_by == caller.name {
        return Err(invalid(
            "dispute",
            "another reviewer decides a dispute of your own score",
        ));
    }
    let questions: BTreeSet<String> =
        serde_json::from_str(&dispute.questions_json).unwrap_or_default();
    if let Some(q) = new_answers.keys().find(|q| !questions.contains(*q)) {
        return Err(invalid("answers", format!("{q:?} was not disputed")));
    }
    match decision {
        Decision::Rejected if !new_answers.is_empty() => {
            return Err(invalid("answers", "a rejected dispute changes no answer"));
        }
        Decision::Accepted if new_answers.len() != questions.len() => {
            return Err(invalid(
                "answers",
                "an accepted dispute gives a new answer to every disputed question",
            ));
        }
        Decision::PartlyAccepted
            if new_answers.is_empty() || new_answers.len() == questions.len() =>
        {
            return Err(invalid(
                "answers",
                "a partly accepted dispute gives new answers to some, not all, disputed questions",
            ));
        }
        _ => {}
    }
    let new_version = if new_answers.is_empty() {
        None
    } else {
        let mut answers = disputed.answers.clone();
        for (q, answer) in &new_answers {
            let comment = answers.get(q).and_then(|a| a.comment.clone());
            answers.insert(
                q.clone(),
                GivenAnswer {
                    answer: answer.clone(),
                    comment,
                },
            );
        }
        let reason = format!(
            "dispute {dispute_id} {}: {}",
            decision.as_str().replace('_', " "),
            reason.trim()
        );
        let mut record = version_record(
            caller,
            clock,
            dispute.evaluation_id,
            &view.form,
            &answers,
            disputed.record.comment.clone(),
        )?;
        record.reason = Some(reason);
        record.released_ms = Some(clock.now_ms());
        Some(record)
    };
    let decided = DisputeRecord {
        decision: Some(decision.as_str().into()),
        decision_reason: Some(reason.trim().into()),
        decided_ms: Some(clock.now_ms()),
        decided_by: Some(caller.name.clone()),
        ..dispute
    };
    let entry = audit_entry(
        caller,
        clock,
        "qa_dispute.decide",
        "qa_dispute",
        dispute_id.to_string(),
        &(&decided, &new_version),
    );
    if !store
        .decide_dispute(caller.tenant, &decided, new_version.as_ref(), &entry)
        .await?
    {
        return Err(invalid("dispute", "this dispute is already decided"));
    }
    let number = new_version.map(|_| view.versions.last().map_or(1, |v| v.record.version) + 1);
    let notice = AgentNotice {
        agent_id: &view.evaluation.agent_id,
        evaluation_id: dispute.evaluation_id,
        version: number.unwrap_or(0),
        kind: "dispute_decided",
        subject: format!("Your dispute was {}", decision.as_str().replace('_', " ")),
    };
    tell_agent(store, clock, caller.tenant, notice).await?;
    Ok(number)
}

/// A calibration session with its contacts and evaluators.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationSession {
    #[serde(flatten)]
    pub record: CalibrationSessionRecord,
    pub contacts: Vec<(String, String)>,
    pub evaluators: Vec<String>,
}

fn session_of(record: CalibrationSessionRecord) -> CalibrationSession {
    CalibrationSession {
        contacts: serde_json::from_str(&record.contacts_json).unwrap_or_default(),
        evaluators: serde_json::from_str(&record.evaluators_json).unwrap_or_default(),
        record,
    }
}

pub async fn calibration_sessions(
    store: &Store,
    caller: &Caller,
) -> Result<Vec<CalibrationSession>, ServiceError> {
    caller.require(EVALUATORS, "read calibration sessions")?;
    Ok(store
        .calibration_sessions(caller.tenant)
        .await?
        .into_iter()
        .map(session_of)
        .collect())
}

pub async fn calibration_session(
    store: &Store,
    caller: &Caller,
    id: i64,
) -> Result<CalibrationSession, ServiceError> {
    calibration_sessions(store, caller)
        .await?
        .into_iter()
        .find(|s| s.record.id == id)
        .ok_or(ServiceError::NotFound)
}

/// Starts a calibration session: the evaluators (at least two users who
/// evaluate) score the contacts blind on the latest version of the form.
pub async fn start_calibration(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    name: &str,
    form_id: i64,
    contacts: Vec<(String, String)>,
    evaluators: Vec<String>,
) -> Result<i64, ServiceError> {
    caller.require(FORM_WRITERS, "start a calibration session")?;
    if name.trim().is_empty() {
        return Err(invalid("name", "a session needs a name"));
    }
    let history = form(store, caller, form_id).await?;
    let version = history.latest().ok_or(ServiceError::NotFound)?.version;
    let evaluators: Vec<String> = evaluators
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if evaluators.len() < 2 {
        return Err(invalid(
            "evaluators",
            "calibration needs at least two evaluators",
        ));
    }
    let users = store.users(caller.tenant).await?;
    for name in &evaluators {
        let ok = users.iter().any(|u| {
            &u.username == name
                && !u.disabled
                && Role::parse(&u.role).is_some_and(|r| EVALUATORS.contains(&r))
        });
        if !ok {
            return Err(invalid(
                "evaluators",
                format!("{name:?} is not a user who evaluates"),
            ));
        }
    }
    if contacts.is_empty() {
        return Err(invalid("contacts", "a session needs a contact"));
    }
    for (system, id) in &contacts {
        crate::contacts::contact(store, caller, system, id)
            .await
            .map_err(|_| {
                invalid(
                    "contacts",
                    format!("no contact {system}/{id} in your scope"),
                )
            })?;
    }
    let record = CalibrationSessionRecord {
        id: 0,
        name: name.trim().into(),
        form_id,
        form_version: version,
        contacts_json: serde_json::to_string(&contacts)
            .map_err(|e| invalid("contacts", e.to_string()))?,
        evaluators_json: serde_json::to_string(&evaluators)
            .map_err(|e| invalid("evaluators", e.to_string()))?,
        created_ms: clock.now_ms(),
        created_by: caller.name.clone(),
    };
    let entry = audit_entry(
        caller,
        clock,
        "qa_calibration.start",
        "qa_calibration_session",
        String::new(),
        &record,
    );
    Ok(store
        .add_calibration_session(caller.tenant, &record, &entry)
        .await?)
}

/// Agreement on one question (or, for `question` "form", on every answer).
#[derive(Debug, Clone, Serialize)]
pub struct QuestionAgreement {
    pub question: String,
    pub subjects: usize,
    /// Share of evaluator pairs giving the same answer (Fleiss' P̄; for
    /// two evaluators, the share of contacts they agree on).
    pub agreement: Option<f64>,
    pub kappa: Option<f64>,
    /// `cohen` for two evaluators, `fleiss` for more.
    pub statistic: &'static str,
}

/// One evaluator's lean: the mean of (their score − the mean of every
/// evaluator's score of the same contact). Positive is lenient, negative strict.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluatorBias {
    pub evaluator: String,
    pub contacts: usize,
    pub mean_score: Option<f64>,
    pub bias_points: Option<f64>,
}

/// A calibration session's statistics.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationReport {
    pub session: CalibrationSession,
    /// (evaluator, contact) pairs scored so far, of evaluators × contacts.
    pub scored: usize,
    pub expected: usize,
    /// Who has scored each contact of the session, in the session's order.
    pub scored_by: Vec<Vec<String>>,
    pub questions: Vec<QuestionAgreement>,
    pub form: QuestionAgreement,
    pub bias: Vec<EvaluatorBias>,
}

/// Agreement over subjects, each rated by the same evaluators in the same
/// order: Cohen's kappa for two evaluators, Fleiss' kappa for more.
fn agreement_of(question: &str, subjects: &[Vec<String>]) -> QuestionAgreement {
    let result: Option<RaterAgreement> = fleiss_kappa(&category_counts(subjects));
    let pairs: Option<Vec<(&String, &String)>> = subjects
        .iter()
        .map(|s| match s.as_slice() {
            [a, b] => Some((a, b)),
            _ => None,
        })
        .collect();
    let (kappa, statistic) = match pairs {
        Some(pairs) if !pairs.is_empty() => (cohen_kappa(&pairs), "cohen"),
        _ => (result.and_then(|r| r.kappa), "fleiss"),
    };
    QuestionAgreement {
        question: question.into(),
        subjects: subjects.len(),
        agreement: result.map(|r| r.agreement),
        kappa,
        statistic,
    }
}

/// Agreement per question and over the form (each contact × question a
/// subject, rated by every evaluator who scored the contact; only contacts
/// every evaluator scored count), and each evaluator's bias.
pub async fn calibration_report(
    store: &Store,
    caller: &Caller,
    id: i64,
) -> Result<CalibrationReport, ServiceError> {
    let session = calibration_session(store, caller, id).await?;
    let history = form(store, caller, session.record.form_id).await?;
    let form = history
        .version(session.record.form_version)
        .ok_or(ServiceError::NotFound)?
        .form
        .clone();
    let scores = store
        .evaluations(
            caller.tenant,
            &EvaluationFilter {
                calibration_session: Some(id),
                ..Default::default()
            },
        )
        .await?;
    let mut by_contact: BTreeMap<(String, String), BTreeMap<String, VersionView>> = BTreeMap::new();
    for s in scores {
        let view = version_view(&form, s.latest);
        by_contact
            .entry((s.evaluation.source_system, s.evaluation.contact_source_id))
            .or_default()
            .insert(s.evaluation.evaluator, view);
    }
    let scored = by_contact.values().map(BTreeMap::len).sum();
    let complete: Vec<&BTreeMap<String, VersionView>> = by_contact
        .values()
        .filter(|m| session.evaluators.iter().all(|e| m.contains_key(e)))
        .collect();
    let answer = |v: &VersionView, q: &str| {
        v.scored
            .as_ref()
            .and_then(|s| s.questions.iter().find(|x| x.key == q))
            .map(|x| x.answer.clone().unwrap_or_else(|| "(not shown)".into()))
    };
    let mut all_subjects = Vec::new();
    let mut questions = Vec::new();
    for (_, question) in form.questions() {
        let subjects: Vec<Vec<String>> = complete
            .iter()
            .filter_map(|m| {
                session
                    .evaluators
                    .iter()
                    .map(|e| answer(&m[e], &question.key))
                    .collect::<Option<Vec<_>>>()
            })
            .collect();
        all_subjects.extend(subjects.iter().cloned());
        questions.push(agreement_of(&question.key, &subjects));
    }
    let mut bias = Vec::new();
    for evaluator in &session.evaluators {
        let (mut own, mut deltas) = (Vec::new(), Vec::new());
        for m in by_contact.values() {
            let all: Vec<f64> = m.values().filter_map(|v| v.record.score).collect();
            if let Some(mine) = m.get(evaluator).and_then(|v| v.record.score) {
                own.push(mine);
                if all.len() >= 2 {
                    deltas.push(mine - all.iter().sum::<f64>() / all.len() as f64);
                }
            }
        }
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        bias.push(EvaluatorBias {
            evaluator: evaluator.clone(),
            contacts: own.len(),
            mean_score: mean(&own),
            bias_points: mean(&deltas),
        });
    }
    let scored_by = session
        .contacts
        .iter()
        .map(|c| {
            by_contact
                .get(c)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        })
        .collect();
    Ok(CalibrationReport {
        expected: session.contacts.len() * session.evaluators.len(),
        scored,
        scored_by,
        form: agreement_of("form", &all_subjects),
        questions,
        bias,
        session,
    })
}

/// Evaluations released to agents in the caller's scope that they have
/// not acknowledged yet, oldest release first.
pub async fn unacknowledged(
    store: &Store,
    caller: &Caller,
) -> Result<Vec<EvaluationSummary>, ServiceError> {
    caller.require(EVALUATORS, "list unacknowledged evaluations")?;
    let mut list: Vec<EvaluationSummary> = evaluations(store, caller, EvaluationFilter::default())
        .await?
        .into_iter()
        .filter(|e| e.latest.released_ms.is_some() && e.latest.acknowledged_ms.is_none())
        .collect();
    list.sort_by_key(|e| e.latest.released_ms);
    Ok(list)
}

/// What an evaluations import did: rows added, rows already stored (by
/// their source id), and a problem per refused row.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationImport {
    pub file: String,
    pub inserted: usize,
    pub unchanged: usize,
    pub problems: Vec<merit_import::RowProblem>,
}

/// Imports past or automated evaluations (docs/formats.md): each row is
/// checked against its form version and contact, scored, and stored with
/// the others in one transaction; a bad row is reported by line and field.
pub async fn import_evaluations(
    store: &Store,
    clock: &dyn Clock,
    caller: &Caller,
    path: &std::path::Path,
    display_name: Option<&str>,
) -> Result<EvaluationImport, ServiceError> {
    caller.require(FORM_WRITERS, "import evaluations")?;
    let file = display_name.map_or_else(|| path.display().to_string(), str::to_owned);
    let (rows, mut problems) =
        merit_import::quality_evaluations::read_evaluations(path).map_err(|e| e.named(&file))?;
    for p in &mut problems {
        p.file.clone_from(&file);
    }
    let mut stored: BTreeSet<String> = store
        .evaluation_source_ids(caller.tenant)
        .await?
        .into_iter()
        .collect();
    let mut forms: BTreeMap<String, FormHistory> = BTreeMap::new();
    for record in store.forms(caller.tenant).await? {
        let history = form(store, caller, record.id).await?;
        forms.insert(record.name.clone(), history);
    }
    let (mut new, mut unchanged) = (Vec::new(), 0);
    for row in rows {
        let refuse = |field: &str, reason: String| merit_import::RowProblem {
            file: file.clone(),
            line: row.line,
            field: field.into(),
            reason,
        };
        if stored.contains(&row.source_id) {
            unchanged += 1;
            continue;
        }
        let Some(history) = forms.get(&row.form) else {
            problems.push(refuse("form", format!("no form is named {:?}", row.form)));
            continue;
        };
        let version = match row.form_version {
            Some(v) => history.version(v),
            None => history.latest(),
        };
        let Some(version) = version else {
            problems.push(refuse(
                "form_version",
                format!("{:?} has no such version", row.form),
            ));
            continue;
        };
        let contact = match crate::contacts::contact(
            store,
            caller,
            &row.source_system,
            &row.contact_source_id,
        )
        .await
        {
            Ok(view) => view.contact,
            Err(ServiceError::NotFound) => {
                problems.push(refuse(
                    "contact_source_id",
                    format!("no contact {}/{}", row.source_system, row.contact_source_id),
                ));
                continue;
            }
            Err(other) => return Err(other),
        };
        let Some(agent_id) = contact.agent_id else {
            problems.push(refuse(
                "contact_source_id",
                "no agent handled this contact".into(),
            ));
            continue;
        };
        let scored = match score(&version.form, &row.answers) {
            Ok(scored) => scored,
            Err(e) => {
                problems.push(refuse("answers", e.to_string()));
                continue;
            }
        };
        let answers = given(&row.answers);
        let record = EvaluationRecord {
            id: 0,
            form_id: history.form.id,
            form_version: version.version,
            source_system: row.source_system,
            contact_source_id: row.contact_source_id,
            agent_id,
            kind: row.kind,
            method: row.method,
            evaluator: row.evaluator.clone(),
            contact_arrival_ms: contact.arrival_ms,
            calibration_session_id: None,
            source_id: Some(row.source_id.clone()),
            created_ms: row.evaluated_ms,
        };
        let first = EvaluationVersionRecord {
            evaluation_id: 0,
            version: 0,
            answers_json: serde_json::to_string(&answers)
                .map_err(|e| invalid("answers", e.to_string()))?,
            comment: row.comment,
            score: scored.score,
            auto_fail_by: scored.form_auto_fail.map(|a| a.by),
            created_ms: row.evaluated_ms,
            created_by: row.evaluator,
            reason: None,
            released_ms: row.released_ms,
            acknowledged_ms: row.acknowledged_ms,
        };
        let entry = audit_entry(
            caller,
            clock,
            "qa_evaluation.import",
            "qa_evaluation",
            String::new(),
            &(&record, &first),
        );
        stored.insert(row.source_id);
        new.push((record, first, entry));
    }
    store.add_evaluations(caller.tenant, &new).await?;
    Ok(EvaluationImport {
        file,
        inserted: new.len(),
        unchanged,
        problems,
    })
}

/// The facts the metrics engine reads for the QA score and auto-fail rate
/// KPIs: for each evaluator's evaluation (kind human, latest version) of a
/// contact that arrived in [from, to), its score (hundredths of a point)
/// and whether the form and each section auto-failed, linked to the
/// contact's row in `table` and dated by the contact's arrival.
pub(crate) async fn evaluation_facts(
    store: &Store,
    tenant: merit_domain::TenantId,
    arrival_ms: (i64, i64),
    table: &merit_domain::metrics::ContactTable,
) -> Result<Vec<merit_domain::metrics::SurveyFact>, ServiceError> {
    use merit_domain::metrics::SurveyFact;
    use merit_domain::metrics::compute::{QA_AUTO_FAIL, QA_SCORE, QA_WHOLE_FORM};
    let evaluations = store
        .evaluations(
            tenant,
            &EvaluationFilter {
                arrival_ms: Some(arrival_ms),
                ..Default::default()
            },
        )
        .await?;
    let mut forms: BTreeMap<(i64, i64), (String, Form)> = BTreeMap::new();
    let names: BTreeMap<i64, String> = store
        .forms(tenant)
        .await?
        .into_iter()
        .map(|f| (f.id, f.name))
        .collect();
    let human: Vec<_> = evaluations
        .iter()
        .filter(|e| e.evaluation.kind == "human")
        .collect();
    let contacts: Vec<(&str, &str)> = human
        .iter()
        .map(|e| {
            (
                e.evaluation.source_system.as_str(),
                e.evaluation.contact_source_id.as_str(),
            )
        })
        .collect();
    let mut facts = Vec::new();
    for (e, contact_row) in human.into_iter().zip(table.rows_of(&contacts)) {
        let key = (e.evaluation.form_id, e.evaluation.form_version);
        if !forms.contains_key(&key) {
            for v in store.form_versions(tenant, key.0).await? {
                let name = names.get(&v.form_id).cloned().unwrap_or_default();
                let version = FormVersion::try_from(v)?;
                forms.insert((version.form_id, version.version), (name, version.form));
            }
        }
        let Some((name, form)) = forms.get(&key) else {
            continue;
        };
        let Some(scored) = version_view(form, e.latest.clone()).scored else {
            continue;
        };
        let fact = |question_id: String, value: i64| SurveyFact {
            source_id: format!("evaluation:{}", e.evaluation.id),
            question_id,
            value: i32::try_from(value).unwrap_or(i32::MAX),
            answered_ms: e.evaluation.contact_arrival_ms,
            contact_row,
            agent_id: Some(e.evaluation.agent_id.clone()),
        };
        if let Some(points) = scored.score {
            facts.push(fact(
                format!("{QA_SCORE}{name}"),
                (points * 100.0).round() as i64,
            ));
        }
        let form_failed = scored.form_auto_fail.as_ref();
        facts.push(fact(
            format!("{QA_AUTO_FAIL}{name}:{QA_WHOLE_FORM}"),
            i64::from(form_failed.is_some()),
        ));
        for section in &scored.sections {
            let failed = section.auto_failed
                || form_failed.is_some_and(|a| {
                    a.level == merit_domain::quality::AutoFailLevel::Section && a.by == section.key
                });
            facts.push(fact(
                format!("{QA_AUTO_FAIL}{name}:{}", section.key),
                i64::from(failed),
            ));
        }
    }
    Ok(facts)
}
