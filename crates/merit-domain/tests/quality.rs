//! QA scoring and agreement statistics against hand computations and
//! published worked examples. Each scoring case is one line of fixture:
//! the answers, then the score the working in its comment gives.

use merit_domain::quality::agreement::{category_counts, cohen_kappa, fleiss_kappa, pearson};
use merit_domain::quality::*;
use std::collections::BTreeMap;

fn question(key: &str, scale: AnswerScale, weight: i64) -> Question {
    Question {
        key: key.into(),
        text: format!("Question {key}?"),
        guidance: None,
        scale,
        max_points: (scale == AnswerScale::Points).then_some(10),
        weight,
        allow_na: false,
        auto_fail: None,
        bonus_points: None,
        shown_when: None,
    }
}

fn section(key: &str, questions: Vec<Question>) -> Section {
    Section {
        key: key.into(),
        title: key.to_uppercase(),
        weight: None,
        auto_fail_below: None,
        questions,
    }
}

fn form(sections: Vec<Section>) -> Form {
    let form = Form {
        name: "Test form".into(),
        description: None,
        sections,
    };
    form.check().expect("the test form is valid");
    form
}

fn answers(text: &str) -> BTreeMap<String, String> {
    text.split_whitespace()
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("key=answer");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn check(form: &Form, given: &str, expected: Option<f64>) {
    let scored = score(form, &answers(given)).expect("answers are valid");
    match (scored.score, expected) {
        (Some(got), Some(want)) => assert!(
            (got - want).abs() < 1e-9,
            "{given}: score {got}, expected {want}"
        ),
        (got, want) => assert_eq!(got, want, "{given}"),
    }
}

/// a: yes/no weight 2; b: 1-5 weight 3, n/a allowed; c: 0-10 points weight 5.
fn na_form() -> Form {
    let mut b = question("b", AnswerScale::OneToFive, 3);
    b.allow_na = true;
    form(vec![section(
        "s",
        vec![
            question("a", AnswerScale::YesNo, 2),
            b,
            question("c", AnswerScale::Points, 5),
        ],
    )])
}

#[test]
fn not_applicable_reweights_the_remaining_questions() {
    let f = na_form();
    // (1×2 + 0.75×3 + 0.7×5) ÷ 10 = 7.75 ÷ 10 → 77.5
    check(&f, "a=yes b=4 c=7", Some(77.5));
    // b left out: (1×2 + 0.7×5) ÷ (2 + 5) = 5.5 ÷ 7 → 78.571428…
    check(&f, "a=yes b=n/a c=7", Some(550.0 / 7.0));
    // (0×2 + 0×3 + 1×5) ÷ 10 → 50
    check(&f, "a=no b=1 c=10", Some(50.0));
}

/// s1: a (yes/no 2, auto-fails `level`), b (yes/no 2); s2: c (yes/no 4).
fn auto_fail_form(level: AutoFailLevel) -> Form {
    let mut a = question("a", AnswerScale::YesNo, 2);
    a.auto_fail = Some(level);
    form(vec![
        section("s1", vec![a, question("b", AnswerScale::YesNo, 2)]),
        section("s2", vec![question("c", AnswerScale::YesNo, 4)]),
    ])
}

#[test]
fn a_question_auto_fail_sets_its_section_to_zero() {
    let f = auto_fail_form(AutoFailLevel::Section);
    // s1 = 0 (weight 4), s2 = 100 (weight 4): (4×0 + 4×100) ÷ 8 = 50;
    // without the auto-fail it would be (0 + 2 + 4) ÷ 8 = 75.
    check(&f, "a=no b=yes c=yes", Some(50.0));
    check(&f, "a=yes b=no c=yes", Some(75.0));
    let scored = score(&f, &answers("a=no b=yes c=yes")).unwrap();
    assert!(scored.sections[0].auto_failed);
    assert_eq!(scored.sections[0].score, Some(0.0));
    assert_eq!(scored.form_auto_fail, None);
}

#[test]
fn a_question_auto_fail_sets_the_form_to_zero() {
    let f = auto_fail_form(AutoFailLevel::Form);
    check(&f, "a=no b=yes c=yes", Some(0.0));
    check(&f, "a=yes b=yes c=no", Some(50.0));
    let scored = score(&f, &answers("a=no b=yes c=yes")).unwrap();
    assert_eq!(
        scored.form_auto_fail,
        Some(AutoFail {
            level: AutoFailLevel::Form,
            by: "a".into()
        })
    );
    // The base score stays visible: (0 + 2 + 4) ÷ 8 = 75.
    assert_eq!(scored.base, Some(75.0));
}

#[test]
fn a_section_below_its_auto_fail_mark_sets_the_form_to_zero() {
    let mut s1 = section(
        "s1",
        vec![
            question("a", AnswerScale::YesNo, 2),
            question("b", AnswerScale::YesNo, 2),
        ],
    );
    s1.auto_fail_below = Some(60);
    let f = form(vec![
        s1,
        section("s2", vec![question("c", AnswerScale::YesNo, 4)]),
    ]);
    // s1 = 50 < 60: the form is 0.
    check(&f, "a=yes b=no c=yes", Some(0.0));
    // s1 = 100: (4×100 + 4×0) ÷ 8 = 50.
    check(&f, "a=yes b=yes c=no", Some(50.0));
    let scored = score(&f, &answers("a=yes b=no c=yes")).unwrap();
    assert_eq!(
        scored.form_auto_fail,
        Some(AutoFail {
            level: AutoFailLevel::Section,
            by: "s1".into()
        })
    );
}

#[test]
fn a_bonus_question_lifts_the_score_above_its_base() {
    let mut x = question("x", AnswerScale::OneToFive, 0);
    x.bonus_points = Some(5);
    let f = form(vec![section(
        "s",
        vec![
            question("a", AnswerScale::YesNo, 1),
            question("b", AnswerScale::YesNo, 1),
            x,
        ],
    )]);
    // base 100, bonus 5 × (5 − 1) ÷ 4 = 5 → 105
    check(&f, "a=yes b=yes x=5", Some(105.0));
    // base 50, bonus 5 × (3 − 1) ÷ 4 = 2.5 → 52.5
    check(&f, "a=yes b=no x=3", Some(52.5));
    check(&f, "a=yes b=no x=1", Some(50.0));
}

#[test]
fn a_conditional_question_counts_only_when_shown() {
    let mut b = question("b", AnswerScale::YesNo, 3);
    b.shown_when = Some(ShownWhen {
        question: "a".into(),
        answer: "yes".into(),
    });
    let f = form(vec![section(
        "s",
        vec![question("a", AnswerScale::YesNo, 1), b],
    )]);
    // Shown: (1×1 + 0×3) ÷ 4 = 25.
    check(&f, "a=yes b=no", Some(25.0));
    // Not shown: its answer is left out, (0×1) ÷ 1 = 0.
    check(&f, "a=no b=yes", Some(0.0));
    check(&f, "a=no", Some(0.0));
    let missing = score(&f, &answers("a=yes")).unwrap_err();
    assert_eq!(missing.question, "b");
}

#[test]
fn section_weights_replace_the_sum_of_question_weights() {
    let mut s1 = section(
        "s1",
        vec![
            question("a", AnswerScale::YesNo, 1),
            question("b", AnswerScale::YesNo, 1),
        ],
    );
    let mut s2 = section("s2", vec![question("c", AnswerScale::YesNo, 9)]);
    s1.weight = Some(1);
    s2.weight = Some(3);
    let f = form(vec![s1, s2]);
    // (1×50 + 3×100) ÷ 4 = 87.5
    check(&f, "a=yes b=no c=yes", Some(87.5));
}

#[test]
fn all_not_applicable_has_no_score() {
    let mut a = question("a", AnswerScale::YesNo, 1);
    a.allow_na = true;
    let f = form(vec![section("s", vec![a])]);
    check(&f, "a=n/a", None);
}

#[test]
fn answers_outside_the_form_or_its_scales_are_refused() {
    let f = na_form();
    let refused = |given: &str| score(&f, &answers(given)).unwrap_err();
    assert_eq!(refused("a=yes b=6 c=7").question, "b");
    assert!(refused("a=yes b=6 c=7").reason.contains("not on its scale"));
    assert_eq!(refused("a=maybe b=1 c=7").question, "a");
    assert!(
        refused("a=n/a b=1 c=7")
            .reason
            .contains("n/a is not allowed")
    );
    assert_eq!(refused("a=yes b=1 c=11").question, "c");
    assert_eq!(refused("a=yes b=1 c=1 z=yes").question, "z");
    assert_eq!(refused("a=yes b=1").question, "c");
}

#[test]
fn forms_that_break_a_rule_are_refused_naming_the_place() {
    let refused = |sections: Vec<Section>| {
        Form {
            name: "F".into(),
            description: None,
            sections,
        }
        .check()
        .unwrap_err()
    };
    let zero = refused(vec![section(
        "s",
        vec![question("a", AnswerScale::YesNo, 0)],
    )]);
    assert!(zero.reason.contains("sum to zero"), "{zero}");
    let negative = refused(vec![section(
        "s",
        vec![
            question("a", AnswerScale::YesNo, 2),
            question("b", AnswerScale::YesNo, -1),
        ],
    )]);
    assert_eq!(
        (
            negative.place.section,
            negative.place.question,
            negative.place.field
        ),
        (Some(0), Some(1), "weight")
    );
    let mut later = question("a", AnswerScale::YesNo, 1);
    later.shown_when = Some(ShownWhen {
        question: "b".into(),
        answer: "yes".into(),
    });
    let condition = refused(vec![section(
        "s",
        vec![later, question("b", AnswerScale::YesNo, 1)],
    )]);
    assert_eq!(condition.place.field, "shown_when");
    let mut points = question("a", AnswerScale::Points, 1);
    points.max_points = None;
    assert_eq!(
        refused(vec![section("s", vec![points])]).place.field,
        "max_points"
    );
    let repeated = refused(vec![section(
        "s",
        vec![
            question("a", AnswerScale::YesNo, 1),
            question("a", AnswerScale::YesNo, 1),
        ],
    )]);
    assert_eq!(repeated.place.field, "key");
}

#[test]
fn cohen_kappa_of_the_published_two_by_two_table_is_0_40() {
    // 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: p_o = 35/50 = 0.7;
    // p_e = 25/50 × 30/50 + 25/50 × 20/50 = 0.5; κ = 0.2 ÷ 0.5 = 0.4.
    let mut pairs = Vec::new();
    for (a, b, n) in [
        ("yes", "yes", 20),
        ("yes", "no", 5),
        ("no", "yes", 10),
        ("no", "no", 15),
    ] {
        pairs.extend(std::iter::repeat_n((a, b), n));
    }
    let kappa = cohen_kappa(&pairs).unwrap();
    assert!((kappa - 0.40).abs() < 1e-12, "{kappa}");
}

#[test]
fn fleiss_kappa_of_the_wikipedia_example_is_0_210() {
    // Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters,
    // 5 categories; P̄ = 0.378, P̄_e = 0.213, κ = 0.210.
    let table = vec![
        vec![0, 0, 0, 0, 14],
        vec![0, 2, 6, 4, 2],
        vec![0, 0, 3, 5, 6],
        vec![0, 3, 9, 2, 0],
        vec![2, 2, 8, 1, 1],
        vec![7, 7, 0, 0, 0],
        vec![3, 2, 6, 3, 0],
        vec![2, 5, 3, 2, 2],
        vec![6, 5, 2, 1, 0],
        vec![0, 2, 2, 3, 7],
    ];
    let result = fleiss_kappa(&table).unwrap();
    assert_eq!(format!("{:.3}", result.agreement), "0.378");
    assert_eq!(format!("{:.3}", result.kappa.unwrap()), "0.210");
    assert_eq!((result.subjects, result.raters), (10, 14));
}

#[test]
fn fleiss_kappa_needs_the_same_number_of_raters_per_subject() {
    assert_eq!(fleiss_kappa(&[vec![2, 0], vec![1, 2]]), None);
    assert_eq!(fleiss_kappa(&[]), None);
}

#[test]
fn category_counts_build_the_fleiss_table_from_labels() {
    let table = category_counts(&[vec!["yes", "yes", "no"], vec!["no", "no", "no"]]);
    // Categories sorted: no, yes.
    assert_eq!(table, vec![vec![1, 2], vec![3, 0]]);
    // Two raters who always agree: P̄ = 1.
    let agree = fleiss_kappa(&category_counts(&[vec!["a", "a"], vec!["b", "b"]])).unwrap();
    assert_eq!((agree.agreement, agree.kappa), (1.0, Some(1.0)));
}

#[test]
fn pearson_correlation_with_its_fisher_interval() {
    // x 1..5, y 2,4,5,4,5: Sxy = 6, Sxx = 10, Syy = 6, r = 6 ÷ √60 =
    // 0.774597; z = atanh r = 1.03172, half width 1.95996 ÷ √2 = 1.38590,
    // interval tanh(−0.35418) = −0.34008 to tanh(2.41762) = 0.98424.
    let c = pearson(&[(1.0, 2.0), (2.0, 4.0), (3.0, 5.0), (4.0, 4.0), (5.0, 5.0)]).unwrap();
    assert!((c.r - 0.774_597).abs() < 1e-6, "{c:?}");
    assert!((c.low - -0.340_08).abs() < 1e-5, "{c:?}");
    assert!((c.high - 0.984_24).abs() < 1e-5, "{c:?}");
    assert_eq!(pearson(&[(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]), None);
    assert_eq!(
        pearson(&[(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0)]),
        None
    );
}

use merit_domain::quality::sampling::{Candidate, Drawn, allocate, draw_sample};

#[test]
fn a_stratified_sample_gives_each_stratum_its_share_by_largest_remainder() {
    let strata = |sizes: &[(&str, usize)]| -> Vec<(String, usize)> {
        sizes.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    };
    // 60/30/10 of 100, sample 10: exactly 6, 3, 1.
    assert_eq!(
        allocate(&strata(&[("a", 60), ("b", 30), ("c", 10)]), 10),
        [6, 3, 1]
    );
    // Sample 7: 4.2, 2.1, 0.7 → floors 4, 2, 0; the one left goes to the
    // largest remainder (0.7, stratum c): 4, 2, 1.
    assert_eq!(
        allocate(&strata(&[("a", 60), ("b", 30), ("c", 10)]), 7),
        [4, 2, 1]
    );
    // Never more than a stratum holds, never more than there are.
    assert_eq!(allocate(&strata(&[("a", 2), ("b", 1)]), 10), [2, 1]);
}

fn candidates() -> Vec<Candidate> {
    (0..30)
        .map(|n| Candidate {
            key: format!("sim/c{:09}", 500 + n),
            stratum: if n < 20 { "billing" } else { "outages" }.into(),
            outlier: (n % 10 == 3).then_some("very short call"),
        })
        .collect()
}

#[test]
fn outliers_come_first_then_strata_in_proportion_and_the_seed_fixes_the_draw() {
    let all = candidates();
    let drawn = draw_sample(&all, 8, 2, 7);
    assert_eq!(drawn.len(), 8);
    let outliers: Vec<_> = drawn
        .iter()
        .filter(|(_, d)| matches!(d, Drawn::Outlier(_)))
        .collect();
    assert_eq!(outliers.len(), 2);
    assert!(outliers.iter().all(|(i, _)| all[*i].outlier.is_some()));
    // Outliers are c3, c13 (billing) and c23 (outages). Of the 28 left:
    // billing 18, outages 10 → 6 × 18/28 = 3.86 and 2.14: floors 3 and 2,
    // the last to billing (remainder 0.86) → 4 and 2; or billing 19,
    // outages 9 → 4.07 and 1.93: floors 4 and 1, the last to outages
    // (remainder 0.93) → 4 and 2. Either way 4 billing and 2 outages.
    let random = |stratum: &str| {
        drawn
            .iter()
            .filter(|(i, d)| *d == Drawn::Random && all[*i].stratum == stratum)
            .count()
    };
    assert_eq!((random("billing"), random("outages")), (4, 2));
    let mut unique: Vec<usize> = drawn.iter().map(|(i, _)| *i).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8, "no contact twice");
    assert_eq!(draw_sample(&all, 8, 2, 7), drawn);
    assert_ne!(draw_sample(&all, 8, 2, 8), drawn);
}

#[test]
fn calls_numbered_in_sequence_are_not_drawn_in_sequence() {
    // FNV-1a alone orders keys that differ in their last digits by those
    // digits (c000000500, c000000501, ...): the finaliser breaks that.
    let all: Vec<Candidate> = (0..30)
        .map(|n| Candidate {
            key: format!("merit-sim/c{:09}", 500 + n),
            stratum: "all".into(),
            outlier: None,
        })
        .collect();
    let drawn: Vec<usize> = draw_sample(&all, 8, 0, 1)
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_ne!(drawn, (0..8).collect::<Vec<_>>());
    assert!(!drawn.windows(2).all(|w| w[0] < w[1]), "{drawn:?}");
}
