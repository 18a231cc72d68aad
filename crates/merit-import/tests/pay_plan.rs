//! Incentive plans as TOML: the example programme loads and, fed SPEC.md's
//! worked-example figures, pays what SPEC.md says; a refused plan names its
//! line and field.

use merit_domain::metrics::Direction;
use merit_domain::pay::plan::Plan;
use merit_domain::pay::*;
use merit_import::pay_plan::parse_plan;
use std::str::FromStr;

const BALANCED: &str = include_str!("../../../docs/examples/balanced-inbound.toml");

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// The plan's bonus for an agent whose KPI values are `actual` (by
/// definition; `None` for not enough data), with the team's value.
fn pay(plan: &Plan, actual: &[(&str, Option<&str>)], team: &str, proration: Decimal) -> Decimal {
    let components: Vec<Component> = plan
        .kpis
        .iter()
        .map(|k| {
            let value = actual
                .iter()
                .find(|(name, _)| *name == k.definition)
                .unwrap()
                .1;
            let factor = value.map(|v| {
                let a = attainment(d(v), k.target.0, Direction::HigherIsBetter).unwrap();
                plan.curve_of(k.curve.as_ref()).factor(a)
            });
            Component {
                weight: k.weight.0,
                factor,
            }
        })
        .collect();
    let team_kpi = plan.team.as_ref().unwrap();
    let team_a = attainment(d(team), team_kpi.target.0, Direction::HigherIsBetter).unwrap();
    let inputs = BonusInputs {
        base: plan.base.0,
        individual_share: plan.individual_share.0,
        individual_score: individual_score(&components).unwrap().value,
        team_share: plan.team_share.unwrap().0,
        team_score: plan.curve_of(team_kpi.curve.as_ref()).factor(team_a),
        proration,
        cap: plan.cap.map(|c| c.0),
    };
    round_money(bonus(&inputs), 2)
}

#[test]
fn the_balanced_inbound_plan_pays_the_spec_worked_example() {
    let plan = parse_plan(BALANCED).unwrap();
    assert_eq!(plan.name, "Balanced inbound");
    assert_eq!((plan.kpis.len(), plan.gates.len()), (4, 2));
    assert_eq!(plan.kpis[0].minimum_sample, Some(20));
    let worked = [
        ("csat", Some("88")),
        ("fcr_repeat", Some("72")),
        ("qa_score", Some("90")),
        ("adherence", Some("92")),
    ];
    // SPEC.md: 167.60; without enough surveys for CSAT 162.00; employed
    // 15 of 20 working days 125.70.
    assert_eq!(pay(&plan, &worked, "78", Decimal::ONE), d("167.60"));
    let mut few_surveys = worked;
    few_surveys[0].1 = None;
    assert_eq!(pay(&plan, &few_surveys, "78", Decimal::ONE), d("162.00"));
    assert_eq!(pay(&plan, &worked, "78", proration(15, 20)), d("125.70"));
    // Gates: QA auto-fail rate at most 2 %, adherence at least 85 %.
    assert!(plan.gates[0].passes(d("1.5")) && !plan.gates[0].passes(d("2.5")));
    assert!(plan.gates[1].passes(d("92")) && !plan.gates[1].passes(d("84.9")));
}

fn refused(text: &str) -> (Option<usize>, String, String) {
    let e = parse_plan(text).unwrap_err();
    (e.line, e.field, e.reason)
}

