//! The demo's quality plan: deterministic, every planned answer valid on
//! the form, the strict specialist visibly stricter than the lenient one on
//! the same calls, and disputes inside the window.

use merit_domain::quality::{Form, score};
use merit_sim::quality::{QualityPlan, Scorer, plan_quality, sampled_for_quality};
use merit_sim::{Collected, ScenarioConfig, simulate_centre};

const FORM: &str = include_str!("../../../docs/examples/inbound-call-quality.toml");
const DAY_MS: i64 = 86_400_000;

fn simulated_plan() -> (Form, QualityPlan) {
    let config = ScenarioConfig {
        days: 42,
        agents: 24,
        ..ScenarioConfig::default()
    };
    let mut collected = Collected::default();
    simulate_centre(&config, &mut collected);
    let sampled: Vec<_> = collected
        .contacts
        .into_iter()
        .filter(|c| sampled_for_quality(c, config.seed))
        .collect();
    let end_ms = sampled.iter().map(|c| c.end_ms).max().unwrap();
    let form = merit_import::quality_form::parse_form(FORM).unwrap();
    let plan = plan_quality(&form, &sampled, config.seed, end_ms);
    (form, plan)
}

fn score_of(form: &Form, answers: &std::collections::BTreeMap<String, String>) -> f64 {
    score(form, answers)
        .expect("planned answers are on the form")
        .score
        .unwrap_or(0.0)
}

#[test]
fn the_plan_is_valid_deterministic_and_the_strict_specialist_is_strict() {
    let (form, plan) = simulated_plan();
    let (_, again) = simulated_plan();
    assert!(
        plan.evaluations.len() >= 40,
        "{} evaluations",
        plan.evaluations.len()
    );
    assert!(!plan.self_assessments.is_empty());
    assert!(plan.calibrations.len() >= 2);
    let answers =
        |p: &QualityPlan| -> Vec<_> { p.evaluations.iter().map(|e| e.answers.clone()).collect() };
    assert_eq!(answers(&plan), answers(&again));

    for e in plan.evaluations.iter().chain(&plan.self_assessments) {
        score_of(&form, &e.answers);
    }
    // On the same calls, the strict specialist scores at least 10 points
    // lower than the lenient one in every session: with two evaluators each
    // leans half of that from their mean, which the calibration page calls
    // strict (5 points or more below).
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    for session in &plan.calibrations {
        let (mut lenient, mut strict) = (Vec::new(), Vec::new());
        for s in &session.scores {
            let points = score_of(&form, &s.answers);
            match s.scorer {
                Scorer::Lenient => lenient.push(points),
                Scorer::Strict => strict.push(points),
                Scorer::Agent => unreachable!("agents do not calibrate"),
            }
        }
        assert_eq!(lenient.len(), strict.len());
        let gap = mean(&lenient) - mean(&strict);
        assert!(
            gap >= 10.0,
            "{}: lenient {} strict {}",
            session.name,
            mean(&lenient),
            mean(&strict)
        );
    }

    let disputed: Vec<_> = plan
        .evaluations
        .iter()
        .filter(|e| e.dispute.is_some())
        .collect();
    assert!(!disputed.is_empty());
    for e in disputed {
        let d = e.dispute.as_ref().unwrap();
        assert!(d.at_ms > e.at_ms && d.at_ms - e.at_ms <= 7 * DAY_MS);
        assert!(d.decided_ms > d.at_ms);
        assert!(form.question(&d.question).is_some());
    }
}
