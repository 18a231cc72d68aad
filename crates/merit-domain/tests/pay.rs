//! Incentive arithmetic against SPEC.md's worked example and hand-computed
//! curves; pay never falls as attainment rises (proptest).

use merit_domain::metrics::Direction;
use merit_domain::pay::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn f(actual: &str, target: &str) -> Decimal {
    let a = attainment(d(actual), d(target), Direction::HigherIsBetter).unwrap();
    PayCurve::spec_default().factor(a)
}

/// SPEC.md, "Balanced inbound": CSAT 88 % vs 85 %, FCR 72 vs 75, QA 90 vs
/// 85, adherence 92 vs 90 weighted 0.35, 0.25, 0.25, 0.15; team service
/// level 78 vs 80; base 150.00, 80 % individual, 20 % team, cap 300.00.
fn worked_example(csat: Option<Decimal>, proration: Decimal) -> Decimal {
    let components = [
        Component {
            weight: d("0.35"),
            factor: csat,
        },
        Component {
            weight: d("0.25"),
            factor: Some(f("72", "75")),
        },
        Component {
            weight: d("0.25"),
            factor: Some(f("90", "85")),
        },
        Component {
            weight: d("0.15"),
            factor: Some(f("92", "90")),
        },
    ];
    let score = individual_score(&components).unwrap();
    assert_eq!(score.renormalised, csat.is_none());
    let inputs = BonusInputs {
        base: d("150.00"),
        individual_share: d("0.8"),
        individual_score: score.value,
        team_share: d("0.2"),
        team_score: f("78", "80"),
        proration,
        cap: Some(d("300.00")),
    };
    round_money(bonus(&inputs), 2)
}

#[test]
fn the_spec_worked_example_pays_167_60_162_00_and_125_70() {
    // a = 88/85 = 1.0353 → f = 1 + 1.5 × 0.0353 ÷ 0.20 = 1.2647 (4 places).
    assert_eq!(f("88", "85").round_dp(4), d("1.2647"));
    assert_eq!(f("72", "75"), d("0.80"));
    assert_eq!(f("90", "85").round_dp(4), d("1.4412"));
    assert_eq!(f("92", "90").round_dp(4), d("1.1667"));
    assert_eq!(f("78", "80"), d("0.875"));
    let full = worked_example(Some(f("88", "85")), Decimal::ONE);
    assert_eq!(full, d("167.60"));
    // Too few surveys for CSAT: the other weights scaled to sum to 1.
    assert_eq!(worked_example(None, Decimal::ONE), d("162.00"));
    // Employed 15 of 20 working days.
    assert_eq!(
        worked_example(Some(f("88", "85")), proration(15, 20)),
        d("125.70")
    );
}

#[test]
fn the_individual_score_with_too_few_surveys_is_1_13122() {
    let components = [
        Component {
            weight: d("0.35"),
            factor: None,
        },
        Component {
            weight: d("0.25"),
            factor: Some(f("72", "75")),
        },
        Component {
            weight: d("0.25"),
            factor: Some(f("90", "85")),
        },
        Component {
            weight: d("0.15"),
            factor: Some(f("92", "90")),
        },
    ];
    // (0.25 × 0.80 + 0.25 × 1.44118 + 0.15 × 1.16667) ÷ 0.65 = 1.13122.
    assert_eq!(
        individual_score(&components).unwrap().value.round_dp(5),
        d("1.13122")
    );
    assert_eq!(
        individual_score(&[Component {
            weight: d("1"),
            factor: None
        }]),
        None
    );
}

#[test]
fn lower_is_better_attainment_inverts_the_ratio() {
    // AHT 300 s against a target of 330 s: 330 ÷ 300 = 1.1.
    assert_eq!(
        attainment(d("300"), d("330"), Direction::LowerIsBetter),
        Some(d("1.1"))
    );
    assert_eq!(attainment(d("0"), d("330"), Direction::LowerIsBetter), None);
}

#[test]
fn each_curve_shape_floor_and_cap() {
    let curve = |shape, floor: Option<&str>, cap: Option<&str>| PayCurve {
        shape,
        floor: floor.map(d),
        cap: cap.map(d),
    };
    let default = PayCurve::spec_default();
    // Below 0.80 nothing; 0.90 halfway: 0.5; 1.20: 1 + 1.5 × 0.2 ÷ 0.2 = 2.5.
    assert_eq!(default.factor(d("0.79")), Decimal::ZERO);
    assert_eq!(default.factor(d("0.90")), d("0.5"));
    assert_eq!(default.factor(d("1.20")), d("2.5"));
    let steps = CurveShape::Steps {
        steps: vec![
            (d("0.9"), d("0.5")),
            (d("1.0"), d("1")),
            (d("1.1"), d("1.5")),
        ],
    };
    let steps = curve(steps, None, None);
    assert_eq!(steps.factor(d("0.89")), Decimal::ZERO);
    assert_eq!(steps.factor(d("0.95")), d("0.5"));
    assert_eq!(steps.factor(d("1.0")), d("1"));
    assert_eq!(steps.factor(d("1.3")), d("1.5"));
    let points = CurveShape::Linear {
        points: vec![(d("0.8"), d("0")), (d("1.0"), d("1")), (d("1.2"), d("1.2"))],
    };
    // 0.9: halfway up the first segment; 1.1: 1 + 0.2 × 0.1 ÷ 0.2 = 1.1 (a decelerator).
    let linear = curve(points.clone(), None, None);
    assert_eq!(linear.factor(d("0.9")), d("0.5"));
    assert_eq!(linear.factor(d("1.1")), d("1.1"));
    assert_eq!(linear.factor(d("2")), d("1.2"));
    let bounded = curve(points, Some("0.2"), Some("1.05"));
    assert_eq!(bounded.factor(d("0.5")), d("0.2"));
    assert_eq!(bounded.factor(d("1.1")), d("1.05"));
    assert!(
        curve(
            CurveShape::Steps {
                steps: vec![(d("1"), d("1")), (d("0.9"), d("0.5"))]
            },
            None,
            None
        )
        .check()
        .is_err()
    );
    assert!(
        curve(
            CurveShape::Linear {
                points: vec![(d("1"), d("1"))]
            },
            Some("2"),
            Some("1")
        )
        .check()
        .is_err()
    );
}

#[test]
fn the_cap_is_prorated_and_money_rounds_half_to_even() {
    let inputs = BonusInputs {
        base: d("150"),
        individual_share: d("1"),
        individual_score: d("3"),
        team_share: d("0"),
        team_score: d("0"),
        proration: d("0.5"),
        cap: Some(d("300")),
    };
    // 150 × 3 × 0.5 = 225, capped at 300 × 0.5 = 150.
    assert_eq!(bonus(&inputs), d("150"));
    assert_eq!(round_money(d("0.125"), 2), d("0.12"));
    assert_eq!(round_money(d("0.135"), 2), d("0.14"));
    assert_eq!(proration(25, 20), Decimal::ONE);
    assert_eq!(proration(3, 0), Decimal::ZERO);
}

proptest! {
    /// Pay never falls when a rewarded KPI improves, all else equal.
    #[test]
    fn the_default_curve_never_falls(a in 0u32..3000, step in 0u32..500) {
        let curve = PayCurve::spec_default();
        let (low, high) = (Decimal::new(a.into(), 3), Decimal::new((a + step).into(), 3));
        prop_assert!(curve.factor(low) <= curve.factor(high));
    }
}
