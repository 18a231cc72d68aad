//! Statements computed from measured figures under the example plans:
//! SPEC.md's worked example to the cent through `statement`, minimum
//! samples, a failed gate, an open FCR window, system drops, commission
//! with its quota; and, as a property, pay never falls when a rewarded
//! KPI improves, all else equal.

use merit_domain::pay::plan::Plan;
use merit_domain::pay::statement::{
    Measure, PayCode, Statement, StatementInputs, Status, statement,
};
use merit_domain::pay::{Decimal, MINOR_DIGITS};
use merit_import::pay_plan::parse_plan;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::str::FromStr;

const BALANCED: &str = include_str!("../../../docs/examples/balanced-inbound.toml");
const SALES: &str = include_str!("../../../docs/examples/sales-retention.toml");

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// A percent figure: `n` of `den`.
fn percent(definition: &str, n: i64, den: i64) -> Measure {
    Measure {
        definition: definition.into(),
        versions: vec![1],
        numerator: n,
        denominator: Some(den),
        value: Some(Decimal::from(n) * Decimal::ONE_HUNDRED / Decimal::from(den)),
        unit: "percent".into(),
        lower_is_better: definition.ends_with("rate"),
        provisional: false,
    }
}

/// SPEC.md's worked example as measured figures: CSAT 88 of 100 answers,
/// FCR 72 of 100, QA 90 points over 4 evaluations, adherence 92 %, no
/// auto-fails; the team's service level 78 of 100.
fn worked_example() -> BTreeMap<String, Measure> {
    let mut qa = percent("qa_score", 36_000, 4);
    qa.unit = "qa_points".into();
    qa.value = Some(d("90"));
    [
        percent("csat", 88, 100),
        percent("fcr_repeat", 72, 100),
        qa,
        percent("adherence", 92, 100),
        percent("qa_auto_fail_rate", 0, 4),
    ]
    .into_iter()
    .map(|m| (m.definition.clone(), m))
    .collect()
}

fn run(plan: &Plan, measures: &BTreeMap<String, Measure>, days: (u32, u32)) -> Statement {
    statement(
        plan,
        &StatementInputs {
            agent_id: "a1",
            team_id: Some("team-a"),
            measure: &|name| measures.get(name).cloned(),
            team_measure: Some(percent("service_level", 78, 100)),
            eligible_days: days.0,
            working_days: days.1,
            minor_digits: MINOR_DIGITS,
            system_drops: 0,
            handled: 100,
            estimate: false,
            paid_this_year: Decimal::ZERO,
        },
    )
}

fn bonus(s: &Statement) -> String {
    s.lines
        .iter()
        .find(|l| l.code == PayCode::Bonus)
        .unwrap()
        .amount
        .to_string()
}

#[test]
fn the_worked_example_statement_pays_167_60_162_00_and_125_70() {
    let plan = parse_plan(BALANCED).unwrap();
    let measures = worked_example();
    let full = run(&plan, &measures, (20, 20));
    assert_eq!(bonus(&full), "167.60");
    assert_eq!(full.total, d("167.60"));
    assert_eq!(full.individual_score.unwrap().round_dp(5), d("1.17794"));
    assert!(full.components.iter().all(|c| c.status == Status::Scored));
    assert!(full.gates.iter().all(|g| g.passed));

    // 19 survey answers, below the plan's minimum of 20: CSAT is left out
    // and the other weights scaled up, never scored as zero.
    let mut few = measures.clone();
    few.insert("csat".into(), percent("csat", 17, 19));
    let renormalised = run(&plan, &few, (20, 20));
    assert_eq!(renormalised.components[0].status, Status::NotEnoughData);
    assert!(renormalised.renormalised);
    assert_eq!(
        renormalised.individual_score.unwrap().round_dp(5),
        d("1.13122")
    );
    assert_eq!(bonus(&renormalised), "162.00");

    // Employed 15 of 20 working days.
    assert_eq!(bonus(&run(&plan, &measures, (15, 20))), "125.70");
}

#[test]
fn a_failed_gate_pays_nothing_and_names_itself() {
    let plan = parse_plan(BALANCED).unwrap();
    let mut measures = worked_example();
    // 1 auto-fail in 4 evaluations: 25 % against "at most 2".
    measures.insert(
        "qa_auto_fail_rate".into(),
        percent("qa_auto_fail_rate", 1, 4),
    );
    let s = run(&plan, &measures, (20, 20));
    assert_eq!(bonus(&s), "0.00");
    assert!(!s.gates[0].passed);
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("gate qa_auto_fail_rate failed"))
    );
    // No evaluations at all: the gate is not applied, the bonus is paid.
    measures.remove("qa_auto_fail_rate");
    measures.remove("qa_score");
    let s = run(&plan, &measures, (20, 20));
    assert!(s.gates[0].passed);
    assert!(s.total > Decimal::ZERO);
}