#[test]
fn a_plan_that_breaks_a_rule_names_its_line_and_field() {
    // The third KPI's weight (qa_score) is on line 28 of the example.
    assert_eq!(BALANCED.lines().nth(27), Some("weight = \"0.25\""));
    let negative = BALANCED.replacen(
        "definition = \"qa_score\"\ntarget = \"85\"\nweight = \"0.25\"",
        "definition = \"qa_score\"\ntarget = \"85\"\nweight = \"-0.25\"",
        1,
    );
    let (line, field, reason) = refused(&negative);
    assert_eq!(
        (line, field.as_str()),
        (Some(28), "kpis[2].weight"),
        "{reason}"
    );
    // Weights that do not sum to 1 point at the first KPI.
    let (line, field, reason) =
        refused(&BALANCED.replace("weight = \"0.15\"", "weight = \"0.10\""));
    assert_eq!((line, field.as_str()), (Some(14), "kpis"));
    assert!(reason.contains("0.95"), "{reason}");
    // A float would not stay exact: refused at its line.
    let (line, _, reason) = refused(&BALANCED.replace("weight = \"0.35\"", "weight = 0.35"));
    assert_eq!(line, Some(17));
    assert!(reason.contains("as text"), "{reason}");
    let (_, field, _) = refused(&BALANCED.replace("team_share = \"0.2\"", "team_share = \"0.3\""));
    assert_eq!(field, "individual_share");
    let (line, _, reason) =
        refused(&BALANCED.replace("frequency = \"monthly\"", "frequency = \"daily\""));
    assert_eq!(line, Some(4));
    assert!(reason.contains("daily"), "{reason}");
}

#[test]
fn the_speed_sprint_is_warned_about_and_pays_only_at_or_under_300_seconds() {
    use merit_domain::metrics::Kpi;
    let sprint = parse_plan(include_str!("../../../docs/examples/speed-sprint.toml")).unwrap();
    let warnings = sprint.warnings(&Kpi::parse);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("aht") && warnings[0].contains("no quality guard"),
        "{warnings:?}"
    );
    assert!(
        parse_plan(BALANCED)
            .unwrap()
            .warnings(&Kpi::parse)
            .is_empty()
    );
    let kpi = &sprint.kpis[0];
    let curve = sprint.curve_of(kpi.curve.as_ref());
    let factor = |aht: &str| {
        curve.factor(attainment(d(aht), kpi.target.0, Direction::LowerIsBetter).unwrap())
    };
    // AHT 290 s: 300 ÷ 290 ≥ 1 → the whole 50.00; 300 s exactly too; 310 s nothing.
    assert_eq!(factor("290"), Decimal::ONE);
    assert_eq!(factor("300"), Decimal::ONE);
    assert_eq!(factor("310"), Decimal::ZERO);
    // A speed KPI guarded by a QA gate is not warned about.
    let guarded = format!(
        "{}\n[[gates]]\ndefinition = \"qa_score\"\nat_least = \"80\"\n",
        include_str!("../../../docs/examples/speed-sprint.toml")
    );
    assert!(
        parse_plan(&guarded)
            .unwrap()
            .warnings(&Kpi::parse)
            .is_empty()
    );
}

#[test]
fn sales_retention_pays_tiered_commission_and_claws_back_cancellations() {
    let plan = parse_plan(include_str!("../../../docs/examples/sales-retention.toml")).unwrap();
    let commission = plan.commission.as_ref().unwrap();
    // 25,000.00 retained: 4 % of 20,000 = 800 + 6 % of 5,000 = 300 → 1,100.00.
    assert_eq!(round_money(commission.on(d("25000.00")), 2), d("1100.00"));
    // 15,000.00: all below the quota, 4 % → 600.00.
    assert_eq!(round_money(commission.on(d("15000.00")), 2), d("600.00"));
    // 3,000.00 of the 25,000 cancelled: paid 1,100 − earned on 22,000
    // (800 + 6 % of 2,000 = 920) = 180.00 clawed back, at the top rate.
    assert_eq!(
        round_money(commission.clawback(d("25000.00"), d("3000.00")), 2),
        d("180.00")
    );
    assert_eq!(commission.clawback_days, Some(30));
    // Compliance never auto-failed: any auto-fail fails the gate.
    assert!(plan.gates[0].passes(d("0")) && !plan.gates[0].passes(d("0.5")));
    let (_, field, _) = refused(
        &include_str!("../../../docs/examples/sales-retention.toml")
            .replace("rate = \"0.04\"", "rate = \"4\""),
    );
    assert_eq!(field, "commission");
}
