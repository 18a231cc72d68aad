//! Scorecard forms as TOML: the example form loads, a written-out form reads
//! back the same, and every refused form names its line and field.

use merit_domain::quality::{AnswerScale, AutoFailLevel};
use merit_import::quality_form::{form_text, parse_form};

const EXAMPLE: &str = include_str!("../../../docs/examples/inbound-call-quality.toml");

#[test]
fn the_example_form_loads_with_every_kind_of_question() {
    let form = parse_form(EXAMPLE).unwrap();
    assert_eq!(form.name, "Inbound call quality");
    assert_eq!(form.sections.len(), 4);
    let verification = form.question("verification").unwrap();
    assert_eq!(verification.auto_fail, Some(AutoFailLevel::Form));
    assert!(verification.guidance.is_some());
    assert_eq!(form.question("accuracy").unwrap().max_points, Some(10));
    assert_eq!(
        form.question("went_extra_mile").unwrap().bonus_points,
        Some(5)
    );
    assert!(form.question("hold_explained").unwrap().allow_na);
    assert_eq!(
        form.question("next_step_confirmed")
            .unwrap()
            .shown_when
            .as_ref()
            .unwrap()
            .question,
        "resolved"
    );
    assert_eq!(form.sections[3].auto_fail_below, Some(100));
    assert_eq!(
        form.question("recording_notice").unwrap().scale,
        AnswerScale::PassFail
    );
}

#[test]
fn a_form_written_out_reads_back_the_same() {
    let form = parse_form(EXAMPLE).unwrap();
    assert_eq!(parse_form(&form_text(&form)).unwrap(), form);
}

const SMALL: &str = r#"name = "Small"

[[sections]]
key = "one"
title = "One"

[[sections.questions]]
key = "a"
text = "A?"
scale = "yes_no"
weight = 2

[[sections.questions]]
key = "b"
text = "B?"
scale = "1-5"
weight = 3
"#;

fn refused(text: &str) -> (Option<usize>, String, String) {
    let e = parse_form(text).unwrap_err();
    (e.line, e.field, e.reason)
}

#[test]
fn a_negative_weight_is_refused_at_its_line() {
    let (line, field, reason) = refused(&SMALL.replace("weight = 3", "weight = -3"));
    assert_eq!(line, Some(17));
    assert_eq!(field, "section \"one\", question \"b\", weight");
    assert!(reason.contains("negative"), "{reason}");
}

#[test]
fn weights_that_sum_to_zero_are_refused() {
    let text = SMALL
        .replace("weight = 2", "weight = 0")
        .replace("weight = 3", "weight = 0");
    let (line, field, reason) = refused(&text);
    assert_eq!(field, "weight");
    assert_eq!(line, Some(11), "the first weight line");
    assert!(reason.contains("sum to zero"), "{reason}");
}

#[test]
fn a_misspelt_field_and_an_unknown_scale_are_refused_at_their_line() {
    let (line, _, reason) = refused(&SMALL.replace("weight = 3", "wieght = 3"));
    assert_eq!(line, Some(17));
    assert!(reason.contains("wieght"), "{reason}");
    let (line, _, reason) = refused(&SMALL.replace("scale = \"1-5\"", "scale = \"1-7\""));
    assert_eq!(line, Some(16));
    assert!(reason.contains("1-7"), "{reason}");
}

#[test]
fn a_condition_on_a_later_question_is_refused_at_its_line() {
    let text = SMALL.replace(
        "scale = \"yes_no\"\n",
        "scale = \"yes_no\"\nshown_when = { question = \"b\", answer = \"3\" }\n",
    );
    let (line, field, _) = refused(&text);
    assert_eq!(line, Some(11));
    assert!(field.ends_with("shown_when"), "{field}");
}

#[test]
fn text_that_is_not_toml_is_refused_at_its_line() {
    let (line, _, _) = refused("name = \"x\"\n[[sections]\n");
    assert_eq!(line, Some(2));
}
