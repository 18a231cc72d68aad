//! Quality scoring: scorecard forms (sections, weighted questions, answer
//! scales, N/A, auto-fail, bonus and conditional questions), the checks a
//! form must pass before it is published, and the QA score of one set of
//! answers (docs/metrics.md, "QA score"). Agreement statistics for
//! calibration are in [`agreement`], the sampling of contacts to evaluate
//! in [`sampling`].

pub mod agreement;
pub mod sampling;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The scale a question is answered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnswerScale {
    #[serde(rename = "yes_no")]
    YesNo,
    #[serde(rename = "pass_fail")]
    PassFail,
    #[serde(rename = "1-5")]
    OneToFive,
    /// 0 to the question's `max_points`.
    #[serde(rename = "points")]
    Points,
}

impl AnswerScale {
    pub const ALL: [AnswerScale; 4] = [
        AnswerScale::YesNo,
        AnswerScale::PassFail,
        AnswerScale::OneToFive,
        AnswerScale::Points,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnswerScale::YesNo => "yes_no",
            AnswerScale::PassFail => "pass_fail",
            AnswerScale::OneToFive => "1-5",
            AnswerScale::Points => "points",
        }
    }
}

/// What an auto-fail question sets to zero when it gets its lowest answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoFailLevel {
    Section,
    Form,
}

/// A question shown only when an earlier question got a given answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShownWhen {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub key: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
    pub scale: AnswerScale,
    /// The top of a `points` scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_points: Option<i64>,
    /// The question's weight in its section (not used by bonus questions).
    #[serde(default)]
    pub weight: i64,
    /// Whether "n/a" is an allowed answer (it leaves the question out of the score).
    #[serde(default)]
    pub allow_na: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_fail: Option<AutoFailLevel>,
    /// A bonus question adds up to this many points to the form's score,
    /// in proportion to its answer, and is not part of the base score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_points: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_when: Option<ShownWhen>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub key: String,
    pub title: String,
    /// The section's weight in the form. Either every section has one or
    /// none does; without them each section weighs the sum of its answered
    /// questions' weights, which makes the form score SPEC.md's flat formula.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    /// Section-level auto-fail: a section score below this sets the form to 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_fail_below: Option<i64>,
    pub questions: Vec<Question>,
}

/// A scorecard form as published (one version of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub sections: Vec<Section>,
}

/// Where in a form a problem is: `section` and `question` are 0-based indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FormPlace {
    pub section: Option<usize>,
    pub question: Option<usize>,
    pub field: &'static str,
}

/// A rule a form breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{reason}")]
pub struct FormError {
    pub place: FormPlace,
    pub reason: String,
}

/// A rule a set of answers breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("question {question}: {reason}")]
pub struct AnswerError {
    pub question: String,
    pub reason: String,
}

/// The answer "not applicable".
pub const NOT_APPLICABLE: &str = "n/a";

impl Question {
    pub fn is_bonus(&self) -> bool {
        self.bonus_points.is_some()
    }

    /// The answers this question accepts, lowest first (without "n/a").
    pub fn answers(&self) -> Vec<String> {
        match self.scale {
            AnswerScale::YesNo => vec!["no".into(), "yes".into()],
            AnswerScale::PassFail => vec!["fail".into(), "pass".into()],
            AnswerScale::OneToFive => (1..=5).map(|v| v.to_string()).collect(),
            AnswerScale::Points => (0..=self.max_points.unwrap_or(0))
                .map(|v| v.to_string())
                .collect(),
        }
    }

    /// An answer's place on the scale from 0 (lowest) to 1 (highest);
    /// `Ok(None)` for "n/a" where allowed.
    pub fn value_of(&self, answer: &str) -> Result<Option<f64>, AnswerError> {
        let answer = answer.trim();
        if answer.eq_ignore_ascii_case(NOT_APPLICABLE) {
            return if self.allow_na {
                Ok(None)
            } else {
                Err(self.refuse("n/a is not allowed on this question".into()))
            };
        }
        let answers = self.answers();
        let position = answers
            .iter()
            .position(|a| a.eq_ignore_ascii_case(answer))
            .ok_or_else(|| {
                self.refuse(format!(
                    "{answer:?} is not on its scale ({}{})",
                    answers.join(", "),
                    if self.allow_na { ", n/a" } else { "" }
                ))
            })?;
        Ok(Some(position as f64 / (answers.len() - 1) as f64))
    }

