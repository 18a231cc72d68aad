//! Pay from the command line: publish a plan (back-dated, so with a
//! reason), run a month, review, approve, export payroll, read a statement;
//! an approved month is not run again.

use std::process::Command;

const MERIT: &str = env!("CARGO_BIN_EXE_merit");

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(MERIT).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

/// Service level alone: 100.00 at target, SPEC.md's default curve, at
/// most 100.00 a year.
const PLAN: &str = "name = \"Service plan\"\nfrequency = \"monthly\"\ncurrency = \"EUR\"\nbase = \"100.00\"\n\
cap_per_year = \"100.00\"\n\n\
[[kpis]]\ndefinition = \"service_level\"\ntarget = \"80\"\nweight = \"1\"\n";

#[test]
fn a_month_is_run_reviewed_approved_and_exported_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let db = path("pay.db");
    std::fs::write(
        path("org.csv"),
        "record,id,name,site_id,time_zone,hire_date,agent_id,team_id,from_date\n\
         site,s1,Site,,Europe/Berlin,,,,\nteam,t1,Team,s1,,,,,\n\
         agent,a1,Agent,s1,,2026-01-01,,,\nmembership,,,,,,a1,t1,2026-01-01\n",
    )
    .unwrap();
    // Four calls on 4 August and four on 8 September, answered after 10,
    // 10, 10 and 30 s.
    let mut contacts =
        "source_id,channel,arrival,end,outcome,agent_id,queue_entry,answer\n".to_owned();
    for day in ["08-04", "09-08"] {
        for (i, wait) in [10, 10, 10, 30].iter().enumerate() {
            contacts += &format!(
                "c{day}-{i},voice_inbound,2026-{day}T0{i}:00:00Z,2026-{day}T0{i}:05:00Z,handled,a1,2026-{day}T0{i}:00:00Z,2026-{day}T0{i}:00:{wait}Z\n"
            );
        }
    }
    std::fs::write(path("contacts.csv"), contacts).unwrap();
    std::fs::write(path("plan.toml"), PLAN).unwrap();
    assert_eq!(run(&["import", "org", "--db", &db, &path("org.csv")]).0, 0);
    assert_eq!(
        run(&["import", "contacts", "--db", &db, &path("contacts.csv")]).0,
        0
    );

    let publish = ["pay", "plan", "--db", &db, "--effective-from", "2026-08-01"];
    let (code, text) = run(&[&publish[..], &[&path("plan.toml")]].concat());
    assert_eq!(code, 1);
    assert!(text.contains("needs a reason"), "{text}");
    let (code, text) = run(&[&publish[..], &["--reason", "August", &path("plan.toml")]].concat());
    assert_eq!((code, text.trim()), (0, "plan 1 version 1"), "{text}");

    // Service level 3 of 4 = 75 %: a = 0.9375, f = (0.9375 − 0.8) ÷ 0.2 =
    // 0.6875; 100.00 × 0.6875 = 68.75, every working day employed.
    let (code, text) = run(&[
        "pay",
        "run",
        "--db",
        &db,
        "--plan",
        "1",
        "--period",
        "2026-08-15",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "run 1: Service plan 2026-08-01 to 2026-08-31, 1 statements, total 68.75 EUR (draft)"
        ),
        "{text}"
    );
    let (code, text) = run(&["pay", "export", "--db", &db, "1"]);
    assert_eq!(code, 1);
    assert!(text.contains("only an approved run is exported"), "{text}");
    assert_eq!(
        run(&["pay", "review", "--db", &db, "1"]).1.trim(),
        "run 1: 1 statements reviewed"
    );
    assert_eq!(
        run(&["pay", "approve", "--db", &db, "1"]).1.trim(),
        "run 1 approved"
    );
    let (code, csv) = run(&["pay", "export", "--db", &db, "1"]);
    assert_eq!(code, 0, "{csv}");
    assert_eq!(
        csv,
        "agent_id,pay_code,amount,currency,period_from,period_to,run_id\n\
         a1,BONUS,68.75,EUR,2026-08-01,2026-08-31,1\n"
    );
    let (_, statement) = run(&["pay", "statement", "--db", &db, "1", "a1"]);
    let statement: serde_json::Value = serde_json::from_str(&statement).unwrap();
    assert_eq!(statement["statement"]["total"], "68.75");
    assert_eq!(
        statement["statement"]["components"][0]["measure"]["numerator"],
        3
    );
    let (code, text) = run(&[
        "pay",
        "run",
        "--db",
        &db,
        "--plan",
        "1",
        "--period",
        "2026-08-01",
    ]);
    assert_eq!(code, 1);
    assert!(text.contains("is approved (run 1)"), "{text}");

    // September earns 68.75 again, but 68.75 of the year's 100.00 is paid:
    // 31.25 is left, so the cap takes back 37.50.
    let september = [
        "pay",
        "run",
        "--db",
        &db,
        "--plan",
        "1",
        "--period",
        "2026-09-30",
    ];
    let (code, text) = run(&september);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("total 31.25 EUR"), "{text}");
    run(&["pay", "review", "--db", &db, "2"]);
    run(&["pay", "approve", "--db", &db, "2"]);
    let (_, csv) = run(&["pay", "export", "--db", &db, "2"]);
    assert!(
        csv.contains("a1,BONUS,68.75,EUR,2026-09-01,2026-09-30,2\na1,YEAR_CAP,-37.50,EUR"),
        "{csv}"
    );
}