#[test]
fn an_open_fcr_window_is_not_paid_on_but_an_estimate_scores_it() {
    let plan = parse_plan(BALANCED).unwrap();
    let mut measures = worked_example();
    measures.get_mut("fcr_repeat").unwrap().provisional = true;
    let s = run(&plan, &measures, (20, 20));
    assert_eq!(s.components[1].status, Status::WindowOpen);
    assert!(s.renormalised);
    // As an estimate the open window is scored as it stands: 167.60 again.
    let estimate = statement(
        &plan,
        &StatementInputs {
            agent_id: "a1",
            team_id: Some("team-a"),
            measure: &|name| measures.get(name).cloned(),
            team_measure: Some(percent("service_level", 78, 100)),
            eligible_days: 20,
            working_days: 20,
            minor_digits: MINOR_DIGITS,
            system_drops: 3,
            handled: 100,
            estimate: true,
            paid_this_year: Decimal::ZERO,
        },
    );
    assert_eq!(bonus(&estimate), "167.60");
    assert!(estimate.notes.iter().any(|n| n.ends_with(": 3")));
}

#[test]
fn commission_pays_4_percent_to_quota_and_6_above_when_the_gate_passes() {
    let plan = parse_plan(SALES).unwrap();
    // Retained value 25,000.00 EUR (in cents): 4 % of 20,000 + 6 % of
    // 5,000 = 800 + 300 = 1,100.00.
    let mut measures = BTreeMap::new();
    measures.insert(
        "retained_value".to_owned(),
        Measure {
            definition: "retained_value".into(),
            versions: vec![1],
            numerator: 2_500_000,
            denominator: None,
            value: Some(d("2500000")),
            unit: "minor_units".into(),
            lower_is_better: false,
            provisional: false,
        },
    );
    measures.insert(
        "qa_compliance_auto_fail".into(),
        percent("qa_compliance_auto_fail", 0, 6),
    );
    let s = run(&plan, &measures, (20, 20));
    assert_eq!(s.total, d("1100.00"));
    assert_eq!(s.lines.len(), 1);
    measures.insert(
        "qa_compliance_auto_fail".into(),
        percent("qa_compliance_auto_fail", 1, 6),
    );
    assert_eq!(run(&plan, &measures, (20, 20)).total, d("0.00"));
}

#[test]
fn the_cap_per_year_takes_back_what_is_over_it() {
    // 950.00 earned earlier in the year under a cap of 1,000.00: of this
    // month's 167.60 only 50.00 is paid; the cap line takes back 117.60.
    let plan = parse_plan(&BALANCED.replace(
        "cap = \"300.00\"",
        "cap = \"300.00\"\ncap_per_year = \"1000.00\"",
    ))
    .unwrap();
    let measures = worked_example();
    let statement = |paid: &str| {
        statement(
            &plan,
            &StatementInputs {
                agent_id: "a1",
                team_id: Some("team-a"),
                measure: &|name| measures.get(name).cloned(),
                team_measure: Some(percent("service_level", 78, 100)),
                eligible_days: 20,
                working_days: 20,
                minor_digits: MINOR_DIGITS,
                system_drops: 0,
                handled: 100,
                estimate: false,
                paid_this_year: d(paid),
            },
        )
    };
    let capped = statement("950.00");
    let cap_line = capped
        .lines
        .iter()
        .find(|l| l.code == PayCode::YearCap)
        .unwrap();
    assert_eq!(cap_line.amount, d("-117.60"));
    assert_eq!(capped.total, d("50.00"));
    assert_eq!(capped.earned(), d("50.00"));
    // Over the cap already: nothing; well under it: no cap line.
    assert_eq!(statement("1200.00").total, d("0.00"));
    assert!(
        statement("0")
            .lines
            .iter()
            .all(|l| l.code != PayCode::YearCap)
    );
}

#[test]
fn a_plan_can_pay_hours_of_paid_time_off_but_not_with_a_currency() {
    // Four hours at target: the worked example's score gives 4 × (0.8 ×
    // 1.17794 + 0.2 × 0.875) = 4.469408 → 4.47 hours.
    let hours = BALANCED
        .replace("currency = \"EUR\"", "reward = \"pto_hours\"")
        .replace("base = \"150.00\"", "base = \"4\"");
    let plan = parse_plan(&hours).unwrap();
    let s = run(&plan, &worked_example(), (20, 20));
    assert_eq!(s.currency, "HOURS");
    assert_eq!(s.total, d("4.47"));
    let both = BALANCED.replace(
        "currency = \"EUR\"",
        "currency = \"EUR\"\nreward = \"points\"",
    );
    let refused = parse_plan(&both).unwrap_err();
    assert_eq!(refused.field, "currency");
    assert_eq!(
        refused.line,
        Some(
            BALANCED
                .lines()
                .position(|l| l.starts_with("currency"))
                .unwrap()
                + 1
        )
    );
}

proptest! {
    /// Pay never falls when a rewarded KPI improves, all else equal.
    #[test]
    fn pay_never_falls_as_a_kpi_improves(
        csat in 0i64..=100, fcr in 0i64..=100, adherence in 85i64..=100,
        kpi in 0usize..3, better in 0i64..=40,
    ) {
        let plan = parse_plan(BALANCED).unwrap();
        let mut measures = worked_example();
        measures.insert("csat".into(), percent("csat", csat, 100));
        measures.insert("fcr_repeat".into(), percent("fcr_repeat", fcr, 100));
        measures.insert("adherence".into(), percent("adherence", adherence, 100));
        let before = run(&plan, &measures, (20, 20)).total;
        let name = ["csat", "fcr_repeat", "adherence"][kpi];
        let old = measures[name].numerator;
        measures.insert(name.into(), percent(name, (old + better).min(100), 100));
        let after = run(&plan, &measures, (20, 20)).total;
        prop_assert!(after >= before, "{name}: {before} then {after}");
    }
}
