//! The command line's contract: exit codes 0 success, 1 runtime failure,
//! 2 usage error; a refused file names itself and the reason.

use std::process::Command;

const MERIT: &str = env!("CARGO_BIN_EXE_merit");

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(MERIT).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn exit_codes_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let db = db.to_str().unwrap();

    let (code, text) = run(&["config", "example"]);
    assert_eq!(code, 0);
    assert!(text.contains("time_zone"));

    assert_eq!(run(&["import", "payments", "--db", db, "x.csv"]).0, 2);
    assert_eq!(run(&["frobnicate"]).0, 2);
    assert_eq!(
        run(&["import", "contacts", "--db", db]).0,
        2,
        "no file given"
    );

    let (code, text) = run(&["migrate", "--db", db]);
    assert_eq!((code, text.trim()), (0, "sqlite database is up to date"));

    let missing = dir.path().join("missing.csv");
    let (code, text) = run(&["import", "contacts", "--db", db, missing.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(text.contains("missing.csv: cannot read"), "{text}");

    let semicolons = dir.path().join("semicolons.csv");
    std::fs::write(
        &semicolons,
        "source_id;channel;arrival;end;outcome\n1;chat;x;y;handled\n",
    )
    .unwrap();
    let (code, text) = run(&[
        "import",
        "contacts",
        "--db",
        db,
        semicolons.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        text.contains("semicolons.csv") && text.contains("separated by ';'"),
        "{text}"
    );

    let (code, text) = run(&["demo", "--db", db, "--listen", "0.0.0.0:0"]);
    assert_eq!(code, 1);
    assert!(text.contains("loopback"), "{text}");
}