    fn refuse(&self, reason: String) -> AnswerError {
        AnswerError {
            question: self.key.clone(),
            reason,
        }
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl Form {
    /// Every question, in order, with its section's index.
    pub fn questions(&self) -> impl Iterator<Item = (usize, &Question)> {
        self.sections
            .iter()
            .enumerate()
            .flat_map(|(s, section)| section.questions.iter().map(move |q| (s, q)))
    }

    pub fn question(&self, key: &str) -> Option<&Question> {
        self.questions().map(|(_, q)| q).find(|q| q.key == key)
    }

    /// Checks the rules a form must keep before it is published.
    pub fn check(&self) -> Result<(), FormError> {
        let fail = |section: Option<usize>, question: Option<usize>, field, reason: String| {
            Err(FormError {
                place: FormPlace {
                    section,
                    question,
                    field,
                },
                reason,
            })
        };
        if self.name.trim().is_empty() {
            return fail(None, None, "name", "a form needs a name".into());
        }
        if self.sections.is_empty() {
            return fail(None, None, "sections", "a form needs a section".into());
        }
        let weighted = self.sections.iter().filter(|s| s.weight.is_some()).count();
        if weighted != 0 && weighted != self.sections.len() {
            return fail(
                None,
                None,
                "weight",
                "give every section a weight, or none".into(),
            );
        }
        let mut keys: Vec<&str> = Vec::new();
        let mut base_weight = 0i64;
        for (s, section) in self.sections.iter().enumerate() {
            let here = Some(s);
            if !valid_key(&section.key) || keys.contains(&section.key.as_str()) {
                return fail(
                    here,
                    None,
                    "key",
                    format!(
                        "section key {:?} is empty, repeated or not lowercase letters, digits, _ and -",
                        section.key
                    ),
                );
            }
            keys.push(&section.key);
            if section.questions.is_empty() {
                return fail(here, None, "questions", "a section needs a question".into());
            }
            if let Some(w) = section.weight
                && w <= 0
            {
                return fail(
                    here,
                    None,
                    "weight",
                    format!("a section weight must be above 0, not {w}"),
                );
            }
            if let Some(below) = section.auto_fail_below
                && !(1..=100).contains(&below)
            {
                return fail(
                    here,
                    None,
                    "auto_fail_below",
                    format!("{below} is not a score from 1 to 100"),
                );
            }
            let mut section_weight = 0i64;
            for (q, question) in section.questions.iter().enumerate() {
                let at = |field, reason| fail(here, Some(q), field, reason);
                if !valid_key(&question.key) || keys.contains(&question.key.as_str()) {
                    return at(
                        "key",
                        format!(
                            "question key {:?} is empty, repeated or not lowercase letters, digits, _ and -",
                            question.key
                        ),
                    );
                }
                if question.text.trim().is_empty() {
                    return at("text", "a question needs its text".into());
                }
                match (question.scale, question.max_points) {
                    (AnswerScale::Points, None) => {
                        return at("max_points", "a points question needs max_points".into());
                    }
                    (AnswerScale::Points, Some(max)) if !(1..=1000).contains(&max) => {
                        return at("max_points", format!("{max} is not from 1 to 1000"));
                    }
                    (AnswerScale::Points, Some(_)) | (_, None) => {}
                    (_, Some(_)) => {
                        return at("max_points", "only a points question has max_points".into());
                    }
                }
                if question.weight < 0 {
                    return at(
                        "weight",
                        format!("a weight cannot be negative ({})", question.weight),
                    );
                }
                if let Some(points) = question.bonus_points {
                    if points <= 0 {
                        return at(
                            "bonus_points",
                            format!("bonus points must be above 0, not {points}"),
                        );
                    }
                    if question.auto_fail.is_some() {
                        return at("auto_fail", "a bonus question cannot auto-fail".into());
                    }
                    if question.weight != 0 {
                        return at(
                            "weight",
                            "a bonus question has bonus_points, not a weight".into(),
                        );
                    }
                } else {
                    section_weight += question.weight;
                }
                if let Some(condition) = &question.shown_when {
                    let Some(earlier) = self
                        .questions()
                        .map(|(_, q)| q)
                        .take_while(|q| q.key != question.key)
                        .find(|q| q.key == condition.question)
                    else {
                        return at(
                            "shown_when",
                            format!(
                                "{:?} is not an earlier question of this form",
                                condition.question
                            ),
                        );
                    };
                    if let Err(e) = earlier.value_of(&condition.answer) {
                        return at("shown_when", e.to_string());
                    }
                }
                keys.push(&question.key);
            }
            if section.weight.is_some() && section_weight == 0 {
                return fail(
                    here,
                    None,
                    "weight",
                    "the weights of this section's questions sum to zero".into(),
                );
            }
            base_weight += section_weight;
        }
        if base_weight == 0 {
            return fail(
                None,
                None,
                "weight",
                "the question weights sum to zero: nothing would be scored".into(),
            );
        }
        Ok(())
    }
}

/// The score of one question in a scored evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionScore {
    pub key: String,
    /// The answer as given ("n/a" included); `None` when the question was
    /// not shown (its condition was not met).
    pub answer: Option<String>,
    /// The answer's place on its scale, 0 to 100; `None` for n/a or not shown.
    pub score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionScore {
    pub key: String,
    /// 0 to 100; `None` when every question was n/a or not shown.
    pub score: Option<f64>,
    pub auto_failed: bool,
}

/// Which question or section set the form to 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutoFail {
    pub level: AutoFailLevel,
    /// The question key, or the section key for a section-level auto-fail.
    pub by: String,
}

/// The QA score of one set of answers on a form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Base plus bonus, 0 when the form auto-failed; `None` when nothing
    /// scored was answered (all n/a).
    pub score: Option<f64>,
    pub base: Option<f64>,
    pub bonus: f64,
    /// The first auto-fail that set the whole form to 0.
    pub form_auto_fail: Option<AutoFail>,
    pub sections: Vec<SectionScore>,
    pub questions: Vec<QuestionScore>,
}

