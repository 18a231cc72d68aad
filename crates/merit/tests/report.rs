//! KPI reports, drill-down, definitions and targets through the command
//! line, on the Anonymous Bank's February 1999 (figures from its README).

use std::process::Command;

const MERIT: &str = env!("CARGO_BIN_EXE_merit");

fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(MERIT).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn reports_drill_down_definitions_and_targets_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bank.db");
    let db = db.to_str().unwrap();
    let february = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/anonymous-bank-1999-february/february.txt"
    );
    assert_eq!(
        run(&["centre", "--db", db, "--time-zone", "Asia/Jerusalem"]).0,
        0
    );
    let (code, out, err) = run(&[
        "import",
        "contacts",
        "--db",
        db,
        "--format",
        "anonymous-bank",
        february,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("33066 inserted"), "{out}");
    assert!(err.contains("skipped: 278 rows: PHANTOM"), "{err}");

    let month = ["--db", db, "--from", "1999-02-01", "--to", "1999-02-28"];
    let (code, out, err) = run(&[
        &["report", "kpi"],
        &month[..],
        &["--kpi", "offered,service_level", "--format", "json"],
    ]
    .concat());
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let figures = &report["total"]["figures"];
    assert_eq!(figures[0]["definition"], "offered");
    assert_eq!(figures[0]["numerator"], 30_851);
    assert_eq!(figures[1]["numerator"], 16_209);
    assert_eq!(figures[1]["denominator"], 30_851);
    assert_eq!(figures[1]["versions"], serde_json::json!([1]));
    assert_eq!(figures[1]["unit"], "percent");

    // The drill-down lists exactly the numerator's contacts.
    let (code, out, _) = run(&[
        &["report", "contacts"],
        &month[..],
        &["--kpi", "service_level", "--part", "numerator"],
    ]
    .concat());
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().count(),
        1 + 16_209,
        "a header and one line per contact"
    );

    // A version starting in the past restates history: refused without a reason.
    let change = [
        "definitions",
        "new-version",
        "--db",
        db,
        "service_level",
        "--from",
        "1999-02-15",
        "--set",
        r#"{"threshold_s": 30}"#,
    ];
    let (code, _, err) = run(&change);
    assert_eq!(code, 1);
    assert!(err.contains("reason"), "{err}");
    let (code, out, err) = run(&[&change[..], &["--reason", "contract moved to 30 s"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("service_level v2 effective from 1999-02-15"),
        "{out}"
    );
    let (code, _, err) =
        run(&[&["report", "kpi"], &month[..], &["--kpi", "service_level"]].concat());
    assert_eq!(code, 0);
    assert!(
        err.contains("changed within the period") && err.contains("restated by v2"),
        "{err}"
    );
    let (code, out, _) = run(&["definitions", "show", "--db", db, "service_level"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("v1 effective from 1970-01-01")
            && out.contains("reason: contract moved to 30 s"),
        "{out}"
    );

    // A target puts the figure in a zone: 52.5 % against 80 % (amber from 75 %) is red.
    let (code, _, err) = run(&[
        "targets",
        "set",
        "--db",
        db,
        "--kpi",
        "service_level",
        "--from",
        "1999-01-01",
        "--target",
        "80",
        "--amber",
        "75",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&[
        &["report", "kpi"],
        &month[..],
        &["--kpi", "service_level@1", "--format", "csv"],
    ]
    .concat());
    assert_eq!(code, 0);
    let total = out.lines().last().unwrap();
    assert!(total.contains(",16209,30851,percent,v1,80,red"), "{out}");
}
