//! Importing real sources from the command line: the format flags, the
//! mapping file, what is printed, and errors for a wrong mapping.

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

const QUEUE_LOG: &str = "\
1790000000|NONE|support|SIP/1001|ADDMEMBER|
1790000100|1790000100.1|support|NONE|ENTERQUEUE||5551001|1
1790000112|1790000100.1|support|SIP/1001|CONNECT|12|1790000112.2|3
1790000292|1790000100.1|support|SIP/1001|COMPLETECALLER|12|180|1
1790000300|1790000300.2|support|NONE|ENTERQUEUE||5551002|1
1790000330|1790000300.2|support|NONE|ABANDON|1|1|30
1790000400|1790000400.3|support|NONE|ENTERQUEUE||5551003|1
1790000401|1790000400.3|support|NONE|HANGUPSOON|1
";

const CALLS: &str = "\
Call Id,Answered,Wait,Talk
A1,Y,10,60
A2,N,,
A3,maybe,5,30
";

const MAPPING: &str = "\
[contact]
source_id = \"Call Id\"
arrival = { value = \"2026-09-21 10:00:00\" }
answered = \"Answered\"
wait = \"Wait\"
talk = \"Talk\"
";

#[test]
fn real_sources_import_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("merit.db");
    let db = db.to_str().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let queue_log = write("queue_log", QUEUE_LOG);
    let (code, out, err) = run(&[
        "import",
        "contacts",
        "--db",
        db,
        "--format",
        "asterisk-queue-log",
        &queue_log,
    ]);
    assert_eq!(code, 0, "{err}");
    // Two visits, one member state; call 3 never ended; one unknown event.
    assert!(
        out.contains("1 agent states, 2 contacts: 3 inserted, 0 updated, 0 unchanged, 1 rejected"),
        "{out}"
    );
    assert!(err.contains("queue_log:8: event: \"HANGUPSOON\""), "{err}");
    assert!(
        err.contains("call 1790000400.3 in queue support: ENTERQUEUE"),
        "{err}"
    );

    let calls = write("calls.csv", CALLS);
    let mapping = write("calls.toml", MAPPING);
    let (code, out, err) = run(&[
        "import",
        "contacts",
        "--db",
        db,
        "--format",
        "mapped",
        "--mapping",
        &mapping,
        &calls,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 inserted"), "{out}");
    assert!(
        err.contains("calls.csv:4: answered: \"maybe\" is neither yes"),
        "{err}"
    );

    let (code, out, err) = run(&[
        &[
            "report",
            "kpi",
            "--db",
            db,
            "--from",
            "2026-09-21",
            "--to",
            "2026-09-21",
        ][..],
        &["--kpi", "answered,queue_abandons,asa", "--format", "json"],
    ]
    .concat());
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let figures = &report["total"]["figures"];
    // Answered: queue_log call 1 and A1; abandons: call 2 (30 s) and A2 (wait unknown).
    assert_eq!(figures[0]["numerator"], 2);
    assert_eq!(figures[1]["numerator"], 2);
    assert_eq!(figures[2]["numerator"], (12 + 10) * 1000);
    assert_eq!(figures[2]["denominator"], 2);

    // A mapping with a mistake names its line; --mapping needs --format mapped.
    let bad = write("bad.toml", &MAPPING.replace("talk = ", "tlak = "));
    let (code, _, err) = run(&[
        "import",
        "contacts",
        "--db",
        db,
        "--format",
        "mapped",
        "--mapping",
        &bad,
        &calls,
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("bad.toml: line 6: unknown field `tlak`"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "import",
        "contacts",
        "--db",
        db,
        "--mapping",
        &mapping,
        &calls,
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("--mapping FILE.toml goes with --format mapped"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "import",
        "contacts",
        "--db",
        db,
        "--format",
        "asterisk-cdr",
        &calls,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("not an Asterisk CDR CSV file"), "{err}");
}