/// Scores answers (question key → answer text) on a checked form: SPEC.md's
/// QA score, Σ(question score × weight) ÷ Σ weight over answered, not-n/a
/// questions, 0-100, with auto-fail and bonus (docs/metrics.md).
/// Every shown question needs an answer; answers to questions whose
/// condition is not met are left out, as the form did not ask them.
pub fn score(form: &Form, answers: &BTreeMap<String, String>) -> Result<Scored, AnswerError> {
    if let Some(unknown) = answers.keys().find(|k| form.question(k).is_none()) {
        return Err(AnswerError {
            question: unknown.clone(),
            reason: "not a question of this form".into(),
        });
    }
    let mut questions: Vec<QuestionScore> = Vec::new();
    let mut sections = Vec::new();
    let mut form_auto_fail = None;
    let mut bonus = 0.0;
    // (section weight, section score) of sections with a score.
    let mut weighted: Vec<(f64, f64)> = Vec::new();
    for section in &form.sections {
        let (mut sum, mut weight_sum) = (0.0, 0i64);
        let mut section_failed = false;
        for question in &section.questions {
            let shown = question.shown_when.as_ref().is_none_or(|c| {
                questions.iter().any(|q| {
                    q.key == c.question
                        && q.answer
                            .as_deref()
                            .is_some_and(|a| a.eq_ignore_ascii_case(c.answer.trim()))
                })
            });
            if !shown {
                questions.push(QuestionScore {
                    key: question.key.clone(),
                    answer: None,
                    score: None,
                });
                continue;
            }
            let answer = answers.get(&question.key).ok_or_else(|| {
                question.refuse("no answer (give n/a if it does not apply)".into())
            })?;
            let value = question.value_of(answer)?;
            if let Some(value) = value {
                if let Some(points) = question.bonus_points {
                    bonus += points as f64 * value;
                } else {
                    sum += value * question.weight as f64;
                    weight_sum += question.weight;
                }
                if value == 0.0 {
                    match question.auto_fail {
                        Some(AutoFailLevel::Section) => section_failed = true,
                        Some(AutoFailLevel::Form) if form_auto_fail.is_none() => {
                            form_auto_fail = Some(AutoFail {
                                level: AutoFailLevel::Form,
                                by: question.key.clone(),
                            })
                        }
                        _ => {}
                    }
                }
            }
            questions.push(QuestionScore {
                key: question.key.clone(),
                answer: Some(answer.trim().to_lowercase()),
                score: value.map(|v| v * 100.0),
            });
        }
        let score = if section_failed {
            Some(0.0)
        } else {
            (weight_sum > 0).then(|| 100.0 * sum / weight_sum as f64)
        };
        if let (Some(below), Some(score)) = (section.auto_fail_below, score)
            && score < below as f64
            && form_auto_fail.is_none()
        {
            form_auto_fail = Some(AutoFail {
                level: AutoFailLevel::Section,
                by: section.key.clone(),
            });
        }
        if let Some(score) = score {
            let weight = section.weight.unwrap_or(weight_sum) as f64;
            weighted.push((weight, score));
        }
        sections.push(SectionScore {
            key: section.key.clone(),
            score,
            auto_failed: section_failed,
        });
    }
    let total_weight: f64 = weighted.iter().map(|(w, _)| w).sum();
    let base = (total_weight > 0.0)
        .then(|| weighted.iter().map(|(w, s)| w * s).sum::<f64>() / total_weight);
    let score = if form_auto_fail.is_some() {
        Some(0.0)
    } else {
        base.map(|b| b + bonus)
    };
    Ok(Scored {
        score,
        base,
        bonus,
        form_auto_fail,
        sections,
        questions,
    })
}
